"""Bearer-token authentication (RFC 6750) on every SCIM endpoint, compared in constant time."""

from __future__ import annotations

import hmac

from flask import Request, request

from gateway import metrics
from gateway.errors import Unauthorized
from gateway.web.jwt_auth import JwtValidator

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="scim"'}


class BearerAuth:
    """Accepts any of several shared tokens (rotation) and, if configured, valid JWTs."""

    def __init__(
        self, tokens: list[str], endpoint: str = "scim", jwt: JwtValidator | None = None
    ) -> None:
        self._tokens = [t.encode("utf-8") for t in tokens if t]
        self._endpoint = endpoint  # the metrics label of refusals
        self._jwt = jwt

    def check(self, req: Request | None = None) -> None:
        """Raise Unauthorized unless the request (``req``, else Flask's current one) carries
        one of the configured tokens."""
        environ = (request if req is None else req).environ
        # what request.headers.get("Authorization") reads, without building the headers view
        header = environ.get("HTTP_AUTHORIZATION", "")
        scheme, _, credential = header.partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            metrics.AUTH_FAILURES.labels(self._endpoint, "missing").inc()
            raise Unauthorized("missing bearer token", headers=CHALLENGE)
        given = credential.strip().encode("utf-8")
        ok = False
        for token in self._tokens:  # check all: the time taken does not depend on which matched
            ok |= hmac.compare_digest(given, token)
        if not ok and self._jwt is not None and JwtValidator.looks_like_jwt(credential.strip()):
            ok = self._jwt.valid(credential.strip())
        if not ok:
            metrics.AUTH_FAILURES.labels(self._endpoint, "invalid").inc()
            raise Unauthorized(
                "invalid bearer token",
                headers={"WWW-Authenticate": 'Bearer realm="scim", error="invalid_token"'},
            )
