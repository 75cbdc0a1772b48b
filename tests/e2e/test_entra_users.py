"""Entra ID's documented user lifecycle, request by request, with the directory checked each step.

Request bodies are Microsoft's samples (tests/data/entra, from the provisioning tutorial).
"""

from __future__ import annotations

import json
from pathlib import Path

from ldap3 import Connection, Server
from support.gateway import Gateway

DATA = Path(__file__).resolve().parents[1] / "data" / "entra"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def sample(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def test_test_connection_query_answers_an_empty_list(gw: Gateway) -> None:
    resp = gw.client.get(
        "/scim/v2/Users?filter=userName+eq+%22a1b2c3d4-0000-4000-8000-000000000000%22",
        headers=gw.headers,
    )
    assert resp.status_code == 200
    assert resp.content_type.startswith("application/scim+json")
    body = resp.get_json()
    assert body["totalResults"] == 0
    assert body["Resources"] == []


def test_entra_user_lifecycle(gw: Gateway) -> None:
    create = sample("create-user.json")
    user_name = create["userName"]

    # 1. matching query: nobody yet
    resp = gw.get("/Users", query_string={"filter": f'userName eq "{user_name}"'})
    assert resp.status_code == 200 and resp.get_json()["totalResults"] == 0

    # 2. create
    resp = gw.post("/Users", create)
    assert resp.status_code == 201, resp.get_json()
    user = resp.get_json()
    uid = user["id"]
    assert resp.headers["Location"].endswith(f"/scim/v2/Users/{uid}")
    assert user["userName"] == user_name
    assert user["active"] is True
    assert user["emails"] == [
        {"value": create["emails"][0]["value"], "type": "work", "primary": True}
    ]
    assert user["meta"]["resourceType"] == "User" and user["meta"]["version"].startswith('W/"')
    dn = f"uid={user_name},{gw.people}"
    entry = gw.entry(dn, "*", "+")
    assert entry is not None
    assert entry["entryuuid"] == [uid]
    assert entry["sn"] == ["familyName"] and entry["givenname"] == ["givenName"]
    assert entry["cn"] == ["givenName familyName"]
    assert entry["mail"] == [create["emails"][0]["value"]]
    assert entry["businesscategory"] == [create["externalId"]]
    assert "pwdaccountlockedtime" not in entry

    # 3. query by userName and by externalId find it
    for flt in (
        f'userName eq "{user_name}"',
        f'externalId eq "{create["externalId"]}"',
        f'id eq "{uid}"',
    ):
        body = gw.get("/Users", query_string={"filter": flt}).get_json()
        assert body["totalResults"] == 1 and body["Resources"][0]["id"] == uid, flt

    # 4. PATCH multi-valued + single-valued
    resp = gw.patch(f"/Users/{uid}", sample("patch-user-multi.json"))
    assert resp.status_code == 200, resp.get_json()
    entry = gw.entry(dn, "mail", "sn")
    assert entry == {"mail": ["updatedEmail@microsoft.com"], "sn": ["updatedFamilyName"]}

    # 5. disable with the string "False", as Entra really sends it
    resp = gw.patch(f"/Users/{uid}", sample("patch-user-disable.json"))
    assert resp.status_code == 200 and resp.get_json()["active"] is False
    assert gw.entry(dn, "pwdAccountLockedTime") == {"pwdaccountlockedtime": ["000001010000Z"]}
    body = gw.get(f"/Users/{uid}").get_json()
    assert body["active"] is False
    found = gw.get("/Users", query_string={"filter": f'userName eq "{user_name}"'}).get_json()
    assert found["totalResults"] == 1 and found["Resources"][0]["active"] is False

    # 6. enable again
    resp = gw.patch(f"/Users/{uid}", sample("patch-user-enable.json"))
    assert resp.status_code == 200 and resp.get_json()["active"] is True
    assert gw.entry(dn, "pwdAccountLockedTime") == {}

    # 7. rename: same id, new DN
    resp = gw.patch(f"/Users/{uid}", sample("patch-user-rename.json"))
    assert resp.status_code == 200, resp.get_json()
    new_name = sample("patch-user-rename.json")["Operations"][0]["value"]
    assert resp.get_json()["id"] == uid and resp.get_json()["userName"] == new_name
    assert gw.entry(dn) is None
    new_dn = f"uid={new_name},{gw.people}"
    assert gw.entry(new_dn, "entryUUID") == {"entryuuid": [uid]}

    # 8. delete, then 404 with the SCIM error schema
    assert gw.delete(f"/Users/{uid}").status_code == 204
    assert gw.entry(new_dn) is None
    resp = gw.get(f"/Users/{uid}")
    assert resp.status_code == 404
    assert resp.get_json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert resp.get_json()["status"] == "404"


def test_disabled_user_cannot_bind_and_enabled_user_can(gw: Gateway, slapd) -> None:
    uid = gw.post("/Users", {"userName": "binder"}).get_json()["id"]
    dn = f"uid=binder,{gw.people}"
    assert gw.ldap.modify(dn, {"userPassword": [("MODIFY_REPLACE", ["s3cret-pw"])]}), gw.ldap.result

    def can_bind() -> bool:
        conn = Connection(Server(slapd.url), user=dn, password="s3cret-pw")
        try:
            return bool(conn.bind())
        finally:
            conn.unbind()

    assert can_bind()
    gw.patch(f"/Users/{uid}", sample("patch-user-disable.json"))
    assert not can_bind()
    gw.patch(f"/Users/{uid}", sample("patch-user-enable.json"))
    assert can_bind()


def test_flag_style_patch_without_path_and_dotted_keys(gw: Gateway) -> None:
    uid = gw.post("/Users", {"userName": "flaggy"}).get_json()["id"]
    resp = gw.patch(f"/Users/{uid}", sample("patch-user-flag-nopath.json"))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["name"]["givenName"] == "Flag" and body["name"]["familyName"] == "Style"
    assert body[ENTERPRISE]["employeeNumber"] == "4711"
    entry = gw.entry(
        f"uid=flaggy,{gw.people}", "displayName", "givenName", "sn", "employeeNumber", "mail"
    )
    assert entry == {
        "displayname": ["Flag Style"],
        "givenname": ["Flag"],
        "sn": ["Style"],
        "employeenumber": ["4711"],
        "mail": ["flag@example.org"],
    }


def test_manager_is_set_by_bare_id_and_returned_as_object(gw: Gateway) -> None:
    boss = gw.post("/Users", {"userName": "boss"}).get_json()["id"]
    worker = gw.post("/Users", {"userName": "worker"}).get_json()["id"]
    body = sample("patch-user-manager.json")
    body["Operations"][0]["value"] = boss
    resp = gw.patch(f"/Users/{worker}", body)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()[ENTERPRISE]["manager"]["value"] == boss
    assert gw.entry(f"uid=worker,{gw.people}", "manager") == {"manager": [f"uid=boss,{gw.people}"]}
    got = gw.get(f"/Users/{worker}").get_json()
    assert got[ENTERPRISE]["manager"]["value"] == boss
    assert got[ENTERPRISE]["manager"]["$ref"].endswith(f"/scim/v2/Users/{boss}")
    # removal with an empty string (SCIM Validator)
    resp = gw.patch(
        f"/Users/{worker}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": f"{ENTERPRISE}:manager", "value": ""}],
        },
    )
    assert resp.status_code == 200, resp.get_json()
    assert gw.entry(f"uid=worker,{gw.people}", "manager") == {}


def test_user_with_only_username_gets_derived_must_attributes(gw: Gateway) -> None:
    resp = gw.post(
        "/Users", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "solo"}
    )
    assert resp.status_code == 201, resp.get_json()
    entry = gw.entry(f"uid=solo,{gw.people}", "sn", "cn", "objectClass")
    assert entry["sn"] == ["solo"] and entry["cn"] == ["solo"]
    assert "inetOrgPerson" in entry["objectclass"]


def test_patch_that_changes_nothing_writes_nothing(gw: Gateway) -> None:
    created = gw.post("/Users", {"userName": "steady", "title": "Boss"}).get_json()
    before = gw.entry(f"uid=steady,{gw.people}", "entryCSN")
    resp = gw.patch(
        f"/Users/{created['id']}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "title", "value": "Boss"}],
        },
    )
    assert resp.status_code == 200
    assert gw.entry(f"uid=steady,{gw.people}", "entryCSN") == before
