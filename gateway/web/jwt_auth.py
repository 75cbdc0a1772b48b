"""Validation of JWT bearer tokens, such as those Entra ID issues when no secret is set.

Entra sends a JWT signed by its tenant keys (issuer ``https://sts.windows.net/<tenant>/``,
audience ``8adf8e6e-67b2-4cf2-a259-e3dc5476c621``) when the app's Secret Token field is left
empty. The keys come from a JWKS document: a file (air-gapped, rotated by the operator) or
an https URL fetched and cached by PyJWT. Signature, issuer, audience, expiry and
not-before are all required to hold.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import jwt

log = logging.getLogger(__name__)

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]
LEEWAY_SECONDS = 60


class JwtValidator:
    def __init__(self, jwks: str, issuer: str, audience: str) -> None:
        self.issuer = issuer
        self.audience = audience
        if jwks.lower().startswith("https://"):
            self._client: jwt.PyJWKClient | None = jwt.PyJWKClient(jwks, cache_keys=True, timeout=5)
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
            jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except (jwt.PyJWTError, ValueError, KeyError) as err:
            log.info("JWT bearer token refused: %s", type(err).__name__)
            return False
        return True

    def _signing_key(self, token: str):
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token).key
        assert self._keys is not None
        kid = jwt.get_unverified_header(token).get("kid")
        for key in self._keys.keys:
            if kid is None or key.key_id == kid:
                return key.key
        raise KeyError("no key with that kid")
