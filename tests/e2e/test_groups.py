"""Groups through the gateway into the real slapd, with the directory checked after each step.

Request shapes are Entra's (reference: ../shared/reference/entra-scim.md §3-§5): groups are
created empty, read with ``excludedAttributes=members``, and filled and emptied by PATCH. A group
is a ``groupOfNames``; an empty one holds only the mapping's placeholder member, which SCIM never
shows.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
from support.gateway import Gateway, ldap_ops

DATA = Path(__file__).resolve().parents[1] / "data" / "entra"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
PLACEHOLDER = "cn=empty-membership-placeholder,dc=example,dc=org"


# ---------------------------------------------------------------------------- helpers


def sample(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def ops(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def add_members(*ids: str) -> dict[str, Any]:
    """Entra's add: ``{"op":"Add","path":"members","value":[{"$ref":null,"value":id}]}``."""
    return {"op": "Add", "path": "members", "value": [{"$ref": None, "value": i} for i in ids]}


def remove_members(*ids: str) -> dict[str, Any]:
    """Entra's default remove: ``path: "members"`` and a value list."""
    return {"op": "Remove", "path": "members", "value": [{"$ref": None, "value": i} for i in ids]}


def remove_member_by_filter(ident: str) -> dict[str, Any]:
    """The flag-style (and RFC) remove: ``members[value eq "<id>"]``, no value."""
    return {"op": "remove", "path": f'members[value eq "{ident}"]'}


def rename_to(name: str) -> dict[str, Any]:
    return {"op": "Replace", "path": "displayName", "value": name}


def user_dn(gw: Gateway, name: str) -> str:
    return f"uid={name},{gw.people}"


def group_dn(gw: Gateway, name: str) -> str:
    return f"cn={name},{gw.groups}"


