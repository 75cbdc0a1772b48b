"""A small SCIM-over-HTTP client for tests against a served gateway (see support.served).

One fresh connection per call (what independent clients do), JSON in and out, and a helper
that fires calls from many threads released at the same instant.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SCIM_JSON = "application/scim+json"


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str]
    seconds: float = 0.0

    @property
    def scim_type(self) -> str | None:
        return self.body.get("scimType") if isinstance(self.body, dict) else None


@dataclass
class ScimHttp:
    """Calls ``base`` + path with a bearer token; never raises on an HTTP error status."""

    base: str  # http://127.0.0.1:PORT
    token: str
    timeout: float = 15.0
    prefix: str = "/scim/v2"
    extra_headers: dict[str, str] = field(default_factory=dict)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        prefix: str | None = None,
    ) -> Answer:
        parts = urlsplit(self.base)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=self.timeout)
        sent = {"Authorization": f"Bearer {self.token}", **self.extra_headers, **(headers or {})}
        data = raw
        if body is not None:
            data = json.dumps(body).encode("utf-8")
        if data is not None:
            sent.setdefault("Content-Type", SCIM_JSON)
        started = time.perf_counter()
        try:
            conn.request(method, f"{self.prefix if prefix is None else prefix}{path}", data, sent)
            resp = conn.getresponse()
            payload = resp.read()
            seconds = time.perf_counter() - started
            text = payload.decode("utf-8", errors="replace")
            try:
                parsed = json.loads(text) if text else None
            except ValueError:
                parsed = text
            return Answer(resp.status, parsed, dict(resp.getheaders()), seconds)
        finally:
            conn.close()

    def post(self, path: str, body: Any) -> Answer:
        return self.call("POST", path, body)

    def get(self, path: str) -> Answer:
        return self.call("GET", path)

    def patch(self, path: str, *operations: dict[str, Any]) -> Answer:
        return self.call("PATCH", path, {"schemas": [PATCH_OP], "Operations": list(operations)})

    def delete(self, path: str) -> Answer:
        return self.call("DELETE", path)


def all_at_once(calls: Sequence[Callable[[], T]], timeout: float = 60.0) -> list[T]:
    """Run every call on its own thread, all released together by a barrier; results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T:
        barrier.wait(timeout)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(run, call) for call in calls]
        return [f.result(timeout) for f in futures]


def gateway_env(
    ldap_url: str,
    bind_dn: str,
    bind_password: str,
    mapping: Path,
    token: str,
    secrets_dir: Path,
    **extra: str,
) -> dict[str, str]:
    """The environment of a served gateway; secrets go through ``*_FILE`` as in production."""
    secrets_dir.mkdir(parents=True, exist_ok=True)
    password_file = secrets_dir / "ldap-password"
    password_file.write_text(bind_password + "\n", encoding="utf-8")
    token_file = secrets_dir / "token"
    token_file.write_text(token + "\n", encoding="utf-8")
    env = {
        "SCIM_GATEWAY_LDAP_URL": ldap_url,
        "SCIM_GATEWAY_LDAP_BIND_DN": bind_dn,
        "SCIM_GATEWAY_LDAP_BIND_PASSWORD_FILE": str(password_file),
        "SCIM_GATEWAY_TOKEN_FILE": str(token_file),
        "SCIM_GATEWAY_MAPPING": str(mapping),
    }
    env.update({f"SCIM_GATEWAY_{k.upper()}": v for k, v in extra.items()})
    return env
