"""The gateway's Prometheus metrics: the metric objects and their exposition.

A leaf module: it imports ``prometheus_client`` and nothing of ours, so every layer may record
into it (the directory layer records LDAP operations, the web layer requests) without
importing another layer.

Under gunicorn, ``scim-gateway serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` before this module is
first imported: ``prometheus_client`` then keeps each worker's values in files there and
:func:`exposition` merges all workers (multi-process mode; see the prometheus_client docs).
Without it (tests, a single process) values live in this process's default registry.

In multi-process mode each ``inc`` of a value is a write to a memory-mapped file under a lock,
after a look at the process id: a request's count and latency, and each LDAP operation's,
made six such writes for a GET and a dozen for a create. The per-request observations are
kept in the process instead (:class:`Tally`) and written by a thread of the worker once per
:data:`FLUSH_SECONDS`, as one write per value touched, and when the worker stops; a scrape
writes its own worker's first, so it sees every request that worker answered, but may miss
up to :data:`FLUSH_SECONDS` of another worker's (docs/deployment.md, Metrics).
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from bisect import bisect_left
from collections import deque
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Decided once, like prometheus_client itself does when it is imported.
MULTIPROCESS = bool(os.environ.get(MULTIPROC_ENV))

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter(
    "scim_gateway_http_requests_total",
    "HTTP requests answered, by SCIM resource type (or endpoint), method and status",
    ["resource_type", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "scim_gateway_http_request_duration_seconds",
    "Time to answer an HTTP request, by SCIM resource type (or endpoint) and method",
    ["resource_type", "method"],
    buckets=_LATENCY_BUCKETS,
)
LDAP_OPERATIONS = Counter(
    "scim_gateway_ldap_operations_total",
    "LDAP operations sent, by operation and LDAP result code (or 'connection_error')",
    ["operation", "result"],
)
LDAP_LATENCY = Histogram(
    "scim_gateway_ldap_operation_duration_seconds",
    "Time of one LDAP round trip, by operation",
    ["operation"],
    buckets=_LATENCY_BUCKETS,
)
LDAP_CONNECTIONS_OPEN = Gauge(
    "scim_gateway_ldap_connections_open",
    "Bound LDAP connections held by the connection pools (summed over live workers)",
    multiprocess_mode="livesum",
)
MAPPING_RELOADS = Counter(
    "scim_gateway_mapping_reloads_total",
    "Mapping file reloads, by result (ok or failed)",
    ["result"],
)
for _result in ("ok", "failed"):  # exposed as 0 from the start, so rate() and alerts work
    MAPPING_RELOADS.labels(_result)
AUTH_FAILURES = Counter(
    "scim_gateway_auth_failures_total",
    "Requests refused for a missing or wrong bearer token, by endpoint (scim or metrics)",
    ["endpoint", "reason"],
)


FRONT_DOOR_REFUSALS = Counter(
    "scim_gateway_front_door_refusals_total",
    "Requests the front door answered or dropped itself, by reason: overload (429), too_large "
    "(413), body_timeout (408), header_timeout (connection closed), error (500)",
    ["reason"],
)


def ldap_result_label(code: int | None) -> str:
    """The ``result`` label of an LDAP operation: its result code, or why there is none."""
    return "connection_error" if code is None else str(code)


# The labelled children each request records into, by label values. ``labels()`` validates
# and converts its arguments and takes the metric's lock on every call; these label sets are
# bounded (resource types and endpoints, methods, statuses, LDAP operations and result codes),
# so each child is looked up once per process and then found in a plain dict. A child made
# before gunicorn forks stays valid: prometheus_client's values notice the new pid themselves.
# A request's two children (its count by status, its latency without one) are found together
# by the request's labels, the status as the int the response holds: one look-up per request.
_REQUESTS: dict[tuple[str, str, int], tuple[Any, Any]] = {}
_LDAP: dict[tuple[str, int | None], tuple[Any, Any]] = {}


FLUSH_SECONDS = 1.0
"""Multi-process mode: how long a request's observations may wait in its worker."""


