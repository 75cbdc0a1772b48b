"""The front door's event-loop side alone, on each event loop, alternated round by round.

    .venv/bin/python bench/frontdoor_loop.py                      # 3 rounds, 8,000 requests each
    .venv/bin/python bench/frontdoor_loop.py --rounds 6 --requests 4000 --bursts 20 \
        --loops asyncio,uvloop,uvloop-own-accept

Each round starts gunicorn with the gateway's worker class on one loop (:data:`LOOPS`: the
asyncio loop used until session 8, the workers' uvloop loop, uvloop with libuv's own accept)
serving a trivial WSGI app behind the front door (:class:`~gateway.frontdoor.bridge.FrontDoor`,
so the header deadline, the pool hand-off and the cased response head are all in the path),
opens ``--clients`` keep-alive connections at once from another process, sends ``--requests``
GETs over them, and reads the workers' utime + stime from /proc before and after. Then, for
the balance, ``--bursts`` times: ``--clients`` new connections at once, each asked which worker
holds it. It prints, per loop and round: server CPU µs per request, requests per second, how
the connections and requests fell on the workers, and how many of each burst the busiest worker
took (the reason ``gateway/frontdoor/loop.py`` accepts one connection per turn: a worker that
takes every pending connection leaves the others idle).

Why in another process: the client's own CPU must not be counted, and a client in the
workers' process would share their GIL. /proc counts in clock ticks (10 ms): thousands of
requests keep that below 1 %. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.frontdoor.bridge import FrontDoor, Limits  # noqa: E402
from gateway.frontdoor.worker import GatewayWorker  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
LOOPS = {
    "asyncio": "gateway.frontdoor.loop:asyncio_loop",  # asyncio, one accept per turn (until session 8)
    "uvloop": "gateway.frontdoor.loop:new_loop",  # the workers' loop: uvloop, one accept per turn
    "uvloop-own-accept": "uvloop",  # uvicorn's plain uvloop: libuv's accept
}
"""The loops compared, by name: uvicorn ``loop`` settings."""

_running: list[str] = ["?"]  # the class of the worker's running loop, reported in each answer


class _Reporting(GatewayWorker):
    async def _serve(self) -> None:
        _running[0] = type(asyncio.get_running_loop()).__qualname__
        await super()._serve()


class AsyncioWorker(_Reporting):
    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        **GatewayWorker.CONFIG_KWARGS,
        "loop": LOOPS["asyncio"],
    }


class UvloopWorker(_Reporting):
    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        **GatewayWorker.CONFIG_KWARGS,
        "loop": LOOPS["uvloop"],
    }


class UvloopOwnAcceptWorker(_Reporting):
    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        **GatewayWorker.CONFIG_KWARGS,
        "loop": LOOPS["uvloop-own-accept"],
    }


WORKERS = {
    "asyncio": "frontdoor_loop.AsyncioWorker",
    "uvloop": "frontdoor_loop.UvloopWorker",
    "uvloop-own-accept": "frontdoor_loop.UvloopOwnAcceptWorker",
}


def _trivial(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = f"{os.getpid()}/{_running[0]}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


app = FrontDoor(_trivial, Limits(threads=4))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(p) for p in (task / "children").read_text().split()]
    return out


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def _read_response(conn: socket.socket, buf: bytes) -> tuple[bytes, bytes]:
    """One response's body and what follows it in ``buf``."""
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = buf[: end + 2].lower()
            start = head.index(b"content-length:") + 15
            length = int(head[start : head.index(b"\r\n", start)])
            total = end + 4 + length
            while len(buf) < total:
                buf += conn.recv(65536)
            return buf[end + 4 : total], buf[total:]
        data = conn.recv(65536)
        if not data:
            raise ConnectionError("server closed the connection")
        buf += data


