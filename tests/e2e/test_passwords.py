"""SCIM ``password`` (RFC 7643 §4.1.1) set through the Password Modify extended operation.

The gateway runs as the shipped service account: slapd applies no password policy to its rootdn,
and the test slapd's default policy (seed.ldif: pwdMinLength 8, pwdCheckQuality 2, pwdInHistory 3)
is what a refusal must come from.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from ldap3 import NONE, Connection, Server
from support.gateway import Gateway
from support.service_account import service_gateway
from support.slapd import Slapd

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "mappings" / "openldap.yaml"
GOOD = "Correct-horse-9"


@pytest.fixture
def svc(slapd: Slapd, ldap_admin: Connection, tmp_path: Path) -> Iterator[Gateway]:
    with service_gateway(slapd, ldap_admin, tmp_path, SHIPPED) as gateway:
        yield gateway


def binds(slapd: Slapd, dn: str, password: str) -> bool:
    conn = Connection(Server(slapd.url, get_info=NONE), user=dn, password=password)
    try:
        return bool(conn.bind())
    finally:
        conn.unbind()


def create(gw: Gateway, name: str, **extra: object) -> tuple[str, str]:
    resp = gw.post("/Users", {"userName": name, **extra})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"], f"uid={name},{gw.people}"


def test_password_on_create_is_hashed_by_the_directory_and_binds(
    svc: Gateway, slapd: Slapd
) -> None:
    resp = svc.post("/Users", {"userName": "pw-create", "password": GOOD})
    assert resp.status_code == 201, resp.get_json()
    assert "password" not in resp.get_json()
    dn = f"uid=pw-create,{svc.people}"
    stored = svc.entry(dn, "userPassword", "pwdChangedTime")
    assert stored is not None
    assert stored["userpassword"][0].startswith("{SSHA}")  # never the cleartext
    assert GOOD not in stored["userpassword"][0]
    assert "pwdchangedtime" in stored  # ppolicy saw the change
    assert binds(slapd, dn, GOOD)


def test_a_password_the_policy_refuses_is_400_with_the_reason_and_creates_nothing(
    svc: Gateway,
) -> None:
    resp = svc.post("/Users", {"userName": "pw-short", "password": "short"})
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["scimType"] == "invalidValue"
    assert "password is too short" in body["detail"]
    assert "short" not in body["detail"].replace("too short", "")  # the value is not echoed
    assert svc.children(svc.people) == []


def test_patch_and_put_set_the_password_and_a_refusal_changes_nothing(
    svc: Gateway, slapd: Slapd
) -> None:
    uid, dn = create(svc, "pw-patch", title="before")
    patch = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "replace", "path": "password", "value": GOOD},
            {"op": "replace", "path": "title", "value": "after"},
        ],
    }
    resp = svc.patch(f"/Users/{uid}", patch)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["title"] == "after" and "password" not in resp.get_json()
    assert binds(slapd, dn, GOOD)

    # history: the same password again is refused, and the title in that request is not written
    patch["Operations"][1]["value"] = "refused"
    resp = svc.patch(f"/Users/{uid}", patch)
    assert resp.status_code == 400
    assert "used before" in resp.get_json()["detail"]
    assert svc.entry(dn, "title") == {"title": ["after"]}
    assert binds(slapd, dn, GOOD)

    resp = svc.put(f"/Users/{uid}", {"userName": "pw-patch", "password": "Another-pw-77"})
    assert resp.status_code == 200, resp.get_json()
    assert binds(slapd, dn, "Another-pw-77") and not binds(slapd, dn, GOOD)


def test_password_is_never_returned_nor_filterable(svc: Gateway) -> None:
    uid, _ = create(svc, "pw-hidden", password=GOOD)
    for path in (f"/Users/{uid}?attributes=password", "/Users?attributes=password"):
        resp = svc.get(path)
        assert resp.status_code == 200
        assert "password" not in resp.get_data(as_text=True).lower().replace("pwd", "")
    resp = svc.get("/Users", query_string={"filter": f'password eq "{GOOD}"'})
    assert resp.status_code == 400 and resp.get_json()["scimType"] == "invalidFilter"
    assert GOOD not in resp.get_data(as_text=True)


def test_password_never_reaches_the_logs(svc: Gateway, caplog: pytest.LogCaptureFixture) -> None:
    secret = "Log-canary-31337"
    with caplog.at_level(logging.DEBUG):
        uid, _ = create(svc, "pw-logs", password=secret)
        svc.patch(
            f"/Users/{uid}",
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "password", "value": "short"}],
            },
        )
    assert any("passwd" in r.getMessage() for r in caplog.records)  # DEBUG was really on
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert secret not in text and "short" not in text.replace("too short", "")


@pytest.mark.parametrize("bad", [12345, True, "a\x00bcdefgh", ["x"], "x" * 1025])
def test_a_malformed_password_is_400_before_anything_is_written(svc: Gateway, bad: object) -> None:
    resp = svc.post("/Users", {"userName": "pw-bad", "password": bad})
    assert resp.status_code == 400, resp.get_json()
    assert svc.children(svc.people) == []


def test_discovery_lists_password_as_write_only(svc: Gateway) -> None:
    resp = svc.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User")
    assert resp.status_code == 200
    (password,) = [a for a in resp.get_json()["attributes"] if a["name"] == "password"]
    assert (password["mutability"], password["returned"]) == ("writeOnly", "never")
