"""The local OpenLDAP directory (docker/slapd) behaves the way the gateway relies on.

Each test creates its own uniquely named entries, so tests never depend on each other.
"""

from __future__ import annotations

import socket
import time
import uuid
from pathlib import Path

import pytest
from ldap3 import BASE, MODIFY_ADD, MODIFY_DELETE, MODIFY_REPLACE, NONE, Connection, Server
from ldap3.protocol.rfc4527 import post_read_control
from support.slapd import Slapd

pytestmark = pytest.mark.slapd

PERMISSIVE_MODIFY = ("1.2.840.113556.1.4.1413", False, None)
POST_READ_OID = "1.3.6.1.1.13.2"
PASSWORD = "User-pw-1!"

# result codes
SUCCESS = 0
NO_SUCH_ATTRIBUTE = 16
ATTRIBUTE_OR_VALUE_EXISTS = 20
INVALID_CREDENTIALS = 49
OBJECT_CLASS_VIOLATION = 65


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def norm(dn: str) -> str:
    """Good enough DN normalisation for the plain ASCII DNs these tests create."""
    return ",".join(part.strip() for part in dn.lower().split(","))


def add_user(conn: Connection, slapd: Slapd, uid: str | None = None) -> str:
    uid = uid or unique("user")
    dn = f"uid={uid},{slapd.people_dn}"
    attributes = {"uid": uid, "cn": uid, "sn": "Tester", "userPassword": PASSWORD}
    assert conn.add(dn, ["inetOrgPerson"], attributes), conn.result
    return dn


def add_group(conn: Connection, slapd: Slapd, members: list[str]) -> str:
    cn = unique("group")
    dn = f"cn={cn},{slapd.groups_dn}"
    assert conn.add(dn, ["groupOfNames"], {"cn": cn, "member": members}), conn.result
    return dn


def read(conn: Connection, dn: str, *attributes: str) -> dict[str, list[str]]:
    assert conn.search(dn, "(objectClass=*)", BASE, attributes=list(attributes)), conn.result
    return {name: list(values) for name, values in conn.response[0]["attributes"].items()}


def bind_result(slapd: Slapd, dn: str, password: str) -> int:
    conn = Connection(
        Server(slapd.url, get_info=NONE),
        user=dn,
        password=password,
        auto_referrals=False,
        raise_exceptions=False,
    )
    try:
        conn.bind()
        return int(conn.result["result"])
    finally:
        conn.unbind()


def members(conn: Connection, group_dn: str) -> set[str]:
    return {norm(dn) for dn in read(conn, group_dn, "member").get("member", [])}


# --- seed ----------------------------------------------------------------------------------------
def test_seed_entries_exist(ldap_admin: Connection, slapd: Slapd) -> None:
    base = read(ldap_admin, slapd.suffix, "objectClass", "dc")
    assert {"dcObject", "organization"} <= set(base["objectClass"])
    assert base["dc"] == ["example"]
    for dn in (slapd.people_dn, slapd.groups_dn, f"ou=Policies,{slapd.suffix}"):
        assert "organizationalUnit" in read(ldap_admin, dn, "objectClass")["objectClass"]
    policy = read(
        ldap_admin,
        f"cn=default,ou=Policies,{slapd.suffix}",
        "objectClass",
        "pwdAttribute",
        "pwdLockout",
        "pwdMaxFailure",
    )
    assert "pwdPolicy" in policy["objectClass"]
    assert policy["pwdAttribute"] == ["userPassword"]
    assert policy["pwdLockout"] == ["TRUE"]
    assert policy["pwdMaxFailure"] == ["5"]


def test_anonymous_cannot_read_the_tree(slapd: Slapd) -> None:
    conn = Connection(Server(slapd.url, get_info=NONE), auto_referrals=False)
    try:
        conn.open()
        conn.search(slapd.people_dn, "(objectClass=*)", BASE)
        assert conn.response == []
    finally:
        conn.unbind()


