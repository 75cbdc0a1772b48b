"""normalize_resource: POST/PUT bodies into canonical resource dicts."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import InvalidSyntax, InvalidValue, ScimError
from gateway.scim.messages import ENTERPRISE_USER_SCHEMA as ENTERPRISE
from gateway.scim.messages import GROUP_SCHEMA, USER_SCHEMA
from gateway.scim.patch import normalize_resource
from gateway.scim.schema import GROUP_TYPE, USER_TYPE

ENTRA_TUT_CREATE_USER = {
    "schemas": [USER_SCHEMA, ENTERPRISE],
    "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
    "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
    "active": True,
    "emails": [{"primary": True, "type": "work", "value": "Test_User_00aa@testuser.com"}],
    "meta": {"resourceType": "User"},
    "name": {
        "formatted": "givenName familyName",
        "familyName": "familyName",
        "givenName": "givenName",
    },
    "roles": [],
}

ENTRA_TUT_CREATE_GROUP = {
    "schemas": [
        GROUP_SCHEMA,
        "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group",
    ],
    "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
    "displayName": "displayName",
    "meta": {"resourceType": "Group"},
}


def test_entra_create_user_body() -> None:
    assert normalize_resource(ENTRA_TUT_CREATE_USER, USER_TYPE) == {
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": "Test_User_00aa@testuser.com"}],
        "name": {
            "formatted": "givenName familyName",
            "familyName": "familyName",
            "givenName": "givenName",
        },
    }


def test_entra_create_group_body_tolerates_the_adscim_schema() -> None:
    assert normalize_resource(ENTRA_TUT_CREATE_GROUP, GROUP_TYPE) == {
        "schemas": [GROUP_SCHEMA],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "displayName",
    }


CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "canonical case for attributes and sub-attributes",
        {"USERNAME": "b", "Name": {"GIVENNAME": "B"}, "EMAILS": [{"VALUE": "a@x", "Type": "work"}]},
        {"userName": "b", "name": {"givenName": "B"}, "emails": [{"value": "a@x", "type": "work"}]},
    ),
    (
        "read-only attributes are dropped",
        {
            "userName": "b",
            "id": "x",
            "meta": {"created": "2020-01-01T00:00:00Z"},
            "groups": [{"value": "g"}],
        },
        {"userName": "b"},
    ),
    (
        "nulls and empty values are unassigned",
        {
            "userName": "b",
            "displayName": None,
            "nickName": "",
            "emails": [],
            "name": {"givenName": None},
        },
        {"userName": "b"},
    ),
    (
        "unknown attributes are ignored",
        {"userName": "b", "shoeSize": 9, "urn:example:custom:2.0:User": {"x": 1}, "urn:x:y": 1},
        {"userName": "b"},
    ),
    (
        "Entra string boolean",
        {"userName": "b", "active": "False"},
        {"userName": "b", "active": False},
    ),
    (
        "extension attributes nested under their URN, manager as a bare id",
        {"userName": "b", ENTERPRISE: {"EmployeeNumber": "7", "manager": "m-1"}},
        {
            "schemas": [USER_SCHEMA, ENTERPRISE],
            "userName": "b",
            ENTERPRISE: {"employeeNumber": "7", "manager": {"value": "m-1"}},
        },
    ),
    (
        "URN-qualified and dotted keys",
        {f"{USER_SCHEMA}:userName": "b", f"{ENTERPRISE}:department": "R", "name.givenName": "B"},
        {
            "schemas": [USER_SCHEMA, ENTERPRISE],
            "userName": "b",
            "name": {"givenName": "B"},
            ENTERPRISE: {"department": "R"},
        },
    ),
    (
        "manager displayName is read-only",
        {"userName": "b", ENTERPRISE: {"manager": {"value": "m", "displayName": "Boss"}}},
        {
            "schemas": [USER_SCHEMA, ENTERPRISE],
            "userName": "b",
            ENTERPRISE: {"manager": {"value": "m"}},
        },
    ),
    (
        "an empty extension object is dropped, a declared extension URN kept",
        {"schemas": [USER_SCHEMA, ENTERPRISE], "userName": "b", ENTERPRISE: {"manager": None}},
        {"schemas": [USER_SCHEMA, ENTERPRISE], "userName": "b"},
    ),
    (
        "password is write-only, kept for the caller",
        {"userName": "b", "password": "t1meMa$heen"},
        {"userName": "b", "password": "t1meMa$heen"},
    ),
]


@pytest.mark.parametrize(("payload", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_normalize_user(payload: dict, expected: dict) -> None:
    expected = {"schemas": [USER_SCHEMA], **expected}
    assert normalize_resource(payload, USER_TYPE) == expected


def test_group_members_are_kept_with_their_display_dropped() -> None:
    payload = {"displayName": "G", "members": [{"value": "a", "display": "A", "$ref": None}]}
    assert normalize_resource(payload, GROUP_TYPE) == {
        "schemas": [GROUP_SCHEMA],
        "displayName": "G",
        "members": [{"value": "a"}],
    }


def test_payload_is_not_mutated() -> None:
    payload = {"userName": "b", "active": "True", ENTERPRISE: {"manager": "m"}}
    normalize_resource(payload, USER_TYPE)
    assert payload == {"userName": "b", "active": "True", ENTERPRISE: {"manager": "m"}}


ERRORS: list[tuple[str, Any, type[ScimError], str]] = [
    ("not an object", ["x"], InvalidSyntax, "must be a JSON object"),
    ("missing userName", {"displayName": "x"}, InvalidValue, "'userName' is required"),
    ("null userName", {"userName": None}, InvalidValue, "'userName' is required"),
    (
        "userName not a string",
        {"userName": 7},
        InvalidValue,
        "'userName' must be a string, got a number",
    ),
    (
        "active not a boolean",
        {"userName": "b", "active": "no"},
        InvalidValue,
        "'active' must be true or false",
    ),
    (
        "emails not an array",
        {"userName": "b", "emails": "a@x"},
        InvalidValue,
        "'emails' is multi-valued: expected an array",
    ),
    (
        "email not an object",
        {"userName": "b", "emails": ["a@x"]},
        InvalidValue,
        "'emails[0]' is complex",
    ),
    (
        "two primaries",
        {
            "userName": "b",
            "emails": [{"value": "a", "primary": True}, {"value": "b", "primary": "true"}],
        },
        InvalidValue,
        "more than one value of 'emails'",
    ),
    (
        "extension not an object",
        {"userName": "b", ENTERPRISE: "x"},
        InvalidValue,
        "must be an object",
    ),
    (
        "extension attribute type",
        {"userName": "b", ENTERPRISE: {"department": 5}},
        InvalidValue,
        f"'{ENTERPRISE}:department' must be a string",
    ),
]


@pytest.mark.parametrize(
    ("payload", "error", "detail"), [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS]
)
def test_normalize_errors_name_the_attribute(
    payload: Any, error: type[ScimError], detail: str
) -> None:
    with pytest.raises(error) as caught:
        normalize_resource(payload, USER_TYPE)
    assert detail in caught.value.detail


def test_group_display_name_is_required() -> None:
    with pytest.raises(InvalidValue, match="'displayName' is required for Group"):
        normalize_resource({"members": []}, GROUP_TYPE)


def test_required_check_can_be_skipped() -> None:
    assert normalize_resource({}, GROUP_TYPE, check_required=False) == {"schemas": [GROUP_SCHEMA]}


# ------------------------------------------------ the core schema must be declared (item 7)


@pytest.mark.parametrize(
    ("schemas", "rtype"),
    [
        (["urn:example:bogus:Thing"], USER_TYPE),
        ([], USER_TYPE),
        ([GROUP_SCHEMA], USER_TYPE),  # a Group body sent to /Users
        ([ENTERPRISE], USER_TYPE),  # an extension alone is not a User
        ([USER_SCHEMA], GROUP_TYPE),
        ("urn:ietf:params:scim:schemas:core:2.0:User", USER_TYPE),  # not an array
        ([USER_SCHEMA, 7], USER_TYPE),
    ],
)
def test_schemas_without_the_core_schema_are_refused(schemas: Any, rtype: Any) -> None:
    payload = {"schemas": schemas, "userName": "x", "displayName": "x"}
    with pytest.raises(InvalidValue, match="schemas"):
        normalize_resource(payload, rtype)


@pytest.mark.parametrize(
    ("schemas", "rtype"),
    [
        ([USER_SCHEMA, "urn:example:unknown:extension:2.0:User"], USER_TYPE),
        (["URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER"], USER_TYPE),  # URNs are case-blind
        ([GROUP_SCHEMA, ENTRA_TUT_CREATE_GROUP["schemas"][1]], GROUP_TYPE),
    ],
)
def test_unknown_extensions_beside_the_core_schema_are_tolerated(
    schemas: list[str], rtype: Any
) -> None:
    out = normalize_resource({"schemas": schemas, "userName": "x", "displayName": "x"}, rtype)
    assert out["schemas"] == [rtype.schema.id]


def test_a_body_without_schemas_is_read_as_the_endpoint_type() -> None:
    assert normalize_resource({"userName": "x"}, USER_TYPE)["userName"] == "x"
