"""The gunicorn curve: SCIM throughput for several workers x threads, on one slapd.

    .venv/bin/python bench/curve.py                          # the default set, 4 s per cell
    .venv/bin/python bench/curve.py --configs 1x8,2x4,2x8 --json curve.json

For each configuration it starts ``scim-gateway serve`` with that many workers and threads
(the same way ``bench/run.py`` does), runs each operation at a fixed client concurrency for a
fixed time and prints ops/s and the gateway's CPU per request. ``scim-gateway serve``'s
default is the configuration this table picks; see README.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run
from run import Slapd, gateway_phase, seed, start_gateway

DEFAULT_CONFIGS = "1x4,1x8,2x2,2x4,2x8,3x4,4x2"
DEFAULT_OPERATIONS = "create,get_by_id,patch,add_member"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--configs", default=DEFAULT_CONFIGS, help="WxT,WxT,...")
    parser.add_argument("--operations", default=DEFAULT_OPERATIONS)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--warmup", type=float, default=1.0, help="unrecorded seconds per cell")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    configs = [tuple(int(x) for x in c.split("x")) for c in args.configs.split(",") if c]
    operations = [o for o in args.operations.split(",") if o]

    run_dir = Path(tempfile.mkdtemp(prefix="bench-curve-"))
    slapd = Slapd(run_dir / "slapd", dbnosync=False)
    slapd.start()
    rows: list[dict] = []
    try:
        world = seed(slapd, args.users)
        for workers, threads in configs:
            proc, port = start_gateway(slapd, run_dir, workers, threads)
            try:
                for name in operations:
                    # unrecorded: connections, caches, first additions to the group
                    gateway_phase(name, args.warmup, args.concurrency, world, port)
                    cpu0 = run.cpu_seconds(proc.pid)
                    lat, errors, elapsed = gateway_phase(
                        name, args.seconds, args.concurrency, world, port
                    )
                    cpu1 = run.cpu_seconds(proc.pid)
                    done = len(lat)
                    rows.append(
                        {
                            "workers": workers,
                            "threads": threads,
                            "operation": name,
                            "rate": done / elapsed if elapsed else 0.0,
                            "cpu_ms_per_op": (cpu1 - cpu0) * 1000 / max(1, done),
                            "errors": errors,
                        }
                    )
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=20)
    finally:
        slapd.stop()
    print_table(rows, configs, operations, args.concurrency)
    if args.json:
        args.json.write_text(json.dumps({"concurrency": args.concurrency, "rows": rows}, indent=2))
    return 0


def print_table(
    rows: list[dict], configs: list[tuple[int, ...]], operations: list[str], concurrency: int
) -> None:
    print(f"\nops/s (gateway CPU ms per request) at concurrency {concurrency}\n")
    print(f"{'W x T':<6} | " + " | ".join(f"{o:>16}" for o in operations))
    print("-" * (9 + 19 * len(operations)))
    by = {(r["workers"], r["threads"], r["operation"]): r for r in rows}
    for workers, threads in configs:
        cells = []
        for op in operations:
            r = by.get((workers, threads, op))
            cells.append(f"{r['rate']:>7.0f} ({r['cpu_ms_per_op']:>5.2f})" if r else " " * 16)
        print(f"{workers}x{threads:<4} | " + " | ".join(f"{c:>16}" for c in cells))


if __name__ == "__main__":
    raise SystemExit(main())
