"""The objects a round trip makes in fewer steps are those the plain constructors make: an
entry the codec reads (``entry.decoded_entry``), a decoded message (``messages._made``), a
plain success (``messages._SUCCESS``) and the entry a modify reads back."""

from __future__ import annotations

import dataclasses

import pytest

from gateway.directory import ber, messages
from gateway.directory.entry import Entry, decoded_entry
from gateway.directory.messages import Response, Result
from gateway.directory.operations import _entry_read_back

LINKED = {"member": (Entry("uid=a,dc=x", {"uid": ("a",)}),)}


@pytest.mark.parametrize("linked", [None, LINKED, {}])
def test_a_decoded_entry_is_the_entry_its_constructor_makes(linked) -> None:
    attributes = {"cn": ("a",), "objectclass": ("top", "person")}
    made = decoded_entry("cn=a,dc=x", attributes, linked)
    plain = Entry("cn=a,dc=x", attributes, linked)
    assert type(made) is Entry
    assert made == plain
    for f in dataclasses.fields(Entry):  # a field added to Entry must be set by both
        assert getattr(made, f.name) is getattr(plain, f.name)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.dn = "cn=b"  # type: ignore[misc]
    assert decoded_entry("cn=a", {}) == Entry("cn=a")


def test_decoded_messages_are_responses_and_entries() -> None:
    entry = ber.sequence(
        ber.integer(7),
        ber.tlv(
            messages.SEARCH_RESULT_ENTRY,
            ber.octets("cn=a,dc=x")
            + ber.sequence(ber.sequence(ber.octets("cn"), ber.tlv(ber.SET, ber.octets("a")))),
        ),
    )
    read = messages.decode(entry)
    assert type(read) is Response and type(read.entry) is Entry
    assert read == Response(7, Entry("cn=a,dc=x", {"cn": ("a",)}), None)
    assert read.reference == ()
    done = ber.sequence(ber.integer(7), ber.tlv(messages.SEARCH_RESULT_DONE, messages._SUCCESS))
    read = messages.decode(done)
    assert type(read) is Response and type(read.result) is Result
    assert read == Response(7, None, Result(0, "", ""))


ALMOST_SUCCESS = {
    "success": messages._SUCCESS,
    "a matched DN": b"\x0a\x01\x00\x04\x01x\x04\x00",
    "a message": b"\x0a\x01\x00\x04\x00\x04\x01x",
    "no such object": b"\x0a\x01\x20\x04\x00\x04\x00",
    "the code as INTEGER": b"\x02\x01\x00\x04\x00\x04\x00",
    "a referral after it": messages._SUCCESS + ber.tlv(0xA3, ber.octets("ldap://b")),
}


@pytest.mark.parametrize("content", ALMOST_SUCCESS.values(), ids=ALMOST_SUCCESS.keys())
@pytest.mark.parametrize("before", [b"", b"\x0a\x01\x00\x04\x00\x04\x00\x00"])
def test_a_plain_success_is_read_as_the_general_path_reads_it(content, before) -> None:
    """The seven bytes of a plain success, found anywhere in a buffer, read as the field by
    field reading reads them; anything else (one byte more or different) as before."""
    data = before + content + b"\x30\x00"
    start, end = len(before), len(before) + len(content)
    fast = messages._result_at_once(data, start, end)
    try:
        general = messages._result(data, start, end, 0x65, messages.Budget())
    except ber.BerError:
        general = None
    if content == messages._SUCCESS:
        assert fast == general == Result(0, "", "")
        assert fast is not messages._result_at_once(data, start, end)  # a new one each time
    elif fast is not None:
        assert fast == general


def test_each_answer_gets_a_result_of_its_own() -> None:
    """Results are changed after reading (controls, a search's references): never shared."""
    done = ber.sequence(ber.integer(7), ber.tlv(messages.SEARCH_RESULT_DONE, messages._SUCCESS))
    first, second = messages.decode(done).result, messages.decode(done).result
    assert first is not second and first.controls is not second.controls


@pytest.mark.parametrize(
    "read",
    [
        None,
        Entry("cn=g,dc=x", {"entryuuid": ("1",)}),
        Entry("CN=g,dc=x", {"entryuuid": ("1",)}),  # the server names it otherwise
        Entry("cn=g,dc=x", {"entryuuid": ("1",)}, LINKED),
    ],
)
def test_the_entry_read_back_is_the_written_dn_with_the_post_reads_values(read) -> None:
    dn = "cn=g,dc=x"
    expected = Entry(dn, read.attributes if read is not None else {})
    got = _entry_read_back(dn, read)
    assert type(got) is Entry and got == expected
    assert got.dn == dn and got.linked is None
    if read is not None:
        assert got.attributes is read.attributes
