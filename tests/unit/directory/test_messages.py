"""The hand-written LDAP codec, checked byte for byte against ldap3's pyasn1 encoder.

ldap3 is the reference: whatever it would have sent for a request, ``messages`` must send
the same bytes; whatever pyasn1 encodes as a response, ``messages.decode`` must read.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ldap3 import BASE, DEREF_ALWAYS, LEVEL, MODIFY_ADD, MODIFY_DELETE, MODIFY_REPLACE, SUBTREE
from ldap3.operation.add import add_operation
from ldap3.operation.delete import delete_operation
from ldap3.operation.modify import modify_operation
from ldap3.operation.modifyDn import modify_dn_operation
from ldap3.operation.search import compile_filter, parse_filter, search_operation
from ldap3.protocol.convert import build_controls_list
from ldap3.protocol.rfc2696 import paged_search_control
from ldap3.protocol.rfc4511 import (
    LDAPMessage,
    MessageID,
    ProtocolOp,
)
from ldap3.protocol.rfc4527 import post_read_control
from ldap3.utils.asn1 import encode
from pyasn1.codec.ber import encoder as pyasn1_encoder
from pyasn1.type import namedtype, tag, univ

from gateway.directory import ber, messages
from gateway.directory import ldapfilter as lf
from gateway.directory.entry import Modification, ModOp
from gateway.directory.sorting import SortKey, sort_control

LDAP3_SCOPES = {"base": BASE, "one": LEVEL, "sub": SUBTREE}


def ldap3_message(message_id: int, kind: str, request, controls=None) -> bytes:
    """What ldap3's BaseStrategy.send would have put on the wire."""
    msg = LDAPMessage()
    msg["messageID"] = MessageID(message_id)
    msg["protocolOp"] = ProtocolOp().setComponentByName(kind, request)
    built = build_controls_list(controls)
    if built is not None:
        msg["controls"] = built
    return bytes(encode(msg))


def ldap3_filter(text: str) -> bytes:
    return bytes(
        encode(compile_filter(parse_filter(text, None, False, True, None, False).elements[0]))
    )


# ---------------------------------------------------------------------------- BER basics


@pytest.mark.parametrize("value", [0, 1, 127, 128, 255, 256, 500, 65535, 2**31 - 1, -1, -128, -129])
def test_integers_match_pyasn1(value: int) -> None:
    assert ber.integer(value) == bytes(pyasn1_encoder.encode(univ.Integer(value)))


@pytest.mark.parametrize("size", [0, 1, 127, 128, 255, 256, 65535, 65536, 1 << 20])
def test_lengths_match_pyasn1_and_read_back(size: int) -> None:
    encoded = ber.octets(b"x" * size)
    assert encoded == bytes(pyasn1_encoder.encode(univ.OctetString(b"x" * size)))
    assert ber.message_length(encoded) == len(encoded)
    assert ber.header(encoded, 0) == (0x04, len(encoded) - size, len(encoded))


def test_incomplete_headers_ask_for_more_bytes() -> None:
    encoded = ber.octets(b"x" * 70000)
    assert ber.message_length(encoded[:1]) is None
    assert ber.message_length(encoded[:3]) is None  # long form, length bytes not all there
    assert ber.message_length(encoded[:5]) == len(encoded)


def test_truncated_and_indefinite_elements_are_refused() -> None:
    with pytest.raises(ber.BerError):
        ber.header(b"\x04\x05abc", 0)
    with pytest.raises(ber.BerError):
        ber.header(b"\x30\x80\x00\x00", 0)  # indefinite length: never used by LDAP
    with pytest.raises(ber.BerError):
        ber.header(b"\x04", 0)


# ---------------------------------------------------------------------------- requests


@pytest.mark.parametrize("scope", ["base", "one", "sub"])
@pytest.mark.parametrize("size_limit", [0, 2, 1000])
def test_search_request_matches_ldap3(scope: str, size_limit: int) -> None:
    flt = lf.And((lf.Raw("(objectClass=inetOrgPerson)"), lf.Equal("uid", "bjensen")))
    attrs = ["uid", "cn", "entryUUID", "memberOf"]
    ours = messages.message(
        7,
        messages.search_request(
            "ou=People,dc=example,dc=org", scope, flt, attrs, size_limit=size_limit
        ),
    )
    request = search_operation(
        "ou=People,dc=example,dc=org",
        lf.render(flt),
        LDAP3_SCOPES[scope],
        DEREF_ALWAYS,
        attrs,
        size_limit,
        0,
        False,
        False,
        None,
        None,
        None,
        False,
    )
    assert ours == ldap3_message(7, "searchRequest", request)


