"""Which PATCHes can be written without reading the entry first, and the write that does it.

Today's PATCH reads the entry, applies the operations to it in memory and writes the
difference (:meth:`~gateway.provisioning.writes.Writer.patch`). For some operations the
result does not depend on what is stored: ``replace title "x"`` leaves ``title: x`` whatever
the entry held. This module recognises those ("blind-safe") PATCHes and turns them into the
modifications today's path would send, plus a *guard*: an LDAP filter that holds on the
stored entry exactly when today's path would send those same modifications. The caller puts
the guard into the write's assertion (RFC 4528), so the directory checks it; when it does
not hold, nothing is written and the caller takes today's path. Semantics are then
identical by construction: either the stored entry is one for which both paths do the same,
or the blind write is refused.

A PATCH is blind-safe when every operation is an ``add``/``replace`` of a non-null string,
or a ``remove``, of an attribute whose rule is:

- ``write: readWrite``, the ``string`` converter, no reference, no ``default``;
- of a SCIM attribute that is readWrite and not required (sub-attribute too);
- a plain single value (``title``), a sub-attribute of a single complex value
  (``name.middleName``), or a typed value's sub-attribute (``emails[type eq "work"].value``:
  ``add``/``replace`` only; today's path sets it whether or not a work value exists, but a
  ``remove`` of an absent one is an error there);
- the only rule writing its LDAP attribute, not the naming (RDN), id, disable or member
  attribute, and no template field (a ``default`` or an LDAP-only rule) reads its SCIM
  attribute, so no other attribute is derived from it.

Everything else — ``active``, ``password``, ``userName`` (a rename), references
(``manager``), ``members``, attributes feeding a derived value, filters other than the
mapping's own ``type eq``, null values — takes today's path. So does every PATCH of a type
whose mapping has members (group writes carry no assertion, see writes._update) or an LDAP-
only rule rewritten on every update (``write: readWrite``).

The guard says "each touched attribute changes": ``(!(title=x))`` for a new value, ``(title=*)``
for a removal (today's path writes nothing for an attribute already in the wanted state, and
nothing at all for a PATCH that changes nothing); plus what today's path would write back on
any update: an LDAP-only ``createOnly`` value still missing (``(homeDirectory=*)``), a
disable mark missing its partner (for the ``ppolicy`` and ``boolean`` strategies only enabled
entries qualify: ``(!(pwdAccountLockedTime=000001010000Z))``...; ``move`` writes nothing
back; other strategies keep today's path).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.directory import ldapfilter as lf
from gateway.directory.entry import Modification, ModOp
from gateway.errors import ScimError
from gateway.mapping import translate
from gateway.mapping.model import AttributeRule, Mapping, ResourceMapping
from gateway.mapping.slots import slot_of
from gateway.scim import compat
from gateway.scim.filter import Compare
from gateway.scim.limits import NO_LIMITS, PatchLimits
from gateway.scim.patch import PatchOperation, apply_patch
from gateway.scim.path import PatchPath
from gateway.scim.target import Target, resolve_target

SlotKey = tuple[str | None, str, str | None, str | None]
"""(extension URN or None, attribute, sub-attribute, type value), canonical names."""


@dataclass(frozen=True, slots=True)
class BlindWrite:
    """The modifications of a blind-safe PATCH and the guard that makes them exact."""

    modifications: tuple[Modification, ...]
    guard: lf.LdapFilter


class BlindPlanner:
    """Plans blind writes for one resource type (the rules are looked at once, here)."""

    def __init__(self, mapping: Mapping, rm: ResourceMapping) -> None:
        self.rm = rm
        self.rtype = rm.rtype
        standing = _standing_guards(rm)
        self.eligible = standing is not None
        self._standing: tuple[lf.LdapFilter, ...] = standing or ()
        self._rules: dict[SlotKey, AttributeRule] = (
            _safe_rules(mapping, rm) if self.eligible else {}
        )

    @property
    def safe_attributes(self) -> tuple[str, ...]:
        """The SCIM attributes a blind write may touch (for docs, logs and tests)."""
        return tuple(r.scim_text for r in self._rules.values())

    def plan(
        self, ident: str, operations: list[PatchOperation], limits: PatchLimits = NO_LIMITS
    ) -> BlindWrite | None:
        """The blind write for ``operations``, or None when today's path must decide.

        None also for a PATCH today's path would refuse (a bad value): that path then reads
        the entry first, so the client gets a 404 before a 400 exactly as it does today.
        """
        if not self.eligible or not operations:
            return None
        touched: dict[SlotKey, AttributeRule] = {}
        for operation in operations:
            for key in self._targets(operation):
                if key is None:
                    return None
                touched[key] = self._rules[key]
        # The values: the operations applied to an empty resource. For the accepted shapes
        # the result does not depend on the starting point, and values are checked and
        # coerced by the same engine today's path uses.
        empty = {"schemas": [self.rtype.schema.id], "id": ident}
        try:
            result = apply_patch(empty, operations, self.rtype, limits=limits)
        except ScimError:
            return None
        mods: list[Modification] = []
        guards: list[lf.LdapFilter] = list(self._standing)
        for rule in touched.values():
            value = translate.scim_value(result.resource, slot_of(rule, self.rm))
            if value is None or value == "":
                mods.append(Modification(rule.ldap.lower(), ModOp.REPLACE, ()))
                guards.append(lf.Present(rule.ldap))
                continue
            try:
                text = rule.converter.to_ldap(value)
            except ValueError:
                return None
            if "\x00" in text:
                return None
            mods.append(Modification(rule.ldap.lower(), ModOp.REPLACE, (text,)))
            guards.append(lf.Not(lf.Equal(rule.ldap, text)))
        mods.sort(key=lambda m: m.attr)
        return BlindWrite(tuple(mods), lf.conjunction(*guards))

    def _targets(self, operation: PatchOperation) -> list[SlotKey | None]:
        """The rule slot each assignment of ``operation`` writes; None where none is safe."""
        if operation.path is not None:
            pairs: list[tuple[PatchPath, Any]] = [(operation.path, operation.value)]
        else:
            try:
                pairs = compat.no_path_assignments(operation.value, self.rtype)
            except ScimError:
                return [None]
            if not pairs:
                return [None]
        return [self._target(operation.op, path, value) for path, value in pairs]

    def _target(self, op: str, path: PatchPath, value: Any) -> SlotKey | None:
        try:
            target = resolve_target(self.rtype, path)
        except ScimError:
            return None
        if op != "remove" and not isinstance(value, str):
            return None  # null, numbers, objects: today's path decides
        key = self._key(target)
        if key is None or key not in self._rules:
            return None
        if op == "remove" and key[3] is not None:
            return None  # removing an absent typed value is an error today: state-dependent
        return key

    def _key(self, t: Target) -> SlotKey | None:
        container = self.rtype.canonical_key(t.schema)
        if t.value_filter is None:
            if t.attr.multi_valued:
                return None
            return (container, t.attr.name, t.sub.name if t.sub else None, None)
        flt = t.value_filter
        if t.filter_sub is None or not isinstance(flt, Compare) or flt.op != "eq":
            return None
        if flt.path.schema is not None or flt.path.sub_attr is not None:
            return None
        if flt.path.attr.casefold() != "type" or not isinstance(flt.value, str):
            return None
        return (container, t.attr.name, t.filter_sub.name, flt.value)


def _standing_guards(rm: ResourceMapping) -> tuple[lf.LdapFilter, ...] | None:
    """What must hold of the stored entry for today's path to write nothing beyond the
    PATCH's own attributes; None when no guard can say it (blind writes are off)."""
    if rm.members is not None:
        return None  # group writes carry no assertion (slapd's memberof overlay)
    guards: list[lf.LdapFilter] = []
    for rule in rm.derived:
        if rule.allocate is not None:
            continue  # drawn on create only, never part of an update
        if rule.write != "createOnly":
            return None  # rewritten whenever the stored value differs from the rendering
        guards.append(lf.Present(rule.ldap))  # once set, never rewritten (changes.diff)
    if rm.disable is not None:
        own = rm.disable.blind_write_guards()
        if own is None:
            return None  # (bitmask: a stored word today's path may rewrite)
        guards.extend(own)
    return tuple(guards)


