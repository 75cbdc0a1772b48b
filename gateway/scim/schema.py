"""SCIM schema definitions as data: RFC 7643 §2, §3.1, §4 and §8.7.1.

Does: describe the core User and Group schemas, the enterprise User extension and the common
attributes (``id``, ``externalId``, ``meta``) with their characteristics; resolve an
``AttrPath`` to a (schema, attribute, sub-attribute) triple; render the ``/Schemas`` and
``/ResourceTypes`` representations (RFC 7643 §6, §7).

Does not: say which attributes the gateway can store (that is the mapping's job), nor hold
any service-provider configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from gateway.errors import InvalidPath
from gateway.scim.filter import AttrPath
from gateway.scim.messages import (
    ENTERPRISE_USER_SCHEMA,
    GROUP_SCHEMA,
    RESOURCE_TYPE_SCHEMA,
    SCHEMA_SCHEMA,
    USER_SCHEMA,
)


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

    def sub(self, name: str) -> Attribute | None:
        """The sub-attribute called ``name``; names are case-insensitive (RFC 7643 §2.1)."""
        folded = name.casefold()
        for sub in self.sub_attributes:
            if sub.name.casefold() == folded:
                return sub
        return None


@dataclass(frozen=True, slots=True)
class Schema:
    """A schema (RFC 7643 §7): a URN id and its top-level attributes."""

    id: str
    name: str
    description: str
    attributes: tuple[Attribute, ...]

    def attribute(self, name: str) -> Attribute | None:
        """The attribute called ``name``, compared case-insensitively (RFC 7643 §2.1)."""
        folded = name.casefold()
        for attr in self.attributes:
            if attr.name.casefold() == folded:
                return attr
        return None


@dataclass(frozen=True, slots=True)
class ResourceType:
    """A resource type (RFC 7643 §6): endpoint, core schema and extensions."""

    name: str
    endpoint: str
    schema: Schema
    extensions: tuple[tuple[Schema, bool], ...] = ()
    description: str = ""

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


# --------------------------------------------------------------------------- definitions


def _string(name: str, description: str, **kw: Any) -> Attribute:
    return Attribute(name, "string", description=description, **kw)


def _multi(
    name: str,
    description: str,
    types: tuple[str, ...],
    *,
    value_type: str = "string",
    reference_types: tuple[str, ...] = (),
) -> Attribute:
    """The value/display/type/primary pattern of RFC 7643 §2.4 multi-valued attributes."""
    return Attribute(
        name,
        "complex",
        multi_valued=True,
        description=description,
        sub_attributes=(
            Attribute(
                "value", value_type, reference_types=reference_types, description="The value."
            ),
            _string("display", "A human-readable name, primarily used for display purposes."),
            _string("type", "A label indicating the attribute's function.", canonical_values=types),
            Attribute("primary", "boolean", description="The primary or preferred value."),
        ),
    )


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

_NAME = Attribute(
    "name",
    "complex",
    description="The components of the user's real name.",
    sub_attributes=tuple(
        _string(n, d)
        for n, d in (
            ("formatted", "The full name, formatted for display."),
            ("familyName", "The family name, or last name."),
            ("givenName", "The given name, or first name."),
            ("middleName", "The middle name(s)."),
            ("honorificPrefix", "The honorific prefix(es), or title."),
            ("honorificSuffix", "The honorific suffix(es)."),
        )
    ),
)

_ADDRESS_PARTS = (
    ("formatted", "The full mailing address, formatted for display."),
    ("streetAddress", "The street address."),
    ("locality", "The city or locality."),
    ("region", "The state or region."),
    ("postalCode", "The zip code or postal code."),
    ("country", "The country name (ISO 3166-1 alpha-2)."),
)

_USER_GROUP_SUBS = (
    _string("value", "The id of the group.", mutability="readOnly"),
    Attribute(
        "$ref",
        "reference",
        mutability="readOnly",
        reference_types=("User", "Group"),
        description="The URI of the group.",
    ),
    _string("display", "The group's displayName.", mutability="readOnly"),
    _string(
        "type",
        "Direct or indirect membership.",
        mutability="readOnly",
        canonical_values=("direct", "indirect"),
    ),
)

CORE_USER = Schema(
    USER_SCHEMA,
    "User",
    "User Account",
    (
        _string(
            "userName",
            "Unique identifier for the user, used to authenticate.",
            required=True,
            uniqueness="server",
        ),
        _NAME,
        _string("displayName", "The name of the user, suitable for display."),
        _string("nickName", "The casual way to address the user."),
        Attribute(
            "profileUrl", "reference", reference_types=("external",), description="Profile URL."
        ),
        _string("title", "The user's title, such as 'Vice President'."),
        _string("userType", "The relationship between the organization and the user."),
        _string("preferredLanguage", "Preferred language (RFC 7231 Accept-Language)."),
        _string("locale", "Default location for localization (e.g. 'en-US')."),
        _string("timezone", "Time zone in IANA 'Olson' format (e.g. 'America/Los_Angeles')."),
        Attribute("active", "boolean", description="The user's administrative status."),
        _string(
            "password", "The user's cleartext password.", mutability="writeOnly", returned="never"
        ),
        _multi("emails", "Email addresses.", ("work", "home", "other")),
        _multi(
            "phoneNumbers", "Phone numbers.", ("work", "home", "mobile", "fax", "pager", "other")
        ),
        _multi(
            "ims",
            "Instant messaging addresses.",
            ("aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"),
        ),
        _multi(
            "photos",
            "URLs of images of the user.",
            ("photo", "thumbnail"),
            value_type="reference",
            reference_types=("external",),
        ),
        Attribute(
            "addresses",
            "complex",
            multi_valued=True,
            description="Physical mailing addresses.",
            sub_attributes=(
                *(_string(n, d) for n, d in _ADDRESS_PARTS),
                _string("type", "work, home or other.", canonical_values=("work", "home", "other")),
                Attribute("primary", "boolean", description="The primary mailing address."),
            ),
        ),
        Attribute(
            "groups",
            "complex",
            multi_valued=True,
            mutability="readOnly",
            description="Groups the user belongs to, directly or indirectly.",
            sub_attributes=_USER_GROUP_SUBS,
        ),
        _multi("entitlements", "Entitlements of the user.", ()),
        _multi("roles", "Roles of the user.", ()),
        _multi("x509Certificates", "DER-encoded X.509 certificates.", (), value_type="binary"),
    ),
)
"""RFC 7643 §4.1 and §8.7.1."""

GROUP = Schema(
    GROUP_SCHEMA,
    "Group",
    "Group",
    (
        # RFC 7643 §4.2 says REQUIRED; the §8.7.1 listing says required=false. We follow
        # §4.2: Entra matches groups by displayName and LDAP needs a cn.
        _string("displayName", "A human-readable name for the group.", required=True),
        Attribute(
            "members",
            "complex",
            multi_valued=True,
            description="The members of the group.",
            sub_attributes=(
                _string("value", "The id of the member.", mutability="immutable"),
                Attribute(
                    "$ref",
                    "reference",
                    mutability="immutable",
                    reference_types=("User", "Group"),
                    description="The URI of the member.",
                ),
                _string(
                    "type",
                    "The type of the member.",
                    mutability="immutable",
                    canonical_values=("User", "Group"),
                ),
                # Not in §8.7.1 but used by clients (Okta sends it); derived, so read-only here.
                _string("display", "The member's display name.", mutability="readOnly"),
            ),
        ),
    ),
)
"""RFC 7643 §4.2 and §8.7.1."""

ENTERPRISE_USER = Schema(
    ENTERPRISE_USER_SCHEMA,
    "EnterpriseUser",
    "Enterprise User",
    (
        _string("employeeNumber", "Identifier assigned to a person by the organization."),
        _string("costCenter", "The name of a cost center."),
        _string("organization", "The name of an organization."),
        _string("division", "The name of a division."),
        _string("department", "The name of a department."),
        Attribute(
            "manager",
            "complex",
            description="The user's manager.",
            sub_attributes=(
                _string("value", "The id of the manager's User resource."),
                Attribute(
                    "$ref",
                    "reference",
                    reference_types=("User",),
                    description="The URI of the manager's User resource.",
                ),
                _string("displayName", "The manager's displayName.", mutability="readOnly"),
            ),
        ),
    ),
)
"""RFC 7643 §4.3 and §8.7.1."""

USER_TYPE = ResourceType("User", "/Users", CORE_USER, ((ENTERPRISE_USER, False),), "User Account")
GROUP_TYPE = ResourceType("Group", "/Groups", GROUP, (), "Group")


# ------------------------------------------------------------------------ JSON renderers


def attribute_to_json(attr: Attribute) -> dict[str, Any]:
    """One attribute definition as RFC 7643 §7 spells it (camelCase characteristics)."""
    out: dict[str, Any] = {
        "name": attr.name,
        "type": attr.type,
        "multiValued": attr.multi_valued,
        "description": attr.description,
        "required": attr.required,
        "caseExact": attr.case_exact,
        "mutability": attr.mutability,
        "returned": attr.returned,
        "uniqueness": attr.uniqueness,
    }
    if attr.canonical_values:
        out["canonicalValues"] = list(attr.canonical_values)
    if attr.type == "reference":
        out["referenceTypes"] = list(attr.reference_types)
    if attr.sub_attributes:
        out["subAttributes"] = [attribute_to_json(sub) for sub in attr.sub_attributes]
    return out


def schema_to_json(schema: Schema, location_base: str) -> dict[str, Any]:
    """The ``/Schemas/{id}`` representation (RFC 7643 §7, RFC 7644 §4).

    ``location_base`` is the service root, e.g. ``https://host/scim/v2``.
    """
    return {
        "schemas": [SCHEMA_SCHEMA],
        "id": schema.id,
        "name": schema.name,
        "description": schema.description,
        "attributes": [attribute_to_json(attr) for attr in schema.attributes],
        "meta": {
            "resourceType": "Schema",
            "location": f"{location_base.rstrip('/')}/Schemas/{schema.id}",
        },
    }


def resource_type_to_json(rt: ResourceType, location_base: str) -> dict[str, Any]:
    """The ``/ResourceTypes/{name}`` representation (RFC 7643 §6)."""
    out: dict[str, Any] = {
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": rt.name,
        "name": rt.name,
        "endpoint": rt.endpoint,
        "description": rt.description,
        "schema": rt.schema.id,
    }
    if rt.extensions:
        out["schemaExtensions"] = [
            {"schema": ext.id, "required": required} for ext, required in rt.extensions
        ]
    out["meta"] = {
        "resourceType": "ResourceType",
        "location": f"{location_base.rstrip('/')}/ResourceTypes/{rt.name}",
    }
    return out
