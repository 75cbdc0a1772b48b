"""ASGI → WSGI: buffer the whole request, then run the Flask app on a bounded thread pool.

Why not hand the WSGI app a stream (as generic bridges do): a thread that reads the body from
the network waits as long as the client cares to trickle it, and a few slow clients then hold
every thread. Here the event loop reads the body, within :attr:`Limits.body_timeout` and at
most :attr:`Limits.max_body` bytes, and a thread only ever sees a request that is complete in
memory. The response is built whole in the thread and written by the event loop, so a client
that reads slowly does not hold a thread either.

Streamed responses: a response the app gives without ``Content-Length`` (a big group's full
GET, :mod:`gateway.web.stream`) is sent as it is rendered, in HTTP/1.1 chunked transfer
encoding (uvicorn frames the chunks). Its first chunk is made in the request's thread; each
next one in a pool thread again, only once the previous one has been handed to the socket
and the socket's buffer has drained (uvicorn's flow control), so at most about one chunk
waits per connection and no thread waits for a client. A client that stops reading for
:attr:`Limits.send_timeout` seconds, or goes away, ends the stream: the rest is not rendered
and the connection is closed. Everything that can fail with a SCIM error (the directory, the
decoding) has happened before the first byte; what is left is rendering JSON from values
already read. Should it fail anyway, the connection is closed without the last chunk, which a
client sees as a cut body (never as a complete answer). An HTTP/1.0 client gets the body whole
with ``Content-Length``, as before.

Admission: at most ``threads + queue`` requests per worker are running or waiting for a
thread; past that the answer is an immediate ``429`` with ``Retry-After`` (RFC 6585 §4),
which Entra treats as "pause and resume" where repeated timeouts would put the job in
quarantine. ``/healthz`` is never refused (it touches nothing and liveness probes must not fail
because the gateway is busy). Refusals made here (413, 408, 429) are SCIM errors, counted in
the metrics and logged on ``gateway.access`` like any other request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from io import BytesIO
from typing import Any
from urllib.parse import unquote_to_bytes

from gateway.frontdoor.allocator import fix_mmap_threshold
from gateway.frontdoor.pool import Job, Pool
from gateway.scim.messages import ERROR
from gateway.scim.registry import BUILTIN

log = logging.getLogger(__name__)
access_log = logging.getLogger("gateway.access")

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

NEVER_REFUSED = frozenset({"/healthz"})
SCIM_PREFIX = "/scim/v2/"
# The built-in types' endpoints; a path the app never saw is refused before the mapping is
# consulted, so a type a mapping declares is labelled "unknown" here (bounded either way).
_RESOURCE_LABELS = BUILTIN.labels()


@dataclass(frozen=True, slots=True)
class Limits:
    """What one worker accepts; defaults are ``scim-gateway serve``'s."""

    threads: int = 4
    queue: int = 64
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_body: int = 1024 * 1024
    retry_after: int = 5
    send_timeout: float = 30.0
    """Seconds a streamed response's chunk may wait for the client to read the previous ones."""


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    reason: str  # the metrics label
    detail: str
    scim_type: str | None = None
    close: bool = True  # the request was not read to its end: the connection cannot be reused


class ClientGone(Exception):
    """The client closed the connection before its request was complete."""


class Stream:
    """The rest of a response the app gave without ``Content-Length``: its first chunk,
    and the app's iterable to take the next ones from (one pool thread at a time)."""

    __slots__ = ("_close", "_rest", "first")

    def __init__(self, first: bytes, rest: Iterator[bytes], close: Callable[[], Any] | None):
        self.first = first
        self._rest = rest
        self._close = close

    def next(self) -> bytes | None:
        """The next non-empty chunk, or None at the end."""
        for chunk in self._rest:
            if chunk:
                return chunk
        return None

    def drain(self) -> bytes:
        """The whole rest of the body (for a client that cannot take chunks)."""
        return b"".join([self.first, *(c for c in self._rest if c)])

    def close(self) -> None:
        close, self._close = self._close, None
        if close is not None:
            try:
                close()
            except ValueError:  # a pool thread is still in next() (the task was cancelled)
                log.debug("a streamed body closed while a chunk was being rendered")


