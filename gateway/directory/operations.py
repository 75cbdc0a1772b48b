"""LDAP operations: search (plain and paged), read, add, modify, rename, delete.

Each method is one LDAP round trip (a paged search: one per page). Every round trip is
recorded in :data:`round_trips` (count, and operation / DN / result code, so the web layer can
log how many a SCIM request needed and write the audit line of a change) and in the Prometheus
metrics of :mod:`gateway.metrics`. Writes ask for the entry back with a post-read control
(RFC 4527) instead of a second search. Result codes become
:class:`~gateway.errors.DirectoryError` subclasses here and nowhere else.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import ldap3
from ldap3.core.exceptions import (
    LDAPCommunicationError,
    LDAPResponseTimeoutError,
    LDAPSessionTerminatedByServerError,
    LDAPSocketCloseError,
    LDAPSocketOpenError,
    LDAPSocketReceiveError,
    LDAPSocketSendError,
)
from ldap3.protocol.rfc4527 import post_read_control

from gateway import metrics
from gateway.directory import ldapfilter, sorting
from gateway.directory.entry import Entry, Modification, ModOp, decode_attributes
from gateway.directory.pool import ConnectionPool
from gateway.errors import (
    AssertionFailed,
    DirectoryError,
    EntryExists,
    InsufficientAccess,
    NoSuchEntry,
    SchemaViolation,
    SizeLimit,
    Unavailable,
)

log = logging.getLogger(__name__)

PERMISSIVE_MODIFY_OID = "1.2.840.113556.1.4.1413"
"""Adding a present value / deleting an absent one succeeds (OpenLDAP, AD): idempotent writes."""
ASSERTION_OID = "1.3.6.1.1.12"
POST_READ_OID = "1.3.6.1.1.13.2"

SCOPES = {"base": ldap3.BASE, "one": ldap3.LEVEL, "sub": ldap3.SUBTREE}

_CONNECTION_ERRORS = (
    LDAPSocketOpenError,
    LDAPSocketSendError,
    LDAPSocketReceiveError,
    LDAPSocketCloseError,
    LDAPSessionTerminatedByServerError,
    LDAPResponseTimeoutError,
    LDAPCommunicationError,
)

_RESULT_ERRORS: dict[int, type[DirectoryError]] = {
    4: SizeLimit,
    32: NoSuchEntry,
    68: EntryExists,
    122: AssertionFailed,
    **dict.fromkeys((16, 17, 18, 19, 20, 21, 34, 64, 65, 66, 67, 69), SchemaViolation),
    **dict.fromkeys((48, 49, 50), InsufficientAccess),
    **dict.fromkeys((3, 51, 52, 80, 81), Unavailable),
}


class LdapOperation(NamedTuple):
    """One LDAP request as the audit log shows it: no filter, no values, no credentials."""

    operation: str  # search, add, modify, modrdn, delete
    dn: str | None  # the entry written, or the search base
    result: int | None  # LDAP result code; None when the connection failed


@dataclass(slots=True)
class RoundTrips:
    """The LDAP requests the current unit of work (one HTTP request) sent."""

    count: int = 0
    operations: list[LdapOperation] = field(default_factory=list)
    dropped: int = 0  # operations beyond MAX_RECORDED: counted, not kept

    MAX_RECORDED = 1000

    def record(self, operation: LdapOperation) -> None:
        if len(self.operations) < self.MAX_RECORDED:
            self.operations.append(operation)
        else:
            self.dropped += 1


round_trips: ContextVar[RoundTrips | None] = ContextVar("ldap_round_trips", default=None)


@contextlib.contextmanager
def counting_round_trips() -> Iterator[RoundTrips]:
    """Record every LDAP request sent inside the ``with`` block (count and operations)."""
    counter = RoundTrips()
    token = round_trips.set(counter)
    try:
        yield counter
    finally:
        round_trips.reset(token)


def _count() -> None:
    counter = round_trips.get()
    if counter is not None:
        counter.count += 1


def _record(operation: str, dn: str | None, code: int | None, started: float) -> None:
    metrics.observe_ldap(operation, code, time.perf_counter() - started)
    counter = round_trips.get()
    if counter is not None:
        counter.record(LdapOperation(operation, dn, code))


class Directory:
    """The LDAP operations the gateway needs, on the calling thread's connection."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool
        self._controls: frozenset[str] | None = None

    # ------------------------------------------------------------------ plumbing

    def _call(self, operation: str, dn: str | None, send: Callable[[Any], Any], *, retry: bool):
        """Run ``send(conn)`` once; on a dead connection reconnect and retry reads only.

        A write whose connection broke mid-flight has an unknown outcome, so it is reported
        as unavailable rather than repeated (the pool already replaces connections the
        server closed while idle, before anything is sent).
        """
        attempts = 2 if retry else 1
        for attempt in range(attempts):
            conn = self.pool.connection()
            _count()
            started = time.perf_counter()
            try:
                send(conn)
            except _CONNECTION_ERRORS as err:
                _record(operation, dn, None, started)
                self.pool.discard()
                log.warning("LDAP %s on %r lost its connection: %s", operation, dn, err)
                if attempt + 1 == attempts:
                    raise Unavailable(operation, dn, None, type(err).__name__) from err
                continue
            _record(operation, dn, (conn.result or {}).get("result"), started)
            return conn
        raise AssertionError("unreachable")

    @staticmethod
    def _check(operation: str, dn: str | None, conn: Any, ok: Any) -> dict[str, Any]:
        result = conn.result or {}
        code = result.get("result", 0 if ok else 80)
        if code == 0:
            return result
        cls = _RESULT_ERRORS.get(code, DirectoryError)
        message = result.get("message") or result.get("description") or ""
        log.debug("LDAP %s on %r failed: %s %s", operation, dn, code, message)
        raise cls(operation, dn, code, message)

    # ------------------------------------------------------------------ health

    def ping(self, bases: Sequence[str] = (), timeout: float = 2.0) -> None:
        """Prove the directory serves us now: a fresh connection and bind, then a base-scope
        read of each of ``bases`` (the root DSE if none), all within ``timeout`` per step.

        Uses a connection of its own, closed afterwards, so a health check neither waits
        behind nor disturbs the worker threads' connections. Raises
        :class:`~gateway.errors.Unavailable` (connect, bind, timeout) or the DirectoryError of
        a read that failed (e.g. NoSuchEntry for a missing base).
        """
        conn = self.pool.open_unpooled(timeout)
        try:
            for base in bases or ("",):
                started = time.perf_counter()
                try:
                    ok = conn.search(base, "(objectClass=*)", ldap3.BASE, attributes=["1.1"])
                except _CONNECTION_ERRORS as err:
                    metrics.observe_ldap("ping", None, time.perf_counter() - started)
                    raise Unavailable("ping", base, None, type(err).__name__) from err
                code = (conn.result or {}).get("result")
                metrics.observe_ldap("ping", code, time.perf_counter() - started)
                self._check("ping", base, conn, ok)
        finally:
            self.pool.close_unpooled(conn)

    # ------------------------------------------------------------------ reads

    def search(
        self,
        base: str,
        scope: str,
        flt: ldapfilter.LdapFilter,
        attributes: Sequence[str],
        *,
        size_limit: int = 0,
    ) -> list[Entry]:
        """One search request; for results known to be small (by id, by unique name)."""
        text = ldapfilter.render(flt)
        log.debug("search base=%r scope=%s filter=%s", base, scope, text)
        holder: dict[str, Any] = {}

        def send(conn: Any) -> None:
            holder["ok"] = conn.search(
                base,
                text,
                SCOPES[scope],
                attributes=list(attributes) or ["1.1"],
                size_limit=size_limit,
            )

        conn = self._call("search", base, send, retry=True)
        code = (conn.result or {}).get("result", 0)
        if code == 32:
            return []
        if code != 4:  # sizeLimitExceeded still hands back the entries sent so far
            self._check("search", base, conn, holder["ok"])
        return _entries(conn.response)

    def search_paged(
        self,
        base: str,
        scope: str,
        flt: ldapfilter.LdapFilter,
        attributes: Sequence[str],
        *,
        page_size: int = 500,
        sort: Sequence[sorting.SortKey] = (),
    ) -> Iterator[Entry]:
        """All matching entries, fetched ``page_size`` at a time (RFC 2696); memory stays flat.

        With ``sort``, the server sorts them first (RFC 2891); read every page, or the server
        keeps the sorted set until the connection closes.
        """
        text = ldapfilter.render(flt)
        log.debug("paged search base=%r scope=%s filter=%s", base, scope, text)
        sort_controls = [sorting.sort_control(list(sort))] if sort else None
        cookie: bytes | str | None = None
        first = True
        while first or cookie:
            holder: dict[str, Any] = {}

            def send(conn: Any, cookie: Any = cookie, holder: dict[str, Any] = holder) -> None:
                holder["ok"] = conn.search(
                    base,
                    text,
                    SCOPES[scope],
                    attributes=list(attributes) or ["1.1"],
                    paged_size=page_size,
                    paged_cookie=cookie,
                    controls=sort_controls,
                )

            # a paging cookie belongs to its connection: only the first page may be retried
            conn = self._call("search", base, send, retry=first)
            code = (conn.result or {}).get("result", 0)
            if code == 32:
                return
            self._check("search", base, conn, holder["ok"])
            entries = _entries(conn.response)
            answered = (conn.result or {}).get("controls") or {}
            paged = answered.get("1.2.840.113556.1.4.319", {}).get("value", {})
            cookie = paged.get("cookie")
            first = False
            yield from entries

    def supported_controls(self) -> frozenset[str]:
        """The root DSE's supportedControl, read once per process."""
        if self._controls is None:
            found = self.search("", "base", ldapfilter.MATCH_ALL, ["supportedControl"])
            self._controls = frozenset(found[0].get("supportedControl")) if found else frozenset()
        return self._controls

    def read(self, dn: str, attributes: Sequence[str]) -> Entry | None:
        """The entry at ``dn``, or None when there is none."""
        found = self.search(dn, "base", ldapfilter.MATCH_ALL, attributes)
        return found[0] if found else None

    # ------------------------------------------------------------------ writes

    def add(
        self, dn: str, attributes: Mapping[str, Sequence[str]], *, read_back: Sequence[str] = ()
    ) -> Entry:
        """Create the entry; returns it with ``read_back`` attributes from the post-read control."""
        attrs = {k: list(v) for k, v in attributes.items() if v}
        controls = [post_read_control(list(read_back))] if read_back else None
        log.debug("add dn=%r attributes=%s", dn, sorted(attrs))
        holder: dict[str, Any] = {}

        def send(conn: Any) -> None:
            holder["ok"] = conn.add(dn, attributes=attrs, controls=controls)

        conn = self._call("add", dn, send, retry=False)
        result = self._check("add", dn, conn, holder["ok"])
        merged = {k.lower(): tuple(str(x) for x in v) for k, v in attrs.items()}
        merged.update(_post_read(result))
        return Entry(dn, merged)

    def modify(
        self,
        dn: str,
        changes: Sequence[Modification],
        *,
        read_back: Sequence[str] = (),
        assertion: ldapfilter.LdapFilter | None = None,
        permissive: bool = True,
    ) -> Entry | None:
        """Apply ``changes`` atomically (one LDAP modify). Empty ``changes`` sends nothing."""
        if not changes:
            return None
        payload: dict[str, list[tuple[str, list[str]]]] = {}
        for mod in changes:
            payload.setdefault(mod.attr, []).append((_MOD_OPS[mod.op], list(mod.values)))
        controls: list[Any] = []
        if permissive:
            controls.append((PERMISSIVE_MODIFY_OID, False, None))
        if assertion is not None:
            controls.append(_assertion_control(assertion))
        if read_back:
            controls.append(post_read_control(list(read_back)))
        log.debug("modify dn=%r changes=%s", dn, [(m.attr, m.op.value) for m in changes])
        holder: dict[str, Any] = {}

        def send(conn: Any) -> None:
            holder["ok"] = conn.modify(dn, payload, controls=controls or None)

        conn = self._call("modify", dn, send, retry=False)
        result = self._check("modify", dn, conn, holder["ok"])
        if not read_back:
            return None
        return Entry(dn, _post_read(result))

    def rename(
        self,
        dn: str,
        new_rdn: str,
        *,
        new_superior: str | None = None,
        assertion: ldapfilter.LdapFilter | None = None,
    ) -> str:
        """Modify DN (RFC 4511 §4.9), dropping the old RDN value; returns the new DN."""
        log.debug("modrdn dn=%r newrdn=%r superior=%r", dn, new_rdn, new_superior)
        holder: dict[str, Any] = {}
        controls = [_assertion_control(assertion)] if assertion is not None else None

        def send(conn: Any) -> None:
            holder["ok"] = conn.modify_dn(
                dn, new_rdn, delete_old_dn=True, new_superior=new_superior, controls=controls
            )

        conn = self._call("modrdn", dn, send, retry=False)
        self._check("modrdn", dn, conn, holder["ok"])
        parent = new_superior if new_superior is not None else _parent_of(dn)
        return f"{new_rdn},{parent}" if parent else new_rdn

    def delete(self, dn: str, *, assertion: ldapfilter.LdapFilter | None = None) -> None:
        log.debug("delete dn=%r", dn)
        holder: dict[str, Any] = {}
        controls = [_assertion_control(assertion)] if assertion is not None else None

        def send(conn: Any) -> None:
            holder["ok"] = conn.delete(dn, controls=controls)

        conn = self._call("delete", dn, send, retry=False)
        self._check("delete", dn, conn, holder["ok"])


