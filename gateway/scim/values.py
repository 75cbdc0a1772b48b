"""Check and canonicalise attribute values against their definition (RFC 7643 §2.3, §2.4).

Does: type checks (string where string, boolean where boolean, array where multi-valued,
object where complex), canonical sub-attribute names, dropping of nulls (RFC 7643 §2.5:
null = unassigned) and of read-only sub-attributes (RFC 7644 §3.3: ignored on input),
``primary`` uniqueness (RFC 7643 §2.4), and the client quirks from ``compat`` that concern
values. ``None`` as a result always means "unassigned".

Does not: decide mutability or where a value goes in a resource (``patch``, ``resource``).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from gateway.errors import InvalidValue
from gateway.scim import compat
from gateway.scim.schema import Attribute

_JSON_TYPES = {
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    list: "an array",
    dict: "an object",
    type(None): "null",
}


def json_type(value: object) -> str:
    """How a JSON value's type is named in error details."""
    return _JSON_TYPES.get(type(value), type(value).__name__)


def coerce_attribute(attr: Attribute, value: Any, label: str) -> Any:
    """Check a whole attribute value (a list when multi-valued); ``None`` = unassigned.

    ``label`` names the attribute in error details (``emails``, ``urn:...:User:manager``).
    Duplicate values of a multi-valued attribute are dropped; an empty array is unassigned.
    """
    if value is None:
        return None
    if not attr.multi_valued:
        return coerce_single(attr, value, label)
    if not isinstance(value, list):
        raise InvalidValue(f"'{label}' is multi-valued: expected an array, got {json_type(value)}")
    items: list[Any] = []
    seen: set[Any] = set()  # a set, not ``in items``: a 50,000-member PUT stays linear
    for index, item in enumerate(value):
        checked = coerce_single(attr, item, f"{label}[{index}]")
        if checked is None:
            continue
        key = _hashable(checked)
        if key not in seen:
            seen.add(key)
            items.append(checked)
    check_single_primary(attr, items, label)
    return items or None


def _hashable(value: Any) -> Any:
    """A key equal for equal JSON values (dict order ignored, as ``==`` does)."""
    if isinstance(value, dict):
        return frozenset((k, _hashable(v)) for k, v in value.items())
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


def coerce_single(attr: Attribute, value: Any, label: str) -> Any:
    """Check one value of ``attr`` (an element, for a multi-valued attribute)."""
    if value is None:
        return None
    if attr.type == "complex":
        return _coerce_complex(attr, value, label)
    return coerce_simple(attr, value, label)


def _coerce_complex(attr: Attribute, value: Any, label: str) -> dict[str, Any] | None:
    if not attr.multi_valued:
        value = compat.single_element_list_as_object(value)
        if attr.sub("value") is not None:
            value = compat.reference_from_bare_id(value)
            if value is None:
                return None
    if not isinstance(value, dict):
        raise InvalidValue(f"'{label}' is complex: expected an object, got {json_type(value)}")
    out: dict[str, Any] = {}
    for key, item in value.items():
        sub = attr.sub(key)
        if sub is None or sub.mutability == "readOnly":
            continue  # unknown or server-computed sub-attributes are ignored (RFC 7644 §3.3)
        checked = coerce_attribute(sub, item, f"{label}.{sub.name}")
        if checked is not None:
            out[sub.name] = checked
    return out or None


def coerce_simple(attr: Attribute, value: Any, label: str) -> Any:
    """Check a value of a non-complex type (RFC 7643 §2.3)."""
    kind = attr.type
    if kind in ("string", "reference", "binary"):
        value = compat.empty_string_as_unassigned(value)
        if value is None:
            return None
        if not isinstance(value, str):
            raise InvalidValue(f"'{label}' must be a string, got {json_type(value)}")
        return value
    if kind == "boolean":
        value = compat.boolean_from_string(value)
        if not isinstance(value, bool):
            raise InvalidValue(f"'{label}' must be true or false, got {json_type(value)}")
        return value
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidValue(f"'{label}' must be an integer, got {json_type(value)}")
        return value
    if kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidValue(f"'{label}' must be a number, got {json_type(value)}")
        if not math.isfinite(value):
            raise InvalidValue(f"'{label}' must be a finite number")
        return value
    if kind == "dateTime":
        if not isinstance(value, str) or not _is_datetime(value):
            raise InvalidValue(
                f"'{label}' must be an xsd:dateTime string such as \"2024-01-31T12:00:00Z\""
            )
        return value
    raise InvalidValue(f"'{label}' has a type the gateway does not handle: {kind}")


def _is_datetime(text: str) -> bool:
    """xsd:dateTime (RFC 7643 §2.3.5): a date, 'T', a time, optional offset."""
    if "T" not in text:
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def check_single_primary(attr: Attribute, items: list[Any], label: str) -> None:
    """RFC 7643 §2.4: "The primary attribute value 'true' MUST appear no more than once"."""
    if attr.sub("primary") is None:
        return
    if sum(1 for item in items if isinstance(item, dict) and item.get("primary") is True) > 1:
        raise InvalidValue(f"more than one value of '{label}' has primary set to true")


def value_key(attr: Attribute, value: Any) -> Any:
    """What identifies one value of multi-valued ``attr``: its ``value`` sub-attribute, else
    the whole value. Strings are case-folded unless the (sub-)attribute is caseExact."""
    if isinstance(value, dict):
        sub = attr.sub("value")
        if sub is not None and "value" in value:
            return _fold(value["value"], sub.case_exact)
        return tuple(sorted((k, repr(v)) for k, v in value.items()))
    return _fold(value, attr.case_exact)


def _fold(value: Any, case_exact: bool) -> Any:
    return value.casefold() if isinstance(value, str) and not case_exact else value
