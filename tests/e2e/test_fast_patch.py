"""PATCH in one LDAP round trip (issue 17): the remembered DN, checked by the directory.

Two (or three) apps over one subtree of the real slapd: ``fast`` remembers DNs (the default),
``slow`` has SCIM_GATEWAY_DN_CACHE_SIZE=0 and so always takes today's path (read, apply,
write), ``other`` is a second gateway process with a cache of its own. Round trips are the
access log's ``ldap_ops``.

- Identical semantics: the same PATCH bodies go to twin users, one through each path, from
  the same stored state; answers (status, body) and the entries afterwards must be equal,
  and the round trips say which path ran.
- A stale DN (renamed or deleted by another gateway or an LDAP tool, another entry now at
  that DN) never changes the wrong entry and gives today's answer.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ldap3 import MODIFY_REPLACE, Connection
from support.gateway import Gateway
from support.slapd import Slapd

from e2e.conftest import TOKEN, isolated_mapping, make_subtree, settings_for
from gateway.app import create_app

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
_names = itertools.count()


@dataclass
class Apps:
    fast: Gateway
    slow: Gateway
    other: Gateway
    ldap: Connection
    people: str
    groups: str


@pytest.fixture
def apps(slapd: Slapd, ldap_admin: Connection, tmp_path: Path) -> Iterator[Apps]:
    people, groups = make_subtree(ldap_admin, slapd.suffix)
    mapping = isolated_mapping(tmp_path, people, groups)
    made = []
    for cache in (10000, 0, 10000):
        app = create_app(settings_for(slapd, mapping, dn_cache_size=cache))
        app.testing = True
        made.append(app)
    gws = [
        Gateway(a.test_client(), ldap_admin, people, groups, {"Authorization": f"Bearer {TOKEN}"})
        for a in made
    ]
    try:
        yield Apps(gws[0], gws[1], gws[2], ldap_admin, people, groups)
    finally:
        for a in made:
            a.extensions["scim"].pool.close_all()


def ops(*items: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(items)}


def replace(path: str | None, value: Any) -> dict[str, Any]:
    return {"op": "replace", "value": value} | ({"path": path} if path else {})


def counted(caplog: pytest.LogCaptureFixture, call: Callable[[], Any]) -> tuple[int, Any]:
    """The LDAP round trips one request needed (its access line), and the response."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="gateway.access"):
        resp = call()
    lines = [r for r in caplog.records if r.name == "gateway.access"]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    return lines[0].fields["ldap_ops"], resp  # type: ignore[attr-defined]


def new_user(gw: Gateway, name: str, **extra: Any) -> str:
    body = {
        "schemas": [USER],
        "userName": name,
        "displayName": "Twin",
        "name": {"givenName": "Ann", "familyName": "Lee", "formatted": "Ann Lee"},
        **extra,
    }
    resp = gw.post("/Users", body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def dn_of(apps: Apps, name: str) -> str:
    return f"uid={name},{apps.people}"


def stored(apps: Apps, dn: str) -> dict[str, list[str]] | None:
    return apps.fast.entry(
        dn, "*", "pwdAccountLockedTime", "pwdPolicySubentry", "memberOf", "entryCSN"
    )


# ------------------------------------------------------------------------------ round trips


def test_a_patch_after_a_read_is_one_round_trip(
    apps: Apps, caplog: pytest.LogCaptureFixture
) -> None:
    ident = new_user(apps.other, "reader")  # created elsewhere: this process never saw it
    body = ops(replace("title", "first"))
    n, resp = counted(caplog, lambda: apps.fast.patch(f"/Users/{ident}", body))
    assert (n, resp.status_code) == (2, 200)  # today's path: search, modify
    assert resp.get_json()["title"] == "first"

    other = new_user(apps.other, "filtered")
    found = apps.fast.get("/Users", query_string={"filter": 'userName eq "filtered"'})
    assert found.get_json()["totalResults"] == 1  # Entra reads (filters) before it PATCHes
    n, resp = counted(caplog, lambda: apps.fast.patch(f"/Users/{other}", body))
    assert (n, resp.status_code) == (1, 200)
    got = resp.get_json()
    assert got["title"] == "first" and got["userName"] == "filtered"
    assert got["meta"]["version"] == resp.headers["ETag"]
    assert stored(apps, dn_of(apps, "filtered"))["title"] == ["first"]

    n, resp = counted(
        caplog, lambda: apps.fast.patch(f"/Users/{ident}", ops(replace("title", "2")))
    )
    assert (n, resp.status_code) == (1, 200)  # the first PATCH's read taught it the DN


def test_a_patch_right_after_create_is_one_round_trip(
    apps: Apps, caplog: pytest.LogCaptureFixture
) -> None:
    ident = new_user(apps.fast, "fresh")
    body = ops(
        replace('emails[type eq "work"].value', "fresh@example.org"),
        replace(None, {"title": "Boss", f"{ENTERPRISE}:department": "R&D"}),
    )
    n, resp = counted(caplog, lambda: apps.fast.patch(f"/Users/{ident}", body))
    assert (n, resp.status_code) == (1, 200)
    entry = stored(apps, dn_of(apps, "fresh"))
    assert entry["mail"] == ["fresh@example.org"] and entry["departmentnumber"] == ["R&D"]
    got = apps.fast.get(f"/Users/{ident}").get_json()
    assert got == resp.get_json()  # the answer is what a GET shows


def test_a_user_in_groups_needs_one_more_round_trip_for_the_group_ids(
    apps: Apps, caplog: pytest.LogCaptureFixture
) -> None:
    ident = new_user(apps.fast, "member")
    group = apps.fast.post(
        "/Groups",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "g1",
            "members": [{"value": ident}],
        },
    ).get_json()["id"]
    n, resp = counted(
        caplog, lambda: apps.fast.patch(f"/Users/{ident}", ops(replace("title", "x")))
    )
    # the modify, then the ids of the groups its read-back names (memberOf holds DNs)
    assert (n, resp.status_code) == (2, 200)
    assert [g["value"] for g in resp.get_json()["groups"]] == [group]