class FrontDoor:
    """The ASGI application a worker serves; ``wsgi_app`` is the Flask app."""

    def __init__(self, wsgi_app: WsgiApp, limits: Limits) -> None:
        self.wsgi_app = wsgi_app
        self.limits = limits
        self._admitted = 0  # running or waiting for a thread; touched by the event loop only
        self._pool: Pool | None = None
        self._pool_pid = 0

    @property
    def admitted(self) -> int:
        return self._admitted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    # ------------------------------------------------------------------ one request

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        try:
            body = await self._read_body(scope, receive)
        except ClientGone:
            return
        if isinstance(body, Refusal):
            await self._refuse(scope, send, body, started)
            return
        capacity = self.limits.threads + self.limits.queue
        if self._admitted >= capacity and scope["path"] not in NEVER_REFUSED:
            await self._refuse(scope, send, self._busy(), started, close=False)
            return
        loop = asyncio.get_running_loop()
        self._admitted += 1
        answer: asyncio.Future[Any] = loop.create_future()
        # One wake-up of the loop per request: released and answered by the same callback
        # (released even if this task is cancelled meanwhile), rather than asyncio.wrap_future
        # and a second callback each writing to the loop's self-pipe.
        pool = self._executor()
        job = pool.submit(
            self._call_wsgi,
            wsgi_environ(scope, body),
            lambda done: self._finish_from_thread(loop, done, answer),
        )
        try:
            status, headers, content = await answer
        except asyncio.CancelledError:
            # This task was cancelled (its ``answer`` with it) or the job was: a job not yet
            # started is dropped. Done here rather than in a done-callback of ``answer``,
            # which the loop would schedule, and call, once for every request.
            pool.cancel(job)
            raise
        except Exception:
            log.exception("the application failed outside its own error handling")
            await self._refuse(
                scope, send, Refusal(500, "error", "internal error", close=False), started
            )
            return
        if isinstance(content, Stream):
            self._admitted += 1  # still this request's place until its last chunk is sent
            try:
                await self._stream(scope, receive, send, status, headers, content)
            finally:
                self._admitted -= 1
            return
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    async def _stream(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: Stream,
    ) -> None:
        """Send a streamed body chunk by chunk (see the module's docstring)."""
        loop = asyncio.get_running_loop()
        # The request was read whole: the next message can only say the client went away
        # (or that the response is complete).
        gone = asyncio.ensure_future(receive())
        try:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            chunk: bytes | None = body.first
            while chunk is not None:
                if gone.done():
                    log.info(
                        "%s %s: the client went away mid-stream", scope["method"], scope["path"]
                    )
                    return
                async with asyncio.timeout(self.limits.send_timeout):
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                chunk = await self._next_chunk(loop, body)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except TimeoutError:
            log.warning(
                "%s %s: the client read nothing for %g s mid-stream; closing the connection",
                scope["method"],
                scope["path"],
                self.limits.send_timeout,
            )
        except Exception:
            log.exception("%s %s: rendering failed mid-stream", scope["method"], scope["path"])
        finally:
            gone.cancel()
            body.close()

    async def _next_chunk(self, loop: asyncio.AbstractEventLoop, body: Stream) -> bytes | None:
        """``body.next()`` in a pool thread (what ``loop.run_in_executor`` did)."""
        chunk: asyncio.Future[bytes | None] = loop.create_future()
        pool = self._executor()
        job = pool.submit(Stream.next, body, lambda done: _settle_from_thread(loop, done, chunk))
        try:
            return await chunk
        except asyncio.CancelledError:
            pool.cancel(job)
            raise

    def _finish(self, job: Job, answer: asyncio.Future[Any]) -> None:
        """On the loop: release the request's place and hand its outcome to the waiting task."""
        self._admitted -= 1
        _settle(job, answer)

    def _finish_from_thread(
        self, loop: asyncio.AbstractEventLoop, job: Job, answer: asyncio.Future[Any]
    ) -> None:
        # A closed loop means the worker is exiting: nothing left to count.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._finish, job, answer)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | Refusal:
        """The whole body, or why not: too large (413) or not sent in time (408)."""
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limits.max_body:
            return _too_large()
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.limits.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise ClientGone
                    data = message.get("body", b"")
                    size += len(data)
                    if size > self.limits.max_body:
                        return _too_large()
                    if data:
                        chunks.append(data)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            return Refusal(
                408,
                "body_timeout",
                f"the request body did not arrive within {self.limits.body_timeout:g} seconds",
            )

    def _busy(self) -> Refusal:
        return Refusal(
            429,
            "overload",
            f"the gateway is busy; retry after {self.limits.retry_after} seconds",
            close=False,
        )

    def _call_wsgi(
        self, environ: dict[str, Any]
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes | Stream]:
        """Run the WSGI app in this (pool) thread; return the whole response, or for a
        response without ``Content-Length`` (HTTP/1.1) its first chunk and the rest to come."""
        started: list[Any] = []
        chunks: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            if exc_info is not None and started and chunks:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, headers]
            return chunks.append

        result = self.wsgi_app(environ, start_response)
        close = getattr(result, "close", None)
        stream: Stream | None = None
        try:
            if started and _streamed(started[0], started[1], environ):
                rest = iter(result)
                first = b"".join(chunks) + (next((c for c in rest if c), b""))
                stream = Stream(first, rest, close)
            else:
                chunks.extend(chunk for chunk in result if chunk)
        finally:
            if stream is None and close is not None:
                close()
        status, headers = started
        if stream is not None and environ["SERVER_PROTOCOL"] == "HTTP/1.0":
            try:  # no chunked encoding in HTTP/1.0: the body whole, as for any response
                whole = stream.drain()
            finally:
                stream.close()
            headers = [*headers, ("Content-Length", str(len(whole)))]
            stream = None
            chunks = [whole]
        # Names keep Flask's casing (protocol.CasedCycle writes them so, and compares them
        # case-insensitively): clients written against the previous server, and some that
        # should know better, expect it.
        encoded = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        return int(status.split(" ", 1)[0]), encoded, stream or b"".join(chunks)

    def _executor(self) -> Pool:
        """The worker's pool, made on first use in the process that uses it (after the fork)."""
        if self._pool is None or self._pool_pid != os.getpid():
            self._pool = Pool(self.limits.threads, "scim")
            self._pool_pid = os.getpid()
        return self._pool

    # ------------------------------------------------------------------ refusals

    async def _refuse(
        self,
        scope: Scope,
        send: Send,
        refusal: Refusal,
        started: float,
        *,
        close: bool | None = None,
    ) -> None:
        request_id = uuid.uuid4().hex
        body: dict[str, Any] = {
            "schemas": [ERROR],
            "status": str(refusal.status),
            "detail": refusal.detail,
        }
        if refusal.scim_type:
            body["scimType"] = refusal.scim_type
        content = json.dumps(body, separators=(",", ":")).encode()
        headers = [
            (b"Content-Type", b"application/scim+json; charset=utf-8"),
            (b"Content-Length", str(len(content)).encode()),
            (b"X-Request-Id", request_id.encode()),
        ]
        if refusal.status in (429, 503):
            headers.append((b"Retry-After", str(self.limits.retry_after).encode()))
        if refusal.close if close is None else close:
            headers.append((b"Connection", b"close"))
        await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
        await send({"type": "http.response.body", "body": content})
        self._record(scope, refusal, started, request_id)

    @staticmethod
    def _record(scope: Scope, refusal: Refusal, started: float, request_id: str) -> None:
        from gateway import metrics  # not at import: serve builds this before the metrics dir

        seconds = time.perf_counter() - started
        method = scope.get("method", "")
        resource = resource_label(scope.get("path", ""))
        metrics.HTTP_REQUESTS.labels(resource, method, str(refusal.status)).inc()
        metrics.FRONT_DOOR_REFUSALS.labels(refusal.reason).inc()
        client = (scope.get("client") or ("", 0))[0]
        access_log.info(
            "%s %s %s %.1fms refused=%s request_id=%s",
            method,
            scope.get("path", ""),
            refusal.status,
            seconds * 1000,
            refusal.reason,
            request_id,
            extra={
                "request_id": request_id,
                "fields": {
                    "event": "request",
                    "method": method,
                    "path": scope.get("path", ""),
                    "status": refusal.status,
                    "duration_ms": round(seconds * 1000, 1),
                    "ldap_ops": 0,
                    "resource_type": resource,
                    "client": client,
                    "refused": refusal.reason,
                },
            },
        )

    # ------------------------------------------------------------------ lifespan

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                fix_mmap_threshold()  # in the worker, after the fork: see allocator
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._pool is not None and self._pool_pid == os.getpid():
                    self._pool.shutdown()
                    self._pool = None
                from gateway import metrics  # not at import, as in _record

                metrics.flush()  # the worker's last observations, before it exits
                await send({"type": "lifespan.shutdown.complete"})
                return


