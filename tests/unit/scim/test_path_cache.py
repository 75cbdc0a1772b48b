"""parse_path keeps short paths' parses (a PatchPath is frozen): a remembered parse must be
what parsing afresh gives, errors must still be raised each time, and long paths bypass."""

from __future__ import annotations

import pytest

from gateway.errors import InvalidPath
from gateway.scim import path as path_module
from gateway.scim.path import parse_path

from .test_path import ERRORS, PATHS


@pytest.mark.parametrize(("text", "expected"), PATHS, ids=[t for t, _ in PATHS])
def test_a_remembered_parse_is_a_fresh_parse(text: str, expected: object) -> None:
    path_module._parsed.cache_clear()
    first = parse_path(text)
    again = parse_path(text)
    assert first == again == path_module._parse(text) == expected
    assert path_module._parsed.cache_info().hits >= 1


@pytest.mark.parametrize(("text", "detail"), ERRORS, ids=[repr(t) for t, _ in ERRORS])
def test_a_bad_path_fails_every_time(text: object, detail: str) -> None:
    for _ in range(2):
        with pytest.raises(InvalidPath) as caught:
            parse_path(text)  # type: ignore[arg-type]
        assert detail in caught.value.detail


def test_long_paths_are_parsed_each_time_not_kept() -> None:
    path_module._parsed.cache_clear()
    value = "v" * path_module._CACHED_LENGTH
    text = f'members[value eq "{value}"]'
    assert parse_path(text).value_filter.value == value  # type: ignore[union-attr]
    assert path_module._parsed.cache_info().currsize == 0


def test_the_cache_is_bounded() -> None:
    path_module._parsed.cache_clear()
    for i in range(path_module._parsed.cache_info().maxsize + 10):
        parse_path(f"attr{i}")
    info = path_module._parsed.cache_info()
    assert info.currsize == info.maxsize
