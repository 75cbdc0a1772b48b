"""Group membership at scale: the gateway's cost per member change, beside the directory's own.

    .venv/bin/python bench/groups.py [--sizes 10,10000,100000] [--repeat N] [--json out.json]

What it does:

1. Starts its own slapd through ``tests/support/slapd.py`` (``Slapd``) in a temporary directory,
   with ``dbnosync`` OFF: every write is synced to disk, as in production.
2. Loads, for each size N, N users and one ``groupOfNames`` holding them all, plus one user
   outside the group (the "probe"), by generating an LDIF and loading it with ``slapadd -q``
   while slapd is stopped (110,013 entries in about 10 s). The memberof overlay does not run
   under slapadd, so the LDIF writes the users' ``memberOf`` itself: the directory then looks
   as if the gateway had built it (checked: a full GET of the smallest group lists everyone).
3. Builds the app with ``gateway.app.create_app(Settings(...))`` on the shipped mapping and
   drives it in-process through Flask's test client (no HTTP server; LDAP on loopback only).
4. For each size, ``--repeat`` rounds:
   - writes: the gateway's ``PATCH /Groups/{id}`` adding the probe (Entra's ``Add`` with
     ``path: "members"``) then removing it (Entra's ``Remove`` with a value list), and the same
     two modifies sent directly with ldap3 on a connection of its own; which side goes first
     alternates, and both see the same group state;
   - reads, in a steady state (no write in between): ``GET /Groups/{id}?excludedAttributes=
     members`` through the gateway, alternating with the very search that GET sent, replayed
     directly.

Fairness: the direct modify is the gateway's modify — the same value-level changes (see
``Membership.modify``: add is ``ADD member=probe`` asserting the empty-group placeholder is
absent; remove is a plain ``DELETE member=probe``), the same permissive-modify control, the
same assertion and the same post-read control. The bench records the modify the gateway
actually sends and stops if it differs from the direct one, so the comparison cannot drift
from the code.

The gateway's own cost is reported two ways:
- ``own``: gateway median minus direct median, as issue 3 defines it. At 100,000 members one
  durable modify takes 130-250 ms with fsync jitter of tens of ms, so this difference of two
  medians is noise there (it can even come out negative);
- ``paired``: for each request, its time minus the time of its own modify round trip, then
  the median. Same quantity (everything the gateway does besides the modify: HTTP/JSON, the
  group lookup, member id resolution, building the request), measured without the jitter.

LDAP round trips per gateway call are read from the counter the app opens for each request
with ``gateway.directory.operations.counting_round_trips`` (an ``after_request`` hook reads
``g.round_trips``; an outer ``counting_round_trips()`` would be shadowed by the app's own).

Targets (issue 3): the gateway's own cost at the largest size within 1.5x of the smallest;
the GET at the largest size within 2x of the smallest.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

with warnings.catch_warnings():  # ldap3 2.9.1 imports a pyasn1 API deprecated in 0.6.1
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import ldap3
    from ldap3.protocol.rfc4527 import post_read_control

from flask import g  # noqa: E402
from support.slapd import Slapd, slapd_installed  # noqa: E402

from gateway.app import create_app  # noqa: E402
from gateway.directory import ldapfilter  # noqa: E402
from gateway.directory.operations import (  # noqa: E402
    PERMISSIVE_MODIFY,
    Directory,
    _assertion_control,
)
from gateway.mapping.loader import load_mapping  # noqa: E402
from gateway.settings import Settings  # noqa: E402

MAPPING = ROOT / "mappings" / "openldap.yaml"
TOKEN = "bench-token-0123456789abcdef"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
READ_BACK = ["entryUUID", "entryCSN", "createTimestamp", "modifyTimestamp"]
ADD_TARGET = 1.5
GET_TARGET = 2.0


# ---------------------------------------------------------------------------- directory


@dataclass(frozen=True)
class Layout:
    people: str
    groups: str
    placeholder: str
    member_attr: str


def layout() -> Layout:
    mapping = load_mapping(MAPPING)
    user, group = mapping["User"], mapping["Group"]
    assert group.members is not None and group.members.placeholder
    return Layout(user.base_dn, group.base_dn, group.members.placeholder, group.members.ldap)


def user_dn(lay: Layout, size: int, i: int | str) -> str:
    return f"uid=b{size}-{i},{lay.people}"


def group_dn(lay: Layout, size: int) -> str:
    return f"cn=bench-{size},{lay.groups}"


def probe_dn(lay: Layout, size: int) -> str:
    return user_dn(lay, size, "probe")


def ldif(lay: Layout, sizes: list[int]) -> Iterator[str]:
    """Users (with the memberOf slapd's memberof would have written), probes, then groups."""

    def user(dn: str, uid: str, member_of: str | None) -> str:
        lines = [
            f"dn: {dn}",
            "objectClass: top",
            "objectClass: person",
            "objectClass: organizationalPerson",
            "objectClass: inetOrgPerson",
            f"uid: {uid}",
            f"cn: {uid}",
            f"sn: {uid}",
        ]
        if member_of:
            lines.append(f"memberOf: {member_of}")
        return "\n".join(lines) + "\n\n"

    for size in sizes:
        gdn = group_dn(lay, size)
        for i in range(size):
            yield user(user_dn(lay, size, i), f"b{size}-{i}", gdn)
        yield user(probe_dn(lay, size), f"b{size}-probe", None)
    for size in sizes:
        head = f"dn: {group_dn(lay, size)}\nobjectClass: top\nobjectClass: groupOfNames\n"
        members = "".join(f"member: {user_dn(lay, size, i)}\n" for i in range(size))
        yield f"{head}cn: bench-{size}\n{members}\n"


def load(slapd: Slapd, lay: Layout, sizes: list[int], work: Path) -> float:
    """Write the LDIF and slapadd it with slapd stopped; returns the seconds it took."""
    started = time.perf_counter()
    path = work / "bench.ldif"
    with path.open("w", encoding="utf-8") as out:
        for chunk in ldif(lay, sizes):
            out.write(chunk)
    slapd.stop()
    binary = shutil.which("slapd") or "/usr/sbin/slapd"
    proc = subprocess.run(
        [binary, "-Tadd", "-q", "-f", str(slapd.run_dir / "slapd.conf"), "-l", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"slapadd failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    path.unlink()
    slapd.start()
    return time.perf_counter() - started


def direct_connection(slapd: Slapd) -> ldap3.Connection:
    """Like the gateway's pooled connections: SYNC, no schema read, no referral chasing."""
    return slapd.admin_connection(return_empty_attributes=False)


def entry_uuid(conn: ldap3.Connection, dn: str) -> str:
    assert conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=["entryUUID"]), conn.result
    value = conn.response[0]["attributes"]["entryUUID"]
    return str(value[0] if isinstance(value, list) else value)


# ---------------------------------------------------------------------------- the two sides


class Recorder:
    """Wraps the gateway's Directory.modify and .search (nothing else changes).

    Keeps what the last modify sent (for the fairness check), the last search (which the
    direct read replays), and the time of each round trip since ``clear()`` (for the paired
    own-cost estimate and the breakdown of a PATCH).
    """

    def __init__(self, directory: Directory) -> None:
        self.last: (
            tuple[list[tuple[str, str, tuple[str, ...]]], list[str], bool, str | None] | None
        ) = None
        self.last_search: tuple[str, str, str, list[str], int] | None = None
        self.calls: list[tuple[str, float]] = []
        original_modify, original_search = directory.modify, directory.search

        def modify(dn: str, changes: Any, **kw: Any) -> Any:
            self.last = (
                [(m.attr.lower(), m.op.value, tuple(m.values)) for m in changes],
                list(kw.get("read_back") or ()),
                kw.get("permissive", True),
                ldapfilter.render(kw["assertion"]) if kw.get("assertion") is not None else None,
            )
            return self._timed("modify", original_modify, dn, changes, **kw)

        def search(base: str, scope: str, flt: Any, attributes: Any, **kw: Any) -> Any:
            text = ldapfilter.render(flt)
            self.last_search = (base, scope, text, list(attributes), kw.get("size_limit", 0))
            return self._timed("search", original_search, base, scope, flt, attributes, **kw)

        directory.modify = modify  # type: ignore[method-assign]
        directory.search = search  # type: ignore[method-assign]

    def _timed(self, name: str, call: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        started = time.perf_counter()
        try:
            return call(*args, **kw)
        finally:
            self.calls.append((name, time.perf_counter() - started))

    def clear(self) -> None:
        self.calls = []

    def seconds(self, name: str) -> float:
        return sum(t for n, t in self.calls if n == name)


Changes = tuple[list[tuple[str, str, tuple[str, ...]]], str | None]


def add_changes(lay: Layout, member: str) -> Changes:
    """What the gateway sends to add a member to a non-empty group: the value, asserting
    that the placeholder is not there (see ``Membership.modify``)."""
    attr = lay.member_attr.lower()
    guard = ldapfilter.render(ldapfilter.Not(ldapfilter.Equal(lay.member_attr, lay.placeholder)))
    return [(attr, "add", (member,))], guard


def remove_changes(lay: Layout, member: str) -> Changes:
    """What the gateway sends to remove a present member: a plain value delete."""
    attr = lay.member_attr.lower()
    return [(attr, "delete", (member,))], None


LDAP3_OPS = {
    "add": ldap3.MODIFY_ADD,
    "delete": ldap3.MODIFY_DELETE,
    "replace": ldap3.MODIFY_REPLACE,
}


def direct_modify(conn: ldap3.Connection, dn: str, planned: Changes) -> float:
    changes, guard = planned
    payload: dict[str, list[tuple[Any, list[str]]]] = {}
    for attr, op, values in changes:
        payload.setdefault(attr, []).append((LDAP3_OPS[op], list(values)))
    controls = [tuple(PERMISSIVE_MODIFY)]
    if guard is not None:
        controls.append(tuple(_assertion_control(ldapfilter.Raw(guard))))
    controls.append(post_read_control(READ_BACK))
    started = time.perf_counter()
    ok = conn.modify(dn, payload, controls=controls)
    elapsed = time.perf_counter() - started
    if not ok:
        raise SystemExit(f"direct modify of {dn} failed: {conn.result}")
    return elapsed


SCOPES = {"base": ldap3.BASE, "one": ldap3.LEVEL, "sub": ldap3.SUBTREE}


def direct_read(conn: ldap3.Connection, search: tuple[str, str, str, list[str], int]) -> float:
    """The search the gateway's GET sent (recorded), sent again directly."""
    base, scope, text, attrs, size_limit = search
    started = time.perf_counter()
    ok = conn.search(base, text, SCOPES[scope], attributes=attrs or ["1.1"], size_limit=size_limit)
    elapsed = time.perf_counter() - started
    if not ok or len(conn.response or ()) != 1:
        raise SystemExit(f"direct read {search} failed: {conn.result}")
    return elapsed


# ---------------------------------------------------------------------------- measuring


@dataclass
class Row:
    size: int
    gw_add_ms: float = 0.0
    gw_remove_ms: float = 0.0
    gw_get_ms: float = 0.0
    ldap_add_ms: float = 0.0
    ldap_remove_ms: float = 0.0
    ldap_get_ms: float = 0.0
    own_add_ms: float = 0.0  # gateway median minus direct median (the definition)
    own_remove_ms: float = 0.0
    paired_add_ms: float = 0.0  # median of (request time minus its own modify's time)
    paired_remove_ms: float = 0.0
    trips_add: int = 0
    trips_remove: int = 0
    trips_get: int = 0
    # the paired own cost of a PATCH (add and remove together), split: the group lookup search
    # (slapd reads the whole group entry to match it), the other searches (member id
    # resolution), and what is left (Flask, JSON, PATCH engine, mapping: the gateway's CPU)
    lookup_ms: float = 0.0
    resolve_ms: float = 0.0
    python_ms: float = 0.0
    samples_ms: dict[str, list[float]] = field(default_factory=dict)


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


class Bench:
    """One group size: the gateway's requests and the direct LDAP operations on one group."""

    def __init__(
        self,
        size: int,
        client: Any,
        headers: dict[str, str],
        conn: ldap3.Connection,
        lay: Layout,
        recorder: Recorder,
        trips: list[int],
    ) -> None:
        self.size, self.client, self.conn, self.lay = size, client, conn, lay
        self.recorder, self.trips = recorder, trips
        self.headers = headers
        self.json_headers = {**headers, "Content-Type": "application/scim+json; charset=utf-8"}
        self.gdn, self.pdn = group_dn(lay, size), probe_dn(lay, size)
        self.gid, pid = entry_uuid(conn, self.gdn), entry_uuid(conn, self.pdn)
        self.add_body = {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "Add", "path": "members", "value": [{"$ref": None, "value": pid}]}
            ],
        }
        self.remove_body = {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "Remove", "path": "members", "value": [{"value": pid}]}],
        }

    def _gateway(self, call: Callable[[], Any], expected: int) -> tuple[float, int]:
        self.recorder.clear()
        started = time.perf_counter()
        resp = call()
        elapsed = time.perf_counter() - started
        if resp.status_code != expected:
            raise SystemExit(f"gateway answered {resp.status_code}: {resp.get_data(as_text=True)}")
        return elapsed, self.trips[-1]

    def gw_patch(self, body: dict[str, Any]) -> tuple[float, int]:
        url = f"/scim/v2/Groups/{self.gid}"
        return self._gateway(
            lambda: self.client.patch(url, json=body, headers=self.json_headers), 204
        )

    def gw_get(self) -> tuple[float, int]:
        url = f"/scim/v2/Groups/{self.gid}?excludedAttributes=members"
        return self._gateway(lambda: self.client.get(url, headers=self.headers), 200)

    def check_same(self, expected: Changes) -> None:
        """Stop unless the gateway's last modify is exactly the direct one."""

        def norm(changes: list[tuple[str, str, tuple[str, ...]]]) -> list[Any]:
            return [(a, o, tuple(v.lower() for v in vs)) for a, o, vs in changes]

        sent = self.recorder.last
        want = (norm(expected[0]), READ_BACK, True, expected[1])
        if sent is None or (norm(sent[0]), sent[1], sent[2], sent[3]) != want:
            raise SystemExit(
                f"the direct modify no longer matches the gateway's:\n gateway: {sent}\n"
                f" direct:  {want}\n"
                "update add_changes/remove_changes in bench/groups.py"
            )

    def check_loaded(self) -> None:
        """A full GET lists the members through memberOf: proves the LDIF's back-links."""
        resp = self.client.get(f"/scim/v2/Groups/{self.gid}", headers=self.headers)
        found = len((resp.get_json() or {}).get("members") or [])
        if resp.status_code != 200 or found != self.size:
            raise SystemExit(f"group of {self.size} lists {found} members ({resp.status_code})")

    def run(self, repeat: int) -> Row:
        lay, conn, gdn, pdn = self.lay, self.conn, self.gdn, self.pdn
        # warm-up, and the fairness check on what the gateway really sends
        self.gw_patch(self.add_body)
        self.check_same(add_changes(lay, pdn))
        self.gw_patch(self.remove_body)
        self.check_same(remove_changes(lay, pdn))
        direct_modify(conn, gdn, add_changes(lay, pdn))
        direct_modify(conn, gdn, remove_changes(lay, pdn))
        _, get_trips = self.gw_get()
        read = self.recorder.last_search
        if get_trips != 1 or read is None:
            raise SystemExit(f"GET took {get_trips} LDAP round trips; the bench expects one search")
        direct_read(conn, read)

        s: dict[str, list[float]] = {
            k: []
            for k in (
                "gw_add",
                "gw_remove",
                "ldap_add",
                "ldap_remove",
                "gw_get",
                "ldap_get",
                "paired_add",
                "paired_remove",
                "lookup",
                "resolve",
                "python",
            )
        }
        trips: dict[str, list[int]] = {"add": [], "remove": [], "get": []}

        def gateway_pair() -> None:
            for name, body in (("add", self.add_body), ("remove", self.remove_body)):
                seconds, n = self.gw_patch(body)
                s[f"gw_{name}"].append(seconds)
                searches = [t for op, t in self.recorder.calls if op == "search"]
                s[f"paired_{name}"].append(seconds - self.recorder.seconds("modify"))
                s["lookup"].append(searches[0])
                s["resolve"].append(sum(searches[1:]))
                s["python"].append(seconds - sum(t for _, t in self.recorder.calls))
                trips[name].append(n)

        def direct_pair() -> None:
            s["ldap_add"].append(direct_modify(conn, gdn, add_changes(lay, pdn)))
            s["ldap_remove"].append(direct_modify(conn, gdn, remove_changes(lay, pdn)))

        # writes: the same state changes on both sides, the side going first alternating
        for i in range(repeat):
            first, second = (
                (gateway_pair, direct_pair) if i % 2 == 0 else (direct_pair, gateway_pair)
            )
            first()
            second()
        # reads, in a steady state (no write in between), alternating too
        for i in range(repeat * 2):
            if i % 2:
                s["ldap_get"].append(direct_read(conn, read))
            seconds, n = self.gw_get()
            s["gw_get"].append(seconds)
            trips["get"].append(n)
            if not i % 2:
                s["ldap_get"].append(direct_read(conn, read))

        m = {k: median_ms(v) for k, v in s.items()}
        return Row(
            self.size,
            gw_add_ms=m["gw_add"],
            gw_remove_ms=m["gw_remove"],
            gw_get_ms=m["gw_get"],
            ldap_add_ms=m["ldap_add"],
            ldap_remove_ms=m["ldap_remove"],
            ldap_get_ms=m["ldap_get"],
            own_add_ms=m["gw_add"] - m["ldap_add"],
            own_remove_ms=m["gw_remove"] - m["ldap_remove"],
            paired_add_ms=m["paired_add"],
            paired_remove_ms=m["paired_remove"],
            trips_add=max(trips["add"]),
            trips_remove=max(trips["remove"]),
            trips_get=max(trips["get"]),
            lookup_ms=m["lookup"],
            resolve_ms=m["resolve"],
            python_ms=m["python"],
            samples_ms={k: [round(x * 1000, 3) for x in v] for k, v in s.items()},
        )


