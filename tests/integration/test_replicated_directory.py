"""The replicated test directory (run-slapd.sh pair mode) does what the gateway relies on, on
BOTH nodes: dynlist memberOf (read and in filters), refint, ppolicy locks, the dereference
control, the POSIX counter increment, and exact modifies replaying cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ldap3
import pytest
from support.slapd import Slapd, SlapdPair, slapd_binary

from gateway.directory import ldapfilter
from gateway.directory.entry import Modification, ModOp
from gateway.directory.operations import Directory
from gateway.directory.pool import ConnectionPool, ConnectionSettings

REPLICATION_BUDGET_S = 10.0
PLACEHOLDER = "cn=empty-membership-placeholder,dc=example,dc=org"


@pytest.fixture(scope="module")
def pair(slapd: Slapd, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlapdPair]:
    """`slapd` (the session one) is only asked for so that a missing slapd skips or fails."""
    made = SlapdPair(tmp_path_factory.mktemp("pair")).start()
    try:
        yield made
    finally:
        made.stop()


def eventually(check: Callable[[], Any], what: str) -> Any:
    """``check()`` once it is truthy on the other node (replication is asynchronous)."""
    deadline = time.monotonic() + REPLICATION_BUDGET_S
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            assert found, f"not replicated within {REPLICATION_BUDGET_S}s: {what}"
            return found
        time.sleep(0.02)


def values(node: Slapd, dn: str, attr: str) -> list[str]:
    conn = node.admin_connection()
    try:
        if not conn.search(dn, "(objectClass=*)", "BASE", attributes=[attr]):
            return []
        return sorted(str(v) for v in conn.response[0]["attributes"].get(attr, []))
    finally:
        conn.unbind()


def matching(node: Slapd, base: str, flt: str) -> list[str]:
    conn = node.admin_connection()
    try:
        conn.search(base, flt, "LEVEL", attributes=["1.1"])
        return sorted(e["dn"] for e in conn.response if e.get("type") == "searchResEntry")
    finally:
        conn.unbind()


def directory_on(node: Slapd) -> Directory:
    return Directory(
        ConnectionPool(ConnectionSettings((node.url,), node.admin_dn, node.admin_password))
    )


@pytest.fixture
def names(request: pytest.FixtureRequest) -> Callable[[str], str]:
    tag = request.node.name.replace("test_", "")[:20]
    return lambda n: f"{tag}-{n}"


def add_user(node: Slapd, uid: str, **extra: Any) -> str:
    dn = f"uid={uid},{node.people_dn}"
    conn = node.admin_connection()
    try:
        attrs = {"uid": uid, "sn": uid, "cn": uid, **extra}
        assert conn.add(dn, ["inetOrgPerson"], attrs), conn.result
    finally:
        conn.unbind()
    return dn


def add_group(node: Slapd, cn: str, *members: str) -> str:
    dn = f"cn={cn},{node.groups_dn}"
    conn = node.admin_connection()
    try:
        assert conn.add(dn, ["groupOfNames"], {"member": list(members) or [PLACEHOLDER]})
    finally:
        conn.unbind()
    return dn


def test_member_of_is_computed_and_filterable_on_both_nodes(pair: SlapdPair, names) -> None:
    one, two = pair.nodes
    user = add_user(one, names("u"))
    group = add_group(one, names("g"), user)
    for node in (one, two):
        found = eventually(lambda n=node: values(n, user, "memberOf"), "memberOf")
        assert [v.lower() for v in found] == [group.lower()]
        assert eventually(
            lambda n=node: matching(n, n.people_dn, f"(memberOf={group})"), "filter"
        ) == [user]


def test_refint_follows_a_delete_and_a_rename_on_both_nodes(pair: SlapdPair, names) -> None:
    one, two = pair.nodes
    stays, goes = add_user(one, names("stays")), add_user(one, names("goes"))
    group = add_group(one, names("g"), stays, goes)
    eventually(lambda: len(values(two, group, "member")) == 2, "group")
    conn = one.admin_connection()
    try:
        assert conn.delete(goes), conn.result
        assert conn.modify_dn(stays, f"uid={names('renamed')}"), conn.result
    finally:
        conn.unbind()
    renamed = f"uid={names('renamed')},{one.people_dn}"
    for node in (one, two):
        eventually(lambda n=node: values(n, group, "member") == [renamed], "refint")


def test_a_ppolicy_lock_set_on_one_node_refuses_binds_on_the_other(pair: SlapdPair, names) -> None:
    one, two = pair.nodes
    user = add_user(one, names("u"), userPassword="Secret-pw-123")
    eventually(lambda: values(two, user, "uid"), "user")

    def binds(node: Slapd) -> bool:
        conn = ldap3.Connection(ldap3.Server(node.url), user, "Secret-pw-123")
        try:
            return bool(conn.bind())
        finally:
            conn.unbind()

    assert binds(two)
    conn = one.admin_connection()
    try:
        locked = {"pwdAccountLockedTime": [(ldap3.MODIFY_REPLACE, ["000001010000Z"])]}
        assert conn.modify(user, locked), conn.result
    finally:
        conn.unbind()
    eventually(lambda: values(two, user, "pwdAccountLockedTime"), "lock")
    assert not binds(one) and not binds(two)


def test_the_dereference_control_resolves_stored_dns_but_not_dynlist_member_of(
    pair: SlapdPair, names
) -> None:
    """slapo-deref answers on the other node for ``manager``; dynlist's computed memberOf is
    not dereferenced (2.5.13), so the gateway reads a user's groups with one more search there
    (as without the overlay). If this starts to pass differently, the docs can say so."""
    one, two = pair.nodes
    boss = add_user(one, names("boss"))
    user = add_user(one, names("u"), manager=boss)
    add_group(one, names("g"), user)
    eventually(lambda: values(two, user, "memberOf"), "memberOf")
    directory = directory_on(two)
    try:
        [found] = directory.search(
            user,
            "base",
            ldapfilter.MATCH_ALL,
            ["manager", "memberOf"],
            deref=[("manager", ("uid",)), ("memberOf", ("cn",))],
        )
    finally:
        directory.pool.close_all()
    assert found.linked is not None
    assert [e.get("uid") for e in found.linked.get("manager", ())] == [(names("boss"),)]
    assert not found.linked.get("memberof")


def test_the_posix_counter_increments_from_where_the_other_node_left_it(
    pair: SlapdPair, names
) -> None:
    one, two = pair.nodes
    counter = f"cn={names('counter')},{one.suffix}"
    conn = one.admin_connection()
    try:
        attrs = {"uidNumber": "10000", "cn": names("counter")}
        assert conn.add(counter, ["device", "extensibleObject"], attrs), conn.result
    finally:
        conn.unbind()
    drawn: list[str] = []
    for node in (one, one, two, two, one):  # one writer at a time, as the gateway does
        eventually(
            lambda n=node: values(n, counter, "uidNumber") == [str(10000 + len(drawn))], "counter"
        )
        directory = directory_on(node)
        try:
            after = directory.modify(
                counter,
                [Modification("uidNumber", ModOp.INCREMENT, ("1",))],
                read_back=["uidNumber"],
                assertion=ldapfilter.Present("uidNumber"),
                permissive=False,
            )
        finally:
            directory.pool.close_all()
        assert after is not None
        drawn.append(after.first("uidNumber") or "")
    assert drawn == [str(10001 + i) for i in range(5)]


def test_an_exact_member_add_replays_on_the_other_node(pair: SlapdPair, names) -> None:
    """The gateway's first member add [add X, add placeholder, delete placeholder], sent
    through a replicated pool: without the rewrite it failed on the other node (result 20)."""
    one, two = pair.nodes
    user = add_user(one, names("u"))
    group = add_group(one, names("g"))
    eventually(lambda: values(two, group, "member") == [PLACEHOLDER], "group")
    pool = ConnectionPool(
        ConnectionSettings(
            pair.urls,
            one.admin_dn,
            one.admin_password,
            single_writer=True,
            writer_state_path=str(Path(one.run_dir).parent / "writer-state"),
            replicated_bases=(one.suffix,),
        )
    )
    directory = Directory(pool)
    try:
        changes = [
            Modification("member", ModOp.ADD, (user,)),
            Modification("member", ModOp.ADD, (PLACEHOLDER,)),
            Modification("member", ModOp.DELETE, (PLACEHOLDER,)),
        ]
        directory.modify(group, changes)
        directory.modify(group, changes)  # again: nothing left to change, nothing sent
    finally:
        pool.close_all()
    for node in (one, two):
        eventually(lambda n=node: values(n, group, "member") == [user], "member")


def test_a_write_made_just_before_a_crash_reaches_the_other_node_after_restart(
    slapd: Slapd, tmp_path: Path
) -> None:
    """Node 2 away, a write on node 1, node 1 SIGKILLed: its stored contextCSNs lag that write.
    Both back: run-slapd.sh repairs them before starting, so node 2 still receives it, and the
    repair leaves the suffix entry as it was (slapmodify 2.5.13 gives a modified entry a new
    entryUUID: a repair through it made the nodes' suffix entries differ for good)."""
    own = SlapdPair(tmp_path / "pair").start()
    one, two = own.nodes
    try:
        suffix_uuid = values(one, one.suffix, "entryUUID")
        assert suffix_uuid == values(two, two.suffix, "entryUUID") != []
        two.stop()
        user = add_user(one, "written-before-the-crash")
        pid = one.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        two.start()
        one.start()
        assert eventually(lambda: values(two, user, "uid"), "the last write before the crash")
        for node in (one, two):
            assert values(node, node.suffix, "entryUUID") == suffix_uuid, node.run_dir
    finally:
        own.stop()


def test_the_contextcsn_repair_keeps_the_suffix_entry_as_it_is(tmp_path: Path) -> None:
    """The repair run-slapd.sh makes before a start when a node's stored contextCSN lags its
    change log, made to happen for sure: node 1 writes while node 2 is away, stops, and its
    stored contextCSN is set back to the seed's (what a SIGKILL between the write and the
    checkpoint leaves). At the next start the repair raises it, so node 2 still receives the
    write, and the suffix entry keeps its entryUUID on both nodes (slapmodify 2.5.13 gives an
    entry it modifies a new one unless the database has lastmod off)."""
    own = SlapdPair(tmp_path / "pair").start()
    one, two = own.nodes
    try:
        suffix_uuid = values(one, one.suffix, "entryUUID")
        assert suffix_uuid == values(two, two.suffix, "entryUUID") != []
        two.stop()
        user = add_user(one, "written-before-the-setback")
        one.stop()
        ldif = (
            f"dn: {one.suffix}\nchangetype: modify\nreplace: contextCSN\n"
            "contextCSN: 20000101000000.000000Z#000000#000#000000\n"
        )
        tool = [slapd_binary(), "-Tmodify", "-f", str(one.run_dir / "slapd-tool.conf")]
        subprocess.run([*tool, "-b", one.suffix], input=ldif, text=True, check=True)
        one.start()
        assert "lags its change log" in one.start_messages, one.start_messages
        two.start()
        assert eventually(lambda: values(two, user, "uid"), "the write before the setback")
        for node in (one, two):
            assert values(node, node.suffix, "entryUUID") == suffix_uuid, node.run_dir
    finally:
        own.stop()
