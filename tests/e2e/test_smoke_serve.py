"""The real thing: `scim-gateway serve` (gunicorn, via the container entry point) over HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from ldap3 import Connection
from support.served import Served
from support.slapd import Slapd

from e2e.conftest import TOKEN, make_subtree, served_env


@pytest.fixture
def served(slapd: Slapd, ldap_admin: Connection, tmp_path: Path) -> Iterator[str]:
    people, groups = make_subtree(ldap_admin, slapd.suffix)
    env = served_env(slapd, tmp_path, people, groups)
    with Served(env, tmp_path / "gateway.log") as gateway:
        yield f"{gateway.base}/scim/v2"


def call(
    method: str, url: str, body: dict | None = None
) -> tuple[int, dict | None, dict[str, str]]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)  # noqa: S310
    req.add_header("Authorization", f"Bearer {TOKEN}")
    if data is not None:
        req.add_header("Content-Type", "application/scim+json; charset=utf-8")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None, dict(resp.headers)
    except urllib.error.HTTPError as err:
        raw = err.read()
        return err.code, json.loads(raw) if raw else None, dict(err.headers)


def test_served_gateway_creates_lists_and_deletes_over_http(served: str) -> None:
    status, body, headers = call("POST", f"{served}/Users", {"userName": "smoke", "active": True})
    assert status == 201, body
    assert headers["Content-Type"].startswith("application/scim+json")
    assert headers["Location"] == f"{served}/Users/{body['id']}"
    status, listing, _ = call("GET", f"{served}/Users?filter=userName+eq+%22smoke%22")
    assert status == 200 and listing["totalResults"] == 1
    status, err, headers = call("GET", f"{served}/Users/{body['id']}x")
    assert status == 404 and err["status"] == "404"
    assert call("DELETE", f"{served}/Users/{body['id']}")[0] == 204
    req = urllib.request.Request(f"{served}/Users")  # noqa: S310
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(req, timeout=5)  # noqa: S310
    assert caught.value.code == 401
    assert json.loads(caught.value.read())["status"] == "401"
