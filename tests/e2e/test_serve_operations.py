"""Operations through the real server (entrypoint -> scim-gateway serve -> gunicorn workers):
multi-process metrics, JSON access and audit logs without secrets, HTTPS, the image healthcheck."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml
from support.served import Served
from support.slapd import REPO_ROOT, Slapd
from support.tls import self_signed

from e2e.conftest import TOKEN

USERS = "/scim/v2/Users"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON_BODY = {**AUTH, "Content-Type": "application/scim+json; charset=utf-8"}
METRICS_TOKEN = "metrics-Token-0123456789-xyz"
WRONG_TOKEN = "Wrong-Token-Value-987654321"
BODY_SECRET = "Body-Secret-Value-24680"


def samples(text: str, name: str) -> dict[str, float]:
    """Prometheus text exposition: {'name{labels}': value} for the samples of ``name``."""
    out = {}
    for line in text.splitlines():
        if line.startswith(name):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def metrics_text(served: Served, token: str | None = None) -> str:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    status, body, _ = served.request("GET", "/metrics", headers=headers)
    assert status == 200, body
    return body.decode()


def settled_metrics(served: Served, key: str, count: float) -> str:
    """The exposition once ``key`` has reached ``count``: each worker writes its requests'
    counts once a second (gateway.metrics.FLUSH_SECONDS), the scraped one at the scrape."""
    deadline = time.monotonic() + 10
    while True:
        text = metrics_text(served)
        name = key.partition("{")[0]
        if samples(text, name).get(key, 0) >= count or time.monotonic() > deadline:
            return text
        time.sleep(0.2)


def user(name: str, **extra: object) -> bytes:
    return json.dumps({"userName": name, "active": True, **extra}).encode()


def test_metrics_cover_all_workers_and_forget_a_dead_one(
    gateway_env: dict[str, str], tmp_path: Path
) -> None:
    metrics_dir = tmp_path / "metrics"
    env = {**gateway_env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    with Served(env, tmp_path / "gateway.log") as served:
        for _ in range(20):
            assert served.request("GET", USERS, headers=AUTH)[0] == 200
        key = 'scim_gateway_http_requests_total{method="GET",resource_type="User",status="200"}'
        text = settled_metrics(served, key, 20)
        requests = samples(text, "scim_gateway_http_requests_total")
        assert requests[key] == 20  # every worker's count, merged from the shared directory
        ldap = samples(text, "scim_gateway_ldap_operations_total")
        assert ldap['scim_gateway_ldap_operations_total{operation="search",result="0"}'] >= 20
        assert ldap['scim_gateway_ldap_operations_total{operation="bind",result="0"}'] >= 1
        assert "scim_gateway_ldap_operation_duration_seconds_bucket" in text
        assert "scim_gateway_http_request_duration_seconds_bucket" in text
        gauge = samples(text, "scim_gateway_ldap_connections_open")
        assert gauge["scim_gateway_ldap_connections_open"] >= 1

        master = served.proc.pid if served.proc else 0
        workers = sorted(
            int(m.group(1))
            for f in metrics_dir.iterdir()
            if (m := re.fullmatch(r"gauge_livesum_(\d+)\.db", f.name)) and int(m.group(1)) != master
        )
        assert workers, sorted(f.name for f in metrics_dir.iterdir())
        os.kill(workers[0], signal.SIGTERM)  # gunicorn replaces it; child_exit forgets it
        deadline = time.monotonic() + 15
        while (metrics_dir / f"gauge_livesum_{workers[0]}.db").exists():
            assert time.monotonic() < deadline, "the dead worker's live gauge was not removed"
            time.sleep(0.1)
        assert served.request("GET", USERS, headers=AUTH)[0] == 200
        text = settled_metrics(served, key, 21)
        assert samples(text, "scim_gateway_http_requests_total")[key] == 21
    assert "child_exit" not in served.log()  # the hook raised nothing


def test_json_logs_have_one_audit_line_per_change_and_no_secret(
    gateway_env: dict[str, str], slapd: Slapd, tmp_path: Path
) -> None:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **gateway_env,
        "SCIM_GATEWAY_METRICS_TOKEN": METRICS_TOKEN,
        "TMPDIR": str(tmpdir),
        "HOME": str(home),
        "XDG_RUNTIME_DIR": "",
    }
    changes = []
    with Served(env, tmp_path / "gateway.log") as served:
        status, body, _ = served.request(
            "POST", USERS, user("audited", password=BODY_SECRET), JSON_BODY
        )
        assert status == 201, body
        uid = json.loads(body)["id"]
        changes.append(("create", 201))
        patch = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Replace", "path": "displayName", "value": "Audited One"}],
        }
        status, body, _ = served.request(
            "PATCH", f"{USERS}/{uid}", json.dumps(patch).encode(), JSON_BODY
        )
        assert status == 200, body
        changes.append(("patch", 200))
        assert served.request("POST", USERS, user("audited"), JSON_BODY)[0] == 409
        changes.append(("create", 409))
        wrong = {**JSON_BODY, "Authorization": f"Bearer {WRONG_TOKEN}"}
        assert served.request("POST", USERS, user("intruder"), wrong)[0] == 401
        changes.append(("create", 401))
        query = f"{USERS}?filter=userName+eq+%22audited%22&count=5"
        assert served.request("GET", query, headers=AUTH)[0] == 200
        assert served.request("DELETE", f"{USERS}/{uid}", headers=AUTH)[0] == 204
        changes.append(("delete", 204))
        assert served.request("GET", "/metrics")[0] == 401
        (metrics_dir,) = tmpdir.glob("scim-gateway-metrics-*")  # made by serve, shared by workers
        assert any(metrics_dir.glob("counter_*.db"))
        text = metrics_text(served, METRICS_TOKEN)
        assert 'scim_gateway_auth_failures_total{endpoint="scim",reason="invalid"} 1.0' in text
        assert 'scim_gateway_auth_failures_total{endpoint="metrics",reason="missing"} 1.0' in text
    assert served.proc is not None and served.proc.returncode == 0, served.log()
    log = served.log()

    for secret in (TOKEN, WRONG_TOKEN, METRICS_TOKEN, slapd.admin_password, BODY_SECRET):
        assert secret not in log
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]  # all JSON
    audits = [r for r in lines if r["logger"] == "gateway.audit"]
    assert [(a["operation"], a["status"]) for a in audits] == changes
    created, patched, duplicate, refused, deleted = audits
    assert created["outcome"] == "success" and created["id"] == uid
    assert created["resource_type"] == "User" and created["request_id"]
    # the add, then the password (Password Modify; the value is in no log line)
    assert [op["op"] for op in created["ldap_operations"]][-2:] == ["add", "passwd"]
    assert [op["result"] for op in created["ldap_operations"]][-2:] == [0, 0]
    assert created["dns"] == [created["ldap_operations"][-1]["dn"]]
    assert created["dns"][0].startswith("uid=audited,")
    assert patched["dns"] == created["dns"]
    assert any(op["op"] == "modify" and op["result"] == 0 for op in patched["ldap_operations"])
    assert duplicate["outcome"] == "failure" and duplicate["scim_type"] == "uniqueness"
    assert refused["ldap_operations"] == [] and refused["outcome"] == "failure"
    assert deleted["dns"] == created["dns"] and deleted["id"] == uid
    # the delete, then the search for groups that gained the user meanwhile (Membership.sweep)
    assert {"op": "delete", "dn": created["dns"][0], "result": 0} in deleted["ldap_operations"]
    assert deleted["ldap_operations"][-1]["op"] == "search"

    access = [r for r in lines if r["logger"] == "gateway.access"]
    listing = next(r for r in access if r.get("query"))
    assert listing["query"] == {"filter": 'userName eq "audited"', "count": "5"}
    assert listing["status"] == 200 and listing["ldap_ops"] >= 1
    assert listing["resource_type"] == "User" and listing["duration_ms"] >= 0
    assert {"request_id", "method", "path", "client"} <= listing.keys()
    assert any(r["logger"].startswith("gunicorn") for r in lines)  # gunicorn's lines too
    assert list(tmpdir.iterdir()) == []  # the metrics directory serve created is gone
    assert list(home.iterdir()) == []  # no gunicorn control socket (~/.gunicorn/gunicorn.ctl)


def _healthcheck_commands() -> dict[str, list[str]]:
    """The gateway healthcheck of the image and of the compose file, as argv."""
    dockerfile = (REPO_ROOT / "docker" / "gateway" / "Dockerfile").read_text()
    joined = dockerfile.replace("\\\n", " ")
    found = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])\s*$", joined, re.M)
    assert found, "no exec-form HEALTHCHECK in the gateway Dockerfile"
    compose = yaml.safe_load((REPO_ROOT / "docker" / "docker-compose.yml").read_text())
    out = {
        "image": json.loads(found.group(1)),
        "compose": compose["services"]["gateway"]["healthcheck"]["test"][1:],
    }
    for argv in out.values():
        assert argv[0] == "python"
    return out


def test_served_over_https_with_the_configured_certificate(
    gateway_env: dict[str, str], tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)
    env = {
        **gateway_env,
        "SCIM_GATEWAY_TLS_CERT_FILE": str(cert),
        "SCIM_GATEWAY_TLS_KEY_FILE": str(key),
    }
    with Served(env, tmp_path / "gateway.log", cafile=cert) as served:  # verifies against cert
        status, body, _ = served.request("GET", USERS, headers=AUTH)
        assert status == 200, body
        assert json.loads(body)["totalResults"] == 0
        for name, argv in _healthcheck_commands().items():
            check = subprocess.run(
                [sys.executable, *argv[1:]], env=served.env, capture_output=True, timeout=30
            )
            assert check.returncode == 0, (name, check.stderr)


def test_image_healthcheck_passes_over_http_and_fails_when_down(
    gateway_env: dict[str, str], tmp_path: Path
) -> None:
    commands = _healthcheck_commands()
    with Served(gateway_env, tmp_path / "gateway.log", workers=1) as served:
        for name, argv in commands.items():
            check = subprocess.run(
                [sys.executable, *argv[1:]], env=served.env, capture_output=True, timeout=30
            )
            assert check.returncode == 0, (name, check.stderr)
    for name, argv in commands.items():
        check = subprocess.run(
            [sys.executable, *argv[1:]], env=served.env, capture_output=True, timeout=30
        )
        assert check.returncode != 0, name
