"""Real concurrency: `scim-gateway serve` (2 workers x 4 threads) over the real slapd.

Many clients at the same instant (threads released by a barrier, one HTTP connection each):
one winner for a contested userName, no lost member adds or removes, no lost attribute
updates when several PATCHes hit one user at once. Each check reads the directory itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from support.scim_http import all_at_once
from support.site import Site, served_site
from support.slapd import Slapd

from e2e.conftest import TOKEN
from gateway.directory.dn import child_dn, normalize

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PLACEHOLDER = "cn=empty-membership-placeholder,dc=example,dc=org"


@pytest.fixture(scope="module")
def site(slapd: Slapd, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with served_site(slapd, tmp_path_factory.mktemp("concurrency"), TOKEN) as served:
        yield served


def create_users(site: Site, prefix: str, n: int) -> dict[str, str]:
    """n users created concurrently; returns userName -> id."""
    answers = all_at_once(
        [lambda i=i: site.scim.post("/Users", {"userName": f"{prefix}{i}"}) for i in range(n)]
    )
    assert [a.status for a in answers] == [201] * n, [a.body for a in answers if a.status != 201]
    return {a.body["userName"]: a.body["id"] for a in answers}


def test_simultaneous_creates_of_one_username_make_exactly_one_user(site: Site) -> None:
    answers = all_at_once(
        [lambda: site.scim.post("/Users", {"userName": "contested"}) for _ in range(20)]
    )
    statuses = Counter(a.status for a in answers)
    assert statuses == {201: 1, 409: 19}, [(a.status, a.body) for a in answers]
    losers = [a for a in answers if a.status == 409]
    assert all(a.scim_type == "uniqueness" and a.body["status"] == "409" for a in losers)
    entries = site.search(site.people, "(uid=contested)", "entryUUID")
    assert len(entries) == 1
    winner = next(a for a in answers if a.status == 201)
    assert [str(v) for v in entries[0]["attributes"]["entryUUID"]] == [winner.body["id"]]
    listing = site.scim.get("/Users?filter=userName%20eq%20%22contested%22").body
    assert listing["totalResults"] == 1


def test_simultaneous_member_adds_to_one_group_are_all_kept(site: Site) -> None:
    group = site.scim.post("/Groups", {"displayName": "crowd"}).body
    users = create_users(site, "joiner", 50)
    answers = all_at_once(
        [
            lambda uid=uid: site.scim.patch(
                f"/Groups/{group['id']}",
                {"op": "add", "path": "members", "value": [{"value": uid}]},
            )
            for uid in users.values()
        ]
    )
    assert [a.status for a in answers] == [204] * 50, [a.body for a in answers if a.status >= 300]
    group_dn = child_dn("cn", "crowd", site.groups)
    stored = {normalize(v) for v in site.values(group_dn, "member")}
    expected = {normalize(child_dn("uid", name, site.people)) for name in users}
    assert stored == expected  # all 50, and the empty-group placeholder is gone
    shown = site.scim.get(f"/Groups/{group['id']}").body
    assert sorted(m["value"] for m in shown["members"]) == sorted(users.values())


def test_simultaneous_member_removes_empty_the_group_down_to_the_placeholder(site: Site) -> None:
    users = create_users(site, "leaver", 30)
    members = [{"value": uid} for uid in users.values()]
    group = site.scim.post("/Groups", {"displayName": "shrinking", "members": members}).body
    assert len(group["members"]) == 30
    answers = all_at_once(
        [
            lambda uid=uid: site.scim.patch(
                f"/Groups/{group['id']}",
                {"op": "remove", "path": f'members[value eq "{uid}"]'},
            )
            for uid in users.values()
        ]
    )
    assert [a.status for a in answers] == [204] * 30, [a.body for a in answers if a.status >= 300]
    group_dn = child_dn("cn", "shrinking", site.groups)
    assert [normalize(v) for v in site.values(group_dn, "member")] == [normalize(PLACEHOLDER)]
    assert site.scim.get(f"/Groups/{group['id']}").body.get("members", []) == []
    for name in users:  # memberOf followed every removal
        assert site.values(child_dn("uid", name, site.people), "memberOf") == []


PATCHES = {
    "title": ({"op": "replace", "path": "title", "value": "Chief"}, "title", "Chief"),
    "displayName": (
        {"op": "replace", "path": "displayName", "value": "Barbara J"},
        "displayName",
        "Barbara J",
    ),
    "employeeNumber": (
        {"op": "replace", "path": f"{ENTERPRISE}:employeeNumber", "value": "E-42"},
        "employeeNumber",
        "E-42",
    ),
    "department": (
        {"op": "replace", "path": f"{ENTERPRISE}:department", "value": "Tour Operations"},
        "departmentNumber",
        "Tour Operations",
    ),
    "workPhone": (
        {
            "op": "add",
            "path": "phoneNumbers",
            "value": [{"value": "+1 555 0100", "type": "work"}],
        },
        "telephoneNumber",
        "+1 555 0100",
    ),
    "mobile": (
        {
            "op": "add",
            "path": "phoneNumbers",
            "value": [{"value": "+1 555 0199", "type": "mobile"}],
        },
        "mobile",
        "+1 555 0199",
    ),
    "email": (
        {"op": "add", "path": "emails", "value": [{"value": "bj@example.org", "type": "work"}]},
        "mail",
        "bj@example.org",
    ),
    "externalId": (
        {"op": "replace", "path": "externalId", "value": "ext-7"},
        "businessCategory",
        "ext-7",
    ),
    "givenName": (
        {"op": "replace", "path": "name.givenName", "value": "Barbara"},
        "givenName",
        "Barbara",
    ),
    "preferredLanguage": (
        {"op": "replace", "path": "preferredLanguage", "value": "en-US"},
        "preferredLanguage",
        "en-US",
    ),
}


@pytest.mark.parametrize("round_", range(3))
def test_simultaneous_patches_to_different_attributes_of_one_user_are_all_applied(
    site: Site, round_: int
) -> None:
    name = f"busy{round_}"
    user = site.scim.post("/Users", {"userName": name}).body
    answers = all_at_once(
        [lambda op=op: site.scim.patch(f"/Users/{user['id']}", op) for op, _, _ in PATCHES.values()]
    )
    assert [a.status for a in answers] == [200] * len(PATCHES), [a.body for a in answers]
    dn = child_dn("uid", name, site.people)
    attrs = [ldap for _, ldap, _ in PATCHES.values()]
    stored = site.search(dn, "(objectClass=*)", *attrs, scope="BASE")[0]["attributes"]
    missing = {
        key: stored.get(ldap)
        for key, (_, ldap, value) in PATCHES.items()
        if [str(v) for v in stored.get(ldap, [])] != [value]
    }
    assert not missing, f"lost updates: {missing}"
    # cn is derived ("{name.givenName} {name.familyName}", else "{displayName}", else
    # "{userName}"): what applying the PATCHes one after the other gives, whatever the order
    assert site.values(dn, "cn") == ["Barbara J"]
    shown = site.scim.get(f"/Users/{user['id']}").body
    assert shown["title"] == "Chief" and shown["name"]["givenName"] == "Barbara"
    assert shown[ENTERPRISE]["employeeNumber"] == "E-42"
    assert sorted(p["type"] for p in shown["phoneNumbers"]) == ["mobile", "work"]


def test_a_served_gateway_never_answered_500_under_this_load(site: Site) -> None:
    log = site.served.log()
    assert "Traceback" not in log and '"status":500' not in log, log[-3000:]
