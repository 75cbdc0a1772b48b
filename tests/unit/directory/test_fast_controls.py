"""A response's controls and a post-read entry read in one pass give what the general
readers give: the same controls, entry, budget left and error — on well-formed lists and on
broken or hostile ones alike (see test_fast_codec.py for the readers of the rest).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.fastpaths import framed, outcome

from gateway.directory import ber, messages

# ---------------------------------------------------------------------------- helpers


def _element(tag: int, content: bytes, form: int, wrong: int = 0) -> bytes:
    """``content`` under ``tag`` with its length in ``form`` extra bytes (0: short form when
    it fits), minimal or not; ``wrong``: added to the length written."""
    n = max(len(content) + wrong, 0)
    if form == 0 and n < 0x80:
        return bytes((tag, n)) + content
    size = max(form, (n.bit_length() + 7) // 8, 1)
    return bytes((tag, 0x80 | size)) + n.to_bytes(size, "big") + content


FORMS = st.sampled_from([0] * 6 + [1, 2, 3])
OIDS = st.sampled_from(  # types as servers send them; long, empty, not ASCII less often
    [messages.POST_READ_OID, messages.PAGED_OID, "1.2.840.113556.1.4.474", "1.2.3"] * 4
    + ["", "9" * 130]
).map(str.encode) | st.sampled_from([b"1.\xe9", b"\xff"] + [b"1.2.3"] * 18)
CRITICAL = st.sampled_from([None, None, b"\x01\x01\xff", b"\x01\x01\x00", b"\x01\x00"])
VALUES = st.sampled_from([None, b"", b"\x30\x00", b"v" * 127, b"w" * 128, b"x" * 300])
FIELD_TAGS = st.sampled_from([0x04, 0x04, 0x04, 0x01, 0x02, 0x30, 0x80])
DEFECTS = ["none"] * 5 + ["length", "tag", "extra", "empty", "flip", "cut", "insert"]
BYTES = st.integers(0, 255) | st.sampled_from([0x01, 0x04, 0x30, 0x7F, 0x80, 0x81, 0x82, 0x83])


@st.composite
def control_lists(draw: st.DrawFn) -> tuple[bytes, int, int]:
    """(data, start, end): the content of a response's [0] controls inside a larger buffer,
    with at most one defect — a length a little off, a wrong tag, a field too many or a
    control without fields, a byte changed, cut or inserted."""
    listed = draw(st.lists(st.tuples(OIDS, CRITICAL, VALUES), max_size=4))
    defect = draw(st.sampled_from(DEFECTS))
    target = draw(st.integers(0, max(len(listed) - 1, 0)))
    controls = b""
    for index, (oid, critical, value) in enumerate(listed):
        hit = index == target
        tag = draw(FIELD_TAGS) if hit and defect == "tag" else 0x04
        fields = _element(tag, oid, draw(FORMS)) + (critical or b"")
        if value is not None:
            fields += _element(0x04, value, draw(FORMS))
        if hit and defect == "extra":
            fields += draw(st.sampled_from([ber.octets("x"), b"\x01\x01\xff", b"\x04"]))
        if hit and defect == "empty":
            fields = b""
        wrong = draw(st.sampled_from([-2, -1, 1, 2])) if hit and defect == "length" else 0
        outer = (
            draw(st.sampled_from([0x30] * 5 + [0x31, 0xA0])) if hit and defect == "tag" else 0x30
        )
        controls += _element(outer, fields, draw(FORMS), wrong)
    return framed(draw, controls, defect, BYTES)


def _outcome(read, *args: object) -> object:  # type: ignore[no-untyped-def]
    """``read(*args, budget)``'s answer and the budget left, or the error it raised."""
    *args, size = args
    return outcome(read, *args, size=size)  # type: ignore[arg-type]


def _fast_then_general(data: bytes, start: int, end: int, budget: messages.Budget) -> object:
    """The controls as :func:`messages._result_controls` reads them."""
    result = messages.Result(0)
    messages._result_controls(result, data, start, end, budget)
    return result.controls, result.post_read