def test_search_without_attributes_asks_for_none() -> None:
    ours = messages.search_request("", "base", lf.MATCH_ALL, [])
    assert ours == messages.search_request("", "base", lf.MATCH_ALL, ["1.1"])


def test_modify_request_keeps_the_order_given() -> None:
    changes = [
        Modification("member", ModOp.ADD, ("uid=a,dc=x", "uid=b,dc=x")),
        Modification("title", ModOp.REPLACE, ("Ünïcode title",)),
        Modification("member", ModOp.DELETE, ("uid=c,dc=x",)),
        Modification("description", ModOp.DELETE, ()),
    ]
    ours = messages.message(
        3,
        messages.modify_request("cn=g,dc=x", changes),
        [messages.Control("1.2.840.113556.1.4.1413", False)],
    )
    # ldap3 groups changes by attribute; these four are already in an order it keeps
    request = modify_operation(
        "cn=g,dc=x",
        {
            "member": [(MODIFY_ADD, ["uid=a,dc=x", "uid=b,dc=x"]), (MODIFY_DELETE, ["uid=c,dc=x"])],
            "title": [(MODIFY_REPLACE, ["Ünïcode title"])],
            "description": [(MODIFY_DELETE, [])],
        },
        False,
        None,
        None,
        False,
    )
    expected = ldap3_message(
        3, "modifyRequest", request, [("1.2.840.113556.1.4.1413", False, None)]
    )
    assert sorted(_changes(ours)) == sorted(_changes(expected))
    assert [m[1] for m in _changes(ours)] == [b"member", b"title", b"member", b"description"]


def _changes(encoded: bytes) -> list[tuple[int, bytes, bytes]]:
    """(operation, attribute, values BER) of each change in an encoded ModifyRequest."""
    _, s, e = ber.header(encoded, 0)
    op = ber.children(encoded, s, e)[1]
    _, changes_s, changes_e = ber.children(encoded, op[1], op[2])[1]
    out = []
    for _, cs, ce in ber.children(encoded, changes_s, changes_e):
        (_, os, _), (_, ms, me) = ber.children(encoded, cs, ce)
        (_, ns, ne), (_, vs, ve) = ber.children(encoded, ms, me)
        out.append((encoded[os], encoded[ns:ne], encoded[vs:ve]))
    return out


def test_add_request_matches_ldap3() -> None:
    attrs = {
        "objectClass": ["top", "person", "inetOrgPerson"],
        "uid": ["jürgen"],
        "cn": ["J, R"],
        "uidNumber": [10001],
    }
    ours = messages.message(9, messages.add_request("uid=j\\2c,dc=x", attrs))
    request = add_operation(
        "uid=j\\2c,dc=x",
        {k: [str(v) for v in vs] for k, vs in attrs.items()},
        False,
        None,
        None,
        False,
    )
    assert ours == ldap3_message(9, "addRequest", request)


def test_delete_and_modify_dn_requests_match_ldap3() -> None:
    assert messages.message(5, messages.delete_request("uid=x,dc=y")) == ldap3_message(
        5, "delRequest", delete_operation("uid=x,dc=y")
    )
    for superior in (None, "ou=Other,dc=y"):
        ours = messages.message(
            6, messages.modify_dn_request("uid=x,dc=y", "uid=z", new_superior=superior)
        )
        request = modify_dn_operation("uid=x,dc=y", "uid=z", True, superior)
        assert ours == ldap3_message(6, "modDNRequest", request)


def test_controls_match_ldap3() -> None:
    flt = lf.Not(lf.Equal("member", "cn=placeholder,dc=x"))
    ours = messages.message(
        1,
        messages.delete_request("a=b"),
        [
            messages.assertion_control(flt),
            messages.post_read_control(["entryUUID", "entryCSN"]),
            messages.paged_control(500, b"\x01\x02cookie"),
        ],
    )
    expected = ldap3_message(
        1,
        "delRequest",
        delete_operation("a=b"),
        [
            ("1.3.6.1.1.12", True, ldap3_filter(lf.render(flt))),
            post_read_control(["entryUUID", "entryCSN"]),
            paged_search_control(True, 500, b"\x01\x02cookie"),
        ],
    )
    assert ours == expected


class _SortKey(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("attributeType", univ.OctetString()),
        namedtype.OptionalNamedType(
            "orderingRule",
            univ.OctetString().subtype(
                implicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatSimple, 0)
            ),
        ),
        namedtype.DefaultedNamedType(
            "reverseOrder",
            univ.Boolean(False).subtype(
                implicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatSimple, 1)
            ),
        ),
    )


