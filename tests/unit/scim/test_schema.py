"""RFC 7643 schema definitions, path resolution and the /Schemas and /ResourceTypes shapes."""

from __future__ import annotations

import json

import pytest

from gateway.errors import InvalidPath
from gateway.scim.filter import AttrPath
from gateway.scim.messages import (
    ENTERPRISE_USER_SCHEMA,
    GROUP_SCHEMA,
    RESOURCE_TYPE_SCHEMA,
    SCHEMA_SCHEMA,
    USER_SCHEMA,
)
from gateway.scim.schema import (
    CORE_USER,
    ENTERPRISE_USER,
    GROUP,
    GROUP_TYPE,
    USER_TYPE,
    Attribute,
    resource_type_to_json,
    schema_to_json,
)

BASE = "https://gw.example.org/scim/v2"

RESOLVE: list[tuple[AttrPath, str, str, str | None]] = [
    (AttrPath(None, "userName"), USER_SCHEMA, "userName", None),
    (AttrPath(None, "USERNAME"), USER_SCHEMA, "userName", None),
    (AttrPath(None, "name", "GIVENNAME"), USER_SCHEMA, "name", "givenName"),
    (AttrPath(None, "id"), USER_SCHEMA, "id", None),
    (AttrPath(None, "externalId"), USER_SCHEMA, "externalId", None),
    (AttrPath(None, "meta", "lastModified"), USER_SCHEMA, "meta", "lastModified"),
    (AttrPath(USER_SCHEMA, "userName"), USER_SCHEMA, "userName", None),
    (AttrPath(USER_SCHEMA.upper(), "emails", "value"), USER_SCHEMA, "emails", "value"),
    (
        AttrPath(ENTERPRISE_USER_SCHEMA, "employeeNumber"),
        ENTERPRISE_USER_SCHEMA,
        "employeeNumber",
        None,
    ),
    (
        AttrPath(ENTERPRISE_USER_SCHEMA, "manager", "value"),
        ENTERPRISE_USER_SCHEMA,
        "manager",
        "value",
    ),
    (AttrPath(ENTERPRISE_USER_SCHEMA.lower(), "Manager"), ENTERPRISE_USER_SCHEMA, "manager", None),
]


@pytest.mark.parametrize(
    ("path", "schema", "attr", "sub"), RESOLVE, ids=[p.qualified() for p, *_ in RESOLVE]
)
def test_user_paths_resolve_case_insensitively(
    path: AttrPath, schema: str, attr: str, sub: str | None
) -> None:
    found_schema, found_attr, found_sub = USER_TYPE.resolve(path)
    assert found_schema.id == schema
    assert found_attr.name == attr
    assert (found_sub.name if found_sub else None) == sub


def test_group_paths_resolve() -> None:
    schema, attr, sub = GROUP_TYPE.resolve(AttrPath(None, "members", "value"))
    assert (schema, attr.name, sub and sub.name) == (GROUP, "members", "value")
    assert GROUP_TYPE.resolve(AttrPath(None, "id"))[1].mutability == "readOnly"


RESOLVE_ERRORS: list[tuple[AttrPath, str]] = [
    (AttrPath(None, "nope"), "unknown attribute 'nope'"),
    (AttrPath(None, "employeeNumber"), "unknown attribute 'employeeNumber'"),
    (AttrPath(None, "name", "nope"), "unknown sub-attribute 'nope' of 'name'"),
    (AttrPath(None, "userName", "x"), "'userName' has no sub-attributes"),
    (AttrPath("urn:example:unknown", "x"), "unknown schema 'urn:example:unknown'"),
    (AttrPath(ENTERPRISE_USER_SCHEMA, "userName"), "unknown attribute 'userName' in schema"),
    (AttrPath(ENTERPRISE_USER_SCHEMA, "id"), "unknown attribute 'id' in schema"),
]


@pytest.mark.parametrize(
    ("path", "detail"), RESOLVE_ERRORS, ids=[p.qualified() for p, _ in RESOLVE_ERRORS]
)
def test_unknown_paths_raise_invalid_path(path: AttrPath, detail: str) -> None:
    with pytest.raises(InvalidPath) as caught:
        USER_TYPE.resolve(path)
    assert detail in caught.value.detail


def test_group_has_no_extension_schema() -> None:
    with pytest.raises(InvalidPath, match="unknown schema"):
        GROUP_TYPE.resolve(AttrPath(ENTERPRISE_USER_SCHEMA, "employeeNumber"))


def test_canonical_key_is_none_for_core_and_the_urn_for_extensions() -> None:
    assert USER_TYPE.canonical_key(CORE_USER) is None
    assert USER_TYPE.canonical_key(ENTERPRISE_USER) == ENTERPRISE_USER_SCHEMA
    assert USER_TYPE.schemas() == (CORE_USER, ENTERPRISE_USER)
    assert GROUP_TYPE.schemas() == (GROUP,)


