"""Shortcuts in the mapping's per-value helpers, held to the general answers they replace:
``is_mapping`` to ``isinstance(value, Mapping)``, ``meta`` with equal timestamps to two
conversions."""

from __future__ import annotations

from collections import OrderedDict, UserDict
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from gateway.mapping import translate
from gateway.mapping.converters import generalized_time_to_iso
from gateway.mapping.loader import load_mapping
from gateway.mapping.slots import is_mapping

ROOT = Path(__file__).resolve().parents[3]


class _Custom(Mapping[str, Any]):
    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


class _Text(str):
    pass


class _Items(list[Any]):
    pass


VALUES: list[Any] = [
    {},
    {"a": 1},
    OrderedDict(a=1),
    UserDict(a=1),
    MappingProxyType({"a": 1}),
    _Custom(),
    [],
    [{"a": 1}],
    _Items(),
    "",
    "text",
    _Text("x"),
    0,
    1.5,
    True,
    None,
    (),
    set(),
    b"bytes",
    object(),
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_is_mapping_answers_as_isinstance(value: Any) -> None:
    assert is_mapping(value) is isinstance(value, Mapping)


@pytest.mark.parametrize(
    ("created", "modified"),
    [
        ("20260101000000Z", "20260101000000Z"),
        ("20260101000000Z", "20260102030405Z"),
        ("20260101000000.5Z", "20260101000000.5Z"),
        ("not a time", "not a time"),
        ("19991231235959+0100", "19991231235959+0100"),
        ("", ""),
        (None, None),
        (None, "20260101000000Z"),
        ("20260101000000Z", None),
    ],
)
def test_meta_with_equal_timestamps_is_two_conversions(
    created: str | None, modified: str | None
) -> None:
    rm = load_mapping(ROOT / "mappings" / "openldap.yaml")["User"]
    attributes: dict[str, tuple[str, ...]] = {"entrycsn": ("20260101000000.000000Z#0#0#0",)}
    if created is not None:
        attributes["createtimestamp"] = (created,)
    if modified is not None:
        attributes["modifytimestamp"] = (modified,)
    expected: dict[str, Any] = {"resourceType": "User"}
    if created:
        expected["created"] = generalized_time_to_iso(created)
    if modified:
        expected["lastModified"] = generalized_time_to_iso(modified)
    expected["version"] = 'W/"20260101000000.000000Z#0#0#0"'
    assert translate._meta(rm, attributes) == expected
