"""A replicated directory: a real slapd pair, real gateway processes, the writing node killed.

Two multi-provider nodes (run-slapd.sh pair mode) and two `scim-gateway serve` processes (2
workers each) sharing one writer state file, so "one writer" is tested across processes. Eight
clients create users, PATCH them, add them to two shared groups and create-then-delete scratch
users, each acknowledged write followed at once by a read of it. Node 1 (the writer) is
SIGKILLed at a third of the run and restarted at two thirds. After convergence both nodes must
hold every acknowledged write, equal entries, and agreeing member / memberOf.

The run lasts SCIM_TEST_REPLICATION_SECONDS (default 8; CI runs the default, a soak test sets
more). Figures are printed (pytest -s) for the report.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ldap3.utils.conv import escape_filter_chars
from support.ldap_relay import MODIFY_RESPONSE, LdapRelay
from support.scim_http import Answer, ScimHttp, gateway_env
from support.served import Served
from support.slapd import REPO_ROOT, Slapd, SlapdPair

from e2e.conftest import TOKEN
from gateway.directory.dn import normalize
from gateway.directory.writer import State

MAPPING = Path(__file__).resolve().parents[1] / "data" / "replication" / "openldap-pair.yaml"
RUN_S = float(os.environ.get("SCIM_TEST_REPLICATION_SECONDS", "8"))
CLIENTS = 8
CONVERGE_S = 60.0
RETRY_AFTER_S = 1
OK_FAILURES = {503, 504}  # directory away / outcome unknown: honest, never 500


@dataclass
class Rig:
    pair: SlapdPair
    gateways: list[Served]
    state_file: Path

    def scim(self, n: int) -> ScimHttp:
        return ScimHttp(self.gateways[n % len(self.gateways)].base, TOKEN, timeout=30)

    def writer_index(self) -> int | None:
        try:
            state = State.decode(self.state_file.read_bytes()[:96])
        except FileNotFoundError:
            return None
        return state.index if state else None


def start_rig(
    tmp_path: Path,
    *,
    concerns: tuple[str, ...] = ("0", "0"),
    front: Callable[[SlapdPair], list[str]] | None = None,
) -> Rig:
    """The pair and one served gateway per ``concerns`` item (its write-concern timeout);
    ``front``: the node URLs the gateways are given (default: the nodes' own)."""
    pair = SlapdPair(tmp_path / "pair").start()
    state_file = tmp_path / "writer-state"
    served: list[Served] = []
    try:
        for n, concern in enumerate(concerns):
            env = gateway_env(
                ",".join(front(pair) if front else pair.urls),
                pair.nodes[0].admin_dn,
                pair.nodes[0].admin_password,
                MAPPING,
                TOKEN,
                tmp_path / f"secrets{n}",
                threads="4",
                ldap_connect_timeout="1",
                ldap_timeout="2",
                retry_after=str(RETRY_AFTER_S),
                log_level="WARNING",
                ldap_writer_state_file=str(state_file),
                ldap_write_concern_timeout=concern,
                # connections reopen every second: they must go to the chosen node, never
                # simply back to the first URL (issue 14's per-connection failback)
                ldap_max_connection_age="1",
            )
            # the served processes import this checkout, whatever the venv's editable install
            env["PYTHONPATH"] = str(REPO_ROOT)
            served.append(serve(env, tmp_path / f"gateway{n}.log"))
    except BaseException:
        for s in served:
            s.stop()
        pair.stop()
        raise
    return Rig(pair, served, state_file)


def serve(env: dict[str, str], log: Path) -> Served:
    """A started gateway; another free port if the one picked was taken meanwhile."""
    for attempt in range(3):
        try:
            return Served(env, log, workers=2).start()
        except RuntimeError as err:
            if "Address already in use" not in str(err) or attempt == 2:
                raise
    raise AssertionError("unreachable")


def stop_rig(rig: Rig) -> None:
    for s in rig.gateways:
        s.stop()
    for node in rig.pair.nodes:
        pid = node.pid
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
    rig.pair.stop()


@pytest.fixture
def rig(slapd: Slapd, tmp_path: Path) -> Iterator[Rig]:
    """`slapd` (the session one) is only asked for so that a missing slapd skips or fails."""
    made = start_rig(tmp_path)
    try:
        yield made
    finally:
        stop_rig(made)


@pytest.fixture
def confirmed_rig(slapd: Slapd, tmp_path: Path) -> Iterator[Rig]:
    made = start_rig(tmp_path, concerns=("1", "1"))
    try:
        yield made
    finally:
        stop_rig(made)


# ------------------------------------------------------------------------------ the load


@dataclass
class Load:
    """Clients writing, each acknowledged write read back at once; everything is logged."""

    rig: Rig
    groups: list[str]
    statuses: Counter[int] = field(default_factory=Counter)
    created: dict[str, str] = field(default_factory=dict)  # userName -> id (acknowledged)
    titled: dict[str, str] = field(default_factory=dict)  # userName -> title (acknowledged)
    joined: dict[str, str] = field(default_factory=dict)  # userName -> group id (acknowledged)
    deleted: set[str] = field(default_factory=set)  # userNames whose delete was acknowledged
    delete_sent: set[str] = field(default_factory=set)  # userNames a delete was sent for
    unconfirmed: set[str] = field(default_factory=set)  # userNames with a 503/504 write
    misses: list[str] = field(default_factory=list)  # read right after an ack lacked the write
    unexpected: list[tuple[str, int, Any]] = field(default_factory=list)
    first_ok_after: dict[float, float] = field(default_factory=dict)
    acks: list[float] = field(default_factory=list)  # monotonic times of acknowledged writes
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for n in range(CLIENTS):
            t = threading.Thread(target=self._client, args=(n,), daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(90)
            assert not t.is_alive(), "a client hung"

    def _note(self, what: str, name: str, answer: Answer) -> bool:
        with self._lock:
            self.statuses[answer.status] += 1
            if 200 <= answer.status < 300:
                self.acks.append(time.monotonic())
                return True
            if answer.status in OK_FAILURES:
                self.unconfirmed.add(name)
            else:
                self.unexpected.append((f"{what} {name}", answer.status, answer.body))
        return False

    def _read_back(self, scim: ScimHttp, path: str, check: Any, what: str) -> None:
        """Right after an acknowledged write: the read must show it (503s are retried)."""
        deadline = time.monotonic() + 10
        while True:
            answer = scim.get(path)
            with self._lock:
                self.statuses[answer.status] += 1
            if answer.status not in OK_FAILURES or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if not check(answer):
            with self._lock:
                self.misses.append(f"{what}: {answer.status} {str(answer.body)[:200]}")

    def _client(self, n: int) -> None:
        scim = self.rig.scim(n)
        rnd = random.Random(n)
        i = 0
        while not self._stop.is_set():
            i += 1
            name = f"c{n}u{i}"
            made = scim.post("/Users", {"userName": name})
            if not self._note("create", name, made):
                time.sleep(0.05)
                continue
            uid = made.body["id"]
            with self._lock:
                self.created[name] = uid
            path = f"/Users/{uid}"
            self._read_back(scim, path, lambda a: a.status == 200, f"create {name}")
            title = f"t-{name}"
            op = {"op": "replace", "path": "title", "value": title}
            if self._note("title", name, scim.patch(path, op)):
                with self._lock:
                    self.titled[name] = title
                self._read_back(
                    scim,
                    path,
                    lambda a, t=title: a.status == 200 and a.body.get("title") == t,
                    f"title {name}",
                )
            gid = self.groups[rnd.randrange(len(self.groups))]
            add = {"op": "add", "path": "members", "value": [{"value": uid}]}
            if self._note("member", name, scim.patch(f"/Groups/{gid}", add)):
                with self._lock:
                    self.joined[name] = gid
                self._read_back(
                    scim,
                    path,
                    lambda a, g=gid: (
                        a.status == 200 and g in [x.get("value") for x in a.body.get("groups", [])]
                    ),
                    f"member {name}",
                )
            if i % 3 == 0:  # a scratch user, created and deleted
                scratch = f"{name}x"
                tmp = scim.post("/Users", {"userName": scratch})
                if self._note("create", scratch, tmp):
                    with self._lock:
                        self.created[scratch] = tmp.body["id"]
                    with self._lock:
                        self.delete_sent.add(scratch)
                    gone = scim.delete(f"/Users/{tmp.body['id']}")
                    if self._note("delete", scratch, gone):
                        with self._lock:
                            self.deleted.add(scratch)
                        self._read_back(
                            scim,
                            f"/Users/{tmp.body['id']}",
                            lambda a: a.status == 404,
                            f"delete {scratch}",
                        )


# ------------------------------------------------------------------------------ the nodes


def snapshot(node: Slapd) -> dict[str, dict[str, tuple[str, ...]]]:
    """Every entry below the suffix: normalised DN -> its attributes (and entryUUID, memberOf)."""
    conn = node.admin_connection()
    try:
        entries = conn.extend.standard.paged_search(
            node.suffix,
            "(objectClass=*)",
            "SUBTREE",
            attributes=["*", "entryUUID", "memberOf"],
            paged_size=500,
            generator=False,
        )
        out = {}
        for e in entries:
            if e.get("type") != "searchResEntry":
                continue
            attrs = {
                k.lower(): tuple(
                    sorted(
                        normalize(str(v)) if k.lower() in ("member", "memberof") else str(v)
                        for v in vals
                    )
                )
                for k, vals in e["raw_attributes"].items()
                for vals in [[x.decode() for x in vals]]
            }
            out[normalize(e["dn"])] = attrs
        return out
    finally:
        conn.unbind()


def context_csns(node: Slapd) -> tuple[str, ...]:
    conn = node.admin_connection()
    try:
        conn.search(node.suffix, "(objectClass=*)", "BASE", attributes=["contextCSN"])
        return tuple(sorted(str(v) for v in conn.response[0]["attributes"].get("contextCSN", [])))
    finally:
        conn.unbind()


def logged(node: Slapd, dn: str) -> bool:
    """Does the node's change log (cn=accesslog) hold a write to ``dn``?"""
    conn = node.admin_connection()
    try:
        conn.search("cn=accesslog", f"(reqDN={dn})", "LEVEL", attributes=["1.1"])
        return any(e.get("type") == "searchResEntry" for e in conn.response)
    finally:
        conn.unbind()


def converge(pair: SlapdPair) -> float:
    """Seconds until both nodes hold the same contextCSN vector (and keep it for 0.5 s)."""
    started = time.monotonic()
    deadline = started + CONVERGE_S
    while time.monotonic() < deadline:
        a, b = (context_csns(n) for n in pair.nodes)
        if a == b:
            time.sleep(0.5)
            if (context_csns(pair.nodes[0]), context_csns(pair.nodes[1])) == (a, b):
                return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"the nodes did not converge within {CONVERGE_S}s")


# ------------------------------------------------------------------------------ the tests


def run_with_crash(rig: Rig) -> dict[str, Any]:
    scim = rig.scim(0)
    groups = []
    for name in ("shared-a", "shared-b"):
        made = scim.post("/Groups", {"displayName": name})
        assert made.status == 201, made.body
        groups.append(made.body["id"])
    assert rig.writer_index() == 0
    load = Load(rig, groups)
    node1 = rig.pair.nodes[0]
    load.start()
    try:
        time.sleep(RUN_S / 3)
        killed_at = time.monotonic()
        node1.kill()
        while rig.writer_index() != 1 and time.monotonic() < killed_at + 10:
            time.sleep(0.01)
        moved_at = time.monotonic()
        time.sleep(max(0.0, killed_at + RUN_S / 3 - time.monotonic()))
        restart_at = time.monotonic()
        node1.start()
        back_at = time.monotonic()
        while rig.writer_index() != 0 and time.monotonic() < back_at + 30:
            time.sleep(0.01)
        failback_at = time.monotonic()
        time.sleep(max(0.0, restart_at + RUN_S / 3 - time.monotonic()))
    finally:
        load.stop()
    acks_after_kill = [t for t in load.acks if t > killed_at]
    return dict(
        load=load,
        groups=groups,
        moved=moved_at - killed_at,
        first_ack_after_kill=(min(acks_after_kill) - killed_at) if acks_after_kill else None,
        restart=back_at - restart_at,
        failback=failback_at - restart_at if rig.writer_index() == 0 else None,
        converge=converge(rig.pair),
    )


def check_nodes(rig: Rig, load: Load, groups: list[str]) -> dict[str, int]:
    """Lost acknowledged writes, entries differing between the nodes, member/memberOf
    disagreements (on both nodes)."""
    snaps = [snapshot(n) for n in rig.pair.nodes]
    people = normalize(rig.pair.nodes[0].people_dn)
    lost: list[str] = []
    for node, snap in enumerate(snaps, 1):
        by_uid = {a["uid"][0]: a for dn, a in snap.items() if dn.endswith(people) and "uid" in a}
        group_members = {
            a["entryuuid"][0]: set(a.get("member", ()))
            for a in snap.values()
            if "groupofnames" in {o.lower() for o in a.get("objectclass", ())}
        }
        for name in load.created:
            if name in load.deleted:
                if name in by_uid:
                    lost.append(f"node{node}: delete of {name}")
                continue
            if name not in by_uid and name not in load.delete_sent:  # 504: may be gone
                lost.append(f"node{node}: create of {name}")
        for name, title in load.titled.items():
            if by_uid.get(name, {}).get("title") != (title,):
                lost.append(f"node{node}: title of {name}")
        for name, gid in load.joined.items():
            dn = normalize(f"uid={name},{rig.pair.nodes[0].people_dn}")
            if dn not in group_members.get(gid, set()):
                lost.append(f"node{node}: member {name} of {gid}")
    differ = sorted(set(snaps[0]) ^ set(snaps[1])) + [
        dn for dn in set(snaps[0]) & set(snaps[1]) if snaps[0][dn] != snaps[1][dn]
    ]
    # A write the killed node committed to its database but not yet to its change log: the
    # client got 504 (outcome unknown), and delta-syncrepl has no record to send. Allowed only
    # exactly so: on node 1 alone, never acknowledged, absent from node 1's accesslog. Seen for
    # an add (an entry), a member add (a value, and the memberOf dynlist derives from it), a
    # title replace and a delete.
    unlogged = unlogged_on_node1(rig, load, snaps, differ)
    differ = [dn for dn in differ if dn not in unlogged]
    for i, dn in enumerate(differ[:5]):  # say how they differ
        differ[i] = how_they_differ(rig, load, dn, snaps[0].get(dn, {}), snaps[1].get(dn, {}))
    disagreements = []
    for snap in snaps:
        member_of: dict[str, set[str]] = {}
        for dn, a in snap.items():
            for m in a.get("member", ()):
                member_of.setdefault(m, set()).add(dn)
        for dn, a in snap.items():
            if dn.endswith(people) and set(a.get("memberof", ())) != member_of.get(dn, set()):
                disagreements.append(dn)
    return {
        "lost": len(lost),
        "differ": len(differ),
        "unlogged": len(unlogged),
        "member_memberof": len(disagreements),
        "_detail": (lost[:10], differ[:10], disagreements[:10]),  # type: ignore[dict-item]
    }


def unlogged_on_node1(
    rig: Rig, load: Load, snaps: list[dict[str, dict[str, tuple[str, ...]]]], differ: list[str]
) -> list[str]:
    """The differing DNs that the OpenLDAP window explains (see check_nodes), and nothing else:
    an entry, member values (and the memberOf they give) or a user's title on node 1 alone, or
    a scratch entry on node 2 alone whose delete node 1 made: each from a write answered 504,
    never acknowledged, not in node 1's log."""
    node1 = rig.pair.nodes[0]

    def unacknowledged(name: str) -> bool:
        return name in load.unconfirmed and name not in load.created

    def unconfirmed_member(name: str) -> bool:
        return name in load.unconfirmed and name not in load.joined

    out = [
        dn
        for dn in differ
        if dn in snaps[0]
        and dn not in snaps[1]
        and unacknowledged(snaps[0][dn].get("uid", ("",))[0])
        and not logged(node1, dn)
    ]
    out += [  # a delete node 1 made and did not log: the entry left on node 2 alone
        dn
        for dn in differ
        if dn in snaps[1]
        and dn not in snaps[0]
        and (name := snaps[1][dn].get("uid", ("",))[0]) in load.delete_sent
        and name in load.unconfirmed
        and name not in load.deleted
        and not logged_delete(node1, dn)
    ]

    def node1_extra(dn: str, key: str) -> set[str] | None:
        """Values of ``key`` node 1 alone holds, when the entry differs in ``key`` alone and
        node 2 holds nothing node 1 lacks; else None."""
        a, b = snaps[0].get(dn), snaps[1].get(dn)
        if (
            a is None
            or b is None
            or {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)} != {key}
        ):
            return None
        mine, theirs = set(a.get(key, ())), set(b.get(key, ()))
        return mine - theirs if theirs <= mine else None

    values: dict[str, set[str]] = {}  # group DN -> member values node 1 alone holds, explained
    for dn in differ:
        extra = node1_extra(dn, "member")
        if extra is not None and all(
            unconfirmed_member(v.split(",", 1)[0].partition("=")[2])
            and not logged_value(node1, dn, "member", v)
            for v in extra
        ):
            values[dn] = extra
            out.append(dn)
    for dn in differ:  # a user's title PATCH (the one attribute the load replaces)
        name = snaps[0].get(dn, {}).get("uid", ("",))[0]
        if (
            node1_extra(dn, "title") == {f"t-{name}"}
            and name in load.unconfirmed
            and name not in load.titled
            and not logged_value(node1, dn, "title", f"t-{name}")
        ):
            out.append(dn)
    for dn in differ:  # a member's memberOf (slapo-dynlist: read from the groups' values)
        extra = node1_extra(dn, "memberof")
        if extra is not None and all(dn in values.get(g, ()) for g in extra):
            out.append(dn)
    return out