def _settle(job: Job, future: asyncio.Future[Any]) -> None:
    """On the loop: a job's outcome to the future awaiting it (unless nobody awaits it)."""
    if future.done():  # the task was cancelled: nobody is waiting
        return
    if job.cancelled():
        future.cancel()
    elif job.error is not None:
        future.set_exception(job.error)
    else:
        future.set_result(job.result)


def _settle_from_thread(
    loop: asyncio.AbstractEventLoop, job: Job, future: asyncio.Future[Any]
) -> None:
    with contextlib.suppress(RuntimeError):  # a closed loop: the worker is exiting
        loop.call_soon_threadsafe(_settle, job, future)


def _too_large() -> Refusal:
    return Refusal(413, "too_large", "the request body is too large", "tooLarge")


def _streamed(status: str, headers: list[tuple[str, str]], environ: dict[str, Any]) -> bool:
    """Whether a response is sent as it comes: a body of unknown length answering a GET
    (not a 204 or 304, which have no body: Werkzeug leaves their Content-Length out)."""
    if environ["REQUEST_METHOD"] != "GET" or status[:3] in ("204", "304") or status[0] == "1":
        return False
    return not any(name.lower() == "content-length" for name, _ in headers)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1").strip()
    return None


def resource_label(path: str) -> str:
    """The metrics' ``resource_type`` of a path the app never saw (User, Group or unknown)."""
    if path.startswith(SCIM_PREFIX):
        return _RESOURCE_LABELS.get(path[len(SCIM_PREFIX) :].split("/", 1)[0], "unknown")
    return "unknown"


