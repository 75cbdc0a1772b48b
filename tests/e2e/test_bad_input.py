"""Bad input over HTTP: always a SCIM error (never a 500), and nothing reaches the directory.

Size and nesting limits, strict JSON types, NUL / invalid UTF-8 / lone surrogates, paging
bounds, ids that cannot be ids (404 with zero LDAP operations), unknown routes and methods.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
from support.gateway import Gateway

from e2e.test_errors import assert_scim_error
from gateway.app import MAX_BODY_BYTES

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
VALID_UNKNOWN_ID = "a1b2c3d4-0000-4000-8000-000000000000"


def raw_request(gw: Gateway, method: str, path: str, raw: bytes):
    headers = {**gw.headers, "Content-Type": "application/scim+json"}
    return gw.client.open(f"/scim/v2{path}", method=method, data=raw, headers=headers)


def patch_body(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def ldap_ops_of_last_request(caplog: pytest.LogCaptureFixture) -> int:
    """The LDAP round trips the request log counted for the most recent request."""
    lines = [r for r in caplog.records if r.name == "gateway.access"]
    assert lines, "no access line was logged"
    return lines[-1].fields["ldap_ops"]  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- size and depth


def test_body_over_the_size_limit_is_413_and_writes_nothing(gw: Gateway) -> None:
    filler = "x" * (MAX_BODY_BYTES + 1)
    raw = json.dumps({"userName": "huge", "title": filler}).encode()
    resp = raw_request(gw, "POST", "/Users", raw)
    assert_scim_error(resp, 413, "tooLarge")
    assert gw.children(gw.people) == []


CHUNKED = {"wsgi.input_terminated": True, "CONTENT_LENGTH": ""}
"""How gunicorn hands a chunked body to the app: no length, the input ends by itself."""


@pytest.mark.parametrize(
    "raw",
    [
        b'{"userName": "cut", "title": "' + b"x" * MAX_BODY_BYTES + b'"}',
        # what is left at the limit is valid JSON: it must not be taken for the request
        b'{"userName": "cut"}' + b" " * MAX_BODY_BYTES,
    ],
    ids=["cut-inside-a-string", "valid-json-before-the-limit"],
)
def test_chunked_body_over_the_size_limit_is_413_not_cut_and_parsed(
    gw: Gateway, raw: bytes
) -> None:
    """No Content-Length (Transfer-Encoding: chunked, as gunicorn passes it on)."""
    resp = gw.client.post(
        "/scim/v2/Users",
        input_stream=io.BytesIO(raw),
        headers={**gw.headers, "Content-Type": "application/scim+json"},
        environ_overrides=CHUNKED,
    )
    assert_scim_error(resp, 413, "tooLarge")
    assert gw.children(gw.people) == []


def test_chunked_body_within_the_limit_is_read_whole(gw: Gateway) -> None:
    raw = b'{"userName": "chunked", "title": "' + b"x" * (MAX_BODY_BYTES - 100) + b'"}'
    resp = gw.client.post(
        "/scim/v2/Users",
        input_stream=io.BytesIO(raw),
        headers={**gw.headers, "Content-Type": "application/scim+json"},
        environ_overrides=CHUNKED,
    )
    assert resp.status_code == 201, resp.get_json()


def test_body_nested_deeper_than_the_limit_is_400_and_writes_nothing(gw: Gateway) -> None:
    deep: Any = "x"
    for _ in range(100):
        deep = {"a": deep}
    resp = gw.post("/Users", {"userName": "deep", "urn:x:y": deep})
    assert_scim_error(resp, 400, "invalidSyntax")
    assert gw.children(gw.people) == []


# ------------------------------------------------------------------------------ strict types


@pytest.mark.parametrize(
    "body",
    [
        {"userName": 5},
        {"userName": 5.5},
        {"userName": True},
        {"userName": ["bjensen"]},
        {"userName": {"value": "bjensen"}},
        {"userName": "bjensen", "active": "maybe"},
        {"userName": "bjensen", "active": 1},
        {"userName": "bjensen", "active": []},
        {"userName": "bjensen", "emails": "b@example.org"},
        {"userName": "bjensen", "emails": {"value": "b@example.org"}},
        {"userName": "bjensen", "emails": ["b@example.org"]},
        {"userName": "bjensen", "emails": [{"value": 5, "type": "work"}]},
        {"userName": "bjensen", "emails": [{"value": "a", "primary": "yes"}]},
        {"userName": "bjensen", "name": "Barbara Jensen"},
        {"userName": "bjensen", "name": {"givenName": ["Barbara"]}},
        {"userName": "bjensen", "title": {"text": "boss"}},
        {"userName": "bjensen", "phoneNumbers": [{"value": 5551234, "type": "work"}]},
        {"userName": "bjensen", ENTERPRISE: "E1"},
        {"userName": "bjensen", ENTERPRISE: {"employeeNumber": 42}},
        {"userName": "bjensen", ENTERPRISE: {"manager": 42}},
    ],
    ids=lambda body: json.dumps(body)[:60],
)
def test_values_of_the_wrong_json_type_are_400_invalid_value(
    gw: Gateway, body: dict[str, Any]
) -> None:
    body_out = assert_scim_error(gw.post("/Users", body), 400, "invalidValue")
    assert body_out["detail"]
    assert gw.children(gw.people) == []


@pytest.mark.parametrize(
    "body",
    [
        {"displayName": 5},
        {"displayName": ["team"]},
        {"displayName": "team", "members": {"value": VALID_UNKNOWN_ID}},
        {"displayName": "team", "members": [5]},
    ],
    ids=lambda body: json.dumps(body)[:60],
)
def test_group_values_of_the_wrong_json_type_are_400(gw: Gateway, body: dict[str, Any]) -> None:
    assert_scim_error(gw.post("/Groups", body), 400, "invalidValue")
    assert gw.children(gw.groups) == []


def test_wrong_types_in_put_and_patch_change_nothing(gw: Gateway) -> None:
    user = gw.post("/Users", {"userName": "typed", "title": "before"}).get_json()
    before = gw.entry(f"uid=typed,{gw.people}")
    assert_scim_error(gw.put(f"/Users/{user['id']}", {"userName": "typed", "title": 5}), 400)
    for op in (
        {"op": "replace", "path": "title", "value": 5},
        {"op": "replace", "path": "active", "value": "maybe"},
        {"op": "add", "path": "emails", "value": "x@example.org"},
        {"op": "replace", "value": {"name": "flat"}},
    ):
        assert_scim_error(gw.patch(f"/Users/{user['id']}", patch_body(op)), 400)
    assert gw.entry(f"uid=typed,{gw.people}") == before


# -------------------------------------------------- NUL, invalid UTF-8, unpaired surrogates


@pytest.mark.parametrize(
    "body",
    [
        {"userName": "nul\u0000name"},
        {"userName": "ok", "title": "chief\u0000"},
        {"userName": "ok", "name": {"givenName": "\u0000"}},
        {"userName": "ok", "emails": [{"value": "a\u0000@example.org", "type": "work"}]},
        {"userName": "ok", ENTERPRISE: {"employeeNumber": "4\u00002"}},
        {"userName": "ok", "externalId": "\u0000"},
        {"userName": "ok", "unmappedAttribute": "\u0000"},  # even where nothing would store it
        {"userName": "ok", "nul\u0000key": "x"},
    ],
    ids=lambda body: json.dumps(body)[:60],
)
def test_nul_anywhere_in_a_user_is_400_and_writes_nothing(
    gw: Gateway, body: dict[str, Any]
) -> None:
    assert_scim_error(gw.post("/Users", body), 400, "invalidValue")
    assert gw.children(gw.people) == []


def test_nul_in_a_group_or_its_members_is_400(gw: Gateway) -> None:
    assert_scim_error(gw.post("/Groups", {"displayName": "te\u0000am"}), 400, "invalidValue")
    body = {"displayName": "team", "members": [{"value": "\u0000"}]}
    assert_scim_error(gw.post("/Groups", body), 400, "invalidValue")
    assert gw.children(gw.groups) == []


@pytest.mark.parametrize(
    "raw",
    [
        b'{"userName": "\xff\xfe"}',
        b'{"userName": "caf\xe9"}',  # Latin-1, not UTF-8
        b'{"userName": "\xed\xa0\x80"}',  # a surrogate encoded as UTF-8 (CESU)
    ],
)
def test_invalid_utf8_is_400_and_writes_nothing(gw: Gateway, raw: bytes) -> None:
    assert_scim_error(raw_request(gw, "POST", "/Users", raw), 400, "invalidSyntax")
    assert gw.children(gw.people) == []


@pytest.mark.parametrize(
    "raw",
    [
        b'{"userName": "\\ud800"}',  # an unpaired surrogate as a JSON escape: valid JSON
        b'{"userName": "ok", "title": "\\udfff"}',
    ],
)
def test_lone_surrogates_are_400_invalid_value_and_write_nothing(gw: Gateway, raw: bytes) -> None:
    assert_scim_error(raw_request(gw, "POST", "/Users", raw), 400, "invalidValue")
    assert gw.children(gw.people) == []


def test_nul_or_bad_utf8_in_put_and_patch_changes_nothing(gw: Gateway) -> None:
    user = gw.post("/Users", {"userName": "clean", "title": "before"}).get_json()
    before = gw.entry(f"uid=clean,{gw.people}")
    path = f"/Users/{user['id']}"
    assert_scim_error(gw.put(path, {"userName": "clean", "title": "a\u0000"}), 400)
    assert_scim_error(
        gw.patch(path, patch_body({"op": "replace", "path": "title", "value": "\u0000"})), 400
    )
    assert_scim_error(
        gw.patch(path, patch_body({"op": "replace", "path": "ti\u0000tle", "value": "x"})), 400
    )
    raw = b'{"schemas":["%s"],"Operations":[{"op":"replace","path":"title","value":"\xc0"}]}'
    assert_scim_error(raw_request(gw, "PATCH", path, raw % PATCH_OP.encode()), 400)
    raw = b'{"schemas":["%s"],"Operations":[{"op":"replace","path":"title","value":"\\ud801"}]}'
    assert_scim_error(raw_request(gw, "PATCH", path, raw % PATCH_OP.encode()), 400)
    assert gw.entry(f"uid=clean,{gw.people}") == before


@pytest.mark.parametrize("raw", [b'{"a": NaN}', b'{"count": 1e999}', b'{"a": 1, "a": 2}'])
def test_json_outside_rfc_8259_is_400(gw: Gateway, raw: bytes) -> None:
    assert_scim_error(raw_request(gw, "POST", "/Users", raw), 400)


# ------------------------------------------------------------------------- paging bounds


PAGING_VALUES = [
    "-1",
    "0",
    "1",
    "-99999999999999999999999",
    "99999999999999999999999",
    "9" * 5000,
    "1.5",
    "1e3",
    "0x10",
    "ten",
    "",
    " 2 ",
    "NaN",
    "∞",
    "\u0661",  # ARABIC-INDIC DIGIT ONE: int() accepts it
]


def assert_sane_list_or_400(resp) -> None:
    assert resp.status_code in (200, 400), resp.get_data(as_text=True)
    body = resp.get_json()
    if resp.status_code == 400:
        assert_scim_error(resp, 400, "invalidValue")
        return
    assert body["startIndex"] >= 1
    assert 0 <= body["itemsPerPage"] <= 1000
    assert len(body["Resources"]) == body["itemsPerPage"] <= body["totalResults"]


@pytest.mark.parametrize("value", PAGING_VALUES)
def test_count_and_start_index_bounds_give_a_sane_page_or_400(gw: Gateway, value: str) -> None:
    for name in ("alpha", "beta", "gamma"):
        gw.post("/Users", {"userName": name})
    for param in ("count", "startIndex"):
        for endpoint in ("/Users", "/Groups"):
            assert_sane_list_or_400(gw.get(endpoint, query_string={param: value}))


@pytest.mark.parametrize(
    "value", [-1, 0, 2, 10**30, -(10**30), 1.5, "3", "ten", None, [], {}, True]
)
def test_count_and_start_index_in_a_search_body_give_a_sane_page_or_400(
    gw: Gateway, value: Any
) -> None:
    gw.post("/Users", {"userName": "searchable"})
    for param in ("count", "startIndex"):
        for endpoint in ("/Users/.search", "/.search"):
            resp = gw.post(endpoint, {"schemas": [SEARCH], param: value})
            if endpoint == "/.search" and param == "startIndex" and resp.status_code == 200:
                continue  # see test_root_search_answers_start_index_below_one_as_one
            assert_sane_list_or_400(resp)


def test_root_search_answers_start_index_below_one_as_one(gw: Gateway) -> None:
    gw.post("/Users", {"userName": "rooted"})
    body = gw.post("/.search", {"schemas": [SEARCH], "startIndex": -3}).get_json()
    assert body["startIndex"] == 1


def test_negative_count_returns_no_resources_but_the_total(gw: Gateway) -> None:
    gw.post("/Users", {"userName": "counted"})
    body = gw.get("/Users", query_string={"count": "-5"}).get_json()
    assert body["totalResults"] == 1 and body["Resources"] == []


def test_start_index_below_one_is_treated_as_one(gw: Gateway) -> None:
    gw.post("/Users", {"userName": "first"})
    for start in ("0", "-7"):
        body = gw.get("/Users", query_string={"startIndex": start}).get_json()
        assert body["startIndex"] == 1 and len(body["Resources"]) == 1


@pytest.mark.parametrize(
    "member",
    [
        {"filter": 5},
        {"filter": ["userName pr"]},
        {"sortBy": 5},
        {"sortOrder": 5},
        {"attributes": 5},
        {"excludedAttributes": {"a": 1}},
    ],
    ids=lambda m: json.dumps(m),
)
def test_search_request_members_of_the_wrong_type_are_400(
    gw: Gateway, member: dict[str, Any]
) -> None:
    for endpoint in ("/Users/.search", "/.search"):
        assert_scim_error(gw.post(endpoint, {"schemas": [SEARCH], **member}), 400)


# --------------------------------------------------------- ids that cannot be ids: no LDAP


NOT_IDS = [
    "not-a-uuid",
    "a1b2c3d4-0000-4000-8000-00000000000",  # one digit short
    "a1b2c3d4-0000-4000-8000-000000000000x",
    "*",
    "uid=admin,dc=example,dc=org",
    "%00",
    "x" * 5000,
    "a1b2c3d4%2D0000-4000-8000-000000000000%29",
    "..",
    "%2e%2e",
]


@pytest.mark.parametrize("ident", NOT_IDS, ids=lambda i: i[:40])
@pytest.mark.parametrize("endpoint", ["Users", "Groups"])
def test_ids_that_are_not_uuids_are_404_without_any_ldap_operation(
    gw: Gateway, caplog: pytest.LogCaptureFixture, endpoint: str, ident: str
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.access")
    path = f"/scim/v2/{endpoint}/{ident}"
    replace = {"userName": "x"} if endpoint == "Users" else {"displayName": "x"}
    patch = patch_body({"op": "replace", "path": "displayName", "value": "x"})
    calls = [
        lambda: gw.client.get(path, headers=gw.headers),
        lambda: gw.client.delete(path, headers=gw.headers),
        lambda: gw.client.put(path, json=replace, headers=gw.headers),
        lambda: gw.client.patch(path, json=patch, headers=gw.headers),
    ]
    for call in calls:
        resp = call()
        if resp.status_code == 404 and resp.is_json and resp.get_json().get("schemas"):
            assert_scim_error(resp, 404)
        else:  # "..": the path resolves elsewhere; still no 5xx and still a SCIM error
            assert 400 <= resp.status_code < 500, resp.get_data(as_text=True)
            assert resp.get_json()["status"] == str(resp.status_code)
        assert ldap_ops_of_last_request(caplog) == 0, (path, resp.status_code)


def test_a_well_formed_unknown_id_does_ask_the_directory(
    gw: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    """The control for the test above: the counter does see LDAP operations."""
    caplog.set_level(logging.INFO, logger="gateway.access")
    assert_scim_error(gw.get(f"/Users/{VALID_UNKNOWN_ID}"), 404)
    assert ldap_ops_of_last_request(caplog) >= 1


# ------------------------------------------------------------- unknown routes and methods


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/scim/v2/Nope", 404),
        ("POST", "/scim/v2/Nope", 404),
        ("GET", f"/scim/v2/Users/{VALID_UNKNOWN_ID}/extra", 404),
        ("GET", "/scim/v2/Bulk", 404),
        ("GET", "/scim", 404),
        ("GET", "/scim/v1/Users", 404),
        ("GET", "/definitely/not/here", 404),
        ("DELETE", "/scim/v2/Users", 405),
        ("PUT", "/scim/v2/Users", 405),
        ("PATCH", "/scim/v2/Groups", 405),
        ("POST", f"/scim/v2/Users/{VALID_UNKNOWN_ID}", 405),
        ("GET", "/scim/v2/Users/.search", 404),  # .search is POST only: a GET reads id ".search"
        ("TRACE", "/scim/v2/Users", 405),
        ("BREW", "/scim/v2/Users", 405),
        ("DELETE", "/scim/v2/Schemas", 405),
        ("POST", "/scim/v2/ServiceProviderConfig", 405),
        ("PATCH", "/scim/v2/ResourceTypes/User", 405),
    ],
)
def test_unknown_routes_and_methods_are_scim_errors(
    gw: Gateway, method: str, path: str, status: int
) -> None:
    assert_scim_error(gw.client.open(path, method=method, headers=gw.headers), status)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/scim/v2/Users"),
        ("POST", f"/scim/v2/Groups/{VALID_UNKNOWN_ID}"),
        ("BREW", "/scim/v2/Users"),
        ("POST", "/scim/v2/ServiceProviderConfig"),
        ("PUT", "/scim/v2/ResourceTypes/User"),
    ],
)
def test_405_names_the_allowed_methods(gw: Gateway, method: str, path: str) -> None:
    resp = gw.client.open(path, method=method, headers=gw.headers)
    assert_scim_error(resp, 405)
    assert resp.headers.get("Allow"), dict(resp.headers)
