"""Per-process, per-thread LDAP connections.

Each worker thread owns one bound ldap3 SYNC connection: no lock around every operation
(a shared SAFE_SYNC connection serialises all threads) and no polling pool (ldap3's
REUSABLE strategy polls every 50 ms). Connections belong to the process that opened them:
after a fork (gunicorn workers) the child opens its own, lazily, on first use.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import select
import threading
import time
from dataclasses import dataclass

import ldap3
from ldap3.core.exceptions import LDAPException
from ldap3.utils.log import set_library_log_hide_sensitive_data

from gateway import metrics
from gateway.errors import Unavailable

log = logging.getLogger(__name__)

# ldap3 refuses to retry a server it saw fail for this many seconds; the default makes a
# restarted directory look dead for too long.
ldap3.set_config_parameter("RESET_AVAILABILITY_TIMEOUT", 1)
# ldap3's own logging is off unless someone raises its detail level; should anyone do so, it
# must still strip bind credentials (its default, stated here so nobody has to know that).
set_library_log_hide_sensitive_data(True)


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    urls: tuple[str, ...]
    bind_dn: str
    bind_password: str
    connect_timeout: float = 3.0
    operation_timeout: float = 10.0

    def __repr__(self) -> str:  # never show the password
        return f"ConnectionSettings(urls={self.urls!r}, bind_dn={self.bind_dn!r})"


class ConnectionPool:
    """Hands each thread of the current process its own bound connection."""

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings
        self._pid = os.getpid()
        self._local = threading.local()
        self._all: list[ldap3.Connection] = []
        self._lock = threading.Lock()

    def _server(self, connect_timeout: float) -> ldap3.Server | ldap3.ServerPool:
        servers = [
            ldap3.Server(url, connect_timeout=connect_timeout, get_info=ldap3.NONE)
            for url in self.settings.urls
        ]
        if len(servers) == 1:
            return servers[0]
        return ldap3.ServerPool(servers, pool_strategy=ldap3.FIRST, active=1, exhaust=False)

    def connection(self) -> ldap3.Connection:
        """This thread's connection, (re)opened and bound if needed."""
        if os.getpid() != self._pid:  # forked: nothing inherited is ours to use
            self._pid = os.getpid()
            self._local = threading.local()
            self._all = []
        conn: ldap3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and not conn.closed and _idle_socket_is_alive(conn):
            return conn
        if conn is not None:
            self.discard()
        conn = self._open(self.settings.connect_timeout, self.settings.operation_timeout)
        self._local.conn = conn
        with self._lock:
            self._all.append(conn)
        metrics.LDAP_CONNECTIONS_OPEN.inc()
        return conn

    def open_unpooled(self, timeout: float) -> ldap3.Connection:
        """A new bound connection that no thread owns, with ``timeout`` for connecting and
        for each answer (health checks); close it with :meth:`close_unpooled`."""
        return self._open(min(timeout, self.settings.connect_timeout), timeout)

    @staticmethod
    def close_unpooled(conn: ldap3.Connection) -> None:
        _close_quietly(conn)

    def _open(self, connect_timeout: float, operation_timeout: float) -> ldap3.Connection:
        conn = ldap3.Connection(
            self._server(connect_timeout),
            user=self.settings.bind_dn,
            password=self.settings.bind_password,
            client_strategy=ldap3.SYNC,
            auto_bind=ldap3.AUTO_BIND_NONE,
            auto_referrals=False,
            auto_escape=False,
            check_names=False,  # no schema is loaded (get_info=NONE): nothing to check against
            raise_exceptions=False,
            receive_timeout=max(1, math.ceil(operation_timeout)),  # ldap3 packs an int
            return_empty_attributes=False,
        )
        started = time.perf_counter()
        try:
            conn.open()
            ok = conn.bind()
        except LDAPException as err:
            metrics.observe_ldap("bind", None, time.perf_counter() - started)
            _close_quietly(conn)
            log.warning("cannot connect to the directory at %s: %s", self.settings.urls, err)
            raise Unavailable("connect", None, None, type(err).__name__) from err
        metrics.observe_ldap("bind", conn.result.get("result"), time.perf_counter() - started)
        if not ok:
            code = conn.result.get("result")
            _close_quietly(conn)
            log.error("bind as %s refused (LDAP result %s)", self.settings.bind_dn, code)
            raise Unavailable("bind", self.settings.bind_dn, code, "bind refused")
        log.debug("opened LDAP connection to %s", conn.server)
        return conn

    def discard(self) -> None:
        """Forget (and close) this thread's connection, e.g. after a socket error."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with self._lock:
                if conn in self._all:
                    self._all.remove(conn)
                    metrics.LDAP_CONNECTIONS_OPEN.dec()
            _close_quietly(conn)

    def close_all(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        metrics.LDAP_CONNECTIONS_OPEN.dec(len(conns))
        for conn in conns:
            _close_quietly(conn)
        self._local = threading.local()


def _idle_socket_is_alive(conn: ldap3.Connection) -> bool:
    """An idle LDAP connection has nothing to read; if it does, the server closed it.

    Checking before sending means a write after a directory restart goes out on a fresh
    connection instead of failing half-way with an unknown outcome.
    """
    sock = getattr(conn, "socket", None)
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def _close_quietly(conn: ldap3.Connection) -> None:
    try:
        conn.unbind()
    except Exception:
        log.debug("ignoring error while closing an LDAP connection", exc_info=True)
    sock = getattr(conn, "socket", None)  # ldap3 leaves it open after a failed connect
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.close()
