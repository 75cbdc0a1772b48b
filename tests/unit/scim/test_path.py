"""RFC 7644 §3.5.2 PATCH paths: attrPath / valuePath [subAttr]."""

from __future__ import annotations

import pytest

from gateway.errors import InvalidPath
from gateway.scim.filter import And, AttrPath, Compare, Or
from gateway.scim.path import PatchPath, parse_path

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
MEMBER_ID = "2819c223-7f76-453a-919d-413861904646"

PATHS: list[tuple[str, PatchPath]] = [
    ("userName", PatchPath(AttrPath(None, "userName"))),
    ("active", PatchPath(AttrPath(None, "active"))),
    ("name.givenName", PatchPath(AttrPath(None, "name", "givenName"))),
    ("members", PatchPath(AttrPath(None, "members"))),
    (
        'emails[type eq "work"].value',
        PatchPath(AttrPath(None, "emails"), Compare(AttrPath(None, "type"), "eq", "work"), "value"),
    ),
    (
        f'members[value eq "{MEMBER_ID}"]',
        PatchPath(AttrPath(None, "members"), Compare(AttrPath(None, "value"), "eq", MEMBER_ID)),
    ),
    (
        'addresses[type eq "work"].streetAddress',
        PatchPath(
            AttrPath(None, "addresses"),
            Compare(AttrPath(None, "type"), "eq", "work"),
            "streetAddress",
        ),
    ),
    (
        'emails[type eq "work" and primary eq true]',
        PatchPath(
            AttrPath(None, "emails"),
            And(
                Compare(AttrPath(None, "type"), "eq", "work"),
                Compare(AttrPath(None, "primary"), "eq", True),
            ),
        ),
    ),
    (
        'members[value eq "a" or value eq "b"]',
        PatchPath(
            AttrPath(None, "members"),
            Or(
                Compare(AttrPath(None, "value"), "eq", "a"),
                Compare(AttrPath(None, "value"), "eq", "b"),
            ),
        ),
    ),
    (f"{ENTERPRISE}:manager", PatchPath(AttrPath(ENTERPRISE, "manager"))),
    (f"{ENTERPRISE}:manager.value", PatchPath(AttrPath(ENTERPRISE, "manager", "value"))),
    (f"{ENTERPRISE}:employeeNumber", PatchPath(AttrPath(ENTERPRISE, "employeeNumber"))),
    (f"{USER}:name.familyName", PatchPath(AttrPath(USER, "name", "familyName"))),
    (
        f'{USER}:emails[type eq "work"].value',
        PatchPath(AttrPath(USER, "emails"), Compare(AttrPath(None, "type"), "eq", "work"), "value"),
    ),
    (
        'members[value eq "x"].$ref',
        PatchPath(AttrPath(None, "members"), Compare(AttrPath(None, "value"), "eq", "x"), "$ref"),
    ),
    ("  userName  ", PatchPath(AttrPath(None, "userName"))),
]


@pytest.mark.parametrize(("text", "expected"), PATHS, ids=[t for t, _ in PATHS])
def test_patch_paths_parse(text: str, expected: PatchPath) -> None:
    assert parse_path(text) == expected


def test_hostile_values_in_path_filters_come_through_exactly() -> None:
    path = parse_path('members[value eq "*)(uid=*\\\\\\u0000"]')
    assert path.value_filter == Compare(AttrPath(None, "value"), "eq", "*)(uid=*\\\x00")


def test_path_text_summarises_the_filter() -> None:
    assert parse_path('emails[type eq "work"].value').text() == "emails[...].value"
    assert parse_path(f"{ENTERPRISE}:manager").text() == f"{ENTERPRISE}:manager"


ERRORS: list[tuple[object, str]] = [
    ("", "the path is empty"),
    ("   ", "the path is empty"),
    (None, "must be a string"),
    ('userName eq "x"', "position 8: expected '[' or the end of the path"),
    ('emails[type eq "work"]value', "expected the end of the path, found 'value'"),
    ('emails[type eq "work"].', "expected a sub-attribute name after '].'"),
    ('emails[type eq "work"].value.x', "expected the end of the path"),
    ('emails[type eq "work"', "expected ']'"),
    ("emails[type eq]", "expected a space then a value after 'eq'"),
    ('emails[type "work"]', "expected an operator"),
    ('name.givenName[type eq "x"]', "'name.givenName' is a sub-attribute"),
    ('emails[members[value eq "x"]]', "cannot be nested"),
    ("a.b.c", "at most one '.'"),
    ("1userName", "expected an attribute name"),
    ('emails [type eq "work"]', "expected '[' or the end of the path, found ' [type"),
    ("user name", "found ' name'"),
]


@pytest.mark.parametrize(("text", "detail"), ERRORS, ids=[repr(t) for t, _ in ERRORS])
def test_invalid_paths_raise_invalid_path(text: object, detail: str) -> None:
    with pytest.raises(InvalidPath) as caught:
        parse_path(text)  # type: ignore[arg-type]
    assert detail in caught.value.detail
    assert caught.value.scim_type == "invalidPath"


def test_path_longer_than_the_limit_is_rejected() -> None:
    with pytest.raises(InvalidPath, match="longer than"):
        parse_path("a" * 5000)


def test_deeply_nested_path_filter_is_invalid_path_not_recursion_error() -> None:
    with pytest.raises(InvalidPath, match="nested more than 50 levels"):
        parse_path("emails[" + "(" * 60 + "type pr" + ")" * 60 + "]")
