"""apply_patch copies the resource it starts from with ``tree_copy``, not ``copy.deepcopy``:
for resources (trees of JSON values, with stand-ins for unresolved references) the two
must give equal copies that share nothing mutable with the original."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gateway.mapping.unresolved import Unresolved
from gateway.scim import patch
from gateway.scim.patch import apply_patch, parse_patch_request, tree_copy
from gateway.scim.schema import USER_TYPE

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

RESOURCES: list[Any] = [
    {},
    {"schemas": [USER], "id": "1", "userName": "a", "active": True, "n": 1, "x": 1.5, "z": None},
    {
        "schemas": [USER, ENTERPRISE],
        "name": {"givenName": "A", "familyName": "B"},
        "emails": [{"value": "a@example.org", "type": "work", "primary": True}, "odd"],
        ENTERPRISE: {"manager": {"value": Unresolved("uid=m,ou=People,dc=example,dc=org")}},
        "nested": [[1, [2, {"deep": [3]}]]],
    },
    [1, "two", {"three": 3}],
    ("a tuple", ["inside"]),  # not JSON: deep-copied as before
    "plain",
]


def _mutables(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [value, *(m for v in value.values() for m in _mutables(v))]
    if isinstance(value, list | tuple):
        return [value, *(m for v in value for m in _mutables(v))]
    return [value] if isinstance(value, Unresolved) else []


@pytest.mark.parametrize("resource", RESOURCES)
def test_tree_copy_equals_deepcopy_and_shares_nothing_mutable(resource: Any) -> None:
    copied = tree_copy(resource)
    assert copied == copy.deepcopy(resource)
    assert type(copied) is type(resource)
    originals = {id(m) for m in _mutables(resource) if not isinstance(m, tuple | Unresolved)}
    assert not originals & {id(m) for m in _mutables(copied)}


def test_a_dict_subclass_is_deep_copied_as_before() -> None:
    class Special(dict):
        pass

    value = {"a": Special(b=[1])}
    copied = tree_copy(value)
    assert type(copied["a"]) is Special and copied == value
    assert copied["a"]["b"] is not value["a"]["b"]


@pytest.mark.parametrize(
    "operations",
    [
        [{"op": "replace", "path": "name.givenName", "value": "Z"}],
        [{"op": "add", "path": "emails", "value": [{"value": "b@example.org", "type": "home"}]}],
        [{"op": "remove", "path": 'emails[type eq "work"]'}],
        [{"op": "replace", "value": {"name": {"familyName": "Q"}, "title": "T"}}],
        [{"op": "remove", "path": f"{ENTERPRISE}:manager"}],
    ],
)
def test_patches_come_out_as_with_deepcopy(
    operations: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    start = copy.deepcopy(RESOURCES[2])
    del start["nested"]
    start["emails"] = start["emails"][:1]
    start["userName"] = "a"
    before = copy.deepcopy(start)
    ops = parse_patch_request({"schemas": [PATCH_OP], "Operations": operations})
    fast = apply_patch(start, ops, USER_TYPE)
    with monkeypatch.context() as patched:
        patched.setattr(patch, "tree_copy", copy.deepcopy)
        slow = apply_patch(start, ops, USER_TYPE)
    assert fast == slow
    assert start == before  # the input is left as it was