def how_they_differ(
    rig: Rig, load: Load, dn: str, a: dict[str, tuple[str, ...]], b: dict[str, tuple[str, ...]]
) -> str:
    """Values only one node holds, with what the clients were told about the user each names
    and whether each node's change log records the write."""
    parts = []
    for key in sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k)):
        for node, mine, theirs in ((1, a, b), (2, b, a)):
            for value in sorted(set(mine.get(key, ())) - set(theirs.get(key, ()))):
                name = (
                    value.split(",", 1)[0].partition("=")[2]
                    if key in ("member", "memberof")
                    else mine.get("uid", ("?",))[0]
                )
                told = "504" if name in load.unconfirmed else "no 504"
                logs = [logged_value(n, dn, key, value) for n in rig.pair.nodes if n.pid]
                parts.append(f"{key} {value!r} only on node{node} ({told}; logged {logs})")
    return f"{dn}: " + "; ".join(parts)


def logged_delete(node: Slapd, dn: str) -> bool:
    """Does the node's change log hold a delete of ``dn``?"""
    conn = node.admin_connection()
    try:
        flt = f"(&(reqType=delete)(reqDN={escape_filter_chars(dn)}))"
        conn.search("cn=accesslog", flt, "LEVEL", attributes=["1.1"])
        return any(e.get("type") == "searchResEntry" for e in conn.response)
    finally:
        conn.unbind()


