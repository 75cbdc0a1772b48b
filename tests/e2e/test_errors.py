"""Every failure is a SCIM Error with the right status, and a rejected request changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.gateway import Gateway
from support.slapd import Slapd, free_port

from e2e.conftest import TOKEN, isolated_mapping, settings_for
from gateway.app import create_app

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def assert_scim_error(resp, status: int, scim_type: str | None = None) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.content_type.startswith("application/scim+json")
    body = resp.get_json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)
    assert isinstance(body["detail"], str) and body["detail"]
    if scim_type is not None:
        assert body.get("scimType") == scim_type, body
    return body


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token-wrong-token"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "Bearer"},
    ],
)
def test_requests_without_the_right_token_get_401(gw: Gateway, headers: dict[str, str]) -> None:
    for path in (
        "/scim/v2/Users",
        "/scim/v2/Groups",
        "/scim/v2/ServiceProviderConfig",
        "/scim/v2/nope",
    ):
        resp = gw.client.get(path, headers=headers)
        assert_scim_error(resp, 401)
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    resp = gw.client.post("/scim/v2/Users", json={"userName": "intruder"}, headers=headers)
    assert_scim_error(resp, 401)
    assert gw.children(gw.people) == []


def test_unknown_id_and_unknown_route_are_404(gw: Gateway) -> None:
    assert_scim_error(gw.get("/Users/a1b2c3d4-0000-4000-8000-000000000000"), 404)
    assert_scim_error(gw.get("/Users/not-a-uuid"), 404)
    assert_scim_error(gw.get("/Nope"), 404)
    assert_scim_error(gw.client.get("/elsewhere", headers=gw.headers), 404)
    assert_scim_error(gw.delete("/Users/a1b2c3d4-0000-4000-8000-000000000000"), 404)
    assert_scim_error(
        gw.patch(
            "/Users/a1b2c3d4-0000-4000-8000-000000000000",
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "title", "value": "x"}],
            },
        ),
        404,
    )


def test_wrong_method_is_405(gw: Gateway) -> None:
    resp = gw.client.delete("/scim/v2/Users", headers=gw.headers)
    assert_scim_error(resp, 405)
    assert "GET" in resp.headers["Allow"]
    assert_scim_error(gw.client.put("/scim/v2/ServiceProviderConfig", headers=gw.headers), 405)


def test_bad_bodies_are_400_and_write_nothing(gw: Gateway) -> None:
    json_headers = {**gw.headers, "Content-Type": "application/scim+json"}
    for raw in (
        b"{",
        b"[]",
        b'"x"',
        b"\xff\xfe",
        b'{"userName": 5}',
        b'{"displayName": "no name"}',
    ):
        resp = gw.client.post("/scim/v2/Users", data=raw, headers=json_headers)
        assert resp.status_code == 400, (raw, resp.get_json())
        assert_scim_error(resp, 400)
    assert gw.children(gw.people) == []


def test_missing_username_names_the_attribute(gw: Gateway) -> None:
    body = assert_scim_error(gw.post("/Users", {"name": {"givenName": "x"}}), 400)
    assert "userName" in body["detail"]


def test_unsupported_media_type_is_415(gw: Gateway) -> None:
    resp = gw.client.post(
        "/scim/v2/Users",
        data='{"userName":"x"}',
        headers={**gw.headers, "Content-Type": "text/plain"},
    )
    assert_scim_error(resp, 415)
    assert gw.children(gw.people) == []


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/scim+json; charset=utf-8",
        "application/json;charset=UTF-8",
        "Application/SCIM+JSON",
    ],
)
def test_json_and_scim_json_bodies_are_accepted(gw: Gateway, content_type: str) -> None:
    name = f"ct{abs(hash(content_type))}"
    resp = gw.client.post(
        "/scim/v2/Users",
        data=f'{{"userName":"{name}"}}',
        headers={**gw.headers, "Content-Type": content_type},
    )
    assert resp.status_code == 201, resp.get_json()


def test_duplicate_username_is_409_uniqueness(gw: Gateway) -> None:
    assert gw.post("/Users", {"userName": "twin"}).status_code == 201
    assert_scim_error(gw.post("/Users", {"userName": "twin"}), 409, "uniqueness")
    other = gw.post("/Users", {"userName": "sibling"}).get_json()["id"]
    rename = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "userName", "value": "twin"}],
    }
    assert_scim_error(gw.patch(f"/Users/{other}", rename), 409, "uniqueness")
    assert gw.entry(f"uid=sibling,{gw.people}", "uid") == {"uid": ["sibling"]}


@pytest.mark.parametrize(
    ("flt", "scim_type"),
    [
        ('userName eq "x', "invalidFilter"),
        ("userName eq", "invalidFilter"),
        ('nickName eq "x"', "invalidFilter"),
        ('userName xx "x"', "invalidFilter"),
        ("(", "invalidFilter"),
    ],
)
def test_bad_filters_are_400_invalid_filter(gw: Gateway, flt: str, scim_type: str) -> None:
    assert_scim_error(gw.get("/Users", query_string={"filter": flt}), 400, scim_type)


def test_bad_paging_parameters_are_400(gw: Gateway) -> None:
    assert_scim_error(gw.get("/Users", query_string={"count": "ten"}), 400, "invalidValue")
    assert_scim_error(gw.get("/Users", query_string={"startIndex": "1.5"}), 400, "invalidValue")


@pytest.mark.parametrize(
    ("operations", "scim_type"),
    [
        ([{"op": "explode", "path": "title", "value": "x"}], "invalidSyntax"),
        ([{"op": "replace", "path": "title[", "value": "x"}], "invalidPath"),
        ([{"op": "replace", "path": "id", "value": "x"}], "mutability"),
        (
            [
                {"op": "replace", "path": "title", "value": "ok"},
                {"op": "replace", "path": "active", "value": "maybe"},
            ],
            "invalidValue",
        ),
    ],
)
def test_bad_patches_are_400_and_change_nothing(
    gw: Gateway, operations: list, scim_type: str
) -> None:
    uid = gw.post("/Users", {"userName": "patchme", "title": "before"}).get_json()["id"]
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations}
    assert_scim_error(gw.patch(f"/Users/{uid}", body), 400, scim_type)
    assert gw.entry(f"uid=patchme,{gw.people}", "title") == {"title": ["before"]}


def test_directory_down_is_503_with_retry_after(slapd: Slapd, tmp_path: Path) -> None:
    mapping = isolated_mapping(tmp_path, f"ou=People,{slapd.suffix}", f"ou=Groups,{slapd.suffix}")
    settings = settings_for(
        slapd,
        mapping,
        ldap_urls=(f"ldap://127.0.0.1:{free_port()}",),
        ldap_connect_timeout=0.5,
        retry_after=7,
    )
    app = create_app(settings)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        for resp in (
            client.get("/scim/v2/Users", headers=headers),
            client.post("/scim/v2/Users", json={"userName": "x"}, headers=headers),
        ):
            body = assert_scim_error(resp, 503)
            assert resp.headers["Retry-After"] == "7"  # this deployment's setting
            assert "127.0.0.1" not in body["detail"]
    finally:
        app.extensions["scim"].pool.close_all()


def test_wrong_bind_password_is_503_and_not_leaked(slapd: Slapd, tmp_path: Path) -> None:
    mapping = isolated_mapping(tmp_path, f"ou=People,{slapd.suffix}", f"ou=Groups,{slapd.suffix}")
    app = create_app(settings_for(slapd, mapping, ldap_bind_password="definitely-wrong-pw"))
    try:
        resp = app.test_client().get("/scim/v2/Users", headers={"Authorization": f"Bearer {TOKEN}"})
        body = assert_scim_error(resp, 503)
        assert "definitely-wrong-pw" not in resp.get_data(as_text=True)
        assert body["detail"]
    finally:
        app.extensions["scim"].pool.close_all()
