"""Where the URLs the gateway writes point (issue 15, item 2): the configured public base URL,
whatever Host or X-Forwarded-* say; without it, the request's own Host (documented)."""

from __future__ import annotations

from pathlib import Path

from ldap3 import Connection
from support.slapd import Slapd

from e2e.conftest import TOKEN, isolated_mapping, make_subtree, settings_for
from gateway.app import create_app

JSON = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/scim+json"}
EVIL = {"Host": "evil.example", "X-Forwarded-Host": "evil2.example", "X-Forwarded-Proto": "http"}


def _client(slapd: Slapd, ldap_admin: Connection, tmp_path: Path, **overrides):
    people, groups = make_subtree(ldap_admin, slapd.suffix)
    app = create_app(settings_for(slapd, isolated_mapping(tmp_path, people, groups), **overrides))
    app.testing = True
    return app, app.test_client()


def test_the_public_url_wins_over_host_and_forwarded_headers(
    slapd: Slapd, ldap_admin: Connection, tmp_path: Path
) -> None:
    app, client = _client(
        slapd,
        ldap_admin,
        tmp_path,
        public_url="https://scim.example.org/gw",
        trusted_proxy_hops=1,  # even a trusted proxy's X-Forwarded-Host does not move it
    )
    base = "https://scim.example.org/gw/scim/v2"
    try:
        user = client.post("/scim/v2/Users", json={"userName": "hosted"}, headers={**JSON, **EVIL})
        assert user.status_code == 201, user.get_json()
        uid = user.get_json()["id"]
        assert user.headers["Location"] == f"{base}/Users/{uid}"
        assert user.get_json()["meta"]["location"] == f"{base}/Users/{uid}"
        group = client.post(
            "/scim/v2/Groups",
            json={"displayName": "hosts", "members": [{"value": uid}]},
            headers={**JSON, **EVIL},
        )
        assert group.status_code == 201, group.get_json()
        assert group.get_json()["members"][0]["$ref"] == f"{base}/Users/{uid}"
        spc = client.get("/scim/v2/ServiceProviderConfig", headers={**JSON, **EVIL}).get_json()
        assert spc["meta"]["location"] == f"{base}/ServiceProviderConfig"
        listing = client.get("/scim/v2/Users", headers={**JSON, **EVIL}).get_json()
        assert "evil" not in str(listing)
        # The client address still comes from the trusted proxy's X-Forwarded-For.
    finally:
        app.extensions["scim"].pool.close_all()


def test_without_a_public_url_urls_follow_the_requests_host(
    slapd: Slapd, ldap_admin: Connection, tmp_path: Path
) -> None:
    """The documented fallback: each client gets URLs built from the Host it sent."""
    app, client = _client(slapd, ldap_admin, tmp_path)
    try:
        user = client.post("/scim/v2/Users", json={"userName": "hosted"}, headers={**JSON, **EVIL})
        assert user.headers["Location"].startswith("http://evil.example/scim/v2/Users/")
    finally:
        app.extensions["scim"].pool.close_all()
