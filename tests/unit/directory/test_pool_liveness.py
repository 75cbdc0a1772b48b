"""The pool's check that an idle connection is still alive (``pool._idle_socket_is_alive``):
asked with ``poll``, it answers what ``select`` answered for every state a socket can be in."""

from __future__ import annotations

import contextlib
import os
import resource
import select
import socket
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from gateway.directory.pool import _idle_socket_is_alive


def _select_says_alive(conn: Any) -> bool:
    """The check as it was written with ``select``."""
    sock = getattr(conn, "socket", None)
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


@contextlib.contextmanager
def _pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, theirs = socket.socketpair()
    ours.settimeout(5)
    try:
        yield ours, theirs
    finally:
        ours.close()
        theirs.close()


def _idle(ours: socket.socket, theirs: socket.socket) -> None:
    pass


def _answer_pending(ours: socket.socket, theirs: socket.socket) -> None:
    theirs.sendall(b"\x30\x03\x02\x01\x00")


def _peer_closed(ours: socket.socket, theirs: socket.socket) -> None:
    theirs.close()


def _peer_shut_its_side(ours: socket.socket, theirs: socket.socket) -> None:
    theirs.shutdown(socket.SHUT_WR)


def _we_closed(ours: socket.socket, theirs: socket.socket) -> None:
    ours.close()


def _drained(ours: socket.socket, theirs: socket.socket) -> None:
    theirs.sendall(b"x")
    ours.recv(1)


STATES: dict[str, Callable[[socket.socket, socket.socket], None]] = {
    "idle": _idle,
    "an answer pending": _answer_pending,
    "the peer closed": _peer_closed,
    "the peer shut its side": _peer_shut_its_side,
    "our socket closed": _we_closed,
    "read to its end": _drained,
}
ALIVE = {"idle", "read to its end"}


@pytest.mark.parametrize("state", STATES)
def test_poll_answers_what_select_answered(state: str) -> None:
    with _pair() as (ours, theirs):
        STATES[state](ours, theirs)
        conn = SimpleNamespace(socket=ours)
        assert _idle_socket_is_alive(conn) == _select_says_alive(conn)
        assert _idle_socket_is_alive(conn) == (state in ALIVE)


def test_no_socket_is_not_alive() -> None:
    assert _idle_socket_is_alive(SimpleNamespace(socket=None)) is False
    assert _idle_socket_is_alive(SimpleNamespace()) is False


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def test_a_descriptor_past_select_s_limit_is_checked_too() -> None:
    """``select`` refused descriptors numbered 1024 and up (the connection looked dead and
    was reopened every time); ``poll`` has no such limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1100:
        pytest.skip("this process may not open a descriptor past 1024")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1100), hard))
    try:
        with _pair() as (ours, theirs):
            free = next(fd for fd in range(1090, 1100) if not _is_open(fd))
            high = socket.socket(fileno=os.dup2(ours.fileno(), free))
            try:
                conn = SimpleNamespace(socket=high)
                assert _idle_socket_is_alive(conn) is True
                theirs.sendall(b"x")
                assert _idle_socket_is_alive(conn) is False
            finally:
                high.close()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
