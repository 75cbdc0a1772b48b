"""LDAP operations: search (plain and paged), read, add, modify, rename, delete.

Each method is one LDAP round trip (a paged search: one per page). Every round trip is
recorded in :data:`round_trips` (count, and operation / DN / result code, so the web layer can
log how many a SCIM request needed and write the audit line of a change) and in the Prometheus
metrics of :mod:`gateway.metrics`. Writes ask for the entry back with a post-read control
(RFC 4527) instead of a second search. Result codes become
:class:`~gateway.errors.DirectoryError` subclasses here and nowhere else.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import NamedTuple

from gateway import metrics
from gateway.directory import ldapfilter, messages, passwords, replication, sorting
from gateway.directory.entry import Entry, Modification
from gateway.directory.exchange import MAX_ANSWER_BYTES, ConnectionLost, Reply, exchange
from gateway.directory.messages import Control, Result
from gateway.directory.pool import ConnectionPool
from gateway.errors import (
    AssertionFailed,
    DirectoryError,
    EntryExists,
    InsufficientAccess,
    NoSuchAttribute,
    NoSuchEntry,
    ObjectClassViolation,
    PasswordRefused,
    Referral,
    SchemaViolation,
    SizeLimit,
    Unavailable,
    ValueExists,
    WriteUnanswered,
)

log = logging.getLogger(__name__)

Deref = Sequence[tuple[str, tuple[str, ...]]]

PERMISSIVE_MODIFY = Control("1.2.840.113556.1.4.1413", False)
"""Adding a present value / deleting an absent one succeeds (OpenLDAP, AD): idempotent writes."""

_RESULT_ERRORS: dict[int, type[DirectoryError]] = {
    4: SizeLimit,
    32: NoSuchEntry,
    68: EntryExists,
    122: AssertionFailed,
    16: NoSuchAttribute,
    20: ValueExists,
    65: ObjectClassViolation,
    **dict.fromkeys((17, 18, 19, 21, 34, 64, 66, 67, 69), SchemaViolation),
    **dict.fromkeys((48, 49, 50), InsufficientAccess),
    **dict.fromkeys((3, 51, 52, 80, 81), Unavailable),
}
"""The one table of LDAP result codes (RFC 4511 Appendix A) → exception class: code above the
directory catches these classes, never a number. Each class's docstring names its codes."""


_WRITES = frozenset({"add", "modify", "modrdn", "delete"})
"""Operations that change the directory: never repeated, and unanswered means outcome unknown."""


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


class counting_round_trips:
    """Record every LDAP request sent inside the ``with`` block (count and operations).

    A class rather than a ``contextlib.contextmanager`` generator: one is entered and left
    per HTTP request, and the generator's machinery cost more than the work it wraps."""

    __slots__ = ("_token", "counter")

    def __init__(self) -> None:
        self.counter = RoundTrips()
        self._token: Token[RoundTrips | None] | None = None

    def __enter__(self) -> RoundTrips:
        self._token = round_trips.set(self.counter)
        return self.counter

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            round_trips.reset(self._token)
            self._token = None


def _record(
    counter: RoundTrips | None, operation: str, dn: str | None, code: int | None, started: float
) -> None:
    """One round trip's metrics and, inside :class:`counting_round_trips`, its audit record
    (``counter``: the unit of work's, looked up once per operation by the caller)."""
    metrics.observe_ldap(operation, code, time.perf_counter() - started)
    if counter is not None:
        counter.record(LdapOperation(operation, dn, code))


