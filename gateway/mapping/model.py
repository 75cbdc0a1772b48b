"""The mapping as frozen values: what the loader builds and the translators read.

A :class:`ResourceMapping` says where one SCIM resource type lives in the directory and how
each of its attributes maps to an LDAP attribute. The YAML form is in docs/mapping.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field

from gateway.directory.ldapfilter import Raw
from gateway.scim.path import PatchPath
from gateway.scim.schema import ResourceType

_FIELD = re.compile(r"\{([^{}]+)\}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

WRITE_POLICIES = ("readWrite", "readOnly", "createOnly", "ignore")


@dataclass(frozen=True, slots=True)
class Template:
    """``"{name.givenName} {name.familyName}"``: renders only if every field has a value."""

    text: str
    fields: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Template:
        return cls(text, tuple(m.strip() for m in _FIELD.findall(text)))

    def render(self, values: MappingABC[str, str]) -> str | None:
        if any(not values.get(f) for f in self.fields):
            return None
        out = _FIELD.sub(lambda m: values[m.group(1).strip()], self.text).strip()
        return out or None


@dataclass(frozen=True, slots=True)
class Converter:
    """A named pair of functions between SCIM values and LDAP strings."""

    name: str
    to_ldap: Callable[[object], str]
    to_scim: Callable[[str], object]


@dataclass(frozen=True, slots=True)
class AttributeRule:
    """One SCIM attribute (or one typed value of a multi-valued one) ↔ one LDAP attribute."""

    scim_text: str
    scim: PatchPath
    ldap: str
    converter: Converter
    defaults: tuple[Template, ...] = ()
    write: str = "readWrite"
    reference: tuple[str, ...] = ()  # resource types whose DNs this attribute holds
    primary: bool = False

    @property
    def type_value(self) -> str | None:
        """``"work"`` for ``emails[type eq "work"].value``; None for plain attributes."""
        flt = self.scim.value_filter
        value = getattr(flt, "value", None)
        return value if isinstance(value, str) else None

    @property
    def writable(self) -> bool:
        return self.write in ("readWrite", "createOnly")


@dataclass(frozen=True, slots=True)
class DisableRule:
    """How ``active: false`` is stored.

    ``ppolicy``: the ppolicy overlay's ``pwdAccountLockedTime: 000001010000Z`` (a bind is then
    refused). ``boolean``: ``attribute`` holds ``disabled_value`` / ``enabled_value``.
    ``move``: disabled entries live under ``disabled_base_dn``.
    """

    strategy: str
    attribute: str = "pwdAccountLockedTime"
    disabled_value: str = "000001010000Z"
    enabled_value: str | None = None
    disabled_base_dn: str | None = None


@dataclass(frozen=True, slots=True)
class MembersRule:
    """Group membership: an LDAP DN-valued attribute, and a placeholder for empty groups.

    With ``member_of`` the gateway lists a group's members with one search per member type
    (``(memberOf=<group DN>)``) and finds a user's groups without searching.
    """

    ldap: str
    types: tuple[str, ...]
    placeholder: str | None
    member_of: str | None = None  # back-link the directory keeps on members (memberof overlay)


@dataclass(frozen=True, slots=True)
class ResourceMapping:
    name: str  # "User" / "Group"
    rtype: ResourceType
    base_dn: str
    scope: str
    object_classes: tuple[str, ...]
    rdn_attribute: str
    id_attribute: str
    attributes: tuple[AttributeRule, ...]
    filter: Raw | None = None
    unmapped: str = "ignore"
    disable: DisableRule | None = None
    members: MembersRule | None = None

    @property
    def rdn_rule(self) -> AttributeRule:
        for rule in self.attributes:
            if rule.ldap.lower() == self.rdn_attribute.lower() and rule.writable:
                return rule
        raise LookupError(f"{self.name}: no writable rule for the RDN attribute")

    def accepts_id(self, value: object) -> bool:
        """Could ``value`` be an id of this type? (Lets malformed ids 404 without LDAP.)"""
        if not isinstance(value, str) or not value or "\x00" in value or len(value) > 256:
            return False
        if self.id_attribute.lower() == "entryuuid":
            return _UUID.fullmatch(value) is not None
        return True

    def rules_for(self, attr: str) -> tuple[AttributeRule, ...]:
        """Rules whose SCIM attribute is ``attr`` (canonical or any case)."""
        a = attr.lower()
        return tuple(r for r in self.attributes if r.scim.attr.attr.lower() == a)


@dataclass(frozen=True, slots=True)
class Mapping:
    resources: dict[str, ResourceMapping] = field(default_factory=dict)
    source: str = "<memory>"

    def __getitem__(self, name: str) -> ResourceMapping:
        return self.resources[name]
