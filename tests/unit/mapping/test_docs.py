"""docs/mapping.md cannot rot: its YAML examples load, and it names every key the loader knows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.mapping import loader
from gateway.mapping.behaviour import MEMBER_OF_SOURCES, DirectorySchema
from gateway.mapping.converters import REGISTRY
from gateway.mapping.disable import STRATEGIES
from gateway.mapping.loader import load_mapping_text
from gateway.mapping.model import WRITE_POLICIES

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs" / "mapping.md").read_text(encoding="utf-8")
EXAMPLES = re.findall(r"^```yaml\n(.*?)^```$", DOC, flags=re.DOTALL | re.MULTILINE)


def test_the_doc_has_examples() -> None:
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_every_yaml_example_in_the_doc_loads(index: int) -> None:
    mapping = load_mapping_text(EXAMPLES[index], f"docs/mapping.md example {index + 1}")
    assert mapping.resources


def test_the_complete_example_uses_every_rule_kind() -> None:
    user = load_mapping_text(EXAMPLES[0])["User"]
    derived = user.derived
    assert any(d.constant for d in derived) and any(d.templates for d in derived)
    assert any(d.allocate for d in derived)
    assert {r.write for r in user.attributes} == set(WRITE_POLICIES)
    assert user.disable is not None and load_mapping_text(EXAMPLES[0])["Group"].members


SCHEMAS = [
    loader._FileSchema,
    loader._ResourceSchema,
    loader._RuleSchema,
    *(strategy.Keys for strategy in STRATEGIES.values()),
    DirectorySchema,
    loader._MembersSchema,
    loader._AllocateSchema,
]


@pytest.mark.parametrize(
    "key", sorted({name for schema in SCHEMAS for name in schema().fields}), ids=str
)
def test_the_doc_names_every_key(key: str) -> None:
    assert f"`{key}`" in DOC


@pytest.mark.parametrize("name", [*REGISTRY, *WRITE_POLICIES, *STRATEGIES, *MEMBER_OF_SOURCES])
def test_the_doc_names_every_converter_policy_and_strategy(name: str) -> None:
    assert f"`{name}`" in DOC


def test_the_loader_docstring_points_to_the_doc() -> None:
    assert "docs/mapping.md" in (loader.__doc__ or "")
