"""Property-based injection tests: values built from the characters that break DNs and filters.

Hostile userNames and displayNames (``* ( ) \\ NUL , + = " < > ; #``, spaces at the ends,
non-ASCII) either round-trip exactly — stored as sent, under exactly the right parent, found
by an ``eq`` filter and by nothing else — or are refused with a clean 400. Filter values
from the same alphabet select exactly what Python's own comparison selects. And no entry
ever appears anywhere in the directory outside the test's subtree.

The directory is read with ldap3 directly (filters escaped by ldap3, one-level searches
under the expected parent), so the checks do not trust the gateway's own DN code.
"""

from __future__ import annotations

import json
import os
import unicodedata
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from ldap3.utils.conv import escape_filter_chars
from support.gateway import Gateway
from support.slapd import Slapd

from gateway.directory.dn import normalize

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SPECIALS = [*'*()\\,+="<>;#', "\x00"]
SAFE = [*"abZ09.-_@", "é", "ß", "Ω", "名", "😀"]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "0")) or None


def injection_settings(examples: int):
    return settings(
        max_examples=EXAMPLES or examples,
        deadline=None,
        derandomize=not os.environ.get("FUZZ_RANDOM"),
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


core = st.text(alphabet=st.sampled_from(SPECIALS + SAFE + [" "]), min_size=1, max_size=16)
hostile_names = st.builds(
    lambda before, text, after: before + text + after,
    st.sampled_from(["", "", " ", "  ", "#", " #"]),
    core,
    st.sampled_from(["", "", " ", "  ", "\\"]),
)
"""Mostly specials and non-ASCII, spaces and '#' where RFC 4514 treats them specially."""


def quoted(value: str) -> str:
    """A SCIM filter compValue: a JSON string (RFC 7644 §3.4.2.2)."""
    return json.dumps(value, ensure_ascii=False)


def ldap_entries(gw: Gateway, base: str, attr: str, value: str, *attrs: str) -> list[dict]:
    """Entries directly below ``base`` whose ``attr`` equals ``value`` (ldap3's escaping)."""
    flt = f"({attr}={ldap_assertion(value)})"
    gw.ldap.search(base, flt, "LEVEL", attributes=list(attrs) or ["1.1"])
    assert gw.ldap.result["result"] == 0, gw.ldap.result
    return [e for e in gw.ldap.response if e.get("type") == "searchResEntry"]


def ldap_assertion(value: str) -> str:
    """The value escaped for an LDAP filter, spaces at the ends too (ldap3 strips raw ones)."""
    text = escape_filter_chars(value)
    core = text.strip(" ")
    lead = len(text) - len(text.lstrip(" "))
    trail = len(text) - len(text.rstrip(" ")) if core else 0
    return "\\20" * lead + core + "\\20" * trail


def suffix_dns(gw: Gateway, suffix: str) -> set[str]:
    gw.ldap.search(suffix, "(objectClass=*)", "SUBTREE", attributes=["1.1"])
    return {normalize(e["dn"]) for e in gw.ldap.response if e.get("type") == "searchResEntry"}


@pytest.fixture
def contained(gw: Gateway, slapd: Slapd) -> Iterator[Gateway]:
    """The gateway; afterwards, no new entry may exist outside this test's subtree."""
    subtree = normalize(gw.people.split(",", 1)[1])
    before = suffix_dns(gw, slapd.suffix)
    yield gw
    appeared = suffix_dns(gw, slapd.suffix) - before
    outside = sorted(dn for dn in appeared if not (dn == subtree or dn.endswith("," + subtree)))
    assert not outside, f"entries created outside the test's subtree: {outside}"


def assert_clean_400(resp, value: str) -> None:
    assert resp.status_code == 400, (value, resp.status_code, resp.get_json())
    body = resp.get_json()
    assert body["status"] == "400" and body.get("scimType") in ("invalidValue", "invalidSyntax")


def only_spaces(value: str) -> bool:
    """RFC 4518 matching ignores these spaces: '  ' equals ' ', and an eq filter for such a
    value is broken (see test_a_value_of_only_spaces_is_found_by_eq), so it is not searched
    by filter; storing it or refusing it are both fine."""
    return not value.strip(" ")


@injection_settings(120)
@given(name=hostile_names, display=hostile_names)
def test_hostile_usernames_round_trip_exactly_or_are_refused(
    contained: Gateway, name: str, display: str
) -> None:
    gw = contained
    resp = gw.post("/Users", {"userName": name, "displayName": display, "externalId": name})
    if "\x00" in name + display or resp.status_code == 400:  # clean, and nothing written
        assert_clean_400(resp, name)
        assert gw.children(gw.people) == []
        return
    assert resp.status_code == 201, (name, resp.get_json())
    user = resp.get_json()
    try:
        assert user["userName"] == name and user["displayName"] == display
        shown = gw.get(f"/Users/{user['id']}").get_json()
        assert (shown["userName"], shown["displayName"], shown["externalId"]) == (
            name,
            display,
            name,
        )
        stored = ldap_entries(gw, gw.people, "uid", name, "uid", "entryUUID", "displayName")
        assert len(stored) == 1, stored
        assert stored[0]["raw_attributes"]["uid"] == [name.encode("utf-8")]
        assert stored[0]["raw_attributes"]["displayName"] == [display.encode("utf-8")]
        assert [str(v) for v in stored[0]["attributes"]["entryUUID"]] == [user["id"]]
        for attr in ("userName", "externalId"):
            if only_spaces(name):
                break
            found = gw.get("/Users", query_string={"filter": f"{attr} eq {quoted(name)}"})
            assert [r["id"] for r in found.get_json()["Resources"]] == [user["id"]], attr
        if not only_spaces(display):
            flt = f"displayName eq {quoted(display)}"
            found = gw.get("/Users", query_string={"filter": flt}).get_json()
            assert [r["id"] for r in found["Resources"]] == [user["id"]]
    finally:
        assert gw.delete(f"/Users/{user['id']}").status_code == 204
    assert gw.children(gw.people) == []


@injection_settings(60)
@given(first=hostile_names, second=hostile_names)
def test_renaming_to_a_hostile_username_moves_the_entry_exactly(
    contained: Gateway, first: str, second: str
) -> None:
    gw = contained
    assume("\x00" not in first)
    assume(first.strip(" ").casefold() != second.strip(" ").casefold())
    created = gw.post("/Users", {"userName": first})
    assume(created.status_code == 201)
    uid = created.get_json()["id"]
    try:
        body = {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": "userName", "value": second}],
        }
        resp = gw.patch(f"/Users/{uid}", body)
        if "\x00" in second or resp.status_code == 400:
            assert_clean_400(resp, second)
            assert len(ldap_entries(gw, gw.people, "uid", first)) == 1
            return
        assert resp.status_code == 200, (second, resp.get_json())
        assert gw.get(f"/Users/{uid}").get_json()["userName"] == second
        moved = ldap_entries(gw, gw.people, "uid", second, "uid", "entryUUID")
        assert [e["raw_attributes"]["uid"] for e in moved] == [[second.encode("utf-8")]]
        assert [str(v) for v in moved[0]["attributes"]["entryUUID"]] == [uid]
        assert ldap_entries(gw, gw.people, "uid", first) == []
    finally:
        assert gw.delete(f"/Users/{uid}").status_code == 204


@injection_settings(80)
@given(name=hostile_names)
def test_hostile_group_names_round_trip_exactly_or_are_refused(
    contained: Gateway, name: str
) -> None:
    gw = contained
    resp = gw.post("/Groups", {"displayName": name, "externalId": name})
    if "\x00" in name or resp.status_code == 400:
        assert_clean_400(resp, name)
        assert gw.children(gw.groups) == []
        return
    assert resp.status_code == 201, (name, resp.get_json())
    group = resp.get_json()
    try:
        assert gw.get(f"/Groups/{group['id']}").get_json()["displayName"] == name
        stored = ldap_entries(gw, gw.groups, "cn", name, "cn", "entryUUID")
        assert [e["raw_attributes"]["cn"] for e in stored] == [[name.encode("utf-8")]]
        for attr in ("displayName", "externalId"):
            if only_spaces(name):
                break
            found = gw.get("/Groups", query_string={"filter": f"{attr} eq {quoted(name)}"})
            assert [r["id"] for r in found.get_json()["Resources"]] == [group["id"]], attr
    finally:
        assert gw.delete(f"/Groups/{group['id']}").status_code == 204


@pytest.mark.parametrize(
    "name", ["alice_contoso.com#EXT#@fabrikam.onmicrosoft.com", "x#y", "名#", " #x", "b\\#"]
)
def test_users_named_with_a_hash_inside_can_be_updated_and_renamed(
    contained: Gateway, name: str
) -> None:
    gw = contained
    created = gw.post("/Users", {"userName": name})
    assert created.status_code == 201, created.get_json()
    uid = created.get_json()["id"]
    title = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": "title", "value": "t"}],
    }
    assert gw.patch(f"/Users/{uid}", title).status_code == 200
    assert gw.put(f"/Users/{uid}", {"userName": name, "title": "u"}).status_code == 200
    group = gw.post("/Groups", {"displayName": "guests", "members": [{"value": uid}]})
    assert group.status_code == 201, group.get_json()
    rename = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": "userName", "value": name + "2"}],
    }
    assert gw.patch(f"/Users/{uid}", rename).status_code == 200
    members = gw.get(f"/Groups/{group.get_json()['id']}").get_json()["members"]
    assert [m["value"] for m in members] == [uid]


