"""Distinguished names (RFC 4514): the one place where DN components are escaped and parsed.

The gateway builds DNs only through :func:`child_dn` and compares them only through
:func:`normalize`, because slapd hands DNs back in its own escaping (``cn=Smith\\2C John``)
and a naive string compare would miss a match or, worse, find a wrong one.
"""

from __future__ import annotations

import functools
import re

from ldap3.core.exceptions import LDAPInvalidDnError
from ldap3.utils.dn import parse_dn

_HEX_PAIRS = re.compile(r"((?:\\[0-9A-Fa-f]{2})+)|\\(.)", re.DOTALL)
_SPECIAL = frozenset('"+,;<>\\=')
"""Escaped with a backslash anywhere (RFC 4514 §2.4; ``=`` too, which §3 allows as a pair)."""
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_NEEDS_ESCAPING = re.compile(r'["+,;<>\\=\x00-\x1f\x7f]|^[ #]| $')


class InvalidDn(ValueError):
    """The text is not a DN we can work with (empty RDN value, NUL, unparsable)."""


def escape_value(value: str) -> str:
    """Escape one RDN value (RFC 4514 §2.4). Refuses values LDAP cannot hold in a DN.

    Our own, not ldap3's ``escape_rdn``: that one turns a value of one space into an
    escaped backslash plus a space (a different name) and leaves newline, CR and TAB bare.
    Here ``"+,;<>\\=`` get a backslash; a leading ``#``, leading and trailing spaces and
    every control character (U+0000-U+001F, U+007F) become hex pairs (``\\20``, ``\\0A``),
    which no DN parser strips or folds. A value of spaces only is spaces only, escaped.
    Unpaired UTF-16 surrogates (possible in a Python ``str``) have no UTF-8 form and are
    refused here rather than failing later as ``UnicodeEncodeError``.
    """
    if value == "":
        raise InvalidDn("an RDN value cannot be empty")
    if "\x00" in value:
        raise InvalidDn("an RDN value cannot contain NUL")
    if _SURROGATE.search(value):
        raise InvalidDn("an RDN value cannot contain an unpaired UTF-16 surrogate")
    return _escape(value)


def _escape(value: str) -> str:
    """The escaping of :func:`escape_value`, for any value (no checks)."""
    if not _NEEDS_ESCAPING.search(value):
        return value
    out = []
    last = len(value) - 1
    for i, ch in enumerate(value):
        if ch in _SPECIAL:
            out.append("\\" + ch)
        elif ch < " " or ch == "\x7f" or (ch == " " and (i == 0 or i == last)):
            out.append(f"\\{ord(ch):02X}")
        elif ch == "#" and i == 0:
            out.append("\\23")
        else:
            out.append(ch)
    return "".join(out)


def child_dn(rdn_attribute: str, rdn_value: str, parent: str) -> str:
    """``rdn_attribute=<escaped rdn_value>,parent``."""
    return f"{rdn_attribute}={escape_value(rdn_value)},{parent}"


@functools.lru_cache(maxsize=8192)
def _parse(dn: str) -> tuple[tuple[str, str, str], ...]:
    """ldap3's ``parse_dn``, after escaping ``#`` inside values.

    RFC 4514 requires escaping ``#`` only at the start of a value, so slapd hands back
    ``uid=a#EXT#b,…`` (Entra guest user names) unescaped; ldap3's parser refuses any bare
    ``#`` after the first character. ``\23`` is the same character, escaped.
    """
    out: list[str] = []
    escaped = False
    for i, ch in enumerate(dn):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "#" and i > 0 and dn[i - 1] != "=":
            out.append("\\23")
            continue
        out.append(ch)
    return tuple(parse_dn("".join(out)))


def unescape_value(value: str) -> str:
    """Undo RFC 4514 escaping of one attribute value (``\\2C`` hex pairs and ``\\,``)."""

    def repl(m: re.Match[str]) -> str:
        if m.group(1):
            raw = bytes.fromhex(m.group(1).replace("\\", ""))
            return raw.decode("utf-8", errors="replace")
        return m.group(2)

    return _HEX_PAIRS.sub(repl, value)


def components(dn: str) -> list[tuple[str, str]]:
    """The DN's (attribute, unescaped value) pairs, leftmost first; multi-valued RDNs flattened."""
    try:
        return [(attr, unescape_value(value)) for attr, value, _sep in _parse(dn)]
    except (LDAPInvalidDnError, IndexError, ValueError) as err:
        raise InvalidDn(f"not a valid DN: {dn!r}") from err


def rdn_value(dn: str) -> str:
    """The (unescaped) value of the first RDN component."""
    return components(dn)[0][1]


def parent(dn: str) -> str:
    """The DN one level up (everything after the first unescaped comma)."""
    return split_rdn(dn)[1]


def split_rdn(dn: str) -> tuple[str, str]:
    """``("uid=x", "ou=People,dc=example,dc=org")``: the first RDN as written, and the parent."""
    parts = _parse(dn)
    i = 0
    while i < len(parts) and parts[i][2] == "+":
        i += 1
    rdn = "+".join(f"{a}={v}" for a, v, _ in parts[: i + 1])
    return rdn, ",".join(f"{a}={v}" for a, v, _ in parts[i + 1 :])


@functools.lru_cache(maxsize=8192)
def normalize(dn: str) -> str:
    """A canonical form for comparing DNs: lower-case types and values, one escaping.

    Assumes case-insensitive naming attributes (uid, cn, ou, dc in the stock schemas).
    """
    try:
        parsed = components(dn)
    except InvalidDn:
        return dn.strip().lower()
    return ",".join(f"{a.lower()}={_escape(v.lower())}" for a, v in parsed)


def is_within(dn: str, base: str) -> bool:
    """True if ``dn`` is ``base`` or below it."""
    d, b = normalize(dn), normalize(base)
    return d == b or d.endswith("," + b)
