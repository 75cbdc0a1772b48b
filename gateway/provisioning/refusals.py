"""Why the directory refused a write, in words an admin can act on.

slapd names the attribute it refused in its diagnostic message ("homeDirectory: value #0
invalid per syntax", "attribute 'c' not allowed"). The message itself is never sent to the
client (it may quote values or DNs the client did not send); only the attribute name is taken
from it, and the mapping rule that produced that attribute is named instead, so a refused
``/home/{userName}`` reads as such and not as a bare "LDAP result 21". Used by the one table
of directory errors (``errors.to_scim_error``) for a write of a type's values.
"""

from __future__ import annotations

import re

from gateway.errors import SchemaViolation
from gateway.mapping.model import ResourceMapping

_REASONS = {
    16: "no such value",
    17: "unknown attribute type",
    18: "inappropriate matching",
    19: "constraint violation",
    20: "value already present",
    21: "invalid syntax",
    64: "naming violation",
    65: "object class violation",
    67: "not allowed on the RDN",
}

_ATTRIBUTE = (
    re.compile(r"(?:^|: )([A-Za-z][\w-]*)(?:;[\w-]+)*: value #\d+"),
    re.compile(r"attribute '([A-Za-z][\w-]*)' not allowed"),
    re.compile(r"requires attribute '([A-Za-z][\w-]*)'"),
    re.compile(r"^([A-Za-z][\w-]*): (?:no such value|attribute type undefined)"),
)


def refused_attribute(message: str) -> str | None:
    """The attribute slapd names in its diagnostic message, if any."""
    for pattern in _ATTRIBUTE:
        found = pattern.search(message or "")
        if found:
            return found.group(1)
    return None


def describe(rm: ResourceMapping, err: SchemaViolation) -> str:
    """The SCIM ``detail`` for a write the directory refused as malformed or not allowed."""
    code = err.result_code
    reason = _REASONS.get(code or 0, "refused")
    attr = refused_attribute(err.message)
    if attr is None:
        return (
            f"the directory refused the values for this {rm.name} ({reason}, LDAP result "
            f"{code}); a value may be malformed or not allowed"
        )
    attr = _spelled(rm, attr)
    return (
        f"the directory refused {attr} for this {rm.name} ({reason}, LDAP result {code}); "
        f"{_origin(rm, attr)}"
    )


def _spelled(rm: ResourceMapping, attr: str) -> str:
    """The attribute as the mapping spells it (slapd may quote it lower-cased)."""
    names = [r.ldap for r in rm.attributes] + [d.ldap for d in rm.derived]
    return next((n for n in names if n.lower() == attr.lower()), attr)


def _origin(rm: ResourceMapping, attr: str) -> str:
    key = attr.lower()
    for rule in rm.attributes:
        if rule.ldap.lower() == key:
            return (
                f"it holds the SCIM attribute {rule.scim_text!r}: that value may be malformed "
                f"or not allowed by {attr}'s syntax"
            )
    for derived in rm.derived:
        if derived.ldap.lower() != key:
            continue
        if derived.templates:
            made = " or ".join(repr(t.text) for t in derived.templates)
            return (
                f"the mapping makes it from the template {made}: a value used there may not "
                f"fit {attr}'s syntax (e.g. non-ASCII letters in an IA5 attribute)"
            )
        return f"the mapping fills it in itself ({derived.source or 'derived'}); check that rule"
    return f"{attr} is not mapped for this {rm.name}; the directory's schema may require it"
