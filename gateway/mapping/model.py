"""The mapping as frozen values: what the loader builds and the translators read.

A :class:`ResourceMapping` says where one SCIM resource type lives in the directory and how
each of its attributes maps to an LDAP attribute. The YAML form is in docs/mapping.md.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field

from gateway.directory.ldapfilter import Raw
from gateway.mapping.behaviour import DEFAULT as DEFAULT_DIRECTORY
from gateway.mapping.behaviour import DirectoryBehaviour
from gateway.mapping.disable import DisableStrategy
from gateway.scim.path import PatchPath
from gateway.scim.registry import BUILTIN, Registry
from gateway.scim.schema import ResourceType

_FIELD = re.compile(r"\{([^{}]+)\}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

WRITE_POLICIES = ("readWrite", "readOnly", "createOnly", "ignore")
DERIVED_WRITE_POLICIES = ("createOnly", "readWrite")
MEMBER_VALUE_DN = "dn"


@dataclass(frozen=True, slots=True)
class Template:
    """``"{name.givenName} {name.familyName}"``: renders only if every field has a value."""

    text: str
    fields: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Template:
        return cls(text, tuple(m.strip() for m in _FIELD.findall(text)))

    def render(self, values: MappingABC[str, str]) -> str | None:
        get = values.get
        for f in self.fields:  # a loop, not any(<generator>): every read renders several
            if not get(f):
                return None
        # Text and fields alternate in the split template.
        pieces = _pieces(self.text)
        if len(pieces) == 3 and not pieces[0] and not pieces[2]:  # just "{field}"
            out = values[pieces[1]].strip()
        else:
            out = "".join(values[p] if i % 2 else p for i, p in enumerate(pieces)).strip()
        return out or None


@functools.lru_cache(maxsize=4096)
def _pieces(text: str) -> tuple[str, ...]:
    """``"{a} x {b}"`` → ``("", "a", " x ", "b", "")``: text at even places, fields at odd."""
    return tuple(p.strip() if i % 2 else p for i, p in enumerate(_FIELD.split(text)))


@dataclass(frozen=True, slots=True)
class Converter:
    """A named pair of functions between SCIM values and LDAP strings."""

    name: str
    to_ldap: Callable[[object], str]
    to_scim: Callable[[str], object]


@dataclass(frozen=True, slots=True, eq=False)  # identity hash: cheap cache keys
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
    source: str = field(default="", compare=False)  # YAML path, e.g. "User.attributes.3"

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
class Allocation:
    """Numbers handed out from ``first`` to ``last`` through a counter entry in the directory.

    The counter entry at ``counter`` holds the next free number in the allocated attribute
    itself (``uidNumber: 10042``); see gateway/provisioning/allocation.py for why this is
    safe with many workers.
    """

    counter: str
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class DerivedRule:
    """An LDAP attribute the gateway fills in itself, not tied to a SCIM attribute.

    Exactly one of: ``constant`` values, ``templates`` (first that renders wins, fields are
    SCIM paths), or ``allocate`` (a number from a range, on create only). ``write``:
    ``createOnly`` writes it when the entry has no value (on create, or the first update after
    the rule was added); ``readWrite`` also rewrites it whenever the stored value differs.
    """

    ldap: str
    constant: tuple[str, ...] = ()
    templates: tuple[Template, ...] = ()
    allocate: Allocation | None = None
    converter: Converter | None = None
    write: str = "createOnly"
    source: str = field(default="", compare=False)

    def render(self, values: MappingABC[str, str]) -> tuple[str, ...]:
        """The values this rule writes for a resource whose template fields are ``values``."""
        if self.constant:
            out: tuple[str, ...] = self.constant
        else:
            rendered = next((r for t in self.templates if (r := t.render(values))), None)
            out = (rendered,) if rendered else ()
        if self.converter is not None:
            out = tuple(self.converter.to_ldap(v) for v in out)
        return out


@dataclass(frozen=True, slots=True)
class MembersRule:
    """Group membership: an LDAP DN-valued attribute, and a placeholder for empty groups.

    With ``member_of`` the gateway lists a group's members with one paged search for all member
    types (``(memberOf=<group DN>)``) and finds a user's groups without searching.
    """

    ldap: str
    types: tuple[str, ...]
    placeholder: str | None
    member_of: str | None = None  # back-link the directory keeps on members (memberof overlay)
    # "dn": values are member DNs (member, uniqueMember). Otherwise the name of the members'
    # RDN attribute whose value is stored instead (posixGroup memberUid holds uids).
    member_value: str = MEMBER_VALUE_DN

    @property
    def by_dn(self) -> bool:
        return self.member_value == MEMBER_VALUE_DN


@dataclass(frozen=True, slots=True, eq=False)  # identity hash: cheap cache keys
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
    disable: DisableStrategy | None = None  # how active: false is stored (mapping/disable.py)
    members: MembersRule | None = None
    derived: tuple[DerivedRule, ...] = ()
    directory: DirectoryBehaviour = DEFAULT_DIRECTORY  # the file's directory: section
    registry: Registry = BUILTIN  # the mapping's resource types (other types' endpoints)

    @property
    def moves_disabled(self) -> bool:
        """Disabled entries live under another base (the strategy has a ``disabled_base``)."""
        return self.disable is not None and self.disable.disabled_base is not None

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


@dataclass(frozen=True, slots=True, eq=False)  # identity hash: cheap cache keys
class Mapping:
    resources: dict[str, ResourceMapping] = field(default_factory=dict)
    source: str = "<memory>"
    lines: dict[str, int] = field(default_factory=dict, compare=False)  # YAML path → line
    directory: DirectoryBehaviour = DEFAULT_DIRECTORY  # what the server does (behaviour.py)

    @property
    def etags(self) -> bool:
        """Resources carry ``meta.version``, so ETags and If-Match are offered."""
        return self.directory.versions

    def __getitem__(self, name: str) -> ResourceMapping:
        return self.resources[name]

    def where(self, path: str) -> str:
        """``file:line`` of a YAML path (``User.attributes.3.ldap``), or of its nearest parent."""
        line = self.lines.get(path)
        while line is None and "." in path:
            path = path.rsplit(".", 1)[0]
            line = self.lines.get(path)
        return f"{self.source}:{line}" if line else self.source
