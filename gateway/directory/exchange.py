"""One LDAP request and its answer over a bound connection's socket.

ldap3 opens, secures (LDAPS / StartTLS) and binds the connection; the requests themselves
are written and read here with :mod:`~gateway.directory.messages`. Each worker thread owns
its connection (see ``pool``) and has one request in flight at a time, so the answer is
simply read until the final response of that request.

The server is not trusted to be well behaved (a bug, a proxy, someone on the path): the
answer is read in pieces of at most 1 MiB whatever its header claims, one answer may hold
at most ``max_bytes`` bytes and build at most :data:`DECODE_FACTOR` times that in decoded
objects, and the whole exchange has one deadline — each read
waits only for the time left, so a server trickling bytes cannot hold a request past it
(give or take :data:`DEADLINE_SLACK`).
Every breach ends in :class:`ConnectionLost`: the connection is dropped and the operation
reported unavailable. See docs/operations.md, "When the directory answers garbage".
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.directory import ber, messages
from gateway.directory.entry import Entry
from gateway.directory.messages import Control, Result
from gateway.errors import UnreadableValue

log = logging.getLogger(__name__)

MAX_ANSWER_BYTES = 64 << 20
"""Default cap on the bytes of one answer (every message of one operation together)."""
DECODE_FACTOR = 2
"""What decoding one answer may build, as a multiple of its byte cap (see messages.Budget).
A group of 100,000 members read with their dereferenced ids (the group's own ``member``
values not asked for: the control brings each DN) is an answer of 17.2 MiB, charged
56.5 MiB; it leaves 18.6 MiB of objects, and reading it peaks at 35.8 MiB (tracemalloc: the
answer and what is decoded from it). Under the defaults, groups of up to about 220,000
members."""
_RECV = 1 << 16  # a read while the size of the next message is not known yet
_MAX_RECV = 1 << 20  # the largest read, whatever length a header claims
_MAX_ID = 0x7FFFFFFF
_ids = itertools.count(1)
DEADLINE_SLACK = 0.001
"""How far past its deadline an exchange may wait, in seconds, so that the usual read need
not shorten the socket's timeout (see :meth:`_Reader._recv`)."""


class ConnectionLost(Exception):
    """The connection broke, timed out, was closed by the server, or spoke garbage: the
    request's outcome is unknown and the connection must not be used again."""


@dataclass(slots=True)
class Reply:
    result: Result
    entries: list[Entry] = field(default_factory=list)


def exchange(
    conn: Any,
    operation: bytes,
    controls: Sequence[Control] = (),
    *,
    max_bytes: int = MAX_ANSWER_BYTES,
    timeout: float | None = None,
) -> Reply:
    """Send ``operation`` on ``conn`` (a bound ldap3 Connection) and read its answer.

    ``timeout`` (default: the connection's receive timeout, which ldap3 set when it opened
    it) is the deadline of the whole exchange, sending included (a read may end up to
    :data:`DEADLINE_SLACK` after it). Continuation references
    a search answers with are handed back in ``result.references``, for the caller to refuse.

    Raises :class:`ConnectionLost` for anything that leaves the connection unusable, and
    :class:`~gateway.errors.UnreadableValue` when a well-formed answer holds a value that is
    not text (the answer is read to its end first, so the connection stays in step).
    """
    sock = getattr(conn, "socket", None)
    if sock is None or getattr(conn, "closed", False):
        raise ConnectionLost("not connected")
    if timeout is None:
        timeout = getattr(conn, "receive_timeout", None) or sock.gettimeout()
    message_id = _next_id()
    deadline = time.monotonic() + timeout if timeout else None
    reader = _Reader(sock, deadline, max_bytes, sock.gettimeout())
    budget = messages.Budget(DECODE_FACTOR * max_bytes)
    entries: list[Entry] = []
    references: list[str] = []
    refused: messages.NotText | None = None
    result: Result | None = None
    try:
        sock.sendall(messages.message(message_id, operation, controls))
        while result is None:
            data, start = reader.next_message()
            try:
                response = messages.decode(data, start, budget)
            except messages.NotText as err:
                refused = refused or err
                if err.final:
                    break
                continue
            if response.message_id == 0:  # unsolicited: the server is going away
                raise ConnectionLost(f"the directory ended the session: {_describe(response)}")
            if response.message_id != message_id:
                raise ConnectionLost(f"answer to message {response.message_id}, not {message_id}")
            if response.entry is not None:
                entries.append(response.entry)
            elif response.result is not None:
                result = response.result
            else:
                references.extend(response.reference)
        if reader.pending():
            raise ConnectionLost(f"{reader.pending()} bytes after the final response")
    except OSError as err:  # includes socket timeouts and TLS errors
        raise ConnectionLost(f"{type(err).__name__}: {err}") from err
    except ber.BerError as err:
        raise ConnectionLost(f"undecodable answer: {err}") from err
    if reader.waited:
        _restore_timeout(sock, timeout)
    if refused is not None:
        log.error(
            "refusing an LDAP answer: %s; the gateway never rewrites a value it cannot "
            "represent (map a text attribute, or leave this one out of the mapping)",
            refused,
        )
        raise UnreadableValue(refused.dn, refused.attribute)
    assert result is not None
    if references:
        result.references = tuple(references)
    return Reply(result, entries)


