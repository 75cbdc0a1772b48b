"""SCIM schema definitions as data: RFC 7643 §4 and §8.7.1; /Schemas and /ResourceTypes JSON.

Does: describe the core User and Group schemas and the enterprise User extension with their
characteristics, the User and Group resource types, and render the ``/Schemas`` and
``/ResourceTypes`` representations (RFC 7643 §6, §7). Re-exports ``Attribute``, ``Schema``,
``ResourceType`` (with ``resolve``) and ``COMMON_ATTRIBUTES`` from ``schema_model``, so this
is the one module callers import.

Does not: say which attributes the gateway can store (that is the mapping's job), nor hold
any service-provider configuration.
"""

from __future__ import annotations

from typing import Any

from gateway.scim.messages import (
    ENTERPRISE_USER_SCHEMA,
    GROUP_SCHEMA,
    RESOURCE_TYPE_SCHEMA,
    SCHEMA_SCHEMA,
    USER_SCHEMA,
)
from gateway.scim.schema_model import (
    COMMON_ATTRIBUTES,
    Attribute,
    ResourceType,
    Schema,
)

__all__ = [
    "COMMON_ATTRIBUTES",
    "CORE_USER",
    "ENTERPRISE_USER",
    "GROUP",
    "GROUP_TYPE",
    "USER_TYPE",
    "Attribute",
    "ResourceType",
    "Schema",
    "attribute_to_json",
    "resource_type_to_json",
    "schema_to_json",
]


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

USER_TYPE = ResourceType(
    "User", "/Users", CORE_USER, ((ENTERPRISE_USER, False),), "User Account", naming="userName"
)
GROUP_TYPE = ResourceType(
    "Group", "/Groups", GROUP, (), "Group", naming="displayName", member_types=("User", "Group")
)


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
