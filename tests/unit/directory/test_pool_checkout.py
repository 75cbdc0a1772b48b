"""The pool's checkout of a thread's connection: a forked child never uses what it inherited
(told by the fork count ``os.register_at_fork`` keeps, not by ``os.getpid()``), and the
parent keeps its own."""

from __future__ import annotations

import os
import socket
import time
import warnings
from types import SimpleNamespace

import pytest

from gateway.directory import pool as poolmod
from gateway.directory.pool import ConnectionPool, ConnectionSettings
from gateway.errors import Unavailable


def _closed_port() -> int:
    """A loopback port nothing listens on (connecting is refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def pool_with_a_connection():
    settings = ConnectionSettings(
        urls=(f"ldap://127.0.0.1:{_closed_port()}",),
        bind_dn="cn=admin,dc=example,dc=org",
        bind_password="not-used",
        connect_timeout=0.5,
    )
    pool = ConnectionPool(settings)
    ours, theirs = socket.socketpair()
    conn = SimpleNamespace(socket=ours, closed=False, _gateway_opened=time.monotonic())
    pool._local.conn = conn
    yield pool, conn
    pool._local.conn = None
    ours.close()
    theirs.close()


def test_the_parent_keeps_its_connection(pool_with_a_connection) -> None:
    pool, conn = pool_with_a_connection
    assert pool.connection() is conn
    assert pool.connection() is conn


def test_a_forked_child_opens_its_own_rather_than_use_the_inherited_one(
    pool_with_a_connection,
) -> None:
    pool, conn = pool_with_a_connection
    assert pool.connection() is conn
    read, write = os.pipe()
    with warnings.catch_warnings():  # 3.12+: "fork() of a multi-threaded process"
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: answer through the pipe, never return into pytest
        answer = b"?"
        try:
            try:
                got = pool.connection()
                answer = b"inherited" if got is conn else b"other"
            except Unavailable:
                answer = b"opened"  # it tried to open its own: nothing listens there
            answer += b" forks=%d" % (poolmod._forks - pool._forks)
        finally:
            os.write(write, answer)
            os._exit(0)
    os.close(write)
    try:
        _, status = os.waitpid(pid, 0)
        answer = os.read(read, 100)
    finally:
        os.close(read)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert answer == b"opened forks=0"
    assert pool.connection() is conn  # the parent is not disturbed by its child


def test_a_pool_made_in_a_child_counts_from_the_childs_forks() -> None:
    settings = ConnectionSettings(urls=("ldap://127.0.0.1:1",), bind_dn="cn=x", bind_password="y")
    before = poolmod._forks
    poolmod._forked()  # as the hook runs in a child
    try:
        pool = ConnectionPool(settings)
        assert pool._forks == poolmod._forks == before + 1
    finally:
        poolmod._forks = before
