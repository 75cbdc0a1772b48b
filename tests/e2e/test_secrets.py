"""Secrets never leave the gateway: not in logs (DEBUG included), error bodies, headers or metrics.

Known values play every secret's part — the bearer token, the metrics token, the LDAP bind
password, a wrong token a client sent, a wrong bind password configured by mistake — and
after a mix of good and failing requests none of them may appear anywhere the gateway
writes. In-process, the log records are rendered WITHOUT the redacting safety net, so a
secret that was merely masked on output still fails the test; served, the log must not even
contain the redaction marker (nothing tried to log a secret).
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterable
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from ldap3 import Connection
from support.scim_http import ScimHttp, gateway_env
from support.served import Served
from support.slapd import Slapd

from e2e.conftest import isolated_mapping, make_subtree, settings_for
from gateway.app import create_app
from gateway.logconfig import REDACTED, JsonFormatter

KNOWN_TOKEN = "Known-Token-5f1b2c3d4e5f6a7b"
WRONG_TOKEN = "Wrong-Token-9a8b7c6d5e4f3a2b"
METRICS_TOKEN = "Metrics-Token-77aa88bb99cc00"
BAD_BIND_PASSWORD = "Bad-Bind-Pw-0a1b2c3d4e"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


def secret_forms(secrets: Iterable[str]) -> list[str]:
    """Each secret as sent and as it would look base64-encoded or JSON-escaped."""
    out = []
    for s in secrets:
        out += [s, base64.b64encode(s.encode()).decode(), json.dumps(s)[1:-1]]
    return out


def assert_absent(secrets: Iterable[str], where: str, text: str) -> None:
    for secret in secret_forms(secrets):
        assert secret not in text, f"a secret ({secret[:4]}...) appears in {where}"


def rendered(records: list[logging.LogRecord]) -> str:
    """Every record as JSON with no redaction, plus its raw args (what a handler could see)."""
    plain = JsonFormatter()
    return "\n".join(f"{plain.format(r)} {r.args!r}" for r in records)


# ------------------------------------------------------------------------------ the traffic


def requests_with_secrets(people_probe: str) -> list[tuple[str, str, dict[str, str], object]]:
    """(method, path, headers, body): good calls, failing calls, and misplaced credentials."""
    good = {"Authorization": f"Bearer {KNOWN_TOKEN}"}
    return [
        ("POST", "/scim/v2/Users", good, {"userName": people_probe, "title": "t"}),
        ("POST", "/scim/v2/Users", good, {"userName": people_probe}),  # 409
        ("GET", f"/scim/v2/Users?filter=userName+eq+%22{people_probe}%22", good, None),
        ("POST", "/scim/v2/Users/.search", good, {"schemas": [SEARCH], "filter": "title pr"}),
        ("POST", "/scim/v2/Users", good, {"userName": 5}),  # 400
        ("GET", "/scim/v2/Users/a1b2c3d4-0000-4000-8000-000000000000", good, None),  # 404
        ("GET", "/scim/v2/Groups", good, None),
        ("GET", "/scim/v2/Users", {"Authorization": f"Bearer {WRONG_TOKEN}"}, None),
        ("GET", "/scim/v2/Users", {"Authorization": f"Bearer {KNOWN_TOKEN}x"}, None),
        ("GET", "/scim/v2/Users", {"Authorization": f"Basic {KNOWN_TOKEN}"}, None),
        ("GET", "/scim/v2/Users", {"Authorization": KNOWN_TOKEN}, None),
        ("GET", f"/scim/v2/Users?access_token={KNOWN_TOKEN}", {}, None),
        ("POST", "/scim/v2/Users", {"Authorization": f"Bearer {WRONG_TOKEN}"}, {"userName": "x"}),
        ("GET", "/metrics", {}, None),
        ("GET", "/metrics", {"Authorization": f"Bearer {WRONG_TOKEN}"}, None),
        ("GET", "/metrics", {"Authorization": f"Bearer {METRICS_TOKEN}"}, None),
        ("GET", "/readyz", {}, None),
        ("GET", "/healthz", {}, None),
    ]


def run_in_process(client: FlaskClient, calls) -> list[tuple[int, str, str]]:
    out = []
    for method, path, headers, body in calls:
        resp = client.open(path, method=method, headers=headers, json=body)
        out.append((resp.status_code, resp.get_data(as_text=True), str(resp.headers)))
    return out


def run_served(scim: ScimHttp, calls) -> list[tuple[int, str, str]]:
    out = []
    for method, path, headers, body in calls:
        answer = scim.call(method, path, body, headers=headers, prefix="")
        out.append((answer.status, json.dumps(answer.body), str(answer.headers)))
    return out


def metrics_text(answers: list[tuple[int, str, str]]) -> str:
    scraped = [body for status, body, _ in answers if status == 200 and "scim_gateway_" in body]
    assert scraped, "/metrics was never read"
    return "\n".join(scraped)


# --------------------------------------------------------------------------------- in-process


def test_no_secret_in_debug_logs_bodies_headers_or_metrics_in_process(
    slapd: Slapd, ldap_admin: Connection, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    people, groups = make_subtree(ldap_admin, slapd.suffix)
    settings = settings_for(
        slapd,
        isolated_mapping(tmp_path, people, groups),
        token=KNOWN_TOKEN,
        metrics_token=METRICS_TOKEN,
    )
    app = create_app(settings)
    try:
        answers = run_in_process(app.test_client(), requests_with_secrets("secretive"))
        runtime_repr = repr(app.extensions["scim"])
    finally:
        app.extensions["scim"].pool.close_all()
    statuses = [status for status, _, _ in answers]
    assert statuses[:2] == [201, 409] and statuses.count(401) >= 6, statuses
    secrets = [KNOWN_TOKEN, WRONG_TOKEN, METRICS_TOKEN, slapd.admin_password]
    assert caplog.records, "nothing was logged at DEBUG"
    assert_absent(secrets, "the log records", rendered(caplog.records))
    for status, body, headers in answers:
        assert_absent(secrets, f"a {status} response", body + headers)
    assert_absent(secrets, "/metrics", metrics_text(answers))
    assert_absent(secrets, "repr(runtime)", runtime_repr + repr(settings))


def test_a_wrong_bind_password_is_neither_logged_nor_answered(
    slapd: Slapd, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    mapping = isolated_mapping(tmp_path, slapd.people_dn, slapd.groups_dn)
    app = create_app(
        settings_for(slapd, mapping, token=KNOWN_TOKEN, ldap_bind_password=BAD_BIND_PASSWORD)
    )
    client = app.test_client()
    good = {"Authorization": f"Bearer {KNOWN_TOKEN}"}
    try:
        answers = [
            client.get("/scim/v2/Users", headers=good),
            client.post("/scim/v2/Users", json={"userName": "x"}, headers=good),
            client.get("/readyz"),
        ]
    finally:
        app.extensions["scim"].pool.close_all()
    assert [a.status_code for a in answers] == [503, 503, 503]
    assert any("bind" in r.getMessage() for r in caplog.records), "the refusal was not logged"
    secrets = [BAD_BIND_PASSWORD, KNOWN_TOKEN]
    assert_absent(secrets, "the log records", rendered(caplog.records))
    for resp in answers:
        assert_absent(secrets, "a 503 response", resp.get_data(as_text=True) + str(resp.headers))


# --------------------------------------------------------------------------------- served


def served_env(slapd: Slapd, tmp_path: Path, password: str, **extra: str) -> dict[str, str]:
    conn = Connection(slapd.url, slapd.admin_dn, slapd.admin_password, auto_bind=True)
    try:
        people, groups = make_subtree(conn, slapd.suffix)
    finally:
        conn.unbind()
    return gateway_env(
        slapd.url,
        slapd.admin_dn,
        password,
        isolated_mapping(tmp_path, people, groups),
        KNOWN_TOKEN,
        tmp_path / "secrets",
        metrics_token=METRICS_TOKEN,
        log_level="DEBUG",
        **extra,
    )


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_the_served_gateway_never_even_tries_to_log_a_secret(
    slapd: Slapd, tmp_path: Path, log_format: str
) -> None:
    env = served_env(slapd, tmp_path, slapd.admin_password, log_format=log_format)
    with Served(env, tmp_path / "gateway.log", workers=1) as served:
        answers = run_served(ScimHttp(served.base, KNOWN_TOKEN), requests_with_secrets("served"))
    log = served.log()
    assert "request_id" in log or "GET /scim/v2/Users" in log, log[-2000:]
    secrets = [KNOWN_TOKEN, WRONG_TOKEN, METRICS_TOKEN, slapd.admin_password]
    assert_absent(secrets, "the served log", log)
    assert REDACTED not in log, "something tried to log a secret (the redaction net caught it)"
    for status, body, headers in answers:
        assert_absent(secrets, f"a {status} response", body + headers)
    assert_absent(secrets, "/metrics", metrics_text(answers))


def test_the_served_gateway_with_a_wrong_bind_password_keeps_it_to_itself(
    slapd: Slapd, tmp_path: Path
) -> None:
    env = served_env(slapd, tmp_path, BAD_BIND_PASSWORD)
    with Served(env, tmp_path / "gateway.log", workers=1) as served:
        scim = ScimHttp(served.base, KNOWN_TOKEN)
        answers = [scim.get("/Users"), scim.post("/Users", {"userName": "x"})]
        ready = scim.call("GET", "/readyz", prefix="")
    assert [a.status for a in answers] == [503, 503] and ready.status == 503
    log = served.log()
    assert_absent([BAD_BIND_PASSWORD, KNOWN_TOKEN], "the served log", log)
    assert REDACTED not in log
    for answer in [*answers, ready]:
        assert_absent([BAD_BIND_PASSWORD], "a 503 response", json.dumps(answer.body))
