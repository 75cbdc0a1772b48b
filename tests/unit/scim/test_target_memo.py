"""resolve_target remembers each (type, path): the same answers as resolving anew, errors
raised every time, bounded, and never an answer for another type that came to share an id."""

from __future__ import annotations

import pytest

from gateway.errors import ScimError
from gateway.scim import target as targets
from gateway.scim.path import parse_path
from gateway.scim.schema import GROUP_TYPE, USER_TYPE

PATHS = [
    "members",
    "MEMBERS",
    "urn:ietf:params:scim:schemas:core:2.0:Group:members",
    'members[value eq "a"]',
    'members[value eq "a"].type',
    "members.value",
    "displayName",
    "title",
    "name.givenName",
    'emails[type eq "work"].value',
    'emails[type eq "work" and primary eq true]',
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
    "nope",
    "name.nope",
    'title[value eq "x"]',
]


def outcome(rtype, path):
    try:
        return ("ok", targets._resolve(rtype, path))
    except ScimError as err:
        return ("raised", type(err), err.detail)


@pytest.mark.parametrize("text", PATHS)
def test_remembered_targets_are_resolved_ones(text: str) -> None:
    targets._TARGETS.clear()
    path = parse_path(text)
    for rtype in (USER_TYPE, GROUP_TYPE):
        expected = outcome(rtype, path)
        for _ in range(2):  # cold, then remembered
            try:
                got = ("ok", targets.resolve_target(rtype, path))
            except ScimError as err:
                got = ("raised", type(err), err.detail)
            assert got == expected


def test_the_memo_is_bounded_and_keeps_no_errors() -> None:
    targets._TARGETS.clear()
    with pytest.raises(ScimError):
        targets.resolve_target(GROUP_TYPE, parse_path("nope"))
    assert not targets._TARGETS
    for n in range(targets._TARGETS_BOUND + 10):
        targets.resolve_target(GROUP_TYPE, parse_path(f'members[value eq "{n}"]'))
    assert 0 < len(targets._TARGETS) <= targets._TARGETS_BOUND


def test_delta_attributes_remembered_are_worked_out_ones() -> None:
    from gateway.scim import patch

    patch._DELTA_ATTRIBUTES.clear()
    members = frozenset({"members"})
    for _ in range(2):
        assert patch._delta_attributes(GROUP_TYPE, members) == (
            patch._worked_out_delta_attributes(GROUP_TYPE, members)
        )
        for rtype, names in ((USER_TYPE, members), (GROUP_TYPE, frozenset({"displayName"}))):
            with pytest.raises(ValueError, match="cannot be a delta attribute"):
                patch._delta_attributes(rtype, names)
    assert len(patch._DELTA_ATTRIBUTES) == 1
