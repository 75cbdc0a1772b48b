"""Nested, empty and cyclic groups: GET, filters and the directory agree.

An empty group holds the mapping's placeholder member. Adding such a group to another used to
be answered 204 and stored in ``member``, yet the child got no ``memberOf`` and GET on the
parent did not list it, while ``filter=members.value eq`` found the parent: the write carried an
assertion about the parent that slapd's memberof overlay re-evaluated on each member entry.
A group may not be a member of itself (400 invalidValue); cycles through other groups are kept
and shown as stored.
"""

from __future__ import annotations

from urllib.parse import quote

from support.gateway import Gateway

from e2e.test_groups import add_members, group_dn, new_group, new_user, ops, user_dn
from gateway.directory.dn import normalize


def members(gw: Gateway, gid: str) -> set[str]:
    resp = gw.get(f"/Groups/{gid}")
    assert resp.status_code == 200, resp.get_json()
    return {m["value"] for m in resp.get_json().get("members", [])}


def parents_by_filter(gw: Gateway, member_id: str) -> set[str]:
    flt = quote(f'members.value eq "{member_id}"')
    resp = gw.get(f"/Groups?filter={flt}&excludedAttributes=members")
    assert resp.status_code == 200, resp.get_json()
    return {r["id"] for r in resp.get_json()["Resources"]}


def member_of(gw: Gateway, dn: str) -> set[str]:
    entry = gw.entry(dn, "memberOf") or {}
    return {normalize(v) for v in entry.get("memberof", [])}


def stored_members(gw: Gateway, dn: str) -> set[str]:
    entry = gw.entry(dn, "member") or {}
    return {normalize(v) for v in entry.get("member", [])}


def test_an_empty_group_added_to_a_group_is_listed_and_gets_member_of(gw: Gateway) -> None:
    ann = new_user(gw, "ann")
    parent = new_group(gw, "parent", [ann])
    child = new_group(gw, "child")  # empty: holds the placeholder

    resp = gw.patch(f"/Groups/{parent}", ops(add_members(child)))
    assert resp.status_code == 204, resp.get_json()

    assert members(gw, parent) == {ann, child}
    assert parents_by_filter(gw, child) == {parent}
    assert member_of(gw, group_dn(gw, "child")) == {normalize(group_dn(gw, "parent"))}
    assert stored_members(gw, group_dn(gw, "parent")) == {
        normalize(user_dn(gw, "ann")),
        normalize(group_dn(gw, "child")),
    }


def test_an_empty_group_added_to_an_empty_group_is_listed(gw: Gateway) -> None:
    outer = new_group(gw, "outer")
    inner = new_group(gw, "inner")
    assert gw.patch(f"/Groups/{outer}", ops(add_members(inner))).status_code == 204
    assert members(gw, outer) == {inner}
    assert parents_by_filter(gw, inner) == {outer}
    assert member_of(gw, group_dn(gw, "inner")) == {normalize(group_dn(gw, "outer"))}


def test_a_group_cannot_be_its_own_member_and_nothing_changes(gw: Gateway) -> None:
    ann = new_user(gw, "ann")
    group = new_group(gw, "selfish", [ann])
    before = stored_members(gw, group_dn(gw, "selfish"))

    resp = gw.patch(f"/Groups/{group}", ops(add_members(group)))
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["scimType"] == "invalidValue" and "itself" in body["detail"]
    assert stored_members(gw, group_dn(gw, "selfish")) == before

    put = gw.put(f"/Groups/{group}", {"displayName": "selfish", "members": [{"value": group}]})
    assert put.status_code == 400 and put.get_json()["scimType"] == "invalidValue"
    assert stored_members(gw, group_dn(gw, "selfish")) == before

    # later members are listed as usual (was: after A ∋ A, a later A ∋ B was not shown)
    ben = new_user(gw, "ben")
    assert gw.patch(f"/Groups/{group}", ops(add_members(ben))).status_code == 204
    assert members(gw, group) == {ann, ben}


def test_a_cycle_of_two_groups_is_stored_and_shown_from_both_sides(gw: Gateway) -> None:
    a = new_group(gw, "cycle-a")
    b = new_group(gw, "cycle-b")
    assert gw.patch(f"/Groups/{a}", ops(add_members(b))).status_code == 204
    assert gw.patch(f"/Groups/{b}", ops(add_members(a))).status_code == 204

    assert members(gw, a) == {b} and members(gw, b) == {a}
    assert parents_by_filter(gw, a) == {b} and parents_by_filter(gw, b) == {a}
    a_dn, b_dn = group_dn(gw, "cycle-a"), group_dn(gw, "cycle-b")
    assert stored_members(gw, a_dn) == {normalize(b_dn)}
    assert stored_members(gw, b_dn) == {normalize(a_dn)}

    # emptying one side keeps the other, and the placeholder comes back where it is needed
    remove = {"op": "remove", "path": f'members[value eq "{b}"]'}
    assert gw.patch(f"/Groups/{a}", ops(remove)).status_code == 204
    assert members(gw, a) == set() and members(gw, b) == {a}
    assert member_of(gw, b_dn) == set()
