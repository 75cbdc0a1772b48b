"""Per-request bookkeeping: request id, the access line, the audit line of a change, HTTP metrics.

Every request gets one line on ``gateway.access`` (method, path, the query parameters that
shape a SCIM query, status, duration, LDAP operation count, resource type); every SCIM write
(POST/PUT/PATCH/DELETE on a resource, succeeded or failed, refused ones included) one more on
``gateway.audit`` (SCIM operation, resource type, id, the DNs written, the LDAP operations with
their result codes, outcome: success, failure, or unknown when a change was sent but never
answered). Neither ever carries a header value, a request or response body,
or a query value other than those of :data:`LOGGED_QUERY_KEYS`.

The LDAP operations come from a recorder the composition root passes in (the directory layer's
``counting_round_trips``): this module reads ``count``, ``operations`` (each with
``operation``, ``dn``, ``result``) and ``dropped`` off what it yields, and imports nothing
below the web layer.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from flask import Flask, Request, Response, g, request

from gateway import metrics
from gateway.logconfig import AUDIT_LOGGER, Line, log_fields, log_fields_together, request_id
from gateway.web.runtime import runtime

access_log = logging.getLogger("gateway.access")
audit_log = logging.getLogger(AUDIT_LOGGER)

LOGGED_QUERY_KEYS = ("filter", "startIndex", "count", "attributes", "excludedAttributes")
CHANGES = {
    "resources.create_resource": "create",
    "resources.replace_resource": "replace",
    "resources.patch_resource": "patch",
    "resources.delete_resource": "delete",
}
WRITES = ("add", "modify", "modrdn", "delete")
MAX_AUDITED_OPERATIONS = 100
MAX_DETAIL = 300
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_DISCOVERY = {
    "service_provider_config": "ServiceProviderConfig",
    "schemas": "Schemas",
    "schema": "Schemas",
    "resource_types": "ResourceTypes",
    "resource_type": "ResourceTypes",
}

Recorder = Callable[[], AbstractContextManager[Any]]


def install(app: Flask, record_ldap: Recorder) -> None:
    """Register the hooks; call before any other ``before_request`` (auth included)."""

    # ``g`` (Flask's ``_AppCtxGlobals``) keeps its names in its ``__dict__``: its own ``get``,
    # ``pop`` and ``__setattr__`` are one Python call each around that dict's. The hooks
    # resolve the proxy once and use the dict, for the ten reads and writes of every request.

    @app.before_request
    def _start() -> None:
        slots = vars(g._get_current_object())  # type: ignore[attr-defined]
        environ = request._get_current_object().environ  # type: ignore[attr-defined]
        given = environ.get("HTTP_X_REQUEST_ID", "")  # the X-Request-Id header
        # else 32 random hex digits (as uuid4().hex, without building a UUID each request)
        rid = given if _REQUEST_ID.fullmatch(given) else os.urandom(16).hex()
        slots["request_id"] = rid
        slots["request_id_token"] = request_id.set(rid)
        slots["started"] = time.perf_counter()
        cm = slots["round_trips_cm"] = record_ldap()
        slots["round_trips"] = cm.__enter__()

    @app.after_request
    def _finish(response: Response) -> Response:
        # Each name of ``request`` and ``g`` is a context-local proxy, resolved anew on every
        # attribute read: resolved once here, for the dozen reads of every request's line.
        req: Request = request._get_current_object()  # type: ignore[attr-defined]
        slots = vars(g._get_current_object())  # type: ignore[attr-defined]
        rid = slots.get("request_id", "")
        response.headers["X-Request-Id"] = rid
        now = time.perf_counter()
        seconds = now - slots.get("started", now)
        resource = resource_label(req)
        method = req.method if req.method in _METHODS else "other"
        status = response.status_code
        metrics.observe_request(resource, method, status, seconds)
        trips = slots.get("round_trips")
        access = _access_line(req, response, seconds, resource, trips, rid)
        change = CHANGES.get(req.endpoint or "")
        if change:  # a SCIM write: its two lines in one write (logconfig.log_fields_together)
            audit = _audit_line(req, response, change, resource, trips)
            if access is None:
                log_fields(*audit)
            else:
                log_fields_together(access, audit)
        elif access is not None:
            log_fields(*access)
        return response

    @app.teardown_request
    def _teardown(_exc: BaseException | None) -> None:
        slots = vars(g._get_current_object())  # type: ignore[attr-defined]  # one proxy look-up
        cm = slots.pop("round_trips_cm", None)
        if cm is not None:
            cm.__exit__(None, None, None)
        token = slots.pop("request_id_token", None)
        if token is not None:
            request_id.reset(token)


def resource_label(req: Request | None = None) -> str:
    """A bounded name for what was asked: User, Group, Schemas, ..., healthz, or unknown."""
    req = request if req is None else req
    blueprint, _, view = (req.endpoint or "").partition(".")
    if view == "search_everything":  # POST /scim/v2/.search: every resource type
        return "all"
    if blueprint == "resources":
        return _type_label((req.view_args or {}).get("endpoint", ""))
    if blueprint == "discovery":
        return _DISCOVERY.get(view, "discovery")
    if blueprint in ("health", "prometheus"):
        return "metrics" if blueprint == "prometheus" else view
    return "unknown"


_labels: tuple[object, dict[str, str]] = (None, {})
"""The catalog served and the type names found in it by endpoint (``Users`` → ``User``)."""


def _type_label(endpoint: str) -> str:
    """``type_at(endpoint) or "unknown"``, each type's name remembered for the catalog served.

    ``type_at`` scans the mapped types on every request; its answer changes only with the
    catalog, which a mapping reload replaces (``Runtime.catalog``), so the names found are
    kept with the catalog they came from and dropped with it. Only names found are kept:
    as many as there are mapped types, whatever endpoints clients ask for.
    """
    global _labels
    catalog = runtime().catalog
    owner, known = _labels
    if owner is not catalog:
        known = {}
        _labels = (catalog, known)
    label = known.get(endpoint)
    if label is None:
        label = catalog.type_at(endpoint)  # what resources.type_at asks
        if not label:
            return "unknown"
        known[endpoint] = label
    return label


def _access_line(
    req: Request, response: Response, seconds: float, resource: str, trips: Any, rid: str
) -> Line | None:
    """The request's access line, for :func:`~gateway.logconfig.log_fields`; None when
    ``gateway.access`` drops INFO lines."""
    if not access_log.isEnabledFor(logging.INFO):
        return None  # LOG_LEVEL above INFO: the fields would be built only to be dropped
    count = trips.count if trips is not None else 0
    environ = req.environ
    query: dict[str, str] = {}
    if environ.get("QUERY_STRING"):  # else no need to parse the (empty) query string
        args = req.args
        query = {k: args[k] for k in LOGGED_QUERY_KEYS if k in args}
    path = req.path
    status = response.status_code
    fields: dict[str, Any] = {
        "event": "request",
        "method": req.method,
        "path": path,
        "status": status,
        "duration_ms": round(seconds * 1000, 1),
        "ldap_ops": count,
        "resource_type": resource,
        "client": environ.get("REMOTE_ADDR"),  # what request.remote_addr reads
        "user_agent": environ.get("HTTP_USER_AGENT", "")[:200],  # request.user_agent.string
    }
    if query:
        fields["query"] = query
    # the text line shows the SCIM query too (Entra's Test Connection is a filtered GET);
    # only the keys in LOGGED_QUERY_KEYS, control characters escaped by the formatter
    shown = "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    return (
        access_log,
        logging.INFO,
        "%s %s %s %.1fms ldap_ops=%s request_id=%s",
        (req.method, f"{path}?{shown}" if shown else path, status, seconds * 1000, count, rid),
        fields,
    )


def _audit_line(req: Request, response: Response, change: str, resource: str, trips: Any) -> Line:
    """The change's audit line, for :func:`~gateway.logconfig.log_fields`."""
    operations = list(trips.operations) if trips is not None else []
    dropped = trips.dropped if trips is not None else 0
    written: list[str] = []
    for op in operations:
        if op.operation in WRITES and op.dn and op.dn not in written:
            written.append(op.dn)
    status = response.status_code
    fields: dict[str, Any] = {
        "event": "audit",
        "operation": change,
        "resource_type": resource,
        "id": _scim_id(req, response),
        "dns": written,
        "ldap_operations": [
            {"op": op.operation, "dn": op.dn, "result": op.result}
            for op in operations[:MAX_AUDITED_OPERATIONS]
        ],
        "status": status,
        "outcome": _outcome(status),
    }
    omitted = max(0, len(operations) - MAX_AUDITED_OPERATIONS) + dropped
    if omitted:
        fields["ldap_operations_omitted"] = omitted
    if status >= 400:
        body = response.get_json(silent=True) if response.is_json else None
        if isinstance(body, dict):
            if body.get("scimType"):
                fields["scim_type"] = body["scimType"]
            fields["detail"] = str(body.get("detail", ""))[:MAX_DETAIL]
    summary = "; ".join(f"{op.operation} {op.dn} -> {op.result}" for op in operations[:10])
    if len(operations) > 10:
        summary += f"; ... {len(operations) - 10 + dropped} more"
    return (
        audit_log,
        logging.WARNING if status >= 500 else logging.INFO,
        "audit %s %s id=%s status=%s outcome=%s ldap=[%s]",
        (change, resource, fields["id"], status, fields["outcome"], summary),
        fields,
    )


def _outcome(status: int) -> str:
    """``unknown`` for a 504: the change was sent but the directory's answer never came."""
    if status == 504:
        return "unknown"
    return "success" if status < 400 else "failure"


def _scim_id(req: Request, response: Response) -> str | None:
    ident = (req.view_args or {}).get("ident")
    if ident:
        return str(ident)
    location = response.headers.get("Location", "")
    return location.rstrip("/").rpartition("/")[2] or None if location else None
