"""Where a PATCH operation points, and the rules every change must respect.

Does: resolve a ``PatchPath`` against a resource type into a ``Target`` (``InvalidPath`` for
anything unknown or misplaced), and check one change against mutability (RFC 7643 §2.2)
and required attributes (RFC 7644 §3.5.2.2).
Does not: change anything (``edit.ResourceEditor`` does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.errors import InvalidPath, Mutability
from gateway.scim.filter import Filter, format_filter
from gateway.scim.match import check_value_filter
from gateway.scim.path import PatchPath
from gateway.scim.schema import Attribute, ResourceType, Schema


@dataclass(frozen=True, slots=True)
class Target:
    """A resolved PATCH target: ``attr``, or ``attr.sub``, or ``attr[filter].filter_sub``."""

    schema: Schema
    attr: Attribute
    attr_label: str  # canonical, URN-qualified for extension attributes
    sub: Attribute | None = None
    value_filter: Filter | None = None
    filter_sub: Attribute | None = None

    @property
    def label(self) -> str:
        """The target as it appears in error details, in canonical case."""
        if self.value_filter is not None:
            tail = "" if self.filter_sub is None else f".{self.filter_sub.name}"
            return f"{self.attr_label}[{format_filter(self.value_filter)}]{tail}"
        return self.attr_label if self.sub is None else f"{self.attr_label}.{self.sub.name}"


_TARGETS: dict[tuple[int, PatchPath], tuple[ResourceType, Target]] = {}
_TARGETS_BOUND = 1024  # (type, path) pairs: a few dozen in practice; a full memo starts over


def resolve_target(rtype: ResourceType, path: PatchPath) -> Target:
    """Check ``path`` against the schema (``InvalidPath`` for anything unknown or misplaced).

    Remembered per (type, path): both are frozen all the way down, so the answer is the
    one worked out the first time (errors are raised anew: not remembered). A PATCH
    resolves each path once or twice (``members`` of every member add). The type is keyed
    by identity and kept in the value, so a key never outlives the type it names;
    tests/unit/scim/test_target_memo.py holds the memo to :func:`_resolve`."""
    try:
        key = (id(rtype), path)
        known = _TARGETS.get(key)
    except TypeError:  # a filter holding something unhashable: not remembered
        return _resolve(rtype, path)
    if known is not None and known[0] is rtype:
        return known[1]
    target = _resolve(rtype, path)
    if len(_TARGETS) >= _TARGETS_BOUND:
        _TARGETS.clear()
    _TARGETS[key] = (rtype, target)
    return target


def _resolve(rtype: ResourceType, path: PatchPath) -> Target:
    schema, attr, sub = rtype.resolve(path.attr)
    key = rtype.canonical_key(schema)
    attr_label = attr.name if key is None else f"{key}:{attr.name}"
    if path.value_filter is None:
        if sub is not None and attr.multi_valued:
            raise InvalidPath(
                f"'{attr.name}.{sub.name}' would address every value of '{attr.name}': select"
                f' values with a filter, e.g. {attr.name}[type eq "work"].{sub.name}'
            )
        return Target(schema, attr, attr_label, sub)
    if not (attr.multi_valued and attr.type == "complex"):
        raise InvalidPath(f"'{attr_label}' is not multi-valued and complex: it takes no filter")
    check_value_filter(path.value_filter, attr)
    filter_sub = None
    if path.sub_attr is not None:
        filter_sub = attr.sub(path.sub_attr)
        if filter_sub is None:
            raise InvalidPath(f"unknown sub-attribute '{path.sub_attr}' of '{attr_label}'")
    return Target(schema, attr, attr_label, None, path.value_filter, filter_sub)


def check_change(attr: Attribute, label: str, old: Any, new: Any) -> None:
    """Mutability (RFC 7643 §2.2) and required (RFC 7644 §3.5.2.2) rules for one change.

    Writing the value already there is no change and always allowed, except that a
    read-only attribute cannot be targeted while it has no value.
    """
    if old == new and not (attr.mutability == "readOnly" and old is None):
        return
    if attr.mutability == "readOnly":
        raise Mutability(f"'{label}' is read-only")
    if attr.mutability == "immutable" and old is not None:
        raise Mutability(f"'{label}' is immutable: it can be set once, not changed or removed")
    if new is None and attr.required:
        raise Mutability(f"'{label}' is required and cannot be removed")
