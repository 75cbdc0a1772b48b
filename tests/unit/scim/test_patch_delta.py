"""Delta attributes: member changes recorded as ValueDelta, the resource left untouched."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import InvalidFilter, InvalidPath, InvalidValue, ScimError
from gateway.scim.delta import ValueDelta
from gateway.scim.patch import apply_patch

from .patching import GROUP_TYPE, USER_TYPE, group, run

MEMBERS = frozenset({"members"})


def delta(*operations: dict[str, Any]) -> ValueDelta:
    result = run(group(), *operations, rtype=GROUP_TYPE, delta=MEMBERS)
    assert result.resource == group()
    return result.deltas["members"]


def v(*ids: str) -> tuple[dict[str, str], ...]:
    return tuple({"value": i} for i in ids)


ADD = "add"
REMOVE = "remove"
REPLACE = "replace"


def op(kind: str, *ids: str, path: str = "members") -> dict[str, Any]:
    return {"op": kind, "path": path, "value": [{"value": i} for i in ids]}


SEQUENCES: list[tuple[str, list[dict[str, Any]], ValueDelta]] = [
    ("add", [op(ADD, "a", "b")], ValueDelta(add=v("a", "b"))),
    ("add dedupes by value", [op(ADD, "a", "a"), op(ADD, "a")], ValueDelta(add=v("a"))),
    ("remove listed", [op(REMOVE, "a")], ValueDelta(remove=v("a"))),
    (
        "remove by filter",
        [{"op": "remove", "path": 'members[value eq "a"]'}],
        ValueDelta(remove=v("a")),
    ),
    (
        "remove by or-ed filter",
        [{"op": "remove", "path": 'members[value eq "a" or value eq "b" or VALUE EQ "c"]'}],
        ValueDelta(remove=v("a", "b", "c")),
    ),
    ("remove without value empties", [{"op": "remove", "path": "members"}], ValueDelta(replace=())),
    (
        "remove with null value empties",
        [{"op": "remove", "path": "members", "value": None}],
        ValueDelta(replace=()),
    ),
    ("remove with an empty list removes nothing", [op(REMOVE)], ValueDelta()),
    ("replace", [op(REPLACE, "a", "b")], ValueDelta(replace=v("a", "b"))),
    ("replace with empty list", [op(REPLACE)], ValueDelta(replace=())),
    (
        "replace with null",
        [{"op": "replace", "path": "members", "value": None}],
        ValueDelta(replace=()),
    ),
    (
        "add then remove the same value removes it",
        [op(ADD, "a"), op(REMOVE, "a")],
        ValueDelta(remove=v("a")),
    ),
    (
        "remove then add the same value adds it",
        [op(REMOVE, "a"), op(ADD, "a")],
        ValueDelta(add=v("a")),
    ),
    (
        "replace then add folds into the replacement",
        [op(REPLACE, "a"), op(ADD, "b")],
        ValueDelta(replace=v("a", "b")),
    ),
    (
        "replace then remove folds into the replacement",
        [op(REPLACE, "a", "b"), op(REMOVE, "a", "z")],
        ValueDelta(replace=v("b")),
    ),
    (
        "add then replace forgets the add",
        [op(ADD, "x"), op(REMOVE, "y"), op(REPLACE, "a")],
        ValueDelta(replace=v("a")),
    ),
    (
        "RFC 7644 §3.5.2.2 remove all then add",
        [{"op": "remove", "path": "members"}, op(ADD, "a")],
        ValueDelta(replace=v("a")),
    ),
    (
        "no-path add of members",
        [{"op": "add", "value": {"members": [{"value": "a"}], "displayName": "Tour Guides"}}],
        ValueDelta(add=v("a")),
    ),
    (
        "one member object instead of a list",
        [{"op": "add", "path": "members", "value": {"value": "a"}}],
        ValueDelta(add=v("a")),
    ),
    (
        "member sub-attributes are kept, read-only display and null $ref dropped",
        [
            {
                "op": "add",
                "path": "members",
                "value": [{"value": "a", "type": "User", "display": "A", "$ref": None}],
            }
        ],
        ValueDelta(add=({"value": "a", "type": "User"},)),
    ),
    (
        "case-insensitive path",
        [{"op": "Add", "path": "MEMBERS", "value": [{"Value": "a"}]}],
        ValueDelta(add=v("a")),
    ),
]


@pytest.mark.parametrize(
    ("operations", "expected"), [c[1:] for c in SEQUENCES], ids=[c[0] for c in SEQUENCES]
)
def test_member_operations_compose_into_one_delta(
    operations: list[dict], expected: ValueDelta
) -> None:
    assert delta(*operations) == expected


def test_delta_attributes_leave_stored_members_alone_and_other_attributes_patched() -> None:
    stored = group(members=[{"value": "stale"}])
    result = run(
        stored,
        {"op": "replace", "path": "displayName", "value": "New"},
        op(ADD, "a"),
        rtype=GROUP_TYPE,
        delta=MEMBERS,
    )
    assert result.resource == group(members=[{"value": "stale"}], displayName="New")
    assert result.deltas == {"members": ValueDelta(add=v("a"))}


def test_untouched_delta_attributes_have_no_entry() -> None:
    result = run(
        group(),
        {"op": "replace", "path": "displayName", "value": "N"},
        rtype=GROUP_TYPE,
        delta=MEMBERS,
    )
    assert result.deltas == {}


ERRORS: list[tuple[str, dict[str, Any], type[ScimError], str]] = [
    (
        "add with a filter",
        {"op": "add", "path": 'members[value eq "a"]', "value": {"value": "a"}},
        InvalidFilter,
        "only filter supported on 'members'",
    ),
    (
        "remove with a non-identity filter",
        {"op": "remove", "path": 'members[type eq "User"]'},
        InvalidFilter,
        "only filter supported",
    ),
    (
        "remove with an and filter",
        {"op": "remove", "path": 'members[value eq "a" and type eq "User"]'},
        InvalidFilter,
        "only filter supported",
    ),
    (
        "remove with a not filter",
        {"op": "remove", "path": 'members[not (value eq "a")]'},
        InvalidFilter,
        "only filter supported",
    ),
    (
        "sub-attribute path",
        {"op": "remove", "path": 'members[value eq "a"].type'},
        InvalidPath,
        "sub-attributes of 'members'",
    ),
    (
        "member without value",
        {"op": "add", "path": "members", "value": [{"type": "User"}]},
        InvalidValue,
        "needs a string 'value'",
    ),
    (
        "member that is not an object",
        {"op": "add", "path": "members", "value": ["a"]},
        InvalidValue,
        "expected an object",
    ),
]


@pytest.mark.parametrize(
    ("operation", "error", "detail"), [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS]
)
def test_unsupported_member_operations_are_rejected(
    operation: dict, error: type[ScimError], detail: str
) -> None:
    with pytest.raises(error) as caught:
        delta(operation)
    assert detail in caught.value.detail


def test_delta_attribute_must_be_a_multi_valued_attribute_with_values() -> None:
    with pytest.raises(ValueError, match="cannot be a delta attribute"):
        apply_patch(group(), [], GROUP_TYPE, delta_attributes=frozenset({"displayName"}))
    with pytest.raises(ValueError, match="cannot be a delta attribute"):
        apply_patch(group(), [], USER_TYPE, delta_attributes=frozenset({"members"}))