_MOD_OPS = {
    ModOp.ADD: ldap3.MODIFY_ADD,
    ModOp.DELETE: ldap3.MODIFY_DELETE,
    ModOp.REPLACE: ldap3.MODIFY_REPLACE,
    ModOp.INCREMENT: ldap3.MODIFY_INCREMENT,
}


def _entries(response: list[dict[str, Any]] | None) -> list[Entry]:
    return [
        Entry(item["dn"], decode_attributes(item.get("raw_attributes") or {}))
        for item in response or ()
        if item.get("type") == "searchResEntry"
    ]


def _post_read(result: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    control = (result.get("controls") or {}).get(POST_READ_OID) or {}
    values = (control.get("value") or {}).get("result") or {}
    out: dict[str, tuple[str, ...]] = {}
    for name, vals in values.items():
        seq = vals if isinstance(vals, list | tuple) else [vals]
        out[name.lower()] = tuple(
            v.decode("utf-8", errors="replace") if isinstance(v, bytes | bytearray) else str(v)
            for v in seq
        )
    return out


def _assertion_control(flt: ldapfilter.LdapFilter) -> tuple[str, bool, bytes]:
    """RFC 4528 assertion control: the server applies the write only if ``flt`` holds."""
    return (ASSERTION_OID, True, _encoded_filter(ldapfilter.render(flt)))


@functools.lru_cache(maxsize=1024)
def _encoded_filter(text: str) -> bytes:
    """BER of a filter; cached, since the same guard is sent with every member add."""
    from ldap3.operation.search import compile_filter, parse_filter
    from ldap3.utils.asn1 import encode

    tree = parse_filter(text, None, False, True, None, False)
    return bytes(encode(compile_filter(tree.elements[0])))


def _parent_of(dn: str) -> str:
    from gateway.directory.dn import parent

    return parent(dn)
