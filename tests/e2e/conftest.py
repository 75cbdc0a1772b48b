"""The app over the real slapd: each test gets its own subtree and mapping, no restarts."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ldap3 import Connection
from support.gateway import Gateway
from support.slapd import Slapd

from gateway.app import create_app
from gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "mappings" / "openldap.yaml"
TOKEN = "test-token-0123456789abcdef"
_counter = itertools.count()


def isolated_mapping(
    tmp_path: Path,
    people: str,
    groups: str,
    source: Path = SHIPPED,
    extra: dict[str, str] | None = None,
) -> Path:
    """``source`` with its base DNs moved into a test's subtree (``extra``: other DNs too,
    e.g. ``{"ou=Disabled,dc=example,dc=org": "ou=Disabled,<top>"}``, replaced first)."""
    text = source.read_text(encoding="utf-8")
    for old, new in (extra or {}).items():
        text = text.replace(old, new)
    text = text.replace("ou=People,dc=example,dc=org", people).replace(
        "ou=Groups,dc=example,dc=org", groups
    )
    path = tmp_path / source.name
    path.write_text(text, encoding="utf-8")
    return path


def make_subtree(ldap: Connection, suffix: str) -> tuple[str, str]:
    top = f"ou=t{os.getpid()}x{next(_counter)},{suffix}"
    assert ldap.add(top, ["organizationalUnit"]), ldap.result
    people, groups = f"ou=People,{top}", f"ou=Groups,{top}"
    assert ldap.add(people, ["organizationalUnit"]), ldap.result
    assert ldap.add(groups, ["organizationalUnit"]), ldap.result
    return people, groups


def settings_for(slapd: Slapd, mapping: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        ldap_urls=(slapd.url,),
        ldap_bind_dn=slapd.admin_dn,
        ldap_bind_password=slapd.admin_password,
        token=TOKEN,
        mapping_path=mapping,
    )
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def gw(slapd: Slapd, ldap_admin: Connection, tmp_path: Path) -> Iterator[Gateway]:
    people, groups = make_subtree(ldap_admin, slapd.suffix)
    app = create_app(settings_for(slapd, isolated_mapping(tmp_path, people, groups)))
    app.testing = True
    try:
        yield Gateway(
            app.test_client(), ldap_admin, people, groups, {"Authorization": f"Bearer {TOKEN}"}
        )
    finally:
        app.extensions["scim"].pool.close_all()


def served_env(
    slapd: Slapd, tmp_path: Path, people: str, groups: str, mapping: Path | None = None
) -> dict[str, str]:
    """The environment of a served gateway on the subtree ``people``/``groups`` (the password
    through a file, as in production); ``mapping``: the shipped one moved there by default."""
    password_file = tmp_path / "ldap-password"
    password_file.write_text(slapd.admin_password + "\n", encoding="utf-8")
    return {
        "SCIM_GATEWAY_LDAP_URL": slapd.url,
        "SCIM_GATEWAY_LDAP_BIND_DN": slapd.admin_dn,
        "SCIM_GATEWAY_LDAP_BIND_PASSWORD_FILE": str(password_file),
        "SCIM_GATEWAY_TOKEN": TOKEN,
        "SCIM_GATEWAY_MAPPING": str(mapping or isolated_mapping(tmp_path, people, groups)),
    }


@pytest.fixture
def gateway_env(slapd: Slapd, ldap_admin: Connection, tmp_path: Path) -> dict[str, str]:
    """The environment of a served gateway on its own subtree."""
    people, groups = make_subtree(ldap_admin, slapd.suffix)
    return served_env(slapd, tmp_path, people, groups)
