"""Helpers shared by the PATCH tests: build a PatchOp body, parse it and apply it."""

from __future__ import annotations

from typing import Any

from gateway.scim.messages import ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, PATCH_OP, USER_SCHEMA
from gateway.scim.patch import PatchResult, apply_patch, parse_patch_request
from gateway.scim.schema import GROUP_TYPE, USER_TYPE, ResourceType

ENTERPRISE = ENTERPRISE_USER_SCHEMA


def body(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def run(
    resource: dict[str, Any],
    *operations: dict[str, Any],
    rtype: ResourceType = USER_TYPE,
    delta: frozenset[str] = frozenset(),
) -> PatchResult:
    return apply_patch(
        resource, parse_patch_request(body(*operations)), rtype, delta_attributes=delta
    )


def patched(resource: dict[str, Any], *operations: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return run(resource, *operations, **kw).resource


def user(**attributes: Any) -> dict[str, Any]:
    """A stored user as the mapping would hand it over."""
    return {"schemas": [USER_SCHEMA], "id": "u1", "userName": "bjensen", **attributes}


def group(**attributes: Any) -> dict[str, Any]:
    return {"schemas": [GROUP_SCHEMA], "id": "g1", "displayName": "Tour Guides", **attributes}


__all__ = ["ENTERPRISE", "GROUP_TYPE", "USER_TYPE", "body", "group", "patched", "run", "user"]
