"""Listing a large directory page by page through the gateway: memory stays flat.

    .venv/bin/python bench/listing.py                       # 100,000 users, pages of 1,000
    .venv/bin/python bench/listing.py --users 20000 --count 500

Loads the users with slapadd (seconds, not minutes), serves the gateway with one worker
(`scim-gateway serve` through docker/gateway/entrypoint.sh), then walks
``GET /Users?startIndex=…&count=…`` to the end, printing the worker's resident memory (RSS)
and the time of each page, and checks that ``totalResults`` is right and every user was
seen exactly once. LDAP has no offsets, so each page pages through the matching DNs
(attributes ``1.1``) and reads just its window: memory is bounded by the page, time grows
with the directory (see docs/filters.md, "Sorting and paging").
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.served import Served  # noqa: E402
from support.slapd import Slapd  # noqa: E402

TOKEN = "bench-token-0123456789abcdef"


def load_users(slapd: Slapd, users: int, work: Path) -> float:
    started = time.perf_counter()
    path = work / "users.ldif"
    with path.open("w", encoding="utf-8") as out:
        for i in range(users):
            out.write(
                f"dn: uid=l{i},{slapd.people_dn}\nobjectClass: top\nobjectClass: person\n"
                f"objectClass: organizationalPerson\nobjectClass: inetOrgPerson\n"
                f"uid: l{i}\ncn: List User {i}\nsn: User\nmail: l{i}@example.org\n\n"
            )
    slapd.stop()
    binary = shutil.which("slapd") or "/usr/sbin/slapd"
    subprocess.run(
        [binary, "-Tadd", "-q", "-f", str(slapd.run_dir / "slapd.conf"), "-l", str(path)],
        check=True,
        capture_output=True,
    )
    path.unlink()
    slapd.start()
    return time.perf_counter() - started


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def worker_pid(master: int) -> int:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return int(out.split()[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="bench-listing-"))
    slapd = Slapd(work / "slapd", dbnosync=True)
    slapd.start()
    try:
        seconds = load_users(slapd, args.users, work)
        print(f"loaded {args.users} users with slapadd in {seconds:.1f}s")
        (work / "pw").write_text(slapd.admin_password)
        env = {
            "SCIM_GATEWAY_LDAP_URL": slapd.url,
            "SCIM_GATEWAY_LDAP_BIND_DN": slapd.admin_dn,
            "SCIM_GATEWAY_LDAP_BIND_PASSWORD_FILE": str(work / "pw"),
            "SCIM_GATEWAY_TOKEN": TOKEN,
            "SCIM_GATEWAY_LOG_LEVEL": "WARNING",
            "SCIM_GATEWAY_MAX_RESULTS": str(max(1000, args.count)),
        }
        with Served(env, work / "gateway.log", workers=1) as gateway:
            assert gateway.proc is not None
            pid = worker_pid(gateway.proc.pid)
            headers = {"Authorization": f"Bearer {TOKEN}"}
            seen: set[str] = set()
            rows = []
            start, total = 1, None
            while total is None or start <= total:
                t0 = time.perf_counter()
                status, body, _ = gateway.request(
                    "GET", f"/scim/v2/Users?startIndex={start}&count={args.count}", headers=headers
                )
                elapsed = time.perf_counter() - t0
                if status != 200:
                    raise SystemExit(f"page at {start}: HTTP {status}: {body[:300]!r}")
                page = json.loads(body)
                total = page["totalResults"]
                ids = [r["id"] for r in page["Resources"]]
                seen.update(ids)
                rows.append(
                    {
                        "start": start,
                        "items": len(ids),
                        "ms": elapsed * 1000,
                        "rss_kib": rss_kib(pid),
                    }
                )
                if len(rows) == 1 or len(rows) % 10 == 0 or start + args.count > total:
                    r = rows[-1]
                    print(
                        f"page {len(rows):4d} startIndex={start:6d} items={r['items']:5d} "
                        f"{r['ms']:8.1f} ms  worker RSS {r['rss_kib'] / 1024:7.1f} MiB"
                    )
                start += args.count
        rss = [r["rss_kib"] for r in rows]
        print(f"\ntotalResults={total}, distinct users seen={len(seen)}, pages={len(rows)}")
        print(
            f"worker RSS: first page {rss[0] / 1024:.1f} MiB, max {max(rss) / 1024:.1f} MiB, "
            f"last {rss[-1] / 1024:.1f} MiB"
        )
        ok = total == args.users and len(seen) == args.users
        print("complete and exact" if ok else "MISMATCH")
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "users": args.users,
                        "count": args.count,
                        "total": total,
                        "seen": len(seen),
                        "pages": rows,
                    }
                )
            )
        return 0 if ok else 1
    finally:
        slapd.stop()


if __name__ == "__main__":
    raise SystemExit(main())
