"""The PATCH engine (RFC 7644 §3.5.2) over plain SCIM resource dicts.

Does: validate a PatchOp request body (``parse_patch_request``), then apply its operations
to a resource dict (``apply_patch``) — all or nothing, never mutating the input — with the
Microsoft Entra ID behaviours of entra-scim.md §4, §5 and §9 (case-insensitive ``op``,
string booleans, path-less values with dotted or URN-qualified keys, listed-values member
removal, filtered paths that create the value they target, bare-id manager).

For attributes too large to read (group ``members``), ``delta_attributes`` makes the engine
record a ``ValueDelta`` instead of editing the resource.

Does not: read or write anything, nor decide whether a change is storable in LDAP.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from gateway.errors import (
    InvalidFilter,
    InvalidPath,
    InvalidSyntax,
    InvalidValue,
    Mutability,
    NoTarget,
    ScimError,
)
from gateway.scim import compat
from gateway.scim.delta import DeltaBuilder, ValueDelta
from gateway.scim.edit import ResourceEditor
from gateway.scim.filter import AttrPath
from gateway.scim.limits import NO_LIMITS, PatchLimits
from gateway.scim.match import identity_values
from gateway.scim.messages import PATCH_OP
from gateway.scim.path import PatchPath, parse_path
from gateway.scim.resource import normalize_resource
from gateway.scim.schema import Attribute, ResourceType, Schema
from gateway.scim.target import Target, resolve_target
from gateway.scim.values import coerce_attribute

__all__ = [
    "PatchOperation",
    "PatchResult",
    "ValueDelta",
    "apply_deltas",
    "apply_patch",
    "deltas_only",
    "normalize_resource",
    "parse_patch_request",
]

OPS = ("add", "replace", "remove")
_PATCH_OP_FOLDED = PATCH_OP.casefold()


@dataclass(frozen=True, slots=True)
class PatchOperation:
    """One entry of ``Operations``: ``op`` lower-cased, ``path`` parsed, ``value`` as sent."""

    op: str
    path: PatchPath | None
    value: Any = None


@dataclass(frozen=True, slots=True)
class PatchResult:
    """The patched resource (a new dict) and the deltas of ``delta_attributes``.

    ``deltas`` is keyed by canonical attribute name and only holds attributes that some
    operation touched.
    """

    resource: dict[str, Any]
    deltas: dict[str, ValueDelta]


def parse_patch_request(body: Any, limits: PatchLimits = NO_LIMITS) -> list[PatchOperation]:
    """Check a PATCH body (RFC 7644 §3.5.2) and parse each operation's path.

    Member names (``Operations``, ``op``...) are matched case-insensitively, like attribute
    names (RFC 7643 §2.1); ``op`` values too (``compat.op_name``, Entra). More operations
    than ``limits.max_operations`` is ``TooMany`` before any is parsed.
    """
    if not isinstance(body, dict):
        raise InvalidSyntax("a PATCH body must be a JSON object (RFC 7644 §3.5.2)")
    schemas = _member(body, "schemas")
    if not isinstance(schemas, list) or not (
        PATCH_OP in schemas  # as sent by every client: the same answer as the scan below
        or any(isinstance(s, str) and s.casefold() == _PATCH_OP_FOLDED for s in schemas)
    ):
        raise InvalidSyntax(f"'schemas' must be [\"{PATCH_OP}\"] (RFC 7644 §3.5.2)")
    operations = _member(body, "Operations")
    if not isinstance(operations, list) or not operations:
        raise InvalidSyntax("'Operations' must be a non-empty array (RFC 7644 §3.5.2)")
    limits.check_operations(len(operations))
    return [_parse_operation(index, raw) for index, raw in enumerate(operations)]


def _parse_operation(index: int, raw: Any) -> PatchOperation:
    where = f"Operations[{index}]"
    if not isinstance(raw, dict):
        raise InvalidSyntax(f"{where} must be a JSON object with 'op', 'path' and 'value'")
    op = compat.op_name(_member(raw, "op"))
    if op not in OPS:
        shown = _member(raw, "op")
        raise InvalidSyntax(f"{where}.op must be 'add', 'replace' or 'remove', not {shown!r}")
    assert isinstance(op, str)
    path_text = _member(raw, "path")
    path = None
    if path_text is not None:
        if not isinstance(path_text, str):
            raise InvalidPath(f"{where}.path must be a string")
        try:
            path = parse_path(path_text)
        except InvalidPath as err:
            raise InvalidPath(f"{where}.path: {err.detail}") from err
    # "value" as sent by every client; else any key case-folding to it (the same answer)
    has_value = "value" in raw or any(isinstance(k, str) and k.casefold() == "value" for k in raw)
    value = _member(raw, "value")
    if op != "remove" and not has_value:
        raise InvalidValue(f"{where}: '{op}' needs a 'value' (RFC 7644 §3.5.2.1, §3.5.2.3)")
    if op != "remove" and path is None and not isinstance(value, dict):
        raise InvalidValue(f"{where}: without a 'path', 'value' must be an object of attributes")
    if op == "remove" and path is None:
        raise NoTarget(f"{where}: 'remove' needs a 'path' (RFC 7644 §3.5.2.2)")
    return PatchOperation(op, path, value)


def apply_patch(
    resource: dict[str, Any],
    operations: list[PatchOperation],
    rtype: ResourceType,
    *,
    delta_attributes: frozenset[str] = frozenset(),
    limits: PatchLimits = NO_LIMITS,
) -> PatchResult:
    """Apply ``operations`` in order to a copy of ``resource``; raise on the first failure.

    The input is never mutated, and a failure in any operation raises with nothing returned
    (RFC 7644 §3.5.2: "each operation ... MUST be applied ... or none"). Error details are
    prefixed with ``Operations[i]``. Attributes named in ``delta_attributes`` (core,
    multi-valued, complex, with a ``value`` sub-attribute — e.g. ``{"members"}``) are left
    untouched in the resource and described by ``PatchResult.deltas`` instead.

    Work is linear in the operations and values sent (``valueindex``); ``limits`` caps the
    values per attribute (``TooMany``) and stops at its deadline (``DeadlineExceeded``),
    checked before each operation.
    """
    delta_attrs = _delta_attributes(rtype, delta_attributes)
    limits.check_operations(len(operations))
    work = tree_copy(resource)
    editor = ResourceEditor(work, rtype, max_values=limits.max_values)
    deltas = _apply_all(operations, rtype, delta_attrs, editor, limits)
    resource = editor.finish()
    limits.check_deadline("after applying the PATCH operations")
    return PatchResult(resource, deltas)


def deltas_only(
    operations: list[PatchOperation], rtype: ResourceType, delta_attributes: frozenset[str]
) -> bool:
    """Does every operation name one of ``delta_attributes`` by its path (``add members``)?

    Then :func:`apply_patch` hands back the resource it was given (copied, not changed),
    whatever that resource is, and its deltas are :func:`apply_deltas`'s: a caller that
    needs only the deltas need not build the resource. Shapes alone are looked at, never
    values; an operation without a path, naming an extension or a path that does not
    resolve answers False (:func:`apply_patch` decides those)."""
    delta_attrs = _delta_attributes(rtype, delta_attributes)
    for operation in operations:
        path = operation.path
        if operation.op not in OPS or path is None or _whole_extension(path, rtype) is not None:
            return False
        try:
            target = resolve_target(rtype, path)
        except ScimError:
            return False
        if target.schema is not rtype.schema or target.attr.name not in delta_attrs:
            return False
    return True


def apply_deltas(
    operations: list[PatchOperation],
    rtype: ResourceType,
    *,
    delta_attributes: frozenset[str],
    limits: PatchLimits = NO_LIMITS,
) -> dict[str, ValueDelta]:
    """``apply_patch(resource, operations, …).deltas`` for operations :func:`deltas_only`
    accepts, without a resource: the same checks in the same order, the same errors and
    deadline checks (the loop is :func:`apply_patch`'s own). A group PATCH of member adds
    answered 204 needs no more (``provisioning.writes``); tests/unit/scim/test_patch_deltas_only.py
    holds the two to the same answers. ``ValueError`` for an operation that is no delta."""
    delta_attrs = _delta_attributes(rtype, delta_attributes)
    limits.check_operations(len(operations))
    deltas = _apply_all(operations, rtype, delta_attrs, None, limits)
    limits.check_deadline("after applying the PATCH operations")
    return deltas


def _apply_all(
    operations: list[PatchOperation],
    rtype: ResourceType,
    delta_attrs: dict[str, Attribute],
    editor: ResourceEditor | None,
    limits: PatchLimits,
) -> dict[str, ValueDelta]:
    """Apply each operation in order: delta attributes to their builders, the rest to
    ``editor`` (None: there must be no rest); the deltas of the attributes touched."""
    builders: dict[str, DeltaBuilder] = {}
    for index, operation in enumerate(operations):
        limits.check_deadline(f"applying PATCH operation {index + 1} of {len(operations)}")
        try:
            for path, value in _assignments(operation, rtype):
                target = resolve_target(rtype, path)
                delta = delta_attrs.get(target.attr.name) if target.schema is rtype.schema else None
                if delta is not None:
                    builder = builders.get(delta.name)
                    if builder is None:
                        builder = builders[delta.name] = DeltaBuilder(delta, limits.max_values)
                    _apply_delta(builder, operation.op, target, value)
                elif editor is None:
                    raise ValueError(f"Operations[{index}] is not a delta (see deltas_only)")
                else:
                    getattr(editor, operation.op)(target, value)
        except ScimError as err:
            raise type(err)(f"Operations[{index}]: {err.detail}") from err
    return {name: b.result() for name, b in builders.items()}


_IMMUTABLE = (str, int, float, bool, type(None))


def tree_copy(value: Any) -> Any:
    """``copy.deepcopy(value)`` for a resource: a JSON tree of dicts, lists and scalars.

    Dicts and lists are copied level by level, strings, numbers, booleans and None are
    kept (immutable, as deepcopy keeps them), and anything else goes to ``copy.deepcopy``.
    What deepcopy does besides — keeping two references to one object as one — never
    arises: a resource is a tree (built by ``normalize_resource``, ``to_resource`` or JSON
    parsing; no sub-object appears twice). A PATCH copies the resource it starts from on
    every request; deepcopy's memo and dispatch cost several times this.
    tests/unit/scim/test_patch_copy.py holds the two to the same results.
    """
    kind = type(value)
    if kind is dict:
        return {k: tree_copy(v) for k, v in value.items()}
    if kind is list:
        return [tree_copy(v) for v in value]
    if kind in _IMMUTABLE:
        return value
    return copy.deepcopy(value)


def _assignments(operation: PatchOperation, rtype: ResourceType) -> list[tuple[PatchPath, Any]]:
    """The (path, value) pairs one operation stands for."""
    if operation.op not in OPS:
        raise InvalidSyntax(f"unknown op {operation.op!r}")
    if operation.path is not None:
        extension = _whole_extension(operation.path, rtype)
        if extension is None:
            return [(operation.path, operation.value)]
        if operation.op == "remove":
            return [
                (PatchPath(AttrPath(extension.id, attr.name)), None)
                for attr in extension.attributes
            ]
        if not isinstance(operation.value, dict):
            raise InvalidValue(f"a value for {extension.id} must be an object")
        value = {k: v for k, v in operation.value.items() if k.lower() != "schemas"}
        return compat.no_path_assignments({extension.id: value}, rtype)
    if operation.op == "remove":
        raise NoTarget("'remove' needs a 'path' (RFC 7644 §3.5.2.2)")
    return compat.no_path_assignments(operation.value, rtype)


def _whole_extension(path: PatchPath, rtype: ResourceType) -> Schema | None:
    """The extension schema when a path names a whole extension (``urn:…:enterprise:2.0:User``).

    The path grammar reads that URN as schema ``urn:…:2.0`` plus attribute ``User``; RFC 7644
    §3.5.2 allows the extension's URN as a path to its complex value.
    """
    attr = path.attr
    if attr.schema is None or attr.sub_attr is not None or path.value_filter is not None:
        return None
    if path.sub_attr is not None:
        return None
    candidate = rtype.schema_by_id(f"{attr.schema}:{attr.attr}")
    return candidate if candidate is not None and candidate is not rtype.schema else None


def _apply_delta(builder: DeltaBuilder, op: str, target: Target, value: Any) -> None:
    """Record an operation on a delta attribute (see ``delta``)."""
    attr = target.attr
    if attr.mutability == "readOnly":
        raise Mutability(f"'{attr.name}' is read-only")
    if target.sub is not None or target.filter_sub is not None:
        raise InvalidPath(
            f"sub-attributes of '{attr.name}' cannot be patched; add or remove values"
        )
    if target.value_filter is not None:
        ids = identity_values(target.value_filter, attr)
        if op != "remove" or ids is None:
            raise InvalidFilter(
                f"the only filter supported on '{attr.name}' is in a remove:"
                f' {attr.name}[value eq "<id>"], possibly joined with or'
            )
        builder.remove([{"value": i} for i in ids])
        return
    if op == "remove":
        listed = compat.listed_values_to_remove(value)
        if listed is None:
            builder.replace([])
        else:
            builder.remove(coerce_attribute(attr, listed, attr.name) or [])
        return
    values = coerce_attribute(attr, compat.single_value_as_list(value), attr.name) or []
    if op == "add":
        builder.add(values)
    else:
        builder.replace(values)


_DELTA_ATTRIBUTES: dict[tuple[int, frozenset[str]], tuple[ResourceType, dict[str, Attribute]]] = {}


def _delta_attributes(rtype: ResourceType, names: frozenset[str]) -> dict[str, Attribute]:
    """Each delta attribute by canonical name (``ValueError`` for a name that cannot be one).

    Remembered per (type, names): both frozen, asked on every PATCH (twice for one of
    member deltas alone); the type keyed by identity and kept with the answer, which its
    callers only read. A few types (again after a mapping reload) times one set of names."""
    key = (id(rtype), names)
    known = _DELTA_ATTRIBUTES.get(key)
    if known is not None and known[0] is rtype:
        return known[1]
    found = _worked_out_delta_attributes(rtype, names)
    if len(_DELTA_ATTRIBUTES) >= 64:
        _DELTA_ATTRIBUTES.clear()
    _DELTA_ATTRIBUTES[key] = (rtype, found)
    return found


def _worked_out_delta_attributes(
    rtype: ResourceType, names: frozenset[str]
) -> dict[str, Attribute]:
    out: dict[str, Attribute] = {}
    for name in names:
        attr = rtype.schema.attribute(name)
        if attr is None or not attr.multi_valued or attr.sub("value") is None:
            raise ValueError(f"{name!r} cannot be a delta attribute of {rtype.name}")
        out[attr.name] = attr
    return out


def _member(obj: dict[str, Any], name: str) -> Any:
    if name in obj:
        return obj[name]
    folded = name.casefold()
    return next((v for k, v in obj.items() if isinstance(k, str) and k.casefold() == folded), None)


def mentioned_ids(operations: list[PatchOperation], names: frozenset[str]) -> list[str]:
    """Ids a PATCH gives for the reference attributes ``names`` (``members``, ``manager``).

    A prefetch hint, so the caller can look the referenced resources up together with the
    resource being patched; what it misses is resolved later the ordinary way.
    """
    out: list[str] = []
    for op in operations:
        if op.path is None:
            if isinstance(op.value, dict):
                _visit_ids(op.value, names, out)
            continue
        if op.path.attr.attr.lower() not in names:
            continue
        if op.value is not None:
            _collect_ids(op.value, out)
        flt = op.path.value_filter
        if flt is not None and getattr(flt, "op", None) == "eq":
            _collect_ids(getattr(flt, "value", None), out)
    return list(dict.fromkeys(out))


def _collect_ids(value: Any, out: list[str]) -> None:
    """``mentioned_ids``' ids of one value: each item's ``value`` (or the item), if a string.
    (Module functions rather than closures made anew on every call: one per PATCH.)"""
    for item in value if isinstance(value, list) else [value]:
        ident = item.get("value") if isinstance(item, dict) else item
        if isinstance(ident, str) and ident:
            out.append(ident)


def _visit_ids(obj: dict[str, Any], names: frozenset[str], out: list[str]) -> None:
    """``mentioned_ids``' ids of a path-less value: its keys naming ``names``, URN parts too."""
    for key, value in obj.items():
        if key.startswith("urn:") and isinstance(value, dict):
            _visit_ids(value, names, out)
        elif key.rsplit(":", 1)[-1].split(".")[0].lower() in names:
            _collect_ids(value, out)
