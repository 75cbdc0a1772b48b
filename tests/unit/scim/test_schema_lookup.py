"""``Attribute.sub`` and ``Schema.attribute`` look a name up in a table built with the
definition; they must answer as the scan they replace (first match of ``casefold()``, in
order), over every shipped schema, names in any case, unknown names and duplicates."""

from __future__ import annotations

import copy
from dataclasses import replace

from gateway.scim.schema import GROUP_TYPE, USER_TYPE, Attribute, Schema
from gateway.scim.schema_model import COMMON_ATTRIBUTES


def _scan(attributes: tuple[Attribute, ...], name: str) -> Attribute | None:
    folded = name.casefold()
    return next((a for a in attributes if a.name.casefold() == folded), None)


def _spellings(name: str) -> list[str]:
    return [name, name.upper(), name.lower(), name.swapcase(), f"{name}x", name[:-1]]


def _schemas() -> list[Schema]:
    return [s for t in (USER_TYPE, GROUP_TYPE) for s in t.schemas()]


def test_schema_attribute_answers_as_the_scan() -> None:
    checked = 0
    for schema in _schemas():
        for attr in schema.attributes:
            for name in _spellings(attr.name):
                assert schema.attribute(name) is _scan(schema.attributes, name)
                checked += 1
        assert schema.attribute("") is None
    assert checked > 100


def test_attribute_sub_answers_as_the_scan() -> None:
    checked = 0
    every = [a for s in _schemas() for a in s.attributes] + list(COMMON_ATTRIBUTES)
    for attr in every:
        for sub in attr.sub_attributes:
            for name in [*_spellings(sub.name), "value", "TYPE", "primary", "nope"]:
                assert attr.sub(name) is _scan(attr.sub_attributes, name)
                checked += 1
    assert checked > 100


def test_the_first_of_a_duplicated_name_wins_as_in_the_scan() -> None:
    first = Attribute("Value", description="first")
    second = Attribute("value", description="second")
    attr = Attribute("x", "complex", sub_attributes=(first, second))
    assert attr.sub("VALUE") is first is _scan(attr.sub_attributes, "VALUE")
    schema = Schema("urn:x", "x", "", (first, second))
    assert schema.attribute("value") is first


def test_copies_and_replacements_keep_their_own_table() -> None:
    attr = USER_TYPE.schema.attribute("emails")
    assert attr is not None
    other = copy.deepcopy(attr)
    assert other == attr and hash(other) == hash(attr)
    assert other.sub("TYPE") == attr.sub("type")
    narrowed = replace(attr, sub_attributes=attr.sub_attributes[:1])
    assert narrowed.sub(attr.sub_attributes[-1].name) is None
    assert narrowed.sub(attr.sub_attributes[0].name) is attr.sub_attributes[0]