def logged_value(node: Slapd, dn: str, key: str, value: str) -> bool:
    """Does the node's change log hold a write of ``dn`` putting ``value`` into ``key`` (an
    add or a replace; DN values compared normalised)?"""
    conn = node.admin_connection()
    try:
        conn.search(
            "cn=accesslog", f"(reqDN={escape_filter_chars(dn)})", "LEVEL", attributes=["reqMod"]
        )
        for e in conn.response:
            for held in e.get("attributes", {}).get("reqMod", []):
                attr, _, rest = str(held).partition(":")
                op, _, held_value = rest.partition(" ")
                if attr.lower() != key or op not in ("+", "="):
                    continue
                if (normalize(held_value) if key == "member" else held_value) == value:
                    return True
        return False
    finally:
        conn.unbind()


def report(kind: str, rig: Rig, run: dict[str, Any], counts: dict[str, Any]) -> None:
    load: Load = run["load"]
    total = sum(load.statuses.values())
    print(
        f"\n[{kind}] requests={total} statuses={dict(sorted(load.statuses.items()))} "
        f"lost={counts['lost']} differ={counts['differ']} unlogged_504={counts['unlogged']} "
        f"member_memberOf={counts['member_memberof']} read_misses={len(load.misses)} "
        f"unexpected={len(load.unexpected)} failover_decided={run['moved']:.2f}s "
        f"first_ack_after_kill={run['first_ack_after_kill']} restart={run['restart']:.2f}s "
        f"failback_after_restart_cmd={run['failback']} converge={run['converge']:.2f}s"
    )


