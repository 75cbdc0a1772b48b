"""Per-process, per-thread LDAP connections.

Each worker thread owns one bound ldap3 SYNC connection: no lock around every operation
(a shared SAFE_SYNC connection serialises all threads) and no polling pool (ldap3's
REUSABLE strategy polls every 50 ms). Connections belong to the process that opened them:
after a fork (gunicorn workers) the child opens its own, lazily, on first use.

With several URLs and ``single_writer`` (a replicated directory), every connection goes to
the node a :class:`~gateway.directory.writer.WriterChoice` shared by all processes of the host
has chosen, never simply to "the first URL that answers": see ``writer`` for failover and
failback and ``replication`` for the optional write concern.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import select
import ssl
import threading
import time
from dataclasses import dataclass

import ldap3
from ldap3.core.exceptions import LDAPException
from ldap3.utils.log import set_library_log_hide_sensitive_data

from gateway import metrics
from gateway.directory import replication
from gateway.directory.exchange import ConnectionLost
from gateway.directory.writer import WriterChoice, default_state_path
from gateway.errors import Unavailable

log = logging.getLogger(__name__)

# ldap3 refuses to retry a server it saw fail for this many seconds; the default makes a
# restarted directory look dead for too long.
ldap3.set_config_parameter("RESET_AVAILABILITY_TIMEOUT", 1)
# ldap3's own logging is off unless someone raises its detail level; should anyone do so, it
# must still strip bind credentials (its default, stated here so nobody has to know that).
set_library_log_hide_sensitive_data(True)


_forks = 0
"""How many ``os.fork()`` calls led to this process (counted in each child)."""


def _forked() -> None:
    global _forks
    _forks += 1


os.register_at_fork(after_in_child=_forked)


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    urls: tuple[str, ...]
    bind_dn: str
    bind_password: str
    connect_timeout: float = 3.0
    operation_timeout: float = 10.0
    start_tls: bool = False  # upgrade ldap:// connections (ldaps:// URLs use TLS anyway)
    ca_file: str | None = None  # PEM bundle; None: the system's CAs
    verify: bool = True  # verify the directory's certificate and name
    max_age: float = 300.0  # reopen after this long (to the chosen node with single_writer)
    single_writer: bool = False  # several URLs: one node for every process of the host
    writer_state_path: str | None = None  # None: derived from the URLs in the temp directory
    replicated_bases: tuple[str, ...] = ()  # subtrees whose contextCSN tells who caught up
    failback_interval: float = 1.0  # seconds between checks whether the preferred node is back
    write_concern_timeout: float = 0.0  # > 0: a write is acknowledged once all nodes hold it

    def __repr__(self) -> str:  # never show the password
        return f"ConnectionSettings(urls={self.urls!r}, bind_dn={self.bind_dn!r})"


class ConnectionPool:
    """Hands each thread of the current process its own bound connection."""

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings
        self._forks = _forks
        self._local = threading.local()
        self._all: list[ldap3.Connection] = []
        self._lock = threading.Lock()
        self._tls = _tls(settings)
        self._writer: WriterChoice | None = None
        if settings.single_writer and len(settings.urls) > 1:
            path = settings.writer_state_path or default_state_path(settings.urls, settings.bind_dn)
            self._writer = WriterChoice(
                settings.urls, path, failback_interval=settings.failback_interval
            )
        self._contexts: tuple[str, ...] | None = None
        self._concern = (
            replication.WriteConcern(settings.write_concern_timeout)
            if settings.write_concern_timeout > 0 and self._writer is not None
            else None
        )
        self._peers = replication.PeerConnections(self._open_peer, _close_quietly)
        if not settings.verify and self._tls is not None:
            log.warning(
                "TLS certificate verification of the directory is OFF (LDAP_TLS_VERIFY="
                "false): anyone on the path can impersonate the directory"
            )

    def connection(self) -> ldap3.Connection:
        """This thread's connection, (re)opened and bound if needed.

        A forked child (gunicorn's workers) uses nothing it inherited. It knows it is one by
        the count of forks :func:`os.register_at_fork` keeps, not by asking ``os.getpid()``
        each time (a system call per round trip, three a member add): every fork that goes
        on running Python in the child — ``os.fork``, ``os.forkpty``, multiprocessing's
        fork — runs that hook before the child's first line, so both tell the same children
        apart (tests/unit/directory/test_pool_checkout.py forks one). Without a single
        writer, the chosen-node check is not called at all (it answers yes)."""
        if _forks != self._forks:  # forked: nothing inherited is ours to use
            self._forks = _forks
            self._local = threading.local()
            self._all = []
            self._peers.reset()
        conn: ldap3.Connection | None = getattr(self._local, "conn", None)
        if (
            conn is not None
            and not conn.closed
            and time.monotonic() - getattr(conn, "_gateway_opened", 0.0) < self.settings.max_age
            and (self._writer is None or self._on_chosen_node(conn))
            and _idle_socket_is_alive(conn)
        ):
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
        """Connect and bind to the first URL that answers, in the configured order (with a
        single writer: to the chosen node, failing everyone over if it does not answer).

        Failover is done here rather than with ldap3's ServerPool, whose "all servers
        down" path sleeps 10 s between rounds: with every directory down the caller gets
        its 503 after one connect timeout per URL.
        """
        if self._writer is not None:
            return self._open_chosen(connect_timeout, operation_timeout)
        last: Unavailable | None = None
        for url in self.settings.urls:
            try:
                return self._open_one(url, connect_timeout, operation_timeout)
            except Unavailable as err:
                last = err
                if err.operation == "bind":  # the server answered and refused us: don't hop
                    raise
        assert last is not None
        raise last

    def _open_one(
        self, url: str, connect_timeout: float, operation_timeout: float
    ) -> ldap3.Connection:
        server = ldap3.Server(
            url, connect_timeout=connect_timeout, get_info=ldap3.NONE, tls=self._tls
        )
        conn = ldap3.Connection(
            server,
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
            if self.settings.start_tls and not conn.server.ssl:
                conn.start_tls()
            ok = conn.bind()
        except LDAPException as err:
            metrics.observe_ldap("bind", None, time.perf_counter() - started)
            _close_quietly(conn)
            log.warning("cannot connect to the directory at %s: %s", url, err)
            raise Unavailable("connect", None, None, type(err).__name__) from err
        metrics.observe_ldap("bind", conn.result.get("result"), time.perf_counter() - started)
        if not ok:
            code = conn.result.get("result")
            _close_quietly(conn)
            log.error("bind as %s to %s refused (LDAP result %s)", self.settings.bind_dn, url, code)
            raise Unavailable("bind", self.settings.bind_dn, code, "bind refused")
        log.debug("opened LDAP connection to %s", url)
        conn._gateway_opened = time.monotonic()  # type: ignore[attr-defined]
        return conn

    # ------------------------------------------------------------------ single writer

    def _open_chosen(self, connect_timeout: float, operation_timeout: float) -> ldap3.Connection:
        assert self._writer is not None
        state = self._writer.current(self._probe)
        try:
            conn = self._open_one(
                self.settings.urls[state.index], connect_timeout, operation_timeout
            )
        except Unavailable as err:
            if err.operation == "bind":
                raise
            state = self._writer.fail_over(state, self._probe)
            conn = self._open_one(
                self.settings.urls[state.index], connect_timeout, operation_timeout
            )
        conn._gateway_generation = state.generation  # type: ignore[attr-defined]
        conn._gateway_url = self.settings.urls[state.index]  # type: ignore[attr-defined]
        return conn

    def _on_chosen_node(self, conn: ldap3.Connection) -> bool:
        """With a single writer: is ``conn`` on the node chosen now? (A failback is tried
        here, by whichever request comes first once it is due.)"""
        if self._writer is None:
            return True
        state = self._writer.read()
        if self._writer.failback_due(state):
            state = self._writer.try_failback(self._probe)
        return getattr(conn, "_gateway_generation", None) == state.generation

    def _probe(self, url: str) -> replication.Vector:
        """The contextCSN vector of the node at ``url`` over a connection of its own."""
        conn = self._open_one(url, self.settings.connect_timeout, self.settings.operation_timeout)
        try:
            if self._contexts is None:
                self._contexts = replication.replicated_contexts(
                    conn, self.settings.replicated_bases
                )
            return replication.read_vector(conn, self._contexts)
        except ConnectionLost as err:
            raise Unavailable("connect", None, None, "connection lost") from err
        finally:
            _close_quietly(conn)

    def _open_peer(self, url: str) -> ldap3.Connection:
        """A connection for write-concern polls: no answer waited for longer than the concern."""
        wait = min(self.settings.operation_timeout, self.settings.write_concern_timeout or 1.0)
        return self._open_one(url, min(self.settings.connect_timeout, wait), wait)

    @property
    def replicated(self) -> bool:
        """Several nodes written through one chosen node (multi-provider replication)."""
        return self._writer is not None

    def writing(self) -> contextlib.AbstractContextManager[object]:
        """Around each write: with a single writer, waits out a failback and holds it off."""
        if self._writer is None:
            return contextlib.nullcontext()
        return self._writer.writing()

    def confirm_write(self, operation: str, dn: str | None) -> None:
        """With the write concern on: return once every other node holds this thread's last
        write, or raise WriteUnanswered after the bounded wait."""
        if self._concern is None:
            return
        conn = getattr(self._local, "conn", None)
        url = getattr(conn, "_gateway_url", None)
        if conn is None or url is None:
            return
        if self._contexts is None:
            self._probe(url)
        peers = [u for u in self.settings.urls if u != url]
        self._concern.confirm(
            operation,
            dn,
            conn,
            peers,
            self._contexts or (),
            self._peers.get,
            self._peers.drop,
        )

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

    Asked with ``poll`` rather than ``select`` (once per round trip: 2.8 -> 1.7 us here):
    the same answer — anything to read, end of file or an error is an event (poll always
    reports POLLHUP, POLLERR and POLLNVAL; select counts them readable or raises), a
    closed socket's -1 is a ValueError for both — and no FD_SETSIZE limit: ``select``
    refuses a descriptor numbered 1024 or more, which made such a connection look dead.

    The poll object is made once and kept on the connection with the descriptor it was
    given (1.5 -> 0.7 us a check): poll answers for a descriptor number, so while the
    socket reports that same number (a closed one reports -1; a new socket on another
    number gets a poll object of its own) the kept object answers what a new one would.
    """
    sock = getattr(conn, "socket", None)
    if sock is None:
        return False
    try:
        kept = getattr(conn, "_gateway_poll", None)
        if kept is not None and kept[0] == sock.fileno():
            poller = kept[1]
        else:
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            conn._gateway_poll = (sock.fileno(), poller)  # type: ignore[attr-defined]
        return not poller.poll(0)
    except (OSError, ValueError):
        return False


def _close_quietly(conn: ldap3.Connection) -> None:
    try:
        conn.unbind()
    except Exception:
        log.debug("ignoring error while closing an LDAP connection", exc_info=True)
    sock = getattr(conn, "socket", None)  # ldap3 leaves it open after a failed connect
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.close()


def _tls(settings: ConnectionSettings) -> ldap3.Tls | None:
    """TLS for ldaps:// and StartTLS: certificate and host name checked unless turned off."""
    uses_tls = settings.start_tls or any(u.lower().startswith("ldaps://") for u in settings.urls)
    if not uses_tls:
        return None
    if not settings.verify:
        return ldap3.Tls(validate=ssl.CERT_NONE)
    return ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=settings.ca_file)
