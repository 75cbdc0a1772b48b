"""Results larger than one LDAP page (RFC 2696 paged results): lists and member lists stay whole.

The gateway reads lists with paged searches; a directory with more users than the page size
(500 by default) or a group with more than 500 members must read every page. A small
``page_size`` makes the first case cheap to test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from ldap3 import Connection
from support.slapd import Slapd

from e2e.conftest import TOKEN, isolated_mapping, make_subtree, settings_for
from gateway.app import create_app

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def small_pages(slapd: Slapd, ldap_admin: Connection, tmp_path: Path) -> Iterator[FlaskClient]:
    people, groups = make_subtree(ldap_admin, slapd.suffix)
    settings = settings_for(slapd, isolated_mapping(tmp_path, people, groups), page_size=3)
    app = create_app(settings)
    client = app.test_client()
    for i in range(7):
        resp = client.post("/scim/v2/Users", json={"userName": f"paged{i}"}, headers=AUTH)
        assert resp.status_code == 201
    try:
        yield client
    finally:
        app.extensions["scim"].pool.close_all()


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"filter": 'userName sw "paged"'},
        {"sortBy": "userName"},
        {"startIndex": "3", "count": "4"},
    ],
)
def test_lists_longer_than_one_ldap_page_are_complete(
    small_pages: FlaskClient, query: dict[str, str]
) -> None:
    resp = small_pages.get("/scim/v2/Users", query_string=query, headers=AUTH)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["totalResults"] == 7
    start, count = int(query.get("startIndex", 1)), int(query.get("count", 100))
    assert len(body["Resources"]) == min(count, 7 - start + 1)


def test_a_group_with_more_members_than_one_ldap_page_is_read_whole(
    gw_with_many_users: tuple[FlaskClient, list[str]],
) -> None:
    client, ids = gw_with_many_users
    created = client.post(
        "/scim/v2/Groups",
        json={"displayName": "crowd", "members": [{"value": i} for i in ids]},
        headers=AUTH,
    )
    assert created.status_code == 201, created.get_json()
    shown = client.get(f"/scim/v2/Groups/{created.get_json()['id']}", headers=AUTH)
    assert shown.status_code == 200, shown.get_json()
    assert sorted(m["value"] for m in shown.get_json()["members"]) == sorted(ids)


@pytest.fixture
def gw_with_many_users(
    slapd: Slapd, ldap_admin: Connection, tmp_path: Path
) -> Iterator[tuple[FlaskClient, list[str]]]:
    """505 users added straight to LDAP (fast), and a client for the app over them."""
    people, groups = make_subtree(ldap_admin, slapd.suffix)
    for i in range(505):
        dn = f"uid=many{i},{people}"
        assert ldap_admin.add(dn, ["inetOrgPerson"], {"sn": "m", "cn": "m"}), ldap_admin.result
    ldap_admin.search(people, "(uid=many*)", "LEVEL", attributes=["entryUUID"])
    ids = [str(e["attributes"]["entryUUID"][0]) for e in ldap_admin.response]
    app = create_app(settings_for(slapd, isolated_mapping(tmp_path, people, groups)))
    try:
        yield app.test_client(), ids
    finally:
        app.extensions["scim"].pool.close_all()
