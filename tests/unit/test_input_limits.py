"""What a request may carry: strict, bounded, storable JSON (gateway.web.wire.read_json), and
multi-valued attributes whose checks stay linear in their size (gateway.scim.values)."""

from __future__ import annotations

import contextlib
import json
import signal
import time
from collections.abc import Iterator

import pytest
from flask import Flask

from gateway.errors import InvalidSyntax, InvalidValue, ScimError, UnsupportedMediaType
from gateway.scim.patch import apply_patch, parse_patch_request
from gateway.scim.resource import normalize_resource
from gateway.scim.schema import GROUP_TYPE, USER_TYPE
from gateway.web.wire import MAX_JSON_DEPTH, MAX_NUMBER_DIGITS, read_json, read_json_object

APP = Flask(__name__)
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def parse(raw: bytes | str, content_type: str = "application/scim+json") -> object:
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    with APP.test_request_context(method="POST", data=data, content_type=content_type):
        return read_json()


def nested(depth: int) -> str:
    return "[" * (depth - 1) + "{}" + "]" * (depth - 1)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"userName": "bjensen", "active": true}', {"userName": "bjensen", "active": True}),
        ('{"n": -12345678901234567890}', {"n": -12345678901234567890}),
        ('{"x": 1.5e3}', {"x": 1500.0}),
        ('{"name": "Jürgen \\u540d\\ud83d\\ude00"}', {"name": "Jürgen 名😀"}),  # a valid pair
        ('{"a": {"b": "c"}, "A": 1}', {"a": {"b": "c"}, "A": 1}),  # names differ in case only
        (nested(MAX_JSON_DEPTH), json.loads(nested(MAX_JSON_DEPTH))),
    ],
)
def test_well_formed_json_is_read_as_sent(raw: str, expected: object) -> None:
    assert parse(raw) == expected


@pytest.mark.parametrize(
    ("raw", "error", "in_detail"),
    [
        (b'{"userName": "\xff"}', InvalidSyntax, "UTF-8"),
        (b'{"userName": "\xc3"}', InvalidSyntax, "UTF-8"),  # a truncated sequence
        (b'{"userName": "\xed\xa0\x80"}', InvalidSyntax, "UTF-8"),  # an encoded surrogate
        ('{"userName": "a\\u0000b"}', InvalidValue, "/userName"),
        ('{"emails": [{"value": "x\\u0000"}]}', InvalidValue, "/emails/0/value"),
        ('{"ti\\u0000tle": "x"}', InvalidValue, "member name"),
        ('{"userName": "\\ud800"}', InvalidValue, "surrogate"),
        ('{"userName": "x\\udc00y"}', InvalidValue, "surrogate"),
        ('{"a": NaN}', InvalidSyntax, "NaN"),
        ('{"a": Infinity}', InvalidSyntax, "Infinity"),
        ('{"a": -Infinity}', InvalidSyntax, "Infinity"),
        ('{"count": 1e400}', InvalidValue, "too large"),
        ('{"count": -1e400}', InvalidValue, "too large"),
        ('{"a": ' + "9" * (MAX_NUMBER_DIGITS + 1) + "}", InvalidValue, "digits"),
        ('{"a": ' + "9" * 5000 + "}", InvalidValue, "digits"),  # past int's 4300-digit guard
        ('{"a": 0.' + "1" * MAX_NUMBER_DIGITS + "}", InvalidValue, "characters"),
        ('{"userName": "a", "userName": "b"}', InvalidSyntax, "repeats"),
        ('{"x": [{"v": 1, "v": 1}]}', InvalidSyntax, "repeats"),
        (nested(MAX_JSON_DEPTH + 1), InvalidSyntax, "nests"),
        ("[" * 200_000 + "]" * 200_000, InvalidSyntax, "nests"),  # past the parser's recursion
        ('{"a": "unterminated}', InvalidSyntax, "not valid JSON"),
        ("{'a': 1}", InvalidSyntax, "not valid JSON"),
        ("", InvalidSyntax, "not valid JSON"),
        ('{"a": 1} trailing', InvalidSyntax, "not valid JSON"),
    ],
)
def test_malformed_or_unstorable_json_is_refused(
    raw: bytes | str, error: type[ScimError], in_detail: str
) -> None:
    with pytest.raises(error) as caught:
        parse(raw)
    assert caught.value.status == 400
    assert in_detail in caught.value.detail


def test_a_huge_member_name_is_not_echoed_whole_in_the_detail() -> None:
    name = "k" * 10_000
    with pytest.raises(InvalidValue) as caught:
        parse(json.dumps({name: {"x": "\u0000"}}))
    assert len(caught.value.detail) < 300


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_bodies_that_are_not_json_by_media_type_are_415(content_type: str) -> None:
    with pytest.raises(UnsupportedMediaType):
        parse('{"userName": "x"}', content_type)


@pytest.mark.parametrize("raw", ["[]", '"text"', "5", "null", "true"])
def test_a_resource_body_must_be_an_object(raw: str) -> None:
    context = APP.test_request_context(method="POST", data=raw, content_type="application/json")
    with context, pytest.raises(InvalidSyntax):
        read_json_object()


# ------------------------------------------------- big multi-valued attributes stay cheap


def test_duplicate_values_are_dropped_whatever_the_member_order() -> None:
    body = {
        "userName": "dup",
        "emails": [
            {"value": "a@example.org", "type": "work"},
            {"type": "work", "value": "a@example.org"},
            {"value": "b@example.org", "type": "work"},
        ],
    }
    emails = normalize_resource(body, USER_TYPE)["emails"]
    assert [e["value"] for e in emails] == ["a@example.org", "b@example.org"]


def test_a_group_of_fifty_thousand_members_is_checked_in_linear_time() -> None:
    """Okta PUTs whole groups; a quadratic duplicate check took minutes at this size."""
    members = [{"value": f"a1b2c3d4-0000-4000-8000-{i:012d}"} for i in range(50_000)]
    started = time.perf_counter()
    group = normalize_resource(
        {"displayName": "all", "members": [*members, members[0]]}, GROUP_TYPE
    )
    assert len(group["members"]) == 50_000
    assert time.perf_counter() - started < 5  # ~0.3 s; the quadratic check needed ~60 s


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block (SIGALRM) once it has run ``seconds``: a slow failure stays cheap."""

    def expire(_signum: int, _frame: object) -> None:
        raise TimeoutError(f"still running after {seconds}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_a_patch_adding_many_values_is_applied_in_linear_time() -> None:
    emails = [{"value": f"{i}@example.org", "type": "other"} for i in range(4000)]
    body = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "add", "path": "emails", "value": emails}],
    }
    old = {"schemas": [USER_TYPE.schema.id], "id": "x", "userName": "many"}
    with time_limit(1.0):  # linear: ~0.05 s; quadratic: ~5 s
        result = apply_patch(old, parse_patch_request(body), USER_TYPE)
    assert len(result.resource["emails"]) == 4000
