"""A big group's full GET rendered as it is sent: the members a batch at a time.

A group of 100,000 members made one list of 100,000 member dicts, then one JSON body of
14 MB, then copies of it on the way to the socket. Here the resource without its members is
rendered as usual, and the members follow in batches of :data:`BATCH` items, each made from
the refs read (``MemberList``), rendered by the same functions as any resource (``$ref`` made
absolute, the projection applied) and written as JSON, then dropped: the bytes sent are those
the whole body would have held, and what exists at once is one batch.

Everything that may fail with a SCIM error (the directory, decoding its answer, classifying
the members) has happened before the first chunk is made; a chunk is pure rendering of values
already read. The front door (``gateway.frontdoor.bridge``) sends the chunks with chunked
transfer encoding, waiting for the client to take each one before the next is made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from flask import Response

from gateway.provisioning.membership import MemberList
from gateway.web.wire import SCIM_JSON, dumps

MIN_MEMBERS = 2000
"""A group with fewer members is rendered whole (one write with Content-Length, as any
response): about 250 KB of JSON."""
BATCH = 2000
"""Members rendered per chunk (about 250 KB of JSON)."""
MEMBERS = "members"

Render = Callable[[dict[str, Any]], dict[str, Any]]
"""A resource (or part of one) → what the response shows of it (absolute URLs, projection)."""


def streamable(resource: dict[str, Any]) -> bool:
    """Whether ``resource`` is a group to stream: many members, listed last (so the body is
    the rest of the resource with the members appended, as the whole one would be written)."""
    members = resource.get(MEMBERS)
    return (
        isinstance(members, MemberList)
        and len(members) >= MIN_MEMBERS
        and next(reversed(resource)) == MEMBERS
    )


def chunks(resource: dict[str, Any], render: Render) -> Iterator[bytes]:
    """The JSON of ``render(resource)``, byte for byte, in pieces; ``resource`` ends with
    ``members`` (:func:`streamable`). The first piece is made now (any error is raised to the
    caller, before a response exists); the others as the iterator is read."""
    members: MemberList = resource.pop(MEMBERS)
    head = dumps(render(resource))
    first = _batch(members, 0, render)
    if first is None:  # the projection leaves no part of any member: no "members" at all
        return iter((head,))
    opening = head[:-1] + (b"," if len(head) > 2 else b"") + b'"members":['
    return _rest(opening + first, members, render)


def _rest(first: bytes, members: MemberList, render: Render) -> Iterator[bytes]:
    yield first
    for start in range(BATCH, len(members), BATCH):
        piece = _batch(members, start, render)
        if piece is not None:
            yield b"," + piece
    yield b"]}"


def _batch(members: MemberList, start: int, render: Render) -> bytes | None:
    """Members ``start`` to ``start + BATCH`` as shown, without the brackets; None if the
    projection shows nothing of them (every member item has the same parts, so then of none)."""
    shown = render({MEMBERS: members[start : start + BATCH]}).get(MEMBERS)
    if not shown:
        return None
    return dumps(shown)[1:-1]


def streamed_response(body: Iterator[bytes], headers: dict[str, str]) -> Response:
    """A 200 whose body is ``body``, sent as it comes (no Content-Length)."""
    resp = Response(body, status=200, content_type=f"{SCIM_JSON}; charset=utf-8")
    for key, value in headers.items():
        resp.headers[key] = value
    return resp
