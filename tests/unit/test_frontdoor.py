"""The front door's bridge on its own (no sockets): admission, deadlines, the WSGI environ."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from gateway.frontdoor.bridge import FrontDoor, Limits, resource_label, wsgi_environ


def scope(path: str = "/scim/v2/Users", method: str = "GET", headers=()) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": list(headers),
        "server": ("127.0.0.1", 8080),
        "client": ("127.0.0.1", 5555),
        "scheme": "http",
        "http_version": "1.1",
    }


def whole(body: bytes = b""):
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def never() -> dict[str, Any]:
    await asyncio.sleep(3600)
    raise AssertionError("unreachable")


class Sent:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def __call__(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    @property
    def status(self) -> int:
        return self.messages[0]["status"]

    @property
    def headers(self) -> dict[bytes, bytes]:
        return {k.lower(): v for k, v in self.messages[0]["headers"]}

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(self.messages[1]["body"])


def test_a_full_pool_and_queue_answer_429_but_never_to_healthz() -> None:
    release = threading.Event()

    def app(environ, start_response):
        release.wait(5)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ["PATH_INFO"].encode()]

    door = FrontDoor(app, Limits(threads=1, queue=1, retry_after=3))

    async def scenario() -> list[Sent]:
        sends = [Sent() for _ in range(4)]
        running = [asyncio.create_task(door(scope(), whole(), sends[i])) for i in range(2)]
        await asyncio.sleep(0.1)
        assert door.admitted == 2
        await door(scope(), whole(), sends[2])  # refused at once, nothing waits
        health = asyncio.create_task(door(scope("/healthz"), whole(), sends[3]))
        await asyncio.sleep(0.1)
        release.set()
        await asyncio.gather(*running, health)
        return sends

    sends = asyncio.run(scenario())
    assert [s.status for s in sends] == [200, 200, 429, 200]
    assert sends[2].headers[b"retry-after"] == b"3"
    assert sends[2].body["status"] == "429"
    assert door.admitted == 0


def test_a_body_not_sent_in_time_is_408_and_one_too_large_413() -> None:
    door = FrontDoor(lambda e, s: [], Limits(body_timeout=0.2, max_body=10))
    late, large, chunked = Sent(), Sent(), Sent()

    async def scenario() -> None:
        await door(scope(method="POST"), never, late)
        headers = [(b"content-length", b"11")]
        await door(scope(method="POST", headers=headers), never, large)
        await door(scope(method="POST"), whole(b"x" * 11), chunked)

    asyncio.run(scenario())
    assert late.status == 408 and late.headers[b"connection"] == b"close"
    assert large.status == 413 and large.body["scimType"] == "tooLarge"
    assert chunked.status == 413


def test_the_environ_holds_the_buffered_body_and_drops_ambiguous_headers() -> None:
    headers = [
        (b"content-type", b"application/scim+json"),
        (b"transfer-encoding", b"chunked"),
        (b"x-forwarded-for", b"192.0.2.1"),
        (b"x_forwarded_for", b"198.51.100.9"),  # would alias X-Forwarded-For: dropped
        (b"accept", b"a"),
        (b"accept", b"b"),
    ]
    environ = wsgi_environ(scope("/scim/v2/Users/%C3%A9%0A", "POST", headers), b"{}")
    assert environ["PATH_INFO"] == "/scim/v2/Users/é\n".encode().decode("latin-1")
    assert environ["CONTENT_LENGTH"] == "2" and environ["wsgi.input"].read() == b"{}"
    assert environ["CONTENT_TYPE"] == "application/scim+json"
    assert "HTTP_TRANSFER_ENCODING" not in environ
    assert environ["HTTP_X_FORWARDED_FOR"] == "192.0.2.1"
    assert environ["HTTP_ACCEPT"] == "a,b"
    assert environ["REMOTE_ADDR"] == "127.0.0.1"


def test_the_environ_is_the_same_once_header_names_are_known() -> None:
    headers = [
        (b"Content-Type", b"text/plain"),
        (b"content-type", b"application/scim+json"),  # repeated: the last one, not joined
        (b"X-Request-Id", b"abc"),
        (b"Content-Length", b"2"),  # the buffered body's length is what counts
        (b"x_request_id", b"forged"),
        (b"X-Odd-\xe9", b"\xe9"),  # latin-1 both ways, as before
    ]
    first = wsgi_environ(scope("/scim/v2/Users", "POST", headers), b"{}")
    again = wsgi_environ(scope("/scim/v2/Users", "POST", headers), b"{}")
    for environ in (first, again):
        assert environ["CONTENT_TYPE"] == "application/scim+json"
        assert environ["HTTP_X_REQUEST_ID"] == "abc"
        assert environ["CONTENT_LENGTH"] == "2"
        assert environ["HTTP_X_ODD_\xc9"] == "\xe9"
        assert "HTTP_CONTENT_TYPE" not in environ and "HTTP_CONTENT_LENGTH" not in environ
    assert {k: v for k, v in first.items() if k != "wsgi.input"} == {
        k: v for k, v in again.items() if k != "wsgi.input"
    }


def test_refusals_are_labelled_by_resource_type() -> None:
    assert resource_label("/scim/v2/Users/abc") == "User"
    assert resource_label("/scim/v2/Groups") == "Group"
    assert resource_label("/scim/v2/Schemas") == "unknown"
    assert resource_label("/metrics") == "unknown"


def test_the_asyncio_loop_still_finds_asyncios_accept_method() -> None:
    """OneAcceptPerTurn overrides a private asyncio method: fail loudly if it changes shape.
    (The workers run on uvloop since session 8; the asyncio loop stays for the comparison
    bench and tests/unit/test_frontdoor_loop.py.)"""
    import inspect

    from gateway.frontdoor.loop import asyncio_loop

    params = list(inspect.signature(asyncio.SelectorEventLoop._accept_connection).parameters)
    assert params[:6] == ["self", "protocol_factory", "sock", "sslcontext", "server", "backlog"]
    loop = asyncio_loop()
    try:

        async def echo_once() -> bytes:
            server = await asyncio.start_server(
                lambda r, w: (w.write(b"hi"), w.close()), "127.0.0.1", 0
            )
            port = server.sockets[0].getsockname()[1]
            answers = []
            for _ in range(3):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                answers.append(await reader.read())
                writer.close()
            server.close()
            return b"".join(answers)

        assert loop.run_until_complete(echo_once()) == b"hihihi"
    finally:
        loop.close()


def test_a_cancelled_request_frees_its_place_and_a_queued_one_never_runs() -> None:
    """The place is given back once the thread is done (or at once, for a request still
    queued, which then never runs), even though nobody awaits the answer any more."""
    release = threading.Event()
    ran: list[str] = []

    def app(environ, start_response):
        ran.append(environ["PATH_INFO"])
        release.wait(5)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    door = FrontDoor(app, Limits(threads=1, queue=2))

    async def scenario() -> list[int]:
        running = asyncio.create_task(door(scope("/scim/v2/Users/a"), whole(), Sent()))
        queued = asyncio.create_task(door(scope("/scim/v2/Users/b"), whole(), Sent()))
        await asyncio.sleep(0.1)
        counts = [door.admitted]
        queued.cancel()
        running.cancel()
        await asyncio.sleep(0.1)
        counts.append(door.admitted)  # the queued one is out; the running one still holds a thread
        release.set()
        for _ in range(50):  # bounded: at most 5 s
            if door.admitted == 0:
                break
            await asyncio.sleep(0.1)
        counts.append(door.admitted)
        return counts

    assert asyncio.run(scenario()) == [2, 1, 0]
    assert ran == ["/scim/v2/Users/a"]


def test_an_app_that_fails_outside_its_error_handling_is_a_500_and_frees_its_place() -> None:
    def app(environ, start_response):
        raise RuntimeError("boom")

    door = FrontDoor(app, Limits(threads=1, queue=0))
    sent = Sent()

    async def scenario() -> None:
        await door(scope(), whole(), sent)

    asyncio.run(scenario())
    assert sent.status == 500 and sent.body["detail"] == "internal error"
    assert door.admitted == 0