class _SortKeyList(univ.SequenceOf):
    componentType = _SortKey()


def test_sort_control_matches_pyasn1() -> None:
    keys = [SortKey("uid", "caseIgnoreOrderingMatch"), SortKey("cn", reverse=True), SortKey("sn")]
    value = _SortKeyList()
    for i, key in enumerate(keys):
        item = _SortKey()
        item["attributeType"] = key.attribute
        if key.ordering_rule:
            item["orderingRule"] = key.ordering_rule
        if key.reverse:
            item["reverseOrder"] = True
        value[i] = item
    control = sort_control(keys)
    assert control.critical
    assert control.value == bytes(encode(value))  # ldap3's encoder: TRUE is 0xFF, as in DER


# ---------------------------------------------------------------------------- filters

# ldap3's text parser strips edge characters that str.isspace() calls space (tab, \x1c-\x1f…):
# the text path cannot carry them, the direct encoding can (see the test after the property)
values = st.text(
    alphabet=st.characters(codec="utf-8").filter(lambda c: not c.isspace())
    | st.sampled_from("*()\\ \x00"),
    max_size=12,
)
names = st.sampled_from(["uid", "cn", "mail", "entryUUID", "businessCategory"])
leaves = st.one_of(
    st.builds(lf.Equal, names, values),
    st.builds(lf.GreaterOrEqual, names, values),
    st.builds(lf.LessOrEqual, names, values),
    st.builds(lf.Present, names),
    st.builds(
        lf.Substring,
        names,
        values.filter(bool) | st.none(),
        st.lists(values.filter(bool), max_size=2).map(tuple),
        values.filter(bool) | st.none(),
    ).filter(lambda s: s.initial or s.any or s.final),
    st.just(lf.Raw("(objectClass=inetOrgPerson)")),
    st.just(lf.Nothing()),
)
filters = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda xs: lf.And(tuple(xs))),
        st.lists(inner, min_size=1, max_size=3).map(lambda xs: lf.Or(tuple(xs))),
        inner.map(lf.Not),
    ),
    max_leaves=8,
)


@settings(max_examples=400, deadline=None)
@given(filters)
def test_filters_encode_as_ldap3_compiles_their_escaped_text(flt: lf.LdapFilter) -> None:
    """Two independent paths agree: the tree encoded directly, and its RFC 4515 text (the
    one escaping point) parsed and compiled by ldap3. Hostile values stay values."""
    assert messages.encode_filter(flt) == ldap3_filter(lf.render(flt))


@pytest.mark.parametrize("value", ["\x1f", "\tbob", "bob\n", "\xa0", " ", "\u2003x\u2003"])
def test_values_are_sent_exactly_even_where_ldap3s_text_parser_would_strip_them(
    value: str,
) -> None:
    encoded = messages.encode_filter(lf.Equal("uid", value))
    _, start, end = ber.header(encoded, 0)
    (_, ns, ne), (_, vs, ve) = ber.children(encoded, start, end)
    assert (encoded[ns:ne], encoded[vs:ve]) == (b"uid", value.encode())


def test_extensible_raw_filters_go_through_ldap3() -> None:
    raw = lf.Raw("(uid:caseExactMatch:=Bob)")
    assert messages.encode_filter(raw) == ldap3_filter("(uid:caseExactMatch:=Bob)")


# ---------------------------------------------------------------------------- responses


def test_search_result_entry_is_decoded_to_an_entry() -> None:
    attrs = ber.sequence(
        ber.sequence(ber.octets("cn"), ber.tlv(ber.SET, ber.octets("Babs") + ber.octets("B J"))),
        ber.sequence(ber.octets("sn"), ber.tlv(ber.SET, ber.octets("Ångström"))),
        ber.sequence(ber.octets("empty"), ber.tlv(ber.SET, b"")),
        ber.sequence(ber.octets("entryUUID"), ber.tlv(ber.SET, ber.octets("1-2"))),
    )
    data = ber.sequence(
        ber.integer(300), ber.sequence(ber.octets("uid=björn,dc=x"), attrs, tag=0x64)
    )
    response = messages.decode(b"junk" + data, 4)
    assert response.message_id == 300
    assert response.result is None
    assert response.entry is not None
    assert response.entry.dn == "uid=björn,dc=x"
    assert response.entry.attributes == {
        "cn": ("Babs", "B J"),
        "sn": ("Ångström",),
        "entryuuid": ("1-2",),
    }


