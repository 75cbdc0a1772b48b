"""A mapping file's own resource types: its ``schemas:`` and ``resource_types:`` sections.

A third type needs no code: the file declares its schema (RFC 7643 §7 attribute definitions,
spelt as ``/Schemas`` serves them, so one can be pasted from another server) and the type
(endpoint, schema, naming attribute), then maps it in a section of its own like ``User:``::

    schemas:
      - id: urn:example:params:scim:schemas:core:2.0:Device
        name: Device
        attributes:
          - {name: displayName, type: string, required: true}
          - {name: serialNumber, type: string, uniqueness: server}
    resource_types:
      Device: {endpoint: /Devices, schema: "urn:...:Device", naming_attribute: displayName}
    Device:
      base_dn: ou=Devices,dc=example,dc=org
      ...

This module checks the sections' shapes (marshmallow, strict like the loader) and hands their
meaning to ``gateway.scim.registry.declare``; the loader adds file and line to each problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from gateway.scim.registry import BUILTIN, TYPE_NAME, Declaration, Registry, declare
from gateway.scim.schema_model import ATTRIBUTE_TYPES, MUTABILITIES, RETURNED, UNIQUENESS

SECTIONS = ("schemas", "resource_types")


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class _SubAttributeSchema(_Strict):
    """RFC 7643 §7's attribute characteristics, with the RFC's names and defaults."""

    name = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(ATTRIBUTE_TYPES))
    multiValued = fields.Boolean(load_default=False)
    description = fields.String(load_default="")
    required = fields.Boolean(load_default=False)
    caseExact = fields.Boolean(load_default=False)
    mutability = fields.String(load_default="readWrite", validate=validate.OneOf(MUTABILITIES))
    returned = fields.String(load_default="default", validate=validate.OneOf(RETURNED))
    uniqueness = fields.String(load_default="none", validate=validate.OneOf(UNIQUENESS))
    canonicalValues = fields.List(fields.String(), load_default=list)
    referenceTypes = fields.List(fields.String(validate=validate.Length(min=1)), load_default=list)


class _AttributeSchema(_SubAttributeSchema):
    subAttributes = fields.List(fields.Nested(_SubAttributeSchema), load_default=list)


class _SchemaSchema(_Strict):
    id = fields.String(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1))
    description = fields.String(load_default="")
    attributes = fields.List(
        fields.Nested(_AttributeSchema), required=True, validate=validate.Length(min=1)
    )


class _ExtensionSchema(_Strict):
    schema = fields.String(required=True)
    required = fields.Boolean(load_default=False)


class _TypeSchema(_Strict):
    endpoint = fields.String(required=True)
    schema = fields.String(required=True)
    naming_attribute = fields.String(required=True)
    description = fields.String(load_default="")
    schema_extensions = fields.List(fields.Nested(_ExtensionSchema), load_default=list)


@dataclass(frozen=True, slots=True)
class Declared:
    """What the sections say: the mapping's registry (built-ins plus every declared type
    without a mistake), the type names the file may use as section keys, and the problems
    as ``(path, marshmallow messages or text)``."""

    registry: Registry
    section_names: tuple[str, ...]
    problems: list[tuple[str, Any]] = field(default_factory=list)


def declared_types(data: dict[str, Any]) -> Declared:
    """The registry a mapping file declares (``BUILTIN`` when it declares nothing)."""
    raw_schemas = data.get("schemas")
    raw_types = data.get("resource_types")
    if raw_schemas is None and raw_types is None:
        return Declared(BUILTIN, BUILTIN.names())
    problems: list[tuple[str, Any]] = []
    schemas: list[tuple[str, dict[str, Any]]] = []
    broken: list[str] = []  # ids of schemas refused for their shape
    if not isinstance(raw_schemas, list):
        problems.append(("schemas", "expected a list of schema definitions (RFC 7643 §7)"))
    else:
        for i, raw in enumerate(raw_schemas):
            try:
                schemas.append((f"schemas.{i}", _SchemaSchema().load(raw)))
            except ValidationError as err:
                problems.append((f"schemas.{i}", err.messages))
                if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                    broken.append(raw["id"])
    declarations: list[Declaration] = []
    names = list(BUILTIN.names())
    if not isinstance(raw_types, dict):
        problems.append(("resource_types", "expected a mapping of type names to declarations"))
    else:
        for name, raw in raw_types.items():
            if TYPE_NAME.fullmatch(name) and name not in names:
                names.append(name)  # its section is not "unknown" even if this one is wrong
            try:
                d = _TypeSchema().load(raw)
            except ValidationError as err:
                problems.append((f"resource_types.{name}", err.messages))
                continue
            declarations.append(
                Declaration(
                    name,
                    d["endpoint"],
                    d["schema"],
                    d["naming_attribute"],
                    d["description"],
                    tuple((e["schema"], e["required"]) for e in d["schema_extensions"]),
                )
            )
    registry, meaning = declare(schemas, declarations, BUILTIN, broken)
    problems += meaning
    return Declared(registry, tuple(names), problems)
