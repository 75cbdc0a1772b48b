"""The shape of SCIM schema definitions: RFC 7643 §2.2 characteristics, §6 resource types.

Does: hold ``Attribute``, ``Schema`` and ``ResourceType`` (frozen values) and the common
attributes every resource has (RFC 7643 §3.1), and resolve an ``AttrPath`` to the schema,
attribute and sub-attribute it names. The RFC's User, Group and enterprise definitions
themselves live in ``schema``, which re-exports everything here.

Does not: render JSON or know which attributes the gateway can store.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from gateway.errors import InvalidPath
from gateway.scim.filter import AttrPath

# RFC 7643 §2.2 and §2.3: the values each characteristic may take
ATTRIBUTE_TYPES = (
    "string",
    "boolean",
    "decimal",
    "integer",
    "dateTime",
    "reference",
    "complex",
    "binary",
)
MUTABILITIES = ("readOnly", "readWrite", "immutable", "writeOnly")
RETURNED = ("always", "never", "default", "request")
UNIQUENESS = ("none", "server", "global")


@dataclass(frozen=True, slots=True)
class Attribute:
    """One attribute definition with its RFC 7643 §2.2 characteristics."""

    name: str
    type: str = "string"  # string boolean decimal integer dateTime reference complex binary
    multi_valued: bool = False
    required: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"  # readOnly readWrite immutable writeOnly
    returned: str = "default"  # always never default request
    uniqueness: str = "none"  # none server global
    sub_attributes: tuple[Attribute, ...] = ()
    canonical_values: tuple[str, ...] = ()
    reference_types: tuple[str, ...] = ()
    description: str = ""
    # case-folded name -> sub-attribute, the first of a name as the scan it replaces found;
    # built once with the (immutable) attribute: every value a request checks asks ``sub``
    _subs: dict[str, Attribute] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_subs", _by_folded_name(self.sub_attributes))

    def sub(self, name: str) -> Attribute | None:
        """The sub-attribute called ``name``; names are case-insensitive (RFC 7643 §2.1)."""
        return self._subs.get(name.casefold())


@dataclass(frozen=True, slots=True)
class Schema:
    """A schema (RFC 7643 §7): a URN id and its top-level attributes."""

    id: str
    name: str
    description: str
    attributes: tuple[Attribute, ...]
    _by_name: dict[str, Attribute] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", _by_folded_name(self.attributes))

    def attribute(self, name: str) -> Attribute | None:
        """The attribute called ``name``, compared case-insensitively (RFC 7643 §2.1)."""
        return self._by_name.get(name.casefold())


def _by_folded_name(attributes: tuple[Attribute, ...]) -> dict[str, Attribute]:
    """Case-folded name -> attribute, keeping the first of each name: the answer of a scan
    that compares ``name.casefold()`` in order and returns the first match, looked up in one
    step (tests/unit/scim/test_schema_lookup.py holds the two to the same answers)."""
    out: dict[str, Attribute] = {}
    for attr in attributes:
        out.setdefault(attr.name.casefold(), attr)
    return out


@dataclass(frozen=True, slots=True)
class ResourceType:
    """A resource type (RFC 7643 §6): endpoint, core schema and extensions.

    Two facts the RFC leaves out and the gateway needs, kept here so that one value says all
    there is to say about a type (``gateway.scim.registry`` collects them): ``naming``, the
    SCIM attribute that names an entry (its RDN: ``userName``, ``displayName``), and
    ``member_types``, the types it may hold as ``members`` (empty: it holds none).
    """

    name: str
    endpoint: str
    schema: Schema
    extensions: tuple[tuple[Schema, bool], ...] = ()
    description: str = ""
    naming: str = ""
    member_types: tuple[str, ...] = ()

    def schemas(self) -> tuple[Schema, ...]:
        """The core schema first, then each extension."""
        return (self.schema, *(ext for ext, _ in self.extensions))

    def schema_by_id(self, urn: str) -> Schema | None:
        """The core or extension schema whose id is ``urn`` (URNs compared case-insensitively)."""
        folded = urn.casefold()
        for schema in self.schemas():
            if schema.id.casefold() == folded:
                return schema
        return None

    def attribute(self, schema: Schema, name: str) -> Attribute | None:
        """``schema.attribute(name)``, plus the common attributes (RFC 7643 §3.1) for the core."""
        found = schema.attribute(name)
        if found is None and schema is self.schema:
            folded = name.casefold()
            found = next((a for a in COMMON_ATTRIBUTES if a.name.casefold() == folded), None)
        return found

    def attributes(self, schema: Schema) -> tuple[Attribute, ...]:
        """All top-level attributes living under ``schema`` (common ones with the core schema)."""
        if schema is self.schema:
            return COMMON_ATTRIBUTES + schema.attributes
        return schema.attributes

    def resolve(self, path: AttrPath) -> tuple[Schema, Attribute, Attribute | None]:
        """Find the schema, attribute and sub-attribute ``path`` names; ``InvalidPath`` if none.

        Without a URN the core schema is searched (RFC 7644 §3.10: extension attributes are
        always qualified by their URN). Callers that need ``InvalidFilter`` convert.
        """
        schema = self.schema
        if path.schema is not None:
            found = self.schema_by_id(path.schema)
            if found is None:
                raise InvalidPath(f"unknown schema '{path.schema}' for {self.name} resources")
            schema = found
        attr = self.attribute(schema, path.attr)
        if attr is None:
            where = "" if schema is self.schema else f" in schema '{schema.id}'"
            raise InvalidPath(f"unknown attribute '{path.attr}'{where}")
        if path.sub_attr is None:
            return schema, attr, None
        if attr.type != "complex":
            raise InvalidPath(f"'{attr.name}' has no sub-attributes (asked for '{path.dotted()}')")
        sub = attr.sub(path.sub_attr)
        if sub is None:
            raise InvalidPath(f"unknown sub-attribute '{path.sub_attr}' of '{attr.name}'")
        return schema, attr, sub

    def canonical_key(self, schema: Schema) -> str | None:
        """Key of ``schema``'s attributes in a resource dict; None = top level (RFC 7643 §3.3)."""
        return None if schema is self.schema else schema.id


def _string(name: str, description: str, **kw: Any) -> Attribute:
    return Attribute(name, "string", description=description, **kw)


def _read_only(attr: Attribute) -> Attribute:
    return replace(attr, mutability="readOnly")


COMMON_ATTRIBUTES: tuple[Attribute, ...] = (
    _string(
        "id",
        "Unique identifier for the resource, assigned by the service provider.",
        case_exact=True,
        mutability="readOnly",
        returned="always",
        uniqueness="server",
    ),
    _string("externalId", "Identifier of the resource as defined by the client.", case_exact=True),
    Attribute(
        "meta",
        "complex",
        mutability="readOnly",
        description="Resource metadata.",
        sub_attributes=tuple(
            _read_only(a)
            for a in (
                _string("resourceType", "The name of the resource type.", case_exact=True),
                Attribute("created", "dateTime", description="When the resource was added."),
                Attribute("lastModified", "dateTime", description="When it last changed."),
                Attribute("location", "reference", reference_types=("uri",), description="URI."),
                _string("version", "The version (ETag) of the resource.", case_exact=True),
            )
        ),
    ),
)
"""RFC 7643 §3.1: attributes of every resource, not listed in any schema's /Schemas view."""