def test_results_with_controls_are_decoded() -> None:
    post_read = ber.sequence(
        ber.octets("cn=g,dc=x"),
        ber.sequence(ber.sequence(ber.octets("entryCSN"), ber.tlv(ber.SET, ber.octets("csn#1")))),
        tag=0x64,
    )
    paged = ber.sequence(ber.integer(0), ber.octets(b"\x00next"))
    controls = ber.sequence(
        ber.sequence(ber.octets(messages.POST_READ_OID), ber.octets(post_read)),
        ber.sequence(ber.octets(messages.PAGED_OID), ber.boolean(False), ber.octets(paged)),
        tag=0xA0,
    )
    data = ber.sequence(
        ber.integer(2),
        ber.sequence(
            ber.enumerated(68), ber.octets("dc=x"), ber.octets("Already exists"), tag=0x67
        ),
        controls,
    )
    result = messages.decode(data).result
    assert result is not None
    assert (result.code, result.matched_dn, result.message) == (68, "dc=x", "Already exists")
    assert messages.post_read_entry(result.controls[messages.POST_READ_OID]).attributes == {
        "entrycsn": ("csn#1",)
    }
    assert messages.paged_cookie(result.controls[messages.PAGED_OID]) == b"\x00next"


def test_notice_of_disconnection_is_recognised() -> None:
    data = ber.sequence(
        ber.integer(0),
        ber.sequence(
            ber.enumerated(52),
            ber.octets(""),
            ber.octets("going down"),
            ber.octets(messages.NOTICE_OF_DISCONNECTION, 0x8A),
            tag=0x78,
        ),
    )
    response = messages.decode(data)
    assert response.message_id == 0
    assert response.result is not None
    assert response.result.name == messages.NOTICE_OF_DISCONNECTION


@pytest.mark.parametrize(
    "data",
    [
        b"\x04\x00",  # not a message
        ber.sequence(ber.integer(1)),  # no operation
        ber.sequence(ber.integer(1), ber.sequence(tag=0x65)),  # result without fields
        ber.sequence(ber.integer(1), ber.sequence(ber.octets("dn"), tag=0x64)),  # no attributes
        ber.sequence(ber.integer(1), ber.sequence(tag=0x42)),  # unknown operation
    ],
)
def test_malformed_responses_are_refused(data: bytes) -> None:
    with pytest.raises(ber.BerError):
        messages.decode(data)


def test_deref_control_and_its_per_entry_answer() -> None:
    control = messages.deref_control([("memberOf", ("entryUUID", "objectClass"))])
    assert (control.oid, control.critical) == (messages.DEREF_OID, False)
    assert control.value == ber.sequence(
        ber.sequence(
            ber.octets("memberOf"),
            ber.sequence(ber.octets("entryUUID"), ber.octets("objectClass")),
        )
    )
    answer = ber.sequence(
        ber.sequence(
            ber.octets("memberOf"),
            ber.octets("cn=a,dc=x"),
            ber.sequence(
                ber.sequence(ber.octets("entryUUID"), ber.tlv(ber.SET, ber.octets("u-1"))),
                tag=0xA0,
            ),
        ),
        ber.sequence(ber.octets("memberOf"), ber.octets("cn=gone,dc=x")),  # dangling
    )
    data = ber.sequence(
        ber.integer(4),
        ber.sequence(ber.octets("uid=x,dc=x"), ber.sequence(), tag=0x64),
        ber.sequence(ber.sequence(ber.octets(messages.DEREF_OID), ber.octets(answer)), tag=0xA0),
    )
    entry = messages.decode(data).entry
    assert entry is not None and entry.linked is not None
    assert [(e.dn, e.attributes) for e in entry.linked["memberof"]] == [
        ("cn=a,dc=x", {"entryuuid": ("u-1",)}),
        ("cn=gone,dc=x", {}),
    ]
    plain = ber.sequence(
        ber.integer(4), ber.sequence(ber.octets("uid=x"), ber.sequence(), tag=0x64)
    )
    assert messages.decode(plain).entry.linked is None  # the server did not answer the request


# a valid message to mutate: an entry with a dereference control, the richest shape decoded
_SAMPLE = ber.sequence(
    ber.integer(7),
    ber.sequence(
        ber.octets("uid=x,dc=x"),
        ber.sequence(ber.sequence(ber.octets("cn"), ber.tlv(ber.SET, ber.octets("x")))),
        tag=0x64,
    ),
    ber.sequence(
        ber.sequence(
            ber.octets(messages.DEREF_OID),
            ber.octets(
                ber.sequence(
                    ber.sequence(
                        ber.octets("memberOf"),
                        ber.octets("cn=g,dc=x"),
                        ber.sequence(
                            ber.sequence(
                                ber.octets("entryUUID"), ber.tlv(ber.SET, ber.octets("u"))
                            ),
                            tag=0xA0,
                        ),
                    )
                )
            ),
        ),
        tag=0xA0,
    ),
)


