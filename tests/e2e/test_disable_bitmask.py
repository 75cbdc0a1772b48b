"""The bitmask disable strategy against the real slapd: one bit of an INTEGER attribute.

The test directory's nis schema has ``shadowFlag`` (INTEGER, integerMatch) in the auxiliary
class shadowAccount, so it stands in for AD's ``userAccountControl``: bit 2 is the
"disabled" flag, 512 the word of a new account, and other bits set outside the gateway must
survive every disable and enable. ``active`` filters become integerBitAndMatch extensible
matches, which slapd evaluates.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from ldap3 import MODIFY_REPLACE, Connection
from support.gateway import Gateway
from support.slapd import Slapd

from e2e.conftest import ROOT, TOKEN, isolated_mapping, make_subtree, settings_for
from gateway.app import create_app

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BITMASK = """  disable:
    strategy: bitmask
    attribute: shadowFlag
    flag: 2
    initial_value: 512
"""
OTHER_BITS = 65536 | 512  # bits the gateway does not own


def bitmask_mapping(tmp_path: Path) -> Path:
    text = (ROOT / "mappings" / "openldap.yaml").read_text(encoding="utf-8")
    text, blocks = re.subn(r"  disable:\n(?:    .*\n)+", BITMASK, text, count=1)
    classes = "object_classes: [top, person, organizationalPerson, inetOrgPerson]"
    assert blocks == 1 and classes in text
    text = text.replace(classes, classes[:-1] + ", shadowAccount]", 1)
    source = tmp_path / "source" / "openldap.yaml"
    source.parent.mkdir()
    source.write_text(text, encoding="utf-8")
    return source


@pytest.fixture
def gw(slapd: Slapd, ldap_admin: Connection, tmp_path: Path) -> Iterator[Gateway]:
    people, groups = make_subtree(ldap_admin, slapd.suffix)
    path = isolated_mapping(tmp_path, people, groups, bitmask_mapping(tmp_path))
    app = create_app(settings_for(slapd, path))
    try:
        yield Gateway(
            app.test_client(), ldap_admin, people, groups, {"Authorization": f"Bearer {TOKEN}"}
        )
    finally:
        app.extensions["scim"].pool.close_all()


def active_op(value: bool) -> dict:
    return {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": value}]}


def word(gw: Gateway, name: str) -> int | None:
    found = gw.entry(f"uid={name},{gw.people}", "shadowFlag")
    return int(found["shadowflag"][0]) if found else None


def set_word(gw: Gateway, name: str, value: int) -> None:
    dn = f"uid={name},{gw.people}"
    assert gw.ldap.modify(dn, {"shadowFlag": [(MODIFY_REPLACE, [str(value)])]}), gw.ldap.result


def ids(gw: Gateway, flt: str) -> list[str]:
    resp = gw.get("/Users", query_string={"filter": flt, "count": "50"})
    assert resp.status_code == 200, resp.get_json()
    return sorted(r["id"] for r in resp.get_json()["Resources"])


def test_create_writes_the_initial_word_with_or_without_the_flag(gw: Gateway) -> None:
    on = gw.post("/Users", {"userName": "on"})
    off = gw.post("/Users", {"userName": "off", "active": False})
    assert on.status_code == off.status_code == 201
    assert on.get_json()["active"] is True and off.get_json()["active"] is False
    assert word(gw, "on") == 512 and word(gw, "off") == 514


def test_disable_and_enable_keep_the_other_bits(gw: Gateway) -> None:
    uid = gw.post("/Users", {"userName": "kept"}).get_json()["id"]
    set_word(gw, "kept", OTHER_BITS)  # e.g. DONT_EXPIRE_PASSWORD, set by another tool

    resp = gw.patch(f"/Users/{uid}", active_op(False))
    assert resp.status_code == 200 and resp.get_json()["active"] is False
    assert word(gw, "kept") == OTHER_BITS | 2
    assert gw.get(f"/Users/{uid}").get_json()["active"] is False

    resp = gw.patch(f"/Users/{uid}", active_op(False))  # already disabled: nothing changes
    assert resp.status_code == 200 and word(gw, "kept") == OTHER_BITS | 2

    resp = gw.patch(f"/Users/{uid}", active_op(True))
    assert resp.status_code == 200 and resp.get_json()["active"] is True
    assert word(gw, "kept") == OTHER_BITS
    assert gw.get(f"/Users/{uid}").get_json()["active"] is True


def test_put_and_other_patches_leave_the_word_alone(gw: Gateway) -> None:
    uid = gw.post("/Users", {"userName": "put", "active": False}).get_json()["id"]
    set_word(gw, "put", OTHER_BITS | 2 | 1)

    resp = gw.patch(
        f"/Users/{uid}",
        {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "x"}]},
    )
    assert resp.status_code == 200 and resp.get_json()["active"] is False
    assert word(gw, "put") == OTHER_BITS | 2 | 1

    resp = gw.put(f"/Users/{uid}", {"userName": "put", "active": True})
    assert resp.status_code == 200 and resp.get_json()["active"] is True
    assert word(gw, "put") == OTHER_BITS | 1


def test_an_entry_without_the_word_gets_it_on_its_next_update(gw: Gateway) -> None:
    uid = gw.post("/Users", {"userName": "bare"}).get_json()["id"]
    dn = f"uid=bare,{gw.people}"
    assert gw.ldap.modify(dn, {"shadowFlag": [(MODIFY_REPLACE, [])]}), gw.ldap.result
    assert gw.get(f"/Users/{uid}").get_json()["active"] is True  # no word: no flag
    assert gw.patch(f"/Users/{uid}", active_op(False)).status_code == 200
    assert word(gw, "bare") == 514


def test_active_filters_are_bit_tests_on_the_server(gw: Gateway) -> None:
    users = {}
    for name, value in [("a", 512), ("b", 514), ("c", 3), ("d", 4), ("e", None)]:
        users[name] = gw.post("/Users", {"userName": name}).get_json()["id"]
        if value is None:
            dn = f"uid={name},{gw.people}"
            assert gw.ldap.modify(dn, {"shadowFlag": [(MODIFY_REPLACE, [])]}), gw.ldap.result
        else:
            set_word(gw, name, value)
    enabled = sorted(users[n] for n in "ade")
    disabled = sorted(users[n] for n in "bc")
    assert ids(gw, "active eq false") == disabled
    assert ids(gw, "active eq true") == enabled
    assert ids(gw, "active ne true") == disabled
    assert ids(gw, "not (active eq false)") == enabled
    assert ids(gw, 'active eq false and userName eq "c"') == [users["c"]]
    assert ids(gw, 'active eq false or userName eq "a"') == sorted([*disabled, users["a"]])
    assert ids(gw, "active pr") == sorted(users.values())


def test_active_must_be_a_boolean_and_changes_nothing(gw: Gateway) -> None:
    uid = gw.post("/Users", {"userName": "typed"}).get_json()["id"]
    resp = gw.patch(f"/Users/{uid}", active_op("no"))  # type: ignore[arg-type]
    assert resp.status_code == 400 and resp.get_json()["status"] == "400"
    assert word(gw, "typed") == 512
