"""Write policies and the move strategy's filters, against the real slapd."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ldap3 import Connection
from support.gateway import Gateway
from support.slapd import Slapd

from e2e.conftest import ROOT, TOKEN, isolated_mapping, make_subtree, settings_for
from e2e.test_shipped_mappings import mapping_dns
from gateway.app import create_app

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def gateway_for(
    slapd: Slapd, ldap: Connection, tmp_path: Path, source: str, **replace: str
) -> Iterator[Gateway]:
    people, groups = make_subtree(ldap, slapd.suffix)
    top = people.split(",", 1)[1]
    assert ldap.add(f"ou=Disabled,{top}", ["organizationalUnit"]), ldap.result
    path = isolated_mapping(
        tmp_path, people, groups, ROOT / "mappings" / source, {**replace, **mapping_dns(top)}
    )
    app = create_app(settings_for(slapd, path))
    try:
        yield Gateway(app.test_client(), ldap, people, groups, {"Authorization": f"Bearer {TOKEN}"})
    finally:
        app.extensions["scim"].pool.close_all()


@pytest.fixture
def create_only(slapd: Slapd, ldap_admin: Connection, tmp_path: Path) -> Iterator[Gateway]:
    yield from gateway_for(
        slapd,
        ldap_admin,
        tmp_path,
        "openldap.yaml",
        **{"      ldap: employeeNumber\n": "      ldap: employeeNumber\n      write: createOnly\n"},
    )


@pytest.fixture
def moving(slapd: Slapd, ldap_admin: Connection, tmp_path: Path) -> Iterator[Gateway]:
    yield from gateway_for(slapd, ldap_admin, tmp_path, "openldap-uniquemember.yaml")


def replace_op(path: str, value: object) -> dict:
    return {"schemas": [PATCH], "Operations": [{"op": "replace", "path": path, "value": value}]}


def test_create_only_attribute_is_set_once_and_then_immutable(create_only: Gateway) -> None:
    gw = create_only
    body = {"userName": "imm", ENTERPRISE: {"employeeNumber": "42"}}
    uid = gw.post("/Users", body).get_json()["id"]
    dn = f"uid=imm,{gw.people}"

    resp = gw.patch(f"/Users/{uid}", replace_op(f"{ENTERPRISE}:employeeNumber", "43"))
    assert resp.status_code == 400 and resp.get_json()["scimType"] == "mutability"
    assert gw.entry(dn, "employeeNumber") == {"employeenumber": ["42"]}

    resp = gw.patch(f"/Users/{uid}", replace_op(f"{ENTERPRISE}:employeeNumber", "42"))
    assert resp.status_code == 200, resp.get_json()

    resp = gw.put(f"/Users/{uid}", {"userName": "imm", "title": "Boss"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()[ENTERPRISE]["employeeNumber"] == "42"  # kept, and shown as kept
    assert gw.entry(dn, "employeeNumber", "title") == {
        "employeenumber": ["42"],
        "title": ["Boss"],
    }


def test_create_only_attribute_can_be_set_while_empty(create_only: Gateway) -> None:
    gw = create_only
    uid = gw.post("/Users", {"userName": "late"}).get_json()["id"]
    resp = gw.patch(f"/Users/{uid}", replace_op(f"{ENTERPRISE}:employeeNumber", "7"))
    assert resp.status_code == 200, resp.get_json()
    assert gw.entry(f"uid=late,{gw.people}", "employeeNumber") == {"employeenumber": ["7"]}


def test_discovery_shows_create_only_as_immutable(create_only: Gateway) -> None:
    schemas = gw_schemas(create_only)
    assert schemas[ENTERPRISE]["employeeNumber"]["mutability"] == "immutable"


def gw_schemas(gw: Gateway) -> dict[str, dict[str, dict]]:
    body = gw.get("/Schemas").get_json()
    return {s["id"]: {a["name"]: a for a in s["attributes"]} for s in body["Resources"]}


@pytest.mark.parametrize(
    "flt",
    ['active eq false or userName eq "x"', "not (active eq false)"],
)
def test_move_strategy_refuses_active_outside_a_top_level_and(moving: Gateway, flt: str) -> None:
    resp = moving.get("/Users", query_string={"filter": flt})
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["scimType"] == "invalidFilter"
    assert "'and'" in resp.get_json()["detail"]


def test_move_strategy_filters_pick_the_subtree(moving: Gateway) -> None:
    gw = moving
    on = gw.post("/Users", {"userName": "on"}).get_json()["id"]
    off = gw.post("/Users", {"userName": "off", "active": False}).get_json()["id"]
    assert gw.entry(f"uid=off,{gw.people}") is None  # created straight into ou=Disabled

    def ids(flt: str) -> list[str]:
        resp = gw.get("/Users", query_string={"filter": flt})
        assert resp.status_code == 200, resp.get_json()
        return sorted(r["id"] for r in resp.get_json()["Resources"])

    assert ids('userName sw "o"') == sorted([on, off])
    assert ids("active eq true") == [on]
    assert ids("active ne true") == [off]
    assert ids('active eq false and userName sw "o"') == [off]
    assert ids("active eq true and active eq false") == []
    assert ids("active pr") == sorted([on, off])
    listed = gw.get("/Users").get_json()
    assert listed["totalResults"] == 2


@pytest.fixture
def flagged(slapd: Slapd, ldap_admin: Connection, tmp_path: Path) -> Iterator[Gateway]:
    yield from gateway_for(
        slapd,
        ldap_admin,
        tmp_path,
        "openldap.yaml",
        **{
            "    strategy: ppolicy ": "    strategy: boolean\n    attribute: employeeType\n"
            "    disabled_value: disabled\n    enabled_value: enabled\n    # ",
        },
    )


def test_boolean_strategy_writes_both_configured_values(flagged: Gateway) -> None:
    gw = flagged
    uid = gw.post("/Users", {"userName": "flag"}).get_json()["id"]
    dn = f"uid=flag,{gw.people}"
    assert gw.entry(dn, "employeeType") == {"employeetype": ["enabled"]}
    resp = gw.patch(f"/Users/{uid}", replace_op("active", False))
    assert resp.status_code == 200 and resp.get_json()["active"] is False
    assert gw.entry(dn, "employeeType") == {"employeetype": ["disabled"]}
    found = gw.get("/Users", query_string={"filter": "active eq false"}).get_json()
    assert [r["id"] for r in found["Resources"]] == [uid]
    assert gw.patch(f"/Users/{uid}", replace_op("active", True)).get_json()["active"] is True
    assert gw.entry(dn, "employeeType") == {"employeetype": ["enabled"]}
