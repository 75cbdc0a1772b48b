"""How far a replicated directory node has got, and waiting for the other nodes to hold a write.

OpenLDAP multi-provider replication (syncrepl) stamps every change with a CSN
(``YYYYmmddHHMMSS.ffffffZ#count#serverID#mod``) and keeps, on the suffix entry of each
replicated database, one ``contextCSN`` per serverID: the newest change from that server the
node holds. CSNs of one format sort as text, so a node *has caught up with* another when, for
every serverID, its contextCSN is at least the other's. This module reads those vectors and
compares them; it does not decide which node the gateway writes to (see ``writer``) and does
not open connections (the pool hands it bound ones).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.directory import ldapfilter, messages
from gateway.directory.dn import is_within, normalize
from gateway.directory.entry import Modification, ModOp
from gateway.directory.exchange import ConnectionLost, exchange
from gateway.errors import Unavailable, WriteUnanswered

log = logging.getLogger(__name__)

Vector = dict[tuple[str, str], str]
"""(naming context, serverID) -> newest CSN from that server which the node holds."""

_POLL_FIRST_S = 0.001
_POLL_MAX_S = 0.02


def vector(context: str, csns: Iterable[str]) -> Vector:
    """The contextCSN values of one naming context as a vector (malformed values ignored)."""
    out: Vector = {}
    for csn in csns:
        parts = csn.split("#")
        if len(parts) != 4:
            continue
        key = (normalize(context), parts[2].lower())
        if csn > out.get(key, ""):
            out[key] = csn
    return out


def caught_up(candidate: Vector, reference: Vector) -> bool:
    """True when ``candidate`` holds every change ``reference`` holds (per serverID)."""
    return all(candidate.get(key, "") >= csn for key, csn in reference.items())


def behind_seconds(candidate: Vector, reference: Vector) -> float:
    """How far ``candidate`` trails ``reference``, by the clock time inside the CSNs (0 when
    caught up; infinite when it lacks a server's changes altogether or a CSN is malformed)."""
    worst = 0.0
    for key, csn in reference.items():
        mine = candidate.get(key, "")
        if mine >= csn:
            continue
        try:
            worst = max(worst, _csn_time(csn) - _csn_time(mine))
        except ValueError:
            return math.inf
    return worst


def _csn_time(csn: str) -> float:
    stamp = csn.split("#", 1)[0].rstrip("Z")  # YYYYmmddHHMMSS.ffffff
    when = datetime.strptime(stamp, "%Y%m%d%H%M%S.%f").replace(tzinfo=UTC)
    return when.timestamp()


def lag(candidate: Vector, reference: Vector) -> list[str]:
    """The serverIDs (with context) on which ``candidate`` is behind, for logs."""
    return [
        f"{sid}@{ctx}"
        for (ctx, sid), csn in reference.items()
        if candidate.get((ctx, sid), "") < csn
    ]


def replicated_contexts(conn: Any, bases: Sequence[str]) -> tuple[str, ...]:
    """The root DSE's naming contexts that hold one of ``bases`` (the mapped subtrees): only
    those are compared (a change log database such as cn=accesslog is not)."""
    request = messages.search_request("", "base", ldapfilter.MATCH_ALL, ["namingContexts"])
    reply = exchange(conn, request)
    found = reply.entries[0].get("namingContexts") if reply.entries else ()
    return tuple(c for c in found if any(is_within(b, c) for b in bases))


def read_vector(conn: Any, contexts: Sequence[str]) -> Vector:
    """The node's contextCSN vector over ``contexts`` (one base search each); raises
    ConnectionLost when the connection fails."""
    out: Vector = {}
    for context in contexts:
        request = messages.search_request(context, "base", ldapfilter.MATCH_ALL, ["contextCSN"])
        reply = exchange(conn, request)
        if reply.entries:
            out.update(vector(context, reply.entries[0].get("contextCSN")))
    return out


@dataclass(frozen=True, slots=True)
class WriteConcern:
    """Acknowledge a write only once every other node holds it (bounded wait).

    After a successful write the node that took it is asked for its contextCSN vector (one
    more round trip: it covers adds, modifies, renames and deletes alike); each other node is
    then polled until its vector has caught up. On timeout the write is reported as
    :class:`~gateway.errors.WriteUnanswered`: it was made on one node but may not survive the
    loss of that node, so the client must not take it as done.
    """

    timeout: float = 2.0

    def confirm(
        self,
        operation: str,
        dn: str | None,
        writer: Any,
        peers: Sequence[str],
        contexts: Sequence[str],
        peer_connection: Callable[[str], Any],
        drop_peer: Callable[[str], None],
    ) -> None:
        try:
            target = read_vector(writer, contexts)
        except ConnectionLost as err:
            raise WriteUnanswered(operation, dn, None, "writer lost before confirmation") from err
        deadline = time.monotonic() + self.timeout
        for url in peers:
            if not self._wait_for(url, target, contexts, deadline, peer_connection, drop_peer):
                log.warning(
                    "LDAP %s on %r: not confirmed by %s within %.1fs (write concern)",
                    operation,
                    dn,
                    url,
                    self.timeout,
                )
                raise WriteUnanswered(operation, dn, None, f"not confirmed by {url}")

    @staticmethod
    def _wait_for(
        url: str,
        target: Vector,
        contexts: Sequence[str],
        deadline: float,
        peer_connection: Callable[[str], Any],
        drop_peer: Callable[[str], None],
    ) -> bool:
        pause = _POLL_FIRST_S
        while True:
            try:
                if caught_up(read_vector(peer_connection(url), contexts), target):
                    return True
            except (ConnectionLost, Unavailable):
                drop_peer(url)
            if time.monotonic() + pause > deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, _POLL_MAX_S)


