"""PATCH engine rules: primary uniqueness, errors, all-or-nothing, input never mutated."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gateway.errors import InvalidPath, InvalidValue, Mutability, NoTarget, ScimError
from gateway.scim.messages import USER_SCHEMA
from gateway.scim.patch import PatchOperation, apply_patch
from gateway.scim.path import parse_path
from gateway.scim.schema import USER_TYPE

from .patching import ENTERPRISE, GROUP_TYPE, group, patched, run, user

PRIMARY: list[tuple[str, dict[str, Any], dict[str, Any], list[dict[str, Any]]]] = [
    (
        "adding a primary value clears the old primary",
        user(emails=[{"value": "a@x", "primary": True}]),
        {"op": "add", "path": "emails", "value": [{"value": "b@x", "primary": True}]},
        [{"value": "a@x", "primary": False}, {"value": "b@x", "primary": True}],
    ),
    (
        "setting primary through a filtered path clears it elsewhere",
        user(
            emails=[
                {"value": "a@x", "type": "work", "primary": True},
                {"value": "b@x", "type": "home"},
            ]
        ),
        {"op": "replace", "path": 'emails[type eq "home"].primary', "value": True},
        [
            {"value": "a@x", "type": "work", "primary": False},
            {"value": "b@x", "type": "home", "primary": True},
        ],
    ),
    (
        "string booleans are accepted for primary",
        user(emails=[{"value": "a@x", "primary": True}, {"value": "b@x"}]),
        {"op": "replace", "path": 'emails[value eq "b@x"].primary', "value": "True"},
        [{"value": "a@x", "primary": False}, {"value": "b@x", "primary": True}],
    ),
    (
        "a non-primary add leaves the primary alone",
        user(emails=[{"value": "a@x", "primary": True}]),
        {"op": "add", "path": "emails", "value": [{"value": "b@x"}]},
        [{"value": "a@x", "primary": True}, {"value": "b@x"}],
    ),
]


@pytest.mark.parametrize(
    ("stored", "operation", "emails"), [c[1:] for c in PRIMARY], ids=[c[0] for c in PRIMARY]
)
def test_primary_stays_unique(stored: dict, operation: dict, emails: list) -> None:
    assert patched(stored, operation)["emails"] == emails


ERRORS: list[tuple[str, dict[str, Any], dict[str, Any], type[ScimError], str]] = [
    (
        "unknown attribute",
        user(),
        {"op": "add", "path": "shoeSize", "value": "9"},
        InvalidPath,
        "unknown attribute 'shoeSize'",
    ),
    (
        "unknown attribute in a no-path value",
        user(),
        {"op": "add", "value": {"shoeSize": "9"}},
        InvalidPath,
        "unknown attribute 'shoeSize'",
    ),
    (
        "unknown extension schema",
        user(),
        {"op": "add", "path": "urn:x:y:1.0:User:a", "value": "9"},
        InvalidPath,
        "unknown schema 'urn:x:y:1.0:User'",
    ),
    (
        "unknown sub-attribute",
        user(),
        {"op": "add", "path": "name.nick", "value": "x"},
        InvalidPath,
        "unknown sub-attribute 'nick' of 'name'",
    ),
    (
        "unknown sub-attribute in a filter",
        user(),
        {"op": "remove", "path": 'emails[kind eq "w"]'},
        InvalidPath,
        "unknown sub-attribute 'kind' of 'emails'",
    ),
    (
        "filter on a single-valued attribute",
        user(),
        {"op": "remove", "path": 'name[givenName eq "x"]'},
        InvalidPath,
        "'name' is not multi-valued",
    ),
    (
        "sub-attribute of a multi-valued attribute without filter",
        user(),
        {"op": "replace", "path": "emails.value", "value": "x"},
        InvalidPath,
        'emails[type eq "work"].value',
    ),
    (
        "read-only id",
        user(),
        {"op": "replace", "path": "id", "value": "other"},
        Mutability,
        "'id' is read-only",
    ),
    (
        "read-only meta sub-attribute",
        user(),
        {"op": "replace", "path": "meta.created", "value": "2020-01-01T00:00:00Z"},
        Mutability,
        "'meta' is read-only",
    ),
    (
        "read-only groups",
        user(),
        {"op": "remove", "path": "groups"},
        Mutability,
        "'groups' is read-only",
    ),
    (
        "required userName removed",
        user(),
        {"op": "remove", "path": "userName"},
        Mutability,
        "'userName' is required",
    ),
    (
        "required userName replaced with null",
        user(),
        {"op": "replace", "path": "userName", "value": None},
        Mutability,
        "'userName' is required",
    ),
    (
        "immutable sub-attribute changed",
        group(members=[{"value": "m1", "type": "User"}]),
        {"op": "replace", "path": 'members[value eq "m1"].type', "value": "Group"},
        Mutability,
        "'members[value eq \"m1\"].type' is immutable",
    ),
    (
        "string expected",
        user(),
        {"op": "replace", "path": "userName", "value": 42},
        InvalidValue,
        "'userName' must be a string, got a number",
    ),
    (
        "boolean expected",
        user(),
        {"op": "replace", "path": "active", "value": "yes"},
        InvalidValue,
        "'active' must be true or false, got a string",
    ),
    (
        "object expected for complex",
        user(),
        {"op": "replace", "path": "name", "value": "Babs"},
        InvalidValue,
        "'name' is complex: expected an object",
    ),
    (
        "object expected for values",
        user(),
        {"op": "add", "path": "emails", "value": ["a@x"]},
        InvalidValue,
        "'emails[0]' is complex: expected an object",
    ),
    (
        "boolean sub-attribute",
        user(),
        {"op": "add", "path": "emails", "value": [{"value": "a", "primary": "maybe"}]},
        InvalidValue,
        "'emails[0].primary' must be true or false",
    ),
    (
        "two primaries in one value list",
        user(),
        {
            "op": "replace",
            "path": "emails",
            "value": [{"value": "a", "primary": True}, {"value": "b", "primary": True}],
        },
        InvalidValue,
        "more than one value of 'emails' has primary",
    ),
    (
        "primary set on two matched values",
        user(emails=[{"value": "a", "type": "work"}, {"value": "b", "type": "work"}]),
        {"op": "replace", "path": 'emails[type eq "work"].primary', "value": True},
        InvalidValue,
        "would make 2 values",
    ),
    (
        "replace whole values with no match",
        user(),
        {"op": "replace", "path": 'emails[type eq "home"]', "value": {"value": "h@x"}},
        NoTarget,
        "no value of 'emails[type eq \"home\"]' matches",
    ),
    (
        "replace sub-attribute, no match, filter not an equality",
        user(),
        {"op": "replace", "path": 'emails[value ew "@x"].type', "value": "work"},
        NoTarget,
        "can only be created from a filter",
    ),
    (
        "remove by a non-identity filter with no match",
        user(),
        {"op": "remove", "path": 'emails[type eq "home"]'},
        NoTarget,
        "matches the filter",
    ),
    (
        "extension value that is not an object",
        user(),
        {"op": "add", "value": {ENTERPRISE: "x"}},
        InvalidValue,
        "must be a JSON object",
    ),
    (
        "dotted key naming nothing",
        user(),
        {"op": "replace", "value": {"name.nope": "x"}},
        InvalidPath,
        "unknown sub-attribute 'nope'",
    ),
    (
        "malformed no-path key",
        user(),
        {"op": "replace", "value": {"name..x": "x"}},
        InvalidPath,
        "attribute name 'name..x' in 'value'",
    ),
    (
        "read-only sub-attribute through a filter",
        group(members=[{"value": "m1"}]),
        {"op": "add", "path": 'members[value eq "m1"].display', "value": "M"},
        Mutability,
        "'members.display' is read-only",
    ),
    (
        "read-only sub-attribute through a filter, nothing matching",
        group(),
        {"op": "add", "path": 'members[value eq "m1"].display', "value": "M"},
        Mutability,
        "'members.display' is read-only",
    ),
]


@pytest.mark.parametrize(
    ("stored", "operation", "error", "detail"), [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS]
)
def test_patch_errors(stored: dict, operation: dict, error: type[ScimError], detail: str) -> None:
    rtype = GROUP_TYPE if stored["schemas"][0].endswith("Group") else USER_TYPE
    with pytest.raises(error) as caught:
        run(stored, operation, rtype=rtype)
    assert caught.value.detail.startswith("Operations[0]: ")
    assert detail in caught.value.detail


def test_the_input_resource_is_never_mutated() -> None:
    stored = {
        **user(emails=[{"value": "a@x", "type": "work", "primary": True}], name={"givenName": "B"}),
        ENTERPRISE: {"manager": {"value": "m"}},
    }
    before = copy.deepcopy(stored)
    result = run(
        stored,
        {"op": "replace", "path": 'emails[type eq "work"].value', "value": "b@x"},
        {"op": "add", "path": "emails", "value": [{"value": "c@x", "primary": True}]},
        {"op": "remove", "path": "name.givenName"},
        {"op": "replace", "path": f"{ENTERPRISE}:manager.value", "value": "n"},
    )
    assert stored == before
    assert result.resource["emails"][0] == {"value": "b@x", "type": "work", "primary": False}


def test_a_failing_operation_fails_the_whole_patch() -> None:
    stored = user(displayName="Babs")
    before = copy.deepcopy(stored)
    with pytest.raises(InvalidPath) as caught:
        run(
            stored,
            {"op": "replace", "path": "displayName", "value": "Changed"},
            {"op": "add", "path": "nickName", "value": "B"},
            {"op": "replace", "path": "nope", "value": "x"},
        )
    assert caught.value.detail == "Operations[2]: unknown attribute 'nope'"
    assert stored == before


def test_operations_apply_in_order() -> None:
    result = patched(
        user(),
        {"op": "add", "path": "title", "value": "A"},
        {"op": "replace", "path": "title", "value": "B"},
        {"op": "remove", "path": "title"},
        {"op": "add", "path": "title", "value": "C"},
    )
    assert result["title"] == "C"


def test_apply_patch_accepts_operations_built_in_code() -> None:
    operations = [PatchOperation("replace", parse_path("displayName"), "X")]
    assert apply_patch(user(), operations, USER_TYPE).resource == user(displayName="X")


def test_remove_without_path_built_in_code_is_no_target() -> None:
    with pytest.raises(NoTarget, match="needs a 'path'"):
        apply_patch(user(), [PatchOperation("remove", None)], USER_TYPE)


def test_schemas_gain_the_extension_urn_once() -> None:
    stored = {**user(), "schemas": [USER_SCHEMA, ENTERPRISE], ENTERPRISE: {"division": "D"}}
    result = patched(stored, {"op": "add", "path": f"{ENTERPRISE}:department", "value": "R"})
    assert result["schemas"] == [USER_SCHEMA, ENTERPRISE]
    assert result[ENTERPRISE] == {"division": "D", "department": "R"}


def test_errors_keep_their_status_and_scim_type() -> None:
    with pytest.raises(NoTarget) as caught:
        run(user(), {"op": "remove", "path": 'emails[type eq "home"]'})
    assert (caught.value.status, caught.value.scim_type) == (400, "noTarget")
    with pytest.raises(Mutability) as mutability:
        run(user(), {"op": "remove", "path": "userName"})
    assert (mutability.value.status, mutability.value.scim_type) == (400, "mutability")
