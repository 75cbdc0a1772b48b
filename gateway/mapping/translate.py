"""SCIM resource dicts ⇄ LDAP attribute images, driven only by a ResourceMapping.

``to_resource`` turns an entry into the SCIM form; ``to_image`` turns a SCIM resource into
the LDAP attributes (plus RDN value and parent DN) it should have. Both are pure: DN ⇄ id
resolution for references is done by the caller, which passes the answers in. Updates are
computed as the difference of two images (``changes.py``), so one set of rules serves create,
replace and patch.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.directory import dn as dnlib
from gateway.errors import InvalidValue
from gateway.mapping import derived, placement
from gateway.mapping.converters import generalized_time_to_iso
from gateway.mapping.model import AttributeRule, DerivedRule, ResourceMapping
from gateway.mapping.slots import Slot, is_mapping, slot_of, template_values
from gateway.mapping.unmapped import unmapped_attributes as unmapped_attributes
from gateway.mapping.unresolved import Unresolved

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Image:
    """What an entry should look like in LDAP: where it lives and its managed attributes."""

    rdn_value: str
    parent_dn: str
    attributes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # lower-case names

    @property
    def dn(self) -> str:
        return dnlib.child_dn(self.rdn_attribute, self.rdn_value, self.parent_dn)

    rdn_attribute: str = "cn"


# ---------------------------------------------------------------------------- LDAP → SCIM


def read_attributes(rm: ResourceMapping, *, members: bool = False) -> list[str]:
    """The LDAP attributes a read must request to build the resource (no more)."""
    return list(_read_attributes(rm, members))


@functools.lru_cache(maxsize=128)  # per mapping (identity hash); a reload brings new ones
def _read_attributes(rm: ResourceMapping, members: bool) -> tuple[str, ...]:
    names = [rm.id_attribute, *rm.directory.meta_attributes]
    names += [r.ldap for r in rm.attributes]
    names += [r.ldap for r in rm.derived if r.allocate is None]  # to compare on update
    if rm.disable is not None:
        names += rm.disable.read_attributes()
    if members and rm.members is not None:
        names.append(rm.members.ldap)
    return tuple(dict.fromkeys(names))


def reference_dns(rm: ResourceMapping, entry_attributes: Mapping[str, tuple[str, ...]]) -> set[str]:
    """DN values of reference rules in an entry (the caller resolves them to ids)."""
    out: set[str] = set()
    for rule in rm.attributes:
        if rule.reference:
            out.update(entry_attributes.get(rule.ldap.lower(), ()))
    return out


def to_resource(
    rm: ResourceMapping,
    dn: str,
    attributes: Mapping[str, tuple[str, ...]],
    ids_by_dn: Mapping[str, tuple[str, str] | Unresolved],
    *,
    hide_derived: bool = False,
) -> dict[str, Any]:
    """The SCIM resource for an entry. ``ids_by_dn``: normalized DN → (resource type, id),
    or the :class:`Unresolved` stand-in an update keeps for it.

    A client reads back what it wrote (Entra compares what it reads with what it would send,
    entra-scim.md §10), including values equal to what the mapping would derive; only an
    attribute made entirely of derived values is left out (``derived.hide_unwritten``).
    ``hide_derived`` is for the "before" state of an update only (``derived.hide_derived``).
    """
    resource: dict[str, Any] = {"schemas": [rm.rtype.schema.id]}
    ident = _first(attributes, rm.id_attribute)
    if ident is not None:
        resource["id"] = ident
    for rule, key, slot, plain in _read_plan(rm):
        values = attributes.get(key)
        if not values:
            continue
        if plain:  # what _put does with a plain slot: the value at the top, as it is
            try:
                resource[slot.attr] = rule.converter.to_scim(values[0])
            except ValueError:
                log.warning("%s: cannot convert %s value for %s", dn, rule.ldap, rule.scim_text)
            continue
        if slot.is_reference:
            refs = [ids_by_dn.get(placement.normalized(v)) for v in values]
            items = [_reference(rm, r) for r in refs if r]
            if slot.multi_valued:
                if items:
                    _container(resource, slot)[slot.attr] = items
            elif items:
                _container(resource, slot)[slot.attr] = items[0]
            continue
        try:
            value = rule.converter.to_scim(values[0])
        except ValueError:
            log.warning("%s: cannot convert %s value for %s", dn, rule.ldap, rule.scim_text)
            continue
        _put(resource, slot, value, primary=rule.primary)
    if hide_derived:
        derived.hide_derived(rm, resource, attributes)
    else:
        derived.hide_unwritten(rm, resource)
    if rm.disable is not None:
        resource["active"] = not rm.disable.is_disabled(dn, attributes)
    resource["meta"] = _meta(rm, attributes)
    return resource


@functools.lru_cache(maxsize=64)  # per mapping (identity hash); a reload brings new ones
def _read_plan(rm: ResourceMapping) -> tuple[tuple[AttributeRule, str, Slot, bool], ...]:
    """Each rule with its lower-case LDAP name, its slot and whether that slot is plain (a
    core, single-valued attribute without sub-attribute, not a reference: ``title``), whose
    value ``to_resource`` sets at the top as ``_put`` would: the same for every read."""
    plan = []
    for rule in rm.attributes:
        slot = slot_of(rule, rm)
        plain = not (slot.is_reference or slot.multi_valued) and slot.sub is slot.container is None
        plan.append((rule, rule.ldap.lower(), slot, plain))
    return tuple(plan)


def _meta(rm: ResourceMapping, attributes: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    meta: dict[str, Any] = {"resourceType": rm.name}
    created = _first(attributes, "createtimestamp")  # lower-case already: no lower() per read
    modified = _first(attributes, "modifytimestamp")
    if created:
        meta["created"] = generalized_time_to_iso(created)
    if modified:  # equal to created on an entry never modified since (every create's)
        meta["lastModified"] = (
            meta["created"] if modified == created else generalized_time_to_iso(modified)
        )
    etag = version(rm, attributes)
    if etag:
        meta["version"] = etag
    return meta


def identity(rm: ResourceMapping, attributes: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    """The resource's ``schemas``, ``id``, ``meta.resourceType`` and ``meta.version`` alone,
    as ``to_resource`` gives them: what an answer without a body needs (a group PATCH's 204
    carries the ETag); the timestamps, which only a body shows, are not converted."""
    resource: dict[str, Any] = {"schemas": [rm.rtype.schema.id]}
    ident = _first(attributes, rm.id_attribute)
    if ident is not None:
        resource["id"] = ident
    resource["meta"] = meta = {"resourceType": rm.name}
    etag = version(rm, attributes)
    if etag:
        meta["version"] = etag
    return resource


def images_follow_resource(rm: ResourceMapping) -> bool:
    """Is ``to_image`` of a resource the same whatever ``stored`` holds?

    So when the mapping has no LDAP-only rule that renders (constants, templates: the
    "before" image takes their stored values) and no disable strategy (which writes back a
    stored mark): then two equal resources have equal images, and an update that leaves
    the resource as it was (a PATCH of member deltas only) has nothing to diff.
    """
    return not _write_plan(rm)[0] and rm.disable is None


def meta_attributes(rm: ResourceMapping) -> tuple[str, ...]:
    """What to read back after a write for ``meta`` (the directory's version attribute too)."""
    return rm.directory.meta_attributes


def version(rm: ResourceMapping, attributes: Mapping[str, tuple[str, ...]]) -> str | None:
    """``meta.version``: a weak ETag over the directory's version attribute (entryCSN on
    OpenLDAP), which changes on every write to the entry; None when it has none."""
    return rm.directory.version(attributes)


def _reference(rm: ResourceMapping, ref: tuple[str, str] | Unresolved) -> dict[str, Any]:
    """A reference's SCIM value: ``{value: id, $ref}``, or the stand-in an update keeps."""
    if isinstance(ref, Unresolved):
        return {"value": ref}
    return {"value": ref[1], "$ref": f"{_endpoint(rm, ref[0])}/{ref[1]}"}


def _endpoint(rm: ResourceMapping, resource_type: str) -> str:
    """``Users`` for User: the path of a ``$ref``, from the mapping's registry."""
    return rm.registry.path_of(resource_type)


def _container(resource: dict[str, Any], slot: Slot) -> dict[str, Any]:
    if slot.container is None:
        return resource
    if slot.container not in resource["schemas"]:
        resource["schemas"].append(slot.container)
    return resource.setdefault(slot.container, {})


def _put(resource: dict[str, Any], slot: Slot, value: Any, *, primary: bool) -> None:
    box = _container(resource, slot)
    if slot.multi_valued:
        items: list[dict[str, Any]] = box.setdefault(slot.attr, [])
        item = _typed_item(items, slot.type_value)
        if item is None:
            item = {}
            items.append(item)
        item[slot.sub or "value"] = value
        if slot.type_value is not None:
            item.setdefault("type", slot.type_value)
        if primary:
            item["primary"] = True
    elif slot.sub is not None:
        box.setdefault(slot.attr, {})[slot.sub] = value
    else:
        box[slot.attr] = value


def _typed_item(items: list[dict[str, Any]], type_value: str | None) -> dict[str, Any] | None:
    """The value of ``type_value`` already built from another rule: one object per type.

    ``addresses[type eq "work"].streetAddress`` and ``.locality`` fill the same work address
    (RFC 7643 §2.4: a complex multi-valued attribute's value carries its sub-attributes).
    Untyped rules each give a value of their own.
    """
    if type_value is None:
        return None
    folded = type_value.casefold()
    for item in items:
        kind = item.get("type")
        if isinstance(kind, str) and kind.casefold() == folded:
            return item
    return None


# ---------------------------------------------------------------------------- SCIM → LDAP


def scim_value(resource: Mapping[str, Any], slot: Slot) -> Any:
    """The value a rule's slot holds in a SCIM resource dict, or None."""
    box = resource.get(slot.container, {}) if slot.container else resource
    if not is_mapping(box):
        return None
    raw = box.get(slot.attr)
    if raw is None:
        return None
    if slot.multi_valued:
        items = raw if isinstance(raw, list) else [raw]
        if slot.is_reference:
            return [i.get("value") if is_mapping(i) else i for i in items]
        for item in items:
            if not is_mapping(item):
                continue
            kind = item.get("type")
            if slot.type_value is None or (
                isinstance(kind, str) and kind.lower() == slot.type_value.lower()
            ):
                return item.get(slot.sub or "value")
        return None
    if slot.sub is not None:
        return raw.get(slot.sub) if is_mapping(raw) else None
    if slot.is_reference and is_mapping(raw):
        return raw.get("value")
    return raw


def to_image(
    rm: ResourceMapping,
    resource: Mapping[str, Any],
    dns_by_id: Mapping[str, str],
    *,
    current_dn: str | None = None,
    stored: Mapping[str, tuple[str, ...]] | None = None,
) -> Image:
    """The LDAP attributes ``resource`` maps to. ``dns_by_id``: referenced id → DN.

    LDAP-only rules (constants, templates) render from ``resource``; with ``stored`` (the
    entry's attributes, for the "before" image of an update) they take the stored values
    instead, so an update rewrites them exactly when the stored value is not what the rule
    says. Allocated numbers are never part of an image: they are drawn on create only.
    """
    attrs: dict[str, tuple[str, ...]] = {}
    flat: dict[str, str] | None = None  # template_values(resource), made when first needed
    derived_rules, rules = _write_plan(rm)
    for ldap_only, key in derived_rules:
        if stored is not None:
            produced = tuple(stored.get(key, ()))
        else:
            if flat is None:
                flat = template_values(resource)
            try:
                produced = ldap_only.render(flat)
            except ValueError as err:
                raise InvalidValue(f"{ldap_only.ldap}: {err}") from None
        if produced and "\x00" in "".join(produced):  # a NUL in any value (one character)
            raise InvalidValue(f"{ldap_only.ldap}: NUL characters are not allowed")
        if produced:
            attrs[key] = produced
    for rule, key, slot, plain, top in rules:
        # a plain slot's value is the resource's own (what scim_value gives for it);
        # ``scim_value`` is None when the slot's top-level key (its extension's URN, or its
        # attribute) is absent or null: most of a user's rules (phones, addresses, the
        # enterprise extension) are settled by that one look (``top`` None: always ask)
        if plain:
            value = resource.get(top)
        elif top is None or resource.get(top) is not None:
            value = scim_value(resource, slot)
        else:
            value = None
        if value is None and not rule.defaults:
            continue  # the branches below would make no value of it
        values: list[str] = []
        if slot.is_reference:
            ids = value if isinstance(value, list) else ([value] if value else [])
            for ident in ids:
                if isinstance(ident, Unresolved):  # kept as read: its DN goes back
                    values.append(ident.dn)
                    continue
                if ident not in dns_by_id:
                    raise InvalidValue(
                        f"{rule.scim_text}: no {'/'.join(rule.reference)} with id {ident!r}"
                    )
                values.append(dns_by_id[ident])
        elif value is not None and value != "":
            try:
                values.append(rule.converter.to_ldap(value))
            except ValueError as err:
                raise InvalidValue(f"{rule.scim_text}: {err}") from None
        else:
            if flat is None:
                flat = template_values(resource)
            for template in rule.defaults:
                rendered = template.render(flat)
                if rendered:
                    values.append(rendered)
                    break
        if not values:
            continue
        # one value (the usual case) is its own join, and alone under a new key it has no
        # duplicate to drop: the same checks and tuple as the general lines, less work
        single = len(values) == 1
        if "\x00" in (values[0] if single else "".join(values)):
            raise InvalidValue(f"{rule.scim_text}: NUL characters are not allowed")
        prior = attrs.get(key)
        if single and prior is None:
            attrs[key] = (values[0],)
        else:
            attrs[key] = tuple(dict.fromkeys((prior or ()) + tuple(values)))
    parent = rm.base_dn
    if current_dn is not None:
        parent = dnlib.parent(current_dn)
    if rm.disable is not None:
        active = resource.get("active", True)
        if not isinstance(active, bool):
            raise InvalidValue("active must be a boolean")
        parent = rm.disable.image(active, attrs, parent, rm.base_dn)
        if stored is not None:
            rm.disable.as_stored(stored, attrs, active)  # e.g. a lost mark is written back
    rdn_values = attrs.get(rm.rdn_attribute.lower(), ())
    if not rdn_values:
        naming = rm.rdn_rule.scim_text
        raise InvalidValue(f"{naming} is required")
    return Image(rdn_values[0], parent, attrs, rm.rdn_attribute)


WritePlan = tuple[
    tuple[tuple[DerivedRule, str], ...],
    tuple[tuple[AttributeRule, str, Slot, bool, str | None], ...],
]


@functools.lru_cache(maxsize=64)  # per mapping (identity hash); a reload brings new ones
def _write_plan(rm: ResourceMapping) -> WritePlan:
    """What ``to_image`` walks, the same for every write: the LDAP-only rules it renders (not
    the allocated ones) and the rules it writes (not ``readOnly``/``ignore``), in mapping
    order, each with its lower-case LDAP name (and slot, whether it is plain: see
    ``_read_plan``, ``scim_value`` of a plain slot is ``resource.get(slot.attr)``; and the
    resource's top-level key the slot's value sits under)."""
    derived_rules = tuple((d, d.ldap.lower()) for d in rm.derived if d.allocate is None)
    plain = {id(rule): is_plain for rule, _, _, is_plain in _read_plan(rm)}
    rules = []
    for rule in rm.attributes:
        if rule.write in ("readOnly", "ignore"):
            continue
        slot = slot_of(rule, rm)
        top = slot.container if slot.container is not None else slot.attr
        rules.append((rule, rule.ldap.lower(), slot, plain[id(rule)], top))
    return derived_rules, tuple(rules)


def _first(attributes: Mapping[str, tuple[str, ...]], name: str) -> str | None:
    values = attributes.get(name.lower(), ())
    return values[0] if values else None
