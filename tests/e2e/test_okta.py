"""Okta's documented SCIM 2.0 request shapes (tests/data/okta), with LDAP checked each step.

Okta updates profiles with PUT, deactivates with a path-less PATCH of ``active``, matches
with ``userName eq``, and renames groups with a path-less PATCH carrying the group's id.
"""

from __future__ import annotations

import json
from pathlib import Path

from support.gateway import Gateway

DATA = Path(__file__).resolve().parents[1] / "data" / "okta"


def sample(name: str, ident: str | None = None) -> dict:
    text = (DATA / name).read_text(encoding="utf-8")
    return json.loads(text.replace("__ID__", ident) if ident else text)


def test_okta_user_lifecycle(gw: Gateway) -> None:
    query = {"filter": 'userName eq "test.user@okta.local"', "startIndex": 1, "count": 100}
    assert gw.get("/Users", query_string=query).get_json()["totalResults"] == 0

    resp = gw.post("/Users", sample("create-user.json"))
    assert resp.status_code == 201, resp.get_json()
    user = resp.get_json()
    dn = f"uid=test.user@okta.local,{gw.people}"
    entry = gw.entry(dn, "userPassword", "displayName", "mail")
    assert entry is not None
    # Okta's password went through Password Modify: the directory stored its own hash
    assert entry.pop("userpassword")[0].startswith("{SSHA}")
    assert entry == {"displayname": ["Test User"], "mail": ["test.user@okta.local"]}
    assert "password" not in user

    assert gw.get("/Users", query_string=query).get_json()["totalResults"] == 1
    assert gw.get(f"/Users/{user['id']}").get_json()["userName"] == "test.user@okta.local"

    resp = gw.put(f"/Users/{user['id']}", sample("replace-user.json", user["id"]))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["name"]["givenName"] == "Another"
    assert gw.entry(dn, "givenName", "displayName") == {
        "givenname": ["Another"],
        "displayname": ["Another User"],
    }

    resp = gw.patch(f"/Users/{user['id']}", sample("deactivate-user.json"))
    assert resp.status_code == 200 and resp.get_json()["active"] is False
    assert gw.entry(dn, "pwdAccountLockedTime") == {"pwdaccountlockedtime": ["000001010000Z"]}


def test_put_removes_what_the_client_leaves_out(gw: Gateway) -> None:
    user = gw.post(
        "/Users",
        {
            "userName": "putter",
            "title": "Boss",
            "displayName": "P",
            "phoneNumbers": [{"type": "mobile", "value": "+1 555"}],
        },
    ).get_json()
    resp = gw.put(f"/Users/{user['id']}", {"userName": "putter", "displayName": "P2"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert "title" not in body and "phoneNumbers" not in body and body["displayName"] == "P2"
    assert gw.entry(f"uid=putter,{gw.people}", "title", "mobile", "displayName") == {
        "displayname": ["P2"]
    }


def test_okta_group_lifecycle(gw: Gateway) -> None:
    member = gw.post("/Users", sample("create-user.json")).get_json()["id"]
    resp = gw.post("/Groups", sample("create-group.json"))
    assert resp.status_code == 201, resp.get_json()
    group = resp.get_json()
    assert group["members"] == []

    resp = gw.patch(f"/Groups/{group['id']}", sample("rename-group.json", group["id"]))
    assert resp.status_code == 204, resp.get_data(as_text=True)
    dn = f"cn=Test SCIMv2 updated,{gw.groups}"
    assert gw.entry(dn, "entryUUID") == {"entryuuid": [group["id"]]}

    resp = gw.patch(f"/Groups/{group['id']}", sample("add-members.json", member))
    assert resp.status_code == 204
    assert gw.entry(dn, "member") == {"member": [f"uid=test.user@okta.local,{gw.people}"]}

    resp = gw.patch(f"/Groups/{group['id']}", sample("remove-member.json", member))
    assert resp.status_code == 204
    assert gw.entry(dn, "member") == {
        "member": ["cn=empty-membership-placeholder,dc=example,dc=org"]
    }
    assert gw.get(f"/Groups/{group['id']}").get_json()["members"] == []

    assert gw.delete(f"/Groups/{group['id']}").status_code == 204
    assert gw.entry(dn) is None