def wsgi_environ(scope: Scope, body: bytes) -> dict[str, Any]:
    """A PEP 3333 environ for a buffered ASGI HTTP request.

    Header names holding ``_`` are dropped (as gunicorn does): ``X_Forwarded_For`` would
    otherwise arrive as the same key as ``X-Forwarded-For``. The body is already complete,
    so ``Transfer-Encoding`` is dropped and ``CONTENT_LENGTH`` says its length.
    """
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode("utf-8").decode("latin-1"),
        # A path without '%' is its own unquoting (1.6 us of unquote_to_bytes' splitting).
        "PATH_INFO": (unquote_to_bytes(raw_path) if b"%" in raw_path else raw_path).decode(
            "latin-1"
        ),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] if server[1] is not None else 80),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": str(client[0]),
        "REMOTE_PORT": str(client[1]),
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope.get("headers", ()):
        key = _ENVIRON_KEYS.get(raw_name, "")
        if key == "":
            key = _environ_key(raw_name)
        if key is None:
            continue
        value = raw_value.decode("latin-1")
        if key in environ and key != "CONTENT_TYPE":  # repeated: joined, as RFC 9110 §5.3
            value = f"{environ[key]},{value}"
        environ[key] = value
    return environ


_ENVIRON_KEYS: dict[bytes, str | None] = {}
"""Header name as received → its environ key (or None: not passed on), for the first
:data:`_MAX_ENVIRON_KEYS` names seen; clients send the same few names on every request."""
_MAX_ENVIRON_KEYS = 512


def _environ_key(raw_name: bytes) -> str | None:
    name = raw_name.decode("latin-1").upper()
    key: str | None
    if "_" in name or name in ("CONTENT-LENGTH", "TRANSFER-ENCODING"):
        key = None
    elif name == "CONTENT-TYPE":
        key = "CONTENT_TYPE"
    else:
        key = "HTTP_" + name.replace("-", "_")
    if len(_ENVIRON_KEYS) < _MAX_ENVIRON_KEYS:
        _ENVIRON_KEYS[raw_name] = key
    return key
