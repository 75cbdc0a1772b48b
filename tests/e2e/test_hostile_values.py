"""Values that break DN and filter handling: stored under exactly the right DN, found exactly."""

from __future__ import annotations

import pytest
from support.gateway import Gateway

from gateway.directory.dn import child_dn

HOSTILE_NAMES = [
    "comma,name",
    "plus+name",
    'quote"name',
    "back\\slash",
    "<angle>",
    "semi;colon",
    "equals=name",
    "#leading-hash",
    "star*name",
    "paren(name)",
    "Jürgen.Groß",
    "名前",
    'all,+"\\<>;=#*()',
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_username_round_trips_and_is_found_exactly(gw: Gateway, name: str) -> None:
    decoy = gw.post("/Users", {"userName": "decoy"})
    assert decoy.status_code == 201
    resp = gw.post("/Users", {"userName": name, "externalId": name})
    assert resp.status_code == 201, resp.get_json()
    user = resp.get_json()
    assert user["userName"] == name
    expected_dn = child_dn("uid", name, gw.people)
    assert gw.entry(expected_dn, "uid", "entryUUID") == {"uid": [name], "entryuuid": [user["id"]]}
    assert len(gw.children(gw.people)) == 2
    for attr in ("userName", "externalId"):
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        found = gw.get("/Users", query_string={"filter": f'{attr} eq "{escaped}"'}).get_json()
        assert [r["id"] for r in found["Resources"]] == [user["id"]], attr
    assert gw.get(f"/Users/{user['id']}").get_json()["userName"] == name
    assert gw.delete(f"/Users/{user['id']}").status_code == 204
    assert gw.entry(expected_dn) is None


@pytest.mark.parametrize("value", ["*", "*)(uid=*", ")(", "d*", "*y", "\\2a", "decoy)(|(uid=*"])
def test_filter_values_never_act_as_ldap_syntax(gw: Gateway, value: str) -> None:
    assert gw.post("/Users", {"userName": "decoy"}).status_code == 201
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    for flt in (f'userName eq "{escaped}"', f'externalId eq "{escaped}"'):
        body = gw.get("/Users", query_string={"filter": flt}).get_json()
        assert body["totalResults"] == 0, (flt, body)


def test_substring_filters_escape_wildcards(gw: Gateway) -> None:
    gw.post("/Users", {"userName": "a*b"})
    gw.post("/Users", {"userName": "axxb"})
    body = gw.get("/Users", query_string={"filter": 'userName co "*"'}).get_json()
    assert [r["userName"] for r in body["Resources"]] == ["a*b"]


@pytest.mark.parametrize("name", ["nul\u0000byte", " ", ""])
def test_usernames_ldap_cannot_name_are_400(gw: Gateway, name: str) -> None:
    resp = gw.post("/Users", {"userName": name})
    assert resp.status_code == 400, resp.get_json()
    assert gw.children(gw.people) == []


def test_entry_is_never_created_outside_its_base(gw: Gateway) -> None:
    for name in ("x,ou=Groups", "x,dc=org", "uid=y,ou=People"):
        assert gw.post("/Users", {"userName": name}).status_code == 201
    assert len(gw.children(gw.people)) == 3
    assert gw.children(gw.groups) == []
