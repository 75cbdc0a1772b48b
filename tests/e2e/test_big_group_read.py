"""A big group's full GET (issue 17): every member, nothing else, in one LDAP round trip.

The group holds 3,000 users written straight into the directory (as a bulk load would), and
beside them the members that must not be read as the 3,000 are: a user whose name needs DN
escaping, a nested group, an entry in ``ou=People`` that is not a person, a person outside
``ou=People``, a value naming nothing, and the placeholder. Members' ids come with the group
through slapd's dereference control, decoded by comparing bytes with results already read
(``deref.deref_response``) and classified once per parent and classes
(``References.linked_refs``): these tests hold both to what the directory holds.
"""

from __future__ import annotations

from typing import Any

import pytest
from ldap3 import SUBTREE
from support.gateway import SCIM, Gateway, ldap_ops

from gateway.provisioning.reads import Reader
from gateway.web import stream

GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PLACEHOLDER = "cn=empty-membership-placeholder,dc=example,dc=org"
SIZE = 3000


def _one(value: Any) -> str:
    return str(value[0] if isinstance(value, list) else value)


def _ids_by_uid(gw: Gateway) -> dict[str, str]:
    found = gw.ldap.extend.standard.paged_search(
        gw.people,
        "(objectClass=inetOrgPerson)",
        SUBTREE,
        attributes=["uid", "entryUUID"],
        paged_size=500,
        generator=False,
    )
    return {
        _one(r["attributes"]["uid"]): _one(r["attributes"]["entryUUID"])
        for r in found
        if r.get("type") == "searchResEntry"
    }


@pytest.fixture
def big_group(gw: Gateway) -> tuple[str, dict[str, str]]:
    """A group of SIZE plain users and the odd members; returns its id and the expected
    members (id → type)."""
    for i in range(SIZE):
        uid = f"m{i:05d}"
        ok = gw.ldap.add(f"uid={uid},{gw.people}", ["inetOrgPerson"], {"sn": uid, "cn": uid})
        assert ok, gw.ldap.result
    escaped = gw.post("/Users", {"userName": "o'neil, jr + co"})
    assert escaped.status_code == 201, escaped.get_json()
    nested = gw.post("/Groups", {"schemas": [GROUP_SCHEMA], "displayName": "nested"})
    assert nested.status_code == 201, nested.get_json()
    top = gw.people.split(",", 1)[1]
    outsider, odd = f"uid=outsider,{top}", f"cn=odd,{gw.people}"
    assert gw.ldap.add(outsider, ["inetOrgPerson"], {"sn": "O", "cn": "O"}), gw.ldap.result
    assert gw.ldap.add(odd, ["groupOfNames"], {"cn": "odd", "member": [PLACEHOLDER]})
    ids = _ids_by_uid(gw)
    members = [f"uid=m{i:05d},{gw.people}" for i in range(SIZE)]
    members += [
        f"uid=o'neil\\2C jr \\2B co,{gw.people}",
        f"cn=nested,{gw.groups}",
        outsider,
        odd,
        f"uid=ghost,{gw.people}",  # names nothing
        PLACEHOLDER,
    ]
    dn = f"cn=big,{gw.groups}"
    assert gw.ldap.add(dn, ["groupOfNames"], {"cn": "big", "member": members}), gw.ldap.result
    gw.ldap.search(dn, "(objectClass=*)", "BASE", attributes=["entryUUID"])
    gid = _one(gw.ldap.response[0]["attributes"]["entryUUID"])
    # warm-up: the root DSE's controls are read once per process (one more round trip)
    assert gw.get(f"/Groups/{nested.get_json()['id']}").status_code == 200
    expected = {ids[f"m{i:05d}"]: "User" for i in range(SIZE)}
    expected[escaped.get_json()["id"]] = "User"
    expected[nested.get_json()["id"]] = "Group"
    return gid, expected


