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
from support.fastpaths import framed, outcome

from gateway.directory import ber, messages
from gateway.directory import ldapfilter as lf
from gateway.directory.entry import Modification, ModOp

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
    return framed(draw, attributes, defect, BYTES)


def _outcome(read, data: bytes, start: int, end: int, size: int) -> object:  # type: ignore[no-untyped-def]
    def with_dn(*args: object) -> object:  # the entry's DN goes after the budget
        return read(*args, "cn=a,dc=x")

    return outcome(with_dn, data, start, end, size=size)


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
    # inside an and / or, which find their items' encoders themselves
    both = lf.And((lf.Equal("uid", "bob"), lf.Or((lf.Equal("cn", "b"),))))
    assert messages.encode_filter(lf.And((_Uid("uid", "bob"), lf.Or((_Uid("cn", "b"),))))) == (
        messages.encode_filter(both)
    )
    with pytest.raises(TypeError, match="not an LDAP filter node"):
        messages.encode_filter(lf.Or((lf.Equal("uid", "bob"), "(uid=bob)")))  # type: ignore[arg-type]


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


# ---------------------------------------------------------------------------- messages

FAST_READERS = (
    "_envelope_at_once",
    "_result_at_once",
    "_entry_at_once",
    "_attributes_at_once",
    "_controls_at_once",
    "_post_read_at_once",
)


def _decoded(data: bytes, size: int, *, general: bool = False) -> object:
    """``messages.decode``'s outcome: the response and the budget left, or the error.
    ``general``: with every fast reader turned off (each answers None, "not mine")."""
    with pytest.MonkeyPatch.context() as patch:
        if general:
            for name in FAST_READERS:
                patch.setattr(messages, name, lambda *args: None)
        budget = messages.Budget(size)
        try:
            return ("read", repr(messages.decode(data, 0, budget)), budget.left)
        except messages.NotText as err:
            return ("NotText", str(err), err.attribute, err.dn, err.final)
        except ber.BerError as err:
            return (type(err).__name__, str(err))


def _entry_content(dn: bytes, attributes: bytes, forms: tuple[int, int]) -> bytes:
    return _element(0x04, dn, forms[0]) + _element(ber.SEQUENCE, attributes, forms[1])


def _result_content(code: bytes, matched: bytes, text: bytes, forms: tuple[int, int]) -> bytes:
    return code + _element(0x04, matched, forms[0]) + _element(0x04, text, forms[1])


CODES = st.sampled_from(  # result codes three times as often as not (unknown, negative, ...)
    [b"\x0a\x01\x00", b"\x0a\x01\x20", b"\x0a\x01\x7a", b"\x0a\x02\x10\x00"] * 4
    + [b"\x0a\x01\x09", b"\x0a\x01\xff", b"\x0a\x01\x80", b"\x0a\x00", b"\x02\x01\x00"]
    + [b"\x0a\x81\x01\x00"]
)
IDS = st.sampled_from(  # the message id's length and content: valid ones five times as often
    [b"\x01\x07", b"\x02\x00\x91", b"\x04\x7f\xff\xff\xff", b"\x01\x00", b"\x01\xff"] * 5
    + [b"\x05\x00\x00\x00\x00\x01", b"\x00", b"\x81\x01\x05"]
)
TEXTS = st.sampled_from(  # texts; not UTF-8 or too long for the fast path less often
    [b"", b"uid=a,dc=x", b"caf\xc3\xa9", b"m" * 130] * 3 + [b"caf\xe9", b"n" * 300]
)


PLAIN_NAMES = st.sampled_from([b"cn", b"mail", b"objectClass", b"entryUUID", b"memberOf"])
PLAIN_VALUES = st.sampled_from([b"", b"Ann", b"caf\xc3\xa9", b"a" * 127, b"c" * 300])


def _plain_attributes(listed: list[tuple[bytes, list[bytes]]]) -> bytes:
    return b"".join(
        ber.sequence(ber.octets(name), ber.tlv(ber.SET, b"".join(map(ber.octets, values))))
        for name, values in listed
    )


