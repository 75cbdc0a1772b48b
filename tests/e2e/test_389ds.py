"""The core of the e2e suite against a real 389 Directory Server, with mappings/389ds.yaml as
shipped (base DNs moved into each test's subtree).

The instance (tests/support/ds389.py) is created once per run by ``dscreate`` in a temp dir;
its plugins are left as a fresh install has them (entryUUID on; memberOf, referential integrity
and USN off), which is what the mapping assumes. What differs from slapd and why the gateway
still works is in docs/389ds.md; the tests here pin those differences.

Request helpers and request bodies come from the slapd tests (test_groups, test_filters, the
Entra and Okta samples), so both directories answer the same requests.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from ldap3 import NONE, Connection, Server
from scim2_client.engines.wsgi import WSGISCIMClient
from scim2_tester import check_server
from scim2_tester.utils import Status
from support.ds389 import Ds389, ServerCert, ds389_installed
from support.gateway import Gateway

from e2e import test_errors, test_groups
from e2e import test_hostile_values as hostile
from e2e.conftest import ROOT, TOKEN, isolated_mapping, make_subtree, settings_for
from e2e.test_directory_connections import make_certs
from e2e.test_filters import CASES, PEOPLE
from e2e.test_groups import (
    add_members,
    assert_scim_error,
    group_dn,
    group_filter,
    member_ids,
    new_group,
    new_user,
    ops,
    patch_group,
    remove_member_by_filter,
    remove_members,
    rename_to,
    user_dn,
)
from e2e.test_groups import sample as entra_sample
from e2e.test_mapping_check import check
from e2e.test_okta import sample as okta_sample
from gateway.app import create_app

MAPPING = ROOT / "mappings" / "389ds.yaml"
SHIPPED_PEOPLE = "ou=people,dc=example,dc=com"
SHIPPED_GROUPS = "ou=groups,dc=example,dc=com"

# Where 389 DS answers a filter differently from slapd, and why.
DIFFERENT = {
    # 389 DS orders values of attributes without an ORDERING rule by their syntax (uid is a
    # Directory String); slapd finds the ordering Undefined and matches nothing.
    'userName gt "b"': {"bob", "carol*"},
}


@pytest.fixture(scope="module")
def ds389(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ds389]:
    """One instance for this module, with StartTLS (389 DS takes passwords only over TLS);
    its run dir (dse.ldif, logs, dscreate output) is kept."""
    if not ds389_installed():
        message = "389 Directory Server is not installed: apt-get install 389-ds-base"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    where = tmp_path_factory.mktemp("ds389")
    certs = where / "certs"
    certs.mkdir()
    server = Ds389(where, tls=ServerCert(*make_certs(certs)))
    server.start()
    try:
        conn = server.admin_connection()
        for ou in (SHIPPED_PEOPLE, SHIPPED_GROUPS):  # the layout the mapping names, as shipped
            assert conn.add(ou, ["top", "organizationalUnit"]), conn.result
        conn.unbind()
        yield server
    finally:
        server.stop()


@pytest.fixture
def ds_admin(ds389: Ds389) -> Iterator[Connection]:
    conn = ds389.admin_connection()
    try:
        yield conn
    finally:
        conn.unbind()


def mapping_in(tmp_path: Path, people: str, groups: str) -> Path:
    moved = {SHIPPED_PEOPLE: people, SHIPPED_GROUPS: groups}
    return isolated_mapping(tmp_path, people, groups, MAPPING, extra=moved)


@contextmanager
def gateway_over(
    ds389: Ds389, admin: Connection, tmp_path: Path, *, plain: bool = False, **settings: Any
) -> Iterator[Gateway]:
    """The app over 389 DS with the shipped mapping, in a subtree of its own, connecting with
    StartTLS unless ``plain`` (``settings``: more Settings overrides). Ds389 has the url,
    admin_dn and admin_password settings_for reads."""
    people, groups = make_subtree(admin, ds389.suffix)
    if not plain:
        assert ds389.tls is not None
        settings = {"ldap_start_tls": True, "ldap_ca_file": ds389.tls.ca, **settings}
    app = create_app(settings_for(ds389, mapping_in(tmp_path, people, groups), **settings))
    app.testing = True
    try:
        yield Gateway(
            app.test_client(), admin, people, groups, {"Authorization": f"Bearer {TOKEN}"}
        )
    finally:
        app.extensions["scim"].pool.close_all()


@pytest.fixture
def gw(ds389: Ds389, ds_admin: Connection, tmp_path: Path) -> Iterator[Gateway]:
    with gateway_over(ds389, ds_admin, tmp_path) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def people(ds389: Ds389, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """test_filters' PEOPLE, created once for the whole filter table."""
    admin = ds389.admin_connection()
    try:
        with gateway_over(ds389, admin, tmp_path_factory.mktemp("people")) as gateway:
            for person in PEOPLE:
                assert gateway.post("/Users", person).status_code == 201
            yield gateway
    finally:
        admin.unbind()


