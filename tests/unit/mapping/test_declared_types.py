"""The registry of resource types, and a mapping file declaring its own: what loads, what is
refused, and that each refusal names the file, the line and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.errors import ConfigError
from gateway.mapping.loader import load_mapping_text
from gateway.scim.registry import BUILTIN, RESERVED_ENDPOINTS

ROOT = Path(__file__).resolve().parents[3]
DEVICES = (ROOT / "tests" / "data" / "custom" / "devices.yaml").read_text(encoding="utf-8")
SHIPPED = (ROOT / "mappings" / "openldap.yaml").read_text(encoding="utf-8")

USER = """\
version: 1
User:
  base_dn: ou=People,dc=example,dc=org
  object_classes: [inetOrgPerson]
  rdn_attribute: uid
  attributes:
    - scim: userName
      ldap: uid
"""

TYPE = """\
schemas:
  - id: urn:example:scim:Device
    name: Device
    attributes:
      - {name: displayName, type: string, required: true}
      - {name: serialNumber, type: string}
resource_types:
  Device: {endpoint: /Devices, schema: "urn:example:scim:Device", naming_attribute: displayName}
Device:
  base_dn: ou=Devices,dc=example,dc=org
  object_classes: [device]
  rdn_attribute: cn
  attributes:
    - {scim: displayName, ldap: cn}
    - {scim: serialNumber, ldap: serialNumber}
