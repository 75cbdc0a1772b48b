"""Connections to the directory: LDAPS and StartTLS with verification, failover, timeouts.

Uses slapd instances of its own (TLS needs its own config), started by the same script.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.slapd import Slapd, free_port

from e2e.conftest import TOKEN, isolated_mapping, settings_for
from gateway.app import create_app
from gateway.settings import Settings

HEADERS = {"Authorization": f"Bearer {TOKEN}"}


def make_certs(where: Path, name: str = "server") -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 signed by it (openssl CLI)."""
    ca_key, ca_crt = where / "ca.key", where / "ca.crt"
    key, csr, crt = where / f"{name}.key", where / f"{name}.csr", where / f"{name}.crt"
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
    run(
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(ca_key),
        "-out",
        str(ca_crt),
        "-days",
        "2",
        "-subj",
        "/CN=test CA",
    )
    run(
        "openssl",
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(key),
        "-out",
        str(csr),
        "-subj",
        "/CN=127.0.0.1",
    )
    ext = where / f"{name}.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run(
        "openssl",
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        str(ca_crt),
        "-CAkey",
        str(ca_key),
        "-CAcreateserial",
        "-out",
        str(crt),
        "-days",
        "2",
        "-extfile",
        str(ext),
    )
    key.chmod(0o644)
    return ca_crt, crt, key


@pytest.fixture(scope="module")
def tls_slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Slapd, int, Path]]:
    where = tmp_path_factory.mktemp("tls")
    ca, crt, key = make_certs(where)
    ldaps_port = free_port()
    server = Slapd(
        where / "slapd",
        extra_env={
            "SLAPD_TLS_CERT_FILE": str(crt),
            "SLAPD_TLS_KEY_FILE": str(key),
            "SLAPD_LDAPS_PORT": str(ldaps_port),
        },
    )
    server.start()
    try:
        yield server, ldaps_port, ca
    finally:
        server.stop()


def client_for(settings: Settings):
    app = create_app(settings)
    return app, app.test_client()


def users_status(settings: Settings) -> int:
    app, client = client_for(settings)
    try:
        return client.get("/scim/v2/Users?count=1", headers=HEADERS).status_code
    finally:
        app.extensions["scim"].pool.close_all()


def mapping_for(slapd: Slapd, tmp_path: Path) -> Path:
    return isolated_mapping(tmp_path, slapd.people_dn, slapd.groups_dn)


def test_ldaps_with_the_right_ca_works(tls_slapd, tmp_path: Path) -> None:
    slapd, port, ca = tls_slapd
    settings = settings_for(
        slapd,
        mapping_for(slapd, tmp_path),
        ldap_urls=(f"ldaps://127.0.0.1:{port}",),
        ldap_ca_file=ca,
    )
    assert users_status(settings) == 200


def test_starttls_with_the_right_ca_works(tls_slapd, tmp_path: Path) -> None:
    slapd, _port, ca = tls_slapd
    settings = settings_for(
        slapd, mapping_for(slapd, tmp_path), ldap_start_tls=True, ldap_ca_file=ca
    )
    assert users_status(settings) == 200


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # ldap3 leaks the
# TLS socket of a failed handshake to the garbage collector; nothing the gateway holds
def test_an_untrusted_certificate_is_refused_unless_verification_is_off(
    tls_slapd,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    slapd, port, _ca = tls_slapd
    other_ca, _crt, _key = make_certs(tmp_path, "other")
    base = settings_for(
        slapd,
        mapping_for(slapd, tmp_path),
        ldap_urls=(f"ldaps://127.0.0.1:{port}",),
        ldap_ca_file=other_ca,
    )
    assert users_status(base) == 503
    starttls = settings_for(
        slapd, mapping_for(slapd, tmp_path), ldap_start_tls=True, ldap_ca_file=other_ca
    )
    assert users_status(starttls) == 503
    from dataclasses import replace

    with caplog.at_level("WARNING"):
        assert users_status(replace(base, ldap_tls_verify=False)) == 200
    assert "verification of the directory is OFF" in caplog.text


def test_failover_to_the_next_url_and_back(slapd: Slapd, tmp_path: Path) -> None:
    dead = f"ldap://127.0.0.1:{free_port()}"
    settings = settings_for(
        slapd, mapping_for(slapd, tmp_path), ldap_urls=(dead, slapd.url), ldap_connect_timeout=0.5
    )
    started = time.monotonic()
    assert users_status(settings) == 200
    assert time.monotonic() - started < 5


def test_all_directories_down_is_a_quick_503(slapd: Slapd, tmp_path: Path) -> None:
    urls = tuple(f"ldap://127.0.0.1:{free_port()}" for _ in range(2))
    settings = settings_for(
        slapd, mapping_for(slapd, tmp_path), ldap_urls=urls, ldap_connect_timeout=0.5
    )
    started = time.monotonic()
    assert users_status(settings) == 503
    assert time.monotonic() - started < 5


def test_old_connections_are_reopened(slapd: Slapd, tmp_path: Path) -> None:
    """After max age a thread's connection is replaced: a failover does not stick forever."""
    settings = settings_for(slapd, mapping_for(slapd, tmp_path), ldap_max_connection_age=1.0)
    app, client = client_for(settings)
    pool = app.extensions["scim"].pool
    try:
        assert client.get("/scim/v2/Users?count=1", headers=HEADERS).status_code == 200
        first = pool.connection()
        time.sleep(1.2)
        assert client.get("/scim/v2/Users?count=1", headers=HEADERS).status_code == 200
        assert pool.connection() is not first
    finally:
        pool.close_all()
