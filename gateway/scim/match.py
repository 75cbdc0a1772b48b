"""Value filters of PATCH paths: check them against the schema and evaluate them in memory.

A value filter (``emails[type eq "work"]``, RFC 7644 §3.5.2) selects values of one
multi-valued complex attribute; its paths name that attribute's sub-attributes. This module
checks those names, evaluates the filter against one value (a dict), and recognises the two
shapes the PATCH engine treats specially: equality templates (``type eq "work"`` → the value
to create when nothing matches) and identity filters (``value eq "id"``, possibly or-ed).

Does not: search resources (the directory does), or evaluate filters across resources.
"""

from __future__ import annotations

from typing import Any

from gateway.errors import InvalidPath, ScimError
from gateway.scim.filter import And, Compare, Filter, Not, Or, Present, ValuePath
from gateway.scim.schema import Attribute
from gateway.scim.values import coerce_simple


def check_value_filter(flt: Filter, attr: Attribute, error: type[ScimError] = InvalidPath) -> None:
    """Every path in ``flt`` must name a simple sub-attribute of ``attr`` (RFC 7644 §3.5.2)."""
    for node in _leaves(flt):
        if isinstance(node, ValuePath):  # the parser already refuses nested brackets
            raise error(f"value filters of '{attr.name}' cannot be nested")
        name = node.path.attr
        sub = attr.sub(name)
        if sub is None:
            raise error(f"unknown sub-attribute '{name}' of '{attr.name}' in the value filter")
        if sub.type == "complex":
            raise error(f"'{attr.name}.{sub.name}' is complex and cannot be compared")


def value_matches(flt: Filter, value: Any, attr: Attribute) -> bool:
    """Does one value of ``attr`` match ``flt`` (RFC 7644 §3.4.2.2 semantics)?"""
    if isinstance(flt, And):
        return value_matches(flt.left, value, attr) and value_matches(flt.right, value, attr)
    if isinstance(flt, Or):
        return value_matches(flt.left, value, attr) or value_matches(flt.right, value, attr)
    if isinstance(flt, Not):
        return not value_matches(flt.inner, value, attr)
    if isinstance(flt, ValuePath):
        return False
    actual, case_exact = _sub_value(value, attr, flt.path.attr)
    if isinstance(flt, Present):
        return actual not in (None, "", [], {})
    return compare(flt.op, actual, flt.value, case_exact=case_exact)


def compare(op: str, actual: Any, expected: Any, *, case_exact: bool) -> bool:
    """One comparison; strings compare case-insensitively unless ``case_exact``.

    Values of different JSON types never match (``primary eq "true"`` does not match
    ``primary: true``), except that ``ne`` is then true.
    """
    if op == "eq":
        return _equal(actual, expected, case_exact)
    if op == "ne":
        return not _equal(actual, expected, case_exact)
    if actual is None or isinstance(actual, bool) or isinstance(expected, bool):
        return False
    if isinstance(actual, str) and isinstance(expected, str):
        if not case_exact:
            actual, expected = actual.casefold(), expected.casefold()
        if op == "co":
            return expected in actual
        if op == "sw":
            return actual.startswith(expected)
        if op == "ew":
            return actual.endswith(expected)
    elif not (isinstance(actual, int | float) and isinstance(expected, int | float)):
        return False
    if op == "gt":
        return actual > expected
    if op == "ge":
        return actual >= expected
    if op == "lt":
        return actual < expected
    if op == "le":
        return actual <= expected
    return False


def equality_template(flt: Filter, attr: Attribute) -> dict[str, Any] | None:
    """``type eq "work" and primary eq true`` → ``{"type": "work", "primary": True}``.

    The sub-attribute values a new value needs in order to match ``flt``, when ``flt`` is
    made only of ``eq`` comparisons joined by ``and``; otherwise ``None``. Used to create the
    value a filtered ``add``/``replace`` targets when none exists yet (Entra, entra-scim.md §4).
    """
    if isinstance(flt, And):
        left = equality_template(flt.left, attr)
        right = equality_template(flt.right, attr)
        if left is None or right is None:
            return None
        for key in left.keys() & right.keys():
            if left[key] != right[key]:
                return None
        return {**left, **right}
    if isinstance(flt, Compare) and flt.op == "eq" and flt.value is not None:
        sub = attr.sub(flt.path.attr)
        if sub is None:
            return None
        try:
            return {sub.name: coerce_simple(sub, flt.value, f"{attr.name}.{sub.name}")}
        except ScimError:
            return None
    return None


def identity_values(flt: Filter, attr: Attribute) -> list[str] | None:
    """``value eq "a" or value eq "b"`` → ``["a", "b"]``; any other shape → ``None``.

    Such filters name values by identity, so removing them is idempotent: a value that is
    not there is already removed (architecture: "already in the wanted state" is success).
    """
    if isinstance(flt, Or):
        left = identity_values(flt.left, attr)
        right = identity_values(flt.right, attr)
        return None if left is None or right is None else left + right
    if (
        isinstance(flt, Compare)
        and flt.op == "eq"
        and flt.path.attr.casefold() == "value"
        and isinstance(flt.value, str)
        and attr.sub("value") is not None
    ):
        return [flt.value]
    return None


def _sub_value(value: Any, attr: Attribute, name: str) -> tuple[Any, bool]:
    sub = attr.sub(name)
    case_exact = sub.case_exact if sub is not None else False
    if not isinstance(value, dict):
        return (value if name.casefold() == "value" else None), attr.case_exact
    folded = name.casefold()
    for key, item in value.items():
        if key.casefold() == folded:
            return item, case_exact
    return None, case_exact


def _equal(actual: Any, expected: Any, case_exact: bool) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    if isinstance(actual, str) and isinstance(expected, str) and not case_exact:
        return actual.casefold() == expected.casefold()
    return actual == expected


def _leaves(flt: Filter) -> list[Compare | Present | ValuePath]:
    if isinstance(flt, And | Or):
        return _leaves(flt.left) + _leaves(flt.right)
    if isinstance(flt, Not):
        return _leaves(flt.inner)
    return [flt]