def assert_clean(run: dict[str, Any], counts: dict[str, Any], *, strict_reads: bool) -> None:
    load: Load = run["load"]
    assert 500 not in load.statuses and not any(
        s >= 500 and s not in OK_FAILURES for s in load.statuses
    ), load.statuses
    assert counts["lost"] == 0, counts["_detail"][0]
    assert counts["differ"] == 0, counts["_detail"][1]
    assert counts["member_memberof"] == 0, counts["_detail"][2]
    assert run["failback"] is not None, "the gateway never returned to node 1"
    assert len(load.created) > 20, "too little load to mean anything"
    if strict_reads:
        assert not load.unexpected, load.unexpected[:5]
        assert not load.misses, load.misses[:5]


def test_writer_killed_mid_load_loses_no_acknowledged_write(rig: Rig) -> None:
    run = run_with_crash(rig)
    counts = check_nodes(rig, run["load"], run["groups"])
    report("async", rig, run, counts)
    assert_clean(run, counts, strict_reads=False)
    # Without the write concern a write node 1 acknowledged just before dying may be missing
    # on node 2 until node 1 is back: allowed here (reported), never after convergence.
    for what, status, _body in run["load"].unexpected:
        assert status in (400, 404), (what, status)


def test_with_write_concern_every_acknowledged_write_is_readable_at_once(
    confirmed_rig: Rig,
) -> None:
    run = run_with_crash(confirmed_rig)
    counts = check_nodes(confirmed_rig, run["load"], run["groups"])
    report("write concern", confirmed_rig, run, counts)
    assert_clean(run, counts, strict_reads=True)


