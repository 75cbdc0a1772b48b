"""PatchOp request bodies (RFC 7644 §3.5.2): validation and parsing."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import InvalidPath, InvalidSyntax, InvalidValue, NoTarget, ScimError
from gateway.scim.filter import AttrPath, Compare
from gateway.scim.messages import PATCH_OP
from gateway.scim.patch import PatchOperation, parse_patch_request
from gateway.scim.path import PatchPath

from .patching import body


def test_entra_capitalised_ops_are_lower_cased() -> None:
    operations = parse_patch_request(
        body(
            {"op": "Add", "path": "nickName", "value": "Babs"},
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Remove", "path": "members", "value": [{"value": "u1"}]},
            {"op": "REPLACE", "value": {"displayName": "X"}},
        )
    )
    assert operations == [
        PatchOperation("add", PatchPath(AttrPath(None, "nickName")), "Babs"),
        PatchOperation("replace", PatchPath(AttrPath(None, "active")), "False"),
        PatchOperation("remove", PatchPath(AttrPath(None, "members")), [{"value": "u1"}]),
        PatchOperation("replace", None, {"displayName": "X"}),
    ]


def test_paths_are_parsed() -> None:
    [operation] = parse_patch_request(
        body({"op": "remove", "path": 'members[value eq "7f4bc1a3"]'})
    )
    assert operation == PatchOperation(
        "remove",
        PatchPath(AttrPath(None, "members"), Compare(AttrPath(None, "value"), "eq", "7f4bc1a3")),
        None,
    )


def test_member_names_are_case_insensitive() -> None:
    operations = parse_patch_request(
        {
            "Schemas": [PATCH_OP.upper()],
            "operations": [{"OP": "add", "Path": "title", "VALUE": "X"}],
        }
    )
    assert operations == [PatchOperation("add", PatchPath(AttrPath(None, "title")), "X")]


def test_null_value_is_a_value_for_replace() -> None:
    [operation] = parse_patch_request(body({"op": "replace", "path": "title", "value": None}))
    assert operation.value is None


ERRORS: list[tuple[str, Any, type[ScimError], str]] = [
    ("not an object", [], InvalidSyntax, "must be a JSON object"),
    (
        "no schemas",
        {"Operations": [{"op": "add", "path": "a", "value": 1}]},
        InvalidSyntax,
        "'schemas' must be",
    ),
    (
        "wrong schema",
        {"schemas": ["urn:x"], "Operations": [{"op": "add"}]},
        InvalidSyntax,
        PATCH_OP,
    ),
    (
        "schemas not a list",
        {"schemas": PATCH_OP, "Operations": []},
        InvalidSyntax,
        "'schemas' must be",
    ),
    (
        "no Operations",
        {"schemas": [PATCH_OP]},
        InvalidSyntax,
        "'Operations' must be a non-empty array",
    ),
    ("empty Operations", body(), InvalidSyntax, "'Operations' must be a non-empty array"),
    ("operation not an object", body("add"), InvalidSyntax, "Operations[0] must be a JSON object"),  # type: ignore[arg-type]
    (
        "unknown op",
        body({"op": "move", "path": "a"}),
        InvalidSyntax,
        "Operations[0].op must be 'add', 'replace' or 'remove', not 'move'",
    ),
    ("missing op", body({"path": "a"}), InvalidSyntax, "not None"),
    ("op not a string", body({"op": 1, "path": "a"}), InvalidSyntax, "not 1"),
    (
        "path not a string",
        body({"op": "remove", "path": 5}),
        InvalidPath,
        "Operations[0].path must be a string",
    ),
    (
        "bad path",
        body({"op": "remove", "path": "emails[type eq]"}),
        InvalidPath,
        "Operations[0].path: invalid path at position 14",
    ),
    ("empty path", body({"op": "remove", "path": ""}), InvalidPath, "the path is empty"),
    (
        "add without value",
        body({"op": "add", "path": "title"}),
        InvalidValue,
        "'add' needs a 'value'",
    ),
    (
        "replace without value",
        body({"op": "replace", "path": "title"}),
        InvalidValue,
        "'replace' needs a 'value'",
    ),
    (
        "no-path value not an object",
        body({"op": "add", "value": "x"}),
        InvalidValue,
        "without a 'path', 'value' must be an object",
    ),
    ("remove without path", body({"op": "remove"}), NoTarget, "'remove' needs a 'path'"),
    (
        "error names the operation",
        body({"op": "add", "path": "a", "value": 1}, {"op": "remove"}),
        NoTarget,
        "Operations[1]:",
    ),
]


@pytest.mark.parametrize(
    ("payload", "error", "detail"), [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS]
)
def test_invalid_patch_requests(payload: Any, error: type[ScimError], detail: str) -> None:
    with pytest.raises(error) as caught:
        parse_patch_request(payload)
    assert detail in caught.value.detail
