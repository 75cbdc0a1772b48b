"""The resource types a deployment serves: one registry, the built-ins plus declared ones.

Does: hold, per type, everything the rest of the gateway asks about it — name, endpoint,
core schema and extensions, the attribute naming its entries, which types it may hold as
members (all on one ``ResourceType``) — and answer "which type is served at /Devices",
"what is Group's endpoint". Builds a custom type from RFC 7643 §7 attribute definitions (as
a mapping file declares them) and says, for each mistake, where it is and what is wrong.

Why one place: the endpoint table and the list of types used to be repeated in the loader,
the compiler, translation, membership, the routes, the front door's labels and the CLI, so a
third type touched seven files. Now a type is declared once; ``mapping.loader`` builds a
mapping's registry (``BUILTIN`` plus the file's ``resource_types:``) and the mapping carries
it (``ResourceMapping.registry``) to whoever needs another type's endpoint.

Does not: read YAML or know file lines (``mapping.loader`` does, and adds them to the
problems reported here), nor where a type lives in LDAP (the mapping's job).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.scim.schema import (
    COMMON_ATTRIBUTES,
    GROUP_TYPE,
    USER_TYPE,
    Attribute,
    ResourceType,
    Schema,
)

RESERVED_ENDPOINTS = (
    "/Schemas",
    "/ResourceTypes",
    "/ServiceProviderConfig",
    "/Bulk",
    "/Me",
    "/.search",
)
"""RFC 7644 §3.2's endpoints that are not resource types: no type may be served at one."""

NON_TYPE_REFERENCES = ("external", "uri")
"""``referenceTypes`` that name no resource type (RFC 7643 §7)."""

TYPE_NAME = re.compile(r"[A-Z][A-Za-z0-9]{0,63}")
ENDPOINT = re.compile(r"/[A-Za-z][A-Za-z0-9_-]{0,63}")
ATTRIBUTE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,127}")  # RFC 7643 §2.1 ATTRNAME
SCHEMA_URN = re.compile(r"urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S+")

Problem = tuple[str, str]
"""A mistake in a declaration: (path inside the file, e.g. ``schemas.0.attributes.2``, text)."""


@dataclass(frozen=True, slots=True)
class Registry:
    """Resource types in the order they are served (and listed, and searched by ``/.search``)."""

    types: tuple[ResourceType, ...]

    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.types)

    def get(self, name: str) -> ResourceType | None:
        return next((t for t in self.types if t.name == name), None)

    def __getitem__(self, name: str) -> ResourceType:
        found = self.get(name)
        if found is None:
            raise KeyError(name)
        return found

    def __contains__(self, name: object) -> bool:
        return any(t.name == name for t in self.types)

    def at(self, path: str) -> ResourceType | None:
        """The type served at ``/<path>`` (``"Users"`` → User); None if none is."""
        return next((t for t in self.types if t.endpoint[1:] == path), None)

    def path_of(self, name: str) -> str:
        """``"Users"`` for User: a ``$ref`` is ``<path>/<id>`` under the service root.

        A name this registry lacks is its own path (as before the registry: never raised on).
        """
        found = self.get(name)
        return found.endpoint[1:] if found is not None else name

    def labels(self) -> dict[str, str]:
        """Endpoint path → type name (``{"Users": "User"}``): bounded metrics labels."""
        return {t.endpoint[1:]: t.name for t in self.types}

    def extended(self, more: Iterable[ResourceType]) -> Registry:
        return Registry((*self.types, *more))


BUILTIN = Registry((USER_TYPE, GROUP_TYPE))
"""RFC 7643 §4's User (with the enterprise extension) and Group."""


# ------------------------------------------------------------------- declared types


@dataclass(frozen=True, slots=True)
class Declaration:
    """A resource type as a mapping file declares it, schemas named by their ids."""

    name: str
    endpoint: str
    schema: str
    naming: str
    description: str = ""
    extensions: tuple[tuple[str, bool], ...] = ()


