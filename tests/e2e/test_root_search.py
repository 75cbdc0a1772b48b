"""``POST /.search`` at the root (RFC 7644 §3.4.3): every type, Users first, one list.

Catalog.search_all pages across types: each type counts its matches, and the requested
window (startIndex, count) is filled from wherever it falls — across the boundary too.
"""

from __future__ import annotations

from typing import Any

from support.gateway import Gateway

SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


def _search(gw: Gateway, **params: Any) -> dict[str, Any]:
    resp = gw.post("/.search", {"schemas": [SEARCH], **params})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _names(body: dict[str, Any]) -> list[str]:
    return [r.get("userName") or r.get("displayName") for r in body["Resources"]]


def _populate(gw: Gateway) -> None:
    for name in ("u1", "u2", "u3"):
        assert gw.post("/Users", {"userName": name}).status_code == 201
    for name in ("g1", "g2"):
        assert gw.post("/Groups", {"displayName": name}).status_code == 201


def test_a_window_across_the_boundary_takes_the_last_users_then_the_first_groups(
    gw: Gateway,
) -> None:
    _populate(gw)
    body = _search(gw, startIndex=3, count=2)
    assert body["totalResults"] == 5 and body["startIndex"] == 3 and body["itemsPerPage"] == 2
    names = _names(body)
    assert names[0] in {"u1", "u2", "u3"} and names[1] in {"g1", "g2"}
    assert body["Resources"][0]["meta"]["location"].split("/")[-2] == "Users"
    assert body["Resources"][1]["meta"]["location"].split("/")[-2] == "Groups"


def test_every_page_together_is_every_resource_once(gw: Gateway) -> None:
    _populate(gw)
    seen = []
    for start in (1, 3, 5):
        seen += _names(_search(gw, startIndex=start, count=2))
    assert sorted(seen) == ["g1", "g2", "u1", "u2", "u3"]
    beyond = _search(gw, startIndex=6, count=2)
    assert beyond["totalResults"] == 5 and beyond["Resources"] == []


def test_a_filter_only_one_type_has_searches_that_type_and_one_no_type_has_is_400(
    gw: Gateway,
) -> None:
    _populate(gw)
    body = _search(gw, filter='displayName eq "g2"', attributes=["displayName"])
    assert body["totalResults"] == 1 and _names(body) == ["g2"]
    assert set(body["Resources"][0]) <= {"schemas", "id", "displayName"}
    resp = gw.post("/.search", {"schemas": [SEARCH], "filter": 'nickName eq "x"'})
    assert resp.status_code == 400 and resp.get_json()["scimType"] == "invalidFilter"
