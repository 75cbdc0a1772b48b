"""`mapping explain` prints exactly what the gateway then does: compared with slapd afterwards.

Each test explains a request (Entra's samples), performs the same request through the
gateway, reads the entry back and checks it equals the entry before, changed by the LDIF.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from ldap3 import Connection
from support import ldif
from support.gateway import Gateway
from support.slapd import Slapd

from e2e.conftest import ROOT, TOKEN, isolated_mapping, make_subtree, settings_for
from e2e.test_shipped_mappings import mapping_dns
from gateway.admin.explain import explain
from gateway.app import create_app
from gateway.cli import main
from gateway.directory.operations import Directory
from gateway.directory.pool import ConnectionPool, ConnectionSettings

ENTRA = ROOT / "tests" / "data" / "entra"


def sample(name: str) -> dict:
    return json.loads((ENTRA / name).read_text(encoding="utf-8"))


@pytest.fixture
def directory(slapd: Slapd) -> Iterator[Directory]:
    settings = ConnectionSettings((slapd.url,), slapd.admin_dn, slapd.admin_password)
    found = Directory(ConnectionPool(settings))
    try:
        yield found
    finally:
        found.pool.close_all()


def user_attributes(gw: Gateway, dn: str) -> dict[str, list[str]]:
    # user attributes + the operational ones the disable strategy writes
    entry = gw.entry(dn, "*", "pwdAccountLockedTime", "pwdPolicySubentry")
    assert entry is not None, dn
    return {k: sorted(v) for k, v in entry.items()}


def normalized(attrs: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k.lower(): sorted(v) for k, v in attrs.items()}


def test_explained_create_is_the_entry_the_gateway_creates(gw: Gateway, tmp_path: Path) -> None:
    mapping = tmp_path / "openldap.yaml"  # what the gw fixture serves
    create = sample("create-user.json")
    records = ldif.parse(explain(str(mapping), "User", "POST", create))
    assert [r.kind for r in records] == ["add"]
    assert gw.post("/Users", create).status_code == 201
    dn = f"uid={create['userName']},{gw.people}"
    assert records[0].dn == dn
    assert normalized(records[0].attributes) == user_attributes(gw, dn)


@pytest.mark.parametrize(
    "patch", ["patch-user-multi.json", "patch-user-disable.json", "patch-user-rename.json"]
)
def test_explained_patch_is_the_change_the_gateway_makes(
    gw: Gateway, tmp_path: Path, directory: Directory, patch: str
) -> None:
    create = sample("create-user.json")
    uid = gw.post("/Users", create).get_json()["id"]
    dn = f"uid={create['userName']},{gw.people}"
    before = user_attributes(gw, dn)
    text = explain(
        str(tmp_path / "openldap.yaml"),
        "User",
        "PATCH",
        sample(patch),
        directory=directory,
        existing=dn,
    )
    records = ldif.parse(text)
    assert records and {r.dn for r in records} == {dn}
    assert user_attributes(gw, dn) == before, "explain must not write"

    resp = gw.patch(f"/Users/{uid}", sample(patch))
    assert resp.status_code == 200, resp.get_json()
    after_dn = dn
    if any(r.kind == "modrdn" for r in records):
        rdn = next(r.fields["newrdn"] for r in records if r.kind == "modrdn")
        after_dn = f"{rdn},{gw.people}"
    expected = {k: sorted(v) for k, v in ldif.apply(before, records).items()}
    assert user_attributes(gw, after_dn) == expected


def test_explained_posix_create_draws_the_number_the_gateway_then_gets(
    slapd: Slapd, ldap_admin: Connection, tmp_path: Path, directory: Directory
) -> None:
    people, groups = make_subtree(ldap_admin, slapd.suffix)
    top = people.split(",", 1)[1]
    path = isolated_mapping(
        tmp_path, people, groups, ROOT / "mappings" / "openldap-posix.yaml", mapping_dns(top)
    )
    app = create_app(settings_for(slapd, path))
    headers = {"Authorization": f"Bearer {TOKEN}"}
    gw = Gateway(app.test_client(), ldap_admin, people, groups, headers)
    try:
        assert gw.post("/Users", {"userName": "first"}).status_code == 201  # makes the counter
        create = sample("create-user.json")
        records = ldif.parse(explain(str(path), "User", "POST", create, directory=directory))
        assert [(r.kind, r.dn) for r in records] == [
            ("modify", f"cn=uidNumber-counter,{top}"),
            ("add", f"uid={create['userName']},{people}"),
        ]
        assert records[0].modifications == [("increment", "uidnumber", ["1"])]
        assert gw.post("/Users", create).status_code == 201
        dn = f"uid={create['userName']},{people}"
        assert normalized(records[1].attributes) == user_attributes(gw, dn)
        assert records[1].attributes["uidnumber"] == ["10001"]
    finally:
        app.extensions["scim"].pool.close_all()


def test_explain_command_prints_ldif_and_writes_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        [
            "mapping",
            "explain",
            str(ROOT / "mappings" / "openldap.yaml"),
            "--resource",
            "User",
            "--method=POST",
            str(ENTRA / "create-user.json"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "changetype: add" in out and "givenName: givenName" in out


def test_explain_reports_what_the_gateway_would_refuse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = tmp_path / "bad.json"
    payload.write_text(json.dumps({"displayName": "no userName"}), encoding="utf-8")
    mapping = str(ROOT / "mappings" / "openldap.yaml")
    assert main(["mapping", "explain", mapping, "--resource", "User", str(payload)]) == 1
    assert "the gateway would answer 400" in capsys.readouterr().err


def test_patch_needs_an_existing_entry(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SCIM_GATEWAY_LDAP_URL", raising=False)
    mapping = str(ROOT / "mappings" / "openldap.yaml")
    patch = str(ENTRA / "patch-user-multi.json")
    assert (
        main(["mapping", "explain", mapping, "--resource", "User", "--method", "PATCH", patch]) == 2
    )
    assert "--existing" in capsys.readouterr().err


def test_explained_group_creation_with_the_posix_mapping_names_members_by_uid(
    slapd: Slapd, ldap_admin: Connection, tmp_path: Path, directory: Directory
) -> None:
    people, groups = make_subtree(ldap_admin, slapd.suffix)
    top = people.split(",", 1)[1]
    path = isolated_mapping(
        tmp_path, people, groups, ROOT / "mappings" / "openldap-posix.yaml", mapping_dns(top)
    )
    app = create_app(settings_for(slapd, path))
    gw = Gateway(
        app.test_client(), ldap_admin, people, groups, {"Authorization": f"Bearer {TOKEN}"}
    )
    try:
        uid = gw.post("/Users", {"userName": "ann"}).get_json()["id"]
        body = {"displayName": "ops", "members": [{"value": uid}]}
        records = ldif.parse(explain(str(path), "Group", "POST", body, directory=directory))
        add = records[-1]
        assert add.attributes["memberuid"] == ["ann"]
        assert gw.post("/Groups", body).status_code == 201
        assert normalized(add.attributes) == user_attributes(gw, f"cn=ops,{groups}")
    finally:
        app.extensions["scim"].pool.close_all()


def test_offline_explain_of_references_says_they_are_not_resolved_and_shows_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a directory a manager id cannot become a DN: that is said, not shown as a 400."""
    monkeypatch.delenv("SCIM_GATEWAY_LDAP_URL", raising=False)
    enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    body = {
        "userName": "ann",
        "title": "Guide",
        enterprise: {"manager": {"value": "2819c223-7f76-453a-919d-413861904646"}},
    }
    payload = tmp_path / "with-manager.json"
    payload.write_text(json.dumps(body), encoding="utf-8")
    mapping = str(ROOT / "mappings" / "openldap.yaml")
    code = main(["mapping", "explain", mapping, "--resource", "User", str(payload)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "would answer" not in captured.err
    assert "offline: references cannot be resolved" in captured.out
    assert "manager" in captured.out.splitlines()[1]
    assert "uid: ann" in captured.out and "title: Guide" in captured.out
    assert "\nmanager:" not in captured.out

    group = tmp_path / "group.json"
    group.write_text(json.dumps({"displayName": "g", "members": [{"value": "x"}]}), "utf-8")
    assert main(["mapping", "explain", mapping, "--resource", "Group", str(group)]) == 0
    out = capsys.readouterr().out
    assert "members is left out below" in out and "cn: g" in out
