"""The mapping language's newer parts, pure: LDAP-only rules, write policies, placement."""

from __future__ import annotations

import pytest

from gateway.directory.entry import Modification, ModOp
from gateway.errors import ConfigError, Mutability
from gateway.mapping import changes, placement, translate
from gateway.mapping.loader import load_mapping_text
from gateway.scim.filter import parse_filter

BASE = """\
version: 1
User:
  base_dn: ou=People,dc=example,dc=org
  object_classes: [inetOrgPerson, posixAccount]
  rdn_attribute: uid
  attributes:
    - scim: userName
      ldap: uid
"""


def load(extra: str = "", head: str = BASE):
    return load_mapping_text(head + extra, "m.yaml")


def problems(extra: str = "", head: str = BASE) -> str:
    with pytest.raises(ConfigError) as caught:
        load(extra, head)
    return "\n".join(caught.value.problems)


POSIX_RULES = """\
    - ldap: loginShell
      constant: /bin/bash
    - ldap: gidNumber
      constant: 100
    - ldap: homeDirectory
      template: ["/home/{userName}"]
      converter: lowercase
    - ldap: gecos
      template: ["{displayName}", "{userName}"]
      write: readWrite
    - ldap: uidNumber
      allocate: {counter: "cn=uidNumber-counter,dc=example,dc=org", first: 10, last: 20}
"""


def test_ldap_only_rules_load_with_their_defaults() -> None:
    user = load(POSIX_RULES)["User"]
    by_name = {d.ldap: d for d in user.derived}
    assert by_name["loginShell"].constant == ("/bin/bash",)
    assert by_name["gidNumber"].constant == ("100",)  # numbers become LDAP strings
    assert by_name["homeDirectory"].write == "createOnly"
    assert by_name["gecos"].write == "readWrite"
    allocation = by_name["uidNumber"].allocate
    assert allocation is not None and (allocation.first, allocation.last) == (10, 20)
    assert by_name["uidNumber"].source == "User.attributes.5"


def test_ldap_only_rules_render_into_the_image_but_allocations_do_not() -> None:
    user = load(POSIX_RULES)["User"]
    image = translate.to_image(user, {"userName": "JDoe"}, {})
    assert image.attributes == {
        "uid": ("JDoe",),
        "loginshell": ("/bin/bash",),
        "gidnumber": ("100",),
        "homedirectory": ("/home/jdoe",),
        "gecos": ("JDoe",),
    }
    assert "uidNumber" not in translate.read_attributes(user)  # never compared on update
    assert "homeDirectory" in translate.read_attributes(user)


def test_create_only_ldap_rules_keep_the_stored_value_and_read_write_ones_follow() -> None:
    user = load(POSIX_RULES)["User"]
    stored = {"uid": ("jdoe",), "homedirectory": ("/home/old",), "gecos": ("old",)}
    old = translate.to_image(user, {"userName": "jdoe"}, {}, stored=stored)
    new = translate.to_image(user, {"userName": "jdoe", "displayName": "J Doe"}, {})
    change = changes.diff(user, old, new)
    assert set(change.kept) == {"homedirectory"}
    assert sorted(change.modifications, key=lambda m: m.attr) == [
        Modification("gecos", ModOp.REPLACE, ("J Doe",)),
        Modification("gidnumber", ModOp.REPLACE, ("100",)),  # missing: filled in
        Modification("loginshell", ModOp.REPLACE, ("/bin/bash",)),
    ]


def test_an_unchanged_entry_needs_no_write() -> None:
    user = load(POSIX_RULES)["User"]
    resource = {"userName": "jdoe"}
    stored = dict(translate.to_image(user, resource, {}).attributes)
    old = translate.to_image(user, resource, {}, stored=stored)
    assert changes.diff(user, old, translate.to_image(user, resource, {})).empty


def test_create_only_scim_attribute_is_immutable_once_set() -> None:
    user = load("    - scim: title\n      ldap: title\n      write: createOnly\n")["User"]
    old = translate.to_image(user, {"userName": "a", "title": "Dr"}, {})
    with pytest.raises(Mutability, match="title cannot be changed"):
        changes.diff(user, old, translate.to_image(user, {"userName": "a", "title": "Mr"}, {}))
    kept = changes.diff(user, old, translate.to_image(user, {"userName": "a"}, {}))
    assert kept.empty and kept.kept == frozenset({"title"})
    unset = translate.to_image(user, {"userName": "a"}, {})
    change = changes.diff(user, unset, old)
    assert change.modifications == (Modification("title", ModOp.REPLACE, ("Dr",)),)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "    - scim: title\n      ldap: title\n      constant: x\n",
            "m.yaml:11: User.attributes.1.constant: 'constant' is for LDAP-only rules",
        ),
        (
            "    - ldap: loginShell\n      constant: a\n      template: [b]\n",
            "m.yaml:9: User.attributes.1: a rule needs 'scim' (a SCIM attribute) or exactly one "
            "of 'constant', 'template', 'allocate' (an LDAP-only attribute); found constant, "
            "template",
        ),
        ("    - ldap: loginShell\n", "exactly one of 'constant', 'template', 'allocate'"),
        (
            "    - ldap: loginShell\n      constant: a\n      default: [b]\n",
            "User.attributes.1.default: 'default' needs 'scim'",
        ),
        (
            "    - ldap: loginShell\n      constant: a\n      write: readOnly\n",
            "User.attributes.1.write: an LDAP-only rule is written by the gateway",
        ),
        (
            "    - ldap: uid\n      constant: a\n",
            "uid is already written by another rule",
        ),
        (
            "    - ldap: uidNumber\n      allocate: {counter: 'cn=c,dc=x', first: 9, last: 1}\n",
            "User.attributes.1.allocate.last: must not be below 'first'",
        ),
        (
            "    - ldap: uidNumber\n      allocate: {counter: 'ou=c,dc=x', first: 1, last: 9}\n",
            "name the counter entry by cn",
        ),
        (
            "    - ldap: uidNumber\n      allocate: {counter: 'nonsense', first: 1, last: 9}\n",
            "'nonsense' is not a valid DN",
        ),
        (
            "    - ldap: loginShell\n      constant: [true]\n",
            "User.attributes.1.constant: expected a string, a number, or a list of them",
        ),
    ],
    ids=[
        "scim-with-constant",
        "two-kinds",
        "no-kind",
        "default-without-scim",
        "read-only-ldap-rule",
        "same-attribute-twice",
        "range-backwards",
        "counter-not-cn",
        "counter-not-a-dn",
        "constant-boolean",
    ],
)
def test_rule_mistakes_are_reported(extra: str, expected: str) -> None:
    assert expected in problems(extra)


