"""normalize_resource keeps where each body key lands per resource type (typememo): a key
answered from that table must land exactly where working it out afresh puts it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gateway.errors import InvalidValue
from gateway.scim import resource as resource_module
from gateway.scim import typememo
from gateway.scim.resource import normalize_resource
from gateway.scim.schema import GROUP_TYPE, USER_TYPE
from gateway.scim.values import coerce_attribute

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

PAYLOADS: list[dict[str, Any]] = [
    {"schemas": [CORE], "userName": "a", "name": {"givenName": "A", "familyName": "B"}},
    {
        "USERNAME": "b",
        " displayName ": "spaces around the name",
        "name.givenName": "dotted",
        "NAME.familyName": "dotted, upper",
        'emails[type eq "work"].value': "a value filter: ignored",
        f"{CORE}:title": "qualified",
        f"{ENTERPRISE}:employeeNumber": "42",
        "u\u017ferName": "long s: casefolds to username, is not an attribute name",
        "id": "read-only: dropped",
        "meta": {"created": "dropped"},
        "unknown": 1,
        "": "empty",
        "a.b.c": "too deep",
    },
    {
        ENTERPRISE.upper(): {
            "employeeNumber": "7",
            "DEPARTMENT": "d",
            f"{ENTERPRISE}:costCenter": "qualified again",
            f"{CORE}:userName": "another schema's attribute: ignored",
            "manager": "bare-id",
            "nope": 1,
        },
        "userName": "c",
    },
    {"userName": "d", "emails": [{"value": "x@example.org", "type": "work", "primary": True}]},
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_remembered_key_lands_where_a_fresh_one_does(payload: dict[str, Any]) -> None:
    typememo._TABLES.clear()
    fresh = normalize_resource(copy.deepcopy(payload), USER_TYPE, check_required=False)
    for _ in range(2):  # answered from the tables now
        assert normalize_resource(payload, USER_TYPE, check_required=False) == fresh
    assert typememo.table(USER_TYPE, "resource.keys")  # the table was used


def test_the_same_key_is_placed_per_type() -> None:
    body = {"displayName": "g", "userName": "only a User has it", "members": []}
    user = normalize_resource(body, USER_TYPE, check_required=False)
    group = normalize_resource(body, GROUP_TYPE, check_required=False)
    assert user == {
        "schemas": [CORE],
        "displayName": "g",
        "userName": "only a User has it",
    }
    assert group == {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "g"}


def test_type_errors_are_still_raised_for_remembered_keys() -> None:
    normalize_resource({"userName": "x", "active": True}, USER_TYPE)
    with pytest.raises(InvalidValue, match="active"):
        normalize_resource({"userName": "x", "active": "maybe"}, USER_TYPE)


def test_the_key_table_stays_bounded_and_keys_past_it_still_work() -> None:
    typememo._TABLES.clear()
    junk = {f"junk{i}": i for i in range(resource_module._MAX_KEYS + 50)}
    normalize_resource({**junk, "userName": "x"}, USER_TYPE)
    assert len(typememo.table(USER_TYPE, "resource.keys")) == resource_module._MAX_KEYS
    assert normalize_resource({"title": "T", "userName": "y"}, USER_TYPE)["title"] == "T"


def test_keys_dropped_unchecked_stay_dropped_whatever_their_value() -> None:
    """Read-only attributes, read-only sub-attributes and ``attr.sub`` keys of multi-valued
    attributes are left out by where they land (no type check: a wrong type is no error)."""
    body = {
        "userName": "x",
        "id": 5,
        "meta": 7,
        "meta.version": [1],
        "emails.value": 3,
        "groups": [1],
        "groups.value": 2,
        "name.givenName": "g",
        ENTERPRISE: {"manager.displayName": 5, "manager": {"displayName": 4, "value": "m"}},
    }
    for _ in range(2):  # worked out, then answered from the table
        assert normalize_resource(body, USER_TYPE) == {
            "schemas": [CORE, ENTERPRISE],
            "userName": "x",
            "name": {"givenName": "g"},
            ENTERPRISE: {"manager": {"value": "m"}},
        }
    group = {"displayName": "g", "members.value": 5, "members": [{"value": "a", "display": 3}]}
    assert normalize_resource(group, GROUP_TYPE)["members"] == [{"value": "a"}]


def _every_attribute() -> list[Any]:
    out = []
    for rtype in (USER_TYPE, GROUP_TYPE):
        for schema in rtype.schemas():
            for attr in rtype.attributes(schema):
                out += [attr, *attr.sub_attributes]
    return out


def test_a_quick_value_is_what_coerce_attribute_gives() -> None:
    """``place`` takes a value of the ``_quick`` type as ``coerce_attribute`` would give it."""
    seen = set()
    for attr in _every_attribute():
        quick = resource_module._quick(attr)
        if quick is None:
            continue
        seen.add(quick)
        for value in ("", " ", "x", "True", "false", " FALSE ", True, False):
            if type(value) is not quick:
                continue
            fast = value if quick is bool else (value or None)
            assert fast == coerce_attribute(attr, value, attr.name), (attr.name, value)
    assert seen == {str, bool}


@pytest.mark.parametrize(
    "payload",
    [
        *PAYLOADS,
        {"userName": "", "active": "False", "title": 7},
        {"userName": "x", "active": True, "displayName": "", "nickName": " n "},
        {"userName": "x", "active": 1},
        {"userName": "x", "name": {"givenName": "", "familyName": 3}},
        {"userName": "x", "name.givenName": ["list"]},
        {"userName": "x", "emails": [{"value": "", "type": "work", "primary": "true"}]},
        {"userName": "x", ENTERPRISE: {"manager": "m", "employeeNumber": ""}},
    ],
)
def test_bodies_normalize_alike_with_and_without_the_quick_values(
    payload: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def outcome() -> Any:
        typememo._TABLES.clear()  # where keys land is worked out again, with or without
        try:
            return normalize_resource(copy.deepcopy(payload), USER_TYPE, check_required=False)
        except InvalidValue as err:
            return ("refused", err.detail)

    quick = outcome()
    monkeypatch.setattr(resource_module, "_quick", lambda attr: None)
    assert outcome() == quick
