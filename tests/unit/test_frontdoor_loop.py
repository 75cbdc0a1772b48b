"""The workers' event loop (gateway/frontdoor/loop.py): uvloop, one accept per turn.

Held here: the worker names this loop (the loop tested is the loop shipped); a socket given
to ``create_server`` is served by :class:`OneAcceptServer`, which accepts exactly one
connection per call and leaves the rest to the next turn (or another worker); TLS, running
out of descriptors and ``close`` behave as asyncio's server; any other ``create_server`` call
is uvloop's own; and the front door answers a scripted conversation byte for byte the same on
uvloop as on the asyncio loop it replaced. Everything on loopback, bounded in time.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import uvloop
from support.frontdoor_server import serve
from support.tls import self_signed
from uvicorn.protocols.http.flow_control import FlowControl

from gateway.frontdoor import loop as loops
from gateway.frontdoor.loop import OneAcceptServer, UvloopOneAcceptPerTurn, new_loop
from gateway.frontdoor.protocol import CasedCycle
from gateway.frontdoor.worker import GatewayWorker


class Counting(asyncio.Protocol):
    """Says ``hi`` and closes; counts the connections made."""

    made: list[Any]

    def __init__(self, made: list[Any]) -> None:
        self.made = made

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        self.made.append(transport)
        transport.write(b"hi")
        transport.close()


def _listening() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


def _run(coro: Any) -> Any:
    loop = new_loop()
    try:
        return loop.run_until_complete(asyncio.wait_for(coro, 10))
    finally:
        loop.close()


async def _turns(n: int) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


def test_the_worker_runs_this_loop_named_explicitly() -> None:
    assert GatewayWorker.CONFIG_KWARGS["loop"] == "gateway.frontdoor.loop:new_loop"
    factory = uvicorn.Config(app=None, loop=GatewayWorker.CONFIG_KWARGS["loop"]).get_loop_factory()
    assert factory is not None
    loop = factory()
    try:
        assert type(loop) is UvloopOneAcceptPerTurn
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


def test_a_given_socket_is_served_one_connection_per_accept() -> None:
    async def scenario() -> list[int]:
        loop = asyncio.get_running_loop()
        made: list[Any] = []
        sock = _listening()
        server = await loop.create_server(lambda: Counting(made), sock=sock, backlog=8)
        assert isinstance(server, OneAcceptServer)
        loop.remove_reader(sock.fileno())  # turns driven by hand from here
        clients = [socket.create_connection(sock.getsockname()) for _ in range(3)]
        counts = []
        for _ in range(4):  # the fourth finds nothing pending
            server._accept_one()
            await _turns(5)
            counts.append(len(made))
        for client in clients:
            client.settimeout(5)
            assert client.recv(10) == b"hi"
            client.close()
        server.close()
        return counts

    assert _run(scenario()) == [1, 2, 3, 3]


def test_pending_connections_are_all_served_by_the_running_loop() -> None:
    async def scenario() -> list[bytes]:
        loop = asyncio.get_running_loop()
        sock = _listening()
        server = await loop.create_server(lambda: Counting([]), sock=sock)
        port = sock.getsockname()[1]
        pairs = [await asyncio.open_connection("127.0.0.1", port) for _ in range(5)]
        answers = [await reader.read() for reader, _ in pairs]
        for _, writer in pairs:
            writer.close()
        server.close()
        await server.wait_closed()
        return answers

    assert _run(scenario()) == [b"hi"] * 5


class NoDelay(Counting):
    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        self.made.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        transport.write(b"hi")
        transport.close()


def test_accepted_connections_have_nagle_off_as_asyncios_do() -> None:
    async def scenario() -> list[Any]:
        loop = asyncio.get_running_loop()
        made: list[Any] = []
        sock = _listening()
        server = await loop.create_server(lambda: NoDelay(made), sock=sock)
        assert isinstance(server, OneAcceptServer)
        reader, writer = await asyncio.open_connection(*sock.getsockname())
        await reader.read()
        writer.close()
        server.close()
        return made

    made = _run(scenario())
    assert len(made) == 1 and made[0] != 0


def test_close_stops_accepting_and_closes_the_socket() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        sock = _listening()
        address = sock.getsockname()
        server = await loop.create_server(lambda: Counting([]), sock=sock)
        assert server.is_serving() and server.sockets == (sock,)
        assert server.get_loop() is loop
        server.close()
        await server.wait_closed()
        assert not server.is_serving() and server.sockets == ()
        assert sock.fileno() == -1
        server._accept_one()  # a callback already queued finds nothing to do
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection(*address)

    _run(scenario())


class _OutOfDescriptors:
    """A listening socket whose first accept fails as when the process has no descriptor left."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.failures = 1

    def accept(self) -> tuple[socket.socket, Any]:
        if self.failures:
            self.failures -= 1
            raise OSError(errno.EMFILE, "Too many open files")
        return self.sock.accept()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


def test_out_of_descriptors_pauses_accepting_then_resumes(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(loops, "ACCEPT_RETRY_DELAY", 0.2)

    async def scenario() -> tuple[bytes, float]:
        loop = asyncio.get_running_loop()
        sock = _OutOfDescriptors(_listening())
        server = await loop.create_server(lambda: Counting([]), sock=sock)
        assert isinstance(server, OneAcceptServer)
        began = time.monotonic()
        reader, writer = await asyncio.open_connection(*sock.getsockname())
        answer = await reader.read()
        waited = time.monotonic() - began
        writer.close()
        server.close()
        return answer, waited

    answer, waited = _run(scenario())
    assert answer == b"hi"
    assert 0.15 < waited < 5, waited
    assert "not accepting for 0.2 s" in caplog.text


def test_other_create_server_calls_are_uvloops_own() -> None:
    async def scenario() -> bytes:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: Counting([]), "127.0.0.1", 0)
        assert not isinstance(server, OneAcceptServer)
        reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname()[:2])
        answer = await reader.read()
        writer.close()
        server.close()
        await server.wait_closed()
        return answer

    assert _run(scenario()) == b"hi"


