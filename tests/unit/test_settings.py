"""Settings from the environment: every problem at once, secrets from files, none echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.errors import ConfigError
from gateway.settings import DEFAULT_MAPPING, Settings

BASE = {
    "SCIM_GATEWAY_LDAP_URL": "ldap://127.0.0.1:3890",
    "SCIM_GATEWAY_LDAP_BIND_DN": "cn=admin,dc=example,dc=org",
    "SCIM_GATEWAY_LDAP_BIND_PASSWORD": "pw-secret-value",
    "SCIM_GATEWAY_TOKEN": "a-token-of-sixteen-plus",
}


def test_minimal_environment_gives_defaults() -> None:
    s = Settings.from_env(BASE)
    assert s.ldap_urls == ("ldap://127.0.0.1:3890",)
    assert s.mapping_path == DEFAULT_MAPPING and s.mapping_path.is_file()
    assert (s.page_size, s.max_results, s.default_count) == (500, 1000, 100)
    assert "pw-secret-value" not in repr(s) and "a-token-of-sixteen-plus" not in repr(s)


def test_all_problems_are_reported_together() -> None:
    env = {
        "SCIM_GATEWAY_LDAP_URL": "http://wrong",
        "SCIM_GATEWAY_PAGE_SIZE": "many",
        "SCIM_GATEWAY_MAX_RESULTS": "0",
        "SCIM_GATEWAY_TOKEN": "short",
        "SCIM_GATEWAY_MAPPING": "/no/such/file.yaml",
        "SCIM_GATEWAY_LOG_LEVEL": "LOUD",
    }
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    text = "\n".join(caught.value.problems)
    for needle in (
        "LDAP_URL: 'http://wrong'",
        "LDAP_BIND_DN is required",
        "LDAP_BIND_PASSWORD",
        "TOKEN: use at least 16",
        "PAGE_SIZE: 'many'",
        "MAX_RESULTS: 0 is outside",
        "MAPPING: no such file",
        "LOG_LEVEL",
    ):
        assert needle in text
    assert "short" not in text


def test_secrets_come_from_files(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("from-file-pw\n", encoding="utf-8")
    (tmp_path / "tok").write_text("token-from-a-file-123\n", encoding="utf-8")
    env = {k: v for k, v in BASE.items() if "PASSWORD" not in k and "TOKEN" not in k}
    env |= {
        "SCIM_GATEWAY_LDAP_BIND_PASSWORD_FILE": str(tmp_path / "pw"),
        "SCIM_GATEWAY_TOKEN_FILE": str(tmp_path / "tok"),
    }
    s = Settings.from_env(env)
    assert s.ldap_bind_password == "from-file-pw" and s.token == "token-from-a-file-123"


def test_secret_and_its_file_together_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "tok").write_text("token-from-a-file-123", encoding="utf-8")
    with pytest.raises(ConfigError, match="not both"):
        Settings.from_env({**BASE, "SCIM_GATEWAY_TOKEN_FILE": str(tmp_path / "tok")})


def test_several_urls_for_failover() -> None:
    s = Settings.from_env({**BASE, "SCIM_GATEWAY_LDAP_URL": "ldap://a:389, ldaps://b:636"})
    assert s.ldap_urls == ("ldap://a:389", "ldaps://b:636")
