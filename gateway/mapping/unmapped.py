"""SCIM values in a resource that no mapping rule stores (the ``unmapped`` policy's input).

``ignore`` logs these names, ``reject`` refuses the request naming them (the provisioning
service decides); this module only finds them, down to one value of a multi-valued attribute.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.mapping.model import ResourceMapping
from gateway.mapping.slots import is_mapping, slot_of

IGNORED_KEYS = frozenset({"schemas", "id", "meta"})


def unmapped_attributes(rm: ResourceMapping, resource: Mapping[str, Any]) -> list[str]:
    """SCIM attributes with values in ``resource`` that no rule writes (for ``unmapped``).

    Values of multi-valued attributes are looked at one by one: a value of a type no rule
    maps (``phoneNumbers[type eq "fax"]`` when only work and mobile are mapped), or a
    sub-attribute no rule maps for its type (``addresses[type eq "work"].country``), is
    named, so ``unmapped: reject`` refuses it and ``ignore`` logs exactly what it dropped.
    """
    covered, typed = _coverage(rm)
    out: list[str] = []

    def visit(container: str | None, box: Mapping[str, Any]) -> None:
        for key, value in box.items():
            if _empty(value) or (container is None and key in IGNORED_KEYS):
                continue
            if container is None and key.startswith("urn:") and is_mapping(value):
                visit(key, value)
                continue
            k = key.lower()
            if (container, k, None) in covered:
                continue
            kinds = typed.get((container, k))
            if kinds is not None:
                items = value if isinstance(value, list) else [value]
                out.extend(_unmapped_values(key, items, kinds))
            elif is_mapping(value):
                for sub, v in value.items():
                    if not _empty(v) and (container, k, sub) not in covered:
                        out.append(f"{key}.{sub}")
            else:
                out.append(key)

    visit(None, resource)
    return list(dict.fromkeys(out))


Covered = frozenset[tuple[str | None, str, str | None]]
Typed = dict[tuple[str | None, str], dict[str | None, "_TypedSubs"]]


@functools.lru_cache(maxsize=64)  # per mapping (identity hash); read, never changed, by callers
def _coverage(rm: ResourceMapping) -> tuple[Covered, Typed]:
    """What ``rm``'s rules store: (container, attribute, sub) of single values, and per
    multi-valued attribute its types' sub-attributes; the same for every request."""
    covered: set[tuple[str | None, str, str | None]] = set()
    typed: Typed = {}
    for rule in rm.attributes:
        slot = slot_of(rule, rm)
        if slot.multi_valued and not slot.is_reference:
            kinds = typed.setdefault((slot.container, slot.attr.lower()), {})
            kind = slot.type_value.casefold() if slot.type_value is not None else None
            subs = kinds.setdefault(kind, _TypedSubs())
            subs.names.add((slot.sub or "value").casefold())
            subs.primary |= rule.primary
            continue
        covered.add((slot.container, slot.attr.lower(), None if slot.multi_valued else slot.sub))
    if rm.disable is not None:
        covered.add((None, "active", None))
    if rm.members is not None:
        covered.add((None, "members", None))
    return frozenset(covered), typed


@dataclass(slots=True)
class _TypedSubs:
    """What the rules of one type of a multi-valued attribute store: sub-attributes, primary."""

    names: set[str] = field(default_factory=set)
    primary: bool = False


def _unmapped_values(
    key: str, items: list[Any], kinds: Mapping[str | None, _TypedSubs]
) -> list[str]:
    out: list[str] = []
    used: list[_TypedSubs] = []  # each rule group stores one value: the first that fits it
    for item in items:
        if not is_mapping(item):
            continue  # the SCIM layer has refused non-objects already
        kind = item.get("type")
        folded = kind.casefold() if isinstance(kind, str) and kind else None
        subs = kinds.get(folded) if folded is not None else None
        if subs is None:
            subs = kinds.get(None)  # an untyped rule (emails.value) takes values of any type
        label = f"{key}[type eq {json.dumps(kind)}]" if folded else f"{key} (a value without type)"
        if subs is None:
            out.append(label)
            continue
        if any(u is subs for u in used):
            out.append(f"{label} (a second value: one is stored per type)")
            continue
        used.append(subs)
        for sub, v in item.items():
            s = sub.casefold()
            if _empty(v) or s in ("type", "primary"):
                continue  # primary says which value is preferred; it holds no data to store
            if s not in subs.names:
                out.append(f"{label}.{sub}")
    return out


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and not value)
