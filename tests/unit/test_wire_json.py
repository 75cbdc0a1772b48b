"""JSON in and out of the SCIM API through orjson (gateway.web.wire.loads and dumps): the fast
path answers exactly what the strict :mod:`json` path answers, errors included."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import ScimError
from gateway.web.wire import _member_names, _strict_loads, dumps, loads


def outcome(parse, raw: bytes) -> tuple[str, object]:
    """What a parser makes of ``raw``: ("ok", value) or (error class, detail)."""
    try:
        return "ok", parse(raw)
    except ScimError as err:
        return type(err).__name__, err.detail


BODIES = [
    b'{"userName": "bjensen", "active": true, "x": null}',
    b'{"a": 1, "a": 2}',  # a repeated member name
    b'{"a": {"b": 1, "c": {"b": 2, "b": 3}}}',  # repeated deep down
    b'{"a": 1, "\\u0061": 2}',  # the same name, once escaped: a repeat once decoded
    b'{"k\\"ey": "v:", "x": "\\"", "y": ["\\\\", ":"]}',  # quotes, backslashes, colons
    b'{"a" : "b" , "c"\n:\t"d"}',  # whitespace before the colon
    b'[{"a": 1}, {"a": 1}]',  # the same name in two objects is no repeat
    b'{"n": 12345678901234567890123}',  # beyond 64 bits: orjson reads a float
    b'{"n": 18446744073709551615, "m": -9223372036854775808}',
    b'{"n": -0, "f": 1.5e3, "g": 0.1}',
    b'{"n": 1' + b"0" * 70 + b"}",  # longer than MAX_NUMBER_DIGITS
    b'{"x": 1e400}',
    b'{"x": NaN}',
    b'{"x": Infinity}',
    b'{"x": "\\ud800"}',  # a lone surrogate escape: valid JSON, refused later
    b'{"x": "\\ud83d\\ude00"}',  # a pair
    b'{"x": "\xff"}',
    b'\xef\xbb\xbf{"a": 1}',  # a byte order mark
    b'{"a": "\x01"}',  # a raw control character
    b"",
    b"   ",
    b'{"a": 1,}',
    b"[" * 3000 + b"]" * 3000,  # deeper than either parser goes
    b'"just a string"',
    b"42",
]


@pytest.mark.parametrize("raw", BODIES)
def test_the_fast_path_answers_what_the_strict_parser_answers(raw: bytes) -> None:
    assert outcome(loads, raw) == outcome(_strict_loads, raw)


def test_a_repeated_member_name_is_refused_by_the_fast_path_too() -> None:
    kind, detail = outcome(loads, b'{"userName": "a", "userName": "b"}')
    assert kind == "InvalidSyntax" and "userName" in str(detail)


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        (b"{}", 0),
        (b'{"a": "b:", "c": ["d", "e"]}', 2),
        (b'{"a\\"": {"b\\\\": "\\":"}}', 2),
        (b'["a", "b", {"c" :1}]', 1),
    ],
)
def test_member_names_are_counted_in_the_text(raw: bytes, names: int) -> None:
    assert _member_names(raw) == names


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES, st.booleans())
def test_any_json_value_reads_alike_and_writes_as_json_dumps_does(value, spaced: bool) -> None:
    compact = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert dumps(value) == compact.encode()
    raw = (json.dumps(value, indent=1) if spaced else compact).encode()
    assert outcome(loads, raw) == outcome(_strict_loads, raw)


def test_what_orjson_cannot_write_is_written_by_json() -> None:
    value = {"n": 2**70, "m": [1, {"k": "é"}]}
    assert dumps(value) == b'{"n":1180591620717411303424,"m":[1,{"k":"\xc3\xa9"}]}'
