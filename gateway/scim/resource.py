"""Normalise a POST/PUT body into a canonical SCIM resource dict (RFC 7643, RFC 7644 §3.3, §3.5.1).

Does: canonical attribute-name case, extension attributes under their schema URN key,
type checks (``InvalidValue`` naming the attribute), the value quirks of ``compat``
(string booleans, bare-id manager, ``""``), nulls dropped (RFC 7643 §2.5), read-only
attributes dropped (RFC 7644 §3.3: "SHALL be ignored"), unknown attributes and schema
URIs ignored (Entra sends ``roles: []`` and
``http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group``), required
attributes checked, and a declared ``schemas`` must name the resource's core schema.

Does not: decide which attributes the directory can store (the mapping does).
"""

from __future__ import annotations

from typing import Any

from gateway.errors import InvalidPath, InvalidSyntax, InvalidValue
from gateway.scim import typememo
from gateway.scim.path import parse_path
from gateway.scim.schema import Attribute, ResourceType, Schema
from gateway.scim.values import coerce_attribute


def normalize_resource(
    payload: dict[str, Any], rtype: ResourceType, *, check_required: bool = True
) -> dict[str, Any]:
    """Return a new canonical resource dict with ``schemas`` first; never mutates ``payload``.

    ``check_required=False`` skips the required-attribute check (for partial documents).
    """
    if not isinstance(payload, dict):
        raise InvalidSyntax(f"a {rtype.name} must be a JSON object")
    _check_core_schema(payload, rtype)
    builder = _Builder(rtype, typememo.table(rtype, "resource.keys"))
    urns = typememo.table(rtype, "resource.urns")  # key -> its schema or None, as below
    for key, value in payload.items():
        if not isinstance(key, str) or key.casefold() == "schemas":
            continue
        schema = urns.get(key, _UNKNOWN)
        if schema is _UNKNOWN:
            schema = rtype.schema_by_id(key)
            if len(urns) < _MAX_KEYS:
                urns[key] = schema
        if schema is not None:
            if value is None:
                continue
            if not isinstance(value, dict):
                raise InvalidValue(f"'{key}' must be an object of that schema's attributes")
            for inner_key, inner in value.items():
                builder.place_key(schema, inner_key, inner)
        else:
            builder.place_key(None, key, value)
    return builder.result(_declared(payload), check_required=check_required)


_UNKNOWN = object()
_MAX_KEYS = 2048  # per type; past it a key is worked out each time, as before the table


# Where a key lands: its attribute, sub-attribute, the resource's key of its schema (None:
# the top), the label that names the value checked in error details, and the type of value
# that passes that check as it is (``_quick``); all follow from the type and key.
_Where = tuple[Attribute, Attribute | None, str | None, str, type | None]


def _where(rtype: ResourceType, schema: Schema | None, key: str) -> _Where | None:
    """Where ``key`` (met in ``schema``'s object, or at the top: None) is placed (see
    ``_Where``); None when it is ignored (unknown, a value filter, or another schema's
    attribute inside an extension's object) or dropped unchecked: read-only (RFC 7644 §3.3),
    or a sub-attribute key of a multi-valued attribute."""
    found = _found(rtype, schema, key)
    if found is None:
        return None
    found_schema, attr, sub = found
    if attr.mutability == "readOnly":
        return None
    if sub is not None and (attr.multi_valued or sub.mutability == "readOnly"):
        return None
    container = rtype.canonical_key(found_schema)
    label = attr.name if container is None else f"{container}:{attr.name}"
    if sub is not None:
        label = f"{label}.{sub.name}"
    return attr, sub, container, label, _quick(sub or attr)


def _quick(checked: Attribute) -> type | None:
    """The type of JSON value that ``coerce_attribute(checked, value, ...)`` returns as it is
    (or as None when empty), so a body's usual value skips its calls: a ``str`` for a
    single-valued string, reference or binary (``coerce_simple``: ``""`` is unassigned, any
    other string itself), a ``bool`` for a single-valued boolean (itself). None: no shortcut.
    tests/unit/scim/test_resource_memo.py holds both to ``coerce_attribute``."""
    if checked.multi_valued:
        return None
    if checked.type in ("string", "reference", "binary"):
        return str
    if checked.type == "boolean":
        return bool
    return None


def _found(
    rtype: ResourceType, schema: Schema | None, key: str
) -> tuple[Schema, Attribute, Attribute | None] | None:
    if schema is not None and ":" not in key and "." not in key:
        attr = rtype.attribute(schema, key)
        return None if attr is None else (schema, attr, None)
    try:
        path = parse_path(key)
        if schema is not None and path.attr.schema is None:
            path = parse_path(f"{schema.id}:{key}")
        if path.value_filter is not None:
            return None
        found_schema, attr, sub = rtype.resolve(path.attr)
    except InvalidPath:
        return None  # unknown attributes are ignored on input
    if schema is not None and found_schema is not schema:
        return None
    return found_schema, attr, sub