# ---------------------------------------------------------------------------- report


def verdicts(rows: list[Row]) -> list[tuple[str, float, float, str]]:
    """(what, ratio, target, verdict) of the largest size against the smallest."""
    small, large = rows[0], rows[-1]
    out = []
    for name, a, b, target in (
        ("own cost, add (gw - direct)", large.own_add_ms, small.own_add_ms, ADD_TARGET),
        ("own cost, remove (gw - direct)", large.own_remove_ms, small.own_remove_ms, ADD_TARGET),
        ("own cost, add (paired)", large.paired_add_ms, small.paired_add_ms, ADD_TARGET),
        ("own cost, remove (paired)", large.paired_remove_ms, small.paired_remove_ms, ADD_TARGET),
        ("GET excludedAttributes=members", large.gw_get_ms, small.gw_get_ms, GET_TARGET),
    ):
        if a <= 0 or b <= 0:  # a difference of medians drowned in the directory's jitter
            out.append((name, float("nan"), target, "NOT MEASURABLE (negative: noise)"))
            continue
        ratio = a / b
        out.append((name, ratio, target, "MET" if ratio <= target else "MISSED"))
    return out


def table(rows: list[Row]) -> str:
    head = (
        f"{'members':>8} | {'gw add':>7} {'ldap':>7} {'own':>6} {'paired':>6} {'rt':>2} | "
        f"{'gw rm':>7} {'ldap':>7} {'own':>6} {'paired':>6} {'rt':>2} | "
        f"{'gw GET':>6} {'ldap':>6} {'rt':>2}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.size:>8} | {r.gw_add_ms:>7.2f} {r.ldap_add_ms:>7.2f} {r.own_add_ms:>6.2f} "
            f"{r.paired_add_ms:>6.2f} {r.trips_add:>2} | {r.gw_remove_ms:>7.2f} "
            f"{r.ldap_remove_ms:>7.2f} {r.own_remove_ms:>6.2f} {r.paired_remove_ms:>6.2f} "
            f"{r.trips_remove:>2} | {r.gw_get_ms:>6.2f} {r.ldap_get_ms:>6.2f} {r.trips_get:>2}"
        )
    lines += [
        "median ms. ldap: the same modify sent directly with ldap3 (for GET: the gateway's own",
        "search, replayed). own = gw - ldap (medians). paired = median over requests of the",
        "request time minus the time of its own modify round trip. rt = LDAP round trips.",
    ]
    return "\n".join(lines)


