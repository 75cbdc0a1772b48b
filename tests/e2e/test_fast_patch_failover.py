"""The one-write PATCH after a failover: a remembered DN is checked by the node that takes it.

A real multi-provider pair (run-slapd.sh pair mode) and an app given both URLs. The app
learns users' DNs from node 1; node 1 is stopped; on node 2 one user is renamed and another
deleted and replaced by a newcomer at the same DN. PATCHes through the app then land on
node 2: the renamed user is written under its new name, the deleted one is 404 and the
newcomer is untouched, and an unchanged user is still patched in one round trip.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ldap3 import Connection
from support.slapd import Slapd, SlapdPair

from e2e.conftest import TOKEN, settings_for
from gateway.app import create_app

MAPPING = Path(__file__).resolve().parents[1] / "data" / "replication" / "openldap-pair.yaml"
PEOPLE = "ou=People,dc=example,dc=org"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/scim+json"}


@pytest.fixture
def pair(slapd: Slapd, tmp_path: Path) -> Iterator[SlapdPair]:
    """`slapd` (the session one) is only asked for so that a missing slapd skips or fails."""
    made = SlapdPair(tmp_path / "pair").start()
    try:
        yield made
    finally:
        made.stop()


def title(value: str) -> dict[str, Any]:
    return {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": "title", "value": value}],
    }


def trips_of(caplog: pytest.LogCaptureFixture, call: Any) -> tuple[int, Any]:
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="gateway.access"):
        resp = call()
    lines = [r for r in caplog.records if r.name == "gateway.access"]
    assert len(lines) == 1
    return lines[0].fields["ldap_ops"], resp  # type: ignore[attr-defined]


def wait_for(conn: Connection, dn: str, present: bool = True, seconds: float = 20) -> None:
    """Until node 2 holds (or no longer holds) ``dn`` (replication is asynchronous)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = conn.search(dn, "(objectClass=*)", "BASE", attributes=["1.1"]) and conn.entries
        if bool(found) == present:
            return
        time.sleep(0.05)
    raise AssertionError(f"{dn} did not {'appear' if present else 'go'} on node 2")


def test_remembered_dns_stay_correct_across_a_failover(
    pair: SlapdPair, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    node1, node2 = pair.nodes
    settings = settings_for(
        node1,
        MAPPING,
        ldap_urls=pair.urls,
        ldap_connect_timeout=1.0,
        ldap_timeout=2.0,
        ldap_writer_state_file=str(tmp_path / "writer-state"),
    )
    app = create_app(settings)
    client = app.test_client()
    second = node2.admin_connection()
    try:
        ids = {}
        for name in ("kept", "renamed", "replaced", "warmup"):
            resp = client.post(
                "/scim/v2/Users", json={"schemas": [USER], "userName": name}, headers=HEADERS
            )
            assert resp.status_code == 201, resp.get_json()
            ids[name] = resp.get_json()["id"]  # the create taught the app the DN (node 1)
        for name in ids:
            wait_for(second, f"uid={name},{PEOPLE}")

        node1.stop()
        assert second.modify_dn(f"uid=renamed,{PEOPLE}", "uid=renamed2"), second.result
        assert second.delete(f"uid=replaced,{PEOPLE}"), second.result
        assert second.add(
            f"uid=replaced,{PEOPLE}", ["inetOrgPerson"], {"uid": "replaced", "sn": "x", "cn": "x"}
        ), second.result
        # a read moves the app's connections to node 2 (a write is never retried)
        deadline = time.monotonic() + 30
        while client.get(f"/scim/v2/Users/{ids['warmup']}", headers=HEADERS).status_code != 200:
            assert time.monotonic() < deadline, "the app did not fail over to node 2"
            time.sleep(0.2)

        n, resp = trips_of(
            caplog,
            lambda: client.patch(f"/scim/v2/Users/{ids['kept']}", json=title("k"), headers=HEADERS),
        )
        assert (n, resp.status_code) == (1, 200)  # same entryUUID, same DN on node 2

        n, resp = trips_of(
            caplog,
            lambda: client.patch(
                f"/scim/v2/Users/{ids['renamed']}", json=title("r"), headers=HEADERS
            ),
        )
        assert (n, resp.status_code) == (3, 200)
        assert resp.get_json()["userName"] == "renamed2"
        second.search(f"uid=renamed2,{PEOPLE}", "(objectClass=*)", "BASE", attributes=["title"])
        assert second.entries[0].title.values == ["r"]

        n, resp = trips_of(
            caplog,
            lambda: client.patch(
                f"/scim/v2/Users/{ids['replaced']}", json=title("x"), headers=HEADERS
            ),
        )
        assert (n, resp.status_code) == (2, 404)
        second.search(f"uid=replaced,{PEOPLE}", "(objectClass=*)", "BASE", attributes=["title"])
        assert second.entries[0].title.values == []  # the newcomer was not written
    finally:
        second.unbind()
        app.extensions["scim"].pool.close_all()
