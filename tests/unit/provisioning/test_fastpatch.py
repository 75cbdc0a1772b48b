"""What If-Match becomes in the one-write PATCH's assertion, or when it is left to today's path."""

from __future__ import annotations

import pytest

from gateway.directory import ldapfilter as lf
from gateway.provisioning.fastpatch import _operation_count, _version_guard

CSN = "20261203010203.123456Z#000000#000#000000"
OTHER = "20261203010204.000001Z#000002#001#000000"


@pytest.mark.parametrize(
    ("attribute", "header", "expected"),
    [
        ("entryCSN", None, (True, None)),
        ("entryCSN", "*", (True, None)),
        ("entryCSN", f'W/"{CSN}"', (True, lf.Equal("entryCSN", CSN))),
        (
            "entryCSN",
            f'W/"{CSN}", "{OTHER}"',
            (True, lf.Or((lf.Equal("entryCSN", CSN), lf.Equal("entryCSN", OTHER)))),
        ),
        ("entryCSN", 'W/"not-a-csn"', (False, None)),  # cannot match: today's path says 412
        ("entryCSN", "garbage without quotes", (False, None)),  # today's path: 412 as well
        (None, f'W/"{CSN}"', (False, None)),  # the directory keeps no versions
        (None, "*", (True, None)),
        ("entryUSN", 'W/"42"', (True, lf.Equal("entryUSN", "42"))),
    ],
)
def test_if_match_becomes_an_assertion_or_todays_path(
    attribute: str | None, header: str | None, expected: tuple
) -> None:
    assert _version_guard(attribute, header) == expected


def test_long_patches_are_counted_without_parsing() -> None:
    assert _operation_count({"Operations": [{}] * 40}) == 40
    assert _operation_count({"operations": [{}]}) == 1
    assert _operation_count({"Operations": "x"}) == 0
    assert _operation_count(["not", "an", "object"]) == 0
