"""gateway.mapping.check against a small hand-written schema (RFC 4512 definitions)."""

from __future__ import annotations

from gateway.directory.subschema import parse_subschema
from gateway.mapping.check import ERROR, WARNING, check_schema, suggest
from gateway.mapping.loader import load_mapping_text

SCHEMA = parse_subschema(
    [
        "( 2.5.6.0 NAME 'top' ABSTRACT MUST objectClass )",
        "( 2.5.6.6 NAME 'person' SUP top STRUCTURAL MUST ( sn $ cn ) MAY ( description ) )",
        "( 9.1 NAME 'account' SUP person STRUCTURAL MAY ( uid $ mail $ employeeNumber ) )",
        "( 9.2 NAME 'unix' SUP top AUXILIARY MUST ( uidNumber ) MAY ( loginShell ) )",
        "( 2.5.6.9 NAME 'groupOfNames' SUP top STRUCTURAL MUST ( member $ cn ) )",
        "( 9.3 NAME 'team' SUP top STRUCTURAL MUST cn )",
        "( 1.3.6.1.4.1.1466.101.120.111 NAME 'extensibleObject' SUP top AUXILIARY )",
    ],
    [
        "( 2.5.4.0 NAME 'objectClass' SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 )",
        "( 2.5.4.41 NAME 'name' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )",
        "( 2.5.4.3 NAME ( 'cn' 'commonName' ) SUP name )",
        "( 2.5.4.4 NAME ( 'sn' 'surname' ) SUP name )",
        "( 2.5.4.13 NAME 'description' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )",
        "( 0.9.1 NAME ( 'uid' 'userid' ) SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )",
        "( 0.9.3 NAME 'mail' SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 )",
        "( 0.9.4 NAME 'email' SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 )",
        "( 2.16.3 NAME 'employeeNumber' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )",
        "( 1.3.6.1.1.1.1.0 NAME 'uidNumber' EQUALITY integerMatch "
        "SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )",
        "( 1.3.6.1.1.1.1.4 NAME 'loginShell' SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 )",
        "( 2.5.4.31 NAME 'member' SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )",
        "( 1.3.6.1.1.16.4 NAME 'entryUUID' SYNTAX 1.3.6.1.1.16.1 SINGLE-VALUE "
        "NO-USER-MODIFICATION USAGE directoryOperation )",
        "( 1.2.840.113556.1.2.102 NAME 'memberOf' SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 "
        "NO-USER-MODIFICATION USAGE dSAOperation )",
    ],
)

USER = """\
version: 1
User:
  base_dn: ou=People,dc=example,dc=org
  object_classes: [top, person, account, unix]
  rdn_attribute: uid
  attributes:
    - scim: userName
      ldap: uid
    - scim: name.familyName
      ldap: sn
      default: ["{userName}"]
    - scim: name.formatted
      ldap: cn
      default: ["{userName}"]
    - ldap: uidNumber
      allocate: {counter: "cn=c,dc=example,dc=org", first: 1, last: 9}
"""


def findings(text: str) -> list[str]:
    return [str(f) for f in check_schema(load_mapping_text(text, "m.yaml"), SCHEMA)]


def test_a_fitting_mapping_has_one_finding_the_missing_ordering_rule() -> None:
    assert findings(USER) == [
        "m.yaml:15: error: User.attributes.3.ldap: uidNumber has no ORDERING matching rule, "
        "which allocation needs (the counter is kept in its range with a >= / <= assertion)"
    ]


def test_inherited_and_auxiliary_attributes_are_allowed_others_are_not() -> None:
    text = (
        USER
        + "    - scim: title\n      ldap: loginShell\n    - scim: nickName\n      ldap: member\n"
    )
    found = "\n".join(findings(text))
    assert "loginShell" not in found
    assert (
        "User.attributes.5.ldap: member is not allowed by the object classes (top, person" in found
    )
    line = next(f for f in findings(text) if "member is not allowed" in f)
    assert line.endswith("): map another attribute") or "or map another attribute" in line


def test_suggestions_prefer_attributes_the_classes_allow() -> None:
    assert suggest("emial", ["email", "mail"], ["mail"]) == " — did you mean 'mail'?"
    assert suggest("emial", ["email", "mail"]) == " — did you mean 'email'?"
    assert suggest("zzz", ["mail"]) == ""


def test_two_unrelated_structural_classes_are_refused() -> None:
    text = USER.replace("[top, person, account, unix]", "[top, account, team]")
    assert any("account and team are both structural" in f for f in findings(text))


def test_directory_maintained_attributes_must_be_read_only() -> None:
    text = USER + "    - scim: groups\n      ldap: memberOf\n"
    assert any("memberOf is maintained by the directory" in f for f in findings(text))
    text = USER + "    - scim: groups\n      ldap: memberOf\n      write: readOnly\n"
    assert not any("memberOf" in f for f in findings(text))


def test_must_attributes_only_sometimes_written_are_a_warning() -> None:
    text = USER.replace('      ldap: sn\n      default: ["{userName}"]\n', "      ldap: sn\n")
    levels = {f.level for f in check_schema(load_mapping_text(text, "m.yaml"), SCHEMA)}
    assert WARNING in levels
    assert any(
        "sn is required by person but written only when the client sends" in f
        for f in findings(text)
    )


def test_extensible_object_allows_any_attribute() -> None:
    text = USER.replace(
        "[top, person, account, unix]", "[top, person, account, unix, extensibleObject]"
    )
    text += "    - scim: title\n      ldap: member\n"
    assert not any("not allowed" in f for f in findings(text))


def test_group_member_attribute_needs_dns_and_a_placeholder() -> None:
    group = """\
version: 1
Group:
  base_dn: ou=Groups,dc=example,dc=org
  object_classes: [top, groupOfNames]
  rdn_attribute: cn
  members: {ldap: member, types: [Group]}
  attributes:
    - scim: displayName
      ldap: cn
"""
    found = check_schema(load_mapping_text(group, "m.yaml"), SCHEMA)
    assert [(f.level, f.path) for f in found] == [(ERROR, "Group.members.placeholder")]


def test_the_bitmask_strategy_needs_an_integer_attribute_the_classes_allow() -> None:
    base = USER.replace(
        "  attributes:", "  disable: {strategy: bitmask, flag: 2, attribute: X}\n  attributes:"
    )
    fits = findings(base.replace("attribute: X", "attribute: uidNumber"))
    assert not [f for f in fits if "disable" in f]
    text = findings(base.replace("attribute: X", "attribute: mail"))
    assert any(
        "User.disable.attribute: the bitmask strategy needs an INTEGER attribute" in f for f in text
    )
    missing = findings(base.replace("attribute: X", "attribute: userAccountControl"))
    assert any("'userAccountControl' is not defined" in f for f in missing)
