"""``attributes`` / ``excludedAttributes`` (RFC 7644 §3.4.2.5, §3.9; RFC 7643 §2.4 ``returned``).

Pure functions over resource dicts. :func:`wants` lets the caller skip reading what will
not be returned (a group's members with ``excludedAttributes=members``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gateway.errors import InvalidPath, InvalidValue
from gateway.scim import typememo
from gateway.scim.path import parse_path
from gateway.scim.schema import ResourceType

ALWAYS = frozenset({"id", "schemas"})


@dataclass(frozen=True, slots=True)
class Projection:
    """Parsed ``attributes`` / ``excludedAttributes``: sets of (container, attr, sub) keys."""

    include: frozenset[tuple[str | None, str, str | None]] | None = None
    exclude: frozenset[tuple[str | None, str, str | None]] = frozenset()
    include_extensions: frozenset[str] = frozenset()


EVERYTHING = Projection()
"""No ``attributes``, no ``excludedAttributes``: every attribute returned by default."""


def parse_projection(
    rtype: ResourceType,
    attributes: str | Iterable[str] | None,
    excluded: str | Iterable[str] | None,
) -> Projection:
    """Parse the two parameters (comma-separated strings or lists); unknown names → 400."""
    if attributes is None and excluded is None:  # most requests: what the loop below gives
        return EVERYTHING
    inc = _names(attributes)
    exc = _names(excluded)
    if inc and exc:
        # RFC 7644 §3.9 allows only one; "attributes" wins, as most servers do.
        exc = []
    include_ext: set[str] = set()
    include: set[tuple[str | None, str, str | None]] | None = set() if inc else None
    for name in inc:
        ext = _extension_urn(rtype, name)
        if ext:
            include_ext.add(ext)
            continue
        assert include is not None
        include.add(_key(rtype, name))
    exclude = {_key(rtype, name) for name in exc if not _extension_urn(rtype, name)}
    return Projection(
        frozenset(include) if include is not None else None,
        frozenset(exclude),
        frozenset(include_ext),
    )


def wants(rtype: ResourceType, projection: Projection, attr: str) -> bool:
    """Will the core attribute ``attr`` appear in the response at all?"""
    schema_attr = rtype.schema.attribute(attr)
    returned = schema_attr.returned if schema_attr else "default"
    a = attr.lower()
    if returned == "always":
        return True
    if returned == "never":
        return False
    if projection.include is not None:
        return any(c is None and n == a for c, n, _s in projection.include)
    if returned == "request":
        return False
    return not any(c is None and n == a and s is None for c, n, s in projection.exclude)


def apply_projection(
    resource: dict[str, Any], rtype: ResourceType, projection: Projection
) -> dict[str, Any]:
    """A copy of ``resource`` with only what the projection and ``returned`` allow."""
    if projection.include is None and not projection.exclude:
        return _schemas_kept(_default_projection(resource, rtype), rtype)
    return _schemas_kept(projected(resource, rtype, projection), rtype)


def projected(
    resource: dict[str, Any], rtype: ResourceType, projection: Projection
) -> dict[str, Any]:
    """The general path of :func:`apply_projection`, before ``schemas`` is trimmed: each
    value through ``_project_value``, for any projection."""
    out: dict[str, Any] = {}
    for key, value in resource.items():
        if key.startswith("urn:") and isinstance(value, dict):
            kept = _project_container(key, value, rtype, projection)
            if kept:
                out[key] = kept
            continue
        kept_value = _project_value(None, key, value, rtype, projection)
        if kept_value is not _DROP:
            out[key] = kept_value
    return out


def _schemas_kept(out: dict[str, Any], rtype: ResourceType) -> dict[str, Any]:
    """``schemas`` without the extension URNs whose attributes were all left out."""
    schemas = [
        s
        for s in out.get("schemas", [])
        if not s.startswith("urn:") or s == rtype.schema.id or s in out
    ]
    if "schemas" in out:
        out["schemas"] = schemas
    return out


_DROP = object()
_HIDDEN_BY_DEFAULT = frozenset({"never", "request"})


def _default_projection(resource: dict[str, Any], rtype: ResourceType) -> dict[str, Any]:
    """What the general path gives for a request without ``attributes`` and
    ``excludedAttributes`` (every GET, every write's answer), without its per-value work.

    With no ``include`` and an empty ``exclude``, ``_project_value`` keeps ``id`` and
    ``schemas``, drops a value whose ``returned`` is ``never`` or ``request``, and returns
    every other value itself (no sub-attribute to cut); ``_project_container`` keeps the
    same values of an extension, and the extension only if any are left. That is all this
    does, with ``returned`` read from the per-type table (:func:`_returned`).
    tests/unit/scim/test_projection_default.py holds the two to the same output.
    """
    known = typememo.table(rtype, "projection.returned")
    out: dict[str, Any] = {}
    for key, value in resource.items():
        if key.startswith("urn:") and isinstance(value, dict):
            kept = {}
            for k, v in value.items():
                returned = known.get((key, k)) or _returned(rtype, key, k)
                if returned not in _HIDDEN_BY_DEFAULT:
                    kept[k] = v
            if kept:
                out[key] = kept
            continue
        returned = known.get((None, key)) or _returned(rtype, None, key)
        if returned not in _HIDDEN_BY_DEFAULT or key.lower() in ALWAYS:
            out[key] = value
    return out


def _project_container(
    urn: str, box: dict[str, Any], rtype: ResourceType, projection: Projection
) -> dict[str, Any]:
    if projection.include is not None and urn in projection.include_extensions:
        return dict(box)
    out = {}
    for key, value in box.items():
        kept = _project_value(urn, key, value, rtype, projection)
        if kept is not _DROP:
            out[key] = kept
    return out


def _project_value(
    container: str | None, key: str, value: Any, rtype: ResourceType, projection: Projection
) -> Any:
    k = key.lower()
    if container is None and k in ALWAYS:
        return value
    returned = _returned(rtype, container, key)
    if returned == "never":
        return _DROP
    if returned == "always":
        return value
    if projection.include is not None:
        if (container, k, None) in projection.include:
            return value
        subs = {s for c, n, s in projection.include if c == container and n == k and s}
        if subs and isinstance(value, dict):
            return {sk: sv for sk, sv in value.items() if sk.lower() in subs} or _DROP
        if subs and isinstance(value, list):
            # values without any of the asked parts are left out, not shown as {}
            kept = [
                {sk: sv for sk, sv in item.items() if sk.lower() in subs}
                for item in value
                if isinstance(item, dict)
            ]
            return [item for item in kept if item] or _DROP
        return _DROP
    if returned == "request":
        return _DROP
    if (container, k, None) in projection.exclude:
        return _DROP
    subs = {s for c, n, s in projection.exclude if c == container and n == k and s}
    if subs and isinstance(value, dict):
        return {sk: sv for sk, sv in value.items() if sk.lower() not in subs}
    if subs and isinstance(value, list):
        return [
            {sk: sv for sk, sv in item.items() if sk.lower() not in subs}
            for item in value
            if isinstance(item, dict)
        ]
    return value


_MAX_KEYS = 4096  # per type: resource keys come from the mapping, a few dozen in practice


def _returned(rtype: ResourceType, container: str | None, key: str) -> str:
    """The ``returned`` characteristic of ``key`` (in ``container``), "default" when the
    schema does not define it: worked out once per type and key (typememo), not per value."""
    known = typememo.table(rtype, "projection.returned")
    returned = known.get((container, key))
    if returned is None:
        attribute = _attribute(rtype, container, key)
        returned = attribute.returned if attribute else "default"
        if len(known) < _MAX_KEYS:
            known[(container, key)] = returned
    return returned


def _attribute(rtype: ResourceType, container: str | None, key: str):
    for schema in rtype.schemas():
        if (container is None and schema is rtype.schema) or (
            container is not None and schema.id.lower() == container.lower()
        ):
            return schema.attribute(key)
    return None


def _names(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    out = []
    for item in items:
        if not isinstance(item, str):
            raise InvalidValue("attribute names must be strings")
        if item.strip():
            out.append(item.strip())
    return out


def _extension_urn(rtype: ResourceType, name: str) -> str | None:
    for schema in rtype.schemas():
        if schema is not rtype.schema and schema.id.lower() == name.lower():
            return schema.id
    return None


def _key(rtype: ResourceType, name: str) -> tuple[str | None, str, str | None]:
    try:
        path = parse_path(name)
        schema, attribute, sub = rtype.resolve(path.attr)
    except InvalidPath:
        # Unknown names are ignored, as RFC 7644 §3.9 asks of attributes the server lacks.
        return (None, name.lower(), None)
    container = rtype.canonical_key(schema)
    return (container, attribute.name.lower(), sub.name.lower() if sub else None)
