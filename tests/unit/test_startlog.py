"""The start line names the mapping, the directory and the auth mode, and no secret."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from gateway.settings import Settings
from gateway.startlog import safe_url, start_line

MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "openldap.yaml"
BIND_PASSWORD = "bind-Secret-pw-1"
TOKEN_A, TOKEN_B = "token-aaaaaaaaaaaaaaaa", "token-bbbbbbbbbbbbbbbb"


def settings(**overrides: object) -> Settings:
    values: dict = dict(
        ldap_urls=("ldaps://admin:pw@ldap1.example.org:636/dc=x?uid?sub?(x)?bindname=y",),
        ldap_bind_dn="cn=scim-gateway,ou=Services,dc=example,dc=org",
        ldap_bind_password=BIND_PASSWORD,
        token=f"{TOKEN_A} {TOKEN_B}",
        mapping_path=MAPPING,
    )
    values.update(overrides)
    return Settings(**values)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("ldap://127.0.0.1:389", "ldap://127.0.0.1:389"),
        ("ldaps://u:secret@host:636/dc=x??sub", "ldaps://host:636"),
        ("ldap://[::1]:389/", "ldap://[::1]:389"),
        ("not a url", "<unparsable LDAP URL>"),
        ("ldap://[::1", "<unparsable LDAP URL>"),
    ],
)
def test_ldap_urls_lose_user_information_and_everything_after_the_host(url: str, shown: str):
    assert safe_url(url) == shown


def test_the_line_names_mapping_directory_bind_dn_and_auth_mode_and_no_secret() -> None:
    line = start_line(settings())
    assert f"mapping={MAPPING}" in line
    assert "ldap=ldaps://ldap1.example.org:636 " in line
    assert "bind_dn='cn=scim-gateway,ou=Services,dc=example,dc=org'" in line
    assert "auth=bearer-token(2 accepted)" in line
    for secret in (BIND_PASSWORD, TOKEN_A, TOKEN_B, "admin:pw", "bindname"):
        assert secret not in line


def test_jwt_mode_names_issuer_and_audience() -> None:
    line = start_line(
        settings(
            token="",
            jwt_jwks="/etc/jwks.json",
            jwt_issuer="https://sts.windows.net/tenant/",
            jwt_audience="8adf8e6e-67b2-4cf2-a259-e3dc5476c621",
        )
    )
    assert "auth=jwt(issuer=https://sts.windows.net/tenant/, " in line
    assert "bearer-token" not in line


def test_create_app_logs_it_once(caplog: pytest.LogCaptureFixture) -> None:
    from gateway.app import create_app

    with caplog.at_level(logging.INFO, logger="gateway.app"):
        create_app(settings(ldap_urls=("ldap://127.0.0.1:9",)))
    lines = [r.getMessage() for r in caplog.records if r.name == "gateway.app"]
    assert len(lines) == 1 and lines[0].startswith("scim-gateway starting: mapping=")