def test_a_value_of_only_spaces_is_found_by_eq(contained: Gateway) -> None:
    gw = contained
    user = gw.post("/Users", {"userName": "spacey", "displayName": " "}).get_json()
    assert gw.get(f"/Users/{user['id']}").get_json()["displayName"] == " "
    found = gw.get("/Users", query_string={"filter": 'displayName eq " "'}).get_json()
    assert [r["id"] for r in found["Resources"]] == [user["id"]]


# ---------------------------------------------------------------- filter values as an oracle

DECOYS = [
    "plain",
    "star*name",
    "*",
    "paren(x)",
    "x)(uid=*",
    "back\\slash",
    "comma,plus+eq=",
    'quote"semi;<>',
    "#hash",
    "Jürgen",
    "名前",
    "a*b",
    "axb",
]
"""Space-free, and case-folding is plain for every one: LDAP (RFC 4518 string preparation)
and Python then agree on what matches, so Python can say what each filter must return."""

filter_values = st.text(alphabet=st.sampled_from(SPECIALS + list("abxplnmeuidJü名*")), max_size=8)


@pytest.fixture
def decoys(contained: Gateway) -> tuple[Gateway, dict[str, str]]:
    ids = {}
    for name in DECOYS:
        resp = contained.post("/Users", {"userName": name})
        assert resp.status_code == 201, (name, resp.get_json())
        ids[name] = resp.get_json()["id"]
    return contained, ids


