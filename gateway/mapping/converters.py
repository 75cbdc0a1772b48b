"""Named value converters between SCIM JSON values and LDAP strings.

Mappings refer to converters by name (``converter: boolean``); code never lives in YAML.
Each converter refuses values it cannot represent with ``ValueError``, which the
translator turns into a SCIM ``invalidValue`` naming the attribute.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from gateway.mapping.model import Converter


def _string_to_ldap(value: object) -> str:
    if type(value) is str:  # nearly every value: ``str(value)`` would be ``value`` itself
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("expected a string")
    return str(value)


def _boolean_to_ldap(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.upper()
    raise ValueError("expected a boolean")


def _boolean_to_scim(value: str) -> object:
    return value.strip().upper() == "TRUE"


def _integer_to_ldap(value: object) -> str:
    if isinstance(value, bool):
        raise ValueError("expected an integer")
    try:
        return str(int(str(value)))
    except ValueError:
        raise ValueError("expected an integer") from None


_GENERALIZED = re.compile(r"\d{14}(?:\.\d+)?Z$")


def generalized_time_to_iso(value: str) -> str:
    """``20240102030405.123Z`` → ``2024-01-02T03:04:05Z`` (GeneralizedTime, RFC 4517 §3.3.13)."""
    v = value.strip()
    if _GENERALIZED.match(v) is None:  # UTC as slapd writes it; anything else via datetime
        try:
            dt = datetime.strptime(v[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        except ValueError:
            return value
        return dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{v[0:4]}-{v[4:6]}-{v[6:8]}T{v[8:10]}:{v[10:12]}:{v[12:14]}Z"


def iso_to_generalized_time(value: object) -> str:
    """ISO 8601 / RFC 3339 (``2024-01-02T03:04:05Z``, offsets allowed) → GeneralizedTime UTC."""
    if not isinstance(value, str):
        raise ValueError("expected a dateTime string")
    text = value.strip().replace("z", "Z")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("expected an xsd:dateTime such as 2024-01-02T03:04:05Z") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y%m%d%H%M%SZ")


REGISTRY: dict[str, Converter] = {
    c.name: c
    for c in (
        Converter("string", _string_to_ldap, str),
        Converter("lowercase", lambda v: _string_to_ldap(v).lower(), str),
        Converter("boolean", _boolean_to_ldap, _boolean_to_scim),
        Converter("integer", _integer_to_ldap, int),
        Converter("generalizedTime", iso_to_generalized_time, generalized_time_to_iso),
    )
}
