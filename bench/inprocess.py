"""The gateway's own CPU per request, without HTTP: the app through the front door's thread side.

    .venv/bin/python bench/inprocess.py                       # CPU ms per request, 300 each
    .venv/bin/python bench/inprocess.py --profile patch       # and cProfile's top costs of one
    .venv/bin/python bench/inprocess.py --profile patch --sort tottime --top 40

``bench/run.py`` measures the whole server (gunicorn, uvicorn's httptools protocol, the pool) from outside,
in 10 ms clock ticks, beside slapd and the benchmark client on the same cores: fine for
throughput, too coarse to see a 5 % change in the Python a request runs. This calls
``FrontDoor._call_wsgi`` (what a pool thread runs: the Flask app, auth, the access and audit
lines, the multiprocess metrics, the mapping, the LDAP codec) in one thread against a real
slapd, and divides this process's CPU time (``time.process_time``: user + system, slapd not
included) by the number of requests. Only the gateway's part is counted: the clock runs from
the WSGI environ's making to the answer's return, so the benchmark client's own work (encoding
the request body as JSON, decoding the answer, which was ~4 % of a create) is left out. Log lines are formatted as JSON and thrown away; a
directory for the multiprocess metrics is made, as ``scim-gateway serve`` does. Nothing here
asserts a time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import os
import pstats
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="bench-metrics-"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore", message="(tagMap|typeMap) is deprecated")

from support.slapd import Slapd  # noqa: E402

from gateway.app import create_app  # noqa: E402
from gateway.frontdoor.bridge import FrontDoor, Limits, wsgi_environ  # noqa: E402
from gateway.logconfig import configure_logging  # noqa: E402
from gateway.settings import Settings  # noqa: E402

TOKEN = "bench-token-0123456789abcdef"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
OPERATIONS = ("create", "get_by_id", "filter_get", "patch", "add_member")
WARMUP = 20


class Client:
    """Requests as the front door hands them to a pool thread (status checked).

    ``cpu`` adds up the CPU time spent in the gateway (``wsgi_environ`` and ``_call_wsgi``),
    not in this client's JSON encoding and decoding around it."""

    def __init__(self, door: FrontDoor) -> None:
        self.door = door
        self.cpu = 0.0

    def __call__(self, method: str, path: str, body: Any = None, query: str = "") -> Any:
        data = json.dumps(body).encode() if body is not None else b""
        headers = [
            (b"host", b"127.0.0.1:8080"),
            (b"authorization", f"Bearer {TOKEN}".encode()),
            (b"user-agent", b"bench-inprocess"),
        ]
        if body is not None:
            headers.append((b"content-type", b"application/scim+json"))
        scope = {
            "type": "http",
            "method": method,
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "headers": headers,
            "server": ("127.0.0.1", 8080),
            "client": ("127.0.0.1", 5555),
            "scheme": "http",
            "http_version": "1.1",
        }
        started = time.process_time()
        status, _, content = self.door._call_wsgi(wsgi_environ(scope, data))
        self.cpu += time.process_time() - started
        if status >= 300:
            raise SystemExit(f"{method} {path}: {status} {content[:300]!r}")
        return json.loads(content) if content else None


def user(n: int) -> dict[str, Any]:
    """An Entra-like user: names, a work e-mail, a title."""
    return {
        "schemas": [USER],
        "userName": f"u{n}@example.org",
        "active": True,
        "displayName": f"User {n}",
        "name": {"givenName": "Ann", "familyName": f"Lee{n}"},
        "emails": [{"value": f"u{n}@example.org", "type": "work", "primary": True}],
        "title": "Engineer",
    }


def operations(call: Client, group_id: str, ids: list[str]) -> dict[str, Callable[[int], Any]]:
    """Each operation on the ``n``-th user (created by ``create`` first)."""

    def patch_body(op: str, path: str, value: Any) -> dict[str, Any]:
        return {"schemas": [PATCH_OP], "Operations": [{"op": op, "path": path, "value": value}]}

    return {
        "create": lambda n: ids.append(call("POST", "/scim/v2/Users", user(n))["id"]),
        "get_by_id": lambda n: call("GET", f"/scim/v2/Users/{ids[n]}"),
        "filter_get": lambda n: call(
            "GET", "/scim/v2/Users", query="filter=" + quote(f'userName eq "u{n}@example.org"')
        ),
        "patch": lambda n: call(
            "PATCH", f"/scim/v2/Users/{ids[n]}", patch_body("replace", "title", f"T{n}")
        ),
        "add_member": lambda n: call(
            "PATCH",
            f"/scim/v2/Groups/{group_id}",
            patch_body("add", "members", [{"value": ids[n]}]),
        ),
    }