@st.composite
def ldap_messages(draw: st.DrawFn) -> bytes:
    """An LDAPMessage as a server could send it — an entry, a final result (of any of the
    operations), a reference, something else — in any length form, with or without
    controls (a post-read entry among them), then perhaps one defect: a byte changed, cut
    or inserted, or bytes after the message's end (the reader's buffer holds what follows).
    """
    kind = draw(st.sampled_from(["entry", "result", "result", "reference", "other"]))
    forms = (draw(FORMS), draw(FORMS))
    if draw(st.booleans()):  # a list as slapd sends them, or one perhaps broken
        plain = st.lists(st.tuples(PLAIN_NAMES, st.lists(PLAIN_VALUES, max_size=3)), max_size=4)
        attributes = _plain_attributes(draw(plain))
    else:
        listed, start, end = draw(attribute_lists())
        attributes = listed[start:end]
    if kind == "entry":
        tag = messages.SEARCH_RESULT_ENTRY
        content = _entry_content(draw(TEXTS), attributes, forms)
    elif kind == "result":
        tag = draw(st.sampled_from(sorted(messages.RESULT_TAGS)))
        content = _result_content(draw(CODES), draw(TEXTS), draw(TEXTS), forms)
        content += draw(
            st.sampled_from([b"", b"", b"", ber.tlv(0xA3, ber.octets("ldap://b")), b"\x8a\x01x"])
        )
    elif kind == "reference":
        tag = messages.SEARCH_RESULT_REFERENCE
        content = ber.octets("ldap://b/dc=x")
    else:
        tag = draw(st.sampled_from([0x79, 0x42, 0x64]))
        content = draw(st.binary(max_size=8))
    body = b"\x02" + draw(IDS)  # the message id's length and content
    body += _element(tag, content, draw(FORMS))
    control = draw(
        st.sampled_from(["none"] * 6 + ["post-read", "paged", "junk", "other field", "field after"])
    )
    if control == "post-read":
        entry = _element(
            messages.SEARCH_RESULT_ENTRY, _entry_content(b"cn=a", attributes, forms), 0
        )
        body += ber.tlv(
            messages.CONTROLS, ber.sequence(ber.octets(messages.POST_READ_OID), ber.octets(entry))
        )
    elif control == "paged":
        paged = ber.sequence(ber.integer(0), ber.octets(b""))
        body += ber.tlv(
            messages.CONTROLS, ber.sequence(ber.octets(messages.PAGED_OID), ber.octets(paged))
        )
    elif control == "junk":
        body += _element(messages.CONTROLS, draw(st.binary(max_size=6)), draw(FORMS))
    elif control == "other field":
        body += ber.octets("x")
    elif control == "field after":
        body += ber.tlv(messages.CONTROLS, b"") + ber.octets("x")
    data = _element(ber.SEQUENCE, body, draw(FORMS))
    defect = draw(st.sampled_from(["none"] * 6 + ["flip", "cut", "insert", "after"]))
    if defect != "none" and data:
        at = draw(st.integers(0, len(data) - 1))
        byte = draw(BYTES)
        if defect == "flip":
            data = data[:at] + bytes((byte,)) + data[at + 1 :]
        elif defect == "cut":
            data = data[:at]
        elif defect == "insert":
            data = data[:at] + bytes((byte,)) + data[at:]
        else:
            data += draw(st.binary(min_size=1, max_size=4))
    return data


MESSAGE_BUDGETS = st.sampled_from([1 << 20, 0, 64, 300, 700, 2000])


@settings(max_examples=1000, deadline=None)
@given(ldap_messages(), MESSAGE_BUDGETS)
def test_messages_read_at_once_are_those_read_element_by_element(data: bytes, size: int) -> None:
    assert _decoded(data, size) == _decoded(data, size, general=True)


@settings(max_examples=500, deadline=None)
@given(attribute_lists(), TEXTS, st.tuples(FORMS, FORMS), BUDGETS, st.integers(0, 3))
def test_entries_read_at_once_are_those_read_element_by_element(
    listed: tuple[bytes, int, int], dn: bytes, forms: tuple[int, int], size: int, cut: int
) -> None:
    data, start, end = listed
    content = b"\x00" + _entry_content(dn, data[start:end], forms) + b"\x30\x00"
    end = len(content) - 2 - cut  # a container cut short, or ending where it should
    outcomes = []
    for read in (messages._entry, messages._entry_by_element):
        budget = messages.Budget(size)
        try:
            outcomes.append(("read", read(content, 1, end, budget), budget.left))
        except messages.NotText as err:
            outcomes.append(("NotText", str(err)))
        except ber.BerError as err:
            outcomes.append((type(err).__name__, str(err)))
    assert outcomes[0] == outcomes[1]


