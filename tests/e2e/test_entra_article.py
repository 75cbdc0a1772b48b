"""Microsoft's own SCIM samples, end to end: the requests of the Entra provisioning tutorial's
"User Operations" (tests/data/entra/*.json), and every field of the responses it shows
(tests/data/entra/article-responses.json) present in ours, with the values the requests imply.

The mapping is the shipped one, whose work e-mail rule has ``primary: true`` (Entra sends its
work e-mail as primary and compares what it reads back).

The article's samples come from different runs (each has its own ids and GUIDs), so ids, times
and the article's random names are compared as "present", everything that follows from our own
requests by value.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ldap3 import Connection
from support.gateway import Gateway
from support.slapd import Slapd

from e2e.conftest import SHIPPED, TOKEN, isolated_mapping, make_subtree, settings_for
from gateway.app import create_app

DATA = Path(__file__).resolve().parents[1] / "data" / "entra"
ARTICLE = json.loads((DATA / "article-responses.json").read_text(encoding="utf-8"))
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


@pytest.fixture
def entra(slapd: Slapd, ldap_admin: Connection, tmp_path: Path) -> Iterator[Gateway]:
    """The app over the shipped mapping, moved into a fresh subtree."""
    people, groups = make_subtree(ldap_admin, slapd.suffix)
    app = create_app(settings_for(slapd, isolated_mapping(tmp_path, people, groups, SHIPPED)))
    app.testing = True
    try:
        yield Gateway(
            app.test_client(), ldap_admin, people, groups, {"Authorization": f"Bearer {TOKEN}"}
        )
    finally:
        app.extensions["scim"].pool.close_all()


def sample(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def paths(value: Any, prefix: str = "") -> set[str]:
    """Every field path of a JSON value (``emails[].type``, ``meta.created``)."""
    if isinstance(value, dict):
        out = set()
        for key, inner in value.items():
            here = f"{prefix}.{key}" if prefix else key
            out |= {here} | paths(inner, here)
        return out
    if isinstance(value, list):
        return set().union(*(paths(item, f"{prefix}[]") for item in value)) if value else set()
    return set()


def assert_fields_of(article: str, ours: dict[str, Any]) -> None:
    missing = paths(ARTICLE[article]) - paths(ours)
    assert not missing, f"fields of Microsoft's {article!r} sample missing: {sorted(missing)}"


def assert_user(ours: dict[str, Any], sent: dict[str, Any]) -> None:
    """The values a response must hold for the create request ``sent``."""
    assert USER_SCHEMA in ours["schemas"]
    assert ours["id"] and isinstance(ours["id"], str)
    assert ours["externalId"] == sent["externalId"]
    assert ours["userName"] == sent["userName"]
    assert ours["name"] == sent["name"]
    assert ours["active"] is True
    assert ours["emails"] == sent["emails"]
    assert ours["meta"]["resourceType"] == "User"
    assert ours["meta"]["created"] and ours["meta"]["lastModified"]


def test_microsofts_user_operations_samples(entra: Gateway) -> None:
    gw = entra
    create = sample("create-user.json")

    # Create User
    resp = gw.post("/Users", create)
    assert resp.status_code == 201, resp.get_json()
    created = resp.get_json()
    assert_fields_of("create-user", created)
    assert_user(created, create)
    uid = created["id"]

    # Get User
    resp = gw.get(f"/Users/{uid}")
    assert resp.status_code == 200
    assert_fields_of("get-user", resp.get_json())
    assert_user(resp.get_json(), create)

    # Get User [Request] for an unknown id: 404 with the error schema, status as a string
    resp = gw.get("/Users/5171a35d-0000-4000-8000-00000000dead")
    assert resp.status_code == 404
    assert_fields_of("get-user-not-found", resp.get_json())
    assert resp.get_json()["schemas"] == ARTICLE["get-user-not-found"]["schemas"]
    assert resp.get_json()["status"] == "404"

    # Get User by query
    resp = gw.get("/Users", query_string={"filter": f'userName eq "{create["userName"]}"'})
    assert resp.status_code == 200
    found = resp.get_json()
    assert_fields_of("get-user-by-query", found)
    assert found["schemas"] == [LIST_SCHEMA]
    assert found["totalResults"] == 1 and found["startIndex"] == 1
    assert found["itemsPerPage"] == len(found["Resources"]) == 1  # RFC 7644 §3.4.2
    assert_user(found["Resources"][0], create)

    # Get User by query - Zero results
    resp = gw.get("/Users", query_string={"filter": 'userName eq "non-existent user"'})
    assert resp.status_code == 200
    none = resp.get_json()
    assert_fields_of("get-user-by-query-zero-results", none)
    assert none["totalResults"] == 0 and none["Resources"] == []

    # Update User [Multi-valued properties]
    resp = gw.patch(f"/Users/{uid}", sample("patch-user-multi.json"))
    assert resp.status_code == 200, resp.get_json()
    updated = resp.get_json()
    assert_fields_of("update-user-multi-valued", updated)
    assert updated["emails"] == [
        {"value": "updatedEmail@microsoft.com", "type": "work", "primary": True}
    ]
    # formatted follows, as in the article: it was the derived "{givenName} {familyName}"
    assert updated["name"] == ARTICLE["update-user-multi-valued"]["name"]
    assert gw.get(f"/Users/{uid}").get_json()["emails"] == updated["emails"]

    # Update User [Single-valued properties]: a rename keeps the id
    resp = gw.patch(f"/Users/{uid}", sample("patch-user-rename.json"))
    assert resp.status_code == 200, resp.get_json()
    renamed = resp.get_json()
    assert renamed["id"] == uid
    assert renamed["userName"] == "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"
    assert_fields_of("update-user-multi-valued", renamed)