class Directory:
    """The LDAP operations the gateway needs, on the calling thread's connection."""

    def __init__(self, pool: ConnectionPool, *, max_answer_bytes: int = MAX_ANSWER_BYTES) -> None:
        self.pool = pool
        self.max_answer_bytes = max_answer_bytes  # see exchange: the cap on one answer
        self._controls: frozenset[str] | None = None
        # attributes this server sorts only with the ordering rule the gateway names (slapd:
        # uid, cn have no ORDERING); learnt on the first sort that needed it (see _sorting)
        self._sort_needs_rule: set[str] = set()

    # ------------------------------------------------------------------ plumbing

    def _call(
        self,
        operation: str,
        dn: str | None,
        request: bytes,
        controls: Sequence[Control] = (),
        *,
        retry: bool,
    ) -> Reply:
        """Send ``request`` once; on a dead connection reconnect and retry reads only.

        A write whose answer never came (timeout, connection broken mid-flight) may have been
        made: it is raised as :class:`~gateway.errors.WriteUnanswered` (the client is told
        the outcome is unknown) rather than repeated or reported as not done (the pool already
        replaces connections the server closed while idle, before anything is sent).
        """
        attempts = 2 if retry else 1
        counter = round_trips.get()
        for attempt in range(attempts):
            conn = self.pool.connection()
            if counter is not None:
                counter.count += 1
            started = time.perf_counter()
            try:
                reply = exchange(conn, request, controls, max_bytes=self.max_answer_bytes)
            except ConnectionLost as err:
                _record(counter, operation, dn, None, started)
                self.pool.discard()
                log.warning("LDAP %s on %r lost its connection: %s", operation, dn, err)
                if operation in _WRITES:
                    raise WriteUnanswered(operation, dn, None, "no answer") from err
                if attempt + 1 == attempts:
                    raise Unavailable(operation, dn, None, "connection lost") from err
                continue
            _record(counter, operation, dn, reply.result.code, started)
            return reply
        raise AssertionError("unreachable")

    @staticmethod
    def _check(operation: str, dn: str | None, result: Result) -> None:
        if result.code == 0 and not result.references:
            return
        if result.code == 10 or result.references:  # not followed: see errors.Referral
            raise Referral(operation, dn, result.referrals + result.references)
        cls = _RESULT_ERRORS.get(result.code, DirectoryError)
        log.debug("LDAP %s on %r failed: %s %s", operation, dn, result.code, result.message)
        raise cls(operation, dn, result.code, result.message)

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
                request = messages.search_request(base, "base", ldapfilter.MATCH_ALL, ["1.1"])
                try:
                    reply = exchange(conn, request, max_bytes=self.max_answer_bytes)
                except ConnectionLost as err:
                    metrics.observe_ldap("ping", None, time.perf_counter() - started)
                    raise Unavailable("ping", base, None, "connection lost") from err
                metrics.observe_ldap("ping", reply.result.code, time.perf_counter() - started)
                self._check("ping", base, reply.result)
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
        deref: Deref = (),
    ) -> list[Entry]:
        """One search request; for results known to be small (by id, by unique name).

        ``deref``: (DN-valued attribute, attributes to return) pairs the server may resolve
        for each entry (``Entry.linked``); servers without the control ignore it.
        """
        if log.isEnabledFor(logging.DEBUG):
            log.debug("search base=%r scope=%s filter=%s", base, scope, ldapfilter.render(flt))
        request = messages.search_request(base, scope, flt, attributes, size_limit=size_limit)
        controls = [_deref_control(tuple(deref))] if deref else []
        reply = self._call("search", base, request, controls, retry=True)
        if reply.result.code == 32:
            return []
        if reply.result.code != 4:  # sizeLimitExceeded still hands back the entries sent so far
            self._check("search", base, reply.result)
        return reply.entries

    def search_paged(
        self,
        base: str,
        scope: str,
        flt: ldapfilter.LdapFilter,
        attributes: Sequence[str],
        *,
        page_size: int = 500,
        sort: Sequence[sorting.SortKey] = (),
        deref: Deref = (),
    ) -> Iterator[Entry]:
        """All matching entries, fetched ``page_size`` at a time (RFC 2696); memory stays flat.

        With ``sort``, the server sorts them first (RFC 2891); read every page, or the server
        keeps the sorted set until the connection closes.
        """
        if log.isEnabledFor(logging.DEBUG):
            text = ldapfilter.render(flt)
            log.debug("paged search base=%r scope=%s filter=%s", base, scope, text)
        request = messages.search_request(base, scope, flt, attributes)
        sent = self._sort_keys(sort)
        fixed = [sorting.sort_control(sent)] if sent else []
        if deref:
            fixed.append(_deref_control(tuple(deref)))
        cookie = b""
        first = True
        while first or cookie:
            controls = [messages.paged_control(page_size, cookie), *fixed]
            # a paging cookie belongs to its connection: only the first page may be retried
            reply = self._call("search", base, request, controls, retry=first)
            if reply.result.code == 32:
                return
            if first and sent != list(sort) and not _sorted(reply.result):
                # slapd sorts uid/cn only with a named ordering rule (they have no ORDERING);
                # 389 DS sorts them by syntax, and given a rule that is not one of its
                # collations answers success with the entries UNSORTED. So a rule is named
                # only once the server has refused to sort without it; remembered per process.
                log.debug("sort without ordering rules refused (%s)", reply.result.code)
                self._sort_needs_rule.update(k.attribute.lower() for k in sort if k.ordering_rule)
                fixed[0] = sorting.sort_control(list(sort))
                controls = [messages.paged_control(page_size, cookie), *fixed]
                reply = self._call("search", base, request, controls, retry=True)
            self._check("search", base, reply.result)
            paged = reply.result.controls.get(messages.PAGED_OID)
            cookie = messages.paged_cookie(paged) if paged else b""
            first = False
            yield from reply.entries

    def _sort_keys(self, sort: Sequence[sorting.SortKey]) -> list[sorting.SortKey]:
        """``sort`` as sent: ordering rules kept only where this server is known to need them."""
        return [
            k
            if k.attribute.lower() in self._sort_needs_rule
            else sorting.SortKey(k.attribute, None, k.reverse)
            for k in sort
        ]

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
        """Create the entry; returns it with ``read_back`` attributes from the post-read control.

        The values are not copied before they are sent: they are read twice, both times
        after the caller handed them over (the request, then the entry returned), and a
        Sequence reads the same each time."""
        attrs = {k: v for k, v in attributes.items() if v}
        controls = [messages.post_read_control(read_back)] if read_back else []
        if log.isEnabledFor(logging.DEBUG):  # the sorted list is made only to be logged
            log.debug("add dn=%r attributes=%s", dn, sorted(attrs))
        with self.pool.writing():
            reply = self._call("add", dn, messages.add_request(dn, attrs), controls, retry=False)
        self._check("add", dn, reply.result)
        self.pool.confirm_write("add", dn)
        merged = {k.lower(): tuple(map(str, v)) for k, v in attrs.items()}
        merged.update(_post_read(reply.result))
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
        """Apply ``changes`` atomically (one LDAP modify), in the order given. Empty
        ``changes`` sends nothing."""
        if not changes:
            return None
        if permissive and self.pool.replicated:
            return self._modify_exactly(dn, changes, read_back, assertion)
        controls: list[Control] = []
        if permissive:
            controls.append(PERMISSIVE_MODIFY)
        if assertion is not None:
            controls.append(_assertion_control(assertion))
        if read_back:
            controls.append(messages.post_read_control(read_back))
        if log.isEnabledFor(logging.DEBUG):  # the list is made only to be logged
            log.debug("modify dn=%r changes=%s", dn, [(m.attr, m.op.value) for m in changes])
        request = messages.modify_request(dn, changes)
        with self.pool.writing():
            reply = self._call("modify", dn, request, controls, retry=False)
        self._check("modify", dn, reply.result)
        self.pool.confirm_write("modify", dn)
        if not read_back:
            return None
        return _entry_read_back(dn, reply.result.post_read)

    def _modify_exactly(
        self,
        dn: str,
        changes: Sequence[Modification],
        read_back: Sequence[str],
        assertion: ldapfilter.LdapFilter | None,
    ) -> Entry | None:
        """A permissive modify for a replicated directory: only the value changes that change
        something, guarded by assertions (see ``replication.plan_exact`` for why)."""

        def present(attr: str, value: str) -> bool:
            flt = ldapfilter.Equal(attr, value)
            return bool(self.search(dn, "base", flt, ["1.1"]))

        for attempt in range(3):
            plan = replication.plan_exact(changes, present)
            if plan is None:
                break
            if not plan.changes:  # nothing to change: the entry as it is
                entry = self.read(dn, read_back or ["1.1"])
                if entry is None:
                    raise NoSuchEntry("modify", dn, 32, "")
                return entry if read_back else None
            guard = ldapfilter.conjunction(assertion, *plan.guards)
            try:
                return self.modify(
                    dn, plan.changes, read_back=read_back, assertion=guard, permissive=False
                )
            except AssertionFailed:
                if attempt == 2:
                    raise
        return self.modify(dn, changes, read_back=read_back, assertion=assertion, permissive=False)

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
        controls = [_assertion_control(assertion)] if assertion is not None else []
        request = messages.modify_dn_request(dn, new_rdn, new_superior=new_superior)
        with self.pool.writing():
            reply = self._call("modrdn", dn, request, controls, retry=False)
        self._check("modrdn", dn, reply.result)
        self.pool.confirm_write("modrdn", dn)
        parent = new_superior if new_superior is not None else _parent_of(dn)
        return f"{new_rdn},{parent}" if parent else new_rdn

    def set_password(self, dn: str, password: str) -> None:
        """Set the password of ``dn`` with the Password Modify extended operation (RFC 3062),
        so the directory hashes it and applies its password policy. Raises PasswordRefused
        with the policy's reason when the directory will not take it. Not retried.

        Only the DN is logged; the request bytes (which hold the password) go to the socket.
        """
        log.debug("passwd dn=%r", dn)
        request = passwords.password_modify_request(dn, password)
        control = passwords.policy_request_control()
        result = self._call("passwd", dn, request, [control], retry=False).result
        if result.code in _PASSWORD_REFUSALS:
            value = result.controls.get(passwords.PPOLICY_OID)
            reason = passwords.refusal_reason(value, result.message)
            log.debug("LDAP passwd on %r refused: %s %s", dn, result.code, reason)
            raise PasswordRefused(dn, result.code, reason)
        self._check("passwd", dn, result)

    def delete(self, dn: str, *, assertion: ldapfilter.LdapFilter | None = None) -> None:
        log.debug("delete dn=%r", dn)
        controls = [_assertion_control(assertion)] if assertion is not None else []
        with self.pool.writing():
            reply = self._call("delete", dn, messages.delete_request(dn), controls, retry=False)
        self._check("delete", dn, reply.result)
        self.pool.confirm_write("delete", dn)


