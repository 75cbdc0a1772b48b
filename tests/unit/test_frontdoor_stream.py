"""The front door's streamed responses on their own (no sockets): a GET answer without
Content-Length is sent chunk by chunk as the app's iterable gives them; a client gone or not
reading ends it, and the app's iterable is closed either way."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

from gateway.frontdoor.bridge import FrontDoor, Limits, Stream, wsgi_environ


def scope(method: str = "GET", http_version: str = "1.1") -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": "/scim/v2/Groups/x",
        "raw_path": b"/scim/v2/Groups/x",
        "query_string": b"",
        "headers": [],
        "server": ("127.0.0.1", 8080),
        "client": ("127.0.0.1", 5555),
        "scheme": "http",
        "http_version": http_version,
    }


class Body:
    """The app's body: ``count`` chunks, recording which threads made them and its close."""

    def __init__(self, count: int, fail_at: int | None = None) -> None:
        self.count = count
        self.fail_at = fail_at
        self.made = 0
        self.threads: set[str] = set()
        self.closed = threading.Event()

    def __iter__(self) -> Iterator[bytes]:
        try:
            for i in range(self.count):
                if i == self.fail_at:
                    raise RuntimeError("rendering failed")
                self.made += 1
                self.threads.add(threading.current_thread().name)
                yield b"[%d]" % i
        finally:
            self.closed.set()


def app_of(body: Body, *, length: bool = False):
    def app(environ, start_response):
        headers = [("Content-Type", "application/scim+json")]
        if length:
            headers.append(("Content-Length", str(len(b"".join(Body(body.count))))))
        start_response("200 OK", headers)
        return iter(body)

    return app


async def request_done() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def receiving(gone: asyncio.Event | None = None):
    """The ASGI receive: the request, then (once ``gone`` is set) a disconnect."""
    calls = 0

    async def receive() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 1:
            return await request_done()
        if gone is None:
            await asyncio.sleep(3600)
        else:
            await gone.wait()
        return {"type": "http.disconnect"}

    return receive


class Sent:
    def __init__(self, *, stall_after: int | None = None, gone: asyncio.Event | None = None):
        self.messages: list[dict[str, Any]] = []
        self.stall_after = stall_after
        self.gone = gone

    async def __call__(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        bodies = sum(1 for m in self.messages if m["type"] == "http.response.body")
        if self.gone is not None and bodies == 2:
            self.gone.set()  # the client leaves after taking two chunks
        if self.stall_after is not None and bodies > self.stall_after:
            await asyncio.sleep(3600)  # the client takes nothing more (a full socket buffer)

    def bodies(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == "http.response.body"]


def test_an_answer_without_length_is_sent_chunk_by_chunk_made_in_pool_threads() -> None:
    body = Body(5)
    door = FrontDoor(app_of(body), Limits(threads=2))
    sent = Sent()
    asyncio.run(door(scope(), receiving(), sent))
    start = sent.messages[0]
    assert start["type"] == "http.response.start" and start["status"] == 200
    assert b"content-length" not in {k.lower() for k, _ in start["headers"]}
    bodies = sent.bodies()
    assert [m["body"] for m in bodies] == [b"[0]", b"[1]", b"[2]", b"[3]", b"[4]", b""]
    assert [m.get("more_body", False) for m in bodies] == [True] * 5 + [False]
    assert body.closed.is_set() and door.admitted == 0
    assert all(name.startswith("scim") for name in body.threads), body.threads


def test_an_answer_with_length_or_to_http_1_0_is_sent_whole_as_before() -> None:
    for length, version in ((True, "1.1"), (False, "1.0")):
        body = Body(4)
        door = FrontDoor(app_of(body, length=length), Limits(threads=1))
        sent = Sent()
        asyncio.run(door(scope(http_version=version), receiving(), sent))
        headers = {k.lower(): v for k, v in sent.messages[0]["headers"]}
        assert headers[b"content-length"] == b"12", (length, version)
        assert [m["body"] for m in sent.bodies()] == [b"[0][1][2][3]"]
        assert body.closed.is_set()


def test_a_client_gone_mid_stream_stops_the_rendering_and_frees_the_place() -> None:
    body = Body(1000)
    door = FrontDoor(app_of(body), Limits(threads=1))

    async def scenario() -> Sent:
        gone = asyncio.Event()
        sent = Sent(gone=gone)
        await asyncio.wait_for(door(scope(), receiving(gone), sent), 5)
        return sent

    sent = asyncio.run(scenario())
    assert body.closed.is_set() and door.admitted == 0
    assert body.made < 10, body.made  # not rendered to the end for nobody
    assert sent.bodies()[-1].get("more_body") is True  # never completed


def test_a_client_that_stops_reading_is_left_after_the_send_timeout() -> None:
    body = Body(1000)
    door = FrontDoor(app_of(body), Limits(threads=1, send_timeout=0.3))
    sent = Sent(stall_after=3)

    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.wait_for(door(scope(), receiving(), sent), 5)
        return loop.time() - started

    took = asyncio.run(scenario())
    assert 0.25 < took < 3, took
    assert body.closed.is_set() and door.admitted == 0 and body.made < 10


def test_a_failure_after_the_first_chunk_cuts_the_stream_without_completing_it() -> None:
    body = Body(10, fail_at=3)
    door = FrontDoor(app_of(body), Limits(threads=1))
    sent = Sent()
    asyncio.run(door(scope(), receiving(), sent))
    assert sent.messages[0]["status"] == 200
    assert [m["body"] for m in sent.bodies()] == [b"[0]", b"[1]", b"[2]"]
    assert all(m.get("more_body") for m in sent.bodies())  # no final chunk: a cut body
    assert body.closed.is_set() and door.admitted == 0


def test_a_failure_before_the_first_chunk_is_still_an_error_response() -> None:
    body = Body(10, fail_at=0)
    door = FrontDoor(app_of(body), Limits(threads=1))
    sent = Sent()
    asyncio.run(door(scope(), receiving(), sent))
    assert sent.messages[0]["status"] == 500
    assert sent.bodies()[-1].get("more_body", False) is False
    assert body.closed.is_set() and door.admitted == 0


def test_call_wsgi_hands_back_the_first_chunk_and_the_rest_to_come() -> None:
    body = Body(3)
    door = FrontDoor(app_of(body), Limits(threads=1))
    status, _, answer = door._call_wsgi(wsgi_environ(scope(), b""))
    assert status == 200 and isinstance(answer, Stream)
    assert answer.first == b"[0]" and body.made == 1  # the rest not made yet
    assert answer.drain() == b"[0][1][2]"
    answer.close()
    assert body.closed.is_set()