_DONE = b"\x65\x07\x0a\x01\x00\x04\x00\x04\x00"
BROKEN_MESSAGES = {  # each a check of the fast readers that nothing else would make
    "a field after the controls": ber.sequence(
        ber.integer(5), _DONE, ber.tlv(messages.CONTROLS, b""), ber.octets("x")
    ),
    "a message cut in its last text": ber.sequence(
        ber.integer(5), b"\x65\x09\x0a\x01\x00\x04\x00\x04\x02ab"
    )[:-1],
    "a message id of no bytes": b"\x30\x0b\x02\x00" + _DONE,
    "a message id of five bytes": ber.sequence(b"\x02\x05\x00\x00\x00\x00\x05", _DONE),
    "an operation past the message": b"\x30\x0b\x02\x01\x05\x65\x08" + _DONE[2:] + b"\x00",
    "controls past the message": ber.sequence(ber.integer(5), _DONE) + b"\xa0\x00",
    "a referral after the message": ber.sequence(
        ber.integer(5), ber.tlv(0x65, _DONE[2:] + ber.tlv(0xA3, ber.octets("ldap://b")))
    ),
    "an unknown field after the message": ber.sequence(
        ber.integer(5), ber.tlv(0x65, _DONE[2:] + ber.octets("x"))
    ),
    "a result code of two bytes": ber.sequence(
        ber.integer(5), b"\x65\x08\x0a\x02\x00\x00\x04\x00\x04\x00"
    ),
    "an attribute after an entry's list": ber.sequence(
        ber.integer(5),
        ber.tlv(0x64, ber.octets("cn=a") + ber.sequence() + _attribute(b"cn", ber.octets("x"))),
    ),
    "an entry cut in its DN": ber.sequence(ber.integer(5), b"\x64\x06\x04\x04cn=a\x30\x00")[:-4],
}


READ_BY_THE_GENERAL_PATH = {
    BROKEN_MESSAGES["a message id of five bytes"],  # (these are not broken, only unusual)
    BROKEN_MESSAGES["controls past the message"],  # (its bytes after the message are not read)
    BROKEN_MESSAGES["a referral after the message"],
    BROKEN_MESSAGES["an unknown field after the message"],  # (ignored)
    BROKEN_MESSAGES["a result code of two bytes"],
}


@pytest.mark.parametrize("data", BROKEN_MESSAGES.values(), ids=BROKEN_MESSAGES.keys())
def test_each_broken_or_unusual_message_reads_as_in_the_general_path(data: bytes) -> None:
    for size in (1 << 20, 100):
        assert _decoded(data, size) == _decoded(data, size, general=True)
    assert (_decoded(data, 1 << 20)[0] == "read") == (data in READ_BY_THE_GENERAL_PATH)


def test_what_slapd_sends_is_read_at_once() -> None:
    """The fast readers take the messages of a member add as slapd sent them (captured),
    or the comparisons above prove little: an entry, a search's end, a modify response
    with its post-read entry."""
    entry = bytes.fromhex(
        "3081b2020200a36481ab042f7569643d753232406578616d706c652e6f72672c6f753d50656f706c652c"
        "64633d6578616d706c652c64633d6f726730783041040b6f626a656374436c617373313204037"
        "46f700406706572736f6e04146f7267616e697a6174696f6e616c506572736f6e040d696e65744f7267"
        "506572736f6e30330409656e747279555549443126042432333136613463362d383335612d313034312d"
        "393533332d303965356336626566656235"
    )
    done = bytes.fromhex("300d020200a365070a010004000400")
    post_read = ber.sequence(ber.octets(messages.POST_READ_OID), ber.octets(entry[7:]))
    modified = ber.sequence(
        ber.integer(162),
        ber.tlv(0x67, b"\x0a\x01\x00\x04\x00\x04\x00"),
        ber.tlv(messages.CONTROLS, post_read),
    )
    envelope = messages._envelope_at_once(entry, 0)
    assert envelope is not None and envelope[:2] == (163, messages.SEARCH_RESULT_ENTRY)
    assert messages._entry_at_once(entry, envelope[2], envelope[3], 1 << 20) is not None
    envelope = messages._envelope_at_once(done, 0)
    assert envelope is not None and messages._result_at_once(done, *envelope[2:4]) is not None
    envelope = messages._envelope_at_once(modified, 0)
    assert envelope is not None and envelope[4] is not None
    read = messages.decode(entry)
    assert read.entry is not None and read.entry.first("entryUUID").startswith("2316a4c6")
    result = messages.decode(modified).result
    assert result is not None and result.post_read == read.entry
    assert _decoded(entry, 1 << 20) == _decoded(entry, 1 << 20, general=True)
    assert _decoded(done, 1 << 20) == _decoded(done, 1 << 20, general=True)
    assert _decoded(modified, 1 << 20) == _decoded(modified, 1 << 20, general=True)