def test_without_the_cache_every_patch_takes_todays_path(
    apps: Apps, caplog: pytest.LogCaptureFixture
) -> None:
    ident = new_user(apps.slow, "nocache")
    apps.slow.get(f"/Users/{ident}")
    n, resp = counted(
        caplog, lambda: apps.slow.patch(f"/Users/{ident}", ops(replace("title", "x")))
    )
    assert (n, resp.status_code) == (2, 200)


# ------------------------------------------------------------------------ same semantics


def add_extra_title(apps: Apps, dn: str) -> None:
    assert apps.ldap.modify(dn, {"title": [(MODIFY_REPLACE, ["Alpha", "Beta"])]}), apps.ldap.result


def set_title(value: str) -> Callable[[Apps, str], None]:
    def setup(apps: Apps, dn: str) -> None:
        assert apps.ldap.modify(dn, {"title": [(MODIFY_REPLACE, [value])]}), apps.ldap.result

    return setup


def set_mail(apps: Apps, dn: str) -> None:
    assert apps.ldap.modify(dn, {"mail": [(MODIFY_REPLACE, ["old@example.org"])]})


def set_street(apps: Apps, dn: str) -> None:
    assert apps.ldap.modify(dn, {"street": [(MODIFY_REPLACE, ["1 Main St"])]})


def lock_only(apps: Apps, dn: str) -> None:
    """Disabled, with the mark gone (as after an admin's password reset, the other way round):
    today's path writes the missing one back on any update."""
    change = {"pwdAccountLockedTime": [(MODIFY_REPLACE, ["000001010000Z"])]}
    assert apps.ldap.modify(dn, change), apps.ldap.result


def nothing(apps: Apps, dn: str) -> None:
    pass


WORK_MAIL = 'emails[type eq "work"].value'

