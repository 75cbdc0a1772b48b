"""Health endpoints for load balancers and orchestrators; no authentication, never cached.

``/healthz``: the process is alive and serving HTTP (it touches nothing else).
``/readyz``: it can serve SCIM now: the mapping is loaded and the directory accepts the
gateway's bind and a read (see :mod:`gateway.provisioning.readiness`). 503 names the check that
failed and a fixed reason; no DN, server message or credential. The outcome is reused for a few
seconds (``SCIM_GATEWAY_READY_CACHE_SECONDS``): the ``Age`` header says how old it is.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from gateway.web.runtime import runtime

bp = Blueprint("health", __name__)

_NO_STORE = {"Cache-Control": "no-store"}


@bp.get("/healthz")
def healthz() -> tuple[Response, int, dict[str, str]]:
    return jsonify(status="ok"), 200, _NO_STORE


@bp.get("/readyz")
def readyz() -> tuple[Response, int, dict[str, str]]:
    report = runtime().readiness.check()
    checks = {
        c.name: {"status": "ok"} if c.ok else {"status": "failed", "reason": c.reason}
        for c in report.checks
    }
    body = jsonify(status="ok" if report.ok else "unavailable", checks=checks)
    headers = {**_NO_STORE, "Age": str(int(report.age()))}
    return body, 200 if report.ok else 503, headers