def _general(data: bytes, start: int, end: int, budget: messages.Budget) -> object:
    """The same with the one-pass readers turned off."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(messages, "_controls_at_once", lambda *args: None)
        patch.setattr(messages, "_post_read_at_once", lambda *args: None)
        return _fast_then_general(data, start, end, budget)


BUDGETS = st.sampled_from([1 << 20, 0, 63, 64, 128, 200, 700])


# ---------------------------------------------------------------------------- controls


@settings(max_examples=1500, deadline=None)
@given(control_lists(), BUDGETS)
def test_controls_read_at_once_are_those_read_element_by_element(
    listed: tuple[bytes, int, int], size: int
) -> None:
    data, start, end = listed
    fast = _outcome(messages._controls, data, start, end, size)
    assert fast == _outcome(messages._controls_by_element, data, start, end, size)


def test_what_a_write_answers_with_is_read_at_once() -> None:
    """The fast path is taken for what servers send (or the comparison above proves
    little): a post-read entry, a paging cookie, a control with its criticality."""
    entry = ber.tlv(
        messages.SEARCH_RESULT_ENTRY,
        ber.octets("cn=a,dc=x") + ber.sequence(ber.sequence(ber.octets("cn"), ber.tlv(0x31, b""))),
    )
    cookie = ber.sequence(ber.integer(0), ber.octets(b"\x01" * 200))
    data = (
        ber.sequence(ber.octets(messages.POST_READ_OID), ber.octets(entry))
        + ber.sequence(ber.octets(messages.PAGED_OID), b"\x01\x01\xff", ber.octets(cookie))
        + ber.sequence(ber.octets("1.2.3"))
        + ber.sequence(ber.octets("1.2.4"), b"\x01\x01\x00")
    )
    read = messages._controls_at_once(data, 0, len(data), 1 << 20)
    assert read == (
        {messages.POST_READ_OID: entry, messages.PAGED_OID: cookie, "1.2.3": b"", "1.2.4": b""},
        (1 << 20) - 4 * messages.ELEMENT_COST,
    )
    assert _outcome(messages._controls_by_element, data, 0, len(data), 1 << 20) == ("read", *read)


def _control(*fields: bytes, tag: int = 0x30) -> bytes:
    return ber.tlv(tag, b"".join(fields))


_OID = ber.octets("1.2.3")
BROKEN = {  # each a check of the one-pass reader that nothing else would make
    "a control that is not a sequence": _control(_OID, tag=0x31),
    "a control without fields": _control(),
    "a control past the list": _control(_OID)[:-1],
    "a type past its control": b"\x30\x06" + _OID[:-1],
    "a type past its control, in the list": b"\x30\x06" + _OID[:-1] + _control(_OID),
    "a control without fields, then a type": _control() + _OID,
    "a type that is not an OCTET STRING": _control(ber.integer(5)),
    "a type that is not ASCII": _control(ber.octets(b"1.\xe9")),
    "a type of 128 bytes": _control(ber.octets("1" * 128)),
    "a criticality past its control": _control(_OID, b"\x01\x02\xff"),
    "a long criticality": _control(_OID, b"\x01\x81\x01\xff"),
    "a value past its control": _control(_OID, b"\x04\x02x"),
    "a value short of its control": _control(_OID, b"\x04\x00x"),
    "a value that is not an OCTET STRING": _control(_OID, ber.integer(5)),
    "a value, then a criticality": _control(_OID, ber.octets("v"), b"\x01\x01\xff"),
    "two values": _control(_OID, ber.octets("v"), ber.octets("w")),
    "four fields": _control(_OID, b"\x01\x01\xff", ber.octets("v"), ber.octets("w")),
    "a control in a three-byte length form": b"\x30\x83\x00\x00\x07" + _OID,
    "a value in a three-byte length form": _control(_OID, b"\x04\x83\x00\x00\x01v"),
    "a type named twice": _control(_OID, ber.octets("v")) + _control(_OID),
}
READ_BY_THE_GENERAL_PATH = {  # unusual, not broken
    "a control that is not a sequence",
    "a type that is not an OCTET STRING",
    "a type of 128 bytes",
    "a long criticality",
    "a value that is not an OCTET STRING",
    "a value, then a criticality",
    "two values",
    "a control in a three-byte length form",
    "a value in a three-byte length form",
}


@pytest.mark.parametrize("name", BROKEN.keys())
def test_each_unusual_or_broken_list_reads_as_in_the_general_path(name: str) -> None:
    data = BROKEN[name]
    if name != "a type named twice":
        assert messages._controls_at_once(data, 0, len(data), 1 << 20) is None
    for size in (1 << 20, 100, 64, 0):
        for end in (len(data), len(data) - 1):
            fast = _outcome(messages._controls, data, 0, end, size)
            assert fast == _outcome(messages._controls_by_element, data, 0, end, size)
    general = _outcome(messages._controls_by_element, data, 0, len(data), 1 << 20)
    assert (general[0] == "read") == (name in READ_BY_THE_GENERAL_PATH | {"a type named twice"})


def test_a_type_named_twice_keeps_its_last_value_in_both_paths() -> None:
    data = BROKEN["a type named twice"]
    left = (1 << 20) - 2 * messages.ELEMENT_COST
    assert messages._controls_at_once(data, 0, len(data), 1 << 20) == ({"1.2.3": b""}, left)


def test_over_budget_the_general_path_raises() -> None:
    data = _control(_OID) * 3
    assert messages._controls_at_once(data, 0, len(data), 3 * messages.ELEMENT_COST) is not None
    assert messages._controls_at_once(data, 0, len(data), 3 * messages.ELEMENT_COST - 1) is None
    outcome = _outcome(
        messages._controls_by_element, data, 0, len(data), 3 * messages.ELEMENT_COST - 1
    )
    assert outcome == ("BerError", "more than 2 elements in one container")


# ---------------------------------------------------------------------------- post-read

PLAIN_NAMES = st.sampled_from([b"cn", b"entryUUID", b"modifyTimestamp", b"CN", b""])
PLAIN_VALUES = st.sampled_from([b"", b"Ann", b"caf\xc3\xa9", b"a" * 127, b"c" * 300])
PLAIN_VALUES = PLAIN_VALUES | st.sampled_from([b"caf\xe9"])  # not UTF-8: less often


@st.composite
def post_read_values(draw: st.DrawFn) -> bytes:
    """A post-read control's value: a SearchResultEntry (or another tag) in any length
    form, perhaps with bytes after it, perhaps a byte changed, cut or inserted."""
    listed = draw(st.lists(st.tuples(PLAIN_NAMES, st.lists(PLAIN_VALUES, max_size=3)), max_size=4))
    attributes = b"".join(
        _element(
            0x30,
            _element(0x04, name, 0) + _element(0x31, b"".join(map(ber.octets, values)), 0),
            draw(FORMS),
        )
        for name, values in listed
    )
    dn = draw(st.sampled_from([b"cn=a,dc=x", b"", b"d" * 200, b"caf\xe9"]))
    content = _element(0x04, dn, draw(FORMS)) + _element(0x30, attributes, draw(FORMS))
    tag = draw(st.sampled_from([messages.SEARCH_RESULT_ENTRY] * 5 + [0x30, 0x65]))
    wrong = draw(st.sampled_from([0] * 6 + [-1, 1]))
    value = _element(tag, content, draw(FORMS), wrong) + draw(
        st.sampled_from([b""] * 4 + [b"\x00", b"\x04\x01x"])
    )
    defect = draw(st.sampled_from(["none"] * 5 + ["flip", "cut", "insert"]))
    if defect != "none" and value:
        at = draw(st.integers(0, len(value) - 1))
        byte = draw(BYTES)
        if defect == "flip":
            value = value[:at] + bytes((byte,)) + value[at + 1 :]
        elif defect == "cut":
            value = value[:at]
        else:
            value = value[:at] + bytes((byte,)) + value[at:]
    return value


def _post_read_general(value: bytes, budget: messages.Budget) -> object:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(messages, "_post_read_at_once", lambda *args: None)
        return messages.post_read_entry(value, budget)


@settings(max_examples=1000, deadline=None)
@given(post_read_values(), st.sampled_from([1 << 20, 0, 191, 192, 300, 700]))
def test_post_read_entries_read_at_once_are_those_read_element_by_element(
    value: bytes, size: int
) -> None:
    fast = _outcome(messages.post_read_entry, value, size)
    assert fast == _outcome(_post_read_general, value, size)


def test_a_post_read_entry_is_read_at_once() -> None:
    entry = ber.tlv(
        messages.SEARCH_RESULT_ENTRY,
        ber.octets("cn=a,dc=x")
        + ber.sequence(ber.sequence(ber.octets("entryUUID"), ber.tlv(0x31, ber.octets("u")))),
    )
    read = messages._post_read_at_once(entry + b"\x00", 1 << 20)
    assert read is not None and read[0].attributes == {"entryuuid": ("u",)}
    assert _outcome(messages.post_read_entry, entry, 1 << 20)[1:] == read
    assert messages._post_read_at_once(entry[:-1], 1 << 20) is None
    assert messages._post_read_at_once(b"\x64", 1 << 20) is None
    assert messages._post_read_at_once(b"", 1 << 20) is None


# ---------------------------------------------------------------------------- together


@settings(max_examples=500, deadline=None)
@given(control_lists(), post_read_values(), st.booleans(), BUDGETS)
def test_a_results_controls_read_as_in_the_general_path(
    listed: tuple[bytes, int, int], value: bytes, post_read: bool, size: int
) -> None:
    """``_result_controls`` (the list, then the post-read entry and a paging cookie read
    from it) with the one-pass readers on and off."""
    data, start, end = listed
    if post_read:  # a post-read control first (the list's own may follow and replace it)
        head = ber.sequence(ber.octets(messages.POST_READ_OID), ber.octets(value))
        data, end = data[:start] + head + data[start:], end + len(head)
    assert _outcome(_fast_then_general, data, start, end, size) == _outcome(
        _general, data, start, end, size
    )
