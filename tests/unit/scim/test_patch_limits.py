"""PATCH work is linear, capped and stopped at a deadline (issue 12, item 4).

The engine used to copy and re-index an attribute's whole value list for every operation
(n operations on one attribute cost n²). These tests count the work instead of timing it,
so they fail on a quadratic engine whatever the machine's speed; the e2e suite times it.
"""

from __future__ import annotations

import copy
import itertools
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import (
    DeadlineExceeded,
    InvalidValue,
    ScimError,
    ServiceUnavailable,
    TooMany,
)
from gateway.scim import valueindex
from gateway.scim.limits import Deadline, PatchLimits
from gateway.scim.patch import apply_patch, parse_patch_request
from gateway.scim.valueindex import ValueIndex

from ..test_input_limits import time_limit
from .patching import GROUP_TYPE, USER_TYPE, body, group, user

MEMBERS = frozenset({"members"})


def add_emails(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {"op": "add", "path": "emails", "value": [{"value": f"{i}@example.org", "type": "work"}]}
        for i in range(start, start + count)
    ]


def apply(resource: dict[str, Any], ops: list[dict[str, Any]], limits: PatchLimits, **kw: Any):
    return apply_patch(
        resource, parse_patch_request(body(*ops), limits), USER_TYPE, limits=limits, **kw
    )


# ------------------------------------------------------------------------ linear work


def identities_computed(monkeypatch: pytest.MonkeyPatch, operations: int) -> int:
    """How many value identities one PATCH of ``operations`` email adds computes."""
    calls = itertools.count()
    real = valueindex.value_key

    def counting(attr: Any, value: Any) -> Any:
        next(calls)
        return real(attr, value)

    monkeypatch.setattr(valueindex, "value_key", counting)
    stored = [{"value": f"old{i}@example.org", "type": "home"} for i in range(50)]
    with time_limit(10.0):  # a quadratic engine fails here quickly instead of taking minutes
        apply(user(emails=stored), add_emails(operations), PatchLimits())
    return next(calls)


