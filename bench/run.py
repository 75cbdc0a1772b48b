"""The gateway beside raw ldap3, on the same slapd, in one run.

    .venv/bin/python bench/run.py                 # 5 s per operation and concurrency
    .venv/bin/python bench/run.py --quick         # ~1 s each: the CI regression guard
    .venv/bin/python bench/run.py --workers 2 --threads 4 --json out.json

It starts its own durable slapd (tests/support/slapd.py, the same script as the tests and
the dev command) and the real ``scim-gateway serve`` (gunicorn, docker/gateway/entrypoint.sh),
seeds users and groups, warms both sides up, then for concurrency 1 and 8 runs each SCIM
operation for a fixed time over keep-alive HTTP, and the LDAP work that operation needs done
directly with ldap3 (one connection per client thread), in alternating slices so that a slow
moment of the machine falls on both sides. It prints ops/s, p50/p99 latency, the ratio
gateway/raw, the LDAP round trips per SCIM operation (from the gateway's own Prometheus
counters) and the gateway's CPU per request (utime+stime of the gunicorn processes).
The table is informative; nothing here asserts a time.

PATCH: each gateway worker remembers the DNs of the users it has seen (SCIM_GATEWAY_
DN_CACHE_SIZE, docs/operations.md "PATCH in one round trip"), and then a PATCH is one modify.
Entra reads a user (``filter=userName eq ...``) before it PATCHes it, so before the PATCH
phases the bench does the same: every seeded user is read by filter over several
connections, which reach every worker; the ``rt`` column shows what the PATCHes then
needed (1; 2 for a user a worker has not seen). The raw side does what the gateway did
before (search by id, then modify): the comparison is with a client that does not
remember. ``SCIM_GATEWAY_DN_CACHE_SIZE=0 bench/run.py`` measures the gateway without it.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore", message="(tagMap|typeMap) is deprecated")

import ldap3  # noqa: E402
from ldap3.protocol.rfc4527 import post_read_control  # noqa: E402
from ldap3.utils.conv import escape_filter_chars  # noqa: E402
from support.slapd import Slapd, free_port  # noqa: E402

from gateway.metrics import FLUSH_SECONDS  # noqa: E402

METRICS_SETTLE = FLUSH_SECONDS + 0.2
"""How long after a gateway slice its counters are read: each worker writes its request and
LDAP counts to the shared metrics files once every FLUSH_SECONDS (a scrape only brings its own
worker's up to date), so reading at once would leave some of the slice's counts to the next
phase and blur the ``rt`` column between operations."""

TOKEN = "bench-token-0123456789abcdef"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER_ATTRS = [
    "uid",
    "businessCategory",
    "displayName",
    "givenName",
    "sn",
    "cn",
    "title",
    "preferredLanguage",
    "mail",
    "telephoneNumber",
    "mobile",
    "employeeNumber",
    "departmentNumber",
    "manager",
    "memberOf",
    "entryUUID",
    "entryCSN",
    "createTimestamp",
    "modifyTimestamp",
    "pwdAccountLockedTime",
]
READ_BACK = ["entryUUID", "entryCSN", "createTimestamp", "modifyTimestamp"]
OPERATIONS = (
    "create",
    "filter_get",
    "get_by_id",
    "get_grouped",
    "patch",
    "add_member",
    "delete",
)
GROUPS_PER_USER = 3  # get_grouped: a user in groups, whose ids come with it (dereference)


@dataclass
class Result:
    operation: str
    side: str  # gateway | raw
    concurrency: int
    ops: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float
    round_trips: float | None = None
    cpu_ms_per_op: float | None = None

    @property
    def rate(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0


PLACEHOLDER = "cn=empty-membership-placeholder,dc=example,dc=org"  # mappings/openldap.yaml


@dataclass
class World:
    """What the operations work on: seeded users, a group, ids created by the create phases."""

    people: str
    groups: str
    seeded: list[tuple[str, str]]  # (uid, entryUUID), in no group
    joiners: list[tuple[str, str]]  # (uid, entryUUID), added to the group by add_member
    grouped: list[tuple[str, str]]  # (uid, entryUUID), each in GROUPS_PER_USER groups
    group_id: str
    group_dn: str
    raw_group_dn: str  # the raw side adds the same users to a group of its own
    created: dict[str, list[tuple[str, str]]] = field(
        default_factory=lambda: {"gateway": [], "raw": []}
    )
    lock: threading.Lock = field(default_factory=threading.Lock)
    counter: itertools.count = field(default_factory=itertools.count)


# ------------------------------------------------------------------------------ clients


class Http:
    """One keep-alive HTTP connection per client thread."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/scim+json"}

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body) if body is not None else None
        self.conn.request(method, f"/scim/v2{path}", body=data, headers=self.headers)
        resp = self.conn.getresponse()
        raw = resp.read()
        return resp.status, (json.loads(raw) if raw else None)

    def close(self) -> None:
        self.conn.close()


