"""Authentication: several shared tokens (rotation), Entra-style JWTs, and what a refusal does."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from support.slapd import Slapd

from e2e.conftest import TOKEN, isolated_mapping, settings_for
from gateway.app import create_app
from gateway.directory.operations import round_trips
from gateway.errors import ConfigError
from gateway.settings import Settings

ISSUER = "https://sts.windows.net/11111111-2222-3333-4444-555555555555/"
AUDIENCE = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621"
OLD, NEW = "old-token-0123456789abcdef", "new-token-0123456789abcdef"


@pytest.fixture
def keys(tmp_path: Path) -> tuple[rsa.RSAPrivateKey, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid="k1", use="sig", alg="RS256")
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    return key, path


def token_for(key: rsa.RSAPrivateKey, **claims: object) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "nbf": now, "exp": now + 600, **claims}
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": "k1"})


def app_for(settings: Settings):
    app = create_app(settings)
    return app, app.test_client()


def status(client, credential: str) -> int:
    resp = client.get("/scim/v2/Users?count=1", headers={"Authorization": f"Bearer {credential}"})
    if resp.status_code == 401:
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert resp.get_json()["status"] == "401"
    return resp.status_code


def test_several_tokens_are_accepted_during_a_rotation(slapd: Slapd, tmp_path: Path) -> None:
    mapping = isolated_mapping(tmp_path, slapd.people_dn, slapd.groups_dn)
    app, client = app_for(settings_for(slapd, mapping, token=f"{OLD} {NEW}"))
    try:
        assert status(client, OLD) == 200
        assert status(client, NEW) == 200
        assert status(client, "other-token-0123456789abcdef") == 401
        assert status(client, f"{OLD} {NEW}") == 401
    finally:
        app.extensions["scim"].pool.close_all()


def test_rotation_tokens_come_from_a_file_one_per_line(tmp_path: Path) -> None:
    (tmp_path / "tokens").write_text(f"{OLD}\n{NEW}\n")
    settings = Settings.from_env(
        {
            "SCIM_GATEWAY_LDAP_URL": "ldap://127.0.0.1:1",
            "SCIM_GATEWAY_LDAP_BIND_DN": "cn=x",
            "SCIM_GATEWAY_LDAP_BIND_PASSWORD": "pw-pw-pw-pw",
            "SCIM_GATEWAY_TOKEN_FILE": str(tmp_path / "tokens"),
        }
    )
    assert settings.tokens == (OLD, NEW)


def test_entra_jwts_are_validated(slapd: Slapd, tmp_path: Path, keys) -> None:
    key, jwks = keys
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    mapping = isolated_mapping(tmp_path, slapd.people_dn, slapd.groups_dn)
    settings = replace(
        settings_for(slapd, mapping), jwt_jwks=str(jwks), jwt_issuer=ISSUER, jwt_audience=AUDIENCE
    )
    app, client = app_for(settings)
    try:
        assert status(client, token_for(key)) == 200
        assert status(client, TOKEN) == 200  # the shared token still works beside JWTs
        assert status(client, token_for(other)) == 401  # signed by an unknown key
        assert status(client, token_for(key, aud="someone-else")) == 401
        assert status(client, token_for(key, iss="https://evil.example/")) == 401
        assert status(client, token_for(key, exp=int(time.time()) - 3600)) == 401
        assert status(client, token_for(key, nbf=int(time.time()) + 3600)) == 401
        unsigned = jwt.encode(
            {"iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 60}, key="", algorithm="none"
        )
        assert status(client, unsigned) == 401
    finally:
        app.extensions["scim"].pool.close_all()


def test_jwt_only_deployment_needs_no_shared_token(keys, tmp_path: Path) -> None:
    _key, jwks = keys
    env = {
        "SCIM_GATEWAY_LDAP_URL": "ldap://127.0.0.1:1",
        "SCIM_GATEWAY_LDAP_BIND_DN": "cn=x",
        "SCIM_GATEWAY_LDAP_BIND_PASSWORD": "pw-pw-pw-pw",
        "SCIM_GATEWAY_JWT_JWKS": str(jwks),
        "SCIM_GATEWAY_JWT_ISSUER": ISSUER,
        "SCIM_GATEWAY_JWT_AUDIENCE": AUDIENCE,
    }
    assert Settings.from_env(env).tokens == ()
    with pytest.raises(ConfigError, match="needs all of"):
        Settings.from_env({k: v for k, v in env.items() if k != "SCIM_GATEWAY_JWT_ISSUER"})


def test_refused_requests_never_reach_the_directory(slapd: Slapd, tmp_path: Path) -> None:
    mapping = isolated_mapping(tmp_path, slapd.people_dn, slapd.groups_dn)
    app, client = app_for(settings_for(slapd, mapping))
    seen = []

    @app.after_request
    def _spy(response):
        counter = round_trips.get()
        seen.append(counter.count if counter else 0)
        return response

    try:
        for path in ("/scim/v2/Users", "/scim/v2/Users/a1b2c3d4-0000-4000-8000-000000000000"):
            assert (
                client.get(
                    path, headers={"Authorization": "Bearer nope-nope-nope-nope"}
                ).status_code
                == 401
            )
        assert client.post("/scim/v2/Users", json={"userName": "x"}).status_code == 401
        assert seen == [0, 0, 0]
    finally:
        app.extensions["scim"].pool.close_all()
