"""Property-based: generated requests never get a 5xx, every 4xx is a SCIM Error, and a
rejected request leaves the directory as it was.

The app runs over the real slapd (Flask test client); each property keeps one isolated
subtree for all its examples and compares a snapshot of it (every entry, user and
operational attributes, minus the write bookkeeping) before and after each rejected request.
Examples are derandomised so CI sees the same ones every run; set FUZZ_RANDOM=1 (and
FUZZ_EXAMPLES=N) to explore new ones locally.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from support.gateway import Gateway
from support.scim_strategies import (
    PATCH_OP,
    SEARCH_REQUEST,
    filters,
    json_values,
    mostly,
    patch_bodies,
    query_strings,
    resource_bodies,
)

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
VOLATILE = frozenset({"entrycsn", "modifytimestamp", "modifiersname"})
"""Changed by any write, even one that restores the content (a reverted rename)."""

NO_BODY = object()
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "0")) or None


def fuzz_settings(examples: int):
    return settings(
        max_examples=EXAMPLES or examples,
        deadline=None,
        derandomize=not os.environ.get("FUZZ_RANDOM"),
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,  # one gateway and subtree for all examples
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
        print_blob=True,
    )


def snapshot(gw: Gateway) -> dict[str, dict[str, list[str]]]:
    """Every entry of the test's subtree: DN -> attributes (values sorted), volatile ones out."""
    out: dict[str, dict[str, list[str]]] = {}
    for base in (gw.people, gw.groups):
        assert gw.ldap.search(base, "(objectClass=*)", "LEVEL", attributes=["*", "+"])
        for entry in gw.ldap.response:
            if entry.get("type") != "searchResEntry":
                continue
            attrs = entry["raw_attributes"]
            out[entry["dn"].lower()] = {
                name.lower(): sorted(v.hex() for v in values)
                for name, values in attrs.items()
                if name.lower() not in VOLATILE
            }
    return out


def check_answer(resp, what: str) -> None:
    """No 5xx; an error is a SCIM Error body (RFC 7644 §3.12)."""
    text = resp.get_data(as_text=True)
    assert resp.status_code < 500, f"{what} -> {resp.status_code}: {text}"
    if resp.status_code >= 400 and resp.request.method != "HEAD":
        assert resp.content_type.startswith("application/scim+json"), (what, resp.content_type)
        body = json.loads(text)
        assert body.get("schemas") == [ERROR], (what, body)
        assert body.get("status") == str(resp.status_code), (what, body)
        assert isinstance(body.get("detail"), str) and body["detail"], (what, body)


class Target:
    """The gateway under test, ids of seeded resources, and the last known directory state."""

    def __init__(self, gw: Gateway, ids: dict[str, str]) -> None:
        self.gw = gw
        self.ids = ids
        self._known: dict[str, dict[str, list[str]]] | None = None

    def __repr__(self) -> str:  # what hypothesis prints for a failing example: keep it short
        return f"Target({self.gw.people!r})"

    def send(
        self,
        method: str,
        path: str,
        body: Any = NO_BODY,
        *,
        raw: bytes | None = None,
        query: dict[str, str] | None = None,
    ):
        """One request; if it is refused, the directory must not have changed."""
        gw = self.gw
        before = self._known if self._known is not None else snapshot(gw)
        if body is not NO_BODY:
            raw = json.dumps(body).encode("utf-8")
        headers = dict(gw.headers)
        if raw is not None:
            headers["Content-Type"] = "application/scim+json"
        resp = gw.client.open(
            f"/scim/v2{path}", method=method, data=raw, headers=headers, query_string=query
        )
        what = f"{method} {path} {query or ''} {(raw or b'')[:300]!r}"
        event(f"{method} -> {resp.status_code}")  # --hypothesis-show-statistics shows the mix
        check_answer(resp, what)
        if resp.status_code >= 400:
            after = snapshot(gw)
            assert after == before, (
                f"refused ({resp.status_code}) yet changed the directory: {what}"
            )
            self._known = after
        elif method in ("GET", "HEAD", "OPTIONS") or path.endswith(".search"):
            self._known = before  # reads write nothing (checked on the next refusal)
        else:
            self._known = None  # a write was accepted: read the directory again next time
        return resp