def _client(port: int, clients: int, requests: int) -> None:
    """Runs in its own process: opens every connection at once, then shares out the requests;
    prints ``seconds pid:connections:requests ...``."""
    request = b"GET /x HTTP/1.1\r\nHost: bench\r\n\r\n"
    conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(clients)]
    per_conn = [requests // clients + (i < requests % clients) for i in range(clients)]
    served: list[Counter[bytes]] = [Counter() for _ in range(clients)]

    failed: list[BaseException] = []

    def run(i: int) -> None:
        conn, buf = conns[i], b""
        try:
            for _ in range(per_conn[i]):
                conn.sendall(request)
                body, buf = _read_response(conn, buf)
                served[i][body] += 1
        except Exception as exc:
            failed.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    if failed:
        raise SystemExit(f"client failed: {failed[0]!r}")
    by_pid: dict[bytes, list[int]] = {}
    for tally in served:
        for pid, n in tally.items():
            entry = by_pid.setdefault(pid, [0, 0])
            entry[0] += 1
            entry[1] += n
    for conn in conns:
        conn.close()
    parts = " ".join(f"{pid.decode()}:{c}:{n}" for pid, (c, n) in sorted(by_pid.items()))
    print(f"{elapsed:.4f} {parts}")


def _bursts(port: int, clients: int, bursts: int) -> None:
    """Runs in its own process: ``bursts`` times, opens ``clients`` connections at once (as a
    load balancer's pool does), asks each which worker holds it, closes them; prints, per
    burst, the largest number of them one worker took."""
    request = b"GET /x HTTP/1.1\r\nHost: bench\r\n\r\n"
    most = []
    for _ in range(bursts):
        conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(clients)]
        holders: Counter[bytes] = Counter()
        for conn in conns:
            conn.sendall(request)
            holders[_read_response(conn, b"")[0].split(b"/")[0]] += 1
        for conn in conns:
            conn.close()
        most.append(max(holders.values()))
        time.sleep(0.05)
    print(" ".join(map(str, most)))


def _round(loop: str, args: argparse.Namespace) -> dict[str, Any]:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT)])}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    proc = subprocess.Popen(
        [
            *(str(gunicorn), "-k", WORKERS[loop], "-w", str(args.workers), "--preload"),
            *("-b", f"127.0.0.1:{port}", "--log-level", "warning", "frontdoor_loop:app"),
        ],
        env=env,
        cwd=ROOT / "bench",
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                if len(_children(proc.pid)) == args.workers:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.1)
        time.sleep(1.0)  # every worker's loop is up and waiting
        me = [sys.executable, __file__, "--client", str(port)]
        warm = [*me, str(args.clients), str(args.clients * 50)]
        subprocess.run(warm, check=True, capture_output=True, timeout=120)
        workers = _children(proc.pid)
        before = sum(_cpu_ticks(p) for p in workers)
        out = subprocess.run(
            [*me, str(args.clients), str(args.requests)],
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        ).stdout.split()
        after = sum(_cpu_ticks(p) for p in workers)
        most = subprocess.run(
            [sys.executable, __file__, "--bursts", str(port), str(args.clients), str(args.bursts)],
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        ).stdout.split()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    seconds = float(out[0])
    loops = {part.split(":")[0].split("/")[1] for part in out[1:]}
    spread = sorted(
        ((int(c), int(n)) for _, c, n in (part.split(":") for part in out[1:])), reverse=True
    )
    return {
        "loops": sorted(loops),
        "most": Counter(int(m) for m in most),
        "cpu_us": (after - before) / TICK / args.requests * 1e6,
        "rps": args.requests / seconds,
        "conns": [c for c, _ in spread] + [0] * (args.workers - len(spread)),
        "reqs": [n for _, n in spread] + [0] * (args.workers - len(spread)),
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("--client", "--bursts"):
        run = _client if sys.argv[1] == "--client" else _bursts
        run(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=8000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--bursts", type=int, default=40, help="of --clients new connections")
    parser.add_argument("--loops", default="asyncio,uvloop")
    args = parser.parse_args()
    loops = args.loops.split(",")
    results: dict[str, list[dict[str, Any]]] = {loop: [] for loop in loops}
    for n in range(args.rounds):
        for loop in loops if n % 2 == 0 else loops[::-1]:
            r = _round(loop, args)
            results[loop].append(r)
            print(
                f"round {n + 1} {loop:17} ({','.join(r['loops'])}) {r['cpu_us']:7.0f} us/req {r['rps']:8.0f} req/s"
                f"  connections per worker {r['conns']}  requests per worker {r['reqs']}"
                f"  bursts by the most one worker took: {dict(sorted(r['most'].items()))}",
                flush=True,
            )
    print()
    for loop, rs in results.items():
        most = sum((r["most"] for r in rs), Counter())
        shares = sorted(most.elements())
        if shares:
            print(
                f"{loop:17} {len(shares)} bursts of {args.clients} connections, the most one worker"
                f" took: {dict(sorted(most.items()))}, mean {statistics.mean(shares):.2f}"
            )
        cpu = [r["cpu_us"] for r in rs]
        rps = [r["rps"] for r in rs]
        print(
            f"{loop:17} server CPU us/req median {statistics.median(cpu):.0f} "
            f"({min(cpu):.0f}-{max(cpu):.0f}); req/s median {statistics.median(rps):.0f} "
            f"({min(rps):.0f}-{max(rps):.0f})"
        )


if __name__ == "__main__":
    main()
