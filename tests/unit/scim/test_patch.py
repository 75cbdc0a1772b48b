"""The PATCH engine on resource dicts: RFC 7644 §3.5.2 examples and rules."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.scim.messages import USER_SCHEMA
from gateway.scim.schema import USER_TYPE

from .patching import ENTERPRISE, GROUP_TYPE, group, patched, user

BJENSEN = "2819c223-7f76-453a-919d-413861904646"
JSMITH = "902c246b-6245-4190-8e05-00816be7344a"

# (name, stored, operations, expected) — RFC 7644 §3.5.2.1-3 examples, groups not as deltas.
RFC_CASES: list[tuple[str, dict[str, Any], list[dict[str, Any]], dict[str, Any]]] = [
    (
        "3.5.2.1 add a member",
        group(),
        [
            {
                "op": "add",
                "path": "members",
                "value": [
                    {
                        "display": "Babs Jensen",
                        "$ref": f"https://example.com/v2/Users/{BJENSEN}",
                        "value": BJENSEN,
                    }
                ],
            }
        ],
        group(members=[{"$ref": f"https://example.com/v2/Users/{BJENSEN}", "value": BJENSEN}]),
    ),
    (
        "3.5.2.1 add without path: emails appended, nickname canonicalised",
        user(emails=[{"value": "bjensen@example.com", "type": "work"}]),
        [
            {
                "op": "add",
                "value": {
                    "emails": [{"value": "babs@jensen.org", "type": "home"}],
                    "nickname": "Babs",
                },
            }
        ],
        user(
            emails=[
                {"value": "bjensen@example.com", "type": "work"},
                {"value": "babs@jensen.org", "type": "home"},
            ],
            nickName="Babs",
        ),
    ),
    (
        "3.5.2.2 remove one member by filter",
        group(members=[{"value": BJENSEN}, {"value": JSMITH}]),
        [{"op": "remove", "path": f'members[value eq "{BJENSEN}"]'}],
        group(members=[{"value": JSMITH}]),
    ),
    (
        "3.5.2.2 remove all members",
        group(members=[{"value": BJENSEN}, {"value": JSMITH}]),
        [{"op": "remove", "path": "members"}],
        group(),
    ),
    (
        "3.5.2.2 remove emails matching a complex filter",
        user(
            emails=[
                {"value": "b@example.com", "type": "work"},
                {"value": "b@example.org", "type": "work"},
            ]
        ),
        [{"op": "remove", "path": 'emails[type eq "work" and value ew "example.com"]'}],
        user(emails=[{"value": "b@example.org", "type": "work"}]),
    ),
    (
        "3.5.2.2 remove all members then add some (replace)",
        group(members=[{"value": "old"}]),
        [
            {"op": "remove", "path": "members"},
            {"op": "add", "path": "members", "value": [{"value": BJENSEN}, {"value": JSMITH}]},
        ],
        group(members=[{"value": BJENSEN}, {"value": JSMITH}]),
    ),
    (
        "3.5.2.3 replace all members",
        group(members=[{"value": "old"}]),
        [{"op": "replace", "path": "members", "value": [{"value": BJENSEN}, {"value": JSMITH}]}],
        group(members=[{"value": BJENSEN}, {"value": JSMITH}]),
    ),
    (
        "3.5.2.3 replace the whole work address",
        user(
            addresses=[{"type": "work", "streetAddress": "old"}, {"type": "home", "locality": "X"}]
        ),
        [
            {
                "op": "replace",
                "path": 'addresses[type eq "work"]',
                "value": {
                    "type": "work",
                    "streetAddress": "911 Universal City Plaza",
                    "locality": "Hollywood",
                    "region": "CA",
                    "postalCode": "91608",
                    "country": "US",
                    "formatted": "911 Universal City Plaza\nHollywood, CA 91608 US",
                    "primary": True,
                },
            }
        ],
        user(
            addresses=[
                {
                    "type": "work",
                    "streetAddress": "911 Universal City Plaza",
                    "locality": "Hollywood",
                    "region": "CA",
                    "postalCode": "91608",
                    "country": "US",
                    "formatted": "911 Universal City Plaza\nHollywood, CA 91608 US",
                    "primary": True,
                },
                {"type": "home", "locality": "X"},
            ]
        ),
    ),
    (
        "3.5.2.3 replace the street of the work address",
        user(addresses=[{"type": "work", "streetAddress": "old", "locality": "L"}]),
        [
            {
                "op": "replace",
                "path": 'addresses[type eq "work"].streetAddress',
                "value": "1010 Broadway Ave",
            }
        ],
        user(addresses=[{"type": "work", "streetAddress": "1010 Broadway Ave", "locality": "L"}]),
    ),
    (
        "3.5.2.3 replace without path",
        user(emails=[{"value": "old@example.com", "type": "work"}], nickName="B"),
        [
            {
                "op": "replace",
                "value": {
                    "emails": [
                        {"value": "bjensen@example.com", "type": "work", "primary": True},
                        {"value": "babs@jensen.org", "type": "home"},
                    ],
                    "nickname": "Babs",
                },
            }
        ],
        user(
            emails=[
                {"value": "bjensen@example.com", "type": "work", "primary": True},
                {"value": "babs@jensen.org", "type": "home"},
            ],
            nickName="Babs",
        ),
    ),
]


@pytest.mark.parametrize(
    ("stored", "operations", "expected"),
    [c[1:] for c in RFC_CASES],
    ids=[c[0] for c in RFC_CASES],
)
def test_rfc_7644_patch_examples(stored: dict, operations: list[dict], expected: dict) -> None:
    rtype = GROUP_TYPE if stored["schemas"][0].endswith("Group") else USER_TYPE
    assert patched(stored, *operations, rtype=rtype) == expected


SEMANTICS: list[tuple[str, dict[str, Any], list[dict[str, Any]], dict[str, Any]]] = [
    (
        "add to a complex attribute merges sub-attributes",
        user(name={"givenName": "B", "familyName": "J"}),
        [{"op": "add", "path": "name", "value": {"middleName": "Jane"}}],
        user(name={"givenName": "B", "familyName": "J", "middleName": "Jane"}),
    ),
    (
        "replace of a complex attribute keeps unspecified sub-attributes (RFC 7644 §3.5.2.3)",
        user(name={"givenName": "B", "familyName": "J"}),
        [{"op": "replace", "path": "name", "value": {"givenName": "Barbara", "familyName": None}}],
        user(name={"givenName": "Barbara"}),
    ),
    (
        "add of a value already present changes nothing",
        user(emails=[{"value": "a@x.org", "type": "work"}]),
        [{"op": "add", "path": "emails", "value": [{"value": "A@X.org", "type": "work"}]}],
        user(emails=[{"value": "a@x.org", "type": "work"}]),
    ),
    (
        "add of a value already present merges its other sub-attributes",
        user(emails=[{"value": "a@x.org", "type": "work"}]),
        [{"op": "add", "path": "emails", "value": [{"value": "a@x.org", "display": "A"}]}],
        user(emails=[{"value": "a@x.org", "type": "work", "display": "A"}]),
    ),
    (
        "add of one object to a multi-valued attribute is wrapped",
        user(),
        [{"op": "add", "path": "emails", "value": {"value": "a@x.org"}}],
        user(emails=[{"value": "a@x.org"}]),
    ),
    (
        "replace with null removes",
        user(displayName="Babs"),
        [{"op": "replace", "path": "displayName", "value": None}],
        user(),
    ),
    (
        "replace with empty string removes",
        user(nickName="Babs"),
        [{"op": "replace", "path": "nickName", "value": ""}],
        user(),
    ),
    (
        "replace of a multi-valued attribute with [] removes it",
        user(emails=[{"value": "a@x.org"}]),
        [{"op": "replace", "path": "emails", "value": []}],
        user(),
    ),
    (
        "remove a sub-attribute; an emptied complex attribute disappears",
        user(name={"givenName": "B"}),
        [{"op": "remove", "path": "name.givenName"}],
        user(),
    ),
    (
        "remove a sub-attribute of the matching values",
        user(
            emails=[
                {"value": "a@x.org", "type": "work", "display": "A"},
                {"value": "b@y", "display": "B"},
            ]
        ),
        [{"op": "remove", "path": 'emails[type eq "work"].display'}],
        user(emails=[{"value": "a@x.org", "type": "work"}, {"value": "b@y", "display": "B"}]),
    ),
    (
        "remove an attribute that is not there is no change",
        user(),
        [{"op": "remove", "path": "title"}, {"op": "remove", "path": "emails"}],
        user(),
    ),
    (
        "removing the last extension attribute drops the extension object",
        {**user(), ENTERPRISE: {"costCenter": "4130"}},
        [{"op": "remove", "path": f"{ENTERPRISE}:costCenter"}],
        user(),
    ),
    (
        "nested extension object in a no-path value",
        user(),
        [{"op": "add", "value": {ENTERPRISE: {"employeeNumber": "7", "manager": {"value": "m"}}}}],
        {
            **user(),
            "schemas": [USER_SCHEMA, ENTERPRISE],
            ENTERPRISE: {"employeeNumber": "7", "manager": {"value": "m"}},
        },
    ),
    (
        "attribute names in paths and stored keys are matched case-insensitively",
        {"schemas": [USER_SCHEMA], "id": "u1", "username": "old", "NAME": {"GivenName": "b"}},
        [
            {"op": "replace", "path": "USERNAME", "value": "new"},
            {"op": "replace", "path": "Name.FamilyName", "value": "J"},
        ],
        {
            "schemas": [USER_SCHEMA],
            "id": "u1",
            "userName": "new",
            "name": {"givenName": "b", "familyName": "J"},
        },
    ),
    (
        "manager.value can be set on its own",
        user(),
        [{"op": "add", "path": f"{ENTERPRISE}:manager.value", "value": "m-1"}],
        {**user(), "schemas": [USER_SCHEMA, ENTERPRISE], ENTERPRISE: {"manager": {"value": "m-1"}}},
    ),
    (
        "manager displayName sent by a client is ignored (read-only)",
        user(),
        [
            {
                "op": "add",
                "path": f"{ENTERPRISE}:manager",
                "value": {"value": "m", "displayName": "Boss"},
            }
        ],
        {**user(), "schemas": [USER_SCHEMA, ENTERPRISE], ENTERPRISE: {"manager": {"value": "m"}}},
    ),
    (
        "writing the current id back is no change",
        user(),
        [{"op": "replace", "value": {"id": "u1", "displayName": "B"}}],
        user(displayName="B"),
    ),
    (
        "filtered add merges into the matching values",
        user(emails=[{"value": "a@x.org", "type": "work"}]),
        [{"op": "add", "path": 'emails[type eq "work"]', "value": {"display": "Work"}}],
        user(emails=[{"value": "a@x.org", "type": "work", "display": "Work"}]),
    ),
    (
        "filtered add with no match creates from the equality filter",
        user(),
        [{"op": "add", "path": 'emails[type eq "work"]', "value": {"value": "w@x.org"}}],
        user(emails=[{"type": "work", "value": "w@x.org"}]),
    ),
    (
        "filtered replace of whole values keeps the filter's type",
        user(emails=[{"value": "a@x.org", "type": "work", "display": "A"}]),
        [{"op": "replace", "path": 'emails[type eq "work"]', "value": {"value": "b@x.org"}}],
        user(emails=[{"type": "work", "value": "b@x.org"}]),
    ),
    (
        "immutable sub-attribute may be added when absent",
        group(members=[{"value": "m1"}]),
        [{"op": "add", "path": 'members[value eq "m1"].type', "value": "User"}],
        group(members=[{"value": "m1", "type": "User"}]),
    ),
    (
        "remove with a value list on any multi-valued attribute removes only those values",
        user(emails=[{"value": "a@x", "type": "work"}, {"value": "b@x", "type": "home"}]),
        [{"op": "remove", "path": "emails", "value": [{"value": "B@X"}]}],
        user(emails=[{"value": "a@x", "type": "work"}]),
    ),
    (
        "manager with a null value sub-attribute is removed",
        {**user(), ENTERPRISE: {"manager": {"value": "m"}}},
        [{"op": "replace", "path": f"{ENTERPRISE}:manager", "value": {"value": None}}],
        user(),
    ),
    (
        "remove of a single-valued attribute ignores a value sent along",
        {**user(), ENTERPRISE: {"manager": {"value": "m"}}},
        [{"op": "Remove", "path": f"{ENTERPRISE}:manager", "value": [{"value": "m"}]}],
        user(),
    ),
    (
        "blanks inside a value filter",
        user(emails=[{"value": "a@x", "type": "work"}]),
        [{"op": "replace", "path": 'emails[ type eq "work" ].value', "value": "b@x"}],
        user(emails=[{"value": "b@x", "type": "work"}]),
    ),
    (
        "re-adding a member with other immutable sub-attributes keeps the stored ones",
        group(members=[{"value": "m1", "type": "User", "$ref": "https://h/Users/m1"}]),
        [
            {
                "op": "add",
                "path": "members",
                "value": [{"value": "M1", "type": "Group", "$ref": "../Users/m1"}],
            }
        ],
        group(members=[{"value": "m1", "type": "User", "$ref": "https://h/Users/m1"}]),
    ),
    (
        "filtered add writes the value sub-attribute of the matching value",
        user(emails=[{"value": "a@x", "type": "work"}]),
        [{"op": "add", "path": 'emails[type eq "work"]', "value": {"value": "b@x"}}],
        user(emails=[{"value": "b@x", "type": "work"}]),
    ),
    (
        "filtered replace with null removes the matching values",
        user(emails=[{"value": "a@x", "type": "work"}, {"value": "b@x", "type": "home"}]),
        [{"op": "replace", "path": 'emails[type eq "work"]', "value": None}],
        user(emails=[{"value": "b@x", "type": "home"}]),
    ),
    (
        "filtered add of null adds nothing",
        user(emails=[{"value": "a@x", "type": "work"}]),
        [{"op": "add", "path": 'emails[type eq "work"]', "value": None}],
        user(emails=[{"value": "a@x", "type": "work"}]),
    ),
    (
        "hostile values are stored exactly",
        user(),
        [{"op": "replace", "path": "displayName", "value": '*)(uid=*\\\u0000, + " < > ; = é'}],
        user(displayName='*)(uid=*\\\u0000, + " < > ; = é'),
    ),
]


@pytest.mark.parametrize(
    ("stored", "operations", "expected"),
    [c[1:] for c in SEMANTICS],
    ids=[c[0] for c in SEMANTICS],
)
def test_patch_semantics(stored: dict, operations: list[dict], expected: dict) -> None:
    rtype = GROUP_TYPE if stored["schemas"][0].endswith("Group") else USER_TYPE
    assert patched(stored, *operations, rtype=rtype) == expected