def _safe_rules(mapping: Mapping, rm: ResourceMapping) -> dict[SlotKey, AttributeRule]:
    reserved = {
        rm.rdn_attribute.lower(),
        rm.id_attribute.lower(),
        "objectclass",
        *(a.lower() for a in translate.meta_attributes(rm)),
    }
    if rm.disable is not None:
        reserved.update(a.lower() for a in rm.disable.read_attributes())
        reserved.update(a.lower() for a in rm.disable.written_attributes())
    for other in mapping.resources.values():
        if other.members is not None:
            reserved.add(other.members.ldap.lower())
            if other.members.member_of:
                reserved.add(other.members.member_of.lower())
    writers: dict[str, int] = {}
    for name in [r.ldap.lower() for r in rm.attributes] + [d.ldap.lower() for d in rm.derived]:
        writers[name] = writers.get(name, 0) + 1
    fields = [f.casefold() for r in rm.attributes for t in r.defaults for f in t.fields]
    fields += [f.casefold() for d in rm.derived for t in d.templates for f in t.fields]
    slots: dict[SlotKey, list[AttributeRule]] = {}
    untyped: set[tuple[str | None, str]] = set()
    for rule in rm.attributes:
        slot = slot_of(rule, rm)
        key = (slot.container, slot.attr, slot.sub, slot.type_value)
        slots.setdefault(key, []).append(rule)
        if slot.multi_valued and slot.type_value is None:
            untyped.add((slot.container, slot.attr))
    out: dict[SlotKey, AttributeRule] = {}
    for key, rules in slots.items():
        if len(rules) != 1:
            continue
        rule = rules[0]
        ldap = rule.ldap.lower()
        if ldap in reserved or writers.get(ldap, 0) != 1:
            continue
        if rule.write != "readWrite" or rule.reference or rule.defaults:
            continue
        if rule.converter.name != "string":
            continue  # a converter may not give back what it read (integer "007" → "7")
        container, attr, _, type_value = key
        top = (container or attr).casefold()
        if any(f.startswith(top) for f in fields):
            continue  # a template reads it: something else is derived from it
        if type_value is not None and (container, attr) in untyped:
            continue  # an untyped rule of the same attribute takes whichever value is first
        if _schema_allows(rm, key):
            out[key] = rule
    return out


def _schema_allows(rm: ResourceMapping, key: SlotKey) -> bool:
    """The SCIM side: a readWrite, optional string (and its parent readWrite and optional),
    of a shape handled here."""
    container, attr_name, sub_name, type_value = key
    schema = rm.rtype.schema if container is None else rm.rtype.schema_by_id(container)
    if schema is None:
        return False
    attr = rm.rtype.attribute(schema, attr_name)
    if attr is None or attr.mutability != "readWrite" or attr.required:
        return False
    if type_value is not None:
        if not (attr.multi_valued and attr.type == "complex") or sub_name is None:
            return False
    elif attr.multi_valued:
        return False
    if sub_name is None:
        return attr.type == "string"  # other types are coerced: "05" may come back as 5
    sub = attr.sub(sub_name)
    return (
        sub is not None
        and sub.mutability == "readWrite"
        and not sub.required
        and sub.type == "string"
    )
