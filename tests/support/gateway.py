"""A Flask test client over the real slapd, with helpers to look at the directory directly."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from ldap3 import Connection

SCIM = "application/scim+json"


@dataclass
class Gateway:
    """A test client plus where its entries live, to check the directory after each step."""

    client: FlaskClient
    ldap: Connection
    people: str
    groups: str
    headers: dict[str, str]

    def get(self, path: str, headers: dict[str, str] | None = None, **kw: Any):
        return self.client.get(f"/scim/v2{path}", headers={**self.headers, **(headers or {})}, **kw)

    def delete(self, path: str, **kw: Any):
        return self.client.delete(f"/scim/v2{path}", headers=self.headers, **kw)

    def post(self, path: str, body: Any, **kw: Any):
        return self.client.post(f"/scim/v2{path}", json=body, headers=self._json(), **kw)

    def put(self, path: str, body: Any, **kw: Any):
        return self.client.put(f"/scim/v2{path}", json=body, headers=self._json(), **kw)

    def patch(self, path: str, body: Any, **kw: Any):
        return self.client.patch(f"/scim/v2{path}", json=body, headers=self._json(), **kw)

    def _json(self) -> dict[str, str]:
        return {**self.headers, "Content-Type": f"{SCIM}; charset=utf-8"}

    def entry(self, dn: str, *attrs: str) -> dict[str, list[str]] | None:
        """The entry at ``dn`` as the directory has it (operational attributes on request)."""
        ok = self.ldap.search(dn, "(objectClass=*)", "BASE", attributes=list(attrs) or ["*", "+"])
        if not ok or not self.ldap.entries:
            return None
        attrs = self.ldap.response[0]["attributes"]
        return {k.lower(): [str(v) for v in vals] for k, vals in attrs.items() if vals}

    def children(self, base: str) -> list[str]:
        self.ldap.search(base, "(objectClass=*)", "LEVEL", attributes=["1.1"])
        return [r["dn"] for r in self.ldap.response if r.get("type") == "searchResEntry"]


def ldap_ops(caplog: Any, call: Callable[[], Any]) -> tuple[int, Any]:
    """The LDAP operations one request needed (the access log's ``ldap_ops=N``), and its
    JSON body. ``caplog``: pytest's fixture; the request must succeed."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="gateway.access"):
        resp = call()
    assert resp.status_code < 300, resp.get_json()
    lines = [r.getMessage() for r in caplog.records if r.name == "gateway.access"]
    assert len(lines) == 1, lines
    found = re.search(r"ldap_ops=(\d+)", lines[0])
    assert found, lines[0]
    return int(found.group(1)), resp.get_json(silent=True)