def test_tls_connections_are_served_and_a_failed_handshake_only_drops_its_own(
    tmp_path: Path,
) -> None:
    cert, key = self_signed(tmp_path)
    served = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    served.load_cert_chain(cert, key)
    trusting = ssl.create_default_context(cafile=str(cert))

    async def scenario() -> list[bytes]:
        loop = asyncio.get_running_loop()
        sock = _listening()
        host, port = sock.getsockname()
        server = await loop.create_server(
            lambda: Counting([]), sock=sock, ssl=served, ssl_handshake_timeout=5
        )
        assert isinstance(server, OneAcceptServer)
        _, plain = await asyncio.open_connection(host, port)  # not TLS: its handshake fails
        plain.write(b"GET / HTTP/1.1\r\n\r\n")
        answers = []
        for _ in range(2):
            reader, writer = await asyncio.open_connection(host, port, ssl=trusting)
            answers.append(await reader.read())
            writer.close()
        plain.close()
        server.close()
        return answers

    assert _run(scenario()) == [b"hi", b"hi"]


# ---------------------------------------------------------------- the front door on both loops


def _app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} {environ['wsgi.input'].read()!r}"
    data = body.encode()
    start_response(
        "200 OK",
        [
            ("Content-Type", "text/plain"),
            ("X-Request-Id", "r1"),
            ("Content-Length", str(len(data))),
        ],
    )
    return [data]


@pytest.fixture
def served() -> Iterator[Any]:
    """Starts the front door on a given loop; stops every server started."""
    started: list[tuple[uvicorn.Server, threading.Thread, socket.socket]] = []

    def start(loop: str) -> int:
        sock = _listening()
        server, thread = serve(_app, sock, loop, 5.0)
        started.append((server, thread, sock))
        return sock.getsockname()[1]

    yield start
    for server, thread, sock in started:
        server.should_exit = True
        thread.join(10)
        sock.close()


CONVERSATION = [
    # two keep-alive requests in one write (pipelined), then one with a body
    b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    # a head past the 16 KiB cap: 400 and the connection closed
    b"GET /d HTTP/1.1\r\nHost: x\r\nX-Big: " + b"y" * 17000 + b"\r\n\r\n",
]


def _converse(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        heard = b""
        for message in CONVERSATION:
            conn.sendall(message)
            time.sleep(0.2)  # each answer before the next message, on either loop
        while chunk := conn.recv(65536):
            heard += chunk
    return re.sub(rb"date: [^\r]*\r\n", b"", heard)


def test_the_front_door_answers_the_same_on_uvloop_as_on_asyncio(served: Any) -> None:
    on_asyncio = _converse(served("gateway.frontdoor.loop:asyncio_loop"))
    on_uvloop = _converse(served("gateway.frontdoor.loop:new_loop"))
    assert on_uvloop == on_asyncio
    assert on_uvloop.count(b"HTTP/1.1 200 OK") == 3
    assert b"GET /b b''" in on_uvloop and b"POST /c b'hello'" in on_uvloop
    assert b"Content-Type: text/plain" in on_uvloop  # names as the app wrote them
    assert on_uvloop.count(b"HTTP/1.1 400") == 1


# ------------------------------------------- a transport closed before connection_lost is told


@pytest.mark.parametrize("factory", [loops.new_loop, loops.asyncio_loop])
def test_a_response_to_a_transport_already_closed_is_dropped_on_both_loops(factory: Any) -> None:
    """A reset closes the transport one callback before ``connection_lost`` tells uvicorn;
    asyncio's transport drops a write in between, uvloop's raises. The cycle treats that
    state as the client gone on both loops: nothing written, nothing raised."""

    async def scenario() -> tuple[bool, bool, bytes]:
        loop = asyncio.get_running_loop()
        accepted: asyncio.Future[asyncio.Transport] = loop.create_future()

        class Keep(asyncio.Protocol):
            def connection_made(self, transport: Any) -> None:  # type: ignore[override]
                accepted.set_result(transport)

        server = await loop.create_server(Keep, "127.0.0.1", 0)
        reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname()[:2])
        transport = await accepted
        cycle = CasedCycle(
            scope={"method": "GET", "type": "http"},  # type: ignore[arg-type]
            transport=transport,
            flow=FlowControl(transport),
            logger=logging.getLogger("test"),
            access_logger=logging.getLogger("test.access"),
            access_log=False,
            default_headers=[],
            message_event=asyncio.Event(),
            expect_100_continue=False,
            keep_alive=True,
            on_response=lambda: None,
        )
        headers = [(b"Content-Length", b"2")]
        await cycle.send({"type": "http.response.start", "status": 200, "headers": headers})
        transport.close()  # as the loop does on a reset; connection_lost not delivered yet
        await cycle.send({"type": "http.response.body", "body": b"ok"})
        heard = await reader.read()
        writer.close()
        server.close()
        return cycle.disconnected, cycle.response_complete, heard

    loop = factory()
    try:
        disconnected, complete, heard = loop.run_until_complete(asyncio.wait_for(scenario(), 10))
    finally:
        loop.close()
    assert disconnected and not complete
    assert heard == b""
