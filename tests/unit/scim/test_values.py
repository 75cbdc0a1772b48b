"""Value coercion, client quirks and in-memory value-filter evaluation."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import InvalidPath, InvalidValue
from gateway.scim import compat
from gateway.scim.filter import parse_filter
from gateway.scim.match import check_value_filter, equality_template, identity_values, value_matches
from gateway.scim.schema import CORE_USER, GROUP, Attribute
from gateway.scim.values import coerce_simple

EMAILS = CORE_USER.attribute("emails")
MEMBERS = GROUP.attribute("members")
assert EMAILS is not None and MEMBERS is not None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("True", True),
        ("FALSE", False),
        (" true ", True),
        ("false", False),
        (True, True),
        ("yes", "yes"),
        (1, 1),
    ],
)
def test_boolean_from_string(value: object, expected: object) -> None:
    assert compat.boolean_from_string(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("m-1", {"value": "m-1"}), ("", None), ({"value": "m"}, {"value": "m"}), (None, None)],
)
def test_reference_from_bare_id(value: object, expected: object) -> None:
    assert compat.reference_from_bare_id(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ([], []),
        ("", [""]),
        ([{"value": "a"}], [{"value": "a"}]),
        ({"value": "a"}, [{"value": "a"}]),
    ],
)
def test_listed_values_to_remove(value: object, expected: object) -> None:
    assert compat.listed_values_to_remove(value) == expected


SIMPLE: list[tuple[Attribute, Any, Any]] = [
    (Attribute("s"), "x", "x"),
    (Attribute("s"), "", None),
    (Attribute("b", "boolean"), "True", True),
    (Attribute("i", "integer"), 3, 3),
    (Attribute("d", "decimal"), 2.5, 2.5),
    (Attribute("d", "decimal"), 2, 2),
    (Attribute("t", "dateTime"), "2011-05-13T04:42:34Z", "2011-05-13T04:42:34Z"),
    (Attribute("t", "dateTime"), "2011-05-13T04:42:34.5+02:00", "2011-05-13T04:42:34.5+02:00"),
    (Attribute("r", "reference"), "https://x/Users/1", "https://x/Users/1"),
]


@pytest.mark.parametrize(("attr", "value", "expected"), SIMPLE)
def test_simple_values_are_checked(attr: Attribute, value: Any, expected: Any) -> None:
    assert coerce_simple(attr, value, attr.name) == expected


@pytest.mark.parametrize(
    ("attr", "value", "detail"),
    [
        (Attribute("i", "integer"), True, "must be an integer, got a boolean"),
        (Attribute("i", "integer"), 1.5, "must be an integer"),
        (Attribute("d", "decimal"), "1", "must be a number, got a string"),
        (Attribute("d", "decimal"), float("inf"), "finite"),
        (Attribute("t", "dateTime"), "2011-05-13", "xsd:dateTime"),
        (Attribute("t", "dateTime"), "yesterday", "xsd:dateTime"),
        (Attribute("b", "boolean"), 0, "must be true or false, got a number"),
        (Attribute("s"), ["x"], "must be a string, got an array"),
    ],
)
def test_simple_value_errors(attr: Attribute, value: Any, detail: str) -> None:
    with pytest.raises(InvalidValue, match=detail):
        coerce_simple(attr, value, attr.name)


MATCHES: list[tuple[str, dict[str, Any], bool]] = [
    ('type eq "work"', {"type": "work"}, True),
    ('type eq "WORK"', {"type": "work"}, True),
    ('type eq "work"', {"type": "home"}, False),
    ('type eq "work"', {}, False),
    ('type ne "work"', {}, True),
    ("type eq null", {}, True),
    ("primary eq true", {"primary": True}, True),
    ('primary eq "true"', {"primary": True}, False),
    ('value co "@EXAMPLE"', {"value": "a@example.com"}, True),
    ('value sw "a@"', {"value": "a@example.com"}, True),
    ('value ew ".org"', {"value": "a@example.com"}, False),
    ('value gt "a"', {"value": "b"}, True),
    ("value gt 1", {"value": "b"}, False),
    ("display pr", {"display": "x"}, True),
    ("display pr", {"display": ""}, False),
    ('type eq "work" and not (value ew ".org")', {"type": "work", "value": "a@x.com"}, True),
    ('type eq "home" or primary eq true', {"type": "work", "primary": True}, True),
]


@pytest.mark.parametrize(("text", "value", "expected"), MATCHES, ids=[m[0] for m in MATCHES])
def test_value_filters_evaluate_against_one_value(text: str, value: dict, expected: bool) -> None:
    assert value_matches(parse_filter(text), value, EMAILS) is expected


def test_case_exact_sub_attributes_compare_exactly() -> None:
    attr = Attribute(
        "x", "complex", multi_valued=True, sub_attributes=(Attribute("value", case_exact=True),)
    )
    assert value_matches(parse_filter('value eq "ABC"'), {"value": "ABC"}, attr)
    assert not value_matches(parse_filter('value eq "abc"'), {"value": "ABC"}, attr)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('type eq "work"', {"type": "work"}),
        ('type eq "work" and primary eq true', {"type": "work", "primary": True}),
        ('type eq "work" and type eq "home"', None),
        ('type eq "work" or type eq "home"', None),
        ('value ew "x"', None),
        ("type eq null", None),
        ('primary eq "maybe"', None),
    ],
)
def test_equality_templates(text: str, expected: dict | None) -> None:
    assert equality_template(parse_filter(text), EMAILS) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('value eq "a"', ["a"]),
        ('value eq "a" or value eq "b"', ["a", "b"]),
        ('value eq "a" and type eq "User"', None),
        ('type eq "User"', None),
        ('value ne "a"', None),
        ("value eq 1", None),
    ],
)
def test_identity_values(text: str, expected: list[str] | None) -> None:
    assert identity_values(parse_filter(text), MEMBERS) == expected


def test_value_filter_names_must_be_simple_sub_attributes() -> None:
    check_value_filter(parse_filter('type eq "work" and value pr'), EMAILS)
    with pytest.raises(InvalidPath, match="unknown sub-attribute 'kind' of 'emails'"):
        check_value_filter(parse_filter('kind eq "x"'), EMAILS)
