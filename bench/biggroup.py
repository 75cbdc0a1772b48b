"""A big group's full GET: the gateway beside ldap3 and slapd, in time, memory and round trips.

    .venv/bin/python bench/biggroup.py                        # groups of 20,000 and 100,000
    .venv/bin/python bench/biggroup.py --sizes 20000 --repeat 9 --json out.json
    .venv/bin/python bench/biggroup.py --sizes 20000 --profile   # + cProfile of one GET

What it does:

1. Starts its own slapd (``tests/support/slapd.py``) in a temporary directory and loads, for
   each size N, N users and one ``groupOfNames`` holding them all (plus a 10-member group to
   warm up on) with ``slapadd -q`` while slapd is stopped (``bench/groups.py`` builds the LDIF).
2. Starts the real served path (``docker/gateway/entrypoint.sh`` → ``scim-gateway serve``,
   as ``bench/run.py`` does) with ONE worker process, so that the worker's peak RSS
   (``VmHWM`` in ``/proc/<pid>/status``) is the memory of the requests measured here.
3. For each size, ``--repeat`` rounds, alternating side by side:
   - ``ldap3``: ldap3 reading the group entry with its ``member`` values (base search);
   - ``deref``: ``ldapsearch -E deref=member:entryUUID,objectClass`` — slapd's own time for
     the base search the gateway sends (the group's ``cn``; its ``member`` values are not
     asked for, the control brings each member's DN), output included (read through a pipe);
   - ``codec``: that same search sent and decoded by the gateway's own codec
     (``gateway.directory.exchange``) on an ldap3-bound connection; also gives the answer's
     size in bytes;
   - ``served``: ``GET /scim/v2/Groups/{id}`` over keep-alive HTTP to the served gateway,
     body read whole; round trips from its Prometheus counter (LDAP operations per request);
   - ``inproc``: the same GET through ``FrontDoor._call_wsgi`` in this process (what a pool
     thread runs: Flask, auth, logging, metrics, mapping, codec; no HTTP), round trips from
     the per-request counter the app keeps;
   - ``served attributes=members.value`` and ``excludedAttributes=members``: the projections
     (members' values only; no members at all, the group's other attributes).
4. Reports medians in ms, the ratios served/ldap3 and inproc/ldap3 (issue 17's target: a
   20,000-member group's full GET at most 5x ldap3's read), the served worker's VmHWM after
   warm-up and after each size's GETs, and the growth beside the LDAP answer's size (the
   target: memory flat, i.e. growth a small multiple of the answer).

Nothing here asserts a time. With ``--profile`` one in-process full GET of the largest size
runs under cProfile and its top costs are printed.
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import json
import logging
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="bench-metrics-"))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore", message="(tagMap|typeMap) is deprecated")
warnings.filterwarnings("ignore", category=DeprecationWarning)

import groups as groups_bench  # noqa: E402
import ldap3  # noqa: E402
import run as run_bench  # noqa: E402
from flask import g  # noqa: E402
from support.slapd import Slapd, slapd_installed  # noqa: E402

from gateway.app import create_app  # noqa: E402
from gateway.directory import ldapfilter, messages  # noqa: E402
from gateway.directory.exchange import exchange  # noqa: E402
from gateway.frontdoor.bridge import FrontDoor, Limits, Stream, wsgi_environ  # noqa: E402
from gateway.logconfig import configure_logging  # noqa: E402
from gateway.settings import Settings  # noqa: E402

TOKEN = run_bench.TOKEN
WARM_SIZE = 10
DEREF_ATTRS = ("entryUUID", "objectClass")  # what the gateway asks (Membership.deref_spec)
TARGET = 5.0


@dataclass
class Row:
    size: int
    answer_bytes: int = 0
    ldap3_ms: float = 0.0
    deref_ms: float = 0.0
    codec_ms: float = 0.0
    served_ms: float = 0.0
    inproc_ms: float = 0.0
    values_ms: float = 0.0  # served, attributes=members.value
    excluded_ms: float = 0.0  # served, excludedAttributes=members
    body_bytes: int = 0
    served_trips: float = 0.0
    inproc_trips: int = 0
    hwm_before_kib: int = 0
    hwm_after_kib: int = 0
    samples_ms: dict[str, list[float]] = field(default_factory=dict)


# ---------------------------------------------------------------------------- the sides


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    out = call()
    return time.perf_counter() - started, out


def ldap3_read(conn: ldap3.Connection, dn: str, size: int) -> None:
    """ldap3 reading the group entry with its members (what the issue compares against)."""
    ok = conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=["member"])
    members = conn.response[0]["attributes"].get("member") if ok and conn.response else None
    if not members or len(members) != size:
        raise SystemExit(f"ldap3 read of {dn}: {conn.result}")


def ldapsearch_deref(slapd: Slapd, password_file: Path, dn: str) -> None:
    """slapd's answer to the gateway's base search with the dereference control."""
    proc = subprocess.run(
        [
            "ldapsearch",
            "-x",
            "-LLL",
            "-H",
            slapd.url,
            "-D",
            slapd.admin_dn,
            "-y",
            str(password_file),
            "-b",
            dn,
            "-s",
            "base",
            "-E",
            f"deref=member:{','.join(DEREF_ATTRS)}",
            "(objectClass=*)",
            "cn",  # the members come through the control, not as values (as the gateway asks)
        ],
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"ldapsearch failed: {proc.stderr.decode()[-500:]}")


class CountingSocket:
    """A socket that counts the bytes received (the LDAP answer's size)."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.received = 0

    def recv(self, size: int) -> bytes:
        data = self.sock.recv(size)
        self.received += len(data)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


class Codec:
    """The gateway's codec on an ldap3-bound connection: the base search with deref."""

    def __init__(self, slapd: Slapd) -> None:
        self.conn = slapd.admin_connection()
        self.counting = CountingSocket(self.conn.socket)

    def read(self, dn: str, size: int) -> int:
        request = messages.search_request(dn, "base", ldapfilter.MATCH_ALL, ["cn"])
        control = messages.deref_control([("member", DEREF_ATTRS)])
        self.counting.received = 0
        holder = _Holder(self.counting, self.conn)
        reply = exchange(holder, request, [control], max_bytes=1 << 30)
        linked = reply.entries[0].linked or {}
        if len(linked.get("member", ())) != size:
            raise SystemExit(f"codec read of {dn}: {len(linked.get('member', ()))} members")
        return self.counting.received

    def close(self) -> None:
        self.conn.unbind()


class _Holder:
    """What ``exchange`` needs of an ldap3 Connection, with the counting socket."""

    def __init__(self, sock: CountingSocket, conn: ldap3.Connection) -> None:
        self.socket = sock
        self.closed = False
        self.receive_timeout = getattr(conn, "receive_timeout", None) or 30


class Served:
    """The served gateway over one keep-alive HTTP connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def get(self, path: str) -> tuple[int, bytes, dict[str, str]]:
        try:
            return self._get(path)
        except (http.client.RemoteDisconnected, ConnectionError):
            # idle past the server's keep-alive (5 s) while the other sides ran: reconnect
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            return self._get(path)

    def _get(self, path: str) -> tuple[int, bytes, dict[str, str]]:
        self.conn.request("GET", path, headers={"Authorization": f"Bearer {TOKEN}"})
        resp = self.conn.getresponse()
        return resp.status, resp.read(), {k.lower(): v for k, v in resp.getheaders()}

    def ldap_operations(self) -> float:
        return run_bench.scrape(self.port)["ldap"]


def worker_pid(master: int) -> int:
    """The one gunicorn worker under ``master``."""
    for _ in range(100):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                return int(entry)
        time.sleep(0.1)
    raise SystemExit("no gateway worker found")


def vm_hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise SystemExit(f"no VmHWM for {pid}")


class InProcess:
    """The app through the front door's thread side, counting LDAP round trips."""

    def __init__(self, slapd: Slapd) -> None:
        handler = configure_logging("WARNING", "json", secrets=[TOKEN])
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115
        self.app = create_app(
            Settings(
                ldap_urls=(slapd.url,),
                ldap_bind_dn=slapd.admin_dn,
                ldap_bind_password=slapd.admin_password,
                token=TOKEN,
                mapping_path=groups_bench.MAPPING,
                log_level="WARNING",
            )
        )
        self.trips: list[int] = []

        @self.app.after_request
        def _count(response: Any) -> Any:
            counter = g.get("round_trips")
            self.trips.append(counter.count if counter is not None else -1)
            return response

        self.door = FrontDoor(self.app, Limits())

    def get(self, path: str, query: str = "") -> bytes:
        scope = {
            "type": "http",
            "method": "GET",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "headers": [
                (b"host", b"127.0.0.1:8080"),
                (b"authorization", f"Bearer {TOKEN}".encode()),
            ],
            "server": ("127.0.0.1", 8080),
            "client": ("127.0.0.1", 5555),
            "scheme": "http",
            "http_version": "1.1",
        }
        status, _, answer = self.door._call_wsgi(wsgi_environ(scope, b""))
        if isinstance(answer, Stream):  # a big group: the rest rendered here, as the pool would
            try:
                content = answer.drain()
            finally:
                answer.close()
        else:
            content = answer
        if status != 200:
            raise SystemExit(f"GET {path}: {status} {content[:300]!r}")
        return content

    def close(self) -> None:
        self.app.extensions["scim"].pool.close_all()


# ---------------------------------------------------------------------------- measuring


def check_members(body: bytes, size: int, what: str) -> None:
    members = json.loads(body).get("members") or []
    if len(members) != size or not all(isinstance(m.get("value"), str) for m in members):
        raise SystemExit(f"{what}: {len(members)} members listed, {size} expected")


def measure(
    size: int,
    repeat: int,
    slapd: Slapd,
    password_file: Path,
    conn: ldap3.Connection,
    codec: Codec,
    served: Served,
    worker: int,
    inproc: InProcess,
    lay: groups_bench.Layout,
) -> Row:
    dn = groups_bench.group_dn(lay, size)
    gid = groups_bench.entry_uuid(conn, dn)
    path = f"/scim/v2/Groups/{gid}"
    row = Row(size, hwm_before_kib=vm_hwm_kib(worker))
    samples: dict[str, list[float]] = {
        k: [] for k in ("ldap3", "deref", "codec", "served", "inproc", "values", "excluded")
    }

    def served_get(query: str, key: str, check: Callable[[bytes], None]) -> None:
        before = served.ldap_operations()
        seconds, (status, body, _) = timed(lambda: served.get(path + query))
        if status != 200:
            raise SystemExit(f"served GET {path}{query}: {status} {body[:300]!r}")
        check(body)
        samples[key].append(seconds)
        if key == "served":
            row.body_bytes = len(body)
            row.served_trips = served.ldap_operations() - before

    def excluded(body: bytes) -> None:
        if "members" in json.loads(body):
            raise SystemExit("excludedAttributes=members still listed members")

    sides: list[tuple[str, Callable[[], Any]]] = [
        ("ldap3", lambda: ldap3_read(conn, dn, size)),
        ("deref", lambda: ldapsearch_deref(slapd, password_file, dn)),
        ("codec", lambda: codec.read(dn, size)),
        ("served", lambda: served_get("", "served", lambda b: check_members(b, size, "served"))),
        (
            "inproc",
            lambda: check_members(inproc.get(path), size, "in-process"),
        ),
        (
            "values",
            lambda: served_get(
                "?attributes=members.value",
                "values",
                lambda b: check_members(b, size, "attributes=members.value"),
            ),
        ),
        ("excluded", lambda: served_get("?excludedAttributes=members", "excluded", excluded)),
    ]
    for name, call in sides:  # warm-up, checks
        if name not in ("served", "values", "excluded"):
            call()
    row.answer_bytes = codec.read(dn, size)
    for i in range(repeat):
        order = sides if i % 2 == 0 else sides[::-1]
        for name, call in order:
            if name in ("served", "values", "excluded"):
                call()
            else:
                seconds, _ = timed(call)
                samples[name].append(seconds)
    row.inproc_trips = inproc.trips[-1]
    row.hwm_after_kib = vm_hwm_kib(worker)
    med = {k: statistics.median(v) * 1000 for k, v in samples.items()}
    row.ldap3_ms, row.deref_ms, row.codec_ms = med["ldap3"], med["deref"], med["codec"]
    row.served_ms, row.inproc_ms = med["served"], med["inproc"]
    row.values_ms, row.excluded_ms = med["values"], med["excluded"]
    row.samples_ms = {k: [round(x * 1000, 2) for x in v] for k, v in samples.items()}
    return row


def profile_get(inproc: InProcess, path: str, top: int) -> str:
    profile = cProfile.Profile()
    profile.enable()
    inproc.get(path)
    profile.disable()
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(top)
    return text.getvalue()


def table(rows: list[Row], warm_hwm: int) -> str:
    head = (
        f"{'members':>8} | {'ldap3':>6} {'deref':>6} {'codec':>6} | {'served':>6} "
        f"{'x':>5} {'inproc':>6} {'x':>5} {'rt':>3} | {'.value':>6} {'excl':>5} | "
        f"{'answer':>7} {'body':>7} {'HWM':>7} {'growth':>7}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.size:>8} | {r.ldap3_ms:>6.0f} {r.deref_ms:>6.0f} {r.codec_ms:>6.0f} | "
            f"{r.served_ms:>6.0f} {r.served_ms / r.ldap3_ms:>5.1f} {r.inproc_ms:>6.0f} "
            f"{r.inproc_ms / r.ldap3_ms:>5.1f} {r.served_trips:>3.0f} | {r.values_ms:>6.0f} "
            f"{r.excluded_ms:>5.1f} | {r.answer_bytes / 2**20:>6.1f}M {r.body_bytes / 2**20:>6.1f}M"
            f" {r.hwm_after_kib / 1024:>6.0f}M {(r.hwm_after_kib - warm_hwm) / 1024:>6.0f}M"
        )
    lines += [
        "median ms. ldap3: ldap3 reads the group with its members; deref: ldapsearch with the",
        "dereference control (slapd's answer, output included); codec: that search through the",
        "gateway's codec. served: full GET over HTTP (x: / ldap3); inproc: the same in process;",
        "rt: LDAP round trips per served GET; .value: attributes=members.value; excl:",
        "excludedAttributes=members. answer: the LDAP answer's bytes; body: the JSON body;",
        f"HWM: the served worker's peak RSS after the GETs; growth: over {warm_hwm / 1024:.0f}M "
        "after warm-up.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="20000,100000", help="comma-separated group sizes")
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds per size")
    parser.add_argument("--threads", type=int, default=4, help="threads of the served worker")
    parser.add_argument("--profile", action="store_true", help="cProfile one in-process GET")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    if not sizes or sizes[0] < 1:
        parser.error("--sizes needs positive integers")
    if not slapd_installed():
        print("slapd is not installed: apt-get install slapd ldap-utils", file=sys.stderr)
        return 3

    lay = groups_bench.layout()
    work = Path(tempfile.mkdtemp(prefix="bench-biggroup-"))
    os.environ.setdefault("SLAPD_DB_MAXSIZE", str(max(1 << 30, sum(sizes) * 8192)))
    slapd = Slapd(work / "slapd", dbnosync=True)
    proc: subprocess.Popen[bytes] | None = None
    closers: list[Callable[[], None]] = []
    try:
        slapd.start()
        seconds = groups_bench.load(slapd, lay, [WARM_SIZE, *sizes], work)
        print(f"slapd {slapd.url}: loaded {sum(sizes) + WARM_SIZE} users in {seconds:.1f}s")
        run_dir = work / "gateway"
        run_dir.mkdir()
        own_metrics = os.environ.pop("PROMETHEUS_MULTIPROC_DIR")  # the worker makes its own
        try:
            proc, port = run_bench.start_gateway(slapd, run_dir, 1, args.threads)
        finally:
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = own_metrics
        worker = worker_pid(proc.pid)
        password_file = run_dir / "ldap-password"
        conn = groups_bench.direct_connection(slapd)
        closers.append(conn.unbind)
        codec = Codec(slapd)
        closers.append(codec.close)
        served = Served(port)
        closers.append(served.conn.close)
        inproc = InProcess(slapd)
        closers.append(inproc.close)

        warm_id = groups_bench.entry_uuid(conn, groups_bench.group_dn(lay, WARM_SIZE))
        for _ in range(5):
            _, body, _ = served.get(f"/scim/v2/Groups/{warm_id}")
            check_members(body, WARM_SIZE, "warm-up")
        warm_hwm = vm_hwm_kib(worker)
        rows = []
        for size in sizes:
            started = time.perf_counter()
            rows.append(
                measure(
                    size,
                    args.repeat,
                    slapd,
                    password_file,
                    conn,
                    codec,
                    served,
                    worker,
                    inproc,
                    lay,
                )
            )
            print(f"  size {size}: {time.perf_counter() - started:.1f}s", flush=True)
        print()
        print(table(rows, warm_hwm))
        for r in rows:
            verdict = "MET" if r.served_ms <= TARGET * r.ldap3_ms else "MISSED"
            print(
                f"{r.size} members: served full GET {r.served_ms / r.ldap3_ms:.1f}x ldap3 "
                f"(target <= {TARGET}x) {verdict}; worker peak RSS grew "
                f"{(r.hwm_after_kib - warm_hwm) / 1024:.0f} MiB for an answer of "
                f"{r.answer_bytes / 2**20:.1f} MiB"
            )
        if args.profile:
            gid = groups_bench.entry_uuid(conn, groups_bench.group_dn(lay, sizes[-1]))
            print(profile_get(inproc, f"/scim/v2/Groups/{gid}", args.top))
        if args.json:
            args.json.write_text(
                json.dumps(
                    {"sizes": sizes, "warm_hwm_kib": warm_hwm, "rows": [asdict(r) for r in rows]},
                    indent=2,
                ),
                encoding="utf-8",
            )
            print(f"wrote {args.json}")
        return 0
    finally:
        for close in reversed(closers):
            try:
                close()
            except Exception as err:  # clean-up goes on
                print(f"clean-up: {err}", file=sys.stderr)
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        slapd.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
