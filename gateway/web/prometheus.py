"""``/metrics``: the gateway's Prometheus metrics (text exposition format).

Open unless ``SCIM_GATEWAY_METRICS_TOKEN`` is set, in which case scrapers send it as a bearer
token (Prometheus: ``authorization: {credentials: ...}`` in the scrape config). Either way,
keep it off the public internet: publish only ``/scim/v2`` through the reverse proxy.
"""

from __future__ import annotations

from flask import Blueprint, Response

from gateway import metrics
from gateway.web.runtime import runtime

bp = Blueprint("prometheus", __name__)


@bp.get("/metrics")
def metrics_endpoint() -> Response:
    auth = runtime().metrics_auth
    if auth is not None:
        auth.check()
    body, content_type = metrics.exposition()
    return Response(body, 200, {"Content-Type": content_type, "Cache-Control": "no-store"})
