"""The web layer's CPU per request alone: the app through the front door's thread side, no LDAP.

    .venv/bin/python bench/weblayer.py                  # 9 x 500 of each, min and median
    .venv/bin/python bench/weblayer.py --requests 1000 --repeat 5

``bench/inprocess.py`` measures whole requests against a real slapd; a change of 20-50 µs in
the layers around the views (Flask, the request log, metrics, the wire format) is lost there
in this machine's drift. This runs the same ``FrontDoor._call_wsgi`` with the real app (auth,
hooks, access and audit lines formatted as JSON and thrown away, metrics, body checks,
rendering), but the resource service's ``create`` and ``patch`` answer a fixed user and a
fixed group at once, so nothing below the web layer runs: a user create (201) and a group
member add (204, as Entra sends it). It prints the thread CPU per request (``time.thread_time``
over each block: the min and the median of the blocks). A benchmark only: the tests run
against a real slapd. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="bench-metrics-"))
sys.path.insert(0, str(ROOT))

from gateway.app import create_app  # noqa: E402
from gateway.frontdoor.bridge import FrontDoor, Limits, wsgi_environ  # noqa: E402
from gateway.logconfig import configure_logging  # noqa: E402
from gateway.provisioning.service import ResourceService  # noqa: E402
from gateway.settings import Settings  # noqa: E402

TOKEN = "bench-token-0123456789abcdef"
USER_ID = "3f2a9c1e-1111-2222-3333-444455556666"
USER = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "userName": "u1@example.org",
    "active": True,
    "displayName": "User 1",
    "name": {"givenName": "Ann", "familyName": "Lee1"},
    "emails": [{"value": "u1@example.org", "type": "work", "primary": True}],
    "title": "Engineer",
}
CREATED = {
    **USER,
    "id": USER_ID,
    "meta": {
        "resourceType": "User",
        "created": "2026-12-03T10:00:00Z",
        "lastModified": "2026-12-03T10:00:00Z",
        "version": 'W/"abc123"',
        "location": f"http://127.0.0.1:8080/scim/v2/Users/{USER_ID}",
    },
}
ADD_MEMBER = {
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{"op": "add", "path": "members", "value": [{"value": USER_ID}]}],
}


def _create(self: ResourceService, payload: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(CREATED)


def _patch(self: ResourceService, ident: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    return {"id": ident, "meta": {"version": 'W/"v2"'}}


def scope(method: str, path: str) -> dict[str, Any]:
    """A request as the front door's event loop hands it to a pool thread."""
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1:8080"),
            (b"authorization", f"Bearer {TOKEN}".encode()),
            (b"user-agent", b"bench-weblayer"),
            (b"content-type", b"application/scim+json"),
        ],
        "server": ("127.0.0.1", 8080),
        "client": ("127.0.0.1", 5555),
        "scheme": "http",
        "http_version": "1.1",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=500, help="per block")
    parser.add_argument("--repeat", type=int, default=9, help="blocks per operation")
    args = parser.parse_args(argv)

    ResourceService.create = _create  # type: ignore[method-assign]
    ResourceService.patch = _patch  # type: ignore[method-assign]
    handler = configure_logging("INFO", "json", secrets=[TOKEN])
    handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - formatted, then thrown away
    app = create_app(
        Settings(
            ldap_urls=("ldap://127.0.0.1:1",),  # never connected: nothing below web runs
            ldap_bind_dn="cn=admin,dc=example,dc=org",
            ldap_bind_password=os.urandom(8).hex(),  # never sent
            token=TOKEN,
            mapping_path=ROOT / "mappings" / "openldap.yaml",
        )
    )
    door = FrontDoor(app, Limits())
    operations = {
        "create": (scope("POST", "/scim/v2/Users"), json.dumps(USER).encode(), 201),
        "add_member": (
            scope("PATCH", f"/scim/v2/Groups/{USER_ID.replace('1111', 'aaaa')}"),
            json.dumps(ADD_MEMBER).encode(),
            204,
        ),
    }
    print(f"thread CPU µs per request, {args.repeat} blocks of {args.requests}:")
    for name, (sc, body, expected) in operations.items():
        status, _, content = door._call_wsgi(wsgi_environ(sc, body))
        if status != expected:
            raise SystemExit(f"{name}: {status} {content!r}")
        blocks = []
        for _ in range(args.repeat):
            started = time.thread_time()
            for _ in range(args.requests):
                door._call_wsgi(wsgi_environ(sc, body))
            blocks.append((time.thread_time() - started) * 1e6 / args.requests)
        blocks.sort()
        print(f"  {name:<11} min {blocks[0]:.0f}  median {blocks[len(blocks) // 2]:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
