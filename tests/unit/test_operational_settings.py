"""Settings for running the gateway: log format, metrics token, TLS files, proxy hops."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.errors import ConfigError
from gateway.settings import PREFIX, REQUIRED, SECRETS, VARIABLES, Settings, environment_names

BASE = {
    "SCIM_GATEWAY_LDAP_URL": "ldap://127.0.0.1:3890",
    "SCIM_GATEWAY_LDAP_BIND_DN": "cn=admin,dc=example,dc=org",
    "SCIM_GATEWAY_LDAP_BIND_PASSWORD": "pw-secret-value",
    "SCIM_GATEWAY_TOKEN": "a-token-of-sixteen-plus",
}


def test_defaults_are_json_logs_open_metrics_plain_http_no_proxy() -> None:
    s = Settings.from_env(BASE)
    assert (s.log_format, s.metrics_token, s.tls_cert_file, s.trusted_proxy_hops) == (
        "json",
        "",
        None,
        0,
    )
    assert s.secrets() == ("pw-secret-value", "a-token-of-sixteen-plus")


def test_metrics_token_comes_from_a_file_and_is_never_shown(tmp_path: Path) -> None:
    (tmp_path / "m").write_text("metrics-token-from-file\n", encoding="utf-8")
    s = Settings.from_env({**BASE, "SCIM_GATEWAY_METRICS_TOKEN_FILE": str(tmp_path / "m")})
    assert s.metrics_token == "metrics-token-from-file"
    assert "metrics-token-from-file" not in repr(s)
    assert "metrics-token-from-file" in s.secrets()


def test_tls_needs_both_readable_files(tmp_path: Path) -> None:
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    cert.write_text("x")
    key.write_text("y")
    s = Settings.from_env(
        {**BASE, "SCIM_GATEWAY_TLS_CERT_FILE": str(cert), "SCIM_GATEWAY_TLS_KEY_FILE": str(key)}
    )
    assert (s.tls_cert_file, s.tls_key_file) == (cert, key)
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**BASE, "SCIM_GATEWAY_TLS_CERT_FILE": str(cert)})
    assert "TLS_CERT_FILE and SCIM_GATEWAY_TLS_KEY_FILE" in str(caught.value)
    with pytest.raises(ConfigError, match="cannot read"):
        Settings.from_env(
            {
                **BASE,
                "SCIM_GATEWAY_TLS_CERT_FILE": str(cert),
                "SCIM_GATEWAY_TLS_KEY_FILE": str(tmp_path / "missing.pem"),
            }
        )


def test_bad_operational_values_are_reported_together() -> None:
    env = {
        **BASE,
        "SCIM_GATEWAY_LOG_FORMAT": "xml",
        "SCIM_GATEWAY_METRICS_TOKEN": "short-metrics",
        "SCIM_GATEWAY_TRUSTED_PROXY_HOPS": "-1",
    }
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    text = "\n".join(caught.value.problems)
    assert "LOG_FORMAT: 'xml'" in text
    assert "METRICS_TOKEN: use at least 16" in text and "short-metrics" not in text
    assert "TRUSTED_PROXY_HOPS" in text


def test_environment_names_cover_variables_and_secret_files() -> None:
    names = environment_names()
    assert {PREFIX + n for n in VARIABLES} <= names
    assert {PREFIX + n + "_FILE" for n in SECRETS} <= names
    assert set(REQUIRED) <= set(VARIABLES)