def _members(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    members = body.get("members", [])
    by_id = {m["value"]: m for m in members}
    assert len(by_id) == len(members), "a member listed twice"
    return by_id


def test_full_get_of_a_big_group_lists_exactly_its_members_in_one_round_trip(
    gw: Gateway, big_group: tuple[str, dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    gid, expected = big_group
    trips, body = ldap_ops(caplog, lambda: gw.get(f"/Groups/{gid}"))
    assert trips == 1
    members = _members(body)
    assert {i: m["type"] for i, m in members.items()} == expected
    for ident, member in members.items():
        endpoint = "Users" if expected[ident] == "User" else "Groups"
        assert member["$ref"] == f"http://localhost/scim/v2/{endpoint}/{ident}"
        assert set(member) == {"value", "$ref", "type"}
    assert body["displayName"] == "big" and body["id"] == gid
    # the wire: SCIM JSON (parsed whole above), with the version as ETag, 304 when unchanged
    resp = gw.get(f"/Groups/{gid}")
    assert resp.mimetype == SCIM and resp.mimetype_params.get("charset") == "utf-8"
    assert resp.headers["ETag"] == body["meta"]["version"] == resp.get_json()["meta"]["version"]
    again = gw.get(f"/Groups/{gid}", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""


def test_projections_of_a_big_group_are_honoured_in_one_round_trip(
    gw: Gateway, big_group: tuple[str, dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    gid, expected = big_group
    trips, body = ldap_ops(
        caplog, lambda: gw.get(f"/Groups/{gid}", query_string={"attributes": "members.value"})
    )
    assert trips == 1
    assert sorted(m["value"] for m in body["members"]) == sorted(expected)
    assert all(set(m) == {"value"} for m in body["members"])
    assert "displayName" not in body and body["id"] == gid

    trips, body = ldap_ops(
        caplog, lambda: gw.get(f"/Groups/{gid}", query_string={"excludedAttributes": "members"})
    )
    assert trips == 1
    assert "members" not in body and body["displayName"] == "big"

    trips, body = ldap_ops(
        caplog, lambda: gw.get(f"/Groups/{gid}", query_string={"attributes": "displayName"})
    )
    assert trips == 1
    assert "members" not in body and body["displayName"] == "big"


def _whole_and_streamed(
    gw: Gateway, gid: str, monkeypatch: pytest.MonkeyPatch, query: dict[str, str]
) -> tuple[Any, Any]:
    """The same GET rendered whole (streaming off) and streamed (gateway.web.stream)."""
    with monkeypatch.context() as patched:
        patched.setattr(stream, "MIN_MEMBERS", 10**9)
        whole = gw.get(f"/Groups/{gid}", query_string=query)
    streamed = gw.get(f"/Groups/{gid}", query_string=query)
    return whole, streamed


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"attributes": "members.value"},
        {"excludedAttributes": "members.type,displayName"},
        {"attributes": "members.display"},  # no member has one: no "members" at all
    ],
)
def test_a_streamed_big_group_is_the_whole_body_byte_for_byte(
    gw: Gateway,
    big_group: tuple[str, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    query: dict[str, str],
) -> None:
    gid, expected = big_group
    whole, streamed = _whole_and_streamed(gw, gid, monkeypatch, query)
    assert whole.status_code == streamed.status_code == 200
    assert whole.headers["Content-Length"] == str(len(whole.get_data()))
    assert "Content-Length" not in streamed.headers  # sent as it is rendered
    assert streamed.get_data() == whole.get_data()
    assert streamed.headers["ETag"] == whole.headers["ETag"]
    assert streamed.mimetype == SCIM
    body = streamed.get_json()
    if "attributes" in query and query["attributes"] == "members.display":
        assert "members" not in body and body["id"] == gid
    else:
        assert sorted(m["value"] for m in body["members"]) == sorted(expected)


def test_without_the_control_answering_the_member_values_are_read_in_one_more_search(
    gw: Gateway,
    big_group: tuple[str, dict[str, str]],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The group's member values are not asked for when the control brings each member's
    DN; if it brings nothing (the overlay not on this database), they are read then."""
    gid, expected = big_group
    # the control not sent, as if the server had ignored it: the entry comes back with
    # neither its member values (not asked for) nor dereferenced members
    monkeypatch.setattr(Reader, "_deref", lambda self, *, members: ())
    trips, body = ldap_ops(caplog, lambda: gw.get(f"/Groups/{gid}"))
    assert trips >= 2  # the group, its member values, then the members' ids
    assert {m["value"]: m["type"] for m in body["members"]} == expected
