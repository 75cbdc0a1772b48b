"""A complex multi-valued attribute mapped part by part (issue 13, item 3), against slapd.

The shipped mapping stores the work address as ``street``, ``l``, ``st`` and ``postalCode``
(``country`` has no place in inetOrgPerson, see docs/mapping.md). Reads, filters, PATCH paths
and /Schemas must all see ONE work address with its parts.
"""

from __future__ import annotations

import pytest
from support.gateway import Gateway

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
WORK = {
    "type": "work",
    "streetAddress": "1 Main St",
    "locality": "Springfield",
    "region": "IL",
    "postalCode": "62701",
}


def patch(gw: Gateway, ident: str, *ops: dict):
    resp = gw.patch(f"/Users/{ident}", {"schemas": [PATCH], "Operations": list(ops)})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def address_entry(gw: Gateway, name: str) -> dict[str, list[str]]:
    return gw.entry(f"uid={name},{gw.people}", "street", "l", "st", "postalCode") or {}


@pytest.fixture
def homer(gw: Gateway) -> str:
    resp = gw.post("/Users", {"userName": "homer", "addresses": [WORK]})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["addresses"] == [WORK]
    return resp.get_json()["id"]


def test_patch_one_part_through_a_filtered_path_keeps_the_others(gw: Gateway, homer: str) -> None:
    out = patch(
        gw,
        homer,
        {"op": "Replace", "path": 'addresses[type eq "work"].locality', "value": "Shelbyville"},
    )
    assert out["addresses"] == [{**WORK, "locality": "Shelbyville"}]
    assert address_entry(gw, "homer")["l"] == ["Shelbyville"]
    assert address_entry(gw, "homer")["street"] == ["1 Main St"]


def test_add_a_part_to_a_user_without_an_address_creates_the_work_address(gw: Gateway) -> None:
    ident = gw.post("/Users", {"userName": "bart"}).get_json()["id"]
    out = patch(
        gw, ident, {"op": "Add", "path": 'addresses[type eq "work"].postalCode', "value": "49007"}
    )
    assert out["addresses"] == [{"type": "work", "postalCode": "49007"}]
    assert address_entry(gw, "bart") == {"postalcode": ["49007"]}


def test_remove_a_part_and_then_the_whole_address(gw: Gateway, homer: str) -> None:
    out = patch(gw, homer, {"op": "remove", "path": 'addresses[type eq "work"].region'})
    assert out["addresses"] == [{k: v for k, v in WORK.items() if k != "region"}]
    assert "st" not in address_entry(gw, "homer")
    out = patch(gw, homer, {"op": "remove", "path": 'addresses[type eq "work"]'})
    assert "addresses" not in out
    assert address_entry(gw, "homer") == {}
    assert "addresses" not in gw.get(f"/Users/{homer}").get_json()


def test_replace_the_whole_list_writes_every_part(gw: Gateway, homer: str) -> None:
    new = {"type": "work", "streetAddress": "742 Evergreen Terrace", "locality": "Springfield"}
    out = patch(gw, homer, {"op": "replace", "path": "addresses", "value": [new]})
    assert out["addresses"] == [new]
    assert address_entry(gw, "homer") == {
        "street": ["742 Evergreen Terrace"],
        "l": ["Springfield"],
    }


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ('addresses[type eq "work" and locality eq "Springfield"]', True),
        ('addresses[type eq "work" and locality eq "Springfield" and region eq "IL"]', True),
        ('addresses[type eq "work" and locality eq "Springfield" and region eq "OH"]', False),
        ('addresses[type eq "work"].postalCode eq "62701"', True),
        ('addresses.locality sw "Spring"', True),
        ('addresses[type eq "work"]', True),
        ('addresses[type eq "home"]', False),
        ('addresses[type eq "work" and not (streetAddress pr)]', False),
    ],
)
def test_filters_see_one_work_address(gw: Gateway, homer: str, text: str, found: bool) -> None:
    gw.post("/Users", {"userName": "flanders"})
    resp = gw.get("/Users", query_string={"filter": text})
    assert resp.status_code == 200, resp.get_json()
    assert [r["userName"] for r in resp.get_json()["Resources"]] == (["homer"] if found else [])


def test_filter_on_an_unstored_part_is_400(gw: Gateway) -> None:
    resp = gw.get(
        "/Users", query_string={"filter": 'addresses[type eq "work" and country eq "US"]'}
    )
    assert resp.status_code == 400
    assert resp.get_json()["scimType"] == "invalidFilter"
    assert "addresses.country is not mapped" in resp.get_json()["detail"]


def test_schemas_list_the_stored_parts_of_addresses(gw: Gateway) -> None:
    schema = gw.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User").get_json()
    by_name = {a["name"]: a for a in schema["attributes"]}
    subs = {s["name"]: s for s in by_name["addresses"]["subAttributes"]}
    assert set(subs) == {"streetAddress", "locality", "region", "postalCode", "type"}
    assert subs["type"]["canonicalValues"] == ["work"]
    phones = {s["name"]: s for s in by_name["phoneNumbers"]["subAttributes"]}
    assert phones["type"]["canonicalValues"] == ["fax", "mobile", "work"]


def test_attributes_projection_picks_parts_of_the_address(gw: Gateway, homer: str) -> None:
    one = gw.get(f"/Users/{homer}", query_string={"attributes": "addresses.locality"}).get_json()
    assert one["addresses"] == [{"locality": "Springfield"}]
    none = gw.get(f"/Users/{homer}", query_string={"attributes": "addresses.country"}).get_json()
    assert "addresses" not in none  # no part asked for is stored: no empty {} value
    rest = gw.get(f"/Users/{homer}", query_string={"excludedAttributes": "addresses.region"})
    assert rest.get_json()["addresses"] == [{k: v for k, v in WORK.items() if k != "region"}]
