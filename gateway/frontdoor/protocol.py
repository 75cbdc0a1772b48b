"""uvicorn's httptools protocol with the front door's limits on request headers.

Why httptools: uvicorn's pure-Python h11 protocol was the largest single cost of the served
request after the app itself (~17 % of a worker's CPU for a read); httptools parses with
llhttp, in C, and took 0.45 ms of server CPU per keep-alive request down to 0.31 ms measured
with the same trivial app (see README, "Benchmarks"). It leaves three things to this subclass:

- **A deadline for the headers.** uvicorn (like gunicorn's own async workers) has no limit on
  how long a client may take to send a request's headers: its keep-alive timer stops at the
  first byte, so a client trickling one byte every few seconds holds its connection for ever.
  Every request gets :attr:`header_timeout` seconds, counted from the moment the server starts
  waiting for it (the connection opened, or the previous response was sent), to complete its
  headers; otherwise the connection is closed. The body has its own deadline, enforced by the
  bridge (:mod:`gateway.frontdoor.bridge`), which reads it before any thread sees the request.
- **A cap on the headers' size.** h11 refused a request whose head passed 16 KiB; llhttp has
  no limit of its own. Past :attr:`max_header_bytes` (request line and headers) the answer is
  uvicorn's ``400`` and the connection is closed, as h11's was. Bytes not yet parsed are
  counted too (llhttp keeps a header it is still reading), so a header that never ends is cut
  at the cap, not held until the deadline.
- **Header names as the app wrote them.** uvicorn's httptools cycle writes response header
  names in lower case; h11 kept Flask's ``Content-Type``, ``X-Request-Id``, ``Retry-After``,
  which clients written against the earlier server (and some that should know better) look
  up as written. :class:`CasedCycle` writes the head with the names as given.

It relies on uvicorn's ``HttpToolsProtocol`` parser callbacks (``on_message_begin``,
``on_url``, ``on_header``, ``on_headers_complete``), ``on_response_complete``, and the
response state of its ``RequestResponseCycle``; ``tests/e2e/test_front_door.py`` holds it to
them and ``pyproject.toml`` pins uvicorn below 0.60.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

from gateway import metrics

log = logging.getLogger(__name__)

MAX_HEADER_BYTES = 16 * 1024
"""The request line and headers of one request, at most (h11's default, kept)."""
INVALID = "Invalid HTTP request received."  # uvicorn's own 400 text


class HeadTooLarge(Exception):
    """The request line and headers passed :attr:`DeadlineProtocol.max_header_bytes`."""


class CasedCycle(RequestResponseCycle):
    """uvicorn's request/response cycle, writing response header names as the app gave them.

    The response head is made here, with the same checks and the same decisions (names
    compared in lower case) as uvicorn's ``send``, and written with the body when that comes
    whole and of the declared length (the front door's always does): one write, one system
    call, instead of two. Anything else goes to uvicorn's ``send`` after the head.
    """

    _head: bytes | None = None

    async def send(self, message: Any) -> None:
        if message["type"] == "http.response.start" and not self.response_started:
            await self._start(message)
            return
        # Drained here rather than in uvicorn's ``send``: from the check below to the write
        # (ours or uvicorn's) nothing awaits, so the transport cannot close in between.
        if self.flow.write_paused and not self.disconnected:
            await self.flow.drain()
        if self._gone():
            return  # what uvicorn's ``send`` does for a connection gone
        head, self._head = self._head, None
        if head is not None:
            body = message.get("body", b"")
            if (
                message["type"] == "http.response.body"
                and not message.get("more_body", False)
                and not self.chunked_encoding
                and self.scope["method"] != "HEAD"
                and len(body) == self.expected_content_length
            ):
                self.transport.write(head + body)
                self.expected_content_length = 0
                self.response_complete = True
                self.message_event.set()
                if not self.keep_alive:
                    self.transport.close()
                self.on_response()
                return
            self.transport.write(head)
        await super().send(message)

    def _gone(self) -> bool:
        """Whether the client is gone, as uvicorn's ``disconnected`` says, or as the transport
        already knows: a transport closed on a reset or a write error tells the protocol
        (``connection_lost``) one callback later. A write in between is dropped by asyncio's
        transport but raises ``RuntimeError`` on uvloop's, so that state counts as gone on
        both loops (only for a response not yet complete, as ``connection_lost`` decides).
        """
        if not self.disconnected and not self.response_complete and self.transport.is_closing():
            self.disconnected = True
        return self.disconnected

    async def _start(self, message: Any) -> None:
        if self.flow.write_paused and not self.disconnected:
            await self.flow.drain()
        if self.disconnected:
            return  # (nothing is written here: ``send`` checks the transport before writing)
        self.response_started = True
        self.waiting_for_100_continue = False
        content = [STATUS_LINE[message["status"]]]
        has_connection_close = False
        for name, value in [*self.default_headers, *message.get("headers", [])]:
            lowered = _LOWERED.get(name)
            if lowered is None:
                lowered = _checked_name(name)
            if HEADER_VALUE_RE.search(value):
                raise RuntimeError("Invalid HTTP header value.")
            if lowered == b"content-length" and self.chunked_encoding is None:
                self.expected_content_length = int(value.decode())
                self.chunked_encoding = False
            elif lowered == b"transfer-encoding" and value.lower() == b"chunked":
                self.expected_content_length = 0
                self.chunked_encoding = True
            elif lowered == b"connection" and b"close" in [
                token.lower().strip() for token in value.split(b",")
            ]:
                self.keep_alive = False
                has_connection_close = True
            content.extend([name, b": ", value, b"\r\n"])
        if not self.keep_alive and not has_connection_close:
            content.append(b"connection: close\r\n")
        if (
            self.chunked_encoding is None
            and self.scope["method"] != "HEAD"
            and message["status"] not in (204, 304)
        ):
            self.chunked_encoding = True
            content.append(b"transfer-encoding: chunked\r\n")
        content.append(b"\r\n")
        self._head = b"".join(content)


_LOWERED: dict[bytes, bytes] = {}
"""Response header names found valid → lower-cased, for the first :data:`_MAX_NAMES` seen:
the app sends the same few names on every response, and a name's check and lower-casing
give the same answer each time."""
_MAX_NAMES = 512


def _checked_name(name: bytes) -> bytes:
    """``name`` lower-cased, or uvicorn's error for an invalid one (never remembered)."""
    if HEADER_RE.search(name):
        raise RuntimeError("Invalid HTTP header name.")
    lowered = name.lower()
    if len(_LOWERED) < _MAX_NAMES:
        _LOWERED[name] = lowered
    return lowered


class DeadlineProtocol(HttpToolsProtocol):
    header_timeout: float = 10.0
    """Seconds a client has to send a request's headers; set per server by :func:`with_deadline`."""
    max_header_bytes: int = MAX_HEADER_BYTES

    _deadline: asyncio.Handle | None = None  # a TimerHandle, or on uvloop a Handle if past
    _deadline_at = 0.0  # loop time by which the awaited request's headers must be complete
    _armed_for = 0.0  # the deadline the timer in _deadline was made for
    _heads = 0  # requests whose headers are complete
    _answered = 0  # responses sent in full
    _begun = 0  # requests whose first byte has arrived
    _in_head = False  # between a request's first byte and the end of its headers
    _head_bytes = 0  # of the request being read: bytes parsed, or received while in its head

    # ------------------------------------------------------------------ the connection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._wait_for_headers()

    def data_received(self, data: bytes) -> None:
        begun, in_head = self._begun, self._in_head
        super().data_received(data)
        if in_head and self._in_head and begun == self._begun:
            # All of ``data`` went to one unfinished head (llhttp may hold a part of it that
            # no callback has seen yet): counted, so an endless header is cut at the cap.
            self._head_bytes += len(data)
            if self._head_bytes > self.max_header_bytes and not self.transport.is_closing():
                self._refuse_head()

    def on_response_complete(self) -> None:
        self._answered += 1
        if self._heads == self._answered:  # before super(): no pipelined request is waiting
            self._wait_for_headers()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    # ------------------------------------------------------------------ parser callbacks

    def on_message_begin(self) -> None:
        self._begun += 1
        self._in_head = True
        self._head_bytes = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._heads += 1  # the deadline is met (its timer stays: see _wait_for_headers)
        super().on_headers_complete()
        if type(self.cycle) is RequestResponseCycle:
            # The cycle was just made (its task has not started): it writes the names as given.
            self.cycle.__class__ = CasedCycle

    # ------------------------------------------------------------------ limits

    def _count(self, size: int) -> None:
        """Raised from a parser callback, ``HeadTooLarge`` makes httptools fail the parse:
        uvicorn then answers 400 and closes, as for any malformed request."""
        self._head_bytes += size
        if self._head_bytes > self.max_header_bytes:
            raise HeadTooLarge

    def _refuse_head(self) -> None:
        self.logger.warning(INVALID)
        self.send_400_response(INVALID)

    def _wait_for_headers(self) -> None:
        """Start the next request's deadline.

        A keep-alive connection waits for a new request after every response, and a timer
        made and cancelled each time is a heap push, a cancel and a pop on the loop per
        request. So a timer outlives the request it was made for: met deadlines leave it be,
        and when it fires :meth:`_expire` re-arms it for the deadline then current (always
        later, the timeout being the same). A connection has at most one timer, a request's
        deadline is exactly as before, and a busy connection's timer fires once per
        :attr:`header_timeout` rather than once per request.
        """
        if self.transport is None or self.transport.is_closing():
            self._cancel()
            return
        self._deadline_at = self.loop.time() + self.header_timeout
        if self._deadline is None:
            self._arm()

    def _arm(self) -> None:
        """A timer for the current deadline. Which deadline it was made for is kept here,
        not read back from the handle: uvloop's ``call_at`` returns a plain ``Handle``
        (no ``when()``) for a time already past."""
        self._armed_for = self._deadline_at
        self._deadline = self.loop.call_at(self._deadline_at, self._expire)

    def _cancel(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        fired, self._deadline = self._deadline, None
        if self._heads != self._answered or self.transport.is_closing():
            return  # a request is being served: the next wait arms a timer again
        if fired is not None and self._armed_for < self._deadline_at:
            # Armed for an earlier request's deadline, met since: wait for this one's.
            self._arm()
            return
        log.debug("closing a connection whose request headers took too long")
        metrics.FRONT_DOOR_REFUSALS.labels("header_timeout").inc()
        self.transport.close()


def with_deadline(
    header_timeout: float, max_header_bytes: int = MAX_HEADER_BYTES
) -> type[DeadlineProtocol]:
    """The protocol class for a server whose clients get ``header_timeout`` seconds."""
    return type(
        "DeadlineProtocol",
        (DeadlineProtocol,),
        {"header_timeout": header_timeout, "max_header_bytes": max_header_bytes},
    )
