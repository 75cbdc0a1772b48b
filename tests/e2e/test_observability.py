"""Metrics, access lines and audit lines of the app over the real directory (in-process)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from ldap3 import Connection
from support.gateway import Gateway
from support.slapd import Slapd

from e2e.conftest import TOKEN, isolated_mapping, make_subtree, settings_for
from gateway.app import create_app
from gateway.logconfig import JsonFormatter, TextFormatter

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BODY_SECRET = "Body-Secret-Value-13579"


def scrape(gw: Gateway, headers: dict[str, str] | None = None) -> dict[str, float]:
    resp = gw.client.get("/metrics", headers=headers or {})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.headers["Content-Type"].startswith("text/plain")
    out = {}
    for line in resp.get_data(as_text=True).splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def delta(before: dict[str, float], after: dict[str, float], key: str) -> float:
    return after.get(key, 0.0) - before.get(key, 0.0)


def http(resource: str, method: str, status: int) -> str:
    return (
        "scim_gateway_http_requests_total"
        f'{{method="{method}",resource_type="{resource}",status="{status}"}}'
    )


def ldap(operation: str, result: str) -> str:
    return f'scim_gateway_ldap_operations_total{{operation="{operation}",result="{result}"}}'


def test_metrics_count_requests_and_ldap_operations(gw: Gateway) -> None:
    before = scrape(gw)
    created = gw.post("/Users", {"userName": "metered"})
    assert created.status_code == 201
    assert gw.get("/Users?filter=userName+eq+%22metered%22").status_code == 200
    assert gw.post("/Users", {"userName": "metered"}).status_code == 409
    assert gw.client.get("/scim/v2/Users").status_code == 401
    assert gw.get("/Groups/00000000-0000-0000-0000-000000000000").status_code == 404
    after = scrape(gw)

    assert delta(before, after, http("User", "POST", 201)) == 1
    assert delta(before, after, http("User", "POST", 409)) == 1
    assert delta(before, after, http("User", "GET", 200)) == 1
    assert delta(before, after, http("User", "GET", 401)) == 1
    assert delta(before, after, http("Group", "GET", 404)) == 1
    assert delta(before, after, ldap("add", "0")) == 1
    assert delta(before, after, ldap("search", "0")) >= 2
    reason = 'scim_gateway_auth_failures_total{endpoint="scim",reason="missing"}'
    assert delta(before, after, reason) == 1
    count = 'scim_gateway_http_request_duration_seconds_count{method="POST",resource_type="User"}'
    assert delta(before, after, count) == 2
    assert after["scim_gateway_ldap_connections_open"] >= 1
    assert 'scim_gateway_mapping_reloads_total{result="failed"}' in after


def test_metrics_token_guards_metrics_when_set(
    slapd: Slapd, ldap_admin: Connection, tmp_path: Path
) -> None:
    people, groups = make_subtree(ldap_admin, slapd.suffix)
    settings = settings_for(
        slapd, isolated_mapping(tmp_path, people, groups), metrics_token="metrics-token-0123456789"
    )
    client = create_app(settings).test_client()
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert wrong.status_code == 401  # the SCIM token is not the metrics token
    ok = client.get("/metrics", headers={"Authorization": "Bearer metrics-token-0123456789"})
    assert ok.status_code == 200 and b"scim_gateway_http_requests_total" in ok.data


def test_one_access_line_per_request_and_one_audit_line_per_change(
    gw: Gateway, slapd: Slapd, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    created = gw.post("/Users", {"userName": "logged", "password": BODY_SECRET})
    assert created.status_code == 201
    uid = created.get_json()["id"]
    ops = [{"op": "Replace", "path": "title", "value": "Engineer"}]
    assert gw.patch(f"/Users/{uid}", {"schemas": [PATCH], "Operations": ops}).status_code == 200
    assert gw.get(f"/Users/{uid}").status_code == 200
    replaced = gw.put(f"/Users/{uid}", {"userName": "logged2", "active": True})
    assert replaced.status_code == 200, replaced.get_json()
    assert gw.delete(f"/Users/{uid}").status_code == 204
    assert gw.delete(f"/Users/{uid}").status_code == 404

    access = [r for r in caplog.records if r.name == "gateway.access"]
    audit = [r for r in caplog.records if r.name == "gateway.audit"]
    assert len(access) == 6
    assert [(r.fields["operation"], r.fields["status"]) for r in audit] == [
        ("create", 201),
        ("patch", 200),
        ("replace", 200),
        ("delete", 204),
        ("delete", 404),
    ]
    old_dn, new_dn = f"uid=logged,{gw.people}", f"uid=logged2,{gw.people}"
    assert audit[0].fields["dns"] == [old_dn]
    assert audit[0].fields["ldap_operations"] == [  # the add, then the password
        {"op": "add", "dn": old_dn, "result": 0},
        {"op": "passwd", "dn": old_dn, "result": 0},
    ]
    assert {"op": "modify", "dn": old_dn, "result": 0} in audit[1].fields["ldap_operations"]
    assert audit[2].fields["dns"] == [old_dn, new_dn]  # renamed, then modified
    assert {"op": "modrdn", "dn": old_dn, "result": 0} in audit[2].fields["ldap_operations"]
    assert audit[3].fields["dns"] == [new_dn]
    assert audit[4].fields["outcome"] == "failure" and audit[4].fields["dns"] == []
    assert all(r.fields["id"] == uid and r.fields["resource_type"] == "User" for r in audit)
    assert [r.fields["ldap_ops"] for r in access] == [
        len(a.fields["ldap_operations"]) for a in audit[:2]
    ] + [1] + [len(a.fields["ldap_operations"]) for a in audit[2:]]

    # Formatted WITHOUT redaction: the secrets must simply never have been logged.
    plain_json, plain_text = JsonFormatter(), TextFormatter()
    everything = "\n".join(
        f(r) for r in caplog.records for f in (plain_json.format, plain_text.format)
    )
    for secret in (TOKEN, slapd.admin_password, BODY_SECRET, "Bearer"):
        assert secret not in everything


def test_request_id_is_taken_from_the_client_when_sane(
    gw: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.access")
    resp = gw.get("/Users", headers={**gw.headers, "X-Request-Id": "entra-42.abc"})
    assert resp.headers["X-Request-Id"] == "entra-42.abc"
    resp = gw.get("/Users", headers={**gw.headers, "X-Request-Id": "no spaces <script>"})
    assert resp.headers["X-Request-Id"] != "no spaces <script>"
    assert len(resp.headers["X-Request-Id"]) == 32
    assert "request_id=entra-42.abc" in caplog.records[0].getMessage()


@pytest.mark.parametrize(("hops", "scheme"), [(0, "http"), (1, "https")])
def test_forwarded_proto_is_trusted_only_with_proxy_hops(
    slapd: Slapd, ldap_admin: Connection, tmp_path: Path, hops: int, scheme: str
) -> None:
    people, groups = make_subtree(ldap_admin, slapd.suffix)
    settings = settings_for(
        slapd, isolated_mapping(tmp_path, people, groups), trusted_proxy_hops=hops
    )
    app = create_app(settings)
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "scim.example.org",
        "X-Forwarded-For": "192.0.2.7",
    }
    resp = app.test_client().post("/scim/v2/Users", json={"userName": "proxied"}, headers=headers)
    assert resp.status_code == 201
    host = "scim.example.org" if hops else "localhost"
    assert resp.headers["Location"].startswith(f"{scheme}://{host}/scim/v2/Users/")
    app.extensions["scim"].pool.close_all()


def test_the_text_access_line_shows_the_scim_query(gw: Gateway) -> None:
    """docs/entra.md: during Entra's Test Connection, look for its filtered GET in the log."""
    from gateway.logconfig import make_formatter

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    access = logging.getLogger("gateway.access")
    keep = Keep(logging.INFO)
    access.addHandler(keep)
    old_level = access.level
    access.setLevel(logging.INFO)
    try:
        resp = gw.get('/Users?filter=userName eq "probe"&count=1&secret=x')
    finally:
        access.removeHandler(keep)
        access.setLevel(old_level)
    assert resp.status_code == 200
    line = make_formatter("text").format(records[-1])
    assert 'GET /scim/v2/Users?filter=userName eq "probe"&count=1 200' in line, line
    assert "secret" not in line