def gateway_op(name: str, world: World, http_client: Http, rnd: random.Random) -> bool:
    n = next(world.counter)
    if name == "create":
        status, body = http_client.call(
            "POST",
            "/Users",
            {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": f"gw-{n}",
                "name": {"givenName": "Bench", "familyName": f"User{n}"},
                "emails": [{"type": "work", "value": f"gw-{n}@example.org"}],
                "active": True,
            },
        )
        if status == 201:
            with world.lock:
                world.created["gateway"].append((body["userName"], body["id"]))
        return status == 201
    if name == "filter_get":
        uid, _ = rnd.choice(world.seeded)
        query = f'userName eq "{uid}"'.replace(" ", "+").replace('"', "%22")
        status, body = http_client.call("GET", f"/Users?filter={query}")
        return status == 200 and body["totalResults"] == 1
    if name == "get_by_id":
        _, ident = rnd.choice(world.seeded)
        return http_client.call("GET", f"/Users/{ident}")[0] == 200
    if name == "get_grouped":
        _, ident = rnd.choice(world.grouped)
        status, body = http_client.call("GET", f"/Users/{ident}")
        return status == 200 and len(body.get("groups", [])) == GROUPS_PER_USER
    if name == "patch":
        _, ident = rnd.choice(world.seeded)
        ops = [{"op": "replace", "path": "title", "value": f"title {n}"}]
        return (
            http_client.call(
                "PATCH", f"/Users/{ident}", {"schemas": [PATCH_OP], "Operations": ops}
            )[0]
            == 200
        )
    if name == "add_member":
        _, ident = world.joiners[n % len(world.joiners)]
        ops = [{"op": "add", "path": "members", "value": [{"value": ident}]}]
        return (
            http_client.call(
                "PATCH", f"/Groups/{world.group_id}", {"schemas": [PATCH_OP], "Operations": ops}
            )[0]
            == 204
        )
    if name == "delete":
        with world.lock:
            if not world.created["gateway"]:
                raise StopIteration
            _, ident = world.created["gateway"].pop()
        return http_client.call("DELETE", f"/Users/{ident}")[0] == 204
    raise ValueError(name)


def raw_op(name: str, world: World, conn: ldap3.Connection, rnd: random.Random) -> bool:
    """The LDAP work the SCIM operation needs, done directly."""
    n = next(world.counter)
    user_filter = "(&(objectClass=inetOrgPerson)(entryUUID={}))"
    if name == "create":
        dn = f"uid=raw-{n},{world.people}"
        ok = conn.add(
            dn,
            ["top", "person", "organizationalPerson", "inetOrgPerson"],
            {
                "uid": f"raw-{n}",
                "sn": f"User{n}",
                "givenName": "Bench",
                "cn": f"Bench User{n}",
                "mail": f"raw-{n}@example.org",
            },
            controls=[post_read_control(READ_BACK)],
        )
        if ok:
            ident = conn.result["controls"]["1.3.6.1.1.13.2"]["value"]["result"]["entryUUID"]
            with world.lock:
                world.created["raw"].append((dn, ident[0] if isinstance(ident, list) else ident))
        return ok
    if name == "filter_get":
        uid, _ = rnd.choice(world.seeded)
        return (
            conn.search(
                world.people,
                f"(&(objectClass=inetOrgPerson)(uid={uid}))",
                ldap3.LEVEL,
                attributes=USER_ATTRS,
            )
            and len(conn.response) == 1
        )
    if name == "get_by_id":
        _, ident = rnd.choice(world.seeded)
        return conn.search(
            world.people, user_filter.format(ident), ldap3.LEVEL, attributes=USER_ATTRS
        )
    if name == "get_grouped":  # the user, and its groups' ids dereferenced in the same search
        _, ident = rnd.choice(world.grouped)
        return conn.search(
            world.people,
            user_filter.format(ident),
            ldap3.LEVEL,
            attributes=USER_ATTRS,
            controls=[deref_control()],
        )
    if name == "patch":
        _, ident = rnd.choice(world.seeded)
        conn.search(world.people, user_filter.format(ident), ldap3.LEVEL, attributes=USER_ATTRS)
        dn = conn.response[0]["dn"]
        return conn.modify(
            dn,
            {"title": [(ldap3.MODIFY_REPLACE, [f"title {n}"])]},
            controls=[post_read_control(READ_BACK)],
        )
    if name == "add_member":  # lookup; add (placeholder out in the same modify); re-check
        _, ident = world.joiners[n % len(world.joiners)]
        conn.search(world.people, user_filter.format(ident), ldap3.LEVEL, attributes=["1.1"])
        dn = conn.response[0]["dn"]
        ok = conn.modify(
            world.raw_group_dn,
            {
                "member": [
                    (ldap3.MODIFY_ADD, [dn, PLACEHOLDER]),
                    (ldap3.MODIFY_DELETE, [PLACEHOLDER]),
                ]
            },
            controls=[("1.2.840.113556.1.4.1413", False, None)],
        )
        conn.search(world.people, user_filter.format(ident), ldap3.LEVEL, attributes=["1.1"])
        return ok and conn.response[0]["dn"] == dn
    if name == "delete":  # lookup; delete; sweep groups that gained it meanwhile
        with world.lock:
            if not world.created["raw"]:
                raise StopIteration
            _, ident = world.created["raw"].pop()
        conn.search(world.people, user_filter.format(ident), ldap3.LEVEL, attributes=["1.1"])
        dn = conn.response[0]["dn"]
        ok = conn.delete(dn)
        member = escape_filter_chars(dn)
        conn.search(
            world.groups, f"(&(objectClass=groupOfNames)(member={member}))", attributes=["1.1"]
        )
        return ok
    raise ValueError(name)