def expected(op: str, value: str) -> set[str]:
    v = unicodedata.normalize("NFKC", value).casefold()
    tests = {
        "eq": lambda n: n == v,
        "ne": lambda n: n != v,
        "sw": lambda n: n.startswith(v),
        "ew": lambda n: n.endswith(v),
        "co": lambda n: v in n,
    }
    return {d for d in DECOYS if tests[op](unicodedata.normalize("NFKC", d).casefold())}


@injection_settings(150)
@given(
    op=st.sampled_from(["eq", "ne", "sw", "ew", "co"]),
    value=filter_values | st.sampled_from(DECOYS),
)
def test_filter_values_select_exactly_what_they_say(
    decoys: tuple[Gateway, dict[str, str]], op: str, value: str
) -> None:
    gw, ids = decoys
    resp = gw.get(
        "/Users", query_string={"filter": f"userName {op} {quoted(value)}", "count": "100"}
    )
    if "\x00" in value:  # a NUL can match nothing stored; refusing it is fine too
        assert resp.status_code in (200, 400), resp.get_json()
        if resp.status_code == 200:
            assert resp.get_json()["Resources"] == [] or op == "ne"
        return
    if value == "" and op == "ne":
        return  # see test_ne_with_an_empty_string_finds_every_user_that_has_the_attribute
    if value == "" and op in ("sw", "ew", "co"):
        assert resp.status_code in (200, 400), resp.get_json()
        if resp.status_code == 400:
            return
    assert resp.status_code == 200, (value, resp.get_json())
    got = {r["userName"] for r in resp.get_json()["Resources"]}
    assert got == expected(op, value), (op, value)
    assert {r["id"] for r in resp.get_json()["Resources"]} == {ids[n] for n in got}


def test_ne_with_an_empty_string_finds_every_user_that_has_the_attribute(
    decoys: tuple[Gateway, dict[str, str]],
) -> None:
    gw, ids = decoys
    found = gw.get("/Users", query_string={"filter": 'userName ne ""', "count": "100"}).get_json()
    assert {r["id"] for r in found["Resources"]} == set(ids.values())
