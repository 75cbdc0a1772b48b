"""Client quirks the gateway accepts, one function each.

Every function names the client that needs it and the RFC clause it bends, so that a quirk
is never mistaken for the standard and can be dropped when the client is fixed. Sources are
in ../shared/reference/entra-scim.md (sections 4, 5 and 9).

Nothing here is applied silently elsewhere: ``values`` and ``patch`` call these by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gateway.errors import InvalidPath, InvalidValue
from gateway.scim.filter import AttrPath
from gateway.scim.path import PatchPath, parse_path

if TYPE_CHECKING:
    from gateway.scim.schema import ResourceType


def op_name(op: object) -> object:
    """Lower-case a PATCH ``op``.

    Microsoft Entra ID (without ``aadOptscim062020``) sends ``"Add"``, ``"Replace"`` and
    ``"Remove"``; RFC 7644 §3.5.2 spells them in lower case.
    """
    return op.lower() if isinstance(op, str) else op


def boolean_from_string(value: object) -> object:
    """Turn ``"True"``/``"False"`` (any case, surrounding blanks ignored) into JSON booleans.

    Microsoft Entra ID sends ``{"op":"Replace","path":"active","value":"False"}`` to disable a
    user; RFC 7643 §2.3.2 requires the JSON literals ``true``/``false``. Other values are
    returned unchanged for the caller to reject.
    """
    if isinstance(value, str):
        folded = value.strip().lower()
        if folded in ("true", "false"):
            return folded == "true"
    return value


def empty_string_as_unassigned(value: object) -> object:
    """Treat ``""`` like ``null``: the attribute becomes unassigned.

    Microsoft's SCIM Validator removes the manager with ``"value": ""``; RFC 7643 §2.5 only
    equates ``null`` and ``[]`` with "unassigned". An empty string cannot be stored in LDAP
    anyway (most syntaxes need at least one character).
    """
    return None if value == "" else value


def reference_from_bare_id(value: object) -> object:
    """Wrap a bare id string as ``{"value": id}`` (``""`` becomes unassigned).

    Microsoft Entra ID sends the enterprise ``manager`` as a plain string
    (``"value": "<manager id>"``); RFC 7643 §4.3 defines it as a complex attribute with a
    ``value`` sub-attribute. Applied to single-valued complex attributes that have a
    ``value`` sub-attribute, which in the RFC schemas is only ``manager``.
    """
    if isinstance(value, str):
        return {"value": value} if value else None
    return value


def single_element_list_as_object(value: object) -> object:
    """Unwrap ``[{...}]`` given for a single-valued complex attribute.

    Microsoft Entra ID's older tutorial sample sets the manager with
    ``"value": [{"$ref": ..., "value": ...}]``; RFC 7643 §4.3 makes ``manager`` single-valued.
    """
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
        return value[0]
    return value


def single_value_as_list(value: object) -> object:
    """Wrap one value given for a multi-valued attribute in a list.

    Hand-written clients (not Entra's documented traffic) send ``"value": {"value": "id"}``
    to add one member; RFC 7644 §3.5.2.1 expects an array for a multi-valued target.
    """
    return value if isinstance(value, list) or value is None else [value]


def listed_values_to_remove(value: object) -> list[Any] | None:
    """The values of a ``remove`` on a multi-valued attribute that carries a ``value``.

    Microsoft Entra ID removes group members with
    ``{"op":"Remove","path":"members","value":[{"value":"<id>"}]}``. RFC 7644 §3.5.2.2 has no
    ``value`` for remove, and a path without a filter removes *all* values, which wipes the
    group. We remove exactly the listed values: ``[]`` removes nothing, and only a missing
    (or null) ``value`` means "all values" (``None``).
    """
    if value is None:
        return None
    return value if isinstance(value, list) else [value]


def no_path_assignments(value: object, rtype: ResourceType) -> list[tuple[PatchPath, Any]]:
    """Split the value of an ``add``/``replace`` without ``path`` into (path, value) pairs.

    RFC 7644 §3.5.2.1/§3.5.2.3: the value is an object of attributes, extension attributes
    nested under their schema URN. Microsoft Entra ID with ``aadOptscim062020`` also uses
    *dotted* keys (``"name.givenName"``) and *URN-qualified* keys
    (``"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"``), which
    the RFC does not allow as attribute names; each key is read as a PATCH path instead.
    """
    if not isinstance(value, dict):
        raise InvalidValue("without a 'path', 'value' must be a JSON object of attributes")
    pairs: list[tuple[PatchPath, Any]] = []
    for key, item in value.items():
        if key.lower() == "schemas":
            continue
        schema = rtype.schema_by_id(key)
        if schema is None:
            pairs.append((_key_path(key, None), item))
            continue
        if item is None:
            continue
        if not isinstance(item, dict):
            raise InvalidValue(f"'{key}' must be a JSON object of that schema's attributes")
        for inner_key, inner in item.items():
            pairs.append((_key_path(inner_key, schema.id), inner))
    return pairs


def _key_path(key: str, schema_id: str | None) -> PatchPath:
    try:
        path = parse_path(key)
    except InvalidPath as err:
        raise InvalidPath(f"attribute name '{key}' in 'value': {err.detail}") from err
    if schema_id is None:
        return path
    if path.attr.schema is not None and path.attr.schema.casefold() != schema_id.casefold():
        raise InvalidPath(f"'{key}' does not belong to schema '{schema_id}'")
    attr = AttrPath(schema_id, path.attr.attr, path.attr.sub_attr)
    return PatchPath(attr, path.value_filter, path.sub_attr)