@pytest.mark.parametrize(
    ("schema", "names"),
    [
        (
            CORE_USER,
            "userName name displayName nickName profileUrl title userType preferredLanguage"
            " locale timezone active password emails phoneNumbers ims photos addresses groups"
            " entitlements roles x509Certificates",
        ),
        (GROUP, "displayName members"),
        (ENTERPRISE_USER, "employeeNumber costCenter organization division department manager"),
    ],
    ids=["User", "Group", "EnterpriseUser"],
)
def test_schemas_hold_every_rfc_7643_attribute(schema, names: str) -> None:
    assert [a.name for a in schema.attributes] == names.split()


CHARACTERISTICS: list[tuple[str, str, dict[str, object]]] = [
    ("User", "userName", {"required": True, "uniqueness": "server", "case_exact": False}),
    ("User", "password", {"mutability": "writeOnly", "returned": "never"}),
    ("User", "groups", {"mutability": "readOnly", "multi_valued": True}),
    ("User", "active", {"type": "boolean"}),
    ("User", "emails", {"multi_valued": True, "type": "complex"}),
    ("User", "id", {"mutability": "readOnly", "returned": "always", "case_exact": True}),
    ("User", "meta", {"mutability": "readOnly", "type": "complex"}),
    ("Group", "displayName", {"required": True}),
    ("Group", "members", {"multi_valued": True, "mutability": "readWrite"}),
]


@pytest.mark.parametrize(("rtype", "name", "expected"), CHARACTERISTICS)
def test_attribute_characteristics_follow_rfc_7643(rtype: str, name: str, expected: dict) -> None:
    resource_type = USER_TYPE if rtype == "User" else GROUP_TYPE
    attr = resource_type.attribute(resource_type.schema, name)
    assert attr is not None
    for key, value in expected.items():
        assert getattr(attr, key) == value, key


def test_sub_attribute_characteristics() -> None:
    members = GROUP.attribute("members")
    assert members is not None
    assert [s.name for s in members.sub_attributes] == ["value", "$ref", "type", "display"]
    assert members.sub("VALUE").mutability == "immutable"  # type: ignore[union-attr]
    assert members.sub("$ref").reference_types == ("User", "Group")  # type: ignore[union-attr]
    manager = ENTERPRISE_USER.attribute("manager")
    assert manager is not None
    assert manager.sub("displayName").mutability == "readOnly"  # type: ignore[union-attr]
    emails = CORE_USER.attribute("emails")
    assert emails is not None
    assert emails.sub("type").canonical_values == ("work", "home", "other")  # type: ignore[union-attr]
    assert emails.sub("primary").type == "boolean"  # type: ignore[union-attr]
    assert Attribute("x").sub("y") is None


def test_schema_json_follows_rfc_7643_section_7() -> None:
    doc = schema_to_json(CORE_USER, BASE + "/")
    assert doc["schemas"] == [SCHEMA_SCHEMA]
    assert doc["id"] == USER_SCHEMA
    assert doc["name"] == "User"
    assert doc["meta"] == {"resourceType": "Schema", "location": f"{BASE}/Schemas/{USER_SCHEMA}"}
    user_name = doc["attributes"][0]
    assert user_name == {
        "name": "userName",
        "type": "string",
        "multiValued": False,
        "description": user_name["description"],
        "required": True,
        "caseExact": False,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "server",
    }
    emails = next(a for a in doc["attributes"] if a["name"] == "emails")
    assert [s["name"] for s in emails["subAttributes"]] == ["value", "display", "type", "primary"]
    assert emails["subAttributes"][2]["canonicalValues"] == ["work", "home", "other"]
    profile = next(a for a in doc["attributes"] if a["name"] == "profileUrl")
    assert profile["referenceTypes"] == ["external"]
    assert "subAttributes" not in profile
    assert {"id", "externalId", "meta"}.isdisjoint(a["name"] for a in doc["attributes"])
    json.dumps(doc)  # plain JSON all the way down


def test_enterprise_schema_json_lists_manager_sub_attributes() -> None:
    doc = schema_to_json(ENTERPRISE_USER, BASE)
    manager = next(a for a in doc["attributes"] if a["name"] == "manager")
    assert [s["name"] for s in manager["subAttributes"]] == ["value", "$ref", "displayName"]
    assert manager["subAttributes"][1]["referenceTypes"] == ["User"]


def test_resource_type_json_follows_rfc_7643_section_6() -> None:
    assert resource_type_to_json(USER_TYPE, BASE) == {
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "User Account",
        "schema": USER_SCHEMA,
        "schemaExtensions": [{"schema": ENTERPRISE_USER_SCHEMA, "required": False}],
        "meta": {"resourceType": "ResourceType", "location": f"{BASE}/ResourceTypes/User"},
    }
    group = resource_type_to_json(GROUP_TYPE, BASE)
    assert group["schema"] == GROUP_SCHEMA
    assert "schemaExtensions" not in group
