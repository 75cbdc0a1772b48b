"""LDAP search filters as a small AST: encoded to BER for the wire by
:mod:`gateway.directory.messages` (each value an OCTET STRING, never parsed as text), and
rendered to RFC 4515 text in ONE place for logs, LDIF and ``mapping explain``.

Every value that reaches filter text passes through :func:`render`, which escapes it
exactly once (``* ( ) \\`` and NUL). Nothing else in the gateway formats filter text, so a
``*`` inside a SCIM ``eq`` value can never turn into an LDAP wildcard.

Filters written by the administrator in a mapping file (``filter:``) are kept as
:class:`Raw` — they are configuration, validated when the mapping loads, and never carry
client values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Equal:
    attr: str
    value: str


@dataclass(frozen=True, slots=True)
class Substring:
    """``(attr=initial*any1*any2*final)``; at least one part is non-empty."""

    attr: str
    initial: str | None = None
    any: tuple[str, ...] = ()
    final: str | None = None


@dataclass(frozen=True, slots=True)
class GreaterOrEqual:
    attr: str
    value: str


@dataclass(frozen=True, slots=True)
class LessOrEqual:
    attr: str
    value: str


@dataclass(frozen=True, slots=True)
class Present:
    attr: str


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[LdapFilter, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[LdapFilter, ...]


@dataclass(frozen=True, slots=True)
class Not:
    inner: LdapFilter


@dataclass(frozen=True, slots=True)
class Raw:
    """An administrator-written filter from the mapping file, already in RFC 4515 form."""

    text: str


@dataclass(frozen=True, slots=True)
class Nothing:
    """Matches no entry (e.g. ``id eq`` a value that is not a UUID)."""


LdapFilter = (
    Equal | Substring | GreaterOrEqual | LessOrEqual | Present | And | Or | Not | Raw | Nothing
)

MATCH_ALL = Present("objectClass")


def entry_at(dn: str, *, entry_dn: bool = True) -> LdapFilter:
    """Matches the entry whose DN is ``dn``: ``(&(uid=x)(entryDN=uid=x,…))``.

    entryDN (RFC 5020) makes a set of DNs one search; the RDN clause lets the server use its
    index instead of testing every entry below the base. ``entry_dn=False`` (a server without
    entryDN, mapping ``directory.entry_dn``): the RDN clause alone, which may also match
    entries of that name elsewhere below the base — the caller keeps only those at ``dn``.
    """
    from gateway.directory.dn import InvalidDn, components

    try:
        attr, value = components(dn)[0]
    except (InvalidDn, IndexError):
        return Equal("entryDN", dn) if entry_dn else Nothing()
    if not entry_dn:
        return Equal(attr, value)
    return And((Equal(attr, value), Equal("entryDN", dn)))


_FILTER_SPECIAL = re.compile(r"[\\*()\x00-\x1f\x7f]|^\s+|\s+$")


def escape(value: str) -> str:
    """Escape a value for use in a filter (RFC 4515 §3). The only escaping in the gateway.

    ``\\ * ( )`` and NUL must be escaped (RFC 4515 §3); control characters (newline, CR,
    TAB...) are too, so a value cannot break a log line or an LDIF file. Whitespace at
    either end (a space, U+00A0...) is escaped as its UTF-8 octets (``\\20``, ``\\c2\\a0``):
    a text filter parser may strip it (ldap3's uses ``str.strip``), which would turn a
    value of only spaces into an empty assertion.
    """
    return _FILTER_SPECIAL.sub(_hex_escape, value)


def _hex_escape(found: re.Match[str]) -> str:
    octets = found.group().encode("utf-8", "surrogatepass")  # text only: never sent as such
    return "".join(f"\\{b:02x}" for b in octets)


def conjunction(*filters: LdapFilter | None) -> LdapFilter:
    """AND the given filters, dropping ``None`` and flattening nested ANDs."""
    items: list[LdapFilter] = []
    for f in filters:
        if f is None:
            continue
        if isinstance(f, And):
            items.extend(f.items)
        else:
            items.append(f)
    if not items:
        return MATCH_ALL
    if len(items) == 1:
        return items[0]
    return And(tuple(items))


def render(f: LdapFilter) -> str:
    """RFC 4515 text for ``f``, every value escaped once."""
    match f:
        case Equal(attr, value):
            return f"({attr}={escape(value)})"
        case Substring(attr, initial, anys, final):
            parts = [escape(initial or ""), *(escape(a) for a in anys), escape(final or "")]
            return f"({attr}={'*'.join(parts)})"
        case GreaterOrEqual(attr, value):
            return f"({attr}>={escape(value)})"
        case LessOrEqual(attr, value):
            return f"({attr}<={escape(value)})"
        case Present(attr):
            return f"({attr}=*)"
        case And(items):
            return "(&" + "".join(render(i) for i in items) + ")"
        case Or(items):
            return "(|" + "".join(render(i) for i in items) + ")"
        case Not(inner):
            return f"(!{render(inner)})"
        case Raw(text):
            return text if text.startswith("(") else f"({text})"
        case Nothing():
            return "(!(objectClass=*))"
    raise TypeError(f"not an LDAP filter node: {f!r}")


def validate_raw(text: str) -> str | None:
    """Why an administrator-written filter is not valid RFC 4515, or None if it is."""
    from ldap3.core.exceptions import LDAPException
    from ldap3.operation.search import parse_filter

    candidate = text if text.strip().startswith("(") else f"({text})"
    try:
        parse_filter(candidate, None, False, True, None, False)
    except (LDAPException, ValueError, IndexError) as err:
        return f"not a valid LDAP filter: {err}"
    return None
