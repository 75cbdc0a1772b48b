"""ETags for SCIM resources (RFC 7644 §3.14, RFC 7232): weak tags over the directory's entryCSN.

Pure helpers; the version string itself comes from the mapping (``meta.version``).
"""

from __future__ import annotations

import re

from gateway.errors import PreconditionFailed

_TAG = re.compile(r'\s*(?:(W/)?"([^"]*)"|(\*))\s*(?:,|$)')


def parse(header: str | None) -> tuple[str, ...] | None:
    """Tag values of an If-Match / If-None-Match header; ``("*",)`` = any; None if absent."""
    if header is None or not header.strip():
        return None
    tags: list[str] = []
    pos = 0
    text = header.strip()
    while pos < len(text):
        m = _TAG.match(text, pos)
        if not m or m.end() == pos:
            raise PreconditionFailed(f"cannot parse the ETag list {header!r}")
        tags.append("*" if m.group(3) else m.group(2))
        pos = m.end()
    return tuple(tags)


def opaque(version: str | None) -> str | None:
    """``W/"abc"`` → ``abc`` (weak comparison, RFC 7232 §2.3.2)."""
    if version is None:
        return None
    m = re.fullmatch(r'\s*(?:W/)?"([^"]*)"\s*', version)
    return m.group(1) if m else version


def matches(tags: tuple[str, ...], version: str | None) -> bool:
    value = opaque(version)
    return "*" in tags or (value is not None and value in tags)


def require(header: str | None, version: str | None) -> str | None:
    """Check If-Match against the current version; the opaque value to assert on write, if any.

    Raises PreconditionFailed when the client's tag is stale.
    """
    tags = parse(header)
    if tags is None:
        return None
    if not matches(tags, version):
        raise PreconditionFailed("the resource has changed since it was read (If-Match failed)")
    return None if "*" in tags else opaque(version)
