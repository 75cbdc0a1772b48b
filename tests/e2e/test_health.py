"""/healthz and /readyz over the real directory: no auth, no secrets, 503 when LDAP is gone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ldap3 import Connection
from support.gateway import Gateway
from support.slapd import Slapd, free_port

from e2e.conftest import isolated_mapping, make_subtree, settings_for
from gateway.app import create_app


def _app(slapd: Slapd, mapping: Path, **overrides):
    app = create_app(settings_for(slapd, mapping, **overrides))
    app.testing = True
    return app


def test_healthz_answers_without_auth(gw: Gateway) -> None:
    resp = gw.client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok"}
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["X-Request-Id"]


def test_readyz_is_200_when_the_mapping_is_loaded_and_ldap_answers(gw: Gateway) -> None:
    resp = gw.client.get("/readyz")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {
        "status": "ok",
        "checks": {"mapping": {"status": "ok"}, "ldap": {"status": "ok"}},
    }


def test_readyz_is_503_with_a_reason_when_ldap_is_unreachable(
    slapd: Slapd, ldap_admin: Connection, tmp_path: Path
) -> None:
    people, groups = make_subtree(ldap_admin, slapd.suffix)
    mapping = isolated_mapping(tmp_path, people, groups)
    dead = f"ldap://127.0.0.1:{free_port()}"
    app = _app(slapd, mapping, ldap_urls=(dead,), ldap_connect_timeout=1.0)
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["mapping"] == {"status": "ok"}
    assert body["checks"]["ldap"] == {
        "status": "failed",
        "reason": "cannot connect to the directory",
    }
    text = resp.get_data(as_text=True)
    for leak in (slapd.admin_password, slapd.admin_dn, dead, "127.0.0.1", people):
        assert leak not in text
    assert app.test_client().get("/healthz").status_code == 200  # alive all the same


def test_readyz_names_a_refused_bind_and_a_missing_base(
    slapd: Slapd, ldap_admin: Connection, tmp_path: Path
) -> None:
    people, groups = make_subtree(ldap_admin, slapd.suffix)
    mapping = isolated_mapping(tmp_path, people, groups)
    app = _app(slapd, mapping, ldap_bind_password="not-the-password")
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 503
    reason = resp.get_json()["checks"]["ldap"]["reason"]
    assert reason == "the directory refused the gateway's bind (LDAP result 49)"
    assert "not-the-password" not in resp.get_data(as_text=True)

    assert ldap_admin.delete(groups), ldap_admin.result
    resp = _app(slapd, mapping).test_client().get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json()["checks"]["ldap"]["reason"] == "the base entry of Group does not exist"


def test_readyz_follows_a_directory_that_stops_and_comes_back(tmp_path: Path) -> None:
    """A dedicated slapd (not the session's) is stopped and started again on the same port."""
    own = Slapd(tmp_path / "slapd", port=free_port())  # a fixed port: restarts keep it
    own.start()
    try:
        conn = Connection(own.url, own.admin_dn, own.admin_password, auto_bind=True)
        try:
            people, groups = make_subtree(conn, own.suffix)
        finally:
            conn.unbind()
        mapping = isolated_mapping(tmp_path, people, groups)
        app = _app(own, mapping, ldap_connect_timeout=1.0, ready_cache_seconds=0.0)  # uncached
        client = app.test_client()
        headers = {"Authorization": "Bearer test-token-0123456789abcdef"}
        assert client.get("/readyz").status_code == 200
        assert client.get("/scim/v2/Users", headers=headers).status_code == 200  # pooled conn

        own.stop()
        resp = client.get("/readyz")
        assert resp.status_code == 503, resp.get_json()
        assert resp.get_json()["checks"]["ldap"]["status"] == "failed"
        assert client.get("/scim/v2/Users", headers=headers).status_code == 503

        own.start()  # same run dir, same port
        resp = client.get("/readyz")
        assert resp.status_code == 200, resp.get_json()
        assert client.get("/scim/v2/Users", headers=headers).status_code == 200
        app.extensions["scim"].pool.close_all()
    finally:
        own.stop()


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_endpoints_ignore_a_wrong_bearer_token(gw: Gateway, path: str) -> None:
    resp = gw.client.get(path, headers={"Authorization": "Bearer wrong"})
    assert resp.status_code == 200
    assert json.loads(resp.get_data())["status"] == "ok"