def test_disable_and_member_mistakes_are_reported() -> None:
    move_to_base = "  disable: {strategy: move, disabled_base_dn: 'OU=people,dc=example,dc=org'}\n"
    text = BASE.replace("  rdn_attribute: uid\n", "  rdn_attribute: uid\n" + move_to_base)
    assert "disabled_base_dn: must differ from base_dn" in problems(head=text)
    group = """\
Group:
  base_dn: ou=Groups,dc=example,dc=org
  object_classes: [posixGroup]
  rdn_attribute: cn
  members: {ldap: memberUid, member_value: cn, member_of: memberOf}
  attributes:
    - scim: displayName
      ldap: cn
"""
    found = problems(head=BASE + group)
    assert "Group.members.member_of: a back-link needs DN-valued members" in found


def test_member_value_must_be_the_members_naming_attribute() -> None:
    group = """\
Group:
  base_dn: ou=Groups,dc=example,dc=org
  object_classes: [posixGroup]
  rdn_attribute: cn
  members: {ldap: memberUid, member_value: cn}
  attributes:
    - scim: displayName
      ldap: cn
"""
    assert "'cn' must be the RDN attribute of User (uid)" in problems(head=BASE + group)


# ------------------------------------------------------------------ placement (move strategy)

MOVE = BASE.replace(
    "  rdn_attribute: uid\n",
    "  rdn_attribute: uid\n"
    "  disable: {strategy: move, disabled_base_dn: 'ou=Disabled,dc=example,dc=org'}\n",
)
NESTED = MOVE.replace("ou=Disabled,dc=example", "ou=Disabled,ou=People,dc=example")


def test_move_searches_the_common_subtree_and_keeps_only_its_two_levels() -> None:
    user = load(head=MOVE)["User"]
    assert placement.area(user) == placement.Area("dc=example,dc=org", "sub")
    assert placement.area(user, active=False) == placement.Area(
        "ou=Disabled,dc=example,dc=org", "one"
    )
    assert placement.area(user, active=True) == placement.Area("ou=People,dc=example,dc=org", "one")
    assert placement.contains(user, "uid=a,ou=People,dc=example,dc=org")
    assert placement.contains(user, "uid=a,ou=Disabled,dc=example,dc=org")
    assert not placement.contains(user, "uid=a,ou=Admins,dc=example,dc=org")
    assert not placement.contains(user, "uid=a,ou=x,ou=People,dc=example,dc=org")
    assert not placement.contains(user, "uid=a,ou=Disabled,dc=example,dc=org", active=True)


def test_a_disabled_base_inside_the_base_is_not_enabled() -> None:
    user = load(head=NESTED)["User"]
    assert placement.area(user) == placement.Area("ou=People,dc=example,dc=org", "sub")
    inside = "uid=a,ou=Disabled,ou=People,dc=example,dc=org"
    assert placement.contains(user, inside, active=False)
    assert not placement.contains(user, inside, active=True)


@pytest.mark.parametrize(
    ("flt", "active", "rest"),
    [
        ("active eq false", False, None),
        ("active ne false", True, None),
        ('userName eq "a" and active eq true', True, 'userName eq "a"'),
        ('active eq true and userName eq "a" and title pr', True, 'userName eq "a" and title pr'),
        ('active pr and userName eq "a"', None, 'userName eq "a"'),
        ('active eq false or userName eq "a"', None, 'active eq false or userName eq "a"'),
    ],
)
def test_top_level_active_conditions_become_a_choice_of_base(
    flt: str, active: bool | None, rest: str | None
) -> None:
    split = placement.split_active(load(head=MOVE)["User"], parse_filter(flt))
    assert split.active is active and not split.impossible
    assert split.rest == (parse_filter(rest) if rest else None)


def test_contradicting_active_conditions_match_nothing() -> None:
    split = placement.split_active(
        load(head=MOVE)["User"], parse_filter("active eq true and active eq false")
    )
    assert split.impossible


def test_without_move_the_filter_is_left_alone() -> None:
    node = parse_filter("active eq false")
    assert placement.split_active(load()["User"], node) == placement.ActiveSplit(node)
