"""A big group's body rendered in pieces (gateway/web/stream.py): the same bytes as the body
rendered whole, for every projection of its members, and one batch made at a time."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from gateway.provisioning.membership import MemberList
from gateway.provisioning.references import Ref
from gateway.scim.projection import Projection, apply_projection, parse_projection
from gateway.scim.registry import BUILTIN
from gateway.web import stream
from gateway.web.wire import absolutize, dumps

GROUP = BUILTIN["Group"]
BASE = "https://scim.example/scim/v2"


def group(size: int) -> dict[str, Any]:
    refs = [
        Ref("Group" if i % 7 == 0 else "User", str(uuid.UUID(int=i)), f"uid=u{i},ou=x")
        for i in range(size)
    ]
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "g1",
        "displayName": 'big \u00e9 "quoted"',
        "meta": {"resourceType": "Group", "version": 'W/"1"'},
        "members": MemberList(refs),
    }


def renderer(projection: Projection):
    return lambda part: apply_projection(absolutize(part, BASE, "Groups"), GROUP, projection)


def whole(resource: dict[str, Any], projection: Projection) -> bytes:
    resource = {**resource, "members": list(resource["members"])}
    return dumps(renderer(projection)(resource))


@pytest.mark.parametrize(
    ("attributes", "excluded"),
    [
        (None, None),
        ("members.value", None),
        ("members", None),
        ("members.value,members.type,displayName", None),
        (None, "members.type"),
        (None, "displayName,members.$ref"),
        ("members.display", None),  # no member has one: no "members" at all
    ],
)
@pytest.mark.parametrize("size", [stream.MIN_MEMBERS, stream.BATCH * 2 + 1, 5 * stream.BATCH])
def test_the_pieces_are_the_whole_body_byte_for_byte(
    size: int, attributes: str | None, excluded: str | None
) -> None:
    projection = parse_projection(GROUP, attributes, excluded)
    expected = whole(group(size), projection)
    resource = group(size)
    assert stream.streamable(resource)
    pieces = list(stream.chunks(resource, renderer(projection)))
    assert b"".join(pieces) == expected
    if b'"members"' in expected:
        assert len(pieces) == -(-size // stream.BATCH) + 1  # one per batch, then the close


def test_only_a_big_group_listing_its_members_last_is_streamed() -> None:
    assert not stream.streamable(group(stream.MIN_MEMBERS - 1))
    moved = group(stream.MIN_MEMBERS)
    moved["meta"] = moved.pop("meta")  # members no longer last
    assert not stream.streamable(moved)
    listed = group(stream.MIN_MEMBERS)
    listed["members"] = list(listed["members"])  # already a list: rendered whole
    assert not stream.streamable(listed)


def test_member_items_are_made_a_batch_at_a_time() -> None:
    made: list[int] = []

    class Counting(MemberList):
        def __getitem__(self, index: Any) -> Any:
            items = super().__getitem__(index)
            made.append(len(items))
            return items

    resource = group(3 * stream.BATCH)
    listed = resource["members"]
    resource["members"] = Counting(
        Ref(t, i, "") for t, i in zip(listed.types, listed.ids, strict=True)
    )
    pieces = stream.chunks(resource, renderer(Projection()))
    assert made == [stream.BATCH]  # the first batch, before any piece is read
    next(pieces)
    next(pieces)
    assert made == [stream.BATCH, stream.BATCH]