PARTS = (
    ("gateway/frontdoor", "front door (thread side)"),
    ("gateway/web", "gateway web (auth, wire, request log)"),
    ("gateway/scim", "gateway scim"),
    ("gateway/provisioning", "gateway provisioning"),
    ("gateway/mapping", "gateway mapping"),
    ("gateway/directory", "gateway directory (LDAP codec, pool)"),
    ("gateway/", "gateway, other (logconfig, metrics, errors)"),
    ("flask/", "Flask"),
    ("werkzeug/", "Werkzeug"),
    ("logging/", "logging"),
    ("prometheus_client/", "prometheus_client"),
    ("json/", "json"),
)


def by_part(stats: pstats.Stats) -> str:
    """Own time (``tottime``) summed by where the function lives; built-ins are counted with
    the part that called them (``recv``/``select``/``sendall``: waiting on slapd, kept apart)."""
    totals: dict[str, float] = {}
    waits = ("recv", "select", "sendall", "poll")
    for (path, _, name), row in stats.stats.items():  # type: ignore[attr-defined]
        own = row[2]
        if path == "~" and any(w in name for w in waits):
            part = "socket waits (slapd's time, not CPU)"
        elif path == "~":
            callers = row[4]
            heaviest = max(callers.items(), key=lambda c: c[1][2], default=None)
            part = _part(heaviest[0][0]) if heaviest else "other"
        else:
            part = _part(path)
        totals[part] = totals.get(part, 0.0) + own
    whole = sum(totals.values()) or 1.0
    lines = [f"{'own time by part':<46} {'s':>7} {'%':>6}"]
    for part, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
        lines.append(f"{part:<46} {seconds:>7.3f} {100 * seconds / whole:>5.1f}%")
    return "\n".join(lines)


def _part(path: str) -> str:
    shown = path.replace("\\", "/")
    return next((label for marker, label in PARTS if marker in shown), "other (stdlib, C)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=300, help="per operation")
    parser.add_argument("--log-level", default="INFO", help="INFO writes the access line")
    parser.add_argument("--profile", choices=OPERATIONS, help="cProfile this operation")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument(
        "--sort", default="cumulative", choices=("cumulative", "tottime"), help="profile order"
    )
    parser.add_argument("--dump", type=Path, help="write the profile here (pstats format)")
    args = parser.parse_args(argv)

    slapd = Slapd(Path(tempfile.mkdtemp(prefix="bench-inprocess-")), dbnosync=True).start()
    handler = configure_logging(args.log_level, "json", secrets=[TOKEN])
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - formatted, then thrown away
    app = create_app(
        Settings(
            ldap_urls=(slapd.url,),
            ldap_bind_dn=slapd.admin_dn,
            ldap_bind_password=slapd.admin_password,
            token=TOKEN,
            mapping_path=ROOT / "mappings" / "openldap.yaml",
        )
    )
    call = Client(FrontDoor(app, Limits()))
    try:
        group = call("POST", "/scim/v2/Groups", {"schemas": [GROUP], "displayName": "bench"})
        ids: list[str] = []
        ops = operations(call, group["id"], ids)
        for n in range(WARMUP):  # users numbered from 0, each operation run once unmeasured
            ops["create"](n)
        for name in OPERATIONS[1:]:
            for n in range(WARMUP):
                ops[name](n)
        results: dict[str, float] = {}
        for name in OPERATIONS:
            # cProfile's own clock is wall time: the time in ``recv``/``select`` is slapd's
            profile = cProfile.Profile() if name == args.profile else None
            call.cpu = 0.0
            if profile:
                profile.enable()
            for n in range(WARMUP, WARMUP + args.requests):
                ops[name](n)
            if profile:
                profile.disable()
            results[name] = call.cpu * 1000 / args.requests
            if profile:
                text = io.StringIO()
                stats = pstats.Stats(profile, stream=text)
                if args.dump:
                    stats.dump_stats(args.dump)
                stats.sort_stats(args.sort).print_stats(args.top)
                print(text.getvalue())
                print(by_part(stats))
    finally:
        app.extensions["scim"].pool.close_all()
        slapd.stop()
    print(f"CPU ms per request, in process, log level {args.log_level}:")
    print("  ".join(f"{name} {ms:.2f}" for name, ms in results.items()))
    if args.profile:
        print(f"({args.profile} ran under cProfile: its figure includes the profiler's cost)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
