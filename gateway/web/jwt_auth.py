"""Validation of JWT bearer tokens, such as those Entra ID issues when no secret is set.

Entra sends a JWT signed by its tenant keys (issuer ``https://sts.windows.net/<tenant>/``,
audience ``8adf8e6e-67b2-4cf2-a259-e3dc5476c621``) when the app's Secret Token field is left
empty. The keys come from a JWKS document: a file (air-gapped, rotated by the operator) or
an https URL fetched and cached by PyJWT. Signature, issuer, audience, expiry and
not-before are all required to hold, and so is the issue time: ``iat`` must be present, not in
the future, at most ``max_lifetime`` seconds ago, and ``exp - iat`` at most ``max_lifetime``
(a stolen token signed for 100 years is refused). Entra's tokens live about an hour.

A token whose ``kid`` is unknown makes PyJWT fetch the JWKS again (key rotation), but no more
often than once per :data:`JWKS_REFETCH_COOLDOWN` seconds (PyJWT >= 2.14): made-up ``kid``
values cannot turn every request into a request to the key server.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import jwt

log = logging.getLogger(__name__)

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]
LEEWAY_SECONDS = 60
DEFAULT_MAX_LIFETIME = 86400
JWKS_REFETCH_COOLDOWN = 30.0


class TokenTooOld(jwt.InvalidTokenError):
    """``iat`` is too long ago, or ``exp`` too long after it."""


class JwtValidator:
    def __init__(
        self, jwks: str, issuer: str, audience: str, max_lifetime: int = DEFAULT_MAX_LIFETIME
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.max_lifetime = max_lifetime
        if jwks.lower().startswith("https://"):
            self._client: jwt.PyJWKClient | None = jwt.PyJWKClient(
                jwks, cache_keys=True, timeout=5, cooldown_duration=JWKS_REFETCH_COOLDOWN
            )
            self._keys: jwt.PyJWKSet | None = None
        else:
            self._client = None
            self._keys = jwt.PyJWKSet.from_dict(json.loads(Path(jwks).read_text(encoding="utf-8")))

    @staticmethod
    def looks_like_jwt(credential: str) -> bool:
        return credential.count(".") == 2 and credential.startswith("ey")

    def valid(self, token: str) -> bool:
        """True if ``token`` is signed by a known key and its claims hold; never raises."""
        try:
            key = self._signing_key(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
            self._check_lifetime(claims)
        except (jwt.PyJWTError, ValueError, KeyError, TypeError) as err:
            log.info("JWT bearer token refused: %s", type(err).__name__)
            return False
        return True

    def _check_lifetime(self, claims: dict) -> None:
        """PyJWT checked that ``iat`` is a number not in the future; bound its age and span."""
        issued, expires = float(claims["iat"]), float(claims["exp"])
        if expires - issued > self.max_lifetime:
            raise TokenTooOld("the token's lifetime (exp - iat) is longer than allowed")
        if time.time() - issued > self.max_lifetime + LEEWAY_SECONDS:
            raise TokenTooOld("the token was issued longer ago than allowed")

    def _signing_key(self, token: str):
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token).key
        assert self._keys is not None
        kid = jwt.get_unverified_header(token).get("kid")
        for key in self._keys.keys:
            if kid is None or key.key_id == kid:
                return key.key
        raise KeyError("no key with that kid")
