"""CPU per request of several revisions of the gateway, measured alternately in the same minutes.

    .venv/bin/python bench/compare.py 655d77c HEAD             # two commits
    .venv/bin/python bench/compare.py 655d77c HEAD . --rounds 7  # and the working tree

This machine's speed drifts by tens of percent over minutes (other processes, frequency, a slow
fsync on slapd's side), so a "before" measured an hour ago says little about an "after" measured
now. Each revision is checked out once into a temporary clone (``.`` is the working tree as it
is), and ``bench/inprocess.py`` runs round after round, the revisions in turn within each round,
so a slow minute falls on all of them. Every revision is measured with this tree's
``bench/inprocess.py`` (copied over its own): one instrument for all, so a change to what the
harness counts cannot favour the newer revision. It drives the app through
``FrontDoor._call_wsgi``, which every revision since the front door has. The table gives each operation's median and range of CPU ms per request over the
rounds, and each revision's median against the first one's.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINE = re.compile(r"(\w+) (\d+\.\d+)")


def checkout(revision: str, into: Path) -> Path:
    """The tree of ``revision`` in a clone under ``into`` (``.``: this working tree)."""
    if revision == ".":
        return ROOT
    tree = into / re.sub(r"[^\w.-]", "_", revision)
    subprocess.run(["git", "clone", "-q", str(ROOT), str(tree)], check=True)
    subprocess.run(["git", "-C", str(tree), "checkout", "-q", revision], check=True)
    script = tree / "bench" / "inprocess.py"
    script.parent.mkdir(exist_ok=True)
    shutil.copy(ROOT / "bench" / "inprocess.py", script)  # the same instrument for every revision
    return tree


def measure(tree: Path, requests: int) -> dict[str, float]:
    """One run of the tree's own bench/inprocess.py: CPU ms per request by operation."""
    done = subprocess.run(
        [sys.executable, str(tree / "bench" / "inprocess.py"), "--requests", str(requests)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tree,
    )
    return {name: float(ms) for name, ms in LINE.findall(done.stdout.strip().splitlines()[-1])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("revisions", nargs="+", help="git revisions; '.' is the working tree")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=1000, help="per operation and run")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-compare-") as scratch:
        trees = {rev: checkout(rev, Path(scratch)) for rev in args.revisions}
        runs: dict[str, list[dict[str, float]]] = {rev: [] for rev in trees}
        for round_no in range(1, args.rounds + 1):
            for rev, tree in trees.items():
                runs[rev].append(measure(tree, args.requests))
            print(f"round {round_no}/{args.rounds} done", file=sys.stderr)

    operations = list(runs[args.revisions[0]][0])
    first = args.revisions[0]
    medians = {
        rev: {op: statistics.median(r[op] for r in results) for op in operations}
        for rev, results in runs.items()
    }
    print(f"CPU ms per request, in process: median (min-max) of {args.rounds} alternated rounds")
    print(f"{'revision':<12}" + "".join(f"{op:>26}" for op in operations))
    for rev, results in runs.items():
        cells = []
        for op in operations:
            values = [r[op] for r in results]
            ratio = medians[rev][op] / medians[first][op]
            cells.append(
                f"{medians[rev][op]:.2f} ({min(values):.2f}-{max(values):.2f}) {ratio:.2f}x"
            )
        print(f"{rev:<12}" + "".join(f"{c:>26}" for c in cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