# ------------------------------------------------------------------------------ running


def run_phase(
    seconds: float,
    concurrency: int,
    make_client: Callable[[], Any],
    do: Callable[[Any, random.Random], bool],
    close: Callable[[Any], None],
) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()

    def worker(seed: int) -> None:
        rnd = random.Random(seed)
        client = make_client()
        mine: list[float] = []
        bad = 0
        try:
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                try:
                    ok = do(client, rnd)
                except StopIteration:
                    break
                mine.append(time.perf_counter() - t0)
                bad += 0 if ok else 1
        finally:
            close(client)
            with lock:
                latencies.extend(mine)
                errors[0] += bad

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors[0], time.perf_counter() - started


def gateway_phase(
    name: str, seconds: float, conc: int, world: World, port: int
) -> tuple[list[float], int, float]:
    """``conc`` HTTP clients doing SCIM operation ``name`` for ``seconds``."""
    return run_phase(
        seconds,
        conc,
        lambda: Http(port),
        lambda c, r: gateway_op(name, world, c, r),
        lambda c: c.close(),
    )


def raw_phase(
    name: str, seconds: float, conc: int, world: World, slapd: Slapd
) -> tuple[list[float], int, float]:
    """``conc`` ldap3 connections doing the LDAP work of ``name`` for ``seconds``."""
    return run_phase(
        seconds,
        conc,
        slapd.admin_connection,
        lambda c, r: raw_op(name, world, c, r),
        lambda c: c.unbind(),
    )


def measure(
    name: str,
    conc: int,
    seconds: float,
    rounds: int,
    world: World,
    slapd: Slapd,
    proc: subprocess.Popen,
    port: int,
) -> tuple[Result, Result]:
    """``seconds`` of each side, in ``rounds`` alternating slices, so a disturbance (a slow
    fsync, a busy neighbour) falls on both sides instead of skewing one."""
    sides: dict[str, dict[str, Any]] = {
        side: {"lat": [], "errors": 0, "elapsed": 0.0} for side in ("gateway", "raw")
    }
    trips = requests = cpu = 0.0
    for _ in range(rounds):
        before, cpu0 = scrape(port), cpu_seconds(proc.pid)
        lat, errors, elapsed = gateway_phase(name, seconds / rounds, conc, world, port)
        time.sleep(METRICS_SETTLE)  # the flush's CPU is counted with the slice's
        after, cpu1 = scrape(port), cpu_seconds(proc.pid)
        trips += after["ldap"] - before["ldap"]
        requests += max(1.0, after["http"] - before["http"] - 1)  # minus the scrape itself
        cpu += cpu1 - cpu0
        for key, value in (("lat", lat), ("errors", errors), ("elapsed", elapsed)):
            sides["gateway"][key] += value
        lat, errors, elapsed = raw_phase(name, seconds / rounds, conc, world, slapd)
        for key, value in (("lat", lat), ("errors", errors), ("elapsed", elapsed)):
            sides["raw"][key] += value
    gw = summarize(name, "gateway", conc, **sides["gateway"])
    gw.round_trips = trips / max(1.0, requests)
    gw.cpu_ms_per_op = cpu * 1000 / max(1, gw.ops)
    return gw, summarize(name, "raw", conc, **sides["raw"])