def declare(
    schemas: Sequence[tuple[str, Mapping[str, Any]]],
    declarations: Sequence[Declaration],
    base: Registry = BUILTIN,
    broken: Iterable[str] = (),
) -> tuple[Registry, list[Problem]]:
    """``base`` plus the declared types, and every mistake found (the registry then holds
    only the declarations without one).

    ``schemas``: (where each is in the file, RFC 7643 §7 schema definition: ``id``, ``name``,
    ``description``, ``attributes`` of ``name``, ``type``, ``multiValued``, ...
    ``subAttributes``), shapes checked by the caller; this checks their meaning.
    ``broken``: ids of schemas whose shapes were wrong (already reported): a type naming one
    is left out without a second problem.
    """
    problems: list[Problem] = []
    taken: set[str] = set()
    for rtype in base.types:
        taken.update(s.id.casefold() for s in rtype.schemas())
    known_types = {*base.names(), *(d.name for d in declarations)}
    built: dict[str, Schema] = {}
    for here, definition in schemas:
        schema = _schema(definition, here, known_types, problems)
        folded = schema.id.casefold()
        if folded in taken:
            problems.append((f"{here}.id", f"the schema {schema.id} is already defined"))
            continue
        taken.add(folded)
        built[folded] = schema
    used: set[str] = set()
    added: list[ResourceType] = []
    endpoints = {t.endpoint.casefold(): t.name for t in base.types}
    endpoints.update({e.casefold(): "" for e in RESERVED_ENDPOINTS})
    for decl in declarations:
        before = len(problems)
        rtype = _resource_type(decl, built, base, endpoints, problems, set(broken))
        for s in (decl.schema, *(urn for urn, _ in decl.extensions)):
            used.add(s.casefold())
        if rtype is not None and len(problems) == before:
            added.append(rtype)
    for here, definition in schemas:
        urn = str(definition.get("id", ""))
        if urn.casefold() in built and urn.casefold() not in used:
            problems.append(
                (f"{here}.id", f"{urn} is not the schema of any type in resource_types")
            )
    return base.extended(added), problems


def _resource_type(
    decl: Declaration,
    built: Mapping[str, Schema],
    base: Registry,
    endpoints: dict[str, str],
    problems: list[Problem],
    broken: set[str],
) -> ResourceType | None:
    here = f"resource_types.{decl.name}"
    if decl.name in base:
        problems.append((here, f"{decl.name} is built in; declare a type of another name"))
        return None
    if not TYPE_NAME.fullmatch(decl.name):
        problems.append((here, "a type name is a letter A-Z then letters and digits (e.g. Device)"))
        return None
    clash = endpoints.get(decl.endpoint.casefold())
    if clash is not None:
        owner = f"{clash}'s endpoint" if clash else "reserved by RFC 7644 §3.2"
        problems.append((f"{here}.endpoint", f"{decl.endpoint} is {owner}"))
    elif not ENDPOINT.fullmatch(decl.endpoint):
        problems.append(
            (f"{here}.endpoint", "an endpoint is '/' and one path segment (e.g. /Devices)")
        )
    else:
        endpoints[decl.endpoint.casefold()] = decl.name
    core = built.get(decl.schema.casefold())
    if core is None:
        if decl.schema not in broken:
            problems.append((f"{here}.schema", f"no schema {decl.schema} under schemas:"))
        return None
    extensions: list[tuple[Schema, bool]] = []
    seen = {core.id.casefold()}
    for j, (urn, required) in enumerate(decl.extensions):
        ext = built.get(urn.casefold())
        where = f"{here}.schema_extensions.{j}.schema"
        if ext is None:
            problems.append((where, f"no schema {urn} under schemas:"))
        elif ext.id.casefold() in seen:
            problems.append((where, f"{urn} is already a schema of {decl.name}"))
        else:
            seen.add(ext.id.casefold())
            extensions.append((ext, required))
    naming = core.attribute(decl.naming)
    if naming is None:
        problems.append(
            (f"{here}.naming_attribute", f"{decl.naming!r} is not an attribute of {core.id}")
        )
    elif naming.type != "string" or naming.multi_valued or naming.mutability == "readOnly":
        problems.append(
            (
                f"{here}.naming_attribute",
                f"{naming.name} names entries: it must be a writable single-valued string",
            )
        )
    return ResourceType(
        decl.name,
        decl.endpoint,
        core,
        tuple(extensions),
        decl.description,
        naming=naming.name if naming is not None else decl.naming,
    )