# (case, setup of the stored entry, PATCH operations, round trips the fast app needs)
CASES: list[tuple[str, Callable[[Apps, str], None], list[dict[str, Any]], int]] = [
    ("replace an absent title", nothing, [replace("title", "Chief")], 1),
    ("add an absent title", nothing, [{"op": "add", "path": "title", "value": "Chief"}], 1),
    ("replace one of two stored titles", add_extra_title, [replace("title", "Gamma")], 1),
    # a value stored beside another: today's path sees the first only and keeps both
    ("replace with the second stored title", add_extra_title, [replace("title", "Beta")], 3),
    ("replace with the same title", set_title("Same"), [replace("title", "Same")], 2),
    ("replace with the same title in other case", set_title("Same"), [replace("title", "SAME")], 3),
    ("remove a stored title", set_title("Gone"), [{"op": "remove", "path": "title"}], 1),
    ("remove an absent title", nothing, [{"op": "remove", "path": "title"}], 2),
    ("replace a title with an empty string", set_title("Gone"), [replace("title", "")], 1),
    ("replace twice", nothing, [replace("title", "One"), replace("title", "Two")], 1),
    ("replace a stored work email", set_mail, [replace(WORK_MAIL, "new@example.org")], 1),
    ("replace an absent work email", nothing, [replace(WORK_MAIL, "new@example.org")], 1),
    ("add a work email", set_mail, [{"op": "add", "path": WORK_MAIL, "value": "n@example.org"}], 1),
    ("remove an absent work email", nothing, [{"op": "remove", "path": WORK_MAIL}], 1),
    ("remove a stored work email", set_mail, [{"op": "remove", "path": WORK_MAIL}], 2),
    (
        "several attributes without a path",
        nothing,
        [
            replace(
                None, {"title": "T", "preferredLanguage": "fr", f"{ENTERPRISE}:employeeNumber": "7"}
            )
        ],
        1,
    ),
    (
        "one sub-attribute of a stored address",
        set_street,
        [replace('addresses[type eq "work"].locality', "Paris")],
        1,
    ),
    ("a disabled entry missing its mark", lock_only, [replace("title", "Locked")], 3),
    ("displayName feeds cn: today's path", nothing, [replace("displayName", "New")], 2),
    (
        "a blind and a non-blind operation",
        nothing,
        [replace("title", "T"), replace("displayName", "D")],
        2,
    ),
    ("active: today's path", nothing, [replace("active", False)], 2),
    (
        "a phone number the schema refuses",
        nothing,
        [replace('phoneNumbers[type eq "work"].value', "☎☎")],
        3,
    ),
    ("a value of the wrong type", nothing, [replace("title", 12)], 1),
    ("an unknown attribute", nothing, [replace("nickNameX", "x")], 1),
]


def comparable(resp: Any) -> tuple[int, Any]:
    body = resp.get_json(silent=True)
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in ("id", "meta", "userName")}
    return resp.status_code, body


def comparable_entry(entry: dict[str, list[str]] | None) -> dict[str, list[str]]:
    assert entry is not None
    return {k: v for k, v in entry.items() if k not in ("uid", "entrycsn")}


@pytest.mark.parametrize(
    ("case", "setup", "operations", "fast_trips"), CASES, ids=[c[0] for c in CASES]
)
def test_the_one_write_path_answers_and_stores_exactly_what_todays_path_does(
    apps: Apps,
    caplog: pytest.LogCaptureFixture,
    case: str,
    setup: Callable[[Apps, str], None],
    operations: list[dict[str, Any]],
    fast_trips: int,
) -> None:
    n = next(_names)
    twins = {}
    for side, gw in (("fast", apps.fast), ("slow", apps.slow)):
        name = f"{side}-{n}"
        ident = new_user(gw, name)
        dn = dn_of(apps, name)
        setup(apps, dn)
        twins[side] = (gw, ident, dn, stored(apps, dn))
    gw, ident, _, _ = twins["fast"]
    assert gw.get(f"/Users/{ident}").status_code == 200  # the DN is known (it is anyway)
    answers = {}
    for side, (gw, ident, dn, before) in twins.items():
        path = f"/Users/{ident}"
        trips, resp = counted(caplog, lambda gw=gw, path=path: gw.patch(path, ops(*operations)))
        after = stored(apps, dn)
        changed = after["entrycsn"] != before["entrycsn"]
        answers[side] = (trips, comparable(resp), comparable_entry(after), changed)
    fast, slow = answers["fast"], answers["slow"]
    assert fast[1] == slow[1], case  # status and body
    assert fast[2] == slow[2], case  # the stored entry
    assert fast[3] == slow[3], case  # written or not
    assert fast[0] == fast_trips, (case, fast[0])


# ------------------------------------------------------------------------------ stale DNs


def test_a_rename_by_another_gateway_costs_one_round_trip_and_writes_the_renamed_entry(
    apps: Apps, caplog: pytest.LogCaptureFixture
) -> None:
    ident = new_user(apps.fast, "before")
    resp = apps.other.patch(f"/Users/{ident}", ops(replace("userName", "after")))
    assert resp.status_code == 200
    n, resp = counted(
        caplog, lambda: apps.fast.patch(f"/Users/{ident}", ops(replace("title", "x")))
    )
    # the modify to the old DN (noSuchObject), then today's path: search, modify
    assert (n, resp.status_code) == (3, 200)
    assert resp.get_json()["userName"] == "after"
    assert stored(apps, dn_of(apps, "after"))["title"] == ["x"]
    assert stored(apps, dn_of(apps, "before")) is None
    n, resp = counted(
        caplog, lambda: apps.fast.patch(f"/Users/{ident}", ops(replace("title", "y")))
    )
    assert (n, resp.status_code) == (1, 200)  # the new DN was learnt