def _next_id() -> int:
    """A message id for the next request (1 to 2**31 - 1, then around again).

    Without a lock: a message id only has to differ from the others in flight on its
    connection, and a connection has one request in flight at a time (each worker thread
    owns its own, see ``pool``), so two threads given the same id would still each read
    their own answer. (Under CPython's GIL, ``next`` on an ``itertools.count`` does not
    hand out one number twice anyway.)"""
    return next(_ids) % _MAX_ID + 1


def _restore_timeout(sock: Any, timeout: float | None) -> None:
    """Reads shortened the socket's timeout to the time left; give it back its own."""
    try:
        sock.settimeout(timeout)
    except OSError as err:
        raise ConnectionLost(f"{type(err).__name__}: {err}") from err


class _Reader:
    """Whole LDAPMessages from a socket, without copying the bytes that follow each one."""

    __slots__ = ("data", "deadline", "left", "pos", "sock", "timeout", "waited")

    def __init__(
        self, sock: Any, deadline: float | None, max_bytes: int, timeout: float | None = None
    ) -> None:
        self.sock = sock
        self.deadline = deadline
        self.left = max_bytes  # bytes this answer may still bring
        self.data = b""
        self.pos = 0
        self.timeout = timeout  # the socket's own timeout now (None: unknown or blocking)
        self.waited = False  # the socket's timeout was shortened

    def next_message(self) -> tuple[bytes, int]:
        """(buffer, offset) of the next message; the buffer holds at least all of it.

        A message's size is read here when its header is all there and its length in the
        short form or a long form of one or two bytes (nearly every message: under 64 KiB),
        by ``ber.message_length`` otherwise — the same size (the unit tests compare the two
        on every form), a call fewer per message; nothing is read from an empty buffer."""
        while True:
            data = self.data
            start = self.pos
            available = len(data) - start
            size = None
            if available > 3:
                first = data[start + 1]
                if first < 0x80:
                    size = 2 + first
                elif first == 0x81:
                    size = 3 + data[start + 2]
                elif first == 0x82:
                    size = 4 + (data[start + 2] << 8 | data[start + 3])
            if size is None and available:
                size = ber.message_length(data, start)
            if size is not None and available >= size:
                self.pos = start + size
                return data, start
            self._fill(size, available)

    def pending(self) -> int:
        """Bytes received beyond the last message handed out."""
        return len(self.data) - self.pos

    def _fill(self, size: int | None, available: int) -> None:
        """Read at least the rest of a message of ``size`` bytes (or more of its header).

        The pieces and their join exist together for a moment: twice a big message, before
        any of it is decoded. For a big group that is not the read's peak, which comes
        while decoding (the answer and the rows made from it: 35.8 MiB at 100,000 members,
        the join's moment 34.4), so the pieces are not read into one buffer in place."""
        parts = [self.data[self.pos :]] if available else []
        wanted = (size or 0) - available
        while True:
            if wanted > self.left:
                raise ber.BerError(f"a message of {size} bytes is beyond the answer's cap")
            chunk = self._recv(min(max(_RECV, wanted), _MAX_RECV))
            if not chunk:
                raise ConnectionLost("the directory closed the connection")
            self.left -= len(chunk)
            if self.left < 0:
                raise ber.BerError("the answer is larger than its cap")
            parts.append(chunk)
            wanted -= len(chunk)
            if size is None or wanted <= 0:
                break
        # one piece and nothing before it (the usual answer: one read): the piece itself,
        # not a copy of it
        self.data = parts[0] if len(parts) == 1 else b"".join(parts)
        self.pos = 0

    def _recv(self, size: int) -> bytes:
        """One read that ends by the deadline (plus at most :data:`DEADLINE_SLACK`).

        The socket's timeout is shortened to the time left only when its own would let the
        read wait past that: the usual answer comes in one read started well within a
        millisecond of the exchange's start (sending its request is all that happened
        before), when the socket's own timeout — the exchange's, in the pool's connections
        — still fits, so neither that shortening nor the restoring after the answer (two
        system calls each round trip) is needed. Any later read, once the time left has
        fallen more than the slack below the socket's timeout, shortens it as before."""
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no complete answer within the operation's deadline")
            timeout = self.timeout
            if timeout is None or not 0 < timeout <= remaining + DEADLINE_SLACK:
                self.sock.settimeout(remaining)
                self.timeout = remaining
                self.waited = True
        return self.sock.recv(size)


def _describe(response: messages.Response) -> str:
    result = response.result
    if result is None:
        return "unknown notice"
    return f"{result.name or 'notice'} (result {result.code}) {result.message}".strip()
