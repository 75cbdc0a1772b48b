"""The workers' event loop: uvloop, accepting one connection per turn.

**Why uvloop.** A served request's event-loop side (httptools parsing, the hand-over to a pool
thread and back, the write) is the same fixed work for every request. On uvloop (libuv, in C;
the loop uvicorn itself prefers when it is installed) that side costs less CPU than on
asyncio's selector loop: a trivial WSGI app behind the front door, 2 workers, 4,000 keep-alive
requests, eight rounds alternated (``bench/frontdoor_loop.py``), server CPU per request
335 (308-422) -> 272 (228-312) us with 8 clients (paired 0.69-0.89, median 0.76) and
487 (440-577) -> 383 (327-587) us with one (paired median 0.76; docs/performance.md,
"Session 8: the front door's loop").

**Why one accept per turn.** All workers wait on the one listening socket gunicorn opened.
asyncio's loop accepts up to 100 connections each time that socket turns readable, so when a
client opens several connections at once (a load balancer's pool, the benchmark's eight
clients) the first worker to wake took them all and the other sat idle: measured with 2
workers and 8 keep-alive clients, reads ran at 0.4x the rate of gunicorn's gthread workers.
Accepting one connection per turn lets every woken worker take its share (the listening
socket stays readable, so nothing waits longer than one turn of the loop).

libuv has accepted one connection per readiness event since 1.45 (``uv__server_io``; the
``UV_TCP_SINGLE_ACCEPT`` setting went away with the accept loop it throttled), but its turn
is so short that the worker that wakes first still takes more than its share: bursts of 8
connections, the most one worker took, mean 5.5-6.7 on uvloop's own accept against 5.0-5.8 on
asyncio's one-per-turn in the same runs. :class:`OneAcceptServer` accepts in Python, one
connection per call of a reader callback, and hands it to uvloop (``connect_accepted_socket``),
which serves it like any connection it accepted itself: 4.7-5.4, as balanced as asyncio's. The
Python work is per connection, not per request: a keep-alive request costs what it costs on
uvloop's own accept.

:class:`OneAcceptPerTurn` (asyncio's loop, one accept per turn) is the previous loop, kept for
``bench/frontdoor_loop.py`` and for the tests that hold the two to the same behaviour.
``_accept_connection`` is a private method of asyncio's selector loop, with the same
signature from Python 3.11 to 3.13; ``tests/unit/test_frontdoor.py`` checks it is still there.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from typing import Any

import uvloop

log = logging.getLogger(__name__)

ACCEPT_RETRY_DELAY = 1.0
"""Seconds without accepting after the process ran out of descriptors or memory (asyncio's)."""
_OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
_STREAM_FAMILIES = frozenset({socket.AF_INET, socket.AF_INET6, socket.AF_UNIX})


class OneAcceptServer(asyncio.AbstractServer):
    """A listening socket served by a uvloop loop, one accepted connection per turn.

    What asyncio's server does for a socket it was given, where the gateway's workers use it:
    listen with the backlog, accept (one per turn, see the module's docstring), stop for
    :data:`ACCEPT_RETRY_DELAY` when out of descriptors, and on ``close`` stop accepting and
    close the socket. Each connection, TLS included, is set up by uvloop's
    ``connect_accepted_socket``; one that fails to set up (a TLS handshake refused, a client
    gone) is logged at debug level and dropped, as asyncio's server drops it.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: Any,
        protocol_factory: Any,
        backlog: int,
        ssl: Any,
        ssl_handshake_timeout: float | None,
    ) -> None:
        self._loop = loop
        self._sock: Any = sock
        self._protocol_factory = protocol_factory
        self._ssl = ssl
        self._ssl_handshake_timeout = ssl_handshake_timeout
        self._setting_up: set[asyncio.Task[Any]] = set()  # held: the loop keeps weak refs only
        sock.setblocking(False)
        sock.listen(backlog)
        loop.add_reader(sock.fileno(), self._accept_one)

    def _accept_one(self) -> None:
        sock = self._sock
        if sock is None:
            return
        try:
            conn, _ = sock.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return  # another worker took it, or the client gave up first
        except OSError as exc:
            if exc.errno not in _OUT_OF_RESOURCES:
                raise
            log.error(
                "accepting a connection failed (%s); not accepting for %g s",
                exc,
                ACCEPT_RETRY_DELAY,
            )
            self._loop.remove_reader(sock.fileno())
            self._loop.call_later(ACCEPT_RETRY_DELAY, self._resume)
            return
        task = self._loop.create_task(self._set_up(conn))
        self._setting_up.add(task)
        task.add_done_callback(self._setting_up.discard)

    def _resume(self) -> None:
        if self._sock is not None:
            self._loop.add_reader(self._sock.fileno(), self._accept_one)

    async def _set_up(self, conn: socket.socket) -> None:
        # uvloop owns ``conn`` from here: it closes it with the transport (and a failed set-up
        # closes the transport). Closing it here too could close a descriptor number that
        # another connection was given meanwhile.
        try:
            if self._ssl is None:
                await self._loop.connect_accepted_socket(self._protocol_factory, conn)
            else:
                await self._loop.connect_accepted_socket(
                    self._protocol_factory,
                    conn,
                    ssl=self._ssl,
                    ssl_handshake_timeout=self._ssl_handshake_timeout,
                )
        except Exception as exc:
            log.debug("a connection failed before it was set up: %r", exc)

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            self._loop.remove_reader(sock.fileno())
            sock.close()

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def is_serving(self) -> bool:
        return self._sock is not None

    @property
    def sockets(self) -> tuple[Any, ...]:
        return () if self._sock is None else (self._sock,)

    async def start_serving(self) -> None:
        """Serving starts with the server (``create_server``'s ``start_serving=True``)."""

    async def serve_forever(self) -> None:
        raise NotImplementedError("the workers run the loop themselves (uvicorn)")

    async def wait_closed(self) -> None:
        """Returns at once, as Python 3.11's does: uvicorn waits for the connections itself."""


class UvloopOneAcceptPerTurn(uvloop.Loop):  # type: ignore[misc]
    """uvloop's loop, serving a listening socket it is given through :class:`OneAcceptServer`.

    Only ``create_server(factory, sock=..., ssl=..., backlog=...)`` — what uvicorn calls for
    the sockets gunicorn hands its workers — is served that way; any other call (a host and
    port, ``reuse_port``, ``start_serving=False``) is uvloop's own.
    """

    async def create_server(  # type: ignore[override]
        self,
        protocol_factory: Any,
        host: Any = None,
        port: Any = None,
        *,
        sock: Any = None,
        backlog: int = 100,
        ssl: Any = None,
        ssl_handshake_timeout: float | None = None,
        **kwargs: Any,
    ) -> asyncio.AbstractServer:
        if (
            sock is None
            or host is not None
            or port is not None
            or kwargs
            or sock.type != socket.SOCK_STREAM
            or sock.family not in _STREAM_FAMILIES
            or (ssl is None and ssl_handshake_timeout is not None)
        ):
            return await super().create_server(
                protocol_factory,
                host,
                port,
                sock=sock,
                backlog=backlog,
                ssl=ssl,
                ssl_handshake_timeout=ssl_handshake_timeout,
                **kwargs,
            )
        return OneAcceptServer(self, sock, protocol_factory, backlog, ssl, ssl_handshake_timeout)


class OneAcceptPerTurn(asyncio.SelectorEventLoop):
    def _accept_connection(  # type: ignore[override]
        self,
        protocol_factory: Any,
        sock: Any,
        sslcontext: Any = None,
        server: Any = None,
        backlog: int = 100,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        return super()._accept_connection(  # type: ignore[misc]
            protocol_factory, sock, sslcontext, server, 1, *args, **kwargs
        )


def asyncio_loop() -> asyncio.AbstractEventLoop:
    """asyncio's selector loop, accepting one connection per turn (the loop until session 8)."""
    return OneAcceptPerTurn()


def new_loop() -> asyncio.AbstractEventLoop:
    """uvicorn's ``loop`` setting: a factory of event loops. The workers' loop."""
    return UvloopOneAcceptPerTurn()