def breakdown(rows: list[Row]) -> str:
    head = f"{'members':>8} | {'lookup':>7} {'resolve':>7} {'python':>7} | {'paired':>7}"
    lines = [head, "-" * len(head)]
    for r in rows:
        paired = (r.paired_add_ms + r.paired_remove_ms) / 2
        lines.append(
            f"{r.size:>8} | {r.lookup_ms:>7.2f} {r.resolve_ms:>7.2f} {r.python_ms:>7.2f} "
            f"| {paired:>7.2f}"
        )
    lines += [
        "PATCH add/remove besides its modify (median ms): lookup = the search finding the group",
        "by id (slapd decodes the whole entry to test the filter), resolve = member id search,",
        "python = everything else in the gateway. paired = mean of the add and remove columns.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="10,10000,100000", help="comma-separated group sizes")
    parser.add_argument("--repeat", type=int, default=21, help="timed rounds per size")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the slapd run directory")
    args = parser.parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    if not sizes or sizes[0] < 1:
        parser.error("--sizes needs positive integers")
    if not slapd_installed():
        print("slapd is not installed: apt-get install slapd ldap-utils", file=sys.stderr)
        return 3

    lay = layout()
    work = Path(tempfile.mkdtemp(prefix="bench-groups-"))
    # mdb map: ~2 KiB per member (entry, memberOf, indexes) plus headroom
    os.environ.setdefault("SLAPD_DB_MAXSIZE", str(max(1 << 30, sum(sizes) * 8192)))
    slapd = Slapd(work / "slapd", dbnosync=False)
    try:
        slapd.start()
        print(f"slapd {slapd.url} (durable: dbnosync off), run dir {slapd.run_dir}", flush=True)
        seconds = load(slapd, lay, sizes, work)
        total = sum(sizes) + len(sizes)
        print(
            f"loaded {total} users and {len(sizes)} groups with slapadd in {seconds:.1f}s",
            flush=True,
        )

        app = create_app(
            Settings(
                ldap_urls=(slapd.url,),
                ldap_bind_dn=slapd.admin_dn,
                ldap_bind_password=slapd.admin_password,
                token=TOKEN,
                mapping_path=MAPPING,
                log_level="WARNING",
            )
        )
        trips: list[int] = []

        @app.after_request
        def _count(response: Any) -> Any:
            counter = g.get("round_trips")
            trips.append(counter.count if counter is not None else -1)
            return response

        recorder = Recorder(next(iter(app.extensions["scim"].services.values())).directory)
        client = app.test_client()
        headers = {"Authorization": f"Bearer {TOKEN}"}
        conn = direct_connection(slapd)
        rows = []
        try:
            for size in sizes:
                started = time.perf_counter()
                bench = Bench(size, client, headers, conn, lay, recorder, trips)
                if size == sizes[0]:
                    bench.check_loaded()
                rows.append(bench.run(args.repeat))
                print(f"  size {size}: {time.perf_counter() - started:.1f}s", flush=True)
        finally:
            conn.unbind()
            app.extensions["scim"].pool.close_all()

        print()
        print(table(rows))
        print()
        print(breakdown(rows))
        print()
        results = verdicts(rows) if len(rows) > 1 else []
        for name, ratio, target, verdict in results:
            print(
                f"{name}: {rows[-1].size} vs {rows[0].size} members = {ratio:.2f}x "
                f"(target <= {target}x) {verdict}"
            )
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "sizes": sizes,
                        "repeat": args.repeat,
                        "load_seconds": round(seconds, 2),
                        "durable": True,
                        "rows": [asdict(r) for r in rows],
                        "targets": [
                            {
                                "what": n,
                                "ratio": None if r != r else round(r, 3),
                                "target": t,
                                "verdict": v,
                            }
                            for n, r, t, v in results
                        ],
                    },
                    indent=2,
                ),
                encoding="utf-8",
            )
            print(f"wrote {args.json}")
        return 0
    finally:
        slapd.stop()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
