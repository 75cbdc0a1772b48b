"""``deltas_only`` / ``apply_deltas``: a PATCH of delta attributes alone, without a resource.

A group PATCH of member adds answered 204 takes this path (provisioning.writes): it must give
``apply_patch``'s deltas, errors and deadline checks exactly, and ``deltas_only`` must accept
only operations after which ``apply_patch`` hands back the resource unchanged, whatever it is.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import DeadlineExceeded, ScimError
from gateway.scim.limits import Deadline, PatchLimits
from gateway.scim.patch import apply_deltas, apply_patch, deltas_only, parse_patch_request
from gateway.scim.schema import GROUP_TYPE

from .patching import body, group

MEMBERS = frozenset({"members"})
CORE = "urn:ietf:params:scim:schemas:core:2.0:Group"


def ops(*operations: dict[str, Any]) -> list:
    return parse_patch_request(body(*operations))


def member(kind: str, *ids: str, path: str = "members") -> dict[str, Any]:
    return {"op": kind, "path": path, "value": [{"value": i} for i in ids]}


# each accepted by deltas_only; some are refused by the engine (the same error both ways)
DELTAS_ONLY: list[tuple[str, list[dict[str, Any]]]] = [
    ("add", [member("add", "a")]),
    ("add several, twice", [member("add", "a", "b"), member("add", "b", "c")]),
    ("op and path in another case", [{"op": "ADD", "path": "Members", "value": [{"value": "a"}]}]),
    ("URN-qualified path", [member("add", "a", path=f"{CORE}:members")]),
    ("one member object", [{"op": "add", "path": "members", "value": {"value": "a"}}]),
    ("remove listed", [member("remove", "a")]),
    ("remove by filter", [{"op": "remove", "path": 'members[value eq "a" or value eq "b"]'}]),
    ("remove all, then add", [{"op": "remove", "path": "members"}, member("add", "a")]),
    ("replace, then remove", [member("replace", "a", "b"), member("remove", "a")]),
    ("add then remove the same", [member("add", "a"), member("remove", "a")]),
    ("member without value", [{"op": "add", "path": "members", "value": [{"type": "User"}]}]),
    ("member not an object", [{"op": "add", "path": "members", "value": ["a"]}]),
    ("a string for members", [{"op": "add", "path": "members", "value": "x"}]),
    ("add with a filter", [{"op": "add", "path": 'members[value eq "a"]', "value": {}}]),
    ("remove with another filter", [{"op": "remove", "path": 'members[type eq "User"]'}]),
    ("sub-attribute after a filter", [{"op": "remove", "path": 'members[value eq "a"].type'}]),
    (
        "second operation refused",
        [member("add", "a"), {"op": "add", "path": "members", "value": [1]}],
    ),
]

NOT_DELTAS_ONLY: list[tuple[str, list[dict[str, Any]]]] = [
    (
        "another attribute too",
        [member("add", "a"), {"op": "replace", "path": "displayName", "value": "x"}],
    ),
    ("no path", [{"op": "add", "value": {"members": [{"value": "a"}]}}]),
    ("members.value", [{"op": "add", "path": "members.value", "value": "a"}]),
    ("unknown attribute", [{"op": "add", "path": "nope", "value": "a"}]),
    ("read-only id", [{"op": "replace", "path": "id", "value": "a"}]),
    ("extension URN", [{"op": "add", "path": "urn:example:ext:1.0:Group", "value": {}}]),
]


def outcome(call: Any) -> Any:
    try:
        return ("ok", call())
    except (ScimError, ValueError) as err:
        return ("raised", type(err), getattr(err, "detail", str(err)))


@pytest.mark.parametrize("operations", [c[1] for c in DELTAS_ONLY], ids=[c[0] for c in DELTAS_ONLY])
def test_deltas_alone_give_what_apply_patch_gives(operations: list[dict[str, Any]]) -> None:
    parsed = ops(*operations)
    assert deltas_only(parsed, GROUP_TYPE, MEMBERS)
    stored = group(members=[{"value": "stale"}], externalId="x1")
    general = outcome(lambda: apply_patch(stored, parsed, GROUP_TYPE, delta_attributes=MEMBERS))
    alone = outcome(lambda: apply_deltas(parsed, GROUP_TYPE, delta_attributes=MEMBERS))
    if general[0] == "ok":
        assert general[1].resource == stored  # handed back unchanged, whatever it holds
        assert alone == ("ok", general[1].deltas)
    else:
        assert alone == general


@pytest.mark.parametrize(
    "operations", [c[1] for c in NOT_DELTAS_ONLY], ids=[c[0] for c in NOT_DELTAS_ONLY]
)
def test_anything_else_is_left_to_apply_patch(operations: list[dict[str, Any]]) -> None:
    assert not deltas_only(ops(*operations), GROUP_TYPE, MEMBERS)


def test_apply_deltas_refuses_an_operation_that_is_no_delta() -> None:
    parsed = ops({"op": "replace", "path": "displayName", "value": "x"})
    with pytest.raises(ValueError, match="not a delta"):
        apply_deltas(parsed, GROUP_TYPE, delta_attributes=MEMBERS)


def test_the_same_caps_and_deadline_checks() -> None:
    parsed = ops(member("add", "a", "b", "c"))
    capped = PatchLimits(max_values=2)
    assert outcome(
        lambda: apply_deltas(parsed, GROUP_TYPE, delta_attributes=MEMBERS, limits=capped)
    ) == outcome(
        lambda: apply_patch(group(), parsed, GROUP_TYPE, delta_attributes=MEMBERS, limits=capped)
    )
    too_many = PatchLimits(max_operations=0)
    assert outcome(
        lambda: apply_deltas(parsed, GROUP_TYPE, delta_attributes=MEMBERS, limits=too_many)
    ) == outcome(
        lambda: apply_patch(group(), parsed, GROUP_TYPE, delta_attributes=MEMBERS, limits=too_many)
    )
    stages: dict[str, list[str]] = {"general": [], "alone": []}

    def counting(name: str) -> PatchLimits:
        class Recording(Deadline):
            def check(self, stage: str) -> None:
                stages[name].append(stage)

        return PatchLimits(deadline=Recording(60, 1e18))

    apply_patch(group(), parsed, GROUP_TYPE, delta_attributes=MEMBERS, limits=counting("general"))
    apply_deltas(parsed, GROUP_TYPE, delta_attributes=MEMBERS, limits=counting("alone"))
    assert stages["alone"] == stages["general"] and len(stages["alone"]) == 2
    past = PatchLimits(deadline=Deadline(1, 0.0))
    with pytest.raises(DeadlineExceeded):
        apply_deltas(parsed, GROUP_TYPE, delta_attributes=MEMBERS, limits=past)
