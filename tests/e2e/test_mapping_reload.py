"""Mapping reload: in the app (reload_mapping) and through `scim-gateway serve` + SIGHUP."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from ldap3 import Connection
from prometheus_client import REGISTRY
from support.gateway import Gateway
from support.served import Served
from support.slapd import Slapd

from e2e.conftest import TOKEN, isolated_mapping, make_subtree, served_env, settings_for
from gateway.app import create_app
from gateway.reloading import reload_mapping

NICKNAME_RULE = "    - scim: nickName\n      ldap: description\n"


def add_nickname(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    anchor = "    - scim: title\n"
    path.write_text(text.replace(anchor, NICKNAME_RULE + anchor, 1), encoding="utf-8")


def break_mapping(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  scope: one\n", "  scope: one\n  colour: red\n", 1), "utf-8")


def served_attributes(schemas: dict) -> set[str]:
    return {a["name"] for r in schemas["Resources"] for a in r["attributes"]}


def reloads(result: str) -> float:
    return REGISTRY.get_sample_value("scim_gateway_mapping_reloads_total", {"result": result}) or 0


def test_reload_serves_the_new_mapping_and_refuses_a_broken_one(
    slapd: Slapd, ldap_admin: Connection, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    people, groups = make_subtree(ldap_admin, slapd.suffix)
    path = isolated_mapping(tmp_path, people, groups)
    app = create_app(settings_for(slapd, path))
    gw = Gateway(
        app.test_client(), ldap_admin, people, groups, {"Authorization": f"Bearer {TOKEN}"}
    )
    try:
        assert "nickName" not in served_attributes(gw.get("/Schemas").get_json())
        ok_before, failed_before = reloads("ok"), reloads("failed")

        add_nickname(path)
        assert reload_mapping(app) is True
        assert "nickName" in served_attributes(gw.get("/Schemas").get_json())
        resp = gw.post("/Users", {"userName": "nick", "nickName": "Nicky"})
        assert resp.status_code == 201 and resp.get_json()["nickName"] == "Nicky"
        assert gw.entry(f"uid=nick,{people}", "description") == {"description": ["Nicky"]}
        assert reloads("ok") == ok_before + 1

        break_mapping(path)
        with caplog.at_level(logging.ERROR, logger="gateway.reloading"):
            assert reload_mapping(app) is False
        assert "colour: Unknown field." in caplog.text
        assert "still serving the previous mapping" in caplog.text
        assert reloads("failed") == failed_before + 1
        # the previous (nickName) mapping keeps serving
        uid = resp.get_json()["id"]
        assert gw.get(f"/Users/{uid}").get_json()["nickName"] == "Nicky"
    finally:
        app.extensions["scim"].pool.close_all()


@pytest.fixture
def served(
    slapd: Slapd, ldap_admin: Connection, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen, str, Path, Path]]:
    people, groups = make_subtree(ldap_admin, slapd.suffix)
    mapping = isolated_mapping(tmp_path, people, groups)
    env = served_env(slapd, tmp_path, people, groups, mapping) | {"SCIM_GATEWAY_LOG_FORMAT": "text"}
    with Served(env, tmp_path / "gateway.log") as gateway:
        assert gateway.proc is not None
        yield gateway.proc, f"{gateway.base}/scim/v2", mapping, gateway.log_path


def schemas(base: str) -> dict | None:
    req = urllib.request.Request(f"{base}/Schemas")  # noqa: S310
    req.add_header("Authorization", f"Bearer {TOKEN}")
    try:
        with urllib.request.urlopen(req, timeout=2) as resp:  # noqa: S310
            return json.loads(resp.read())
    except (OSError, urllib.error.HTTPError):
        return None


def wait_for(condition, proc: subprocess.Popen, log_path: Path, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"gateway exited:\n{log_path.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out; log:\n{log_path.read_text()}")
        time.sleep(0.1)


def test_sighup_reloads_the_mapping_in_every_worker(
    served: tuple[subprocess.Popen, str, Path, Path],
) -> None:
    proc, base, mapping, log_path = served
    assert "nickName" not in served_attributes(schemas(base) or {"Resources": []})
    add_nickname(mapping)
    proc.send_signal(signal.SIGHUP)

    def everywhere() -> bool:  # several requests, so both workers answer
        return all(
            (s := schemas(base)) is not None and "nickName" in served_attributes(s)
            for _ in range(6)
        )

    wait_for(everywhere, proc, log_path)
    assert "mapping reloaded" in log_path.read_text()

    break_mapping(mapping)
    proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "still serving the previous mapping" in log_path.read_text(), proc, log_path)
    assert "colour: Unknown field." in log_path.read_text()
    time.sleep(1)  # the replacement workers are up
    for _ in range(6):
        found = schemas(base)
        assert found is not None and "nickName" in served_attributes(found)
