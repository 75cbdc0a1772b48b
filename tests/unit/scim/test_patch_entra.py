"""Every Microsoft Entra ID PATCH shape of entra-scim.md §4 and §5, applied by the engine.

Sample names say where each body comes from: TUT (Microsoft Learn tutorial), KI (known
issues, aadOptscim062020 table), VAL (SCIM Validator) or the issue it was reported in.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.scim.delta import ValueDelta

from .patching import ENTERPRISE, GROUP_TYPE, group, patched, run, user

MEMBERS = frozenset({"members"})

# (name, stored resource, operations, expected resource)
USER_CASES: list[tuple[str, dict[str, Any], list[dict[str, Any]], dict[str, Any]]] = [
    (
        "TUT update user multi-valued: work email and family name",
        user(
            emails=[{"primary": True, "type": "work", "value": "old@testuser.com"}],
            name={"givenName": "givenName", "familyName": "familyName"},
        ),
        [
            {
                "op": "Replace",
                "path": 'emails[type eq "work"].value',
                "value": "updatedEmail@microsoft.com",
            },
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
        ],
        user(
            emails=[{"primary": True, "type": "work", "value": "updatedEmail@microsoft.com"}],
            name={"givenName": "givenName", "familyName": "updatedFamilyName"},
        ),
    ),
    (
        "TUT update user single-valued: rename",
        user(),
        [
            {
                "op": "Replace",
                "path": "userName",
                "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com",
            }
        ],
        {**user(), "userName": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"},
    ),
    (
        "TUT disable user with JSON false",
        user(active=True),
        [{"op": "Replace", "path": "active", "value": False}],
        user(active=False),
    ),
    (
        "KI disable user with the string False (default, no flag)",
        user(active=True),
        [{"op": "Replace", "path": "active", "value": "False"}],
        user(active=False),
    ),
    (
        "scimmy#86 lower-case string false",
        user(active=True),
        [{"op": "replace", "path": "active", "value": "false"}],
        user(active=False),
    ),
    (
        "string True re-enables",
        user(active=False),
        [{"op": "Replace", "path": "active", "value": "True"}],
        user(active=True),
    ),
    (
        "KI add single-value string attribute",
        user(),
        [{"op": "Add", "path": "nickName", "value": "Babs"}],
        user(nickName="Babs"),
    ),
    (
        "laravel-scim-server#34 Add enterprise department next to Replace ops",
        user(displayName="Old"),
        [
            {"op": "Replace", "path": "displayName", "value": "New"},
            {"op": "Add", "path": f"{ENTERPRISE}:department", "value": "Retail"},
        ],
        {
            **user(displayName="New"),
            "schemas": [user()["schemas"][0], ENTERPRISE],
            ENTERPRISE: {"department": "Retail"},
        },
    ),
    (
        "SCIM-SDK#686 manager as a bare id string",
        user(),
        [{"op": "add", "path": f"{ENTERPRISE}:manager", "value": "m-42"}],
        {
            **user(),
            "schemas": [user()["schemas"][0], ENTERPRISE],
            ENTERPRISE: {"manager": {"value": "m-42"}},
        },
    ),
    (
        "TUT Example 5 manager as a one-element list",
        user(),
        [
            {
                "op": "Add",
                "path": f"{ENTERPRISE}:manager",
                "value": [{"$ref": "../Users/m-42", "value": "m-42"}],
            }
        ],
        {
            **user(),
            "schemas": [user()["schemas"][0], ENTERPRISE],
            ENTERPRISE: {"manager": {"$ref": "../Users/m-42", "value": "m-42"}},
        },
    ),
    (
        "VAL manager removal with an empty string",
        {**user(), ENTERPRISE: {"manager": {"value": "m-42"}, "department": "R"}},
        [{"op": "Replace", "path": f"{ENTERPRISE}:manager", "value": ""}],
        {**user(), ENTERPRISE: {"department": "R"}},
    ),
    (
        "manager replace with a new bare id keeps it an object",
        {**user(), ENTERPRISE: {"manager": {"value": "m-1"}}},
        [{"op": "Replace", "path": f"{ENTERPRISE}:manager", "value": "m-2"}],
        {**user(), ENTERPRISE: {"manager": {"value": "m-2"}}},
    ),
    (
        "SCIM-SDK#416 VAL add work email value to a user without email",
        user(),
        [{"op": "add", "path": 'emails[type eq "work"].value', "value": "new@example.com"}],
        user(emails=[{"type": "work", "value": "new@example.com"}]),
    ),
    (
        "Replace work email value on a user without email creates it with its type",
        user(emails=[{"type": "home", "value": "home@example.com"}]),
        [{"op": "Replace", "path": 'emails[type eq "work"].value', "value": "w@example.com"}],
        user(
            emails=[
                {"type": "home", "value": "home@example.com"},
                {"type": "work", "value": "w@example.com"},
            ]
        ),
    ),
    (
        "TUT default mapping phoneNumbers mobile value",
        user(phoneNumbers=[{"type": "work", "value": "+1 555 0100"}]),
        [{"op": "Add", "path": 'phoneNumbers[type eq "mobile"].value', "value": "+1 555 0199"}],
        user(
            phoneNumbers=[
                {"type": "work", "value": "+1 555 0100"},
                {"type": "mobile", "value": "+1 555 0199"},
            ]
        ),
    ),
    (
        "TUT default mapping addresses work streetAddress",
        user(),
        [{"op": "Add", "path": 'addresses[type eq "work"].streetAddress', "value": "1 Main St"}],
        user(addresses=[{"type": "work", "streetAddress": "1 Main St"}]),
    ),
    (
        "KI replace several attributes, one op per path (default)",
        user(emails=[{"type": "work", "value": "a@x.org"}], name={"givenName": "A"}),
        [
            {"op": "Replace", "path": "displayName", "value": "Babs"},
            {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "b@x.org"},
            {"op": "Replace", "path": "name.givenName", "value": "Barbara"},
            {"op": "Replace", "path": "name.familyName", "value": "Jensen"},
            {"op": "Replace", "path": "externalId", "value": "ext-1"},
            {"op": "Replace", "path": f"{ENTERPRISE}:employeeNumber", "value": "701984"},
        ],
        {
            **user(
                emails=[{"type": "work", "value": "b@x.org"}],
                name={"givenName": "Barbara", "familyName": "Jensen"},
                displayName="Babs",
                externalId="ext-1",
            ),
            "schemas": [user()["schemas"][0], ENTERPRISE],
            ENTERPRISE: {"employeeNumber": "701984"},
        },
    ),
    (
        "KI replace several attributes with aadOptscim062020: no path, dotted and URN keys",
        user(emails=[{"type": "work", "value": "a@x.org"}], name={"givenName": "A"}),
        [
            {"op": "replace", "path": 'emails[type eq "work"].value', "value": "b@x.org"},
            {
                "op": "replace",
                "value": {
                    "displayName": "Babs",
                    "name.givenName": "Barbara",
                    "name.familyName": "Jensen",
                    f"{ENTERPRISE}:employeeNumber": "701984",
                },
            },
        ],
        {
            **user(
                emails=[{"type": "work", "value": "b@x.org"}],
                name={"givenName": "Barbara", "familyName": "Jensen"},
                displayName="Babs",
            ),
            "schemas": [user()["schemas"][0], ENTERPRISE],
            ENTERPRISE: {"employeeNumber": "701984"},
        },
    ),
    (
        "no-path value with a core-URN-qualified key and a boolean string",
        user(active=True),
        [
            {
                "op": "Replace",
                "value": {
                    "urn:ietf:params:scim:schemas:core:2.0:User:userName": "babs",
                    "active": "False",
                },
            }
        ],
        {**user(active=False), "userName": "babs"},
    ),
]


@pytest.mark.parametrize(
    ("stored", "operations", "expected"),
    [case[1:] for case in USER_CASES],
    ids=[case[0] for case in USER_CASES],
)
def test_entra_user_patches(stored: dict, operations: list[dict], expected: dict) -> None:
    assert patched(stored, *operations) == expected


def test_tut_update_group_display_name() -> None:
    operations = [{"op": "Replace", "path": "displayName", "value": "1879db59-updatedDisplayName"}]
    result = run(group(), *operations, rtype=GROUP_TYPE, delta=MEMBERS)
    assert result.resource == {**group(), "displayName": "1879db59-updatedDisplayName"}
    assert result.deltas == {}


GROUP_DELTA_CASES: list[tuple[str, list[dict[str, Any]], ValueDelta]] = [
    (
        "TUT add members",
        [
            {
                "op": "Add",
                "path": "members",
                "value": [{"$ref": None, "value": "f648f8d5ea4e4cd38e9c"}],
            }
        ],
        ValueDelta(add=({"value": "f648f8d5ea4e4cd38e9c"},)),
    ),
    (
        "TUT remove members with a value list removes only the listed ones",
        [
            {
                "op": "Remove",
                "path": "members",
                "value": [{"$ref": None, "value": "f648f8d5ea4e4cd38e9c"}],
            }
        ],
        ValueDelta(remove=({"value": "f648f8d5ea4e4cd38e9c"},)),
    ),
    (
        "KI remove member default shape",
        [{"op": "Remove", "path": "members", "value": [{"value": "u1091"}]}],
        ValueDelta(remove=({"value": "u1091"},)),
    ),
    (
        "KI remove member with aadOptscim062020: value filter path",
        [{"op": "remove", "path": 'members[value eq "7f4bc1a3-285e-48ae-8202-5accb43efb0e"]'}],
        ValueDelta(remove=({"value": "7f4bc1a3-285e-48ae-8202-5accb43efb0e"},)),
    ),
    (
        "gallery checklist: several member changes in one PATCH",
        [
            {"op": "Add", "path": "members", "value": [{"value": "a"}, {"value": "b"}]},
            {"op": "Remove", "path": "members", "value": [{"value": "c"}]},
            {"op": "Add", "path": "members", "value": [{"value": "d"}]},
        ],
        ValueDelta(add=({"value": "a"}, {"value": "b"}, {"value": "d"}), remove=({"value": "c"},)),
    ),
]


@pytest.mark.parametrize(
    ("operations", "expected"),
    [case[1:] for case in GROUP_DELTA_CASES],
    ids=[case[0] for case in GROUP_DELTA_CASES],
)
def test_entra_member_patches_become_value_deltas(
    operations: list[dict], expected: ValueDelta
) -> None:
    result = run(group(), *operations, rtype=GROUP_TYPE, delta=MEMBERS)
    assert result.deltas == {"members": expected}
    assert result.resource == group()


def test_entra_remove_members_with_value_list_on_a_read_group_keeps_the_others() -> None:
    """PostHog#47480: the group must not be wiped by a listed-values remove."""
    stored = group(members=[{"value": "keep"}, {"value": "f648f8d5ea4e4cd38e9c"}])
    operations = [{"op": "Remove", "path": "members", "value": [{"value": "f648f8d5ea4e4cd38e9c"}]}]
    assert patched(stored, *operations, rtype=GROUP_TYPE) == group(members=[{"value": "keep"}])


def test_entra_removing_a_member_that_is_not_there_succeeds() -> None:
    stored = group(members=[{"value": "keep"}])
    operations = [
        {"op": "Remove", "path": "members", "value": [{"value": "absent"}]},
        {"op": "remove", "path": 'members[value eq "absent"]'},
    ]
    assert patched(stored, *operations, rtype=GROUP_TYPE) == stored