def test_a_rename_with_ldap_tools_is_found(apps: Apps, caplog: pytest.LogCaptureFixture) -> None:
    ident = new_user(apps.fast, "tooled")
    assert apps.ldap.modify_dn(dn_of(apps, "tooled"), "uid=moved"), apps.ldap.result
    n, resp = counted(
        caplog, lambda: apps.fast.patch(f"/Users/{ident}", ops(replace("title", "x")))
    )
    assert (n, resp.status_code) == (3, 200)
    assert stored(apps, dn_of(apps, "moved"))["title"] == ["x"]


def test_a_user_deleted_elsewhere_is_404_and_nothing_is_written(
    apps: Apps, caplog: pytest.LogCaptureFixture
) -> None:
    ident = new_user(apps.fast, "doomed")
    assert apps.other.delete(f"/Users/{ident}").status_code == 204
    n, resp = counted(
        caplog, lambda: apps.fast.patch(f"/Users/{ident}", ops(replace("title", "x")))
    )
    assert (n, resp.status_code) == (2, 404)
    assert apps.fast.children(apps.people) == []


def test_another_entry_now_at_the_remembered_dn_is_never_written(
    apps: Apps, caplog: pytest.LogCaptureFixture
) -> None:
    ident = new_user(apps.fast, "reused")
    assert apps.ldap.delete(dn_of(apps, "reused")), apps.ldap.result
    newcomer = new_user(apps.other, "reused")  # same DN, another entryUUID
    assert newcomer != ident
    before = stored(apps, dn_of(apps, "reused"))
    n, resp = counted(
        caplog, lambda: apps.fast.patch(f"/Users/{ident}", ops(replace("title", "x")))
    )
    assert (n, resp.status_code) == (2, 404)
    assert stored(apps, dn_of(apps, "reused")) == before  # untouched: no title, same version


def test_own_delete_and_rename_keep_the_memory_right(
    apps: Apps, caplog: pytest.LogCaptureFixture
) -> None:
    ident = new_user(apps.fast, "mine")
    resp = apps.fast.patch(f"/Users/{ident}", ops(replace("userName", "mine2")))
    assert resp.status_code == 200
    n, resp = counted(
        caplog, lambda: apps.fast.patch(f"/Users/{ident}", ops(replace("title", "x")))
    )
    assert (n, resp.status_code) == (1, 200)  # the rename taught it the new DN
    assert apps.fast.delete(f"/Users/{ident}").status_code == 204
    n, resp = counted(
        caplog, lambda: apps.fast.patch(f"/Users/{ident}", ops(replace("title", "y")))
    )
    assert (n, resp.status_code) == (1, 404)  # forgotten on delete: just the search


def test_a_stale_if_match_is_412_as_today_and_changes_nothing(
    apps: Apps, caplog: pytest.LogCaptureFixture
) -> None:
    answers = []
    for gw, name in ((apps.fast, "etag-fast"), (apps.slow, "etag-slow")):
        ident = new_user(gw, name)
        first = gw.get(f"/Users/{ident}")
        etag = first.headers["ETag"]
        resp = gw.patch(f"/Users/{ident}", ops(replace("title", "one")))
        assert resp.status_code == 200
        current = resp.headers["ETag"]
        before = stored(apps, dn_of(apps, name))
        headers = {**gw._json(), "If-Match": etag}
        url = f"/scim/v2/Users/{ident}"
        body = ops(replace("title", "two"))
        n, resp = counted(
            caplog,
            lambda gw=gw, url=url, headers=headers, body=body: gw.client.patch(
                url, json=body, headers=headers
            ),
        )
        assert stored(apps, dn_of(apps, name)) == before
        answers.append((resp.status_code, resp.get_json()))
        if gw is apps.fast:
            assert n == 2  # the refused modify, then today's read that decides 412
            ok = gw.client.patch(
                f"/scim/v2/Users/{ident}",
                json=ops(replace("title", "two")),
                headers={**gw._json(), "If-Match": current},
            )
            assert ok.status_code == 200 and ok.get_json()["title"] == "two"
    assert answers[0] == answers[1]
    assert answers[0][0] == 412
