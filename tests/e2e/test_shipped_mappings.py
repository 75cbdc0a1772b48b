"""Every shipped mapping that the stock OpenLDAP schemas allow, against the real slapd.

The same lifecycle runs under each: create, read, PATCH, disable (each mapping's strategy:
ppolicy, boolean shadowExpire, move to ou=Disabled), group with a member, rename, enable,
remove the member, delete. mappings/389ds.yaml needs 389 DS's schema (nsAccountLock) and is
covered by tests/unit/mapping/test_389ds.py instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ldap3 import Connection
from support.gateway import Gateway
from support.slapd import Slapd

from e2e.conftest import ROOT, TOKEN, isolated_mapping, make_subtree, settings_for
from gateway.app import create_app

ENTRA = Path(__file__).resolve().parents[1] / "data" / "entra"
ON_SLAPD = ("openldap.yaml", "openldap-posix.yaml", "openldap-uniquemember.yaml")
MEMBER_VALUE = {  # how each mapping stores a member: its DN, or (memberUid) its uid
    "openldap.yaml": ("member", "dn"),
    "openldap-posix.yaml": ("memberUid", "uid"),
    "openldap-uniquemember.yaml": ("uniqueMember", "dn"),
}


@dataclass
class Mapped:
    gw: Gateway
    name: str
    top: str
    disabled: str


def mapping_dns(top: str) -> dict[str, str]:
    """The shipped mappings' other DNs (disabled OU, counters) moved below ``top``."""
    return {
        "ou=Disabled,dc=example,dc=org": f"ou=Disabled,{top}",
        "cn=uidNumber-counter,dc=example,dc=org": f"cn=uidNumber-counter,{top}",
        "cn=gidNumber-counter,dc=example,dc=org": f"cn=gidNumber-counter,{top}",
    }


def isolated(
    ldap: Connection, slapd: Slapd, tmp_path: Path, name: str
) -> tuple[Path, str, str, str]:
    people, groups = make_subtree(ldap, slapd.suffix)
    top = people.split(",", 1)[1]
    assert ldap.add(f"ou=Disabled,{top}", ["organizationalUnit"]), ldap.result
    path = isolated_mapping(
        tmp_path, people, groups, ROOT / "mappings" / name, extra=mapping_dns(top)
    )
    return path, people, groups, top


@pytest.fixture(params=ON_SLAPD)
def mapped(
    request: pytest.FixtureRequest, slapd: Slapd, ldap_admin: Connection, tmp_path: Path
) -> Iterator[Mapped]:
    path, people, groups, top = isolated(ldap_admin, slapd, tmp_path, request.param)
    app = create_app(settings_for(slapd, path))
    app.testing = True
    gw = Gateway(
        app.test_client(), ldap_admin, people, groups, {"Authorization": f"Bearer {TOKEN}"}
    )
    try:
        yield Mapped(gw, request.param, top, f"ou=Disabled,{top}")
    finally:
        app.extensions["scim"].pool.close_all()


def sample(name: str) -> dict[str, Any]:
    return json.loads((ENTRA / name).read_text(encoding="utf-8"))


def users_named(gw: Gateway, flt: str) -> list[dict[str, Any]]:
    resp = gw.get("/Users", query_string={"filter": flt})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["Resources"]


def member_values(gw: Gateway, group_dn: str, attr: str) -> list[str]:
    entry = gw.entry(group_dn, attr) or {}
    return [v.lower() for v in entry.get(attr.lower(), [])]


def expected_value(kind: str, dn: str) -> str:
    return (dn if kind == "dn" else dn.split(",", 1)[0].split("=", 1)[1]).lower()


