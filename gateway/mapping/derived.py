"""Values the mapping derived (``default`` templates): which of them a read shows.

The gateway keeps no state, so a stored ``sn: jdoe`` may be a family name a client wrote or
the value derived because inetOrgPerson needs an sn. ``hide_unwritten`` decides for reads
(docs/mapping.md, "Derived values"); ``hide_derived`` prepares the state an update starts
from, so derived values follow their sources.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from gateway.mapping.model import AttributeRule, ResourceMapping, Template
from gateway.mapping.slots import slot_of, template_values


def hide_derived(
    rm: ResourceMapping, resource: dict[str, Any], attributes: Mapping[str, tuple[str, ...]]
) -> None:
    """Drop values equal to what their rule's defaults render from the rest of the resource.

    Used on the state an update starts from, never on what a client reads: a value that is
    still what its sources derive (``cn: Ann Lee`` from givenName and familyName, ``sn: jdoe``
    from userName) then follows its sources when a PATCH changes them and does not set it.
    The gateway keeps no state, so a client value that happens to equal the derivation is
    treated the same way; a request that sets the value always wins.
    """
    for rule in rm.attributes:
        if not rule.defaults or rule.reference:
            continue
        slot = slot_of(rule, rm)
        stored = attributes.get(rule.ldap.lower(), ())
        if not stored or slot.multi_valued:
            continue
        box = resource if slot.container is None else resource.get(slot.container)
        if not isinstance(box, dict):
            continue
        holder = box.get(slot.attr) if slot.sub is not None else box
        key = slot.sub if slot.sub is not None else slot.attr
        if not isinstance(holder, dict) or key not in holder:
            continue
        value = holder.pop(key)
        flat = template_values(resource)  # without this value; once per rule, not per template
        derived = next((r for t in rule.defaults if (r := t.render(flat))), None)
        if derived != stored[0]:
            holder[key] = value
        elif slot.sub is not None and not holder:
            box.pop(slot.attr, None)


def hide_unwritten(rm: ResourceMapping, resource: dict[str, Any]) -> None:
    """Leave out the parts of an attribute that no client wrote, as far as the values tell.

    A part is taken as derived, and left out, when it is what its defaults render with every
    part so taken left out — by a template naming only other attributes (a placeholder such
    as ``{userName}``), and no part that stays shown was derived from it. So Entra's
    ``formatted`` (givenName + " " + familyName, rendered from the name's own parts) is shown;
    a ``name`` of a user created with only a userName, or after ``remove name``, is absent; a
    familyName equal to the userName stays when ``formatted`` was built from it; and
    ``{givenName: "Ann"}`` reads back as written. The one write read back wrongly: a name
    whose parts all equal placeholders (userName "lee", ``name: {familyName: "lee"}`` alone);
    docs/mapping.md, "Derived values".
    """
    groups = zip(_groups(rm), _check_fields(rm), strict=True)  # one tuple of fields per group
    for ((container, attr), rules, defaulted), fields in groups:
        box = resource.get(container) if container else resource
        if not isinstance(box, dict) or attr not in box:
            continue
        held = box[attr]
        if defaulted:  # no part with defaults: nothing can be taken as derived
            parts: dict[str | None, Any] = held if isinstance(held, dict) else {None: held}
            for part in _derived_parts(resource, container, attr, parts, rules, fields):
                if part is None:
                    del box[attr]
                else:
                    del held[part]
        if isinstance(held, dict) and not held:
            del box[attr]
        if container and not box:
            del resource[container]
            resource["schemas"].remove(container)


Group = tuple[tuple[str | None, str], dict[str | None, AttributeRule], bool]


@functools.lru_cache(maxsize=64)  # per mapping (identity hash); a reload brings new ones
def _groups(rm: ResourceMapping) -> tuple[Group, ...]:
    """The single-valued attributes' rules by (container, attribute), part → rule, and
    whether any of them has defaults: the same for every read of ``rm``."""
    groups: dict[tuple[str | None, str], dict[str | None, AttributeRule]] = {}
    for rule in rm.attributes:
        slot = slot_of(rule, rm)
        if not (slot.multi_valued or slot.is_reference):
            groups.setdefault((slot.container, slot.attr), {})[slot.sub] = rule
    return tuple(
        (key, rules, any(r.defaults for r in rules.values())) for key, rules in groups.items()
    )


def _derived_parts(
    resource: dict[str, Any],
    container: str | None,
    attr: str,
    parts: dict[str | None, Any],
    rules: dict[str | None, AttributeRule],
    fields: tuple[str, ...] | None = None,
) -> set[str | None]:
    """The largest set of ``parts`` explained as derived (see ``hide_unwritten``).

    Most reads take none: that is settled first, without the walk (:func:`_none_taken`),
    from the few values its templates read (``fields``, see :func:`_check_fields`) when
    they can be had without flattening the whole resource.
    """
    inside = f"{container}.{attr}." if container else f"{attr}."
    if fields is None:
        few = template_values(resource)
    else:
        few = {f: v for f in fields if isinstance(v := resource.get(f), str)}
    if _none_taken(few, parts, rules, inside):
        return set()
    return _parts_walked(resource, container, attr, parts, rules, template_values(resource))


@functools.lru_cache(maxsize=64)  # per mapping (identity hash); a reload brings new ones
def _check_fields(rm: ResourceMapping) -> tuple[tuple[str, ...] | None, ...]:
    """For each of ``_groups(rm)``: the fields of the templates :func:`_none_taken` renders
    (each defaulted part's templates that do not name the attribute itself), or None when
    one has a dot.

    Why that is enough: ``_none_taken`` only renders those templates, and a template reads
    only its fields. For a field without a dot, ``template_values(resource)`` holds the
    resource's own top-level value when it is a string and nothing else (flattened keys of
    objects all have a dot): ``{f: resource[f]}`` for the string ones is all it would read.
    tests/unit/mapping/test_derived_shortcut.py holds reads with and without it alike.
    """
    out: list[tuple[str, ...] | None] = []
    for (container, attr), rules, _ in _groups(rm):
        inside = f"{container}.{attr}." if container else f"{attr}."
        fields = [
            f
            for rule in rules.values()
            if rule.defaults
            for template, own in _templates_with_own(rule, inside)
            if not own
            for f in template.fields
        ]
        dotted = any("." in f for f in fields)
        out.append(None if dotted else tuple(dict.fromkeys(fields)))
    return tuple(out)


def _none_taken(
    whole: Mapping[str, str],
    parts: dict[str | None, Any],
    rules: dict[str | None, AttributeRule],
    inside: str,
) -> bool:
    """True when no part can be taken as derived, so the walk would return an empty set.

    The walk renders a part's rule with some parts left out of ``whole`` (keys removed,
    values never changed), so what it gets is None or ``t.render(whole)`` for the first
    template ``t`` that renders; it drops the part at once when that differs from the part's
    value or ``t`` names a field of this attribute (``own``). A part can only stay if some
    template not naming the attribute renders its value from ``whole``; when no part has
    one, each is dropped the first time the walk looks at it, and the walk stops with
    nothing taken. The unit test of ``derived`` holds this to the walk's answers.
    """
    for part, value in parts.items():
        rule = rules.get(part)
        if rule is None or not rule.defaults:
            continue
        for template, own in _templates_with_own(rule, inside):
            if not own and template.render(whole) == value:
                return False
    return True


@functools.lru_cache(maxsize=1024)  # per rule (identity hash) and attribute: a handful
def _templates_with_own(rule: AttributeRule, inside: str) -> tuple[tuple[Template, bool], ...]:
    """``rule``'s default templates, each with whether it names a field ``inside`` the
    attribute (a dotted prefix, compared without case), as ``_render`` decides it."""
    lowered = inside.lower()
    return tuple((t, any(f.lower().startswith(lowered) for f in t.fields)) for t in rule.defaults)


def _parts_walked(
    resource: dict[str, Any],
    container: str | None,
    attr: str,
    parts: dict[str | None, Any],
    rules: dict[str | None, AttributeRule],
    whole: dict[str, str],
) -> set[str | None]:
    """The walk of :func:`_derived_parts` (``whole``: the resource's template values)."""
    inside = f"{container}.{attr}." if container else f"{attr}."
    # The resource does not change while this runs, and the passes render the same rules with
    # the same parts left out again and again: flatten the resource once, take a left-out
    # set's keys out of that flat (what flattening the resource without them gives), and
    # render each (rule, left-out set) once.
    flats: dict[frozenset[str | None], dict[str, str]] = {}
    renders: dict[tuple[int, frozenset[str | None]], tuple[str | None, bool]] = {}

    def flat_without(left_out: frozenset[str | None]) -> dict[str, str]:
        if (flat := flats.get(left_out)) is None:
            gone = _flat_keys(resource, container, attr, left_out)
            flat = flats[left_out] = (
                {k: v for k, v in whole.items() if k not in gone} if gone else whole
            )
        return flat

    def render(rule: AttributeRule, left_out: frozenset[str | None]) -> tuple[str | None, bool]:
        """What ``rule``'s defaults give with ``left_out`` absent, and whether the template
        that gave it names a part of this attribute (then it is the attribute's own value)."""
        key = (id(rule), left_out)
        if (done := renders.get(key)) is None:
            done = renders[key] = _render(rule, flat_without(left_out), inside)
        return done

    taken = {p for p in parts if (r := rules.get(p)) is not None and r.defaults}
    changed = True
    while changed:
        changed = False
        for part in sorted(taken, key=str):
            value, own = render(rules[part], frozenset(taken))
            if value != parts[part] or own:
                taken.discard(part)
                changed = True
        if not taken:  # the usual read: all shown (nothing is left to un-take below)
            break
        for part in parts.keys() - taken:
            rule = rules.get(part)
            if rule is None or not rule.defaults:
                continue
            # a shown part that is what its defaults give only with some taken part present
            # was derived (or written) from it: that part was there, so it was written
            with_all, _ = render(rule, frozenset((part,)))
            without, _ = render(rule, frozenset(taken | {part}))
            if with_all == parts[part] and without != parts[part]:
                fields = _template_fields(rule, flat_without(frozenset((part,))))
                used = {p for p in taken if f"{inside}{p}".lower() in fields}
                if used:
                    taken -= used
                    changed = True
    return taken


def _render(rule: AttributeRule, flat: Mapping[str, str], inside: str) -> tuple[str | None, bool]:
    """The first value ``rule``'s defaults render from ``flat``, and whether that template
    names a field ``inside`` the attribute (a dotted prefix, compared without case)."""
    for template in rule.defaults:
        if (value := template.render(flat)) is not None:
            lowered = inside.lower()
            return value, any(f.lower().startswith(lowered) for f in template.fields)
    return None, False


def _flat_keys(
    resource: dict[str, Any], container: str | None, attr: str, parts: frozenset[str | None]
) -> set[str]:
    """The keys :func:`template_values` gives for ``parts`` of ``attr`` (``None``: the whole
    attribute): what leaving those parts out of ``resource`` takes out of its flat form."""
    box = resource.get(container) if container else resource
    if not isinstance(box, Mapping) or attr not in box:
        return set()
    held = box[attr]
    prefix = f"{container}.{attr}" if container else attr
    if container:  # flattening goes one level down: only a string attribute has a key
        return {prefix} if None in parts and isinstance(held, str) else set()
    if isinstance(held, str):
        return {prefix} if None in parts else set()
    if not isinstance(held, Mapping) or not (None in parts or isinstance(held, dict)):
        return set()
    return {
        f"{prefix}.{k}"
        for k, v in held.items()
        if isinstance(v, str) and (None in parts or k in parts)
    }


def _template_fields(rule: AttributeRule, flat: Mapping[str, str]) -> set[str]:
    """The (lower-case) fields of the first of ``rule``'s templates that renders from ``flat``."""
    for template in rule.defaults:
        if template.render(flat) is not None:
            return {f.lower() for f in template.fields}
    return set()