@pytest.fixture
def target(gw: Gateway) -> Target:
    """A few users and a group to aim PUTs, PATCHes and references at."""
    ids: dict[str, str] = {}
    for name in ("ann", "bob", "cy"):
        email = [{"value": f"{name}@example.org", "type": "work"}]
        resp = gw.post("/Users", {"userName": name, "title": "seed", "emails": email})
        ids[name] = resp.get_json()["id"]
    members = [{"value": ids["ann"]}, {"value": ids["bob"]}]
    ids["team"] = gw.post("/Groups", {"displayName": "team", "members": members}).get_json()["id"]
    ids["empty"] = gw.post("/Groups", {"displayName": "empty"}).get_json()["id"]
    return Target(gw, ids)


@fuzz_settings(100)
@given(data=st.data())
def test_generated_creates_never_fail_the_server(target: Target, data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(["User", "Group"]))
    body = data.draw(
        mostly(resource_bodies(kind, list(target.ids.values())), json_values), label="body"
    )
    target.send("POST", f"/{kind}s", body)


@fuzz_settings(80)
@given(data=st.data())
def test_generated_replacements_never_fail_the_server(target: Target, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(["cy", "empty"]))
    kind = "User" if name == "cy" else "Group"
    body = data.draw(
        mostly(resource_bodies(kind, list(target.ids.values())), json_values), label="body"
    )
    target.send("PUT", f"/{kind}s/{target.ids[name]}", body)


@fuzz_settings(120)
@given(data=st.data())
def test_generated_patches_never_fail_the_server(target: Target, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(["ann", "bob", "team", "empty"]))
    endpoint = "Groups" if name in ("team", "empty") else "Users"
    body = data.draw(patch_bodies(endpoint[:-1], list(target.ids.values())), label="body")
    query = data.draw(
        st.sampled_from([None, {"attributes": "members"}, {"excludedAttributes": "members"}])
    )
    target.send("PATCH", f"/{endpoint}/{target.ids[name]}", body, query=query)


@fuzz_settings(120)
@given(endpoint=st.sampled_from(["/Users", "/Groups"]), query=query_strings())
def test_generated_list_queries_never_fail_the_server(
    target: Target, endpoint: str, query: dict[str, str]
) -> None:
    resp = target.send("GET", endpoint, query=query)
    if resp.status_code == 200:
        listing = resp.get_json()
        assert len(listing["Resources"]) == listing["itemsPerPage"] <= listing["totalResults"]


@fuzz_settings(80)
@given(
    path=st.sampled_from(["/Users/.search", "/Groups/.search", "/.search"]),
    params=query_strings(),
)
def test_generated_search_requests_never_fail_the_server(
    target: Target, path: str, params: dict[str, Any]
) -> None:
    """String members only: other JSON types are test_bad_input's (a known 500, xfailed there)."""
    body: dict[str, Any] = {"schemas": [SEARCH_REQUEST], **params}
    for key in ("startIndex", "count"):  # a SearchRequest carries numbers as JSON numbers
        if key in body and re.fullmatch(r"-?[0-9]{1,30}", body[key]):
            body[key] = int(body[key])
    target.send("POST", path, body)


@fuzz_settings(100)
@given(flt=filters())
def test_generated_filters_are_answered_or_refused_as_invalid_filter(
    target: Target, flt: str
) -> None:
    for endpoint in ("/Users", "/Groups"):
        resp = target.send("GET", endpoint, query={"filter": flt})
        if resp.status_code == 400:
            assert resp.get_json().get("scimType") in ("invalidFilter", "invalidValue"), flt


@fuzz_settings(60)
@given(
    method=st.sampled_from(["POST", "PUT", "PATCH"]),
    raw=st.binary(max_size=64)
    | st.text(max_size=64).map(lambda t: t.encode("utf-8", "surrogatepass")),
)
def test_arbitrary_bytes_as_a_body_are_refused_cleanly(
    target: Target, method: str, raw: bytes
) -> None:
    path = "/Users" if method == "POST" else f"/Users/{target.ids['bob']}"
    target.send(method, path, raw=raw)


@fuzz_settings(40)
@given(
    path=st.lists(st.text(max_size=12), min_size=1, max_size=3).map("/".join),
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]),
)
def test_arbitrary_paths_and_methods_are_answered_with_scim_errors(
    target: Target, path: str, method: str
) -> None:
    body = (
        {"schemas": [PATCH_OP], "Operations": []} if method in ("POST", "PUT", "PATCH") else NO_BODY
    )
    target.send(method, "/" + path, body)
