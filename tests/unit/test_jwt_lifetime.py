"""JWT bearer tokens: lifetime and issue-time age are bounded (issue 15, item 7); the JWKS URL
client has a refetch cooldown (PyJWT >= 2.14)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.web.jwt_auth import JWKS_REFETCH_COOLDOWN, LEEWAY_SECONDS, JwtValidator

ISSUER = "https://sts.windows.net/11111111-2222-3333-4444-555555555555/"
AUDIENCE = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621"
HOUR = 3600


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def validator(key: rsa.RSAPrivateKey, tmp_path: Path) -> JwtValidator:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid="k1", use="sig", alg="RS256")
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    return JwtValidator(str(path), ISSUER, AUDIENCE, max_lifetime=24 * HOUR)


def token(key: rsa.RSAPrivateKey, **claims: object) -> str:
    body = {"iss": ISSUER, "aud": AUDIENCE, **claims}
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": "k1"})


@pytest.mark.parametrize(
    ("issued", "expires", "accepted"),
    [
        (0, HOUR, True),  # Entra-like: an hour
        (-23 * HOUR, HOUR, True),  # issued 23 h ago, still inside 24 h
        (0, 100 * 365 * 24 * HOUR, False),  # a century
        (0, 24 * HOUR + 1, False),  # one second over the lifetime
        (-25 * HOUR, HOUR, False),  # lifetime fine, but issued too long ago
        (10 * 60, HOUR, False),  # issued in the future (beyond the leeway)
        (None, HOUR, False),  # no iat at all
    ],
)
def test_lifetime_and_age_of_a_token_are_bounded(
    validator: JwtValidator,
    key: rsa.RSAPrivateKey,
    issued: int | None,
    expires: int,
    accepted: bool,
) -> None:
    now = int(time.time())
    iat = None if issued is None else now + issued
    assert validator.valid(token(key, iat=iat, exp=now + expires)) is accepted


def test_the_leeway_covers_clock_skew_only(validator: JwtValidator, key) -> None:
    now = int(time.time())
    assert validator.valid(token(key, iat=now + LEEWAY_SECONDS - 5, exp=now + HOUR))
    assert not validator.valid(token(key, iat="yesterday", exp=now + HOUR))


def test_a_jwks_url_client_refetches_unknown_kids_at_most_every_cooldown() -> None:
    remote = JwtValidator("https://login.example.invalid/keys", ISSUER, AUDIENCE)
    assert remote._client is not None  # no request is made until a token needs a key
    assert remote._client.cooldown_duration == JWKS_REFETCH_COOLDOWN > 0
