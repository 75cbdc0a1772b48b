"""The directory's schema, read from its subschema entry (RFC 4512 §4.2), as plain values.

``mapping check`` compares a mapping with this: which object classes and attribute types
exist, which class is structural, what each class requires (MUST) and allows (MAY),
including what it inherits. The definitions are parsed with ldap3's RFC 4512 parser; nothing
above this package sees ldap3 types. Attribute syntaxes and matching rules are resolved
through ``SUP`` (``sn`` has no syntax of its own: it inherits ``name``'s).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ldap3.protocol.rfc4512 import AttributeTypeInfo, ObjectClassInfo

from gateway.directory import ldapfilter
from gateway.directory.operations import Directory

SYNTAX_DN = "1.3.6.1.4.1.1466.115.121.1.12"
SYNTAX_NAME_AND_UID = "1.3.6.1.4.1.1466.115.121.1.34"  # uniqueMember
SYNTAX_INTEGER = "1.3.6.1.4.1.1466.115.121.1.27"
SYNTAX_BOOLEAN = "1.3.6.1.4.1.1466.115.121.1.7"
SYNTAX_GENERALIZED_TIME = "1.3.6.1.4.1.1466.115.121.1.24"
SYNTAX_IA5 = "1.3.6.1.4.1.1466.115.121.1.26"


@dataclass(frozen=True, slots=True)
class ObjectClass:
    names: tuple[str, ...]
    kind: str  # STRUCTURAL, AUXILIARY or ABSTRACT
    superiors: tuple[str, ...] = ()
    must: tuple[str, ...] = ()
    may: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.names[0]


@dataclass(frozen=True, slots=True)
class AttributeType:
    names: tuple[str, ...]
    syntax: str | None = None
    single_value: bool = False
    no_user_modification: bool = False
    operational: bool = False  # USAGE other than userApplications: allowed on any entry
    equality: str | None = None
    ordering: str | None = None

    @property
    def name(self) -> str:
        return self.names[0]


@dataclass(frozen=True, slots=True)
class DirectorySchema:
    """Object classes and attribute types by lower-cased name (every alias is a key)."""

    object_classes: dict[str, ObjectClass] = field(default_factory=dict)
    attribute_types: dict[str, AttributeType] = field(default_factory=dict)

    def object_class(self, name: str) -> ObjectClass | None:
        return self.object_classes.get(name.lower())

    def attribute(self, name: str) -> AttributeType | None:
        return self.attribute_types.get(name.lower())

    def class_names(self) -> list[str]:
        return sorted({oc.name for oc in self.object_classes.values()})

    def attribute_names(self) -> list[str]:
        return sorted({n for at in self.attribute_types.values() for n in at.names})

    def lineage(self, name: str) -> list[ObjectClass]:
        """The class and all its superclasses (closest first); unknown names are skipped."""
        out: list[ObjectClass] = []
        todo = [name]
        seen: set[str] = set()
        while todo:
            oc = self.object_class(todo.pop(0))
            if oc is None or oc.name.lower() in seen:
                continue
            seen.add(oc.name.lower())
            out.append(oc)
            todo.extend(oc.superiors)
        return out

    def canonical(self, attribute: str) -> str:
        """The primary name of an attribute type, lower-cased (aliases: ``surname`` → ``sn``)."""
        at = self.attribute(attribute)
        return at.name.lower() if at is not None else attribute.lower()


def parse_subschema(
    object_classes: Iterable[str], attribute_types: Iterable[str]
) -> DirectorySchema:
    """Build the schema from the text of ``objectClasses`` and ``attributeTypes`` values."""
    raw_types = AttributeTypeInfo.from_definition(list(attribute_types)) or {}
    infos = {info.oid: info for info in raw_types.values()}
    types: dict[str, AttributeType] = {}
    for info in infos.values():
        at = AttributeType(
            names=tuple(info.name or (info.oid,)),
            syntax=_inherited(info, infos, "syntax"),
            single_value=bool(info.single_value),
            no_user_modification=bool(info.no_user_modification),
            operational=bool(info.usage) and str(info.usage) != "userApplications",
            equality=_inherited(info, infos, "equality"),
            ordering=_inherited(info, infos, "ordering"),
        )
        for name in at.names:
            types[name.lower()] = at
    classes: dict[str, ObjectClass] = {}
    for info in (ObjectClassInfo.from_definition(list(object_classes)) or {}).values():
        oc = ObjectClass(
            names=tuple(info.name or (info.oid,)),
            kind=str(info.kind or "STRUCTURAL"),
            superiors=tuple(info.superior or ()),
            must=tuple(info.must_contain or ()),
            may=tuple(info.may_contain or ()),
        )
        for name in oc.names:
            classes[name.lower()] = oc
    return DirectorySchema(classes, types)


def _inherited(
    info: AttributeTypeInfo, infos: dict[str, AttributeTypeInfo], what: str
) -> str | None:
    by_name = {n.lower(): i for i in infos.values() for n in (i.name or ())}
    seen: set[str] = set()
    current: AttributeTypeInfo | None = info
    while current is not None and current.oid not in seen:
        seen.add(current.oid)
        value = getattr(current, what, None)
        if isinstance(value, list | tuple):
            value = value[0] if value else None
        if value:
            return str(value)
        sup = current.superior[0] if current.superior else None
        current = by_name.get(sup.lower()) if sup else None
    return None


def read_subschema(directory: Directory) -> DirectorySchema:
    """The schema the directory publishes (root DSE ``subschemaSubentry``, RFC 4512 §4.2)."""
    root = directory.read("", ["subschemaSubentry"])
    where = (root.first("subschemaSubentry") if root else None) or "cn=Subschema"
    found = directory.search(
        where,
        "base",
        ldapfilter.Equal("objectClass", "subschema"),
        ["objectClasses", "attributeTypes"],
    )
    if not found:
        return DirectorySchema()
    return parse_subschema(found[0].get("objectClasses"), found[0].get("attributeTypes"))
