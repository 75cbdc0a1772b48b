"""Decoding a dereference control of many results (a big group's members, issue 17).

``deref.deref_response`` decodes the first result of each shape element by element and
the rest by comparing bytes with the shapes it knows; these tests hold that path to what an
element-by-element reading of the same bytes gives, for mixed, hostile and broken answers.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.directory import ber, deref, messages
from gateway.directory.entry import Entry

CLASSES = ("top", "person", "organizationalPerson", "inetOrgPerson")


def _attr(name: str, *values: bytes) -> bytes:
    return ber.sequence(ber.octets(name), ber.tlv(ber.SET, b"".join(ber.octets(v) for v in values)))


def _result(dn: bytes, *attrs: bytes, attr: str = "member") -> bytes:
    parts = [ber.octets(attr), ber.octets(dn)]
    if attrs:
        parts.append(ber.sequence(*attrs, tag=0xA0))
    return ber.sequence(*parts)


def _member(i: int, uuid: str | None = None, classes: tuple[str, ...] = CLASSES) -> bytes:
    return _result(
        f"uid=user-{i},ou=People,dc=example,dc=org".encode(),
        _attr("entryUUID", (uuid or f"{i:08d}-0000-1000-8000-000000000000").encode()),
        _attr("objectClass", *(c.encode() for c in classes)),
    )


def _message(*results: bytes) -> bytes:
    control = ber.sequence(ber.octets(messages.DEREF_OID), ber.octets(ber.sequence(*results)))
    return ber.sequence(
        ber.integer(3),
        ber.sequence(ber.octets("cn=g,dc=x"), ber.sequence(), tag=0x64),
        ber.sequence(control, tag=0xA0),
    )


def _linked(data: bytes, budget: messages.Budget | None = None) -> dict[str, tuple[Entry, ...]]:
    entry = messages.decode(data, 0, budget or messages.Budget()).entry
    assert entry is not None and entry.linked is not None
    return entry.linked


def _plainly(results: list[bytes]) -> list[tuple[str, str, dict[str, tuple[str, ...]]]]:
    """The same results read element by element, independently of the decoder under test."""
    out = []
    for raw in results:
        _, s, e = ber.header(raw, 0)
        fields = ber.children(raw, s, e)
        attributes: dict[str, tuple[str, ...]] = {}
        if len(fields) > 2:
            for _, ps, pe in ber.children(raw, fields[2][1], fields[2][2]):
                (_, ns, ne), (_, vs, ve) = ber.children(raw, ps, pe)
                values = tuple(raw[a:b].decode() for _, a, b in ber.children(raw, vs, ve))
                if values:
                    attributes[raw[ns:ne].decode().lower()] = values
        name = raw[fields[0][1] : fields[0][2]].decode().lower()
        out.append((name, raw[fields[1][1] : fields[1][2]].decode(), attributes))
    return out


def _flat(
    linked: dict[str, tuple[Entry, ...]],
) -> list[tuple[str, str, dict[str, tuple[str, ...]]]]:
    return sorted(
        ((name, e.dn, e.attributes) for name, entries in linked.items() for e in entries),
        key=lambda t: t[1],
    )


def test_results_alike_and_unlike_decode_as_read_element_by_element() -> None:
    results = [_member(i) for i in range(300)]
    results += [
        _member(1000, classes=("top", "groupOfNames")),  # another set of classes
        _result(b"uid=gone,ou=People,dc=example,dc=org"),  # dangling: no attributes
        _result(b"uid=x,dc=example,dc=org", _attr("entryUUID", b"u-x"), _attr("cn", b"a", b"b")),
        _result(b"uid=y,dc=example,dc=org", _attr("entryUUID", b"")),  # an empty value
        _result(b"uid=z,dc=example,dc=org", _attr("entryUUID", b"u-z"), _attr("mail")),  # none
        _member(2000, uuid="x" * 200),  # long-form lengths
        _result(b"cn=m,dc=x", _attr("entryUUID", b"u-m"), attr="manager"),
    ]
    results += [_member(i) for i in range(3000, 3050)]
    linked = _linked(_message(*results))
    assert _flat(linked) == sorted(_plainly(results), key=lambda t: t[1])
    assert [e.dn for e in linked["member"][:3]] == [
        f"uid=user-{i},ou=People,dc=example,dc=org" for i in range(3)
    ]


def test_repeated_object_classes_are_one_tuple_shared_by_the_entries() -> None:
    linked = _linked(_message(*(_member(i) for i in range(50))))["member"]
    assert linked[0].get("objectClass") == CLASSES
    assert len({id(e.get("objectClass")) for e in linked}) == 1
    assert len({e.get("entryUUID") for e in linked}) == 50


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"entryUUID", b"entryUUIE"),  # another attribute name, same length
        (b"organizationalPerson", b"organizationalPersoN"),  # another class, same length
        (b"member", b"Member"),
    ],
)
def test_a_result_differing_from_a_known_shape_outside_its_values_is_read_for_itself(
    old: bytes, new: bytes
) -> None:
    results = [_member(i) for i in range(10)]
    results.append(_member(10).replace(old, new))
    results.append(_member(11))
    assert _flat(_linked(_message(*results))) == sorted(_plainly(results), key=lambda t: t[1])


@pytest.mark.parametrize(
    ("result", "named"),
    [
        (_member(7).replace(b"00000007-", b"0000000\xff-"), "entryuuid"),
        (_member(7).replace(b"user-7", b"user\xff7"), "a dereferenced DN"),
    ],
)
def test_text_that_is_not_utf8_is_refused_in_results_alike_too(result: bytes, named: str) -> None:
    with pytest.raises(messages.NotText) as caught:
        _linked(_message(_member(6), result))
    assert caught.value.attribute == named


def test_results_alike_are_charged_for_what_they_build() -> None:
    """Each result: its Entry, dict and DN, two names with their tuples, one UUID value; the
    shared classes once — as the element-by-element reading charges them."""
    cost = messages.ELEMENT_COST
    results = [_member(i) for i in range(1000, 2000)]
    dn = len("uid=user-1000,ou=People,dc=example,dc=org")
    each = 3 * cost + dn + 4 * cost + cost + 36
    classes = sum(cost + len(c) for c in CLASSES)
    budget = messages.Budget(1 << 30)
    _linked(_message(*results), budget)
    spent = (1 << 30) - budget.left
    overhead = spent - 1000 * each - classes  # the message, the group entry, the control
    assert 0 < overhead <= 8 * cost
    with pytest.raises(ber.BerError, match="memory"):
        _linked(_message(*results), messages.Budget(spent // 2))


_SAMPLE = _message(*(_member(i) for i in range(3)), _result(b"cn=gone,dc=x"), _member(9))


@settings(max_examples=400, deadline=None)
@given(
    st.builds(
        lambda i, b: _SAMPLE[:i] + bytes([b]) + _SAMPLE[i + 1 :],
        st.integers(0, len(_SAMPLE) - 1),
        st.integers(0, 255),
    )
)
def test_any_byte_changed_in_results_alike_decodes_or_fails_as_a_ber_error(data: bytes) -> None:
    with contextlib.suppress(ber.BerError):
        messages.decode(data)


@pytest.mark.parametrize("tail", [b"\x30", b"\x30\x81", b"\x30\x81\x05", b"\x30\x82\x00"])
def test_a_result_cut_short_is_a_ber_error(tail: bytes) -> None:
    with pytest.raises(ber.BerError):
        value = ber.tlv(ber.SEQUENCE, _member(1) + tail)
        deref.deref_response(value, 0, len(value), messages.Budget())


def test_multi_valued_sets_past_the_shared_ones_are_read_per_result() -> None:
    """Past 64 distinct sets, a multi-valued set is a per-result value of the shape."""
    results = [
        _result(
            f"uid=u{i},dc=x".encode(),
            _attr("entryUUID", f"id-{i:03d}".encode()),
            # past the 64th, longer: results of a new length, so a new shape (see above)
            _attr("mail", f"a{i:03d}@x".encode(), f"b{i:03d}@x{'.y' * (i >= 64)}".encode()),
        )
        for i in range(100)
    ]
    linked = _linked(_message(*results))
    assert _flat(linked) == sorted(_plainly(results), key=lambda t: t[1])
    bad = results[-1].replace(b"b099@x", b"b\xff99@x")
    assert bad != results[-1]
    with pytest.raises(messages.NotText) as caught:
        _linked(_message(*results[:-1], bad))
    assert caught.value.attribute == "mail"


def test_linked_entries_read_as_a_sequence() -> None:
    results = [_member(i) for i in range(5)]
    linked = _linked(_message(*results))["member"]
    assert len(linked) == 5
    entries = tuple(linked)
    assert linked == entries and linked == list(entries) and linked[1:3] == entries[1:3]
    assert linked[-1].dn == "uid=user-4,ou=People,dc=example,dc=org"
    assert linked[0] == entries[0] and linked != entries[:4]
    with pytest.raises(IndexError):
        linked[5]


def test_picking_attributes_gives_what_the_entries_hold() -> None:
    results = [_member(i) for i in range(20)]
    results.append(_result(b"uid=gone,dc=x"))  # read in full: an Entry of no attributes
    results += [
        _result(
            f"uid=m{i},dc=x".encode(),
            _attr("entryUUID", f"id-{i}".encode()),
            _attr("mail", f"a{i}@x".encode(), f"b{i}@x{'.y' * (i >= 64)}".encode()),
        )
        for i in range(70)
    ]
    linked = _linked(_message(*results))["member"]
    names = ("objectclass", "entryuuid", "mail", "cn")
    picked = list(linked.pick(names))
    assert picked == [(e.dn, tuple(e.get(n) for n in names)) for e in linked]
    assert picked[0][1][:2] == (CLASSES, ("00000000-0000-1000-8000-000000000000",))
    for two in (("objectclass", "entryuuid"), ("mail", "entryuuid"), ("entryuuid", "mail")):
        assert list(linked.pick(two)) == [(e.dn, tuple(e.get(n) for n in two)) for e in linked]


def test_rows_of_one_value_are_kept_as_that_value_in_runs_of_their_shape() -> None:
    """Members of two shapes interleaved (users and groups), runs of each, and results read
    in full: every way of reading gives the entries an element-by-element reading gives,
    and the rows of a shape with one value of its own are that value alone."""
    groups = ("top", "groupOfNames")
    order = [0, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1] * 3
    results = [  # uids of two digits: results of one shape have one length
        _member(i, classes=groups if kind else CLASSES) for i, kind in enumerate(order, 10)
    ]
    results.insert(5, _result(b"uid=gone,dc=x"))  # an Entry between lone rows
    linked = _linked(_message(*results))["member"]
    expected = [Entry(dn, attrs) for _, dn, attrs in _plainly(results)]
    assert list(linked) == expected
    assert [linked[i] for i in range(len(linked))] == expected
    assert [linked[i - len(linked)] for i in range(len(linked))] == expected
    assert linked[3:9] == tuple(expected[3:9]) and linked[::5] == tuple(expected[::5])
    with pytest.raises(IndexError):
        linked[-len(linked) - 1]
    names = ("objectclass", "entryuuid")
    assert list(linked.pick(names)) == [(e.dn, tuple(e.get(n) for n in names)) for e in expected]
    lone = sum(type(row) is str for row in linked.rows)
    assert lone == len(results) - 3  # all but the first of each shape and the one in full
