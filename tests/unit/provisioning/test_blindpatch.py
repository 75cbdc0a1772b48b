"""Which PATCHes are written without reading the entry, and with what guard (no directory).

That the blind write then stores and answers exactly what today's path does is shown on the
real slapd: tests/e2e/test_fast_patch.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.directory import ldapfilter as lf
from gateway.directory.entry import Modification, ModOp
from gateway.mapping.loader import load_mapping, load_mapping_text
from gateway.provisioning.blindpatch import BlindPlanner
from gateway.scim.patch import parse_patch_request

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = load_mapping(ROOT / "mappings" / "openldap.yaml")
PLANNER = BlindPlanner(SHIPPED, SHIPPED["User"])
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
WORK_MAIL = 'emails[type eq "work"].value'
ENABLED = lf.Not(
    lf.Or(
        (
            lf.Equal("pwdAccountLockedTime", "000001010000Z"),
            lf.Equal("pwdPolicySubentry", "cn=disabled,ou=Policies,dc=example,dc=org"),
        )
    )
)


def plan(*operations: dict[str, Any], planner: BlindPlanner = PLANNER):
    return planner.plan(
        "id-1", parse_patch_request({"schemas": [PATCH_OP], "Operations": list(operations)})
    )


def replace(path: str, value: Any) -> dict[str, Any]:
    return {"op": "replace", "path": path, "value": value}


@pytest.mark.parametrize(
    ("operations", "mods", "changes"),
    [
        ([replace("title", "Boss")], [("title", ("Boss",))], [lf.Not(lf.Equal("title", "Boss"))]),
        (
            [{"op": "Add", "path": "title", "value": "Boss"}],  # add to a single value: replace
            [("title", ("Boss",))],
            [lf.Not(lf.Equal("title", "Boss"))],
        ),
        ([{"op": "remove", "path": "title"}], [("title", ())], [lf.Present("title")]),
        ([replace("title", "")], [("title", ())], [lf.Present("title")]),
        (
            [replace(WORK_MAIL, "a@example.org")],
            [("mail", ("a@example.org",))],
            [lf.Not(lf.Equal("mail", "a@example.org"))],
        ),
        (
            [{"op": "add", "path": WORK_MAIL, "value": "a@example.org"}],
            [("mail", ("a@example.org",))],
            [lf.Not(lf.Equal("mail", "a@example.org"))],
        ),
        (
            [replace("title", "One"), replace("title", "Two")],  # the last one wins
            [("title", ("Two",))],
            [lf.Not(lf.Equal("title", "Two"))],
        ),
        (
            [{"op": "replace", "value": {"title": "T", f"{ENTERPRISE}:department": "D"}}],
            [("departmentnumber", ("D",)), ("title", ("T",))],
            [lf.Not(lf.Equal("title", "T")), lf.Not(lf.Equal("departmentNumber", "D"))],
        ),
        (
            [{"op": "replace", "value": {ENTERPRISE: {"employeeNumber": "7"}}}],
            [("employeenumber", ("7",))],
            [lf.Not(lf.Equal("employeeNumber", "7"))],
        ),
        (
            [replace('addresses[type eq "work"].locality', "Paris")],
            [("l", ("Paris",))],
            [lf.Not(lf.Equal("l", "Paris"))],
        ),
    ],
)
def test_blind_safe_patches_become_replaces_guarded_by_a_change(
    operations: list[dict[str, Any]], mods: list[tuple[str, tuple[str, ...]]], changes: list
) -> None:
    write = plan(*operations)
    assert write is not None
    assert write.modifications == tuple(Modification(a, ModOp.REPLACE, v) for a, v in mods)
    assert write.guard == lf.And((ENABLED, *changes))


@pytest.mark.parametrize(
    "operations",
    [
        [replace("userName", "renamed")],  # a rename
        [replace("displayName", "D")],  # cn is derived from it
        [replace("name.givenName", "G")],  # cn is derived from it
        [replace("name.formatted", "F")],  # has a default
        [replace("active", False)],  # the disable strategy
        [replace("password", "Secret123!")],
        [replace(f"{ENTERPRISE}:manager", "0f6e1c3e-8d6f-4f0e-9c53-3b8c6b0f3f7e")],  # a reference
        [replace("groups", [])],  # read-only
        [replace("title", None)],  # null: today's path decides
        [replace("title", 12)],  # not a string: today's path refuses it
        [replace("title", ["a"])],
        [replace("title", "a\x00b")],  # NUL: refused by today's path
        [{"op": "remove", "path": WORK_MAIL}],  # an error today when absent
        [replace('emails[type eq "home"].value', "h@example.org")],  # not mapped
        [replace('emails[value eq "x"].type', "work")],  # another filter
        [replace("emails", [{"type": "work", "value": "a@example.org"}])],  # a whole list
        [replace("nickNameX", "x")],  # unknown
        [replace(ENTERPRISE, {"employeeNumber": "7"})],  # a whole extension as the path
        [replace("title", "T"), replace("displayName", "D")],  # one blind, one not
        [{"op": "replace", "value": {}}],  # nothing
    ],
)
def test_everything_else_takes_todays_path(operations: list[dict[str, Any]]) -> None:
    assert plan(*operations) is None


def test_groups_never_get_blind_writes() -> None:
    # group writes carry no assertion (slapd's memberof overlay, see writes._update)
    planner = BlindPlanner(SHIPPED, SHIPPED["Group"])
    assert not planner.eligible
    assert plan(replace("externalId", "x"), planner=planner) is None


MINIMAL = """
version: 1
User:
  base_dn: ou=People,dc=example,dc=org
  scope: one
  object_classes: [top, person, organizationalPerson, inetOrgPerson]
  filter: (objectClass=inetOrgPerson)
  rdn_attribute: uid
  id_attribute: entryUUID
  {disable}
  attributes:
    - scim: userName
      ldap: uid
    - scim: name.familyName
      ldap: sn
      default: ["{{userName}}"]
    - scim: name.formatted
      ldap: cn
      default: ["{{userName}}"]
    - scim: title
      ldap: title
    - scim: displayName
      ldap: displayName
      {display}
    - scim: externalId
      ldap: {external}
    - scim: {number_path}
      ldap: employeeNumber
      {number}
{derived}
"""


def planner_for(**parts: str) -> BlindPlanner:
    values = dict(
        disable="",
        display="",
        external="businessCategory",
        number="",
        derived="",
        number_path=f"{ENTERPRISE}:employeeNumber",
    )
    values.update(parts)
    mapping = load_mapping_text(MINIMAL.format(**values), "m.yaml")
    return BlindPlanner(mapping, mapping["User"])


def test_a_minimal_mapping_without_a_disable_strategy_needs_only_the_change_guard() -> None:
    planner = planner_for()
    write = plan(replace("title", "T"), planner=planner)
    assert write is not None and write.guard == lf.Not(lf.Equal("title", "T"))
    # what the tests below make unsafe, one change at a time, is safe here
    for path in ("externalId", "displayName", f"{ENTERPRISE}:employeeNumber"):
        assert plan(replace(path, "x"), planner=planner) is not None, path


def test_an_ldap_only_rule_rewritten_on_every_update_turns_blind_writes_off() -> None:
    derived = "    - ldap: description\n      template: ['{title}']\n      write: readWrite\n"
    assert not planner_for(derived=derived).eligible


def test_a_create_only_ldap_rule_is_guarded_by_its_presence() -> None:
    derived = "    - ldap: description\n      constant: x\n"
    write = plan(replace("title", "T"), planner=planner_for(derived=derived))
    assert write is not None
    assert write.guard == lf.And((lf.Present("description"), lf.Not(lf.Equal("title", "T"))))


def test_a_template_reading_an_attribute_makes_it_unsafe() -> None:
    derived = "    - ldap: description\n      template: ['{title}']\n"
    assert plan(replace("title", "T"), planner=planner_for(derived=derived)) is None


def test_an_ldap_attribute_written_by_two_rules_is_unsafe() -> None:
    planner = planner_for(external="title")  # externalId and title both write title
    assert plan(replace("title", "T"), planner=planner) is None
    assert plan(replace("externalId", "T"), planner=planner) is None


def test_a_converter_other_than_string_is_unsafe() -> None:
    planner = planner_for(number="converter: integer")
    assert plan(replace(f"{ENTERPRISE}:employeeNumber", "7"), planner=planner) is None


def test_a_rule_with_a_default_is_unsafe() -> None:
    planner = planner_for(display="default: ['{userName}']")
    assert plan(replace("displayName", "D"), planner=planner) is None


@pytest.mark.parametrize(
    ("disable", "guard"),
    [
        ("disable: {strategy: ppolicy}", lf.Not(lf.Equal("pwdAccountLockedTime", "000001010000Z"))),
        (
            "disable: {strategy: boolean, attribute: nsAccountLock, disabled_value: 'TRUE'}",
            lf.Not(lf.Equal("nsAccountLock", "TRUE")),
        ),
    ],
)
def test_marked_strategies_allow_enabled_entries_only(disable: str, guard: lf.LdapFilter) -> None:
    write = plan(replace("title", "T"), planner=planner_for(disable=disable))
    assert write is not None
    assert write.guard == lf.And((guard, lf.Not(lf.Equal("title", "T"))))


def test_the_move_strategy_needs_no_guard_and_bitmask_keeps_todays_path() -> None:
    move = planner_for(
        disable="disable: {strategy: move, disabled_base_dn: 'ou=Off,dc=example,dc=org'}"
    )
    write = plan(replace("title", "T"), planner=move)
    assert write is not None and write.guard == lf.Not(lf.Equal("title", "T"))
    bitmask = planner_for(disable="disable: {strategy: bitmask, attribute: shadowFlag, flag: 2}")
    assert not bitmask.eligible
