"""gateway/web/wire.py: read_json's one-walk survey of an orjson answer (``_survey``) gives
what the two walks it replaces give (``_members_and_floats`` and ``_check_structure``), and
read_json answers (body or error) exactly as the general path (``loads`` then
``_check_structure``) over bodies built to sit on every limit."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from flask import Flask

from gateway.errors import GatewayError
from gateway.web import wire
from gateway.web.wire import MAX_JSON_DEPTH, _check_structure, _members_and_floats, _survey

MAX_ARRAY = 5


def nested(depth: int, leaf: Any = "x", kind: str = "list") -> Any:
    value = leaf
    for _ in range(depth - 1):
        value = [value] if kind == "list" else {"k": value}
    return value


def random_value(rng: random.Random, depth: int = 1) -> Any:
    roll = rng.random()
    if depth < 6 and roll < 0.3:
        return {f"k{i}": random_value(rng, depth + 1) for i in range(rng.randint(0, 4))}
    if depth < 6 and roll < 0.5:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, MAX_ARRAY + 2))]
    return rng.choice(["s", "", 0, 7, -3, True, False, None, 1.5, 10**30, "\u00e9"])


BODIES: list[Any] = [
    {},
    [],
    "text",
    3,
    1.0,
    None,
    True,
    {"schemas": ["urn:x"], "userName": "a", "emails": [{"value": "a@b", "primary": True}]},
    {"Operations": list(range(MAX_ARRAY + 3))},
    {"operations": [list(range(MAX_ARRAY + 1))]},
    {"Operations": list(range(MAX_ARRAY + 3)), "other": list(range(MAX_ARRAY + 1))},
    [list(range(MAX_ARRAY + 1))],
    list(range(MAX_ARRAY + 1)),
    list(range(MAX_ARRAY)),
    {"a": [1, 2.5]},
    {"a": {"b": 2.5}, "c": list(range(MAX_ARRAY + 1))},
    *[
        nested(d, kind=k)
        for d in (MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1)
        for k in ("list", "dict")
    ],
    *[
        nested(d, leaf=[], kind=k)
        for d in (MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1)
        for k in ("list", "dict")
    ],
    *[nested(d, leaf={}, kind="dict") for d in (MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1)],
    nested(MAX_JSON_DEPTH + 1, leaf=2.5),
    {"deep": nested(MAX_JSON_DEPTH), "long": list(range(MAX_ARRAY + 1))},
]
BODIES += [random_value(random.Random(seed)) for seed in range(300)]


def refused(body: Any, max_array: int | None) -> bool:
    try:
        _check_structure(body, max_array, texts=False)
    except GatewayError:
        return True
    return False


@pytest.mark.parametrize("max_array", [None, MAX_ARRAY])
def test_survey_answers_what_the_two_walks_answer(max_array: int | None) -> None:
    for body in BODIES:
        members, floats, trouble = _survey(body, max_array)
        want_members, want_floats = _members_and_floats(body)
        assert floats == want_floats, body
        if not floats:  # a float stops both walks early: the counts then do not matter
            assert members == want_members, body
            assert trouble == refused(body, max_array), body


def outcome(app: Flask, raw: bytes, *, fast: bool) -> Any:
    with app.test_request_context(
        "/scim/v2/Users", method="POST", data=raw, content_type="application/scim+json"
    ):
        try:
            if fast:
                return ("body", wire.read_json())
            body = wire.loads(raw)
            _check_structure(body, MAX_ARRAY, texts=b"\\u" in raw)
            return ("body", body)
        except GatewayError as err:
            return (type(err), err.status, str(err))


def test_read_json_answers_as_the_general_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wire, "_max_values", lambda: MAX_ARRAY)
    app = Flask("t")
    texts = [json.dumps(body).encode() for body in BODIES]
    texts += [
        b'{"a": 1, "a": 2}',
        b'{"a": {"b": 1, "b": 1}, "c": [1,2,3,4,5,6]}',
        b'{"a": 123456789012345678901234567890}',
        b'{"a": "\\u0000"}',
        b'{"a\\u0000": 1}',
        b'{"a": "\\ud800"}',
        b'{"a": "\\u00e9", "b": [1,2,3,4,5,6]}',
        b'{"a": NaN}',
        b'{"a": 1e999}',
        b"[1,2",
        b"",
        b'"\\u00e9"',
        b'{"k": "v:", "k2": "\\"x\\":"}',
    ]
    for raw in texts:
        assert outcome(app, raw, fast=True) == outcome(app, raw, fast=False), raw


def test_member_names_counted_without_escapes_as_string_by_string() -> None:
    texts = [json.dumps(body).encode() for body in BODIES]
    texts += [json.dumps(body, indent=2).encode() for body in BODIES[:40]]
    texts += [
        b'{"a:b": "c:d", "e" : {"f":"g::"}, "h": ["i:", {"j":1}]}',
        b'{ "urn:x:y" :\n\t{"k" :"v"} }',
        b'{"":""}',
        b'[":", "::", {"x": ":"}]',
        b'{"a": 1, "a": 2}',
        b'  {"a"  :  []}  ',
        b'"no members: none"',
        b"12",
    ]
    fast = [t for t in texts if b"\\" not in t]
    assert len(fast) > 200
    for raw in fast:
        assert wire._member_names(raw) == wire._member_names_scanned(raw), raw
    escaped = b'{"a\\":": "b\\\\", "c": "\\"d:"}'
    assert wire._member_names(escaped) == wire._member_names_scanned(escaped) == 2