"""


def problems(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_mapping_text(text, "m.yaml")
    return "\n".join(caught.value.problems)


def test_builtin_registry_answers_what_the_tables_did() -> None:
    assert BUILTIN.names() == ("User", "Group")
    assert BUILTIN.labels() == {"Users": "User", "Groups": "Group"}
    assert BUILTIN.path_of("Group") == "Groups" and BUILTIN.path_of("Nope") == "Nope"
    assert BUILTIN.at("Users") is BUILTIN["User"] and BUILTIN.at("users") is None
    assert BUILTIN["User"].naming == "userName" and BUILTIN["Group"].naming == "displayName"
    assert BUILTIN["Group"].member_types == ("User", "Group") and not BUILTIN["User"].member_types


def test_shipped_mapping_has_the_builtin_registry() -> None:
    mapping = load_mapping_text(SHIPPED)
    assert {rm.registry for rm in mapping.resources.values()} == {BUILTIN}


def test_the_test_data_device_type_loads_after_the_builtins() -> None:
    mapping = load_mapping_text(SHIPPED + "\n" + DEVICES)
    assert list(mapping.resources) == ["User", "Group", "Device"]
    device = mapping["Device"]
    assert device.rtype.endpoint == "/Devices" and device.rtype.naming == "displayName"
    owner = device.rtype.schema.attribute("owner")
    assert owner is not None and owner.sub("$ref").reference_types == ("User",)
    # every type's mapping knows the others' endpoints ($ref of a reference to a Device)
    assert mapping["User"].registry.path_of("Device") == "Devices"


def test_a_builtin_type_may_reference_a_declared_one() -> None:
    text = USER + "    - {scim: nickName, ldap: seeAlso, reference: [Device]}\n" + TYPE
    assert load_mapping_text(text)["User"].attributes[1].reference == ("Device",)
    assert "Must be one of: Group, User." in problems(
        USER + "    - {scim: nickName, ldap: seeAlso, reference: [Device]}\n"
    )


def test_an_unknown_type_key_is_an_error_at_its_line() -> None:
    text = USER + TYPE.replace("\nDevice:\n", "\nDevic:\n")
    found = problems(text)
    assert "m.yaml:18: Devic: Unknown field." in found
    assert "m.yaml:16: resource_types.Device: no Device: section maps it" in found


@pytest.mark.parametrize(
    "endpoint", [*RESERVED_ENDPOINTS, "/Users", "/groups", "/Devices/x", "Devices", "/"]
)
def test_an_endpoint_clashing_or_malformed_is_refused(endpoint: str) -> None:
    found = problems(USER + TYPE.replace("endpoint: /Devices", f"endpoint: {endpoint}"))
    assert "m.yaml:16: resource_types.Device.endpoint: " in found
    if endpoint in RESERVED_ENDPOINTS:
        assert f"{endpoint} is reserved by RFC 7644 §3.2" in found
    elif endpoint.lower() in ("/users", "/groups"):
        assert "'s endpoint" in found


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("Device: {endpoint", "User: {endpoint"),
            "m.yaml:16: resource_types.User: User is built in",
        ),
        (
            ("naming_attribute: displayName", "naming_attribute: serial"),
            "resource_types.Device.naming_attribute: 'serial' is not an attribute of",
        ),
        (
            ('schema: "urn:example:scim:Device"', 'schema: "urn:example:scim:Other"'),
            "resource_types.Device.schema: no schema urn:example:scim:Other under schemas:",
        ),
        (
            ("name: serialNumber, type: string", "name: serialNumber, type: text"),
            "m.yaml:14: schemas.0.attributes.1.type: Must be one of: string, boolean",
        ),
        (
            (
                "name: serialNumber, type: string",
                "name: serialNumber, type: string, multivalued: 1",
            ),
            "schemas.0.attributes.1.multivalued: Unknown field.",
        ),
        (
            ("name: serialNumber, type: string", "name: displayname, type: string"),
            "m.yaml:14: schemas.0.attributes.1.name: displayname is defined twice",
        ),
        (
            ("name: serialNumber, type: string", "name: id, type: string"),
            "schemas.0.attributes.1.name: id is common to every resource",
        ),
        (
            ("name: serialNumber, type: string", "name: owner, type: complex"),
            "schemas.0.attributes.1: a complex attribute needs subAttributes",
        ),
        (
            ("name: serialNumber, type: string", "name: owner, type: reference"),
            "schemas.0.attributes.1: a reference attribute needs referenceTypes",
        ),
        (
            (
                "name: serialNumber, type: string",
                "name: owner, type: reference, referenceTypes: [Gadget]",
            ),
            "schemas.0.attributes.1.referenceTypes.0: Gadget is no resource type here",
        ),
        (
            ("id: urn:example:scim:Device", "id: urn:ietf:params:scim:schemas:core:2.0:User"),
            "schemas.0.id: the schema urn:ietf:params:scim:schemas:core:2.0:User is already",
        ),
        (
            ("{name: displayName, type: string, required: true}", "{name: displayName}"),
            "schemas.0.attributes.0.type: Missing data for required field.",
        ),
    ],
)
def test_a_bad_declaration_is_refused_naming_file_line_and_path(
    change: tuple[str, str], expected: str
) -> None:
    text = USER + TYPE
    assert change[0] in text
    assert expected in problems(text.replace(*change))


def test_a_naming_attribute_must_be_a_single_valued_string() -> None:
    text = USER + TYPE.replace(
        "{name: displayName, type: string, required: true}",
        "{name: displayName, type: string, multiValued: true}",
    )
    assert "displayName names entries: it must be a writable single-valued string" in problems(text)


def test_a_declared_type_cannot_hold_members() -> None:
    text = USER + TYPE + "  members: {ldap: member, types: [User]}\n"
    assert "Device.members: a Device cannot hold members" in problems(text)
    group = "Group:\n  base_dn: ou=G,dc=x\n  object_classes: [groupOfNames]\n  rdn_attribute: cn\n"
    group += "  members: {ldap: member, types: [Device]}\n  attributes:\n"
    group += "    - {scim: displayName, ldap: cn}\n"
    assert "Group.members.types: Group members may be User, Group" in problems(USER + TYPE + group)


def test_every_problem_at_once_declarations_and_sections() -> None:
    text = USER.replace("rdn_attribute: uid", "rdn_attribute: uid\n  scpoe: one") + TYPE.replace(
        "endpoint: /Devices", "endpoint: /Schemas"
    )
    found = problems(text)
    assert "resource_types.Device.endpoint: /Schemas is reserved" in found
    assert "m.yaml:6: User.scpoe: Unknown field." in found


def test_a_mapping_section_of_a_declared_type_is_checked_like_user() -> None:
    text = USER + TYPE.replace(
        "{scim: serialNumber, ldap: serialNumber}", "{scim: serial, ldap: x}"
    )
    assert "Device.attributes.1.scim: unknown attribute 'serial'" in problems(text)
    no_rdn = USER + TYPE.replace("{scim: displayName, ldap: cn}", "{scim: displayName, ldap: x}")
    assert "map the naming SCIM attribute (displayName) to it" in problems(no_rdn)


def test_a_declared_type_may_have_extensions_mapped_like_the_enterprise_one() -> None:
    extension = """\
  - id: urn:example:scim:DeviceInventory
    name: Inventory
    attributes:
      - {name: assetTag, type: string}
"""
    text = USER + TYPE.replace("resource_types:\n", extension + "resource_types:\n").replace(
        "naming_attribute: displayName}",
        "naming_attribute: displayName,\n"
        "           schema_extensions: [{schema: urn:example:scim:DeviceInventory}]}",
    )
    text += "    - {scim: 'urn:example:scim:DeviceInventory:assetTag', ldap: description}\n"
    device = load_mapping_text(text)["Device"]
    assert [(s.id, required) for s, required in device.rtype.extensions] == [
        ("urn:example:scim:DeviceInventory", False)
    ]
    assert device.attributes[-1].scim.attr.schema == "urn:example:scim:DeviceInventory"
    unused = USER + TYPE.replace("resource_types:\n", extension + "resource_types:\n")
    assert "schemas.1.id: urn:example:scim:DeviceInventory is not the schema of any type" in (
        problems(unused)
    )