# ---------------------------------------------------------------------------- encoding


def _general_octets(value: object) -> bytes:
    """A value as the general encoder writes it (``ber.octets`` of its text or bytes)."""
    return ber.octets(value if isinstance(value, str | bytes) else str(value))  # type: ignore[arg-type]


class _Text(str):
    pass


SIZES = st.sampled_from([0, 1, 5, 126, 127, 128, 200, 255, 256, 300, 65535, 65536, 70000])
ANY_VALUES = st.one_of(
    SIZES.map(lambda n: "é" * (n // 2) + "a" * (n % 2)),
    SIZES.map(lambda n: b"\xff" * n),
    SIZES.map(lambda n: _Text("t" * n)),
    st.integers(-(10**6), 10**6),
    st.text(max_size=4),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["cn", "mail", "x" * 130]), st.lists(ANY_VALUES, max_size=3))
    ),
    st.sampled_from(["cn=a", "cn=" + "b" * 300]),
)
def test_add_and_modify_requests_are_the_general_encoders_bytes(
    listed: list[tuple[str, list[object]]], dn: str
) -> None:
    """The inline-header encoders write what ``ber.tlv`` / ``ber.octets`` compose."""

    def attribute(name: str, values: list[object]) -> bytes:
        return ber.sequence(
            ber.octets(name), ber.tlv(ber.SET, b"".join(_general_octets(v) for v in values))
        )

    attributes = dict(listed)
    assert messages.add_request(dn, attributes) == ber.sequence(
        ber.octets(dn),
        ber.sequence(*(attribute(n, v) for n, v in attributes.items())),
        tag=messages.ADD_REQUEST,
    )
    changes = [Modification(n, ModOp.REPLACE, tuple(v)) for n, v in listed]  # type: ignore[arg-type]
    assert messages.modify_request(dn, changes) == ber.sequence(
        ber.octets(dn),
        ber.sequence(*(ber.sequence(ber.enumerated(2), attribute(n, v)) for n, v in listed)),
        tag=messages.MODIFY_REQUEST,
    )


@settings(max_examples=200, deadline=None)
@given(ANY_VALUES.filter(lambda v: isinstance(v, str | bytes)), st.sampled_from(["cn", "x" * 130]))
def test_an_equality_filter_is_the_general_encoders_bytes(value: str | bytes, attr: str) -> None:
    flt = lf.Equal(attr, value)  # type: ignore[arg-type]
    assert messages.encode_filter(flt) == ber.tlv(0xA3, ber.octets(attr) + ber.octets(value))


@pytest.mark.parametrize("size", [0, 127, 128, 255, 256, 65535, 65536, 1 << 24])
def test_lengths_are_written_in_their_shortest_form(size: int) -> None:
    """``ber.tlv``'s one- and two-byte long forms are the general formula's bytes."""
    content = b"x" * size
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    expected = bytes((0x04, size)) if size < 0x80 else bytes((0x04, 0x80 | len(length))) + length
    assert ber.tlv(0x04, content) == expected + content


def test_a_requests_controls_are_encoded_once_and_as_before() -> None:
    controls = [messages.Control("1.2.3", False), messages.post_read_control(["cn"])]
    expected = ber.sequence(
        ber.integer(300),
        b"\x42\x00",
        ber.tlv(messages.CONTROLS, b"".join(messages._control(c) for c in controls)),
    )
    assert messages.message(300, b"\x42\x00", controls) == expected
    assert messages.message(300, b"\x42\x00", tuple(controls)) == expected
    assert messages.message(7, b"\x42\x00") == ber.sequence(ber.integer(7), b"\x42\x00")


def test_every_length_around_the_short_forms_end_is_written_as_before() -> None:
    """An attribute's value, set and sequence each crossing 127 bytes, one size at a time."""
    for size in range(110, 140):
        for values in (["v" * size], ["v" * (size - 70), "w" * 60]):
            expected = ber.sequence(
                ber.octets("cn"), ber.tlv(ber.SET, b"".join(ber.octets(v) for v in values))
            )
            assert messages._attribute("cn", values) == expected
            assert messages.encode_filter(lf.Equal("cn", values[0])) == ber.tlv(
                0xA3, ber.octets("cn") + ber.octets(values[0])
            )