# constraintViolation (ppolicy: length, quality, history, age), unwillingToPerform
_PASSWORD_REFUSALS = frozenset({19, 53})


def _sorted(result: Result) -> bool:
    """Did the server sort? A result without the sort response control is taken as sorted
    when the search succeeded (RFC 2891 servers send it, but not every one does)."""
    if result.code != 0:
        return False
    code = sorting.sort_result(result.controls.get(sorting.SORT_RESPONSE_OID))
    return code is None or code == 0


def _post_read(result: Result) -> dict[str, tuple[str, ...]]:
    return result.post_read.attributes if result.post_read is not None else {}


def _entry_read_back(dn: str, read: Entry | None) -> Entry:
    """``Entry(dn, <the post-read's attributes>)``: the post-read entry itself when it is
    that already (its DN the one written, as the server names it back, and nothing
    linked), rather than a second entry equal to it — the dict is shared either way."""
    if read is None:
        return Entry(dn, {})
    if read.dn == dn and read.linked is None:
        return read
    return Entry(dn, read.attributes)


@functools.lru_cache(maxsize=64)
def _deref_control(specs: tuple[tuple[str, Sequence[str]], ...]) -> Control:
    return messages.deref_control(specs)


@functools.lru_cache(maxsize=1024)
def _assertion_control(flt: ldapfilter.LdapFilter) -> Control:
    """Cached: the same guard goes with every member add."""
    return messages.assertion_control(flt)


def _parent_of(dn: str) -> str:
    from gateway.directory.dn import parent

    return parent(dn)
