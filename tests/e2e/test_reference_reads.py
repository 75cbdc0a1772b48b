"""A user's groups and manager come back with the user in one search (dereference control),
and the same answers, one search later, from a directory without that overlay.

The session slapd loads slapo-deref (docker/slapd/slapd.conf.template); the second slapd here
is started with SLAPD_DEREF=0, as many production directories (and 389 DS) are.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.gateway import Gateway, ldap_ops
from support.slapd import Slapd

from e2e.conftest import TOKEN, isolated_mapping, make_subtree, settings_for
from gateway.app import create_app

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.fixture(scope="module")
def plain_slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    server = Slapd(tmp_path_factory.mktemp("slapd-no-deref"), extra_env={"SLAPD_DEREF": "0"})
    server.start()
    try:
        yield server
    finally:
        server.stop()


def gateway_on(server: Slapd, tmp_path: Path) -> Iterator[Gateway]:
    ldap = server.admin_connection()
    people, groups = make_subtree(ldap, server.suffix)
    app = create_app(settings_for(server, isolated_mapping(tmp_path, people, groups)))
    try:
        yield Gateway(app.test_client(), ldap, people, groups, {"Authorization": f"Bearer {TOKEN}"})
    finally:
        app.extensions["scim"].pool.close_all()
        ldap.unbind()


@pytest.fixture(params=["deref", "no-deref"])
def any_gw(request, slapd: Slapd, tmp_path: Path) -> Iterator[tuple[str, Gateway]]:
    server = slapd if request.param == "deref" else request.getfixturevalue("plain_slapd")
    for gw in gateway_on(server, tmp_path):
        yield request.param, gw


def world(gw: Gateway) -> dict[str, Any]:
    boss = gw.post("/Users", {"schemas": [USER], "userName": "boss"}).get_json()["id"]
    user = gw.post(
        "/Users",
        {
            "schemas": [USER, ENTERPRISE],
            "userName": "worker",
            ENTERPRISE: {"manager": {"value": boss}},
        },
    ).get_json()["id"]
    groups = {}
    for name in ("alpha", "beta"):
        groups[name] = gw.post(
            "/Groups",
            {"schemas": [GROUP], "displayName": name, "members": [{"value": user}]},
        ).get_json()["id"]
    return {"boss": boss, "user": user, "groups": groups}


def shown(resource: dict[str, Any]) -> tuple[set[str], str | None]:
    groups = {g["value"] for g in resource.get("groups", [])}
    manager = resource.get(ENTERPRISE, {}).get("manager", {}).get("value")
    return groups, manager


def test_groups_and_manager_are_read_with_the_user(
    any_gw: tuple[str, Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    kind, gw = any_gw
    w = world(gw)
    expected = (set(w["groups"].values()), w["boss"])
    extra = 0 if kind == "deref" else 1  # one search resolves every reference DN

    ops, body = ldap_ops(caplog, lambda: gw.get(f"/Users/{w['user']}"))
    assert shown(body) == expected
    assert ops == 1 + extra

    ops, body = ldap_ops(
        caplog, lambda: gw.get("/Users", query_string={"filter": 'userName eq "worker"'})
    )
    assert shown(body["Resources"][0]) == expected
    assert ops == 1 + extra

    ops, body = ldap_ops(
        caplog,
        lambda: gw.patch(
            f"/Users/{w['user']}",
            {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "x"}]},
        ),
    )
    assert shown(body) == expected
    # the user was just read: one modify to its DN with a post-read, then one search for
    # the ids its memberOf and manager DNs name (a post-read is not dereferenced), with or
    # without the overlay (docs/operations.md, "PATCH in one round trip")
    assert ops == 2

    ops, body = ldap_ops(caplog, lambda: gw.get("/Users"))  # DNs first, then the page
    by_name = {r["userName"]: r for r in body["Resources"]}
    assert shown(by_name["worker"]) == expected
    assert shown(by_name["boss"]) == (set(), None)
    assert ops == 2 + extra


def test_a_group_the_user_left_or_that_was_deleted_is_not_shown(
    any_gw: tuple[str, Gateway],
) -> None:
    _, gw = any_gw
    w = world(gw)
    remove = {"op": "remove", "path": f'members[value eq "{w["user"]}"]'}
    assert gw.patch(
        f"/Groups/{w['groups']['alpha']}", {"schemas": [PATCH], "Operations": [remove]}
    ).status_code in (200, 204)
    assert gw.delete(f"/Users/{w['boss']}").status_code == 204
    assert shown(gw.get(f"/Users/{w['user']}").get_json()) == ({w["groups"]["beta"]}, None)


def test_references_outside_the_mapping_are_not_shown(
    gw: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    """memberOf can name groups the mapping does not serve (another subtree, another class):
    the dereferenced entry is classified like a searched one, and left out."""
    user = gw.post("/Users", {"schemas": [USER], "userName": "member"}).get_json()["id"]
    user_dn = f"uid=member,{gw.people}"
    elsewhere = f"cn=foreign,{gw.people.split(',', 1)[1]}"
    assert gw.ldap.add(elsewhere, ["groupOfNames"], {"cn": "foreign", "member": [user_dn]})
    ops, body = ldap_ops(caplog, lambda: gw.get(f"/Users/{user}"))
    assert body.get("groups", []) == []
    assert ops == 1
    assert gw.entry(user_dn, "memberOf") == {"memberof": [elsewhere]}


def test_a_reference_to_an_entry_of_another_class_is_left_to_the_servers_filter(
    any_gw: tuple[str, Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    """A ``manager`` naming a plain ``person`` in ou=People (written by another tool): it is
    where users live and shares classes with them, but the User filter (objectClass=
    inetOrgPerson) does not match it. Its dereferenced classes lack inetOrgPerson, so the
    gateway asks the server, whose filter leaves it out: no manager is shown."""
    _, gw = any_gw
    user = gw.post("/Users", {"schemas": [USER], "userName": "managed"}).get_json()["id"]
    plain = f"cn=plain,{gw.people}"
    assert gw.ldap.add(plain, ["person"], {"cn": "plain", "sn": "Plain"}), gw.ldap.result
    assert gw.ldap.modify(f"uid=managed,{gw.people}", {"manager": [("MODIFY_REPLACE", [plain])]})
    ops, body = ldap_ops(caplog, lambda: gw.get(f"/Users/{user}"))
    assert shown(body) == (set(), None)
    assert ops == 2  # the user, then the server's verdict on the DN
