"""/readyz reuses its outcome for a few seconds (issue 15, item 4): 300 unauthenticated calls
cost a couple of directory checks, not 300 binds, and the answer still follows the directory."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path

from ldap3 import Connection
from prometheus_client import REGISTRY
from support.slapd import Slapd, free_port

from e2e.conftest import isolated_mapping, make_subtree, settings_for
from gateway.app import create_app

CACHE_S = 1.0


def _pings() -> float:
    labels = {"operation": "ping", "result": "0"}
    return REGISTRY.get_sample_value("scim_gateway_ldap_operations_total", labels) or 0.0


def test_readyz_checks_the_directory_at_most_once_per_period_and_stays_honest(
    tmp_path: Path,
) -> None:
    own = Slapd(tmp_path / "slapd", port=free_port())
    own.start()
    try:
        conn = Connection(own.url, own.admin_dn, own.admin_password, auto_bind=True)
        try:
            people, groups = make_subtree(conn, own.suffix)
        finally:
            conn.unbind()
        settings = settings_for(
            own,
            isolated_mapping(tmp_path, people, groups),
            ready_cache_seconds=CACHE_S,
            ldap_connect_timeout=1.0,
        )
        app = create_app(settings)
        client = app.test_client()
        bases = len(app.extensions["scim"].mapping.resources)

        before, started = _pings(), time.monotonic()
        for _ in range(300):
            resp = client.get("/readyz")
            assert resp.status_code == 200
            assert int(resp.headers["Age"]) <= CACHE_S
        statuses: list[int] = []

        def hammer() -> None:
            for _ in range(25):
                statuses.append(client.get("/readyz").status_code)

        threads = [threading.Thread(target=hammer) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        elapsed = time.monotonic() - started
        checks = (_pings() - before) / bases
        print(f"\n500 /readyz calls in {elapsed:.2f} s: {checks:.0f} directory checks")
        assert statuses == [200] * 200
        assert 1 <= checks <= math.ceil(elapsed / CACHE_S) + 1

        own.stop()  # honest: the cached 200 turns 503 once the period is over
        stopped = time.monotonic()
        while client.get("/readyz").status_code == 200:
            assert time.monotonic() - stopped < CACHE_S + 0.5, "a stale 200 outlived its period"
            time.sleep(0.05)
        resp = client.get("/readyz")
        assert resp.status_code == 503
        assert resp.get_json()["checks"]["ldap"]["reason"] == "cannot connect to the directory"

        own.start()
        restarted = time.monotonic()
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() - restarted < CACHE_S + 5, "never ready again"
            time.sleep(0.1)
        app.extensions["scim"].pool.close_all()
    finally:
        own.stop()
