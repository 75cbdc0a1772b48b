"""The handful of BER encodings (X.690) that LDAP messages use, written out by hand.

Why not pyasn1 (which ldap3 uses): building and encoding a request through pyasn1's
generic object model cost more CPU than everything else in a SCIM request put together
(profiled: about half of a member add). LDAP uses a tiny, fixed subset of BER — single-byte
tags, definite lengths, OCTET STRING / INTEGER / ENUMERATED / BOOLEAN and constructed
SEQUENCE / SET / CHOICE — so direct byte assembly is short, and the unit tests check it
byte for byte against pyasn1's output.
"""

from __future__ import annotations

# universal tags
BOOLEAN = 0x01
INTEGER = 0x02
OCTET_STRING = 0x04
ENUMERATED = 0x0A
SEQUENCE = 0x30
SET = 0x31


class BerError(ValueError):
    """Bytes that are not the BER they should be (a broken or hostile peer)."""


def tlv(tag: int, content: bytes) -> bytes:
    """Tag, definite length, content."""
    n = len(content)
    if n < 0x80:
        heads = _SHORT_HEADS.get(tag)
        return (heads[n] if heads is not None else bytes((tag, n))) + content
    if n < 0x100:  # the long forms of one and two bytes, as the general one writes them
        return bytes((tag, 0x81, n)) + content
    if n < 0x10000:
        return bytes((tag, 0x82, n >> 8, n & 0xFF)) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + content


_SHORT_HEADS = {
    tag: tuple(bytes((tag, n)) for n in range(0x80))
    for tag in (
        SEQUENCE,
        SET,
        OCTET_STRING,
        INTEGER,
        ENUMERATED,
        0x63,
        0x66,
        0x68,
        0x87,
        *range(0xA0, 0xA7),
    )
}
"""The header of a short element of the tags a request is built of (sequences, sets, values,
the search / modify / add requests, filters, controls): taken from here rather than made,
half the cost of ``bytes((tag, n))`` (a request is a few dozen elements; 16 tags, 90 KB)."""
_OCTETS_HEAD = _SHORT_HEADS[OCTET_STRING]


def short_heads(tag: int) -> tuple[bytes, ...]:
    """The header of every short element of ``tag`` (index: its length, 0-127), as
    :func:`tlv` writes them: for encoders that write their elements inline."""
    heads = _SHORT_HEADS.get(tag)
    return heads if heads is not None else tuple(bytes((tag, n)) for n in range(0x80))


def octets(value: str | bytes, tag: int = OCTET_STRING) -> bytes:
    data = value.encode("utf-8") if isinstance(value, str) else value
    # the usual element (an attribute name, a value, a DN): its header from a table, half
    # the cost of tlv() (a PATCH encodes about forty)
    if tag == OCTET_STRING and len(data) < 0x80:
        return _OCTETS_HEAD[len(data)] + data
    return tlv(tag, data)


def integer(value: int, tag: int = INTEGER) -> bytes:
    """Two's complement, minimal length (X.690 §8.3)."""
    length = value.bit_length() // 8 + 1
    return tlv(tag, value.to_bytes(length, "big", signed=True))


def enumerated(value: int) -> bytes:
    return integer(value, ENUMERATED)


def boolean(value: bool, tag: int = BOOLEAN) -> bytes:
    return tlv(tag, b"\xff" if value else b"\x00")


def sequence(*parts: bytes, tag: int = SEQUENCE) -> bytes:
    return tlv(tag, b"".join(parts))


def header(data: bytes, pos: int) -> tuple[int, int, int]:
    """The element at ``pos``: (tag, start of content, end of content)."""
    try:
        tag = data[pos]
        first = data[pos + 1]
    except IndexError:
        raise BerError("truncated element") from None
    pos += 2
    if first < 0x80:
        end = pos + first
    else:
        count = first & 0x7F
        if count == 0 or count > 4:
            raise BerError("unsupported length form")
        end = pos + count + int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if end > len(data):
        raise BerError("element longer than its container")
    return tag, pos, end


def message_length(data: bytes, pos: int = 0) -> int | None:
    """Total size of the element at ``pos``, or None if its header is not all there yet."""
    if len(data) < pos + 2:
        return None
    first = data[pos + 1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4:
        raise BerError("unsupported length form")
    if len(data) < pos + 2 + count:
        return None
    return 2 + count + int.from_bytes(data[pos + 2 : pos + 2 + count], "big")


def children(
    data: bytes, start: int, end: int, at_most: int = 1 << 20
) -> list[tuple[int, int, int]]:
    """The elements inside a constructed element's content ``data[start:end]``.

    ``at_most``: more elements than this is an error, raised before the list grows past it
    — two bytes of input make one element, so without a bound a hostile peer's few megabytes
    would become hundreds of megabytes of tuples (each caller knows how many it can take).
    """
    out: list[tuple[int, int, int]] = []
    append = out.append
    size = len(data)
    pos = start
    while pos < end:
        if len(out) == at_most:
            raise BerError(f"more than {at_most} elements in one container")
        # header() inlined for the short length form (every element under 128 bytes): an
        # answer holds dozens of elements and each read of one decodes them all
        if pos + 1 < size and (first := data[pos + 1]) < 0x80:
            tag, s, e = data[pos], pos + 2, pos + 2 + first
            if e > size:
                raise BerError("element longer than its container")
        else:
            tag, s, e = header(data, pos)
        if e > end:
            raise BerError("element longer than its container")
        append((tag, s, e))
        pos = e
    return out


def read_integer(data: bytes, start: int, end: int) -> int:
    if start == end:
        raise BerError("empty integer")
    return int.from_bytes(data[start:end], "big", signed=True)
