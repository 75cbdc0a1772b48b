"""The SCIM schema a deployment really serves: the RFC schemas cut down to what the mapping maps.

``/Schemas`` and ``/ResourceTypes`` publish this, so a client (or a conformance suite) sees
exactly which attributes it can write and read back, and a mapping change shows up in
discovery without code changes.
"""

from __future__ import annotations

import dataclasses
import functools

from gateway.mapping.model import ResourceMapping
from gateway.mapping.translate import slot_of
from gateway.scim.schema import Attribute, ResourceType, Schema

_ALWAYS_SERVED = frozenset({"id", "meta"})


@functools.cache
def served_type(rm: ResourceMapping) -> ResourceType:
    """``rm.rtype`` with each schema reduced to the attributes the mapping handles."""
    rtype = rm.rtype
    wanted: dict[tuple[str | None, str], set[str] | None] = {}  # (container, attr) → subs
    types: dict[tuple[str | None, str], set[str]] = {}
    read_only: set[tuple[str | None, str]] = set()
    immutable: set[tuple[str | None, str]] = set()  # write: createOnly (RFC 7643 §2.2)
    primary: set[tuple[str | None, str]] = set()
    for rule in rm.attributes:
        slot = slot_of(rule, rm)
        key = (slot.container, slot.attr.lower())
        subs = wanted.setdefault(key, set())
        if slot.is_reference:
            subs.update({"value", "$ref", "type"} if slot.multi_valued else {"value", "$ref"})
        elif slot.multi_valued:
            subs.update({(slot.sub or "value").lower(), "type"})  # addresses: locality, ...
        elif slot.sub is not None:
            subs.add(slot.sub.lower())
        else:
            wanted[key] = None
        if slot.type_value is not None:
            types.setdefault(key, set()).add(slot.type_value)
        if rule.primary:
            primary.add(key)
        if rule.write == "readOnly":
            read_only.add(key)
        elif rule.write == "createOnly":
            immutable.add(key)
    if rm.disable is not None:
        wanted[(None, "active")] = None
    if rm.members is not None:
        wanted[(None, "members")] = {"value", "$ref", "type"}
    # set through Password Modify, not a rule (gateway.provisioning.passwords); writeOnly
    wanted[(None, "password")] = None

    def keep(schema: Schema, container: str | None) -> Schema:
        attributes: list[Attribute] = []
        for attr in rtype.attributes(schema):
            key = (container, attr.name.lower())
            if attr.name.lower() in _ALWAYS_SERVED and container is None:
                continue  # common attributes are described by RFC 7643 §3.1, not per schema
            if key not in wanted:
                continue
            subs = wanted[key]
            if subs is not None and attr.sub_attributes:
                if key in primary:
                    subs = subs | {"primary"}
                kept = []
                for sub in attr.sub_attributes:
                    if sub.name.lower() not in subs:
                        continue
                    if sub.name == "type" and key in types:
                        sub = dataclasses.replace(sub, canonical_values=tuple(sorted(types[key])))
                    if sub.name == "primary":
                        # fixed by the mapping's 'primary: true', not stored: a client's value
                        # is ignored (RFC 7643 §2.2 readOnly)
                        sub = dataclasses.replace(sub, mutability="readOnly")
                    kept.append(sub)
                attr = dataclasses.replace(attr, sub_attributes=tuple(kept))
            if key in read_only:
                attr = dataclasses.replace(attr, mutability="readOnly")
            elif key in immutable and attr.mutability == "readWrite":
                attr = dataclasses.replace(attr, mutability="immutable")
            if attr.name == "active":
                # The directory always knows whether an account is enabled, so there is always
                # a value; removing it is not something LDAP can represent.
                attr = dataclasses.replace(attr, required=True)
            attributes.append(attr)
        return dataclasses.replace(schema, attributes=tuple(attributes))

    core = keep(rtype.schema, None)
    extensions = tuple(
        (keep(ext, ext.id), required)
        for ext, required in rtype.extensions
        if any(container == ext.id for container, _ in wanted)
    )
    return dataclasses.replace(rtype, schema=core, extensions=extensions)
