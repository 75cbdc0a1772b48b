"""ber.children: its inlined short-form reading gives what header() gives, errors included."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.directory import ber


def _by_header(data: bytes, start: int, end: int, at_most: int) -> list[tuple[int, int, int]]:
    """The elements as header() reads them one by one (what children() did before)."""
    out: list[tuple[int, int, int]] = []
    pos = start
    while pos < end:
        if len(out) == at_most:
            raise ber.BerError(f"more than {at_most} elements in one container")
        tag, s, e = ber.header(data, pos)
        if e > end:
            raise ber.BerError("element longer than its container")
        out.append((tag, s, e))
        pos = e
    return out


def _outcome(read, data: bytes, start: int, end: int, at_most: int) -> object:  # type: ignore[no-untyped-def]
    try:
        return read(data, start, end, at_most)
    except ber.BerError as err:
        return ("BerError", str(err))


# bytes that are often tags and lengths: short and long length forms, truncations
BYTES = st.binary(max_size=16) | st.lists(
    st.sampled_from([0x30, 0x04, 0x02, 0x00, 0x01, 0x02, 0x03, 0x7F, 0x80, 0x81, 0x82, 0x85]),
    max_size=16,
).map(bytes)


@settings(max_examples=2000, deadline=None)
@given(BYTES, st.integers(0, 3), st.integers(0, 20), st.sampled_from([1, 2, 3, 1 << 20]))
def test_children_reads_what_header_reads(data: bytes, start: int, end: int, at_most: int) -> None:
    assert _outcome(ber.children, data, start, end, at_most) == _outcome(
        _by_header, data, start, end, at_most
    )


def test_children_of_a_sequence_with_short_and_long_elements() -> None:
    long_value = b"x" * 200
    inner = ber.octets("ab") + ber.octets(long_value) + ber.integer(5)
    data = ber.sequence(inner)
    _, start, end = ber.header(data, 0)
    kids = ber.children(data, start, end)
    assert [data[s:e] for _, s, e in kids] == [b"ab", long_value, b"\x05"]
    with pytest.raises(ber.BerError, match="longer than its container"):
        ber.children(data[:-1], start, end)  # the last element cut short


@pytest.mark.parametrize("size", [0, 1, 127, 128, 255, 256, 70000])
@pytest.mark.parametrize("tag", [ber.OCTET_STRING, 0x80, 0x87])
def test_octets_is_tag_length_content(size: int, tag: int) -> None:
    value = "é" * (size // 2) + "x" * (size % 2)  # str: encoded to UTF-8 first
    data = value.encode("utf-8")
    assert ber.octets(value, tag) == ber.tlv(tag, data) == ber.octets(data, tag)
    got_tag, start, end = ber.header(ber.octets(value, tag), 0)
    assert (got_tag, end - start) == (tag, len(data))
