"""The front door's short cuts give the general path's answers.

- ``wsgi_environ`` takes a raw path without ``%`` as it is, without ``unquote_to_bytes``;
- ``CasedCycle._start`` remembers a response header name's check and lower-casing
  (``protocol._LOWERED``) instead of redoing them on every response.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

import pytest
from uvicorn.protocols.http.httptools_impl import HEADER_RE

from gateway.frontdoor import protocol
from gateway.frontdoor.bridge import wsgi_environ
from gateway.frontdoor.protocol import CasedCycle

RAW_PATHS = [
    b"/",
    b"/scim/v2/Users",
    b"/scim/v2/Users/2819c223-7f76-453a-919d-413861904646",
    b"/scim/v2/Users/a%20b",
    b"/scim/v2/Users/a%2Fb",
    b"/scim/v2/Users/%C3%A9t%C3%A9",
    b"/scim/v2/Users/%",
    b"/scim/v2/Users/%zz",
    b"/scim/v2/Groups/caf\xc3\xa9",  # raw non-ASCII bytes, no escape
    b"/a+b;c=d",
]


@pytest.mark.parametrize("raw", RAW_PATHS)
def test_path_info_is_the_unquoted_raw_path_with_or_without_escapes(raw: bytes) -> None:
    scope = {"method": "GET", "path": "/ignored", "raw_path": raw, "headers": []}
    assert wsgi_environ(scope, b"")["PATH_INFO"] == unquote_to_bytes(raw).decode("latin-1")


class _Flow:
    write_paused = False


def _cycle(method: str = "GET") -> CasedCycle:
    cycle = object.__new__(CasedCycle)
    cycle.flow = _Flow()  # type: ignore[assignment]
    cycle.disconnected = False
    cycle.response_started = False
    cycle.waiting_for_100_continue = False
    cycle.default_headers = [(b"date", b"Thu, 03 Dec 2026 10:00:00 GMT")]
    cycle.chunked_encoding = None
    cycle.keep_alive = True
    cycle.scope = {"method": method}  # type: ignore[typeddict-item]
    cycle.expected_content_length = 0
    return cycle


def _head(cycle: CasedCycle, headers: list[tuple[bytes, bytes]], status: int = 200) -> bytes:
    coroutine = cycle._start({"type": "http.response.start", "status": status, "headers": headers})
    with pytest.raises(StopIteration):
        coroutine.send(None)
    assert cycle._head is not None
    return cycle._head


HEADERS = [
    (b"Content-Type", b"application/scim+json; charset=utf-8"),
    (b"Content-Length", b"12"),
    (b"X-Request-Id", b"0123456789abcdef"),
    (b"CONNECTION", b"Keep-Alive, Close"),
]


def test_a_head_is_the_same_on_first_and_later_responses() -> None:
    protocol._LOWERED.clear()
    first_cycle, later_cycle = _cycle(), _cycle()
    first = _head(first_cycle, HEADERS)
    assert set(protocol._LOWERED) >= {name for name, _ in HEADERS}
    later = _head(later_cycle, HEADERS)
    assert (
        first
        == later
        == (
            b"HTTP/1.1 200 OK\r\ndate: Thu, 03 Dec 2026 10:00:00 GMT\r\n"
            b"Content-Type: application/scim+json; charset=utf-8\r\nContent-Length: 12\r\n"
            b"X-Request-Id: 0123456789abcdef\r\nCONNECTION: Keep-Alive, Close\r\n\r\n"
        )
    )
    for cycle in (first_cycle, later_cycle):  # decisions on names compared in lower case
        assert cycle.expected_content_length == 12
        assert cycle.chunked_encoding is False
        assert cycle.keep_alive is False


@pytest.mark.parametrize("name", [b"Bad Name", b"X-Evil\r\nSet-Cookie", b"(x)", b"a:b"])
def test_an_invalid_name_fails_every_time_and_is_not_remembered(name: bytes) -> None:
    assert HEADER_RE.search(name)  # one uvicorn refuses
    for _ in range(2):
        with pytest.raises(RuntimeError, match="Invalid HTTP header name"):
            _head(_cycle(), [(name, b"v")])
    assert name not in protocol._LOWERED


def test_an_invalid_value_fails_under_a_remembered_name() -> None:
    _head(_cycle(), [(b"X-Request-Id", b"ok")])
    assert b"X-Request-Id" in protocol._LOWERED
    with pytest.raises(RuntimeError, match="Invalid HTTP header value"):
        _head(_cycle(), [(b"X-Request-Id", b"a\r\nb")])


def test_remembered_names_are_bounded(monkeypatch: Any) -> None:
    monkeypatch.setattr(protocol, "_LOWERED", {})
    monkeypatch.setattr(protocol, "_MAX_NAMES", 3)
    names = [b"X-N%d" % i for i in range(10)]
    assert _head(_cycle(), [(name, b"v") for name in names]).count(b": v\r\n") == 10
    assert len(protocol._LOWERED) == 3
    assert all(protocol._checked_name(name) == name.lower() for name in names)
