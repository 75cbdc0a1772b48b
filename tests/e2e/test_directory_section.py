"""The mapping's ``directory:`` section against the real slapd: each value changes what the
gateway sends, and the answers stay right.

slapd has entryCSN and permissive modify, so these tests switch them off in the mapping and
check the gateway then does without (as it must on 389 DS: tests/e2e/test_389ds.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ldap3 import Connection
from support.gateway import Gateway, ldap_ops
from support.slapd import Slapd

from e2e.conftest import ROOT, TOKEN, isolated_mapping, make_subtree, settings_for
from gateway.app import create_app

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SECTION = "version: 1\n"
PLACEHOLDER = "    placeholder: cn=empty-membership-placeholder,dc=example,dc=org\n"

MakeGateway = Callable[[str], Gateway]


@pytest.fixture
def make(slapd: Slapd, ldap_admin: Connection, tmp_path: Path) -> Iterator[MakeGateway]:
    """A gateway over openldap.yaml with ``directory:`` replaced by the given YAML (and no
    group placeholder, which a directory without permissive modify cannot use)."""
    apps = []

    def build(directory: str) -> Gateway:
        people, groups = make_subtree(ldap_admin, slapd.suffix)
        text = (ROOT / "mappings" / "openldap.yaml").read_text(encoding="utf-8")
        start = text.index("directory:\n")
        end = text.index("\nUser:")
        assert PLACEHOLDER in text
        text = text[:start] + directory + "\n" + text[end:]
        source = tmp_path / f"m{len(apps)}" / "openldap.yaml"
        source.parent.mkdir()
        source.write_text(text.replace(PLACEHOLDER, ""), encoding="utf-8")
        target = tmp_path / f"t{len(apps)}"
        target.mkdir()
        app = create_app(settings_for(slapd, isolated_mapping(target, people, groups, source)))
        apps.append(app)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        return Gateway(app.test_client(), ldap_admin, people, groups, headers)

    try:
        yield build
    finally:
        for app in apps:
            app.extensions["scim"].pool.close_all()


def replace_title(gw: Gateway, uid: str, value: str, if_match: str):
    body = {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": value}]}
    headers = {**gw.headers, "If-Match": if_match, "Content-Type": "application/scim+json"}
    return gw.client.patch(f"/scim/v2/Users/{uid}", json=body, headers=headers)


def test_without_a_version_attribute_no_etags_are_offered_or_sent(make: MakeGateway) -> None:
    gw = make("directory: {version_attribute: none}")
    assert gw.get("/ServiceProviderConfig").get_json()["etag"]["supported"] is False
    created = gw.post("/Users", {"userName": "nov"})
    assert created.status_code == 201 and "ETag" not in created.headers
    uid = created.get_json()["id"]
    got = gw.get(f"/Users/{uid}")
    assert "version" not in got.get_json()["meta"] and "ETag" not in got.headers

    stale = replace_title(gw, uid, "x", 'W/"old"')
    assert stale.status_code == 412
    assert gw.entry(f"uid=nov,{gw.people}", "title") == {}  # nothing written
    ok = replace_title(gw, uid, "y", "*")
    assert ok.status_code == 200 and ok.get_json()["title"] == "y"


def test_with_the_default_version_attribute_etags_are_sent(make: MakeGateway) -> None:
    gw = make("directory: {version_attribute: entryCSN}")  # the control experiment
    assert gw.get("/ServiceProviderConfig").get_json()["etag"]["supported"] is True
    created = gw.post("/Users", {"userName": "csn"})
    assert created.headers["ETag"] == created.get_json()["meta"]["version"]


def test_without_permissive_modify_re_adding_a_member_still_succeeds(
    make: MakeGateway, caplog: pytest.LogCaptureFixture
) -> None:
    costs = {}
    for permissive in ("true", "false"):
        gw = make(f"directory: {{permissive_modify: {permissive}}}")
        a = gw.post("/Users", {"userName": "a"}).get_json()["id"]
        b = gw.post("/Users", {"userName": "b"}).get_json()["id"]
        group = gw.post("/Groups", {"displayName": "g", "members": [{"value": a}]}).get_json()
        add = {
            "schemas": [PATCH],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": a}, {"value": b}]}],
        }
        costs[permissive], _ = ldap_ops(
            caplog, lambda gw=gw, group=group, add=add: gw.patch(f"/Groups/{group['id']}", add)
        )
        members = gw.get(f"/Groups/{group['id']}").get_json()["members"]  # PATCH answered 204
        assert sorted(m["value"] for m in members) == sorted([a, b])
    # without the control slapd refuses the add of a present value: the gateway then leaves
    # it out and writes again (a refused write and one base search more)
    assert costs["false"] >= costs["true"] + 2, costs


def test_without_entry_dn_no_filter_names_it(
    make: MakeGateway, caplog: pytest.LogCaptureFixture
) -> None:
    filters = {}
    for entry_dn in ("true", "false"):
        gw = make(f"directory: {{entry_dn: {entry_dn}}}")
        boss = gw.post("/Users", {"userName": "boss"}).get_json()["id"]
        manager = {
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "manager": {"value": boss}
            }
        }
        uid = gw.post("/Users", {"userName": "emp", **manager}).get_json()["id"]
        group = gw.post("/Groups", {"displayName": "g", "members": [{"value": uid}]}).get_json()
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="gateway.directory.operations"):
            listed = gw.get("/Users", query_string={"filter": 'userName eq "emp"'}).get_json()
            members = gw.get(f"/Groups/{group['id']}").get_json()["members"]
            page = gw.get("/Users", query_string={"sortBy": "userName", "count": "1"}).get_json()
        filters[entry_dn] = " ".join(
            r.getMessage() for r in caplog.records if "filter=" in r.getMessage()
        )
        emp = listed["Resources"][0]
        ext = emp["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]
        assert ext["manager"]["value"] == boss
        assert [m["value"] for m in members] == [uid]
        assert page["totalResults"] == 2 and page["Resources"][0]["userName"] == "boss"
    assert "entryDN" in filters["true"]  # the same requests look DNs up by entryDN by default
    assert "entryDN" not in filters["false"]