class Tally:
    """Counter and histogram observations waiting to be written, one ``(counter, histogram,
    seconds)`` each: what ``counter.inc()`` then ``histogram.observe(seconds)`` would record.

    :meth:`add` appends to a deque (safe from any thread, no lock); :meth:`flush` takes what
    is there and writes, for each child touched, the count as one ``inc`` and the latencies as
    one ``inc`` of the histogram's sum and one of each bucket that got observations (the
    bucket ``observe`` picks: the first upper bound not below the value). The totals are
    the same, but for a sum's last bits of floating-point rounding (added once, not value by
    value). The first :meth:`add` in a process starts its flushing thread; a forked child
    starts with nothing pending (its parent's observations are the parent's to write).
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._pending: deque[tuple[Any, Any, float]] = deque()
        self._lock = threading.Lock()  # one flush at a time, one thread started
        self._thread: threading.Thread | None = None

    def add(self, counter: Any, histogram: Any, seconds: float) -> None:
        self._pending.append((counter, histogram, seconds))
        if self._thread is None:
            self._start()

    def flush(self) -> None:
        """Write everything observed so far."""
        with self._lock:
            counts: dict[Any, int] = {}
            sums: dict[Any, float] = {}
            buckets: dict[tuple[Any, int], int] = {}
            pending = self._pending
            for _ in range(len(pending)):
                counter, histogram, seconds = pending.popleft()
                counts[counter] = counts.get(counter, 0) + 1
                sums[histogram] = sums.get(histogram, 0.0) + seconds
                key = (histogram, bisect_left(histogram._upper_bounds, seconds))
                buckets[key] = buckets.get(key, 0) + 1
            for counter, count in counts.items():
                counter.inc(count)
            for histogram, total in sums.items():
                histogram._sum.inc(total)
            for (histogram, bucket), count in buckets.items():
                histogram._buckets[bucket].inc(count)

    def forked(self) -> None:
        """In a new child process: nothing pending, no thread yet."""
        self._pending = deque()
        self._lock = threading.Lock()
        self._thread = None

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="metrics-flush", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            self.flush()


_TALLY = Tally(FLUSH_SECONDS)
if MULTIPROCESS:
    os.register_at_fork(after_in_child=_TALLY.forked)
    atexit.register(_TALLY.flush)


def _record_now(counter: Any, histogram: Any, seconds: float) -> None:
    counter.inc()
    histogram.observe(seconds)


_record = _TALLY.add if MULTIPROCESS else _record_now
"""Where a request's and an LDAP operation's observations go: the tally in multi-process
mode, else straight into the in-memory values (an ``inc`` there is a cheap locked add)."""


def observe_request(resource: str, method: str, status: int, seconds: float) -> None:
    """One HTTP request answered by the app: its count and its latency."""
    children = _REQUESTS.get((resource, method, status))
    if children is None:
        children = _REQUESTS.setdefault(
            (resource, method, status),
            (
                HTTP_REQUESTS.labels(resource, method, str(status)),
                HTTP_LATENCY.labels(resource, method),
            ),
        )
    _record(children[0], children[1], seconds)


def observe_ldap(operation: str, code: int | None, seconds: float) -> None:
    children = _LDAP.get((operation, code))
    if children is None:
        children = _LDAP.setdefault(
            (operation, code),
            (
                LDAP_OPERATIONS.labels(operation, ldap_result_label(code)),
                LDAP_LATENCY.labels(operation),
            ),
        )
    _record(children[0], children[1], seconds)


def flush() -> None:
    """Write this process's pending observations (multi-process mode; else a no-op)."""
    _TALLY.flush()


def exposition() -> tuple[bytes, str]:
    """The current metrics in the Prometheus text format, and its content type."""
    if MULTIPROCESS:
        _TALLY.flush()  # this worker's own requests, all of them
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def process_exited(pid: int) -> None:
    """Forget a dead worker's live gauges (gunicorn ``child_exit`` hook)."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(pid)