# --- binds and password policy -------------------------------------------------------------------
def test_user_can_bind(ldap_admin: Connection, slapd: Slapd) -> None:
    dn = add_user(ldap_admin, slapd)
    assert bind_result(slapd, dn, PASSWORD) == SUCCESS
    assert bind_result(slapd, dn, "wrong") == INVALID_CREDENTIALS


def test_locked_account_cannot_bind_until_unlocked(ldap_admin: Connection, slapd: Slapd) -> None:
    dn = add_user(ldap_admin, slapd)
    lock = {"pwdAccountLockedTime": [(MODIFY_REPLACE, ["000001010000Z"])]}
    assert ldap_admin.modify(dn, lock), ldap_admin.result
    assert bind_result(slapd, dn, PASSWORD) == INVALID_CREDENTIALS

    unlock = {"pwdAccountLockedTime": [(MODIFY_REPLACE, [])]}
    assert ldap_admin.modify(dn, unlock), ldap_admin.result
    assert bind_result(slapd, dn, PASSWORD) == SUCCESS


# --- groups: memberof, refint, permissive modify -------------------------------------------------
def test_member_gets_member_of(ldap_admin: Connection, slapd: Slapd) -> None:
    user = add_user(ldap_admin, slapd)
    group = add_group(ldap_admin, slapd, [user])
    assert [norm(g) for g in read(ldap_admin, user, "memberOf")["memberOf"]] == [norm(group)]


def test_refint_rewrites_member_after_rename(ldap_admin: Connection, slapd: Slapd) -> None:
    user = add_user(ldap_admin, slapd)
    other = add_user(ldap_admin, slapd)
    group = add_group(ldap_admin, slapd, [user, other])
    new_uid = unique("renamed")
    assert ldap_admin.modify_dn(user, f"uid={new_uid}", delete_old_dn=True), ldap_admin.result
    renamed = f"uid={new_uid},{slapd.people_dn}"

    # refint works asynchronously, after the modrdn response: poll for a bounded time.
    expected = {norm(renamed), norm(other)}
    deadline = time.monotonic() + 5.0
    while (current := members(ldap_admin, group)) != expected and time.monotonic() < deadline:
        time.sleep(0.01)
    assert current == expected
    assert [norm(g) for g in read(ldap_admin, renamed, "memberOf")["memberOf"]] == [norm(group)]


def test_permissive_modify_add_of_present_member_succeeds(
    ldap_admin: Connection, slapd: Slapd
) -> None:
    present = add_user(ldap_admin, slapd)
    group = add_group(ldap_admin, slapd, [present])
    add_present = {"member": [(MODIFY_ADD, [present])]}

    ldap_admin.modify(group, add_present)
    assert ldap_admin.result["result"] == ATTRIBUTE_OR_VALUE_EXISTS

    ldap_admin.modify(group, add_present, controls=[PERMISSIVE_MODIFY])
    assert ldap_admin.result["result"] == SUCCESS, ldap_admin.result
    assert members(ldap_admin, group) == {norm(present)}
    assert [norm(g) for g in read(ldap_admin, present, "memberOf")["memberOf"]] == [norm(group)]


@pytest.mark.xfail(
    raises=AssertionError,
    reason=(
        "OpenLDAP bug (2.5.13; an upstream copy of mods.c has the same code): with permissive "
        "modify, deleting values answers 16 noSuchAttribute when the LAST value listed is "
        "absent (rc of the failed lookup leaks); it works when the attribute is absent, or "
        "when a later listed value is present. Use ADD+DELETE in one modify (next test)."
    ),
)
def test_permissive_modify_delete_of_absent_member_succeeds(
    ldap_admin: Connection, slapd: Slapd
) -> None:
    present = add_user(ldap_admin, slapd)
    absent = add_user(ldap_admin, slapd)
    group = add_group(ldap_admin, slapd, [present])
    delete_absent = {"member": [(MODIFY_DELETE, [absent])]}

    ldap_admin.modify(group, delete_absent)
    assert ldap_admin.result["result"] == NO_SUCH_ATTRIBUTE

    ldap_admin.modify(group, delete_absent, controls=[PERMISSIVE_MODIFY])
    assert ldap_admin.result["result"] == SUCCESS, ldap_admin.result