@dataclass(frozen=True, slots=True)
class ExactPlan:
    """A modify rewritten so that every value it adds is absent and every value it deletes is
    present, with the assertions (RFC 4528) that made it so."""

    changes: tuple[Modification, ...]
    guards: tuple[ldapfilter.LdapFilter, ...]


def plan_exact(
    changes: Sequence[Modification], present: Callable[[str, str], bool]
) -> ExactPlan | None:
    """Drop the value adds and deletes that would change nothing, asking ``present(attr,
    value)`` (a server-side equality match) once per value.

    Why: the permissive-modify control makes such no-ops succeed on the node that takes the
    write, but delta-syncrepl replays the logged request on the other nodes WITHOUT it, where
    the whole modify then fails (typeOrValueExists / noSuchAttribute) and is skipped: the
    gateway's member add [add X, add placeholder, delete placeholder] lost X on the other node
    whenever the placeholder was still there (measured). An exact modify replays cleanly.
    None: the changes mix value-level with whole-attribute changes of one attribute (left as
    they are).
    """
    whole = {
        m.attr.lower()
        for m in changes
        if m.op is not ModOp.ADD and not (m.op is ModOp.DELETE and m.values)
    }
    state: dict[tuple[str, str], bool] = {}
    guards: list[ldapfilter.LdapFilter] = []
    out: list[Modification] = []
    for mod in changes:
        attr = mod.attr.lower()
        if not (mod.op is ModOp.ADD or (mod.op is ModOp.DELETE and mod.values)):
            out.append(mod)
            continue
        if attr in whole:
            return None
        kept = []
        for value in dict.fromkeys(mod.values):
            key = (attr, value)
            if key not in state:
                state[key] = present(mod.attr, value)
                guard = ldapfilter.Equal(mod.attr, value)
                guards.append(guard if state[key] else ldapfilter.Not(guard))
            if state[key] != (mod.op is ModOp.ADD):
                kept.append(value)
                state[key] = mod.op is ModOp.ADD
        if kept:
            out.append(Modification(mod.attr, mod.op, tuple(kept)))
    return ExactPlan(tuple(out), tuple(guards))


class PeerConnections:
    """Each thread's connections to the nodes it does not write to (write-concern polls)."""

    def __init__(self, open_one: Callable[[str], Any], close: Callable[[Any], None]) -> None:
        self._open = open_one
        self._close = close
        self._local = threading.local()

    def _mine(self) -> dict[str, Any]:
        conns = getattr(self._local, "conns", None)
        if conns is None:
            conns = self._local.conns = {}
        return conns

    def get(self, url: str) -> Any:
        conns = self._mine()
        conn = conns.get(url)
        if conn is None or getattr(conn, "closed", False):
            conn = conns[url] = self._open(url)
        return conn

    def drop(self, url: str) -> None:
        conn = self._mine().pop(url, None)
        if conn is not None:
            self._close(conn)

    def reset(self) -> None:
        """Forget inherited connections (after a fork)."""
        self._local = threading.local()