def test_work_per_operation_does_not_grow_with_the_attribute(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    small = identities_computed(monkeypatch, 500)
    large = identities_computed(monkeypatch, 2000)
    # linear: 4x the operations, about 4x the identities (n² would be 16x)
    assert large <= 4.5 * small, (small, large)


def test_four_thousand_adds_take_well_under_a_second() -> None:
    started = time.perf_counter()
    with time_limit(5.0):
        result = apply(user(), add_emails(4000), PatchLimits())
    elapsed = time.perf_counter() - started
    assert len(result.resource["emails"]) == 4000
    assert elapsed < 1.0, f"{elapsed:.2f}s"  # ~0.1 s; the quadratic engine needed 20-50 s


def test_listed_removes_between_adds_keep_order_and_stay_linear(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ops: list[dict[str, Any]] = []
    for i in range(0, 300, 3):
        ops += add_emails(3, i)
        ops.append({"op": "remove", "path": "emails", "value": [{"value": f"{i + 1}@example.org"}]})
    emails = apply(user(), ops, PatchLimits()).resource["emails"]
    kept = [e["value"] for e in emails]
    assert kept == [f"{i}@example.org" for i in range(300) if i % 3 != 1]


def test_a_filtered_operation_after_indexed_adds_sees_them() -> None:
    ops = [
        *add_emails(3),
        {"op": "replace", "path": 'emails[value eq "1@example.org"].display', "value": "one"},
        *add_emails(1, 3),
    ]
    emails = apply(user(), ops, PatchLimits()).resource["emails"]
    assert [e.get("display") for e in emails] == [None, "one", None, None]


# ------------------------------------------------------------------------ caps


def test_more_operations_than_the_cap_are_refused_before_any_is_parsed() -> None:
    limits = PatchLimits(max_operations=10)
    parse_patch_request(body(*add_emails(10)), limits)
    bad = body(*add_emails(10), {"op": "bogus"})  # the 11th would be a syntax error
    with pytest.raises(TooMany, match=r"holds 11 operations; .* at most 10"):
        parse_patch_request(bad, limits)


def test_values_accumulated_past_the_cap_are_refused_and_the_input_is_untouched() -> None:
    resource = user(emails=[{"value": "kept@example.org", "type": "work"}])
    before = copy.deepcopy(resource)
    limits = PatchLimits(max_values=5)
    assert len(apply(resource, add_emails(4), limits).resource["emails"]) == 5
    with pytest.raises(TooMany, match=r"'emails' would hold 6 values; .* at most 5"):
        apply(resource, add_emails(5), limits)
    assert resource == before


def test_one_operation_with_too_many_values_is_refused() -> None:
    value = [{"value": f"{i}@example.org"} for i in range(6)]
    with pytest.raises(TooMany, match="at most 5"):
        apply(user(), [{"op": "replace", "path": "emails", "value": value}], PatchLimits(None, 5))


def test_member_values_named_by_one_patch_are_capped() -> None:
    limits = PatchLimits(max_values=3)
    ops = [{"op": "add", "path": "members", "value": [{"value": f"id{i}"}]} for i in range(4)]
    parsed = parse_patch_request(body(*ops), limits)
    with pytest.raises(TooMany, match=r"names 4 values of 'members'; .* at most 3"):
        apply_patch(group(), parsed, GROUP_TYPE, delta_attributes=MEMBERS, limits=limits)
    result = apply_patch(group(), parsed[:3], GROUP_TYPE, delta_attributes=MEMBERS, limits=limits)
    assert len(result.deltas["members"].add) == 3


# ------------------------------------------------------------------------ deadline


class FakeClock:
    """A clock that advances one second each time it is read."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_an_expired_deadline_stops_the_patch_between_operations() -> None:
    resource = user()
    deadline = Deadline.after(5, FakeClock())  # started at 1 s: expired at the 5th check
    with pytest.raises(DeadlineExceeded) as caught:
        apply(resource, add_emails(100), PatchLimits(deadline=deadline))
    assert isinstance(caught.value, ServiceUnavailable)  # 503 with Retry-After
    assert caught.value.status == 503
    assert "within its 5 s deadline (applying PATCH operation 5 of 100)" in caught.value.detail
    assert "nothing was changed" in caught.value.detail
    assert "emails" not in resource


def test_a_deadline_not_reached_changes_nothing_in_the_result() -> None:
    limits = PatchLimits(deadline=Deadline.after(60))
    assert len(apply(user(), add_emails(50), limits).resource["emails"]) == 50


# ------------------------------------------------------------------------ the index


def test_value_index_keeps_primary_unique_and_packs_removals() -> None:
    attr = USER_TYPE.schema.attribute("emails")
    assert attr is not None
    index = ValueIndex(
        attr,
        [
            {"value": "a@x", "primary": True},
            {"value": "b@x"},
            {"value": "A@X"},  # same identity as a@x (emails are case-insensitive)
        ],
    )
    assert index.find(valueindex.identity(attr, {"value": "a@x"})) == 0
    slot = index.append(
        valueindex.identity(attr, {"value": "c@x"}), {"value": "c@x", "primary": True}
    )
    index.settle_primary([slot])
    assert index.remove(valueindex.identity(attr, {"value": "a@x"}))  # both a@x and A@X
    assert not index.remove(valueindex.identity(attr, {"value": "zz@x"}))
    assert index.values() == [{"value": "b@x"}, {"value": "c@x", "primary": True}]
    assert index.count == 2


def test_two_primaries_written_by_one_add_are_refused() -> None:
    value = [{"value": "a@x", "primary": True}, {"value": "b@x", "primary": True}]
    with pytest.raises(InvalidValue, match="primary"):
        apply(user(), [{"op": "add", "path": "emails", "value": value}], PatchLimits())


# ------------------------------------------------ the index across operations (property)

_VALUES = st.sampled_from(["a@x", "b@x", "A@X", "c@x"])
_ITEM = st.fixed_dictionaries(
    {"value": _VALUES},
    optional={"type": st.sampled_from(["work", "home"]), "primary": st.booleans()},
)
_OPERATION = st.one_of(
    st.builds(lambda v: {"op": "add", "path": "emails", "value": v}, st.lists(_ITEM, max_size=3)),
    st.builds(lambda v: {"op": "remove", "path": "emails", "value": [{"value": v}]}, _VALUES),
    st.builds(
        lambda v, d: {"op": "replace", "path": f'emails[value eq "{v}"].display', "value": d},
        _VALUES,
        st.sampled_from(["one", "two"]),
    ),
    st.builds(
        lambda v: {"op": "replace", "path": "emails", "value": v}, st.lists(_ITEM, max_size=2)
    ),
)


def _outcome(resource: dict[str, Any], ops: list[dict[str, Any]]) -> Any:
    try:
        return apply(resource, ops, PatchLimits()).resource
    except ScimError as err:
        return type(err)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(ops=st.lists(_OPERATION, min_size=1, max_size=10))
def test_one_patch_equals_its_operations_applied_one_at_a_time(ops: list[dict[str, Any]]) -> None:
    """The value index lives across the operations of one PATCH; a PATCH per operation
    builds and writes it back each time. Both must end in the same resource (or error)."""
    start = user(emails=[{"value": "b@x", "type": "work", "primary": True}])
    together = _outcome(start, ops)
    step: Any = start
    for op in ops:
        step = _outcome(step, [op])
        if not isinstance(step, dict):
            break
    assert together == step