def test_user_and_group_lifecycle(mapped: Mapped) -> None:
    gw, name = mapped.gw, mapped.name
    member_attr, kind = MEMBER_VALUE[name]

    # create (Entra's sample) and read back
    create = sample("create-user.json")
    resp = gw.post("/Users", create)
    assert resp.status_code == 201, resp.get_json()
    user = resp.get_json()
    uid, user_name = user["id"], create["userName"]
    dn = f"uid={user_name},{gw.people}"
    entry = gw.entry(dn)
    assert entry is not None and entry["mail"] == [create["emails"][0]["value"]]
    assert gw.get(f"/Users/{uid}").get_json()["userName"] == user_name
    if name == "openldap-posix.yaml":
        assert {"posixaccount", "shadowaccount"} <= {c.lower() for c in entry["objectclass"]}
        assert 10000 <= int(entry["uidnumber"][0]) <= 59999
        assert entry["gidnumber"] == ["100"] and entry["loginshell"] == ["/bin/bash"]
        assert entry["homedirectory"] == [f"/home/{user_name}"]
        assert "uidNumber" not in json.dumps(user)  # LDAP-only: not shown in SCIM

    # PATCH
    resp = gw.patch(f"/Users/{uid}", sample("patch-user-multi.json"))
    assert resp.status_code == 200, resp.get_json()
    assert gw.entry(dn, "mail", "sn") == {
        "mail": ["updatedEmail@microsoft.com"],
        "sn": ["updatedFamilyName"],
    }

    # disable: stored the mapping's way, still found by id, by name and by active
    resp = gw.patch(f"/Users/{uid}", sample("patch-user-disable.json"))
    assert resp.status_code == 200 and resp.get_json()["active"] is False, resp.get_json()
    if name == "openldap.yaml":
        assert gw.entry(dn, "pwdAccountLockedTime") == {"pwdaccountlockedtime": ["000001010000Z"]}
    elif name == "openldap-posix.yaml":
        assert gw.entry(dn, "shadowExpire") == {"shadowexpire": ["1"]}
    else:
        assert gw.entry(dn) is None
        dn = f"uid={user_name},{mapped.disabled}"
        assert gw.entry(dn, "entryUUID") == {"entryuuid": [uid]}
    assert gw.get(f"/Users/{uid}").get_json()["active"] is False
    found = users_named(gw, f'userName eq "{user_name}"')
    assert [u["id"] for u in found] == [uid] and found[0]["active"] is False
    assert [u["id"] for u in users_named(gw, "active eq false")] == [uid]
    assert users_named(gw, f'active eq true and userName eq "{user_name}"') == []

    # a group with the (disabled) user as member
    resp = gw.post(
        "/Groups", {"displayName": "Staff", "members": [{"value": uid}]}, query_string={}
    )
    assert resp.status_code == 201, resp.get_json()
    gid = resp.get_json()["id"]
    group_dn = f"cn=Staff,{gw.groups}"
    assert member_values(gw, group_dn, member_attr) == [expected_value(kind, dn)]
    members = gw.get(f"/Groups/{gid}").get_json()["members"]
    assert [m["value"] for m in members] == [uid]

    # enable: back in place, membership follows
    resp = gw.patch(f"/Users/{uid}", sample("patch-user-enable.json"))
    assert resp.status_code == 200 and resp.get_json()["active"] is True, resp.get_json()
    dn = f"uid={user_name},{gw.people}"
    assert gw.entry(dn, "entryUUID") == {"entryuuid": [uid]}
    assert member_values(gw, group_dn, member_attr) == [expected_value(kind, dn)]
    assert [u["id"] for u in users_named(gw, "active eq true")] == [uid]

    # rename: same id, memberships point at the new name
    new_name = sample("patch-user-rename.json")["Operations"][0]["value"]
    resp = gw.patch(f"/Users/{uid}", sample("patch-user-rename.json"))
    assert resp.status_code == 200, resp.get_json()
    dn = f"uid={new_name},{gw.people}"
    assert gw.entry(dn, "entryUUID") == {"entryuuid": [uid]}
    assert member_values(gw, group_dn, member_attr) == [expected_value(kind, dn)]
    assert [m["value"] for m in gw.get(f"/Groups/{gid}").get_json()["members"]] == [uid]
    if name == "openldap-posix.yaml":  # createOnly: the home directory does not follow
        assert gw.entry(dn, "homeDirectory") == {"homedirectory": [f"/home/{user_name}"]}

    # remove the member: the group stays, empty (placeholder where the schema needs one)
    resp = gw.patch(
        f"/Groups/{gid}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "remove", "path": f'members[value eq "{uid}"]'}],
        },
    )
    assert resp.status_code == 204, resp.get_json()
    assert gw.get(f"/Groups/{gid}").get_json().get("members", []) == []

    # delete both
    assert gw.delete(f"/Users/{uid}").status_code == 204
    assert gw.entry(dn) is None
    assert gw.delete(f"/Groups/{gid}").status_code == 204
    assert gw.entry(group_dn) is None
