"""A group PATCH of member deltas alone, answered 204, skips the resource as read
(``Writer._patch_deltas``): every answer and every LDAP request must be what the general path
(``as_resource``, ``apply_patch``, ``_update``) gives. Each case runs twice against the real
slapd on identical groups, once per path, and the two runs are compared."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, get_args

import pytest
from support.gateway import Gateway

from gateway.directory import ldapfilter
from gateway.directory.operations import Directory

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
CORE = "urn:ietf:params:scim:schemas:core:2.0:Group"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CSN = re.compile(r"\d{14}\.\d{6}Z#[0-9a-f]{6}#[0-9a-f]{3}#[0-9a-f]{6}")
WHEN = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
UNKNOWN = "8c1f3d84-0000-4000-8000-000000000000"
FILTERS = get_args(ldapfilter.LdapFilter)


def ops(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH], "Operations": list(operations)}


def add(*ids: str, path: str = "members") -> dict[str, Any]:
    return {"op": "add", "path": path, "value": [{"value": i} for i in ids]}


# (name, operations given the ids {"a", "b", "c", "group", "other"}, If-Match: None, "now", text)
CASES: list[tuple[str, Callable[[dict[str, str]], dict[str, Any]], str | None]] = [
    ("add", lambda i: ops(add(i["b"])), None),
    ("add one already there", lambda i: ops(add(i["a"])), None),
    ("add two", lambda i: ops(add(i["b"], i["c"])), None),
    ("add a group", lambda i: ops(add(i["other"])), None),
    ("add itself", lambda i: ops(add(i["group"])), None),
    ("add an unknown id", lambda i: ops(add(UNKNOWN)), None),
    ("add no uuid", lambda i: ops(add("not-a-uuid")), None),
    ("add a string", lambda i: ops({"op": "add", "path": "members", "value": "x"}), None),
    (
        "add a member object",
        lambda i: ops({"op": "Add", "path": "members", "value": {"value": i["b"]}}),
        None,
    ),
    ("URN path", lambda i: ops(add(i["b"], path=f"{CORE}:members")), None),
    (
        "remove by filter",
        lambda i: ops({"op": "remove", "path": f'members[value eq "{i["a"]}"]'}),
        None,
    ),
    (
        "remove listed",
        lambda i: ops({"op": "remove", "path": "members", "value": [{"value": i["a"]}]}),
        None,
    ),
    ("remove all", lambda i: ops({"op": "remove", "path": "members"}), None),
    (
        "add then remove",
        lambda i: ops(
            add(i["b"]), {"op": "remove", "path": "members", "value": [{"value": i["b"]}]}
        ),
        None,
    ),
    (
        "replace",
        lambda i: ops({"op": "replace", "path": "members", "value": [{"value": i["b"]}]}),
        None,
    ),
    ("add nothing", lambda i: ops(add()), None),
    (
        "a bad filter",
        lambda i: ops({"op": "add", "path": 'members[value eq "x"]', "value": {}}),
        None,
    ),
    ("If-Match of now", lambda i: ops(add(i["b"])), "now"),
    ("If-Match stale", lambda i: ops(add(i["b"])), 'W/"20200101000000.000000Z#000000#000#000000"'),
    ("If-Match any", lambda i: ops(add(i["b"])), "*"),
    ("If-Match unreadable", lambda i: ops(add(i["b"])), "garbage"),
]


def run(gw: Gateway, case: tuple, general: bool, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The case on a fresh group (the same names each time): answer, the group after it and
    the PATCH's LDAP requests, with ids in order of appearance, versions and times blanked."""
    _, operations, if_match = case
    ids = {n: gw.post("/Users", {"userName": f"d{n}"}).get_json()["id"] for n in "abc"}
    ids["other"] = gw.post("/Groups", {"displayName": "other"}).get_json()["id"]
    group = gw.post("/Groups", {"displayName": "deltas", "members": [{"value": ids["a"]}]})
    ids["group"] = group.get_json()["id"]
    writer = gw.client.application.extensions["scim"].services["Group"].writer
    monkeypatch.setattr(writer, "_deltas_alone", not general)
    sent: list[str] = []
    for name in ("search", "modify", "search_paged"):
        real = getattr(Directory, name)

        def recording(
            self: Directory, *args: Any, _real: Any = real, _name: str = name, **kw: Any
        ) -> Any:
            shown = [ldapfilter.render(a) if isinstance(a, FILTERS) else a for a in args]
            sent.append(f"{_name} {shown!r} {sorted((k, repr(v)) for k, v in kw.items())}")
            return _real(self, *args, **kw)

        monkeypatch.setattr(Directory, name, recording)
    headers = gw._json()
    if if_match == "now":
        headers["If-Match"] = group.headers["ETag"]
    elif if_match is not None:
        headers["If-Match"] = if_match
    resp = gw.client.patch(f"/scim/v2/Groups/{ids['group']}", json=operations(ids), headers=headers)
    monkeypatch.undo()  # the PATCH's requests only (a GET may ask for the root DSE once)
    after = gw.get(f"/Groups/{ids['group']}")
    seen: dict[str, str] = {}
    lines = [
        f"{resp.status_code} {resp.headers.get('ETag')} {resp.get_data(as_text=True)}",
        f"{after.headers.get('ETag')} {after.get_data(as_text=True)}",
        *sent,
    ]
    for dn in [f"uid=d{n},{gw.people}" for n in "abc"] + [
        f"cn={n},{gw.groups}" for n in ("other", "deltas")
    ]:
        gw.ldap.delete(dn)
    text = WHEN.sub("<time>", CSN.sub("<csn>", "\n".join(lines)))
    return UUID.sub(lambda m: seen.setdefault(m.group(0), f"<id{len(seen)}>"), text).splitlines()


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_both_paths_answer_and_write_the_same(
    gw: Gateway, case: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    general = run(gw, case, True, monkeypatch)
    alone = run(gw, case, False, monkeypatch)
    assert alone == general
    assert general[0].split()[0] in {"204", "400", "412"}


def test_a_member_add_answered_204_does_not_build_the_resource(
    gw: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The case above compares two paths: this holds that the second is the one taken."""
    a = gw.post("/Users", {"userName": "built"}).get_json()["id"]
    gid = gw.post("/Groups", {"displayName": "built"}).get_json()["id"]
    reader = gw.client.application.extensions["scim"].services["Group"].reader
    built: list[Any] = []
    real = reader.as_resource
    monkeypatch.setattr(reader, "as_resource", lambda entry: built.append(entry) or real(entry))
    assert gw.patch(f"/Groups/{gid}", ops(add(a))).status_code == 204
    assert built == []
    assert gw.patch(f"/Groups/{gid}?attributes=members", ops(add(a))).status_code == 200
    assert len(built) == 1  # answered with a body: the general path