def timed_patches(scim: ScimHttp, uid: str, count: int) -> list[float]:
    seconds = []
    for i in range(count):
        op = {"op": "replace", "path": "title", "value": f"t{i}"}
        answer = scim.patch(f"/Users/{uid}", op)
        assert answer.status == 200, answer.body
        seconds.append(answer.seconds)
    return seconds


def test_write_concern_cost_and_its_clear_error_when_the_other_node_is_away(
    slapd: Slapd, tmp_path: Path
) -> None:
    """Gateway 0 acknowledges at once, gateway 1 once node 2 holds the write: PATCH latency
    of each, measured in alternating slices; then node 2 stops and gateway 1 answers 504."""
    rig = start_rig(tmp_path, concerns=("0", "2"))
    try:
        plain, confirmed = rig.scim(0), rig.scim(1)
        ids = [
            s.post("/Users", {"userName": f"wc{n}"}).body["id"]
            for n, s in enumerate((plain, confirmed))
        ]
        times: dict[str, list[float]] = {"plain": [], "confirmed": []}
        for _slice in range(5):
            times["plain"] += timed_patches(plain, ids[0], 20)
            times["confirmed"] += timed_patches(confirmed, ids[1], 20)
        med = {k: statistics.median(v) for k, v in times.items()}
        p95 = {k: statistics.quantiles(v, n=20)[-1] for k, v in times.items()}
        print(
            f"\n[write concern cost] PATCH median plain={med['plain'] * 1000:.1f}ms "
            f"confirmed={med['confirmed'] * 1000:.1f}ms p95 plain={p95['plain'] * 1000:.1f}ms "
            f"confirmed={p95['confirmed'] * 1000:.1f}ms (n={len(times['plain'])} each)"
        )
        assert med["confirmed"] < med["plain"] + 0.1

        rig.pair.nodes[1].stop()
        op = {"op": "replace", "path": "title", "value": "while node 2 is away"}
        refused = confirmed.patch(f"/Users/{ids[1]}", op)
        assert refused.status == 504, refused.body
        assert refused.body["status"] == "504" and refused.body.get("detail")
        assert refused.seconds < 2 + 1 + 1.5, f"took {refused.seconds:.2f}s"
        # it was made on node 1 (not undone): the client is told to read before repeating
        assert confirmed.get(f"/Users/{ids[1]}").body.get("title") == "while node 2 is away"
        assert plain.patch(f"/Users/{ids[0]}", op).status == 200  # no concern: acknowledged
        print(f"[write concern] 504 after {refused.seconds:.2f}s with node 2 stopped")

        rig.pair.nodes[1].start()
        back = {"op": "replace", "path": "title", "value": "node 2 is back"}
        deadline = time.monotonic() + 15
        while (answer := confirmed.patch(f"/Users/{ids[1]}", back)).status != 200:
            assert time.monotonic() < deadline, answer.body
            time.sleep(0.2)
        dn = f"uid=wc1,{rig.pair.nodes[1].people_dn}"
        conn = rig.pair.nodes[1].admin_connection()
        try:
            conn.search(dn, "(objectClass=*)", "BASE", attributes=["title"])
            assert conn.response[0]["attributes"]["title"] == ["node 2 is back"]
        finally:
            conn.unbind()
    finally:
        stop_rig(rig)


