"""The default projection (no ``attributes``, no ``excludedAttributes``) takes a fast path;
it must give exactly what the general path gives, for every kind of value it can meet."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gateway.mapping import translate
from gateway.mapping.loader import load_mapping
from gateway.scim import projection as proj
from gateway.scim import typememo
from gateway.scim.projection import Projection, apply_projection, parse_projection
from gateway.scim.schema import CORE_USER as USER_SCHEMA
from gateway.scim.schema import ENTERPRISE_USER as ENTERPRISE_USER_SCHEMA
from gateway.scim.schema import GROUP as GROUP_SCHEMA
from gateway.scim.schema_model import Attribute, ResourceType, Schema

ROOT = Path(__file__).resolve().parents[3]
MAPPINGS = sorted((ROOT / "mappings").glob("*.yaml"))
ENTERPRISE = ENTERPRISE_USER_SCHEMA.id


def _general(resource: dict[str, Any], rtype: ResourceType) -> dict[str, Any]:
    """The general path for the default projection, ``schemas`` trimmed as apply does."""
    return proj._schemas_kept(proj.projected(resource, rtype, Projection()), rtype)


def _hidden_type() -> ResourceType:
    """A User type whose schemas define attributes returned "request" and "never", core and
    extension alike, so the default projection has something to leave out of both."""
    extension = replace(
        ENTERPRISE_USER_SCHEMA,
        attributes=(
            *ENTERPRISE_USER_SCHEMA.attributes,
            Attribute("badge", returned="request"),
            Attribute("pin", returned="never"),
        ),
    )
    core = replace(
        USER_SCHEMA,
        attributes=(
            *USER_SCHEMA.attributes,
            Attribute("audit", returned="request"),
            Attribute("id", returned="request"),  # id and schemas are always shown all the same
            Attribute("schemas", returned="never"),
        ),
    )
    return ResourceType("User", "/Users", core, ((extension, False),))


def _user_type() -> ResourceType:
    return ResourceType("User", "/Users", USER_SCHEMA, ((ENTERPRISE_USER_SCHEMA, False),))


RESOURCES: list[dict[str, Any]] = [
    {"schemas": [USER_SCHEMA.id], "id": "1", "userName": "a"},
    {
        "schemas": [USER_SCHEMA.id, ENTERPRISE],
        "id": "2",
        "userName": "b",
        "password": "secret",  # returned never
        "Audit": "x",  # returned request (the key's case as a client might send it)
        "name": {"givenName": "B", "familyName": "C"},
        "emails": [{"value": "b@example.org", "type": "work", "primary": True}],
        ENTERPRISE: {"employeeNumber": "7", "badge": "b-1", "pin": "0000"},
        "meta": {"resourceType": "User", "version": 'W/"x"'},
        "unknownToSchema": 5,
    },
    {  # an extension whose every value is left out: gone, and its URN from schemas
        "schemas": [USER_SCHEMA.id, ENTERPRISE],
        "id": "3",
        ENTERPRISE: {"badge": "b-2", "pin": "1"},
    },
    {"schemas": [USER_SCHEMA.id, ENTERPRISE], "ID": "4", "Schemas": "odd", ENTERPRISE: {}},
    {"schemas": [USER_SCHEMA.id, "urn:other:ext"], "urn:other:ext": {"x": 1}, "urn:flat": "v"},
    {"schemas": [USER_SCHEMA.id], ENTERPRISE: "not an object"},
    {"id": "5", "userName": "no schemas member"},
]


@pytest.mark.parametrize("rtype", [_user_type(), _hidden_type()], ids=["user", "hidden"])
@pytest.mark.parametrize("resource", RESOURCES)
def test_default_projection_matches_the_general_path(
    rtype: ResourceType, resource: dict[str, Any]
) -> None:
    before = copy.deepcopy(resource)
    fast = apply_projection(resource, rtype, Projection())
    assert fast == _general(resource, rtype)
    assert list(fast) == list(_general(resource, rtype))  # same order of keys too
    assert resource == before  # the input is left as it was


def test_default_projection_leaves_out_request_and_never_values() -> None:
    rtype = _hidden_type()
    out = apply_projection(RESOURCES[1], rtype, Projection())
    assert "password" not in out and "Audit" not in out
    assert out[ENTERPRISE] == {"employeeNumber": "7"}
    assert apply_projection(RESOURCES[2], rtype, Projection())["schemas"] == [USER_SCHEMA.id]


def test_asked_for_request_attributes_still_take_the_general_path() -> None:
    rtype = _hidden_type()
    wanted = parse_projection(rtype, "audit,userName", None)
    assert apply_projection(RESOURCES[1], rtype, wanted) == {
        "schemas": [USER_SCHEMA.id],
        "id": "2",
        "userName": "b",
        "Audit": "x",
    }


def _entry(rm: Any) -> dict[str, tuple[str, ...]]:
    """Every attribute a mapping reads, with a value each (DNs for references)."""
    out: dict[str, tuple[str, ...]] = {}
    for name in translate.read_attributes(rm, members=True):
        out[name.lower()] = (f"{name}-value",)
    for rule in rm.attributes:
        if rule.reference:
            out[rule.ldap.lower()] = (f"uid=x,{rm.base_dn}",)
    out["entryuuid"] = ("0a0b0c0d-0000-4000-8000-000000000001",)
    out["createtimestamp"] = ("20260101000000Z",)
    out["modifytimestamp"] = ("20260102000000Z",)
    return out


@pytest.mark.parametrize("path", MAPPINGS, ids=[p.name for p in MAPPINGS])
def test_default_projection_matches_the_general_path_over_shipped_mappings(path: Path) -> None:
    mapping = load_mapping(path)
    for rm in mapping.resources.values():
        attributes = _entry(rm)
        ids = {}
        for rule in rm.attributes:
            for target in rule.reference:
                for dn in attributes.get(rule.ldap.lower(), ()):
                    ids[dn.lower()] = (target, "0a0b0c0d-0000-4000-8000-000000000002")
        resource = translate.to_resource(rm, f"cn=x,{rm.base_dn}", attributes, ids)
        resource["members"] = [{"value": "m", "$ref": "Users/m", "type": "User"}]
        assert apply_projection(resource, rm.rtype, Projection()) == _general(resource, rm.rtype)


def test_returned_is_kept_per_type_not_shared_between_types() -> None:
    plain, hidden = _user_type(), _hidden_type()
    resource = {"schemas": [USER_SCHEMA.id], "audit": "x"}
    assert "audit" in apply_projection(resource, plain, Projection())
    assert "audit" not in apply_projection(resource, hidden, Projection())
    assert "audit" in apply_projection(resource, plain, Projection())
    assert typememo.table(plain, "projection.returned") is not typememo.table(
        hidden, "projection.returned"
    )


def test_group_default_projection_matches_the_general_path() -> None:
    rtype = ResourceType("Group", "/Groups", GROUP_SCHEMA)
    resource = {
        "schemas": [GROUP_SCHEMA.id],
        "id": "g",
        "displayName": "G",
        "members": [{"value": "u", "$ref": "Users/u"}],
        "meta": {"resourceType": "Group"},
    }
    assert apply_projection(resource, rtype, Projection()) == _general(resource, rtype)


def test_typememo_tables_are_per_owner_and_bounded() -> None:
    owners = [Schema(f"urn:t:{i}", "t", "", ()) for i in range(typememo.MAX_OWNERS + 5)]
    for owner in owners:
        typememo.table(owner, "t")[1] = owner.id
    assert len(typememo._TABLES) <= typememo.MAX_OWNERS
    last = owners[-1]
    assert typememo.table(last, "t") == {1: last.id}
    assert typememo.table(owners[0], "t") == {}  # dropped when the bound was reached


@pytest.mark.parametrize("schema", [USER_SCHEMA, GROUP_SCHEMA])
def test_no_parameters_parse_to_what_empty_ones_give(schema: Schema) -> None:
    """``parse_projection`` answers the shared EVERYTHING when neither parameter is given:
    the projection the parse of empty parameters makes."""
    rtype = ResourceType("T", "/T", schema, ((ENTERPRISE_USER_SCHEMA, False),))
    assert parse_projection(rtype, None, None) is proj.EVERYTHING
    for empty in ("", [], " , "):
        assert parse_projection(rtype, empty, empty) == proj.EVERYTHING == Projection()
    assert parse_projection(rtype, "displayName", None) != proj.EVERYTHING
