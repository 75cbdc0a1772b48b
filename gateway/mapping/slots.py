"""Where a mapping rule's value sits in a SCIM resource dict, and template fields of a resource.

Shared by translation (``translate``), reads of derived values (``derived``) and the unmapped
check (``unmapped``); ``translate`` re-exports both names.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.mapping.model import AttributeRule, ResourceMapping


@dataclass(frozen=True, slots=True)
class Slot:
    """Where a rule's value sits in a SCIM resource dict, with canonical names."""

    container: str | None  # extension URN key, or None for core attributes
    attr: str
    sub: str | None  # sub-attribute (``givenName``; ``value`` for typed multi-valued)
    type_value: str | None  # ``work`` in ``emails[type eq "work"].value``
    multi_valued: bool
    is_reference: bool


@functools.cache
def slot_of(rule: AttributeRule, rm: ResourceMapping) -> Slot:
    schema, attribute, sub = rm.rtype.resolve(rule.scim.attr)
    container = rm.rtype.canonical_key(schema)
    sub_name = sub.name if sub else None
    if rule.scim.sub_attr:
        found = attribute.sub(rule.scim.sub_attr)
        sub_name = found.name if found else rule.scim.sub_attr
    return Slot(
        container=container,
        attr=attribute.name,
        sub=sub_name,
        type_value=rule.type_value,
        multi_valued=attribute.multi_valued,
        is_reference=bool(rule.reference),
    )


def is_mapping(value: object) -> bool:
    """``isinstance(value, Mapping)``, a dict (yes) and a JSON scalar or list (no) answered
    before the ABC's machinery (the same answers: every dict is a Mapping, and none of those
    built-in types is one or can be made one). Reads and writes ask it of each value they
    walk; a resource's ``schemas`` and multi-valued attributes are lists."""
    kind = type(value)
    return kind is dict or (kind not in _NEVER_MAPPINGS and isinstance(value, Mapping))


_NEVER_MAPPINGS = frozenset({list, str, int, float, bool, type(None)})


def template_values(resource: Mapping[str, Any]) -> dict[str, str]:
    """Dotted paths → string values, for default templates (``{name.givenName}``)."""
    flat: dict[str, str] = {}
    for key, value in resource.items():
        if isinstance(value, str):
            flat[key] = value
        elif is_mapping(value):
            for sub, v in value.items():
                if isinstance(v, str):
                    flat[f"{key}.{sub}"] = v
    return flat