def new_user(gw: Gateway, name: str) -> str:
    resp = gw.post("/Users", {"userName": name})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def new_group(gw: Gateway, name: str, members: Sequence[str] = (), **extra: Any) -> str:
    body = {"schemas": [GROUP_SCHEMA], "displayName": name, **extra}
    if members:
        body["members"] = [{"value": m} for m in members]
    resp = gw.post("/Groups", body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def ldap_members(gw: Gateway, dn: str) -> set[str]:
    """The ``member`` values stored on the group, lower-cased for comparison."""
    entry = gw.entry(dn, "member")
    assert entry is not None, f"no entry at {dn}"
    return {v.lower() for v in entry.get("member", [])}


def dns(*values: str) -> set[str]:
    return {v.lower() for v in values}


def member_ids(gw: Gateway, group_id: str) -> set[str]:
    resp = gw.get(f"/Groups/{group_id}")
    assert resp.status_code == 200, resp.get_json()
    return {m["value"] for m in resp.get_json().get("members", [])}


def patch_group(gw: Gateway, group_id: str, *operations: dict[str, Any], status: int = 204):
    resp = gw.patch(f"/Groups/{group_id}", ops(*operations))
    assert resp.status_code == status, resp.get_json()
    return resp


def group_filter(gw: Gateway, flt: str, **params: str) -> dict[str, Any]:
    resp = gw.get("/Groups", query_string={"filter": flt, **params})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def assert_scim_error(resp, status: int, scim_type: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, resp.get_json()
    body = resp.get_json()
    assert body["schemas"] == [ERROR_SCHEMA]
    assert body["status"] == str(status)
    if scim_type is not None:
        assert body.get("scimType") == scim_type, body
    return body


# ---------------------------------------------------------------------------- Entra lifecycle


def test_entra_group_lifecycle(gw: Gateway) -> None:
    alice, bob, carol = (new_user(gw, n) for n in ("alice", "bob", "carol"))
    create = sample("create-group.json")
    name = create["displayName"]
    dn = group_dn(gw, name)

    # 1. matching query: nothing yet
    body = group_filter(gw, f'displayName eq "{name}"', excludedAttributes="members")
    assert body["totalResults"] == 0 and body["Resources"] == []

    # 2. create empty, with Entra's extra ADSCIM schema URI and meta
    resp = gw.post("/Groups", create)
    assert resp.status_code == 201, resp.get_json()
    group = resp.get_json()
    gid = group["id"]
    assert group["displayName"] == name
    assert group["externalId"] == create["externalId"]
    assert group["members"] == []
    assert resp.headers["Location"].endswith(f"/scim/v2/Groups/{gid}")
    entry = gw.entry(dn, "*", "+")
    assert entry is not None
    assert entry["entryuuid"] == [gid]
    assert "groupOfNames" in entry["objectclass"]
    assert entry["businesscategory"] == [create["externalId"]]
    assert {v.lower() for v in entry["member"]} == dns(PLACEHOLDER)

    # 3. Entra's group query, as a dict and form-encoded the way Entra sends it (+ and %22)
    body = group_filter(gw, f'displayName eq "{name}"', excludedAttributes="members")
    assert body["totalResults"] == 1
    assert body["Resources"][0]["id"] == gid and "members" not in body["Resources"][0]
    flt = quote_plus(f'displayName eq "{name}"')
    raw = f"excludedAttributes=members&filter={flt}"
    assert "+" in raw and "%22" in raw
    resp = gw.client.get(f"/scim/v2/Groups?{raw}", headers=gw.headers)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["totalResults"] == 1
    assert body["Resources"][0]["id"] == gid and "members" not in body["Resources"][0]
    resp = gw.get(f"/Groups/{gid}", query_string={"excludedAttributes": "members"})
    assert resp.status_code == 200 and "members" not in resp.get_json()

    # 4. add members, Entra style: 204, exactly those DNs, placeholder gone
    resp = patch_group(gw, gid, add_members(alice, bob, carol))
    assert resp.data == b""
    everyone = dns(user_dn(gw, "alice"), user_dn(gw, "bob"), user_dn(gw, "carol"))
    assert ldap_members(gw, dn) == everyone
    assert member_ids(gw, gid) == {alice, bob, carol}

    # 5. Entra's default remove (path "members" + value list): only that one goes
    patch_group(gw, gid, remove_members(alice))
    assert ldap_members(gw, dn) == dns(user_dn(gw, "bob"), user_dn(gw, "carol"))
    assert gw.entry(dn) is not None

    # 6. flag-style remove, members[value eq "id"]
    patch_group(gw, gid, remove_member_by_filter(bob))
    assert ldap_members(gw, dn) == dns(user_dn(gw, "carol"))
    assert member_ids(gw, gid) == {carol}

    # 7. rename: modify DN, same id, membership kept
    patch_group(gw, gid, rename_to("renamedGroup"))
    assert gw.entry(dn) is None
    new_dn = group_dn(gw, "renamedGroup")
    assert gw.entry(new_dn, "entryUUID") == {"entryuuid": [gid]}
    assert ldap_members(gw, new_dn) == dns(user_dn(gw, "carol"))
    got = gw.get(f"/Groups/{gid}").get_json()
    assert got["id"] == gid and got["displayName"] == "renamedGroup"

    # 8. delete: 204, entry gone, then 404 with the SCIM error schema
    resp = gw.delete(f"/Groups/{gid}")
    assert resp.status_code == 204
    assert gw.entry(new_dn) is None
    assert_scim_error(gw.get(f"/Groups/{gid}"), 404)
    # the former member is untouched
    assert gw.entry(user_dn(gw, "carol"), "uid") == {"uid": ["carol"]}


# ---------------------------------------------------------------------------- PATCH shapes


def test_one_patch_with_several_operations_and_thirty_members(gw: Gateway) -> None:
    users = [new_user(gw, f"u{i:02d}") for i in range(32)]
    gid = new_group(gw, "big", members=users[30:])
    patch_group(
        gw,
        gid,
        add_members(*users[:15]),
        add_members(*users[15:30]),
        remove_members(users[30]),
        remove_member_by_filter(users[0]),
        {"op": "Replace", "path": "externalId", "value": "ext-big"},
    )
    expected = {user_dn(gw, f"u{i:02d}") for i in [*range(1, 30), 31]}
    assert ldap_members(gw, group_dn(gw, "big")) == dns(*expected)
    assert gw.entry(group_dn(gw, "big"), "businessCategory") == {"businesscategory": ["ext-big"]}
    assert member_ids(gw, gid) == {*users[1:30], users[31]}


@pytest.mark.parametrize(
    ("add", "remove"), [("add", "remove"), ("ADD", "REMOVE"), ("Add", "Remove"), ("aDd", "rEmOvE")]
)
def test_op_names_are_accepted_in_any_case(gw: Gateway, add: str, remove: str) -> None:
    ann, ben = new_user(gw, "ann"), new_user(gw, "ben")
    gid = new_group(gw, "cased")
    patch_group(gw, gid, {**add_members(ann, ben), "op": add})
    assert ldap_members(gw, group_dn(gw, "cased")) == dns(user_dn(gw, "ann"), user_dn(gw, "ben"))
    patch_group(gw, gid, {**remove_members(ann), "op": remove})
    assert ldap_members(gw, group_dn(gw, "cased")) == dns(user_dn(gw, "ben"))
    patch_group(gw, gid, {**rename_to("cased2"), "op": "rEpLaCe"})
    assert gw.entry(group_dn(gw, "cased2"), "cn") == {"cn": ["cased2"]}


def test_adding_a_present_member_or_removing_an_absent_one_succeeds_and_changes_nothing(
    gw: Gateway,
) -> None:
    ann, ben = new_user(gw, "ann"), new_user(gw, "ben")
    gid = new_group(gw, "steady", members=[ann], externalId="ext-steady")
    dn = group_dn(gw, "steady")
    before = gw.entry(dn, "*")

    patch_group(gw, gid, add_members(ann))
    assert gw.entry(dn, "*") == before
    patch_group(gw, gid, remove_members(ben))
    assert gw.entry(dn, "*") == before
    patch_group(gw, gid, remove_member_by_filter(ben))
    assert gw.entry(dn, "*") == before
    # both in one request, and an add of the same id twice
    patch_group(gw, gid, add_members(ann, ann), remove_members(ben))
    assert gw.entry(dn, "*") == before
    assert ldap_members(gw, dn) == dns(user_dn(gw, "ann"))


def test_removing_an_absent_member_from_an_empty_group_keeps_the_placeholder(gw: Gateway) -> None:
    ann = new_user(gw, "ann")
    gid = new_group(gw, "hollow")
    patch_group(gw, gid, remove_members(ann))
    patch_group(gw, gid, remove_member_by_filter(ann))
    assert ldap_members(gw, group_dn(gw, "hollow")) == dns(PLACEHOLDER)
    assert gw.get(f"/Groups/{gid}").get_json()["members"] == []


def test_replace_sets_the_whole_member_list(gw: Gateway) -> None:
    ann, ben, cat = (new_user(gw, n) for n in ("ann", "ben", "cat"))
    gid = new_group(gw, "swap", members=[ann, ben])
    dn = group_dn(gw, "swap")

    patch_group(gw, gid, {"op": "Replace", "path": "members", "value": [{"value": cat}]})
    assert ldap_members(gw, dn) == dns(user_dn(gw, "cat"))

    patch_group(gw, gid, {"op": "replace", "path": "members", "value": []})
    assert ldap_members(gw, dn) == dns(PLACEHOLDER)
    assert gw.get(f"/Groups/{gid}").get_json()["members"] == []

    patch_group(gw, gid, {"op": "replace", "value": {"members": [{"value": ann}]}})
    assert ldap_members(gw, dn) == dns(user_dn(gw, "ann"))


def test_patch_asking_for_attributes_answers_200_with_the_group(gw: Gateway) -> None:
    ann = new_user(gw, "ann")
    gid = new_group(gw, "answered")
    resp = gw.patch(
        f"/Groups/{gid}", ops(add_members(ann)), query_string={"attributes": "displayName"}
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["id"] == gid and body["displayName"] == "answered"
    assert "members" not in body
    assert ldap_members(gw, group_dn(gw, "answered")) == dns(user_dn(gw, "ann"))

    resp = gw.patch(
        f"/Groups/{gid}",
        ops(remove_members(ann)),
        query_string={"excludedAttributes": "members"},
    )
    assert resp.status_code == 200 and resp.get_json()["id"] == gid
    assert "members" not in resp.get_json()


# ---------------------------------------------------------------------------- unknown members


def test_unknown_member_id_in_patch_is_400_naming_it_and_writes_nothing(gw: Gateway) -> None:
    ann, ben = new_user(gw, "ann"), new_user(gw, "ben")
    gid = new_group(gw, "guarded", members=[ann], externalId="ext-1")
    dn = group_dn(gw, "guarded")
    before = gw.entry(dn, "*", "entryCSN")
    ghost = str(uuid.uuid4())

    resp = gw.patch(
        f"/Groups/{gid}",
        ops(
            rename_to("guarded-renamed"),
            {"op": "Replace", "path": "externalId", "value": "ext-2"},
            remove_members(ann),
            add_members(ben, ghost),
        ),
    )
    body = assert_scim_error(resp, 400, "invalidValue")
    assert ghost in body["detail"]
    assert gw.entry(dn, "*", "entryCSN") == before
    assert gw.entry(group_dn(gw, "guarded-renamed")) is None
    assert gw.entry(user_dn(gw, "ben"), "memberOf") == {}


@pytest.mark.parametrize("ghost", ["f648f8d5ea4e4cd38e9c", "not-a-uuid", str(uuid.uuid4())])
def test_unknown_member_id_of_any_shape_is_400(gw: Gateway, ghost: str) -> None:
    gid = new_group(gw, "shapes")
    resp = gw.patch(f"/Groups/{gid}", ops(add_members(ghost)))
    body = assert_scim_error(resp, 400, "invalidValue")
    assert ghost in body["detail"]
    assert ldap_members(gw, group_dn(gw, "shapes")) == dns(PLACEHOLDER)


def test_unknown_member_id_in_replace_is_400_and_writes_nothing(gw: Gateway) -> None:
    ann, ben = new_user(gw, "ann"), new_user(gw, "ben")
    gid = new_group(gw, "kept", members=[ann])
    ghost = str(uuid.uuid4())
    resp = gw.patch(
        f"/Groups/{gid}",
        ops({"op": "replace", "path": "members", "value": [{"value": ben}, {"value": ghost}]}),
    )
    assert ghost in assert_scim_error(resp, 400, "invalidValue")["detail"]
    assert ldap_members(gw, group_dn(gw, "kept")) == dns(user_dn(gw, "ann"))


def test_unknown_member_id_in_create_is_400_and_creates_nothing(gw: Gateway) -> None:
    ann = new_user(gw, "ann")
    ghost = str(uuid.uuid4())
    resp = gw.post(
        "/Groups",
        {
            "schemas": [GROUP_SCHEMA],
            "displayName": "never",
            "members": [{"value": ann}, {"value": ghost}],
        },
    )
    assert ghost in assert_scim_error(resp, 400, "invalidValue")["detail"]
    assert gw.entry(group_dn(gw, "never")) is None
    assert gw.children(gw.groups) == []


def test_unknown_member_id_in_put_is_400_and_writes_nothing(gw: Gateway) -> None:
    ann, ben = new_user(gw, "ann"), new_user(gw, "ben")
    gid = new_group(gw, "putty", members=[ann])
    before = gw.entry(group_dn(gw, "putty"), "*")
    ghost = str(uuid.uuid4())
    resp = gw.put(
        f"/Groups/{gid}",
        {
            "schemas": [GROUP_SCHEMA],
            "displayName": "putty-renamed",
            "members": [{"value": ben}, {"value": ghost}],
        },
    )
    assert ghost in assert_scim_error(resp, 400, "invalidValue")["detail"]
    assert gw.entry(group_dn(gw, "putty"), "*") == before
    assert gw.entry(group_dn(gw, "putty-renamed")) is None


# ---------------------------------------------------------------------------- empty groups


def test_removing_the_last_member_leaves_the_placeholder_and_reads_back_empty(
    gw: Gateway,
) -> None:
    ann, ben = new_user(gw, "ann"), new_user(gw, "ben")
    gid = new_group(gw, "shrinking", members=[ann, ben])
    dn = group_dn(gw, "shrinking")
    assert ldap_members(gw, dn) == dns(user_dn(gw, "ann"), user_dn(gw, "ben"))

    patch_group(gw, gid, remove_members(ann, ben))
    assert ldap_members(gw, dn) == dns(PLACEHOLDER)
    got = gw.get(f"/Groups/{gid}").get_json()
    assert got["members"] == []
    listed = group_filter(gw, f'id eq "{gid}"')["Resources"][0]
    assert listed.get("members", []) == []

    # and back: the placeholder leaves when a real member arrives
    patch_group(gw, gid, add_members(ben))
    assert ldap_members(gw, dn) == dns(user_dn(gw, "ben"))
    patch_group(gw, gid, remove_member_by_filter(ben))
    assert ldap_members(gw, dn) == dns(PLACEHOLDER)


def test_deleting_a_groups_last_member_leaves_a_valid_group_with_the_placeholder(
    gw: Gateway,
) -> None:
    ann = new_user(gw, "ann")
    gid = new_group(gw, "orphaned", members=[ann])
    assert gw.delete(f"/Users/{ann}").status_code == 204
    assert gw.entry(user_dn(gw, "ann")) is None
    assert ldap_members(gw, group_dn(gw, "orphaned")) == dns(PLACEHOLDER)
    assert gw.get(f"/Groups/{gid}").get_json()["members"] == []
    # still a working group
    ben = new_user(gw, "ben")
    patch_group(gw, gid, add_members(ben))
    assert ldap_members(gw, group_dn(gw, "orphaned")) == dns(user_dn(gw, "ben"))


# ---------------------------------------------------------------------------- consistency


def test_deleting_a_user_removes_it_from_every_group(gw: Gateway) -> None:
    ann, ben = new_user(gw, "ann"), new_user(gw, "ben")
    g1 = new_group(gw, "g1", members=[ann, ben])
    g2 = new_group(gw, "g2", members=[ann])
    g3 = new_group(gw, "g3", members=[ben])

    assert gw.delete(f"/Users/{ann}").status_code == 204
    assert ldap_members(gw, group_dn(gw, "g1")) == dns(user_dn(gw, "ben"))
    assert ldap_members(gw, group_dn(gw, "g2")) == dns(PLACEHOLDER)
    assert ldap_members(gw, group_dn(gw, "g3")) == dns(user_dn(gw, "ben"))
    assert member_ids(gw, g1) == {ben}
    assert member_ids(gw, g2) == set()
    assert member_ids(gw, g3) == {ben}


def test_renaming_a_user_keeps_memberships_pointing_at_the_new_dn(gw: Gateway) -> None:
    ann, ben = new_user(gw, "ann"), new_user(gw, "ben")
    g1 = new_group(gw, "g1", members=[ann, ben])
    g2 = new_group(gw, "g2", members=[ann])

    resp = gw.patch(f"/Users/{ann}", ops({"op": "Replace", "path": "userName", "value": "annette"}))
    assert resp.status_code == 200, resp.get_json()
    # immediately, no waiting for refint
    assert ldap_members(gw, group_dn(gw, "g1")) == dns(user_dn(gw, "annette"), user_dn(gw, "ben"))
    assert ldap_members(gw, group_dn(gw, "g2")) == dns(user_dn(gw, "annette"))
    assert member_ids(gw, g1) == {ann, ben}
    assert member_ids(gw, g2) == {ann}
    groups = gw.get(f"/Users/{ann}").get_json().get("groups", [])
    assert {g["value"] for g in groups} == {g1, g2}
    # and it can still be removed by id
    patch_group(gw, g2, remove_members(ann))
    assert ldap_members(gw, group_dn(gw, "g2")) == dns(PLACEHOLDER)


def test_renaming_a_group_keeps_nested_memberships(gw: Gateway) -> None:
    ann = new_user(gw, "ann")
    inner = new_group(gw, "inner", members=[ann])
    outer = new_group(gw, "outer", members=[inner])
    assert ldap_members(gw, group_dn(gw, "outer")) == dns(group_dn(gw, "inner"))

    patch_group(gw, inner, rename_to("inner2"))
    assert gw.entry(group_dn(gw, "inner")) is None
    assert ldap_members(gw, group_dn(gw, "outer")) == dns(group_dn(gw, "inner2"))
    assert ldap_members(gw, group_dn(gw, "inner2")) == dns(user_dn(gw, "ann"))
    assert member_ids(gw, outer) == {inner}
    assert member_ids(gw, inner) == {ann}

    # renaming the outer group too: its own member list is untouched
    patch_group(gw, outer, rename_to("outer2"))
    assert ldap_members(gw, group_dn(gw, "outer2")) == dns(group_dn(gw, "inner2"))
    assert member_ids(gw, outer) == {inner}


def test_deleting_a_nested_group_removes_it_from_its_parent(gw: Gateway) -> None:
    inner = new_group(gw, "inner")
    new_group(gw, "outer", members=[inner])
    assert gw.delete(f"/Groups/{inner}").status_code == 204
    assert ldap_members(gw, group_dn(gw, "outer")) == dns(PLACEHOLDER)


# ---------------------------------------------------------------------------- nested, reads


def test_a_group_can_be_a_member_and_reads_back_as_type_group(gw: Gateway) -> None:
    ann = new_user(gw, "ann")
    inner = new_group(gw, "inner")
    outer = new_group(gw, "outer")
    patch_group(gw, outer, add_members(inner, ann))
    assert ldap_members(gw, group_dn(gw, "outer")) == dns(group_dn(gw, "inner"), user_dn(gw, "ann"))
    members = {m["value"]: m for m in gw.get(f"/Groups/{outer}").get_json()["members"]}
    assert members[inner]["type"] == "Group"
    assert members[inner]["$ref"].endswith(f"/scim/v2/Groups/{inner}")
    assert members[ann]["type"] == "User"


def test_members_the_mapping_does_not_serve_are_not_listed(gw: Gateway) -> None:
    """Members are found in one search below the common base of People and Groups: entries
    there that are not where the mapping keeps users or groups, or not of their classes, are
    left out (written here straight into LDAP, as another tool might)."""
    ann = new_user(gw, "ann")
    gid = new_group(gw, "mixed", members=[ann])
    top = gw.people.split(",", 1)[1]
    outsider = f"uid=outsider,{top}"  # a person beside ou=People, not in it
    odd = f"cn=odd,{gw.people}"  # in ou=People, but a group, not a person
    assert gw.ldap.add(outsider, ["inetOrgPerson"], {"uid": "outsider", "sn": "O", "cn": "O"})
    assert gw.ldap.add(odd, ["groupOfNames"], {"cn": "odd", "member": [user_dn(gw, "ann")]})
    dn = group_dn(gw, "mixed")
    assert gw.ldap.modify(dn, {"member": [("MODIFY_ADD", [outsider, odd])]}), gw.ldap.result
    assert len(ldap_members(gw, dn)) == 3
    assert member_ids(gw, gid) == {ann}


def test_full_get_lists_members_with_value_ref_and_type(gw: Gateway) -> None:
    ann, ben = new_user(gw, "ann"), new_user(gw, "ben")
    gid = new_group(gw, "full", members=[ann, ben])
    resp = gw.get(f"/Groups/{gid}")
    assert resp.status_code == 200
    members = sorted(resp.get_json()["members"], key=lambda m: m["value"])
    expected = sorted([ann, ben])
    assert [m["value"] for m in members] == expected
    for m in members:
        assert m["type"] == "User"
        assert m["$ref"].startswith("http")
        assert m["$ref"].endswith(f"/scim/v2/Users/{m['value']}")
        assert PLACEHOLDER not in json.dumps(m)


def test_create_with_members_stores_those_members(gw: Gateway) -> None:
    ann, ben = new_user(gw, "ann"), new_user(gw, "ben")
    resp = gw.post(
        "/Groups",
        {
            "schemas": [GROUP_SCHEMA],
            "displayName": "prefilled",
            "members": [{"value": ann}, {"value": ben, "type": "User"}],
        },
    )
    assert resp.status_code == 201, resp.get_json()
    assert {m["value"] for m in resp.get_json()["members"]} == {ann, ben}
    assert ldap_members(gw, group_dn(gw, "prefilled")) == dns(
        user_dn(gw, "ann"), user_dn(gw, "ben")
    )


def test_put_replaces_the_members(gw: Gateway) -> None:
    ann, ben, cat = (new_user(gw, n) for n in ("ann", "ben", "cat"))
    gid = new_group(gw, "put", members=[ann, ben])
    resp = gw.put(
        f"/Groups/{gid}",
        {"schemas": [GROUP_SCHEMA], "displayName": "put", "members": [{"value": cat}]},
    )
    assert resp.status_code == 200, resp.get_json()
    assert ldap_members(gw, group_dn(gw, "put")) == dns(user_dn(gw, "cat"))
    assert member_ids(gw, gid) == {cat}

    resp = gw.put(f"/Groups/{gid}", {"schemas": [GROUP_SCHEMA], "displayName": "put"})
    assert resp.status_code == 200, resp.get_json()
    assert ldap_members(gw, group_dn(gw, "put")) == dns(PLACEHOLDER)
    assert gw.get(f"/Groups/{gid}").get_json()["members"] == []


@pytest.mark.parametrize("method", ["put", "patch"])
def test_write_responses_include_the_members_when_asked(gw: Gateway, method: str) -> None:
    ann, ben = new_user(gw, "ann"), new_user(gw, "ben")
    gid = new_group(gw, "answering", members=[ann])
    if method == "put":
        resp = gw.put(
            f"/Groups/{gid}",
            {"schemas": [GROUP_SCHEMA], "displayName": "answering", "members": [{"value": ben}]},
        )
        expected = {ben}
    else:
        resp = gw.patch(
            f"/Groups/{gid}", ops(add_members(ben)), query_string={"attributes": "members"}
        )
        expected = {ann, ben}
    assert resp.status_code == 200, resp.get_json()
    assert {m["value"] for m in resp.get_json().get("members", [])} == expected


# ---------------------------------------------------------------------------- users' groups


def test_users_groups_attribute_lists_the_groups(gw: Gateway) -> None:
    ann = new_user(gw, "ann")
    g1 = new_group(gw, "g1", members=[ann])
    g2 = new_group(gw, "g2", members=[ann])
    new_group(gw, "g3")

    groups = gw.get(f"/Users/{ann}").get_json()["groups"]
    assert {g["value"] for g in groups} == {g1, g2}
    assert all(g["$ref"].endswith(f"/scim/v2/Groups/{g['value']}") for g in groups)
    assert gw.get(f"/Users/{new_user(gw, 'ben')}").get_json().get("groups", []) == []


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param({"op": "replace", "path": "groups", "value": []}, id="replace"),
        pytest.param({"op": "remove", "path": "groups"}, id="remove-all"),
        pytest.param({"op": "add", "path": "groups", "value": [{"value": "GROUP"}]}, id="add"),
        pytest.param(
            {"op": "add", "value": {"groups": [{"value": "GROUP"}]}}, id="add-without-path"
        ),
        pytest.param(
            {"op": "remove", "path": 'groups[value eq "MEMBER_OF"]'}, id="remove-filtered"
        ),
        pytest.param(
            {"op": "remove", "path": "groups", "value": [{"value": "MEMBER_OF"}]},
            id="remove-listed",
        ),
    ],
)
def test_patching_users_groups_is_400_mutability(gw: Gateway, operation: dict) -> None:
    ann = new_user(gw, "ann")
    g1 = new_group(gw, "g1", members=[ann])
    g2 = new_group(gw, "g2")
    text = json.dumps(operation).replace("MEMBER_OF", g1).replace("GROUP", g2)
    operation = json.loads(text)
    resp = gw.patch(f"/Users/{ann}", ops(operation))
    assert_scim_error(resp, 400, "mutability")
    assert ldap_members(gw, group_dn(gw, "g1")) == dns(user_dn(gw, "ann"))
    assert ldap_members(gw, group_dn(gw, "g2")) == dns(PLACEHOLDER)
    assert member_ids(gw, g1) == {ann}


# ---------------------------------------------------------------------------- filters


def test_group_filters_by_membership_id_and_external_id(gw: Gateway) -> None:
    ann, ben = new_user(gw, "ann"), new_user(gw, "ben")
    g1 = new_group(gw, "g1", members=[ann, ben], externalId="ext-g1")
    g2 = new_group(gw, "g2", members=[ann], externalId="ext-g2")
    new_group(gw, "g3")

    def found(flt: str) -> set[str]:
        return {r["id"] for r in group_filter(gw, flt, excludedAttributes="members")["Resources"]}

    assert found(f'members[value eq "{ann}"]') == {g1, g2}
    assert found(f'members[value eq "{ben}"]') == {g1}
    assert found(f'members.value eq "{ann}"') == {g1, g2}
    assert found(f'members.value eq "{ben}"') == {g1}
    assert found(f'members[value eq "{uuid.uuid4()}"]') == set()
    assert found(f'id eq "{g2}"') == {g2}
    assert found('externalId eq "ext-g1"') == {g1}
    assert found('displayName eq "g2"') == {g2}
    assert found(f'displayName eq "g1" and members.value eq "{ben}"') == {g1}


# ---------------------------------------------------------------------------- uniqueness


def test_duplicate_display_name_is_409_uniqueness_on_create_and_on_rename(gw: Gateway) -> None:
    new_group(gw, "taken")
    other = new_group(gw, "other")

    resp = gw.post("/Groups", {"schemas": [GROUP_SCHEMA], "displayName": "taken"})
    assert_scim_error(resp, 409, "uniqueness")

    resp = gw.patch(f"/Groups/{other}", ops(rename_to("taken")))
    assert_scim_error(resp, 409, "uniqueness")
    assert gw.entry(group_dn(gw, "other"), "entryUUID") == {"entryuuid": [other]}
    assert len(gw.children(gw.groups)) == 2


# ---------------------------------------------------------------------------- cost


def round_trips(caplog: pytest.LogCaptureFixture, call) -> int:
    """LDAP operations one request needed, from the access log line (``ldap_ops=N``)."""
    return ldap_ops(caplog, call)[0]


def test_group_requests_need_as_many_round_trips_for_thirty_members_as_for_one(
    gw: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    users = [new_user(gw, f"u{i:02d}") for i in range(32)]
    small = new_group(gw, "small", members=users[:1])
    large = new_group(gw, "large", members=users[:30])

    def costs(gid: str) -> dict[str, int]:
        return {
            "get-excluded": round_trips(
                caplog,
                lambda: gw.get(f"/Groups/{gid}", query_string={"excludedAttributes": "members"}),
            ),
            "get-full": round_trips(caplog, lambda: gw.get(f"/Groups/{gid}")),
            "add": round_trips(
                caplog, lambda: gw.patch(f"/Groups/{gid}", ops(add_members(users[31])))
            ),
            "remove": round_trips(
                caplog, lambda: gw.patch(f"/Groups/{gid}", ops(remove_members(users[31])))
            ),
        }

    gw.get(f"/Groups/{small}")  # warm-up: the root DSE's controls are read once per process
    small_costs, large_costs = costs(small), costs(large)
    assert small_costs == large_costs
    # the group, with its members' ids and classes dereferenced by the server in the same
    # search (slapo-deref); add: lookup + modify + the check that the added member still
    # exists under that name (Membership.settle); remove: lookup + modify
    assert small_costs == {"get-excluded": 1, "get-full": 1, "add": 3, "remove": 2}
