"""ETags (RFC 7644 §3.14): meta.version from entryCSN; If-Match checked by the directory."""

from __future__ import annotations

from support.gateway import Gateway

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def title(value: str) -> dict:
    return {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": value}]}


def test_etag_header_matches_meta_version_and_changes_on_write(gw: Gateway) -> None:
    resp = gw.post("/Users", {"userName": "tagged"})
    user = resp.get_json()
    assert resp.headers["ETag"] == user["meta"]["version"]
    resp = gw.patch(f"/Users/{user['id']}", title("x"))
    assert resp.headers["ETag"] == resp.get_json()["meta"]["version"] != user["meta"]["version"]
    got = gw.get(f"/Users/{user['id']}")
    assert got.headers["ETag"] == resp.headers["ETag"]


def test_if_none_match_gives_304_while_unchanged(gw: Gateway) -> None:
    user = gw.post("/Users", {"userName": "cached"}).get_json()
    version = user["meta"]["version"]
    resp = gw.get(f"/Users/{user['id']}", headers={"If-None-Match": version})
    assert resp.status_code == 304 and resp.get_data() == b""
    gw.patch(f"/Users/{user['id']}", title("changed"))
    resp = gw.get(f"/Users/{user['id']}", headers={"If-None-Match": version})
    assert resp.status_code == 200


def test_stale_if_match_is_412_and_changes_nothing(gw: Gateway) -> None:
    user = gw.post("/Users", {"userName": "guarded", "title": "first"}).get_json()
    stale = user["meta"]["version"]
    current = gw.patch(f"/Users/{user['id']}", title("second")).get_json()["meta"]["version"]
    headers = {**gw.headers, "If-Match": stale, "Content-Type": "application/scim+json"}
    url = f"/scim/v2/Users/{user['id']}"
    resp = gw.client.patch(url, json=title("third"), headers=headers)
    assert resp.status_code == 412 and resp.get_json()["status"] == "412"
    resp = gw.client.put(url, json={"userName": "renamed"}, headers=headers)
    assert resp.status_code == 412
    assert gw.client.delete(url, headers=headers).status_code == 412
    assert gw.entry(f"uid=guarded,{gw.people}", "title") == {"title": ["second"]}
    headers["If-Match"] = current
    assert gw.client.patch(url, json=title("third"), headers=headers).status_code == 200
    headers["If-Match"] = "*"
    assert gw.client.delete(url, headers=headers).status_code == 204


def test_if_match_is_enforced_by_the_directory_itself(gw: Gateway) -> None:
    """A write racing between the gateway's read and its modify still fails (assertion control)."""
    user = gw.post("/Users", {"userName": "racer"}).get_json()
    service = gw.client.application.extensions["scim"].services["User"]
    real_modify = service.directory.modify

    def racing_modify(dn, changes, **kw):
        gw.ldap.modify(dn, {"description": [("MODIFY_REPLACE", ["sneaky"])]})
        return real_modify(dn, changes, **kw)

    service.directory.modify = racing_modify
    try:
        headers = {**gw.headers, "If-Match": user["meta"]["version"]}
        resp = gw.client.patch(f"/scim/v2/Users/{user['id']}", json=title("mine"), headers=headers)
    finally:
        service.directory.modify = real_modify
    assert resp.status_code == 412, resp.get_json()
    assert gw.entry(f"uid=racer,{gw.people}", "title") == {}


def test_if_match_on_a_group_keeps_members_memberof_right(gw: Gateway) -> None:
    """slapd's memberof overlay skips writes whose assertion fails afterwards: none is sent."""
    user = gw.post("/Users", {"userName": "member"}).get_json()["id"]
    group = gw.post("/Groups", {"displayName": "guarded", "members": [{"value": user}]}).get_json()
    remove = {
        "schemas": [PATCH],
        "Operations": [{"op": "remove", "path": f'members[value eq "{user}"]'}],
    }
    headers = {**gw.headers, "If-Match": group["meta"]["version"]}
    resp = gw.client.patch(f"/scim/v2/Groups/{group['id']}", json=remove, headers=headers)
    assert resp.status_code == 204
    assert gw.get(f"/Users/{user}").get_json().get("groups", []) == []
    resp = gw.client.patch(f"/scim/v2/Groups/{group['id']}", json=remove, headers=headers)
    assert resp.status_code == 412
