"""A group PATCH of member deltas only skips the images and their diff (the resource is
unchanged; Writer._update) and, answered 204, makes no body: its answer must still be what the
general path gives — the ETag of the write, and with ``attributes`` the resource a GET shows."""

from __future__ import annotations

from support.gateway import Gateway

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def ops(*operations: dict) -> dict:
    return {"schemas": [PATCH], "Operations": list(operations)}


def setup(gw: Gateway) -> tuple[str, str, str]:
    a = gw.post("/Users", {"userName": "pa"}).get_json()["id"]
    b = gw.post("/Users", {"userName": "pb"}).get_json()["id"]
    group = gw.post("/Groups", {"displayName": "answers", "members": [{"value": a}]}).get_json()
    return a, b, group["id"]


def test_a_member_add_answered_204_carries_the_version_of_its_write(gw: Gateway) -> None:
    _, b, gid = setup(gw)
    before = gw.get(f"/Groups/{gid}").headers["ETag"]
    add = ops({"op": "add", "path": "members", "value": [{"value": b}]})
    resp = gw.patch(f"/Groups/{gid}", add)
    assert resp.status_code == 204 and resp.get_data() == b""
    got = gw.get(f"/Groups/{gid}")
    assert resp.headers["ETag"] == got.headers["ETag"] == got.get_json()["meta"]["version"]
    assert resp.headers["ETag"] != before
    assert b in {m["value"] for m in got.get_json()["members"]}


def test_a_member_change_asked_for_attributes_answers_what_a_get_shows(gw: Gateway) -> None:
    a, b, gid = setup(gw)
    asked = "?attributes=displayName,members,meta"
    add = ops({"op": "add", "path": "members", "value": [{"value": b}]})
    resp = gw.patch(f"/Groups/{gid}{asked}", add)
    assert resp.status_code == 200
    assert resp.get_json() == gw.get(f"/Groups/{gid}{asked}").get_json()
    assert {m["value"] for m in resp.get_json()["members"]} == {a, b}
    remove = ops({"op": "remove", "path": f'members[value eq "{a}"]'})
    resp = gw.patch(f"/Groups/{gid}{asked}", remove)
    assert resp.status_code == 200 and resp.headers["ETag"] == resp.get_json()["meta"]["version"]
    assert resp.get_json() == gw.get(f"/Groups/{gid}{asked}").get_json()
    assert [m["value"] for m in resp.get_json()["members"]] == [b]


def test_members_and_a_new_name_in_one_patch_take_the_general_path(gw: Gateway) -> None:
    _, b, gid = setup(gw)
    body = ops(
        {"op": "replace", "path": "displayName", "value": "renamed"},
        {"op": "add", "path": "members", "value": [{"value": b}]},
    )
    resp = gw.patch(f"/Groups/{gid}", body)
    assert resp.status_code == 204
    got = gw.get(f"/Groups/{gid}")
    assert got.get_json()["displayName"] == "renamed"
    assert resp.headers["ETag"] == got.headers["ETag"]
    assert gw.entry(f"cn=renamed,{gw.groups}", "cn") == {"cn": ["renamed"]}
    assert b in {m["value"] for m in got.get_json()["members"]}
