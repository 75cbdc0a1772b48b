"""Where errors meet HTTP: every failure becomes a SCIM Error (RFC 7644 §3.12).

Three handlers: our own ScimError, Werkzeug's HTTP errors (unknown route, 405, 413) and
anything else (an opaque 500 with a request id; the traceback goes to the log only).
"""

from __future__ import annotations

import logging
import uuid

from flask import Flask, Response, g
from werkzeug.exceptions import HTTPException

from gateway.errors import OutcomeUnknown, ScimError, ServiceUnavailable
from gateway.scim.messages import ERROR
from gateway.web.wire import scim_response

log = logging.getLogger(__name__)

_SCIM_TYPES_BY_STATUS = {413: "tooLarge"}


def error_response(
    status: int, detail: str, scim_type: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    body = {"schemas": [ERROR], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return scim_response(body, status, headers)


def register(app: Flask, retry_after: int) -> None:
    """``retry_after``: the Retry-After seconds every 503 and 504 carries (a deployment setting)."""

    @app.errorhandler(ScimError)
    def _scim(err: ScimError) -> Response:
        headers = dict(err.headers)
        if err.status >= 500:
            log.warning("%s %s", err.status, err.detail)
        if isinstance(err, ServiceUnavailable | OutcomeUnknown):
            headers["Retry-After"] = str(retry_after)
        return error_response(err.status, err.detail, err.scim_type, headers)

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException) -> Response:
        status = err.code or 500
        detail = {
            404: "no such SCIM endpoint",
            405: "this endpoint does not support that method",
            413: "the request body is too large",
        }.get(status, err.description or err.name)
        headers = {}
        if status == 405 and getattr(err, "valid_methods", None):
            headers["Allow"] = ", ".join(err.valid_methods)
        return error_response(status, detail, _SCIM_TYPES_BY_STATUS.get(status), headers)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Response:
        request_id = getattr(g, "request_id", None) or uuid.uuid4().hex
        log.exception("unexpected error (request %s)", request_id)
        return error_response(500, f"internal error; quote request id {request_id} to the operator")
