"""uidNumber / gidNumber allocation (mappings/openldap-posix.yaml) against the real slapd."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask
from ldap3 import Connection
from support.gateway import Gateway
from support.slapd import Slapd

from e2e.conftest import ROOT, TOKEN, isolated_mapping, make_subtree, settings_for
from e2e.test_shipped_mappings import mapping_dns
from gateway.app import create_app

POSIX = ROOT / "mappings" / "openldap-posix.yaml"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/scim+json"}


class Posix:
    def __init__(self, slapd: Slapd, ldap: Connection, tmp_path: Path, **replace: str) -> None:
        self.people, self.groups = make_subtree(ldap, slapd.suffix)
        self.top = self.people.split(",", 1)[1]
        self.ldap = ldap
        extra = {**replace, **mapping_dns(self.top)}
        path = isolated_mapping(tmp_path, self.people, self.groups, POSIX, extra=extra)
        self.apps: list[Flask] = [create_app(settings_for(slapd, path)) for _ in range(2)]
        self.gw = Gateway(self.apps[0].test_client(), ldap, self.people, self.groups, HEADERS)

    @property
    def uid_counter(self) -> str:
        return f"cn=uidNumber-counter,{self.top}"

    def close(self) -> None:
        for app in self.apps:
            app.extensions["scim"].pool.close_all()


@pytest.fixture
def posix(slapd: Slapd, ldap_admin: Connection, tmp_path: Path) -> Iterator[Posix]:
    env = Posix(slapd, ldap_admin, tmp_path)
    try:
        yield env
    finally:
        env.close()


def test_fifty_concurrent_creates_get_fifty_distinct_uid_numbers(posix: Posix) -> None:
    """Two apps (two workers' pools) and ten threads, each with its own test client, race
    from a counter that does not exist yet: its creation is contended too."""
    local = threading.local()

    def create(i: int) -> int:
        if not hasattr(local, "client"):
            local.client = posix.apps[i % 2].test_client()
        resp = local.client.post(
            "/scim/v2/Users", json={"userName": f"racer{i:02d}"}, headers=HEADERS
        )
        assert resp.status_code == 201, resp.get_json()
        return i

    with ThreadPoolExecutor(max_workers=10) as pool:
        done = list(pool.map(create, range(50)))
    assert len(done) == 50
    numbers = [
        int(posix.gw.entry(f"uid=racer{i:02d},{posix.people}", "uidNumber")["uidnumber"][0])
        for i in range(50)
    ]
    assert len(set(numbers)) == 50
    assert sorted(numbers) == list(range(10000, 10050))
    assert posix.gw.entry(posix.uid_counter, "uidNumber") == {"uidnumber": ["10050"]}


def test_replace_and_patch_never_change_the_allocated_numbers(posix: Posix) -> None:
    gw = posix.gw
    uid = gw.post("/Users", {"userName": "keeper"}).get_json()["id"]
    dn = f"uid=keeper,{posix.people}"
    before = gw.entry(dn, "uidNumber", "gidNumber", "homeDirectory")
    resp = gw.put(f"/Users/{uid}", {"userName": "keeper", "displayName": "Keeper"})
    assert resp.status_code == 200, resp.get_json()
    assert gw.entry(dn, "uidNumber", "gidNumber", "homeDirectory") == before
    assert gw.entry(posix.uid_counter, "uidNumber") == {"uidnumber": ["10001"]}


def test_a_deleted_constant_is_written_back_on_the_next_update(posix: Posix) -> None:
    gw = posix.gw
    uid = gw.post("/Users", {"userName": "shell"}).get_json()["id"]
    dn = f"uid=shell,{posix.people}"
    assert gw.ldap.modify(dn, {"loginShell": [("MODIFY_DELETE", [])]}), gw.ldap.result
    resp = gw.patch(
        f"/Users/{uid}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "title", "value": "Ops"}],
        },
    )
    assert resp.status_code == 200, resp.get_json()
    assert gw.entry(dn, "loginShell") == {"loginshell": ["/bin/bash"]}


def test_groups_get_gid_numbers_from_their_own_counter(posix: Posix) -> None:
    gw = posix.gw
    for name in ("alpha", "beta"):
        assert gw.post("/Groups", {"displayName": name}).status_code == 201
    numbers = [
        gw.entry(f"cn={n},{posix.groups}", "gidNumber")["gidnumber"][0] for n in ("alpha", "beta")
    ]
    assert numbers == ["10000", "10001"]


def test_a_counter_below_the_range_is_moved_up_to_its_start(posix: Posix) -> None:
    ok = posix.ldap.add(
        posix.uid_counter,
        ["device", "extensibleObject"],
        {"cn": "uidNumber-counter", "uidNumber": "7"},
    )
    assert ok, posix.ldap.result
    assert posix.gw.post("/Users", {"userName": "low"}).status_code == 201
    assert posix.gw.entry(f"uid=low,{posix.people}", "uidNumber") == {"uidnumber": ["10000"]}


def test_an_exhausted_range_refuses_creates_with_a_clear_error(
    slapd: Slapd, ldap_admin: Connection, tmp_path: Path
) -> None:
    env = Posix(slapd, ldap_admin, tmp_path, **{"last: 59999": "last: 10001"})
    try:
        gw = env.gw
        for name in ("one", "two"):
            assert gw.post("/Users", {"userName": name}).status_code == 201
        resp = gw.post("/Users", {"userName": "three"})
        assert resp.status_code == 503, resp.get_json()
        assert "10000-10001" in resp.get_json()["detail"]
        assert gw.entry(f"uid=three,{env.people}") is None
        assert gw.entry(env.uid_counter, "uidNumber") == {"uidnumber": ["10002"]}
    finally:
        env.close()


def test_a_non_ascii_user_name_is_refused_naming_the_attribute_and_the_rule(
    posix: Posix,
) -> None:
    """homeDirectory is IA5 (ASCII) in nis.schema; the value comes from '/home/{userName}'."""
    resp = posix.gw.post("/Users", {"userName": "zoë"})
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["scimType"] == "invalidValue"
    detail = body["detail"]
    assert "homeDirectory" in detail and "'/home/{userName}'" in detail, detail
    assert "invalid syntax" in detail
    assert posix.gw.children(posix.people) == []  # nothing written