@settings(max_examples=500, deadline=None)
@given(
    st.binary(max_size=64)
    | st.builds(
        lambda i, b: _SAMPLE[:i] + bytes([b]) + _SAMPLE[i + 1 :],
        st.integers(0, len(_SAMPLE) - 1),
        st.integers(0, 255),
    )
)
def test_any_bytes_decode_or_fail_as_ber_errors(data: bytes) -> None:
    """Whatever a broken or hostile peer sends, decoding answers or raises BerError — which
    the exchange turns into a lost connection (503) — never another exception (a 500)."""
    with contextlib.suppress(ber.BerError):
        messages.decode(data)


# ---------------------------------------------------------------------------- distrust


def _entry_with(dn: bytes, name: str, *values: bytes) -> bytes:
    attrs = ber.sequence(
        ber.sequence(ber.octets(name), ber.tlv(ber.SET, b"".join(ber.octets(v) for v in values)))
    )
    return ber.sequence(ber.integer(5), ber.sequence(ber.octets(dn), attrs, tag=0x64))


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (_entry_with(b"cn=a,dc=x", "jpegPhoto", b"\xff\xd8\xff"), "jpegphoto"),
        (_entry_with(b"cn=a,dc=x", "description", b"ok", b"caf\xe9"), "description"),
        (_entry_with(b"cn=caf\xe9,dc=x", "cn", b"x"), "the DN"),
    ],
)
def test_text_that_is_not_utf8_is_refused_by_name_never_replaced(data: bytes, named: str) -> None:
    with pytest.raises(messages.NotText) as caught:
        messages.decode(data)
    assert caught.value.attribute == named
    assert "\ufffd" not in str(caught.value)


@pytest.mark.parametrize("code", [0, 10, 32, 71, 80, 118, 122, 123, 4096, 16654])
def test_registered_result_codes_are_read(code: int) -> None:
    data = ber.sequence(
        ber.integer(1),
        ber.sequence(ber.enumerated(code), ber.octets(""), ber.octets(""), tag=0x67),
    )
    assert messages.decode(data).result.code == code


@pytest.mark.parametrize("code", [-1, -(2**31), 9, 22, 81, 97, 112, 124, 1 << 20])
def test_negative_and_unknown_result_codes_are_protocol_errors(code: int) -> None:
    data = ber.sequence(
        ber.integer(1),
        ber.sequence(ber.enumerated(code), ber.octets(""), ber.octets(""), tag=0x67),
    )
    with pytest.raises(ber.BerError, match="result code"):
        messages.decode(data)


def test_decoding_is_charged_to_the_answers_budget() -> None:
    data = _entry_with(b"cn=a,dc=x", "cn", *([b""] * 1000))
    budget = messages.Budget(1 << 20)
    assert len(messages.decode(data, 0, budget).entry.get("cn")) == 1000
    spent = (1 << 20) - budget.left
    assert 1000 * messages.ELEMENT_COST <= spent < 1100 * messages.ELEMENT_COST
    with pytest.raises(ber.BerError, match="memory"):
        messages.decode(data, 0, messages.Budget(500 * messages.ELEMENT_COST))


def test_children_stop_at_the_most_a_caller_takes() -> None:
    content = ber.octets("") * 10
    assert len(ber.children(content, 0, len(content), 10)) == 10
    with pytest.raises(ber.BerError):
        ber.children(content, 0, len(content), 9)


@pytest.mark.parametrize(
    "data",
    [
        ber.sequence(ber.integer(1), ber.sequence(tag=0x79)),  # intermediate response
        ber.sequence(  # a fourth field in an LDAPMessage
            ber.integer(1),
            ber.sequence(ber.enumerated(0), ber.octets(""), ber.octets(""), tag=0x65),
            ber.sequence(tag=0xA0),
            ber.octets("more"),
        ),
        ber.sequence(  # controls where controls go, but tagged otherwise
            ber.integer(1),
            ber.sequence(ber.enumerated(0), ber.octets(""), ber.octets(""), tag=0x65),
            ber.octets("x"),
        ),
        ber.sequence(ber.octets("1"), ber.sequence(tag=0x65)),  # message id not an INTEGER
        _entry_with(b"cn=a", "cn", b"x").replace(b"\x04\x01x", b"\x02\x01\x01"),  # not octets
    ],
)
def test_shapes_ldap_does_not_have_are_refused(data: bytes) -> None:
    with pytest.raises(ber.BerError):
        messages.decode(data)