def test_a_member_add_whose_answer_was_cut_off_is_504_not_repeated(
    slapd: Slapd, tmp_path: Path
) -> None:
    """Node 1 makes the change and the connection breaks before its answer (a relay in front
    of node 1 cuts it): the client is told 504, outcome unknown, and the gateway does NOT make
    the write again itself. Why not (tried, and the fault test lost acknowledged member adds):
    repeated on the node taking over after a failover, a change the dead node had made and
    logged is replayed onto that node when it returns, fails there (delta-syncrepl replays
    without permissive modify), and OpenLDAP 2.5 falls back to a full refresh that takes the
    other node's whole entry, deleting values the dead node had acknowledged but not sent."""
    relays: list[LdapRelay] = []

    def through_relay(pair: SlapdPair) -> list[str]:
        relays.append(LdapRelay(("127.0.0.1", pair.nodes[0].port or 0)))
        return [relays[0].url, pair.urls[1]]

    rig = start_rig(tmp_path, concerns=("0",), front=through_relay)
    try:
        relay, scim = relays[0], rig.scim(0)
        gid = scim.post("/Groups", {"displayName": "cut"}).body["id"]
        uid = scim.post("/Users", {"userName": "cut-a"}).body["id"]
        relay.cut(MODIFY_RESPONSE)
        add = {"op": "add", "path": "members", "value": [{"value": uid}]}
        answer = scim.patch(f"/Groups/{gid}", add)
        assert relay.cut_count == 1
        assert answer.status == 504, answer.body
        assert "may or may not have been made" in answer.body["detail"]
        # it was made (on node 1, once): the client reads before repeating
        got = scim.get(f"/Users/{uid}").body
        assert [g["value"] for g in got.get("groups", [])] == [gid]
        converge(rig.pair)
        snaps = [snapshot(n) for n in rig.pair.nodes]
        assert snaps[0] == snaps[1]
        node1 = rig.pair.nodes[0]
        key, member = (
            normalize(f"cn=cut,{node1.groups_dn}"),
            normalize(f"uid=cut-a,{node1.people_dn}"),
        )
        assert logged_value(node1, key, "member", member)
    finally:
        stop_rig(rig)
        for r in relays:
            r.close()
