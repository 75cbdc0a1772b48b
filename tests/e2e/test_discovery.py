"""Discovery endpoints (RFC 7644 §4) describe what this deployment serves."""

from __future__ import annotations

from support.gateway import Gateway

LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def test_service_provider_config_advertises_what_is_supported(gw: Gateway) -> None:
    resp = gw.get("/ServiceProviderConfig")
    assert resp.status_code == 200 and resp.content_type.startswith("application/scim+json")
    body = resp.get_json()
    assert body["patch"]["supported"] is True
    assert body["bulk"]["supported"] is False
    assert body["filter"] == {"supported": True, "maxResults": 1000}
    assert body["authenticationSchemes"][0]["type"] == "oauthbearertoken"
    assert body["meta"]["location"].endswith("/scim/v2/ServiceProviderConfig")


def test_schemas_list_and_by_id(gw: Gateway) -> None:
    body = gw.get("/Schemas").get_json()
    assert body["schemas"] == [LIST]
    ids = {s["id"] for s in body["Resources"]}
    assert ids == {
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        "urn:ietf:params:scim:schemas:core:2.0:Group",
    }
    assert body["totalResults"] == 3
    user = gw.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User").get_json()
    names = {a["name"] for a in user["attributes"]}
    assert {"userName", "name", "emails", "active", "groups"} <= names
    assert gw.get("/Schemas/urn:nope").status_code == 404


def test_resource_types_list_and_by_id(gw: Gateway) -> None:
    body = gw.get("/ResourceTypes").get_json()
    by_name = {r["name"]: r for r in body["Resources"]}
    assert set(by_name) == {"User", "Group"}
    assert by_name["User"]["endpoint"] == "/Users"
    assert by_name["User"]["schemaExtensions"][0]["schema"].endswith("enterprise:2.0:User")
    assert gw.get("/ResourceTypes/Group").get_json()["endpoint"] == "/Groups"
    assert gw.get("/ResourceTypes/Nope").status_code == 404


def test_list_paging_and_totals(gw: Gateway) -> None:
    for i in range(7):
        assert gw.post("/Users", {"userName": f"page{i}"}).status_code == 201
    body = gw.get("/Users", query_string={"startIndex": 3, "count": 2}).get_json()
    assert body["totalResults"] == 7 and body["startIndex"] == 3 and body["itemsPerPage"] == 2
    assert len(body["Resources"]) == 2
    body = gw.get("/Users", query_string={"count": 0}).get_json()
    assert body["totalResults"] == 7 and body["Resources"] == []
    body = gw.get("/Users", query_string={"startIndex": 7}).get_json()
    assert len(body["Resources"]) == 1
    seen = set()
    for start in (1, 4, 7):
        page = gw.get("/Users", query_string={"startIndex": start, "count": 3}).get_json()
        seen |= {r["id"] for r in page["Resources"]}
    assert len(seen) == 7


def test_attributes_projection_on_get_and_list(gw: Gateway) -> None:
    uid = gw.post("/Users", {"userName": "proj", "title": "T", "displayName": "D"}).get_json()["id"]
    body = gw.get(f"/Users/{uid}", query_string={"attributes": "title"}).get_json()
    assert set(body) == {"schemas", "id", "title"}
    body = gw.get(f"/Users/{uid}", query_string={"excludedAttributes": "title,meta"}).get_json()
    assert "title" not in body and "meta" not in body and body["displayName"] == "D"
    body = gw.get("/Users", query_string={"attributes": "userName"}).get_json()
    assert set(body["Resources"][0]) == {"schemas", "id", "userName"}


def test_search_endpoint_takes_the_query_in_the_body(gw: Gateway) -> None:
    gw.post("/Users", {"userName": "searched"})
    body = gw.post(
        "/Users/.search",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": 'userName eq "searched"',
            "attributes": ["userName"],
        },
    ).get_json()
    assert body["totalResults"] == 1 and body["Resources"][0]["userName"] == "searched"


def test_sort_by_is_done_by_the_directory(gw: Gateway) -> None:
    for name, family in (("carol", "Alpha"), ("alice", "Charlie"), ("bob", "Bravo")):
        gw.post("/Users", {"userName": name, "name": {"familyName": family}})
    body = gw.get("/Users", query_string={"sortBy": "userName"}).get_json()
    assert [r["userName"] for r in body["Resources"]] == ["alice", "bob", "carol"]
    body = gw.get(
        "/Users", query_string={"sortBy": "name.familyName", "sortOrder": "descending", "count": 2}
    ).get_json()
    assert [r["userName"] for r in body["Resources"]] == ["alice", "bob"]
    assert body["totalResults"] == 3
    body = gw.get("/Users", query_string={"sortBy": "userName", "startIndex": 3}).get_json()
    assert [r["userName"] for r in body["Resources"]] == ["carol"]
    assert gw.get("/ServiceProviderConfig").get_json()["sort"] == {"supported": True}


def test_sort_by_an_unmapped_attribute_is_400(gw: Gateway) -> None:
    resp = gw.get("/Users", query_string={"sortBy": "nickName"})
    assert resp.status_code == 400 and resp.get_json()["scimType"] == "invalidValue"
    resp = gw.get("/Users", query_string={"sortBy": "userName", "sortOrder": "sideways"})
    assert resp.status_code == 400


def test_many_sorted_lists_on_one_connection_do_not_exhaust_the_server(gw: Gateway) -> None:
    """slapd keeps a sorted result set per connection until it is read to the end."""
    for i in range(3):
        gw.post("/Users", {"userName": f"s{i}"})
    for _ in range(12):
        resp = gw.get("/Users", query_string={"sortBy": "userName", "count": 1})
        assert resp.status_code == 200, resp.get_json()


def test_lists_spanning_several_ldap_pages(slapd, ldap_admin, tmp_path) -> None:
    """Paged searches continue with the server's cookie; sorting and filters survive it."""
    from e2e.conftest import TOKEN, isolated_mapping, make_subtree, settings_for
    from gateway.app import create_app

    people, groups = make_subtree(ldap_admin, slapd.suffix)
    app = create_app(settings_for(slapd, isolated_mapping(tmp_path, people, groups), page_size=2))
    client, headers = app.test_client(), {"Authorization": f"Bearer {TOKEN}"}
    try:
        for name in ("e", "c", "a", "d", "b"):
            assert (
                client.post(
                    "/scim/v2/Users", json={"userName": name, "title": "T"}, headers=headers
                ).status_code
                == 201
            )
        body = client.get("/scim/v2/Users?count=10", headers=headers).get_json()
        assert body["totalResults"] == 5 and len(body["Resources"]) == 5
        body = client.get("/scim/v2/Users?sortBy=userName&startIndex=2&count=3", headers=headers)
        assert [r["userName"] for r in body.get_json()["Resources"]] == ["b", "c", "d"]
        body = client.get('/scim/v2/Users?filter=title eq "T"&startIndex=4', headers=headers)
        assert body.get_json()["totalResults"] == 5 and len(body.get_json()["Resources"]) == 2
    finally:
        app.extensions["scim"].pool.close_all()
