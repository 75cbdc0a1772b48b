"""The codec's fast paths give what its general paths give: the same values, the same budget
left, the same error — on well-formed answers and on broken or hostile ones alike.

Each fast path reads only what it is sure of and hands anything else to the general path;
these tests generate both kinds of input (and bytes flipped, cut, or inserted into them) and
compare the outcomes of the two paths.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.directory import ber, messages
from gateway.directory import ldapfilter as lf

# ---------------------------------------------------------------------------- helpers


def _element(tag: int, content: bytes, form: int, wrong: int = 0) -> bytes:
    """``content`` under ``tag`` with its length in ``form`` extra bytes (0: short form when
    it fits), minimal or not: BER allows both and the general path reads both. ``wrong``:
    added to the length written (a header that does not fit its content)."""
    n = max(len(content) + wrong, 0)
    if form == 0 and n < 0x80:
        return bytes((tag, n)) + content
    size = max(form, (n.bit_length() + 7) // 8, 1)
    return bytes((tag, 0x80 | size)) + n.to_bytes(size, "big") + content


FORMS = st.sampled_from([0, 0, 0, 1, 2, 3])
NAMES = st.sampled_from([b"cn", b"CN", b"mail", b"objectClass", b"entryUUID", b"sn", b""] * 3)
NAMES = NAMES | st.sampled_from([b"x" * 130, b"caf\xe9"])  # long, not ASCII: less often
VALUES = st.one_of(
    st.sampled_from([b"", b"Ann", b"caf\xc3\xa9", b"a" * 127, b"b" * 128, b"c" * 300]),
    st.text(max_size=6).map(str.encode),
)
VALUES = VALUES | st.sampled_from([b"caf\xe9", b"\xff\xd8"])  # not UTF-8: less often
DEFECTS = ["none"] * 4 + ["length", "tag", "extra", "flip", "cut", "insert"]
BYTES = st.integers(0, 255) | st.sampled_from([0x02, 0x04, 0x30, 0x31, 0x7F, 0x80, 0x81, 0x82])


@st.composite
def attribute_lists(draw: st.DrawFn) -> tuple[bytes, int, int]:
    """(data, start, end): a PartialAttributeList's content inside a larger buffer, with at
    most one defect — a length a little off, a wrong tag, an element too many in an
    attribute, a byte changed, cut or inserted — so that the rest of it is well formed."""
    listed = draw(st.lists(st.tuples(NAMES, st.lists(VALUES, max_size=4)), max_size=5))
    defect = draw(st.sampled_from(DEFECTS))
    target = draw(st.integers(0, sum(3 + len(values) for _, values in listed)))
    count = itertools.count()

    def element(tag: int, content: bytes, other: int) -> bytes:
        hit = next(count) == target
        wrong = draw(st.sampled_from([-2, -1, 1, 2])) if hit and defect == "length" else 0
        return _element(other if hit and defect == "tag" else tag, content, draw(FORMS), wrong)

    attributes = b""
    for index, (name, values) in enumerate(listed):
        content = element(0x04, name, 0x0A) + element(
            ber.SET, b"".join(element(0x04, v, 0x02) for v in values), ber.SEQUENCE
        )
        if defect == "extra" and index == target % len(listed):
            content += draw(st.sampled_from([ber.octets("x"), b"\x04", b"\x31\x00"]))
        attributes += element(ber.SEQUENCE, content, ber.SET)
    before = draw(st.binary(max_size=3))
    after = draw(st.binary(max_size=3))
    data = before + attributes + after
    start, end = len(before), len(before) + len(attributes)
    if defect in ("flip", "cut", "insert") and attributes:
        at = draw(st.integers(start, end - 1))
        byte = draw(BYTES)
        if defect == "flip":
            data = data[:at] + bytes((byte,)) + data[at + 1 :]
        elif defect == "cut":
            data = data[:at]
            end = min(end, len(data))
        else:
            data = data[:at] + bytes((byte,)) + data[at:]
            end += draw(st.sampled_from([0, 1]))
    return data, start, end


def _outcome(read, data: bytes, start: int, end: int, size: int) -> object:  # type: ignore[no-untyped-def]
    budget = messages.Budget(size)
    try:
        return ("read", read(data, start, end, budget, "cn=a,dc=x"), budget.left)
    except messages.NotText as err:
        return ("NotText", str(err), err.attribute, err.dn)
    except ber.BerError as err:
        return (type(err).__name__, str(err))


BUDGETS = st.sampled_from([1 << 20, 0, 64, 200, 700, 2000])


# ---------------------------------------------------------------------------- attributes


@settings(max_examples=1500, deadline=None)
@given(attribute_lists(), BUDGETS)
def test_attributes_read_at_once_are_those_read_element_by_element(
    listed: tuple[bytes, int, int], size: int
) -> None:
    data, start, end = listed
    assert _outcome(messages._attributes, data, start, end, size) == _outcome(
        messages._attributes_by_element, data, start, end, size
    )


def test_a_usual_entry_is_read_at_once() -> None:
    """The fast path is taken for what slapd sends (or the comparison above proves little)."""
    listed = b"".join(
        ber.sequence(ber.octets(name), ber.tlv(ber.SET, b"".join(ber.octets(v) for v in values)))
        for name, values in [
            ("objectClass", ["top", "person", "organizationalPerson", "inetOrgPerson"]),
            ("entryUUID", ["2303afd2-8342-1041-8604-a92e5230216b"]),
            ("description", ["d" * 200]),
            ("jpegPhoto", []),
            ("memberOf", [f"cn=group {n},ou=Groups,dc=example,dc=org" for n in range(10)]),
        ]
    )
    read = messages._attributes_at_once(listed, 0, len(listed), 1 << 20)
    assert read is not None
    attributes, left = read
    assert attributes["objectclass"] == ("top", "person", "organizationalPerson", "inetOrgPerson")
    assert attributes["description"] == ("d" * 200,)
    assert "jpegphoto" not in attributes
    assert len(attributes["memberof"]) == 10
    budget = messages.Budget(1 << 20)
    assert messages._attributes_by_element(listed, 0, len(listed), budget, "") == attributes
    assert budget.left == left


def test_what_the_fast_path_does_not_take_is_refused_as_before() -> None:
    dup = ber.sequence(ber.octets("cn"), ber.tlv(ber.SET, ber.octets("a")))
    data = dup + dup.replace(b"cn", b"CN")
    assert messages._attributes_at_once(data, 0, len(data), 1 << 20) is None
    outcome = _outcome(messages._attributes, data, 0, len(data), 1 << 20)
    assert outcome == ("BerError", "attribute cn appears twice in one entry")


def _attribute(name: bytes, set_content: bytes, *, wrong: int = 0, tail: bytes = b"") -> bytes:
    return _element(
        ber.SEQUENCE, _element(0x04, name, 0) + _element(ber.SET, set_content, 0) + tail, 0, wrong
    )


_GOOD = _attribute(b"cn", ber.octets("x"))
BROKEN = {
    "a value past its set": _attribute(b"cn", ber.octets("x") + _element(0x04, b"ab", 0, 1)),
    "a lone value past its set": _attribute(b"cn", _element(0x04, b"ab", 0, 1)),
    "a long value past its set": _attribute(b"cn", _element(0x04, b"a" * 200, 1, 1)),
    "a value short of its set": _attribute(b"cn", _element(0x04, b"ab", 0, -1)),
    "an element after the set": _attribute(b"cn", ber.octets("x"), tail=ber.octets("y")),
    "a set past its attribute": _attribute(b"cn", ber.octets("x"), wrong=-1),
    "an attribute past the list": _GOOD + _attribute(b"sn", ber.octets("x"))[:-1],
    "a name without a set": _element(ber.SEQUENCE, ber.octets("cn"), 0),
    "a set header cut by its attribute": _element(ber.SEQUENCE, ber.octets("cn") + b"\x31", 0),
    "a value that is not an OCTET STRING": _attribute(b"cn", ber.integer(5)),
    "a name that is not ASCII": _attribute(b"caf\xe9", b""),
    "a value that is not UTF-8": _attribute(b"cn", ber.octets(b"caf\xe9")),
    "a length form of five bytes": _attribute(b"cn", _element(0x04, b"ab", 5)),
    "an attribute in a three-byte length form": _element(ber.SEQUENCE, _GOOD[2:], 3),
    "a name in the long form": _element(ber.SEQUENCE, _element(4, b"cn", 1) + _GOOD[6:], 0),
}


@pytest.mark.parametrize("data", BROKEN.values(), ids=BROKEN.keys())
def test_each_defect_is_left_to_the_general_path(data: bytes) -> None:
    for size in (1 << 20, 200):
        for end in (len(data), len(data) - 1):
            assert messages._attributes_at_once(data, 0, end, size) is None
            assert _outcome(messages._attributes, data, 0, end, size) == _outcome(
                messages._attributes_by_element, data, 0, end, size
            )


# ---------------------------------------------------------------------------- requests


class _Uid(lf.Equal):
    """A subclass of a node type: found by isinstance, not by the type look-up."""


def test_a_subclass_of_a_node_encodes_as_its_node_and_others_are_refused() -> None:
    plain = messages.encode_filter(lf.Equal("uid", "bob"))
    assert messages.encode_filter(_Uid("uid", "bob")) == plain
    with pytest.raises(TypeError, match="not an LDAP filter node"):
        messages.encode_filter("(uid=bob)")  # type: ignore[arg-type]


def test_values_of_any_type_are_written_as_their_text() -> None:
    class Title(str):
        pass

    ours = messages.add_request("cn=a", {"cn": ["a", Title("b"), b"c", 5]})
    expected = ber.sequence(
        ber.octets("cn=a"),
        ber.sequence(
            ber.sequence(
                ber.octets("cn"),
                ber.tlv(
                    ber.SET, ber.octets("a") + ber.octets("b") + ber.octets("c") + b"\x04\x015"
                ),
            )
        ),
        tag=messages.ADD_REQUEST,
    )
    assert ours == expected


def test_cached_controls_and_options_are_what_they_encode() -> None:
    control = messages.post_read_control(["entryUUID", "cn"])
    assert control.value == ber.sequence(ber.octets("entryUUID"), ber.octets("cn"))
    assert messages._control(control) == ber.sequence(
        ber.octets(messages.POST_READ_OID), ber.octets(control.value)
    )
    assert messages._search_options("one", 2) == (
        ber.enumerated(1) + ber.enumerated(3) + ber.integer(2) + ber.integer(0) + b"\x01\x01\x00"
    )