class _Builder:
    def __init__(self, rtype: ResourceType, known: dict[Any, Any]) -> None:
        self.rtype = rtype
        self.known = known  # typememo's "resource.keys" table of rtype (see place_key)
        self.top: dict[str, Any] = {}
        self.extensions: dict[str, dict[str, Any]] = {}

    def place_key(self, schema: Schema | None, key: str, value: Any) -> None:
        """Place one member; ``key`` may be ``attr``, ``attr.sub`` or URN-qualified."""
        # Where a key lands depends on the type, the schema it came in and the key alone:
        # worked out once per (schema, key) and kept with the type, not parsed per request.
        # ``schema`` is one of this type's own schemas (``schema_by_id``), kept alive by the
        # type, so its id() names it while the table exists.
        known = self.known
        memo = (id(schema), key)
        where = known.get(memo, _UNKNOWN)
        if where is _UNKNOWN:
            where = _where(self.rtype, schema, key)
            if len(known) < _MAX_KEYS:  # keys come from clients: the table stays bounded
                known[memo] = where
        if where is not None:
            self.place(*where, value)

    def place(
        self,
        attr: Attribute,
        sub: Attribute | None,
        key: str | None,
        label: str,
        quick: type | None,
        value: Any,
    ) -> None:
        """Check ``value`` and put it in its place (``_where`` has left out what is dropped)."""
        container = self.top if key is None else self.extensions.setdefault(key, {})
        if type(value) is quick:  # what coerce_attribute gives for it (see _quick)
            checked = value if quick is bool else (value or None)
        else:
            checked = coerce_attribute(sub or attr, value, label)
        if sub is not None:
            if checked is not None:
                current = container.get(attr.name)
                container[attr.name] = {**(current if isinstance(current, dict) else {})}
                container[attr.name][sub.name] = checked
            return
        current = container.get(attr.name)
        if checked is None:
            return
        if isinstance(checked, dict) and isinstance(current, dict):
            checked = {**current, **checked}
        container[attr.name] = checked

    def result(self, declared: list[str], *, check_required: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"schemas": [self.rtype.schema.id]}
        for ext, required in self.rtype.extensions:
            attributes = self.extensions.get(ext.id)
            if attributes or ext.id.casefold() in declared:
                out["schemas"].append(ext.id)
            if check_required and required and not attributes:
                raise InvalidValue(f"the extension '{ext.id}' is required for {self.rtype.name}")
        out.update(self.top)
        for urn, attributes in self.extensions.items():
            if attributes:
                out[urn] = attributes
        if check_required:
            for key, names in _required(self.rtype):
                container = self.top if key is None else self.extensions.get(key)
                if key is not None and not container:
                    continue  # an absent optional extension has no required attributes to miss
                for name in names:
                    if name not in (container or {}):
                        raise InvalidValue(
                            f"'{name}' is required for {self.rtype.name} (RFC 7643 §2.2)"
                        )
        return out


def _required(rtype: ResourceType) -> tuple[tuple[str | None, tuple[str, ...]], ...]:
    """Each schema's resource key (None: the top) and its required attributes' names, in
    the order the check walks them: the same for every body of the type, so kept with it
    (typememo) instead of walking every attribute of every schema per request."""
    memo = typememo.table(rtype, "resource.required")
    plan = memo.get(None)
    if plan is None:
        plan = memo[None] = tuple(
            (
                rtype.canonical_key(schema),
                tuple(a.name for a in rtype.attributes(schema) if a.required),
            )
            for schema in rtype.schemas()
        )
    return plan


def _check_core_schema(payload: dict[str, Any], rtype: ResourceType) -> None:
    """A ``schemas`` member must list the resource type's core schema (RFC 7643 §3).

    Without it the body describes some other kind of resource, so it is refused rather
    than read as a User or Group. URNs beside the core one (extensions the gateway does not
    know) stay tolerated: Entra sends its own ``…/ADSCIM/2.0/Group``. A body without any
    ``schemas`` member is accepted as the endpoint's type (docs/operations.md says why).
    """
    key = next((k for k in payload if isinstance(k, str) and k.casefold() == "schemas"), None)
    if key is None:
        return
    declared = payload[key]
    if not isinstance(declared, list) or not all(isinstance(s, str) for s in declared):
        raise InvalidValue("'schemas' must be an array of schema URNs (RFC 7643 §3)")
    core = rtype.schema.id
    if all(s.casefold() != core.casefold() for s in declared):
        raise InvalidValue(
            f"'schemas' must include the core schema of a {rtype.name}, {core!r} (RFC 7643 §3)"
        )


def _declared(payload: dict[str, Any]) -> list[str]:
    for key, value in payload.items():
        if isinstance(key, str) and key.casefold() == "schemas" and isinstance(value, list):
            return [s.casefold() for s in value if isinstance(s, str)]
    return []
