"""Shared fixtures. `slapd`: one real OpenLDAP for the whole session (docker/slapd/run-slapd.sh)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator

import pytest

# ldap3 2.9.1 imports pyasn1's tagMap/typeMap, deprecated since pyasn1 0.6.1; with
# filterwarnings=error that import would fail. Import it once here, before any test module does.
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message="(tagMap|typeMap) is deprecated", category=DeprecationWarning
    )
    import ldap3  # noqa: F401

from ldap3 import Connection
from support.slapd import Slapd, slapd_installed


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    """A started slapd on a free loopback port; its run dir (log included) is kept by pytest."""
    if not slapd_installed():
        message = "slapd (OpenLDAP) is not installed: apt-get install slapd ldap-utils"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    server = Slapd(tmp_path_factory.mktemp("slapd"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def ldap_admin(slapd: Slapd) -> Iterator[Connection]:
    """An ldap3 SYNC connection bound as the rootdn; unbound after the test."""
    conn = slapd.admin_connection()
    try:
        yield conn
    finally:
        conn.unbind()
