"""The gateway's Prometheus metrics: the metric objects and their exposition.

A leaf module: it imports ``prometheus_client`` and nothing of ours, so every layer may record
into it (the directory layer records LDAP operations, the web layer requests) without
importing another layer.

Under gunicorn, ``scim-gateway serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` before this module is
first imported: ``prometheus_client`` then keeps each worker's values in files there and
:func:`exposition` merges all workers (multi-process mode; see the prometheus_client docs).
Without it (tests, a single process) values live in this process's default registry.
"""

from __future__ import annotations

import os
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
_REQUESTS: dict[tuple[str, str, str], Any] = {}
_REQUEST_LATENCY: dict[tuple[str, str], Any] = {}
_LDAP: dict[tuple[str, int | None], tuple[Any, Any]] = {}


def observe_request(resource: str, method: str, status: int, seconds: float) -> None:
    """One HTTP request answered by the app: its count and its latency."""
    key = (resource, method, str(status))
    counter = _REQUESTS.get(key)
    if counter is None:
        counter = _REQUESTS.setdefault(key, HTTP_REQUESTS.labels(*key))
    counter.inc()
    timing = _REQUEST_LATENCY.get((resource, method))
    if timing is None:
        timing = _REQUEST_LATENCY.setdefault(
            (resource, method), HTTP_LATENCY.labels(resource, method)
        )
    timing.observe(seconds)


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
    children[0].inc()
    children[1].observe(seconds)


def exposition() -> tuple[bytes, str]:
    """The current metrics in the Prometheus text format, and its content type."""
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def process_exited(pid: int) -> None:
    """Forget a dead worker's live gauges (gunicorn ``child_exit`` hook)."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(pid)