def _schema(
    definition: Mapping[str, Any], here: str, known_types: set[str], problems: list[Problem]
) -> Schema:
    urn = str(definition["id"])
    if not SCHEMA_URN.fullmatch(urn):
        problems.append((f"{here}.id", f"{urn!r} is not a URN (e.g. urn:example:scim:Device)"))
    reserved = {"schemas", *(a.name.casefold() for a in COMMON_ATTRIBUTES)}
    attributes = _attributes(
        definition["attributes"], f"{here}.attributes", known_types, problems, reserved, top=True
    )
    return Schema(urn, str(definition["name"]), str(definition.get("description", "")), attributes)


def _attributes(
    definitions: Sequence[Mapping[str, Any]],
    here: str,
    known_types: set[str],
    problems: list[Problem],
    reserved: set[str],
    *,
    top: bool,
) -> tuple[Attribute, ...]:
    out: list[Attribute] = []
    seen: set[str] = set()
    for i, d in enumerate(definitions):
        where = f"{here}.{i}"
        name = str(d["name"])
        folded = name.casefold()
        if not (ATTRIBUTE_NAME.fullmatch(name) or (not top and name == "$ref")):
            problems.append((f"{where}.name", f"{name!r} is not an attribute name (RFC 7643 §2.1)"))
        elif folded in reserved:
            problems.append(
                (f"{where}.name", f"{name} is common to every resource (RFC 7643 §3.1)")
            )
        elif folded in seen:
            problems.append((f"{where}.name", f"{name} is defined twice"))
        seen.add(folded)
        subs: tuple[Attribute, ...] = ()
        raw_subs = d.get("subAttributes") or []
        if d["type"] == "complex":
            if not top:
                problems.append((f"{where}.type", "a sub-attribute cannot be complex (§2.3.8)"))
            elif not raw_subs:
                problems.append((where, "a complex attribute needs subAttributes"))
            else:
                subs = _attributes(
                    raw_subs, f"{where}.subAttributes", known_types, problems, set(), top=False
                )
        elif raw_subs:
            problems.append((f"{where}.subAttributes", "only a complex attribute has them"))
        references = tuple(d.get("referenceTypes") or ())
        if d["type"] == "reference":
            if not references:
                problems.append((where, "a reference attribute needs referenceTypes (§7)"))
            for j, ref in enumerate(references):
                if ref not in known_types and ref not in NON_TYPE_REFERENCES:
                    problems.append(
                        (
                            f"{where}.referenceTypes.{j}",
                            f"{ref} is no resource type here (known: "
                            f"{', '.join(sorted(known_types))}; or external, uri)",
                        )
                    )
        elif references:
            problems.append((f"{where}.referenceTypes", "only a reference attribute has them"))
        out.append(
            Attribute(
                name,
                d["type"],
                multi_valued=bool(d.get("multiValued", False)),
                required=bool(d.get("required", False)),
                case_exact=bool(d.get("caseExact", False)),
                mutability=d.get("mutability", "readWrite"),
                returned=d.get("returned", "default"),
                uniqueness=d.get("uniqueness", "none"),
                sub_attributes=subs,
                canonical_values=tuple(d.get("canonicalValues") or ()),
                reference_types=references,
                description=str(d.get("description", "")),
            )
        )
    return tuple(out)