def unique_members(gw: Gateway, dn: str) -> set[str]:
    entry = gw.entry(dn, "uniqueMember")
    assert entry is not None, f"no entry at {dn}"
    return {v.lower() for v in entry.get("uniquemember", [])}


def dns(*values: str) -> set[str]:
    return {v.lower() for v in values}


def user_names(gw: Gateway, **query: Any) -> list[str]:
    resp = gw.get("/Users", query_string=query)
    assert resp.status_code == 200, resp.get_json()
    return [r["userName"] for r in resp.get_json()["Resources"]]


def can_bind(ds389: Ds389, dn: str, password: str) -> bool:
    conn = Connection(Server(ds389.url, get_info=NONE), user=dn, password=password)
    try:
        return bool(conn.bind())
    finally:
        conn.unbind()


# ---------------------------------------------------------------------------- the directory


def test_the_instance_is_a_389_directory_server_with_entryuuid(ds389: Ds389) -> None:
    conn = ds389.admin_connection()
    try:
        conn.search("", "(objectClass=*)", "BASE", attributes=["vendorName", "vendorVersion"])
        root_dse = conn.response[0]["attributes"]
        conn.search(SHIPPED_PEOPLE, "(objectClass=*)", "BASE", attributes=["entryUUID"])
        added = conn.response[0]["attributes"]
    finally:
        conn.unbind()
    assert "389" in str(root_dse["vendorName"]) + str(root_dse["vendorVersion"])
    assert added["entryUUID"], "the entryUUID plugin is off: SCIM ids need it"


