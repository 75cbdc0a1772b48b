"""Names that DN escaping used to get wrong, lone surrogates and foreign ``schemas``, over
HTTP and the real slapd (issue 12, items 6 and 7)."""

from __future__ import annotations

import json

import pytest
from support.gateway import Gateway

from e2e.test_bad_input import patch_body, raw_request
from e2e.test_errors import assert_scim_error
from gateway.directory import dn
from gateway.scim.messages import GROUP_SCHEMA, USER_SCHEMA

ENTRA_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"


def find(gw: Gateway, endpoint: str, attr: str, value: str) -> list[dict]:
    resp = gw.get(f"/{endpoint}", query_string={"filter": f"{attr} eq {json.dumps(value)}"})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["Resources"]


@pytest.mark.parametrize("name", [" ", "   ", " lead", "trail ", "#hash", "a\\b"])
def test_a_group_named_with_spaces_round_trips_exactly(gw: Gateway, name: str) -> None:
    """ldap3's escape_rdn turned a one-space name into a backslash and a space."""
    resp = gw.post("/Groups", {"schemas": [GROUP_SCHEMA], "displayName": name})
    assert resp.status_code == 201, resp.get_json()
    gid = resp.get_json()["id"]
    entry = gw.entry(dn.child_dn("cn", name, gw.groups), "cn")
    assert entry is not None and entry["cn"] == [name]
    assert gw.get(f"/Groups/{gid}").get_json()["displayName"] == name
    assert [g["id"] for g in find(gw, "Groups", "displayName", name)] == [gid]


@pytest.mark.parametrize("name", ["two\nlines", "car\rriage", "tab\there", "x\x01y"])
def test_control_characters_in_a_user_name_are_escaped_in_the_dn(gw: Gateway, name: str) -> None:
    resp = gw.post("/Users", {"schemas": [USER_SCHEMA], "userName": name})
    assert resp.status_code == 201, resp.get_json()
    uid = resp.get_json()["id"]
    built = dn.child_dn("uid", name, gw.people)
    assert "\n" not in built and "\r" not in built and "\t" not in built
    entry = gw.entry(built, "uid")
    assert entry is not None and entry["uid"] == [name]
    assert gw.get(f"/Users/{uid}").get_json()["userName"] == name
    assert [u["id"] for u in find(gw, "Users", "userName", name)] == [uid]
    renamed = name + "\n2"
    resp = gw.patch(
        f"/Users/{uid}", patch_body({"op": "replace", "path": "userName", "value": renamed})
    )
    assert resp.status_code == 200, resp.get_json()
    assert gw.entry(dn.child_dn("uid", renamed, gw.people), "uid") == {"uid": [renamed]}


# ------------------------------------------------------------------ lone surrogates


def test_a_lone_surrogate_in_put_or_patch_is_400_invalid_value_and_changes_nothing(
    gw: Gateway,
) -> None:
    user = gw.post("/Users", {"schemas": [USER_SCHEMA], "userName": "sur", "title": "t"})
    assert user.status_code == 201
    path = f"/Users/{user.get_json()['id']}"
    before = gw.entry(f"uid=sur,{gw.people}", "entryCSN", "title")
    put = b'{"schemas":["%s"],"userName":"sur","title":"\\ud800"}' % USER_SCHEMA.encode()
    assert_scim_error(raw_request(gw, "PUT", path, put), 400, "invalidValue")
    for op in (
        b'{"op":"replace","path":"userName","value":"\\udfff"}',
        b'{"op":"add","value":{"title":"a\\ud800b"}}',
        b'{"op":"add","path":"emails","value":[{"value":"\\ud83d@x.io","type":"work"}]}',
    ):
        body = b'{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[%s]}'
        assert_scim_error(raw_request(gw, "PATCH", path, body % op), 400, "invalidValue")
    assert gw.entry(f"uid=sur,{gw.people}", "entryCSN", "title") == before


# ------------------------------------------------------------------ the core schema


@pytest.mark.parametrize(
    "schemas", [["urn:example:bogus:Thing"], [], [GROUP_SCHEMA], "urn:example:bogus:Thing"]
)
def test_a_body_without_the_core_schema_is_refused_on_post_and_put(
    gw: Gateway, schemas: object
) -> None:
    resp = gw.post("/Users", {"schemas": schemas, "userName": "bogus"})
    assert "schemas" in assert_scim_error(resp, 400, "invalidValue")["detail"]
    assert gw.children(gw.people) == []
    user = gw.post("/Users", {"schemas": [USER_SCHEMA], "userName": "real", "title": "t"})
    path = f"/Users/{user.get_json()['id']}"
    before = gw.entry(f"uid=real,{gw.people}", "entryCSN")
    resp = gw.put(path, {"schemas": schemas, "userName": "real", "title": "changed"})
    assert_scim_error(resp, 400, "invalidValue")
    assert gw.entry(f"uid=real,{gw.people}", "entryCSN") == before


def test_unknown_extensions_beside_the_core_schema_are_tolerated(gw: Gateway) -> None:
    schemas = [USER_SCHEMA, "urn:example:unknown:extension:2.0:User"]
    assert gw.post("/Users", {"schemas": schemas, "userName": "ext"}).status_code == 201
    body = {"schemas": [GROUP_SCHEMA, ENTRA_GROUP], "displayName": "entra"}
    assert gw.post("/Groups", body).status_code == 201
