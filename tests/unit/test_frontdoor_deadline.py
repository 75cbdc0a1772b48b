"""The header deadline over keep-alive requests, on a real uvicorn server on loopback.

:meth:`DeadlineProtocol._wait_for_headers` keeps one timer per connection across requests and
re-arms it when it fires early; these hold each request's deadline to what it was with a
timer made and cancelled per request: counted from the end of the previous response.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from support.frontdoor_server import serve

TIMEOUT = 0.6
REQUEST = b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n"


def _app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


@pytest.fixture(params=["new_loop", "asyncio_loop"])
def port(request: pytest.FixtureRequest) -> Iterator[int]:
    """The workers' loop (uvloop) and the asyncio loop it replaced: the same deadlines."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server, thread = serve(_app, sock, f"gateway.frontdoor.loop:{request.param}", TIMEOUT)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _answer(conn: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\r\n\r\nok"):
        piece = conn.recv(4096)
        assert piece, data
        data += piece
    return data


def _closed_after(conn: socket.socket, since: float) -> float:
    """Seconds from ``since`` until the server closes ``conn`` (which sends nothing more)."""
    conn.settimeout(TIMEOUT * 5)
    assert conn.recv(4096) == b""
    return time.monotonic() - since


def test_each_keep_alive_request_gets_the_whole_deadline_from_the_last_response(
    port: int,
) -> None:
    with socket.create_connection(("127.0.0.1", port)) as conn:
        # Requests spread over more than one timeout: the first timer fires mid-way, while
        # the connection is waiting for a request whose deadline is later.
        for _ in range(4):
            time.sleep(TIMEOUT / 3)
            conn.sendall(REQUEST)
            assert _answer(conn).startswith(b"HTTP/1.1 200")
        answered = time.monotonic()
        waited = _closed_after(conn, answered)
    assert TIMEOUT - 0.05 < waited < TIMEOUT + 0.4, waited


def test_an_unfinished_head_after_a_response_is_cut_at_its_own_deadline(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as conn:
        time.sleep(TIMEOUT * 0.8)  # the first timer is due soon after the response
        conn.sendall(REQUEST)
        _answer(conn)
        answered = time.monotonic()
        conn.sendall(b"GET /x HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        waited = _closed_after(conn, answered)
    assert TIMEOUT - 0.05 < waited < TIMEOUT + 0.4, waited


def test_a_silent_connection_is_closed_at_the_deadline(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as conn:
        waited = _closed_after(conn, time.monotonic())
    assert TIMEOUT - 0.05 < waited < TIMEOUT + 0.4, waited