@pytest.mark.parametrize("was_member", [True, False], ids=["present", "absent"])
def test_permissive_add_then_delete_removes_member_either_way(
    ldap_admin: Connection, slapd: Slapd, was_member: bool
) -> None:
    """The one-round-trip "make X not a member": [ADD X, DELETE X] under permissive modify."""
    keep = add_user(ldap_admin, slapd)
    target = add_user(ldap_admin, slapd)
    group = add_group(ldap_admin, slapd, [keep, target] if was_member else [keep])

    remove = {"member": [(MODIFY_ADD, [target]), (MODIFY_DELETE, [target])]}
    ldap_admin.modify(group, remove, controls=[PERMISSIVE_MODIFY])
    assert ldap_admin.result["result"] == SUCCESS, ldap_admin.result
    assert members(ldap_admin, group) == {norm(keep)}
    assert read(ldap_admin, target, "memberOf").get("memberOf", []) == []
    assert [norm(g) for g in read(ldap_admin, keep, "memberOf")["memberOf"]] == [norm(group)]


def test_removing_last_member_is_object_class_violation(
    ldap_admin: Connection, slapd: Slapd
) -> None:
    user = add_user(ldap_admin, slapd)
    group = add_group(ldap_admin, slapd, [user])
    ldap_admin.modify(group, {"member": [(MODIFY_DELETE, [user])]})
    assert ldap_admin.result["result"] == OBJECT_CLASS_VIOLATION
    assert members(ldap_admin, group) == {norm(user)}


# --- controls ------------------------------------------------------------------------------------
def test_post_read_on_add_returns_entry_uuid_and_csn(ldap_admin: Connection, slapd: Slapd) -> None:
    uid = unique("postread")
    dn = f"uid={uid},{slapd.people_dn}"
    ok = ldap_admin.add(
        dn,
        ["inetOrgPerson"],
        {"uid": uid, "cn": uid, "sn": "Tester"},
        controls=[post_read_control(["entryUUID", "entryCSN"])],
    )
    assert ok, ldap_admin.result
    values = ldap_admin.result["controls"][POST_READ_OID]["value"]["result"]
    assert len(values["entryUUID"]) == 1
    assert uuid.UUID(values["entryUUID"][0])
    assert len(values["entryCSN"]) == 1
    assert values["entryCSN"][0].endswith("#000000")  # CSN: time#count#sid#mod
    stored = read(ldap_admin, dn, "entryUUID", "entryCSN")
    assert stored["entryUUID"] == values["entryUUID"]
    assert stored["entryCSN"] == values["entryCSN"]


# --- the run-slapd.sh script itself --------------------------------------------------------------
def test_start_is_idempotent_and_stop_stops(tmp_path: Path) -> None:
    server = Slapd(tmp_path / "run")
    try:
        server.start()
        pid = server.pid
        assert pid is not None

        again = server.run_script("start")
        assert again.returncode == 0, again.stderr
        assert "already running" in again.stderr
        assert again.stdout.strip() == server.url
        assert server.pid == pid

        status = server.run_script("status")
        assert status.returncode == 0
        assert status.stdout.strip() == server.url
    finally:
        server.stop()

    assert not server.pid_file.exists()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((server.host, int(server.port or 0)), timeout=2).close()
    assert server.run_script("status").returncode == 1
    second_stop = server.run_script("stop")
    assert second_stop.returncode == 0
    assert "not running" in second_stop.stderr


def test_restart_keeps_data(tmp_path: Path) -> None:
    uid = unique("persist")
    with Slapd(tmp_path / "run") as server:
        conn = server.admin_connection()
        try:
            add_user(conn, server, uid)
        finally:
            conn.unbind()
    with server:
        assert bind_result(server, f"uid={uid},{server.people_dn}", PASSWORD) == SUCCESS


def test_start_failure_reports_the_log(tmp_path: Path, slapd: Slapd) -> None:
    taken = Slapd(tmp_path / "run", port=slapd.port)
    with pytest.raises(RuntimeError, match="Address already in use"):
        taken.start()
    assert taken.pid is None
