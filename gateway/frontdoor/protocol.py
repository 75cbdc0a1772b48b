"""uvicorn's h11 protocol with a deadline for request headers (slow-header clients).

uvicorn (like gunicorn's own async workers) has no limit on how long a client may take to send
a request's headers: its keep-alive timer stops at the first byte, so a client trickling one
byte every few seconds holds its connection for ever. This subclass gives every request
:attr:`header_timeout` seconds, counted from the moment the server starts waiting for it (the
connection opened, or the previous response was sent), to complete its headers; otherwise the
connection is closed. The body has its own deadline, enforced by the bridge
(:mod:`gateway.frontdoor.bridge`), which reads it before any thread sees the request.

It relies on three documented-by-use parts of ``H11Protocol``: ``connection_made``,
``data_received`` and ``on_response_complete``, and on ``cycle`` changing when a request's
headers have been parsed; ``tests/e2e/test_front_door.py`` holds it to that.
"""

from __future__ import annotations

import asyncio
import logging

from uvicorn.protocols.http.h11_impl import H11Protocol

from gateway import metrics

log = logging.getLogger(__name__)


class DeadlineH11Protocol(H11Protocol):
    header_timeout: float = 10.0
    """Seconds a client has to send a request's headers; set per server by :func:`with_deadline`."""

    _deadline: asyncio.TimerHandle | None = None
    _awaited_after: object = None  # the request cycle that was current when the wait began

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._wait_for_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._settle()

    def on_response_complete(self) -> None:
        self._wait_for_headers()  # before super(): it may start a pipelined request at once
        super().on_response_complete()
        self._settle()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    def _wait_for_headers(self) -> None:
        self._cancel()
        if self.transport is None or self.transport.is_closing():
            return
        self._awaited_after = self.cycle
        self._deadline = self.loop.call_later(self.header_timeout, self._expire)

    def _settle(self) -> None:
        """A new request cycle means its headers are complete: the deadline is met."""
        if self._deadline is not None and self.cycle is not self._awaited_after:
            self._cancel()

    def _cancel(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if self.cycle is self._awaited_after and not self.transport.is_closing():
            log.debug("closing a connection whose request headers took too long")
            metrics.FRONT_DOOR_REFUSALS.labels("header_timeout").inc()
            self.transport.close()


def with_deadline(header_timeout: float) -> type[DeadlineH11Protocol]:
    """The protocol class for a server whose clients get ``header_timeout`` seconds."""
    return type("DeadlineH11Protocol", (DeadlineH11Protocol,), {"header_timeout": header_timeout})
