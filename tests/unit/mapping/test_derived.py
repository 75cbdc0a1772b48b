"""Reads of derived values: the flat form taken apart without re-flattening (derived.py)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gateway.mapping import derived
from gateway.mapping.model import Template
from gateway.mapping.slots import template_values

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
RESOURCE: dict[str, Any] = {
    "userName": "lee",
    "displayName": "Ann Lee",
    "name": {"givenName": "Ann", "familyName": "Lee", "formatted": "Ann Lee", "n": 3},
    "emails": [{"value": "a@example.org"}],
    ENTERPRISE: {"department": "R&D", "manager": {"value": "x"}},
}


def _left_out(resource: dict[str, Any], container: str | None, attr: str, parts: set) -> dict:
    """What the read used to flatten: a copy of ``resource`` without those parts."""
    out = copy.deepcopy(resource)
    box = out[container] if container else out
    if None in parts:
        box.pop(attr, None)
    elif isinstance(box.get(attr), dict):
        box[attr] = {k: v for k, v in box[attr].items() if k not in parts}
    return out


@pytest.mark.parametrize(
    ("container", "attr", "parts"),
    [
        (None, "name", {"familyName"}),
        (None, "name", {"familyName", "formatted"}),
        (None, "name", {None}),
        (None, "name", {"n", "absent"}),
        (None, "userName", {None}),
        (None, "displayName", {"givenName"}),  # a string attribute keeps its key for parts
        (None, "emails", {None}),
        (None, "missing", {None}),
        (ENTERPRISE, "department", {None}),
        (ENTERPRISE, "manager", {None}),
        (ENTERPRISE, "manager", {"value"}),
    ],
)
def test_flat_keys_are_what_flattening_the_resource_without_the_parts_loses(
    container: str | None, attr: str, parts: set
) -> None:
    whole = template_values(RESOURCE)
    kept = template_values(_left_out(RESOURCE, container, attr, parts))
    gone = derived._flat_keys(RESOURCE, container, attr, frozenset(parts))
    assert {k: v for k, v in whole.items() if k not in gone} == kept


def test_a_template_renders_only_when_every_field_has_a_value() -> None:
    both = Template.parse("{name.givenName} {name.familyName}")
    one = Template.parse("{ userName }")
    values = {"name.givenName": "Ann", "name.familyName": "Lee", "userName": " lee "}
    assert both.render(values) == "Ann Lee"
    assert one.render(values) == "lee"  # stripped, like a template with text around it
    assert both.render({"name.givenName": "Ann", "name.familyName": ""}) is None
    assert one.render({"userName": "   "}) is None
    assert Template.parse("x-{userName}-y").render({"userName": "a"}) == "x-a-y"
