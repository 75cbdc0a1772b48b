"""A third resource type with no code (issue 16): ``Device``, declared in the mapping file.

tests/data/custom/devices.yaml declares the schema and the type and maps it onto OpenLDAP's
core ``device`` object class; it is appended to the shipped mapping, moved into this test's
subtree of the real slapd. Everything below goes through HTTP and the app, like User/Group.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from ldap3 import Connection
from support.gateway import Gateway
from support.slapd import Slapd

from e2e.conftest import ROOT, SHIPPED, TOKEN, isolated_mapping, make_subtree, settings_for
from gateway.app import create_app
from gateway.cli import main

DEVICES = ROOT / "tests" / "data" / "custom" / "devices.yaml"
DEVICE = "urn:example:params:scim:schemas:core:2.0:Device"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


@pytest.fixture
def devices_mapping(slapd: Slapd, ldap_admin: Connection, tmp_path: Path) -> tuple[Path, str]:
    """The shipped mapping plus the Device declarations in a fresh subtree; and its base."""
    people, groups = make_subtree(ldap_admin, slapd.suffix)
    base = f"ou=Devices,{people.split(',', 1)[1]}"
    assert ldap_admin.add(base, ["organizationalUnit"]), ldap_admin.result
    combined = tmp_path / "with-devices.yaml"
    combined.write_text(
        SHIPPED.read_text(encoding="utf-8") + "\n" + DEVICES.read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    mapping = isolated_mapping(
        tmp_path, people, groups, combined, {"ou=Devices,dc=example,dc=org": base}
    )
    return mapping, base


@pytest.fixture
def dgw(
    slapd: Slapd, ldap_admin: Connection, devices_mapping: tuple[Path, str]
) -> Iterator[tuple[Gateway, str]]:
    mapping, base = devices_mapping
    app = create_app(settings_for(slapd, mapping))
    app.testing = True
    people = base.replace("ou=Devices,", "ou=People,", 1)
    groups = base.replace("ou=Devices,", "ou=Groups,", 1)
    try:
        yield (
            Gateway(
                app.test_client(), ldap_admin, people, groups, {"Authorization": f"Bearer {TOKEN}"}
            ),
            base,
        )
    finally:
        app.extensions["scim"].pool.close_all()


def device(name: str, **extra: object) -> dict:
    return {"schemas": [DEVICE], "displayName": name, **extra}


def _filter(gw: Gateway, expression: str, **params: object) -> dict:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    resp = gw.get(f"/Devices?filter={quote(expression)}{'&' + query if query else ''}")
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_device_lifecycle_through_http(dgw: tuple[Gateway, str]) -> None:
    gw, base = dgw
    owner = gw.post("/Users", {"userName": "dev.owner"}).get_json()
    resp = gw.post(
        "/Devices",
        device("laptop-17", serialNumber="SN-0017", location="Lyon", owner={"value": owner["id"]}),
    )
    assert resp.status_code == 201, resp.get_json()
    created = resp.get_json()
    assert created["meta"]["resourceType"] == "Device"
    assert created["meta"]["location"] == f"http://localhost/scim/v2/Devices/{created['id']}"
    assert resp.headers["Location"] == created["meta"]["location"]
    assert resp.headers["ETag"] == created["meta"]["version"]
    assert created["owner"] == {
        "value": owner["id"],
        "$ref": f"http://localhost/scim/v2/Users/{owner['id']}",
    }
    # what the directory holds: a device entry named by its cn, owner as the user's DN
    held = gw.entry(f"cn=laptop-17,{base}", "objectClass", "serialNumber", "l", "owner")
    assert held is not None
    assert {c.lower() for c in held["objectclass"]} >= {"device"}
    assert held["serialnumber"] == ["SN-0017"] and held["l"] == ["Lyon"]
    assert held["owner"][0].lower() == f"uid=dev.owner,{gw.people}".lower()

    got = gw.get(f"/Devices/{created['id']}")
    assert got.status_code == 200 and got.get_json() == created
    projected = gw.get(f"/Devices/{created['id']}?attributes=serialNumber").get_json()
    assert set(projected) == {"schemas", "id", "serialNumber"}
    excluded = gw.get(f"/Devices/{created['id']}?excludedAttributes=owner").get_json()
    assert "owner" not in excluded and excluded["displayName"] == "laptop-17"

    # PATCH: 200 with the resource (Device holds no members), a new version
    ops = {
        "schemas": [PATCH],
        "Operations": [{"op": "replace", "path": "location", "value": "Nice"}],
    }
    resp = gw.patch(f"/Devices/{created['id']}", ops)
    assert resp.status_code == 200, resp.get_json()
    patched = resp.get_json()
    assert (
        patched["location"] == "Nice" and patched["meta"]["version"] != created["meta"]["version"]
    )
    assert gw.entry(f"cn=laptop-17,{base}", "l") == {"l": ["Nice"]}

    # PUT: what is left out goes (owner, serialNumber, location); the rename follows displayName
    resp = gw.put(f"/Devices/{created['id']}", device("laptop-18", description="spare"))
    assert resp.status_code == 200, resp.get_json()
    replaced = resp.get_json()
    assert replaced["id"] == created["id"]
    assert not {"owner", "serialNumber", "location"} & set(replaced)
    assert gw.entry(f"cn=laptop-17,{base}") is None
    assert gw.entry(f"cn=laptop-18,{base}", "description") == {"description": ["spare"]}

    # If-Match: a stale version is 412 and changes nothing; the current one passes
    url = f"/scim/v2/Devices/{created['id']}"
    stale = {**gw._json(), "If-Match": created["meta"]["version"]}
    resp = gw.client.patch(url, json=ops, headers=stale)
    assert resp.status_code == 412 and resp.get_json()["schemas"] == [ERROR]
    assert gw.client.delete(url, headers=stale).status_code == 412
    assert gw.entry(f"cn=laptop-18,{base}", "l", "description") == {"description": ["spare"]}
    current = {**gw._json(), "If-Match": replaced["meta"]["version"]}
    none_match = gw.get(f"/Devices/{created['id']}", {"If-None-Match": replaced["meta"]["version"]})
    assert none_match.status_code == 304
    assert gw.client.delete(url, headers=current).status_code == 204
    assert gw.entry(f"cn=laptop-18,{base}") is None
    gone = gw.get(f"/Devices/{created['id']}")
    assert gone.status_code == 404 and gone.get_json()["schemas"] == [ERROR]


def test_filters_and_paging_on_devices(dgw: tuple[Gateway, str]) -> None:
    gw, _base = dgw
    for i in range(7):
        resp = gw.post("/Devices", device(f"phone-{i:02}", serialNumber=f"P-{i:04}"))
        assert resp.status_code == 201, resp.get_json()
    assert gw.post("/Devices", device("tablet-01", serialNumber="T-0001")).status_code == 201

    found = _filter(gw, 'serialNumber eq "P-0003"')
    assert [r["displayName"] for r in found["Resources"]] == ["phone-03"]
    assert found["totalResults"] == 1
    phones = _filter(gw, 'displayName sw "phone-"')
    assert phones["totalResults"] == 7
    assert sorted(r["displayName"] for r in phones["Resources"]) == [
        f"phone-{i:02}" for i in range(7)
    ]
    both = _filter(gw, 'displayName sw "tab" or serialNumber eq "P-0000"')
    assert sorted(r["displayName"] for r in both["Resources"]) == ["phone-00", "tablet-01"]
    assert _filter(gw, 'serialNumber eq "nothing"')["totalResults"] == 0

    seen: list[str] = []
    for start in (1, 4, 7):
        page = _filter(gw, 'displayName sw "phone-"', startIndex=start, count=3)
        assert page["totalResults"] == 7 and page["startIndex"] == start
        assert page["itemsPerPage"] == len(page["Resources"]) == min(3, 8 - start)
        seen += [r["displayName"] for r in page["Resources"]]
    assert sorted(seen) == [f"phone-{i:02}" for i in range(7)]  # each once, none lost

    # POST /.search at the root spans every type, Users first, then Groups, then Devices
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": 'displayName sw "tablet"',
    }
    resp = gw.client.post("/scim/v2/.search", json=body, headers=gw._json())
    assert resp.status_code == 200, resp.get_json()
    hits = resp.get_json()["Resources"]
    assert [h["meta"]["resourceType"] for h in hits] == ["Device"]


def test_duplicates_and_bad_input_change_nothing(dgw: tuple[Gateway, str]) -> None:
    gw, base = dgw
    first = gw.post("/Devices", device("printer-1", serialNumber="PR-1")).get_json()
    resp = gw.post("/Devices", device("printer-1", serialNumber="PR-2"))
    assert resp.status_code == 409, resp.get_json()
    assert resp.get_json()["scimType"] == "uniqueness"
    assert gw.entry(f"cn=printer-1,{base}", "serialNumber") == {"serialnumber": ["PR-1"]}

    bad = [
        device(
            "printer-2", owner={"value": "5f0c1d2e-0000-4000-8000-000000000000"}
        ),  # no such user
        device(42),  # displayName is a string
        device("printer-4", serialNumber=["a", "b"]),  # single-valued
        {"schemas": [DEVICE], "serialNumber": "no-name"},  # displayName is required
        device("printer-5", meta={"resourceType": "User"}, id="x", serialNumber={"x": 1}),
    ]
    for body in bad:
        resp = gw.post("/Devices", body)
        assert resp.status_code == 400, (body, resp.get_json())
        assert resp.get_json()["schemas"] == [ERROR]
    assert sorted(gw.children(base)) == [f"cn=printer-1,{base}"]

    ops = {"schemas": [PATCH], "Operations": [{"op": "add", "path": "nosuch", "value": "x"}]}
    resp = gw.patch(f"/Devices/{first['id']}", ops)
    assert resp.status_code == 400 and resp.get_json()["scimType"] in ("invalidPath", "noTarget")
    unknown = quote('userName eq "x"')  # a User attribute, not a Device one
    resp = gw.get(f"/Devices?filter={unknown}")
    assert resp.status_code == 400 and resp.get_json()["scimType"] == "invalidFilter"
    for missing in ("5f0c1d2e-0000-4000-8000-000000000000", "not-an-id"):
        assert gw.get(f"/Devices/{missing}").status_code == 404
        assert gw.delete(f"/Devices/{missing}").status_code == 404
    assert gw.get("/Device").status_code == 404  # only the declared endpoint serves it


def test_a_user_deleted_leaves_no_dangling_owner(dgw: tuple[Gateway, str]) -> None:
    """References name ids: an owner that no longer resolves is not shown as a stale id."""
    gw, _base = dgw
    owner = gw.post("/Users", {"userName": "short.lived"}).get_json()
    made = gw.post("/Devices", device("watch-1", owner={"value": owner["id"]})).get_json()
    assert made["owner"]["value"] == owner["id"]
    assert gw.delete(f"/Users/{owner['id']}").status_code == 204
    assert "owner" not in gw.get(f"/Devices/{made['id']}").get_json()


def test_discovery_lists_the_declared_type(dgw: tuple[Gateway, str]) -> None:
    gw, _base = dgw
    types = gw.get("/ResourceTypes").get_json()["Resources"]
    assert [t["name"] for t in types] == ["User", "Group", "Device"]
    served = gw.get("/ResourceTypes/Device").get_json()
    assert served["endpoint"] == "/Devices" and served["schema"] == DEVICE
    assert "schemaExtensions" not in served
    schemas = {s["id"]: s for s in gw.get("/Schemas").get_json()["Resources"]}
    assert DEVICE in schemas
    attrs = {a["name"]: a for a in gw.get(f"/Schemas/{DEVICE}").get_json()["attributes"]}
    assert set(attrs) == {"displayName", "serialNumber", "description", "location", "owner"}
    assert attrs["displayName"]["required"] is True
    ref = next(s for s in attrs["owner"]["subAttributes"] if s["name"] == "$ref")
    assert ref["referenceTypes"] == ["User"]


def test_mapping_check_and_explain_accept_the_declared_type(
    devices_mapping: tuple[Path, str], slapd: Slapd, tmp_path: Path, capsys
) -> None:
    mapping, _base = devices_mapping
    password = tmp_path / "password"
    password.write_text(slapd.admin_password, encoding="utf-8")
    directory = ["--ldap-url", slapd.url, "--bind-dn", slapd.admin_dn]
    directory += ["--bind-password-file", str(password)]
    assert main(["mapping", "check", str(mapping), *directory]) == 0, capsys.readouterr()
    payload = tmp_path / "device.json"
    payload.write_text('{"displayName": "router-9", "serialNumber": "R-9"}', encoding="utf-8")
    capsys.readouterr()
    code = main(["mapping", "explain", str(mapping), "--resource", "Device", str(payload)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "dn: cn=router-9,ou=Devices," in out and "serialNumber: R-9" in out
    assert "objectClass: device" in out
    code = main(["mapping", "explain", str(mapping), "--resource", "Gadget", str(payload)])
    assert code != 0


def test_a_declared_type_with_active_uses_the_disable_strategy(
    slapd: Slapd, ldap_admin: Connection, tmp_path: Path
) -> None:
    """``disable:`` works on a declared type whose schema has ``active`` (here: move)."""
    people, groups = make_subtree(ldap_admin, slapd.suffix)
    top = people.split(",", 1)[1]
    base, off = f"ou=Devices,{top}", f"ou=Retired,{top}"
    for dn in (base, off):
        assert ldap_admin.add(dn, ["organizationalUnit"]), ldap_admin.result
    declared = (
        DEVICES.read_text(encoding="utf-8")
        .replace(
            "      - name: location\n",
            "      - {name: active, type: boolean}\n" + "      - name: location\n",
        )
        .replace(
            "  unmapped: reject\n",
            "  unmapped: reject\n  disable:\n    strategy: move\n"
            "    disabled_base_dn: ou=Retired,dc=x\n",
        )
    )
    combined = tmp_path / "with-active.yaml"
    combined.write_text(SHIPPED.read_text(encoding="utf-8") + "\n" + declared, encoding="utf-8")
    moved = {"ou=Devices,dc=example,dc=org": base, "ou=Retired,dc=x": off}
    app = create_app(
        settings_for(slapd, isolated_mapping(tmp_path, people, groups, combined, moved))
    )
    app.testing = True
    gw = Gateway(
        app.test_client(), ldap_admin, people, groups, {"Authorization": f"Bearer {TOKEN}"}
    )
    try:
        made = gw.post("/Devices", device("old-phone"))
        assert made.status_code == 201 and made.get_json()["active"] is True
        ops = {
            "schemas": [PATCH],
            "Operations": [{"op": "replace", "path": "active", "value": False}],
        }
        resp = gw.patch(f"/Devices/{made.get_json()['id']}", ops)
        assert resp.status_code == 200 and resp.get_json()["active"] is False
        assert gw.children(base) == [] and gw.children(off) == [f"cn=old-phone,{off}"]
        found = _filter(gw, "active eq false")
        assert [r["displayName"] for r in found["Resources"]] == ["old-phone"]
    finally:
        app.extensions["scim"].pool.close_all()
