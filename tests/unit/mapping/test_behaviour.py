"""The mapping's ``directory:`` section: loading, what it changes in translation, and how
``mapping check`` compares it with a server (no LDAP: a hand-written schema and control list).

Against real servers: tests/e2e/test_directory_section.py (slapd), tests/e2e/test_389ds.py.
"""

from __future__ import annotations

import pytest

from gateway.directory import ldapfilter as lf
from gateway.directory.subschema import parse_subschema
from gateway.errors import ConfigError
from gateway.mapping import translate
from gateway.mapping.behaviour import DEFAULT, PERMISSIVE_MODIFY_OID, DirectoryBehaviour
from gateway.mapping.check import check_directory
from gateway.mapping.loader import load_mapping_text

USERS = """
User:
  base_dn: ou=People,dc=example,dc=org
  object_classes: [inetOrgPerson]
  rdn_attribute: uid
  attributes:
    - {scim: userName, ldap: uid}
"""
GROUPS = """
Group:
  base_dn: ou=Groups,dc=example,dc=org
  object_classes: [groupOfNames]
  rdn_attribute: cn
  members: {ldap: member, types: [User], placeholder: "cn=p", member_of: memberOf}
  attributes:
    - {scim: displayName, ldap: cn}
"""


def load(directory: str = "", body: str = USERS):
    section = f"directory: {directory}\n" if directory else ""
    return load_mapping_text("version: 1\n" + section + body, "m.yaml")


def problems(directory: str, body: str = USERS) -> str:
    with pytest.raises(ConfigError) as err:
        load(directory, body)
    return "\n".join(err.value.problems)


def test_without_the_section_the_directory_is_stock_openldap() -> None:
    mapping = load()
    assert mapping.directory == DEFAULT == DirectoryBehaviour()
    assert mapping["User"].directory is mapping.directory and mapping.etags
    assert "entryCSN" in translate.read_attributes(mapping["User"])


def test_every_key_is_read_and_unknown_ones_are_refused() -> None:
    mapping = load(
        "{version_attribute: entryUSN, entry_dn: false, permissive_modify: false,"
        " member_of: dynlist}"
    )
    assert mapping.directory == DirectoryBehaviour("entryUSN", False, False, "dynlist")
    assert "directory.etag: Unknown field" in problems("{etag: false}")
    assert "directory.member_of: Must be one of: overlay, dynlist, none" in problems(
        "{member_of: plugin}"
    )
    assert "directory.version_attribute: an LDAP attribute name, or none" in problems(
        "{version_attribute: 'entryCSN)(x'}"
    )
    assert "directory.entry_dn: Not a valid boolean" in problems("{entry_dn: maybe}")


def test_the_version_attribute_gives_meta_version_and_the_if_match_assertion() -> None:
    rm = load("{version_attribute: entryUSN}")["User"]
    attrs = {"uid": ("a",), "entryusn": ("42",), "entrycsn": ("ignored",)}
    assert translate.read_attributes(rm)[:2] == ["entryUUID", "entryUSN"]
    assert translate.meta_attributes(rm) == ("entryUSN", "createTimestamp", "modifyTimestamp")
    assert translate.version(rm, attrs) == 'W/"42"'
    assert translate.to_resource(rm, "uid=a", attrs, {})["meta"]["version"] == 'W/"42"'
    assert rm.directory.unchanged("42") == lf.Equal("entryUSN", "42")
    assert rm.directory.unchanged(None) is None


def test_version_none_means_no_version_no_assertion_no_etags() -> None:
    mapping = load("{version_attribute: none}")
    rm = mapping["User"]
    assert not mapping.etags
    assert "entryCSN" not in translate.read_attributes(rm)
    assert translate.meta_attributes(rm) == ("createTimestamp", "modifyTimestamp")
    resource = translate.to_resource(rm, "uid=a", {"uid": ("a",), "entrycsn": ("1",)}, {})
    assert "version" not in resource["meta"] and translate.version(rm, {}) is None
    assert rm.directory.unchanged("1") is None


def test_dynlist_keeps_members_from_being_searched_by_the_back_link() -> None:
    overlay = load("", USERS + GROUPS)["Group"].members
    dynlist = load("{member_of: dynlist}", USERS + GROUPS)["Group"].members
    assert overlay is not None and overlay.member_of == "memberOf"
    assert dynlist is not None and dynlist.member_of is None


def test_what_the_section_contradicts_in_the_resources_is_an_error() -> None:
    text = problems("{member_of: none}", USERS + GROUPS)
    assert "Group.members.member_of: directory.member_of is none" in text
    with_groups = (
        USERS + "    - {scim: groups, ldap: memberOf, reference: [Group], write: readOnly}\n"
    )
    assert "User.attributes.1.ldap: directory.member_of is none" in problems(
        "{member_of: none}", with_groups + GROUPS.replace(", member_of: memberOf", "")
    )
    text = problems("{permissive_modify: false}", USERS + GROUPS)
    assert "Group.members.placeholder: directory.permissive_modify is false" in text


def test_entry_at_without_entry_dn_is_the_naming_attribute_only() -> None:
    assert lf.entry_at("uid=a,ou=P") == lf.And(
        (lf.Equal("uid", "a"), lf.Equal("entryDN", "uid=a,ou=P"))
    )
    assert lf.entry_at("uid=a\\2c b,ou=P", entry_dn=False) == lf.Equal("uid", "a, b")
    assert lf.entry_at("", entry_dn=False) == lf.Nothing()


SCHEMA = parse_subschema(
    ["( 2.5.6.0 NAME 'top' ABSTRACT MUST objectClass )"],
    [
        "( 2.5.4.0 NAME 'objectClass' SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 )",
        "( 1.3.6.1.4.1.4203.666.1.7 NAME 'entryCSN' SYNTAX 1.3.6.1.4.1.4203.666.11.2.1 "
        "NO-USER-MODIFICATION USAGE directoryOperation )",
        "( 1.3.6.1.1.20 NAME 'entryDN' SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 "
        "NO-USER-MODIFICATION USAGE directoryOperation )",
    ],
)
NO_CSN = parse_subschema(
    ["( 2.5.6.0 NAME 'top' ABSTRACT MUST objectClass )"],
    ["( 2.5.4.0 NAME 'objectClass' SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 )"],
)


def findings(
    directory: str, schema=SCHEMA, controls=frozenset({PERMISSIVE_MODIFY_OID})
) -> list[str]:
    return [str(f) for f in check_directory(load(directory), schema, controls)]


def test_mapping_check_agrees_with_a_server_that_fits() -> None:
    assert findings("") == []
    assert (
        findings(
            "{version_attribute: none, entry_dn: false, permissive_modify: false}",
            NO_CSN,
            frozenset(),
        )
        == []
    )


def test_mapping_check_names_the_key_to_change() -> None:
    found = findings("", NO_CSN, frozenset())
    assert len(found) == 2, found
    assert "error: directory.version_attribute: entryCSN is not defined" in found[0]
    assert "set version_attribute: none" in found[0]
    assert "error: directory.entry_dn: entryDN is not defined" in found[1]
    offered = findings("{permissive_modify: false}")
    assert len(offered) == 1
    assert offered[0].startswith("m.yaml:2: warning: directory.permissive_modify: the server lists")
    assert offered[0].endswith("set permissive_modify: true")
    # slapd honours the control without listing it: not listed proves nothing
    assert findings("{permissive_modify: true}", SCHEMA, frozenset()) == []
