"""parse_patch_request's exact-key checks (the PatchOp URN as sent, a ``value`` key) answer
what the case-insensitive scans they go before answer (RFC 7643 §2.1)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import ScimError
from gateway.scim.messages import PATCH_OP
from gateway.scim.patch import parse_patch_request

SCHEMAS: list[Any] = [
    [PATCH_OP],
    [PATCH_OP.upper()],
    ["x", PATCH_OP],
    [1, None, {"a": 1}, PATCH_OP],
    [1, None, {"a": 1}],
    ["urn:ietf:params:scim:api:messages:2.0:PatchOps"],
    [],
    PATCH_OP,
]
OPERATIONS: list[Any] = [
    {"op": "add", "path": "title", "value": "x"},
    {"op": "add", "path": "title", "Value": "x"},
    {"op": "add", "path": "title", "VALUE": None},
    {"op": "add", "path": "title"},
    {"op": "add", "path": "title", 1: "x"},
    {"op": "remove", "path": "title", "value": "x"},
    {"op": "replace", "value": {"title": "x"}},
    {"op": "replace", "Value": {"title": "x"}},
]


def by_scan(body: dict[str, Any]) -> Any:
    """The answer from the scans alone: the exact keys hidden behind other cases."""
    folded = dict(body)
    schemas = folded.pop("schemas")
    folded["SCHEMAS"] = (
        [s.swapcase() if isinstance(s, str) else s for s in schemas]
        if (isinstance(schemas, list))
        else schemas
    )
    ops = []
    for raw in folded.pop("Operations"):
        raw = {("VALUE" if k == "value" else k): v for k, v in raw.items()}
        ops.append(raw)
    folded["Operations"] = ops
    return outcome(folded)


def outcome(body: dict[str, Any]) -> Any:
    try:
        return ("ok", parse_patch_request(body))
    except ScimError as err:
        return ("raised", type(err), err.detail)


@pytest.mark.parametrize("schemas", SCHEMAS)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_exact_keys_answer_as_the_scans(schemas: Any, operation: dict[str, Any]) -> None:
    body = {"schemas": schemas, "Operations": [operation]}
    assert outcome(body) == by_scan(body)
