"""One LDAP request and its answer over a bound connection's socket.

ldap3 opens, secures (LDAPS / StartTLS) and binds the connection; the requests themselves
are written and read here with :mod:`~gateway.directory.messages`. Each worker thread owns
its connection (see ``pool``) and has one request in flight at a time, so the answer is
simply read until the final response of that request.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.directory import ber, messages
from gateway.directory.entry import Entry
from gateway.directory.messages import Control, Result

_RECV = 1 << 16
_MAX_ID = 0x7FFFFFFF
_ids = itertools.count(1)
_ids_lock = threading.Lock()


class ConnectionLost(Exception):
    """The connection broke, timed out, was closed by the server, or spoke garbage: the
    request's outcome is unknown and the connection must not be used again."""


@dataclass(slots=True)
class Reply:
    result: Result
    entries: list[Entry] = field(default_factory=list)


def exchange(conn: Any, operation: bytes, controls: Sequence[Control] = ()) -> Reply:
    """Send ``operation`` on ``conn`` (a bound ldap3 Connection) and read its answer.

    Socket timeouts are the connection's receive timeout, set by ldap3 when it opened it.
    """
    sock = getattr(conn, "socket", None)
    if sock is None or getattr(conn, "closed", False):
        raise ConnectionLost("not connected")
    message_id = _next_id()
    entries: list[Entry] = []
    try:
        sock.sendall(messages.message(message_id, operation, controls))
        reader = _Reader(sock)
        while True:
            response = messages.decode(*reader.next_message())
            if response.message_id == 0:  # unsolicited: the server is going away
                raise ConnectionLost(f"the directory ended the session: {_describe(response)}")
            if response.message_id != message_id:
                raise ConnectionLost(f"answer to message {response.message_id}, not {message_id}")
            if response.entry is not None:
                entries.append(response.entry)
            elif response.result is not None:
                return Reply(response.result, entries)
    except OSError as err:  # includes socket timeouts and TLS errors
        raise ConnectionLost(f"{type(err).__name__}: {err}") from err
    except ber.BerError as err:
        raise ConnectionLost(f"undecodable answer: {err}") from err


def _next_id() -> int:
    with _ids_lock:
        return next(_ids) % _MAX_ID + 1


class _Reader:
    """Whole LDAPMessages from a socket, without copying the bytes that follow each one."""

    __slots__ = ("data", "pos", "sock")

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.data = b""
        self.pos = 0

    def next_message(self) -> tuple[bytes, int]:
        """(buffer, offset) of the next message; the buffer holds at least all of it."""
        while True:
            size = ber.message_length(self.data, self.pos)
            available = len(self.data) - self.pos
            if size is not None and available >= size:
                start = self.pos
                self.pos += size
                return self.data, start
            self._fill(size, available)

    def _fill(self, size: int | None, available: int) -> None:
        parts = [self.data[self.pos :]]
        wanted = (size or 0) - available
        while True:
            chunk = self.sock.recv(max(_RECV, wanted))
            if not chunk:
                raise ConnectionLost("the directory closed the connection")
            parts.append(chunk)
            wanted -= len(chunk)
            if size is None or wanted <= 0:
                break
        self.data = b"".join(parts)
        self.pos = 0


def _describe(response: messages.Response) -> str:
    result = response.result
    if result is None:
        return "unknown notice"
    return f"{result.name or 'notice'} (result {result.code}) {result.message}".strip()