def test_mapping_check_passes_against_389ds(
    ds389: Ds389, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    password = tmp_path / "pw"
    password.write_text(ds389.admin_password, encoding="utf-8")
    args = ["--ldap-url", ds389.url, "--bind-dn", ds389.admin_dn]
    code, out, err = check(capsys, str(MAPPING), *args, "--bind-password-file", str(password))
    assert code == 0, out + err
    assert "OK (User, Group) against ldap://" in out


def test_scim2_tester_passes_with_zero_failures_on_389ds(gw: Gateway) -> None:
    """The public conformance suite (as tests/e2e/test_conformance.py runs it on slapd)."""
    client = WSGISCIMClient(
        gw.client.application, base_url="http://localhost/scim/v2", headers=gw.headers
    )
    results = check_server(client)
    failures = [
        f"{r.status.name} {r.title}: {r.reason}"
        for r in results
        if r.status not in (Status.SUCCESS, Status.SKIPPED)
    ]
    assert sum(r.status is Status.SUCCESS for r in results) > 50
    assert not failures, "\n".join(failures)


# slapd's e2e tests that hold unchanged on 389 DS: the same functions, this module's ``gw``
SHARED = {
    "duplicate userName": test_errors.test_duplicate_username_is_409_uniqueness,
    "duplicate displayName": (
        test_groups.test_duplicate_display_name_is_409_uniqueness_on_create_and_on_rename
    ),
    "bad bodies": test_errors.test_bad_bodies_are_400_and_write_nothing,
    "unknown id": test_errors.test_unknown_id_and_unknown_route_are_404,
    "escaped wildcards": hostile.test_substring_filters_escape_wildcards,
    "never outside the base": hostile.test_entry_is_never_created_outside_its_base,
}


@pytest.mark.parametrize("shared", SHARED.values(), ids=SHARED.keys())
def test_slapd_e2e_test_holds_on_389ds(gw: Gateway, shared: Callable[[Gateway], None]) -> None:
    shared(gw)


@pytest.mark.parametrize("name", [n for n in hostile.HOSTILE_NAMES if n.isascii()])
def test_hostile_username_round_trips_and_is_found_exactly(gw: Gateway, name: str) -> None:
    hostile.test_hostile_username_round_trips_and_is_found_exactly(gw, name)


@pytest.mark.parametrize("name", [n for n in hostile.HOSTILE_NAMES if not n.isascii()])
def test_non_ascii_username_is_refused_by_the_7_bit_check_and_writes_nothing(
    gw: Gateway, name: str
) -> None:
    """389 DS's 7-bit check plugin (on by default) refuses non-ASCII uid and mail values
    (constraintViolation): a clean 400, nothing stored. On slapd these round-trip."""
    resp = gw.post("/Users", {"userName": name})
    assert_scim_error(resp, 400, "invalidValue")
    assert gw.children(gw.people) == []
    resp = gw.post("/Users", {"userName": "ascii", "displayName": name})  # not checked
    assert resp.status_code == 201 and resp.get_json()["displayName"] == name


# ---------------------------------------------------------------------------- users


def test_user_lifecycle_with_entra_requests(gw: Gateway, ds389: Ds389) -> None:
    create = entra_sample("create-user.json")
    user_name = create["userName"]
    assert user_names(gw, filter=f'userName eq "{user_name}"') == []

    # create: the id is 389's entryUUID; enabled is stored as nsAccountLock: FALSE
    resp = gw.post("/Users", create)
    assert resp.status_code == 201, resp.get_json()
    user = resp.get_json()
    uid = user["id"]
    assert resp.headers["Location"].endswith(f"/scim/v2/Users/{uid}")
    assert user["active"] is True and user["userName"] == user_name
    dn = user_dn(gw, user_name)
    entry = gw.entry(dn, "*", "entryUUID", "nsAccountLock")
    assert entry is not None and entry["entryuuid"] == [uid]
    assert entry["mail"] == [create["emails"][0]["value"]]
    assert entry["businesscategory"] == [create["externalId"]]
    assert entry["sn"] == ["familyName"] and entry["cn"] == ["givenName familyName"]
    assert entry["nsaccountlock"] == ["FALSE"]
    assert gw.get(f"/Users/{uid}").get_json()["userName"] == user_name
    for flt in (
        f'userName eq "{user_name}"',
        f'externalId eq "{create["externalId"]}"',
        f'id eq "{uid}"',
    ):
        assert user_names(gw, filter=flt) == [user_name], flt

    # PATCH (Entra's multi-operation sample)
    resp = gw.patch(f"/Users/{uid}", entra_sample("patch-user-multi.json"))
    assert resp.status_code == 200, resp.get_json()
    assert gw.entry(dn, "mail", "sn") == {
        "mail": ["updatedEmail@microsoft.com"],
        "sn": ["updatedFamilyName"],
    }

    # disable: nsAccountLock TRUE, and 389 DS then refuses the user's binds
    assert gw.ldap.modify(dn, {"userPassword": [("MODIFY_REPLACE", ["s3cret-pw"])]})
    assert can_bind(ds389, dn, "s3cret-pw")
    resp = gw.patch(f"/Users/{uid}", entra_sample("patch-user-disable.json"))
    assert resp.status_code == 200 and resp.get_json()["active"] is False, resp.get_json()
    assert gw.entry(dn, "nsAccountLock") == {"nsaccountlock": ["TRUE"]}
    assert not can_bind(ds389, dn, "s3cret-pw")
    assert gw.get(f"/Users/{uid}").get_json()["active"] is False
    assert user_names(gw, filter="active eq false") == [user_name]
    assert user_names(gw, filter=f'active eq true and userName eq "{user_name}"') == []

    # enable
    resp = gw.patch(f"/Users/{uid}", entra_sample("patch-user-enable.json"))
    assert resp.status_code == 200 and resp.get_json()["active"] is True, resp.get_json()
    assert gw.entry(dn, "nsAccountLock") == {"nsaccountlock": ["FALSE"]}
    assert can_bind(ds389, dn, "s3cret-pw")
    assert user_names(gw, filter="active eq true") == [user_name]

    # rename: modify DN, same id
    rename = entra_sample("patch-user-rename.json")
    new_name = rename["Operations"][0]["value"]
    resp = gw.patch(f"/Users/{uid}", rename)
    assert resp.status_code == 200 and resp.get_json()["id"] == uid, resp.get_json()
    assert gw.entry(dn) is None
    dn = user_dn(gw, new_name)
    assert gw.entry(dn, "entryUUID") == {"entryuuid": [uid]}

    # delete, then 404
    assert gw.delete(f"/Users/{uid}").status_code == 204
    assert gw.entry(dn) is None
    assert_scim_error(gw.get(f"/Users/{uid}"), 404)


def okta_user() -> dict[str, Any]:
    """Okta's create sample without its password."""
    return {k: v for k, v in okta_sample("create-user.json").items() if k != "password"}


def test_a_password_is_set_over_starttls_and_the_user_can_bind(gw: Gateway, ds389: Ds389) -> None:
    created = okta_sample("create-user.json")
    resp = gw.post("/Users", created)
    assert resp.status_code == 201, resp.get_json()
    assert "password" not in resp.get_json()
    dn = user_dn(gw, created["userName"])
    assert can_bind(ds389, dn, created["password"])
    assert not can_bind(ds389, dn, "not-" + created["password"])


def test_a_password_over_plain_ldap_is_refused_and_nothing_is_created(
    ds389: Ds389, ds_admin: Connection, tmp_path: Path
) -> None:
    """389 DS takes the Password Modify operation (RFC 3062) only over TLS (result 13,
    confidentialityRequired): the user the create had added is removed again."""
    with gateway_over(ds389, ds_admin, tmp_path, plain=True) as gw:
        assert_scim_error(gw.post("/Users", okta_sample("create-user.json")), 503)
        assert gw.children(gw.people) == []
        assert gw.post("/Users", okta_user()).status_code == 201


def test_put_replaces_the_user_and_removes_what_it_leaves_out(gw: Gateway) -> None:
    user = gw.post("/Users", okta_user()).get_json()
    dn = user_dn(gw, user["userName"])
    assert gw.entry(dn, "displayName") == {"displayname": ["Test User"]}
    resp = gw.put(f"/Users/{user['id']}", okta_sample("replace-user.json", user["id"]))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["name"]["givenName"] == "Another"
    assert gw.entry(dn, "givenName", "displayName") == {
        "givenname": ["Another"],
        "displayname": ["Another User"],
    }
    resp = gw.put(f"/Users/{user['id']}", {"userName": user["userName"]})
    assert resp.status_code == 200, resp.get_json()
    assert gw.entry(dn, "givenName", "displayName", "mail") == {}


def test_manager_reference_is_stored_as_a_dn_and_read_back_as_an_id(gw: Gateway) -> None:
    boss, worker = new_user(gw, "boss"), new_user(gw, "worker")
    ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    body = ops({"op": "add", "path": f"{ext}:manager", "value": boss})
    assert gw.patch(f"/Users/{worker}", body).status_code == 200
    assert gw.entry(user_dn(gw, "worker"), "manager") == {"manager": [user_dn(gw, "boss")]}
    assert gw.get(f"/Users/{worker}").get_json()[ext]["manager"]["value"] == boss
    assert user_names(gw, filter=f'{ext}:manager eq "{boss}"') == ["worker"]


@pytest.mark.parametrize(("scim", "expected"), CASES, ids=[c[0] for c in CASES])
def test_filter_table_matches_on_389ds(people: Gateway, scim: str, expected: set[str]) -> None:
    resp = people.get("/Users", query_string={"filter": scim})
    assert resp.status_code == 200, resp.get_json()
    found = {r["userName"] for r in resp.get_json()["Resources"]}
    assert found == DIFFERENT.get(scim, expected)
    assert resp.get_json()["totalResults"] == len(found)


def test_pages_of_a_list_cover_every_user_once(
    ds389: Ds389, ds_admin: Connection, tmp_path: Path
) -> None:
    """startIndex/count over a list longer than one LDAP page (page_size=3, RFC 2696)."""
    with gateway_over(ds389, ds_admin, tmp_path, page_size=3) as gw:
        names = {f"paged{i}" for i in range(8)}
        for name in names:
            assert gw.post("/Users", {"userName": name}).status_code == 201
        seen: list[str] = []
        for start in (1, 4, 7):
            resp = gw.get("/Users", query_string={"startIndex": start, "count": 3})
            body = resp.get_json()
            assert resp.status_code == 200 and body["totalResults"] == 8, body
            assert body["startIndex"] == start and body["itemsPerPage"] == len(body["Resources"])
            seen += [r["userName"] for r in body["Resources"]]
        assert sorted(seen) == sorted(names)
        assert user_names(gw, count=0) == []
        assert len(user_names(gw, filter='userName sw "paged"')) == 8


def test_sort_by_user_name(gw: Gateway) -> None:
    for name in ("carol", "alice", "bob"):
        new_user(gw, name)
    assert user_names(gw, sortBy="userName") == ["alice", "bob", "carol"]
    assert user_names(gw, sortBy="userName", sortOrder="descending") == ["carol", "bob", "alice"]


# ---------------------------------------------------------------------------- ETags


def test_no_etag_without_entry_csn_and_if_match_fails_safe(gw: Gateway) -> None:
    """389 DS serves no entryCSN, so there is no meta.version: no ETag is sent, a specific
    If-Match tag cannot match (412, nothing written, RFC 7232 §3.1), ``*`` matches."""
    resp = gw.post("/Users", {"userName": "tagless", "title": "first"})
    user = resp.get_json()
    assert "ETag" not in resp.headers and "version" not in user["meta"]
    url = f"/scim/v2/Users/{user['id']}"
    body = ops({"op": "replace", "path": "title", "value": "second"})
    headers = {**gw._json(), "If-Match": 'W/"20260101000000.000000Z#000000#000#000000"'}
    resp = gw.client.patch(url, json=body, headers=headers)
    assert_scim_error(resp, 412)
    assert gw.client.delete(url, headers=headers).status_code == 412
    assert gw.entry(user_dn(gw, "tagless"), "title") == {"title": ["first"]}
    headers["If-Match"] = "*"
    assert gw.client.patch(url, json=body, headers=headers).status_code == 200
    assert gw.entry(user_dn(gw, "tagless"), "title") == {"title": ["second"]}
    resp = gw.get(f"/Users/{user['id']}", headers={"If-None-Match": "*"})
    assert resp.status_code in (200, 304)


def test_service_provider_config_does_not_claim_etags_it_never_sends(gw: Gateway) -> None:
    # mappings/389ds.yaml: directory.version_attribute: none (389 DS serves no entryCSN)
    assert gw.get("/ServiceProviderConfig").get_json()["etag"]["supported"] is False


# ---------------------------------------------------------------------------- groups


def test_group_lifecycle_with_entra_requests(gw: Gateway) -> None:
    alice, bob, carol = (new_user(gw, n) for n in ("alice", "bob", "carol"))
    create = entra_sample("create-group.json")
    name = create["displayName"]
    dn = group_dn(gw, name)

    # created empty: no uniqueMember at all (389 DS's groupOfUniqueNames may have none)
    resp = gw.post("/Groups", create)
    assert resp.status_code == 201, resp.get_json()
    gid = resp.get_json()["id"]
    assert resp.get_json()["members"] == []
    entry = gw.entry(dn, "objectClass", "entryUUID", "uniqueMember")
    assert entry is not None and entry["entryuuid"] == [gid]
    assert "groupOfUniqueNames" in entry["objectclass"] and "uniquemember" not in entry
    body = group_filter(gw, f'displayName eq "{name}"', excludedAttributes="members")
    assert [g["id"] for g in body["Resources"]] == [gid] and "members" not in body["Resources"][0]

    # add three, remove one each way (value list; members[value eq ...])
    patch_group(gw, gid, add_members(alice, bob, carol))
    everyone = dns(*(user_dn(gw, n) for n in ("alice", "bob", "carol")))
    assert unique_members(gw, dn) == everyone
    assert member_ids(gw, gid) == {alice, bob, carol}
    body = group_filter(gw, f'members.value eq "{bob}"')
    assert [g["id"] for g in body["Resources"]] == [gid]
    patch_group(gw, gid, remove_members(alice))
    patch_group(gw, gid, remove_member_by_filter(bob))
    assert unique_members(gw, dn) == dns(user_dn(gw, "carol"))
    assert member_ids(gw, gid) == {carol}

    # rename the group: same id, members kept
    patch_group(gw, gid, rename_to("renamedGroup"))
    dn = group_dn(gw, "renamedGroup")
    assert gw.entry(dn, "entryUUID") == {"entryuuid": [gid]}
    assert member_ids(gw, gid) == {carol}

    # remove the last member: the group stays, empty
    patch_group(gw, gid, remove_members(carol))
    assert unique_members(gw, dn) == set()
    assert gw.get(f"/Groups/{gid}").get_json()["members"] == []

    # replace the whole list, then delete
    patch_group(gw, gid, {"op": "replace", "path": "members", "value": [{"value": alice}]})
    assert member_ids(gw, gid) == {alice}
    assert gw.delete(f"/Groups/{gid}").status_code == 204
    assert gw.entry(dn) is None
    assert_scim_error(gw.get(f"/Groups/{gid}"), 404)
    assert gw.entry(user_dn(gw, "alice"), "uid") == {"uid": ["alice"]}


def test_put_and_create_with_members_and_a_nested_group(gw: Gateway) -> None:
    ann, ben = new_user(gw, "ann"), new_user(gw, "ben")
    inner = new_group(gw, "inner", members=[ann])
    outer = new_group(gw, "outer", members=[ben, inner])
    members = gw.get(f"/Groups/{outer}").get_json()["members"]
    assert {(m["value"], m["type"]) for m in members} == {(ben, "User"), (inner, "Group")}
    assert unique_members(gw, group_dn(gw, "outer")) == dns(
        user_dn(gw, "ben"), group_dn(gw, "inner")
    )
    resp = gw.put(f"/Groups/{outer}", {"displayName": "outer", "members": [{"value": ann}]})
    assert resp.status_code == 200, resp.get_json()
    assert member_ids(gw, outer) == {ann}


def test_deleting_or_renaming_a_user_keeps_group_members_right(gw: Gateway) -> None:
    """389 DS's referential integrity plugin is off by default: the gateway does it."""
    ann, ben = new_user(gw, "ann"), new_user(gw, "ben")
    gid = new_group(gw, "team", members=[ann, ben])
    resp = gw.patch(f"/Users/{ann}", ops({"op": "replace", "path": "userName", "value": "anna"}))
    assert resp.status_code == 200, resp.get_json()
    assert gw.delete(f"/Users/{ben}").status_code == 204
    assert unique_members(gw, group_dn(gw, "team")) == dns(user_dn(gw, "anna"))
    assert member_ids(gw, gid) == {ann}


def test_a_disabled_user_stays_a_member(gw: Gateway) -> None:
    uid = new_user(gw, "sleeper")
    gid = new_group(gw, "crew", members=[uid])
    resp = gw.patch(f"/Users/{uid}", entra_sample("patch-user-disable.json"))
    assert resp.status_code == 200 and resp.get_json()["active"] is False
    assert member_ids(gw, gid) == {uid}
    resp = gw.patch(f"/Users/{uid}", entra_sample("patch-user-enable.json"))
    assert resp.status_code == 200 and resp.get_json()["active"] is True
    assert member_ids(gw, gid) == {uid}


def test_removing_an_absent_member_succeeds_and_changes_nothing(gw: Gateway) -> None:
    ann, ben = new_user(gw, "ann"), new_user(gw, "ben")
    gid = new_group(gw, "steady", members=[ann])
    dn = group_dn(gw, "steady")
    before = gw.entry(dn, "*")
    patch_group(gw, gid, remove_members(ben))
    patch_group(gw, gid, remove_member_by_filter(ben))
    assert gw.entry(dn, "*") == before


def test_adding_a_present_member_succeeds_and_changes_nothing(gw: Gateway) -> None:
    ann = new_user(gw, "ann")
    gid = new_group(gw, "steady", members=[ann])
    dn = group_dn(gw, "steady")
    before = gw.entry(dn, "*")
    patch_group(gw, gid, add_members(ann))
    assert gw.entry(dn, "*") == before