def read_before_patch(world: World, port: int, connections: int) -> None:
    """As Entra does before it PATCHes: read each seeded user (by filter), here once on each
    of ``connections`` keep-alive connections, so that every worker process sees each one."""

    def reader(_: int) -> None:
        client = Http(port)
        try:
            for uid, _ident in world.seeded:
                query = f'userName eq "{uid}"'.replace(" ", "+").replace('"', "%22")
                client.call("GET", f"/Users?filter={query}")
        finally:
            client.close()

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def summarize(
    name: str, side: str, conc: int, lat: list[float], errors: int, elapsed: float
) -> Result:
    ms = sorted(x * 1000 for x in lat)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))] if ms else 0.0
    return Result(
        name, side, conc, len(ms), elapsed, errors, statistics.median(ms) if ms else 0.0, p99
    )


def scrape(port: int) -> dict[str, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    totals = {"ldap": 0.0, "http": 0.0}
    for line in text.splitlines():
        if line.startswith("scim_gateway_ldap_operations_total{"):
            totals["ldap"] += float(line.rsplit(" ", 1)[1])
        elif (
            line.startswith("scim_gateway_http_requests_total{")
            and "/metrics" not in line
            and 'resource_type="metrics"' not in line
        ):
            totals["http"] += float(line.rsplit(" ", 1)[1])
    return totals


def cpu_seconds(root_pid: int) -> float:
    """utime+stime of a process and its children (gunicorn master + workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        if pid == root_pid or ppid == root_pid:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def deref_control() -> tuple[str, bool, bytes]:
    """What the gateway asks slapd to dereference with a user (openldap.yaml)."""
    from gateway.directory.messages import deref_control as build

    control = build([("memberOf", ("entryUUID", "objectClass")), ("manager", ("entryUUID",))])
    assert control.value is not None
    return (control.oid, control.critical, control.value)


def seed(slapd: Slapd, users: int) -> World:
    people, groups = f"ou=People,{slapd.suffix}", f"ou=Groups,{slapd.suffix}"
    conn = slapd.admin_connection()
    seeded = []
    for i in range(users):
        uid = f"seed-{i}"
        conn.add(
            f"uid={uid},{people}",
            ["inetOrgPerson"],
            {"uid": uid, "sn": "Seed", "cn": uid},
            controls=[post_read_control(["entryUUID"])],
        )
        ident = conn.result["controls"]["1.3.6.1.1.13.2"]["value"]["result"]["entryUUID"]
        seeded.append((uid, ident[0] if isinstance(ident, list) else ident))
    group_dn = f"cn=bench,{groups}"
    conn.add(
        group_dn,
        ["groupOfNames"],
        {"cn": "bench", "member": [f"uid=seed-0,{people}"]},
        controls=[post_read_control(["entryUUID"])],
    )
    gid = conn.result["controls"]["1.3.6.1.1.13.2"]["value"]["result"]["entryUUID"]
    raw_group_dn = f"cn=bench-raw,{groups}"
    conn.add(
        raw_group_dn, ["groupOfNames"], {"cn": "bench-raw", "member": [f"uid=seed-0,{people}"]}
    )
    grouped = []
    for i in range(max(20, users // 10)):
        uid = f"grouped-{i}"
        conn.add(
            f"uid={uid},{people}",
            ["inetOrgPerson"],
            {"uid": uid, "sn": "Grouped", "cn": uid},
            controls=[post_read_control(["entryUUID"])],
        )
        ident = conn.result["controls"]["1.3.6.1.1.13.2"]["value"]["result"]["entryUUID"]
        grouped.append((uid, ident[0] if isinstance(ident, list) else ident))
    for g in range(GROUPS_PER_USER):
        conn.add(
            f"cn=bench-grouped-{g},{groups}",
            ["groupOfNames"],
            {"cn": f"bench-grouped-{g}", "member": [f"uid={u},{people}" for u, _ in grouped]},
        )
    conn.unbind()
    half = len(seeded) // 2
    return World(
        people,
        groups,
        seeded[half:],
        seeded[:half],
        grouped,
        gid[0] if isinstance(gid, list) else gid,
        group_dn,
        raw_group_dn,
    )


def start_gateway(
    slapd: Slapd, run_dir: Path, workers: int, threads: int
) -> tuple[subprocess.Popen, int]:
    port = free_port()
    (run_dir / "ldap-password").write_text(slapd.admin_password)
    env = {
        **os.environ,
        "SCIM_GATEWAY_BIN": str(Path(sys.executable).parent / "scim-gateway"),
        "SCIM_GATEWAY_BIND": f"127.0.0.1:{port}",
        "SCIM_GATEWAY_WORKERS": str(workers),
        "SCIM_GATEWAY_THREADS": str(threads),
        "SCIM_GATEWAY_LDAP_URL": slapd.url,
        "SCIM_GATEWAY_LDAP_BIND_DN": slapd.admin_dn,
        "SCIM_GATEWAY_LDAP_BIND_PASSWORD_FILE": str(run_dir / "ldap-password"),
        "SCIM_GATEWAY_TOKEN": TOKEN,
        "SCIM_GATEWAY_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
    }
    log = (run_dir / "gateway.log").open("wb")
    proc = subprocess.Popen(
        ["bash", str(ROOT / "docker/gateway/entrypoint.sh")],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/healthz")
            c.getresponse().read()
            c.close()
            return proc, port
        except OSError:
            if proc.poll() is not None:
                raise SystemExit((run_dir / "gateway.log").read_text()) from None
            time.sleep(0.1)
    raise SystemExit("gateway did not start")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="per operation and concurrency")
    parser.add_argument("--quick", action="store_true", help="~1 s per phase, fewer users (CI)")
    parser.add_argument("--concurrency", default="1,8")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--operations", default=",".join(OPERATIONS))
    parser.add_argument("--json", type=Path, help="write the results here too")
    parser.add_argument(
        "--warmup", type=float, default=1.0, help="unrecorded seconds per operation and side"
    )
    parser.add_argument(
        "--rounds", type=int, default=5, help="alternating gateway/raw slices per measurement"
    )
    args = parser.parse_args(argv)
    seconds = 1.0 if args.quick else args.seconds
    warmup = min(args.warmup, 0.3) if args.quick else args.warmup
    rounds = min(args.rounds, 2) if args.quick else max(1, args.rounds)
    users = 300 if args.quick else args.users
    levels = [int(c) for c in args.concurrency.split(",")]
    operations = [o for o in args.operations.split(",") if o]

    run_dir = Path(tempfile.mkdtemp(prefix="bench-run-"))
    slapd = Slapd(run_dir / "slapd", dbnosync=False)
    slapd.start()
    proc = None
    results: list[Result] = []
    try:
        world = seed(slapd, users)
        proc, port = start_gateway(slapd, run_dir, args.workers, args.threads)
        # Unrecorded first: fresh worker processes open their LDAP connections and fill their
        # caches, and a user's first addition to a group costs slapd more than a repeat.
        for name in operations:
            gateway_phase(name, warmup, max(levels), world, port)
            raw_phase(name, warmup, max(levels), world, slapd)
        time.sleep(METRICS_SETTLE)  # the warm-up's counts written before the first is read
        for conc in levels:
            for name in operations:
                if name == "patch":
                    read_before_patch(world, port, max(levels))
                    time.sleep(METRICS_SETTLE)
                gw, raw = measure(name, conc, seconds, rounds, world, slapd, proc, port)
                results += [gw, raw]
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)
        slapd.stop()
    print_table(results, args.workers, args.threads)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "workers": args.workers,
                    "threads": args.threads,
                    "seconds": seconds,
                    "results": [asdict(r) | {"rate": r.rate} for r in results],
                },
                indent=2,
            )
        )
    return 0


def print_table(results: list[Result], workers: int, threads: int) -> None:
    print(f"\ngunicorn: {workers} workers x {threads} threads; durable slapd; same machine\n")
    head = (
        f"{'operation':<11} {'conc':>4} | {'gw ops/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'rt':>4} {'cpu ms':>6} {'err':>4} | {'raw ops/s':>9} {'p50 ms':>7} {'p99 ms':>7} | {'gw/raw':>6}"
    )
    print(head)
    print("-" * len(head))
    raw = {(r.operation, r.concurrency): r for r in results if r.side == "raw"}
    for r in results:
        if r.side != "gateway":
            continue
        d = raw.get((r.operation, r.concurrency))
        ratio = r.rate / d.rate if d and d.rate else 0.0
        print(
            f"{r.operation:<11} {r.concurrency:>4} | {r.rate:>8.0f} {r.p50_ms:>7.2f} {r.p99_ms:>7.2f} "
            f"{r.round_trips or 0:>4.1f} {r.cpu_ms_per_op or 0:>6.2f} {r.errors:>4} | "
            f"{d.rate if d else 0:>9.0f} {d.p50_ms if d else 0:>7.2f} {d.p99_ms if d else 0:>7.2f} | "
            f"{ratio:>6.2f}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
