"""LDAP requests and responses (RFC 4511) to and from bytes, for the operations the gateway
sends: search, add, modify, modify DN, delete, with their controls.

Filters are encoded straight from the :mod:`~gateway.directory.ldapfilter` tree, so a client
value is an OCTET STRING in the request and never passes through a text parser.
Administrator-written :class:`~ldapfilter.Raw` filters are parsed once by ldap3 and their
encoding cached. Connections, binding and TLS stay with ldap3 (see ``pool``); this module only
replaces its per-operation encoding and decoding, which profiling showed to be the gateway's
largest CPU cost (see ``ber`` for why).
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, overload

from gateway.directory import ber, ldapfilter
from gateway.directory.entry import Entry, Modification, ModOp
from gateway.directory.ldapfilter import (
    And,
    Equal,
    GreaterOrEqual,
    LdapFilter,
    LessOrEqual,
    Not,
    Nothing,
    Or,
    Present,
    Raw,
    Substring,
)

SCOPES = {"base": 0, "one": 1, "sub": 2}
DEREF_ALWAYS = 3  # what ldap3 sent before this module existed; kept so results are unchanged
MOD_OPS = {ModOp.ADD: 0, ModOp.DELETE: 1, ModOp.REPLACE: 2, ModOp.INCREMENT: 3}

# protocolOp tags ([APPLICATION n]; constructed unless noted)
SEARCH_REQUEST = 0x63
SEARCH_RESULT_ENTRY = 0x64
SEARCH_RESULT_DONE = 0x65
MODIFY_REQUEST = 0x66
ADD_REQUEST = 0x68
DEL_REQUEST = 0x4A  # primitive: the DN itself
MODIFY_DN_REQUEST = 0x6C
SEARCH_RESULT_REFERENCE = 0x73
EXTENDED_RESPONSE = 0x78
INTERMEDIATE_RESPONSE = 0x79
RESULT_TAGS = frozenset({0x61, 0x65, 0x67, 0x69, 0x6B, 0x6D, 0x6F, 0x78})
CONTROLS = 0xA0

ASSERTION_OID = "1.3.6.1.1.12"
POST_READ_OID = "1.3.6.1.1.13.2"
PAGED_OID = "1.2.840.113556.1.4.319"
DEREF_OID = "1.3.6.1.4.1.4203.666.5.16"  # OpenLDAP slapo-deref (draft-masarati-ldap-deref)
NOTICE_OF_DISCONNECTION = "1.3.6.1.4.1.1466.20036"  # RFC 4511 §4.4.1, message id 0


class Control(NamedTuple):
    oid: str
    critical: bool
    value: bytes | None = None


@dataclass(slots=True)
class Result:
    """The LDAPResult that ends an operation, and the response controls it came with."""

    code: int
    matched_dn: str = ""
    message: str = ""
    controls: dict[str, bytes] = field(default_factory=dict)
    name: str | None = None  # extended responses: responseName (e.g. notice of disconnection)
    referrals: tuple[str, ...] = ()  # result 10: where the server says to ask instead
    references: tuple[str, ...] = ()  # a search's continuation references (RFC 4511 §4.5.3)
    post_read: Entry | None = None  # a post-read control's entry, decoded with the answer


# ---------------------------------------------------------------------------- requests


def message(message_id: int, operation: bytes, controls: Sequence[Control] = ()) -> bytes:
    body = ber.integer(message_id) + operation
    if controls:
        body += ber.tlv(CONTROLS, b"".join([_control(c) for c in controls]))
    return ber.tlv(ber.SEQUENCE, body)


def search_request(
    base: str,
    scope: str,
    flt: LdapFilter,
    attributes: Sequence[str],
    *,
    size_limit: int = 0,
) -> bytes:
    return ber.tlv(
        SEARCH_REQUEST,
        ber.octets(base)
        + _search_options(scope, size_limit)
        + encode_filter(flt)
        + _attribute_list(tuple(attributes) or ("1.1",)),
    )


@functools.lru_cache(maxsize=64)
def _search_options(scope: str, size_limit: int) -> bytes:
    """What a search request holds between its base and its filter, encoded once per scope
    and size limit (the gateway uses a handful)."""
    return (
        ber.enumerated(SCOPES[scope])
        + ber.enumerated(DEREF_ALWAYS)
        + ber.integer(size_limit)
        + ber.integer(0)  # time limit: the socket timeout bounds every answer
        + ber.boolean(False)
    )


@functools.lru_cache(maxsize=256)
def _attribute_list(attributes: tuple[str, ...]) -> bytes:
    """A search's attribute selection, encoded once: reads of a type ask for the same list."""
    return ber.sequence(*(ber.octets(a) for a in attributes))


_name = functools.lru_cache(maxsize=1024)(ber.octets)
"""An attribute description (or a control's OID) as an OCTET STRING: the mappings name a
few dozen, in every request."""


def modify_request(dn: str, changes: Iterable[Modification]) -> bytes:
    return ber.tlv(
        MODIFY_REQUEST,
        ber.octets(dn)
        + ber.tlv(
            ber.SEQUENCE,
            b"".join(
                [
                    ber.tlv(ber.SEQUENCE, _MOD_OPS[m.op] + _attribute(m.attr, m.values))
                    for m in changes
                ]
            ),
        ),
    )


_MOD_OPS = {op: ber.enumerated(code) for op, code in MOD_OPS.items()}


def add_request(dn: str, attributes: Mapping[str, Sequence[Any]]) -> bytes:
    return ber.tlv(
        ADD_REQUEST,
        ber.octets(dn)
        + ber.tlv(
            ber.SEQUENCE,
            b"".join([_attribute(name, values) for name, values in attributes.items()]),
        ),
    )


def delete_request(dn: str) -> bytes:
    return ber.octets(dn, DEL_REQUEST)


def modify_dn_request(
    dn: str, new_rdn: str, *, delete_old_rdn: bool = True, new_superior: str | None = None
) -> bytes:
    parts = [ber.octets(dn), ber.octets(new_rdn), ber.boolean(delete_old_rdn)]
    if new_superior is not None:
        parts.append(ber.octets(new_superior, 0x80))
    return ber.sequence(*parts, tag=MODIFY_DN_REQUEST)


def _attribute(name: str, values: Iterable[Any]) -> bytes:
    octets = ber.octets
    return ber.tlv(
        ber.SEQUENCE,
        _name(name)
        + ber.tlv(ber.SET, b"".join([octets(v if type(v) is str else _value(v)) for v in values])),
    )


def _value(value: Any) -> str | bytes:
    return value if isinstance(value, str | bytes) else str(value)


@functools.lru_cache(maxsize=256)
def _control(control: Control) -> bytes:
    """Encoded once per control: most requests send the same few (permissive modify, a
    post-read of a type's attributes, the guard of a member add)."""
    parts = [_name(control.oid)]
    if control.critical:
        parts.append(ber.boolean(True))
    if control.value is not None:
        parts.append(ber.octets(control.value))
    return ber.sequence(*parts)


# ---------------------------------------------------------------------------- filters


def encode_filter(flt: LdapFilter) -> bytes:
    """The Filter CHOICE (RFC 4511 §4.5.1) for ``flt``.

    The encoder is found by the node's type in one dictionary look-up; only a subclass of a
    node type (none in the gateway) is matched by isinstance, in the same order."""
    encode = _FILTER_ENCODERS.get(type(flt))
    if encode is None:
        for cls, encoder in _FILTER_ENCODERS.items():
            if isinstance(flt, cls):
                encode = encoder
                break
        else:
            raise TypeError(f"not an LDAP filter node: {flt!r}")
    return encode(flt)


def _items(tag: int, items: tuple[LdapFilter, ...]) -> bytes:
    return ber.tlv(tag, b"".join([encode_filter(i) for i in items]))


def _substring(flt: Substring) -> bytes:
    parts = [ber.octets(flt.initial, 0x80)] if flt.initial else []
    parts += [ber.octets(a, 0x81) for a in flt.any if a]
    if flt.final:
        parts.append(ber.octets(flt.final, 0x82))
    return ber.sequence(_name(flt.attr), ber.sequence(*parts), tag=0xA4)


@functools.lru_cache(maxsize=256)
def _raw(text: str) -> bytes:
    """An administrator's filter (:class:`~ldapfilter.Raw`), encoded once per text."""
    return _compiled(ldapfilter.render(Raw(text)))


_FILTER_ENCODERS: dict[type, Callable[[Any], bytes]] = {
    Equal: lambda f: ber.tlv(0xA3, _name(f.attr) + ber.octets(f.value)),
    Present: lambda f: ber.octets(f.attr, 0x87),
    And: lambda f: _items(0xA0, f.items),
    Or: lambda f: _items(0xA1, f.items),
    Not: lambda f: ber.tlv(0xA2, encode_filter(f.inner)),
    Substring: _substring,
    GreaterOrEqual: lambda f: ber.tlv(0xA5, _name(f.attr) + ber.octets(f.value)),
    LessOrEqual: lambda f: ber.tlv(0xA6, _name(f.attr) + ber.octets(f.value)),
    Raw: lambda f: _raw(f.text),
    Nothing: lambda f: encode_filter(Not(ldapfilter.MATCH_ALL)),
}
"""Each node type's Filter CHOICE, in the order the types are tried for a subclass."""


@functools.lru_cache(maxsize=256)
def _compiled(text: str) -> bytes:
    """An administrator's filter text, parsed and encoded by ldap3 once (any RFC 4515 form,
    extensible matches included); validated when the mapping loaded."""
    from ldap3.operation.search import compile_filter, parse_filter
    from ldap3.utils.asn1 import encode

    tree = parse_filter(text, None, False, True, None, False)
    return bytes(encode(compile_filter(tree.elements[0])))


# ---------------------------------------------------------------------------- controls


def assertion_control(flt: LdapFilter) -> Control:
    """RFC 4528: the server applies the write only if ``flt`` holds for the entry."""
    return Control(ASSERTION_OID, True, encode_filter(flt))


def post_read_control(attributes: Sequence[str]) -> Control:
    """RFC 4527: the entry as written comes back with the write's response."""
    return Control(POST_READ_OID, False, _attribute_list(tuple(attributes)))


def paged_control(size: int, cookie: bytes) -> Control:
    """RFC 2696 simple paged results."""
    return Control(PAGED_OID, True, ber.sequence(ber.integer(size), ber.octets(cookie)))


def deref_control(specs: Sequence[tuple[str, Sequence[str]]]) -> Control:
    """Ask the server to return, with each entry, ``attributes`` of the entries its
    DN-valued ``attribute`` names: ``SEQUENCE OF SEQUENCE { derefAttr, SEQUENCE OF attr }``.
    Not critical: a server without it just answers the search."""
    return Control(
        DEREF_OID,
        False,
        ber.sequence(
            *(
                ber.sequence(ber.octets(attr), ber.sequence(*(ber.octets(a) for a in attrs)))
                for attr, attrs in specs
            )
        ),
    )


def paged_cookie(value: bytes) -> bytes:
    """The cookie of a paged-results response control (empty: no more pages)."""
    _, start, end = ber.header(value, 0)
    parts = ber.children(value, start, end, 2)
    if len(parts) != 2:
        raise ber.BerError("paged results control: expected size and cookie")
    _, s, e = parts[1]
    return value[s:e]


def post_read_entry(value: bytes, budget: Budget | None = None) -> Entry:
    """The entry a post-read control carries (a SearchResultEntry)."""
    tag, start, end = ber.header(value, 0)
    if tag != SEARCH_RESULT_ENTRY:
        raise ber.BerError("post-read control: not a search result entry")
    return _entry(value, start, end, budget or Budget())


# ---------------------------------------------------------------------------- responses

RESULT_CODES = frozenset(
    (*range(0, 9), *range(10, 22), *range(32, 37), *range(48, 55), *range(64, 70), 71, 80)
).union(range(113, 124), (4096, 16654))
"""Result codes a server may send: RFC 4511 §4.1.9 and the IANA registry (RFC 4520) —
LCUP, cancel, assertionFailed, authorizationDenied, e-syncRefreshRequired, noOperation.
Anything else (a negative number, a client-side API code) is a protocol error."""

ELEMENT_COST = 64
"""What decoding one element (entry, attribute, value, control, URI) is charged, in bytes,
besides a value's own bytes: about the smallest Python object that holds it, plus the
pointer to it. An empty value costs two bytes on the wire and this much in memory."""
DEFAULT_BUDGET = 128 << 20
"""What one answer may build when the caller gives no :class:`Budget` (twice the default
answer cap, as ``exchange`` gives)."""


class NotText(ber.BerError):
    """A DN or attribute value that is not UTF-8.

    The gateway's entries hold text (LDAP strings are UTF-8, RFC 4511 §4.1.2; the syntaxes a
    mapping reads are text syntaxes). Replacing the bytes with U+FFFD would hand the client a
    different value and write it back over the original at the next PUT, so the value is
    refused instead, naming the attribute and the entry. The message itself was well formed:
    the exchange reads the answer to its end and keeps the connection (``final``: this was
    the operation's final response).
    """

    def __init__(self, attribute: str, dn: str) -> None:
        super().__init__(f"{attribute} of {dn!r} holds a value that is not UTF-8")
        self.attribute = attribute
        self.dn = dn
        self.final = False


class Budget:
    """How many bytes of objects the answer being read may still build.

    A byte cap on the answer alone does not bound memory: decoding turns an empty value of
    two bytes into an object and a pointer of :data:`ELEMENT_COST`, so a 10 MB answer of
    empty values would take most of a gigabyte. Each element is charged before it is made;
    one budget spans all messages of one answer (see ``exchange``).
    """

    __slots__ = ("left",)

    def __init__(self, size: int = DEFAULT_BUDGET) -> None:
        self.left = size

    def elements(self) -> int:
        """How many more elements (of no bytes of their own) fit."""
        return max(self.left // ELEMENT_COST, 0)

    def take(self, count: int) -> None:
        self.left -= count * ELEMENT_COST
        if self.left < 0:
            raise ber.BerError(_OVER_BUDGET)


_OVER_BUDGET = "the answer would take more memory to decode than the gateway allows"


class Response(NamedTuple):
    message_id: int
    entry: Entry | None  # a SearchResultEntry
    result: Result | None  # an operation's final response
    reference: tuple[str, ...] = ()  # a SearchResultReference's URIs


def decode(data: bytes, pos: int = 0, budget: Budget | None = None) -> Response:
    """The complete LDAPMessage at ``data[pos:]``: an entry, a continuation reference or a
    final result. Anything else — an intermediate response (the gateway asks for nothing
    that sends one), an unknown operation, an unknown result code, extra fields — raises
    :class:`~gateway.directory.ber.BerError`; a value that is not text raises
    :class:`NotText`."""
    if budget is None:
        budget = Budget()
    tag, start, end = ber.header(data, pos)
    if tag != ber.SEQUENCE:
        raise ber.BerError("not an LDAP message")
    parts = ber.children(data, start, end, 3)
    if len(parts) < 2:
        raise ber.BerError("LDAP message without an operation")
    if parts[0][0] != ber.INTEGER:
        raise ber.BerError("LDAP message without a message id")
    message_id = ber.read_integer(data, parts[0][1], parts[0][2])
    op_tag, s, e = parts[1]
    controls = None
    if len(parts) == 3:
        if parts[2][0] != CONTROLS:
            raise ber.BerError("LDAP message with an unknown third field")
        controls = parts[2]
    budget.take(1)
    if op_tag == SEARCH_RESULT_ENTRY:
        linked = None
        if controls is not None:
            # read where it lies in the message: a big group's is most of the answer
            deref = _control_spans(data, controls[1], controls[2], budget).get(DEREF_OID)
            linked = _deref_response(data, *deref, budget) if deref is not None else None
        return Response(message_id, _entry(data, s, e, budget, linked), None)
    if op_tag in RESULT_TAGS:
        result = _result(data, s, e, op_tag, budget)
        if controls is not None:
            result.controls = _controls(data, controls[1], controls[2], budget)
            try:
                _read_controls(result, budget)
            except NotText as err:
                err.final = True
                raise
        return Response(message_id, None, result)
    if op_tag == SEARCH_RESULT_REFERENCE:
        uris = ber.children(data, s, e, budget.elements())
        budget.take(len(uris))
        if not uris:
            raise ber.BerError("search result reference without a URI")
        return Response(message_id, None, None, tuple(_loggable(data, a, b) for _, a, b in uris))
    raise ber.BerError(f"unexpected LDAP operation tag 0x{op_tag:02x}")


def _read_controls(result: Result, budget: Budget) -> None:
    """Decode the response controls the gateway reads, now, so that garbage in them ends
    the exchange (a lost connection) instead of surfacing later from an operation as a 500."""
    post_read = result.controls.get(POST_READ_OID)
    if post_read is not None:
        result.post_read = post_read_entry(post_read, budget)
    paged = result.controls.get(PAGED_OID)
    if paged is not None:
        paged_cookie(paged)


def _entry(
    data: bytes,
    start: int,
    end: int,
    budget: Budget,
    linked: dict[str, tuple[Entry, ...]] | None = None,
) -> Entry:
    parts = ber.children(data, start, end, 2)
    if len(parts) != 2:
        raise ber.BerError("search result entry: expected a DN and attributes")
    (_, ds, de), (_, as_, ae) = parts
    budget.take(3)  # the Entry, its dict and its DN
    try:
        dn = data[ds:de].decode("utf-8")
    except UnicodeDecodeError:
        raise NotText("the DN", _loggable(data, ds, de)) from None
    return Entry(dn, _attributes(data, as_, ae, budget, dn), linked)


def _attributes(
    data: bytes, start: int, end: int, budget: Budget, dn: str
) -> dict[str, tuple[str, ...]]:
    """A PartialAttributeList: names lower-cased, values as text, attributes without values
    left out; an attribute named twice is a protocol error (one would hide the other).

    Read by :func:`_attributes_at_once` when it can; anything it does not take (a broken
    list, a value that is not text, an answer over budget) is read again by
    :func:`_attributes_by_element`, which raises the error it has."""
    fast = _attributes_at_once(data, start, end, budget.left)
    if fast is not None:
        budget.left = fast[1]
        return fast[0]
    return _attributes_by_element(data, start, end, budget, dn)


def _attributes_by_element(
    data: bytes, start: int, end: int, budget: Budget, dn: str
) -> dict[str, tuple[str, ...]]:
    """:func:`_attributes`, element by element: every check in the order the errors are
    raised."""
    listed = ber.children(data, start, end, budget.elements())
    budget.take(2 * len(listed))  # a name, a tuple and a dict slot each
    attributes: dict[str, tuple[str, ...]] = {}
    for _, ps, pe in listed:
        pair = ber.children(data, ps, pe, 2)
        if len(pair) != 2 or pair[1][0] != ber.SET:
            raise ber.BerError("search result entry: malformed attribute")
        (_, ns, ne), (_, vs, ve) = pair
        try:
            name = data[ns:ne].decode("ascii").lower()
        except UnicodeDecodeError:
            raise ber.BerError("attribute description is not ASCII") from None
        values = _values(data, vs, ve, budget, name, dn)
        if values:
            if name in attributes:
                raise ber.BerError(f"attribute {name} appears twice in one entry")
            attributes[name] = values
    return attributes


_names: dict[bytes, str] = {}
_MAX_NAMES = 1024
"""Attribute descriptions as sent → as read (ASCII, lower-cased): the same few dozen names
come in every answer. Bounded: names past the first thousand are decoded each time."""


def _attributes_at_once(
    data: bytes, start: int, end: int, left: int
) -> tuple[dict[str, tuple[str, ...]], int] | None:
    """What :func:`_attributes` reads from a well-formed list, in one pass, and the budget
    left after it — or None, and nothing charged, for anything else.

    The hot loop of every read (an entry, a write's post-read entry): one loop over the
    bytes with the headers read inline (lengths under 64 KiB), instead of a list of element
    tuples per container and a call per attribute. It is the same reading because it takes
    only what the general path takes without error, and gives up on everything else:

    * each attribute is two elements (a name of any tag, then a SET that ends the
      attribute), each value an OCTET STRING, every element inside its container;
    * names are ASCII and appear once (among those with values), values are UTF-8 (a
      name is read through :data:`_names`: what decoding it gave before);
    * the charges are the same (two elements per attribute, one element and its bytes per
      value) and the budget is checked once at the end: charges only grow, so a total
      within budget never crossed it on the way, and then the general path's bound on the
      number of attributes (the elements the budget had) holds too.

    tests/unit/directory/test_fast_codec.py holds both paths to the same answers.
    """
    attributes: dict[str, tuple[str, ...]] = {}
    names = _names
    pos = start
    try:
        while pos < end:
            first = data[pos + 1]  # the attribute (its tag, like the general path, unread)
            if first < 0x80:
                s = pos + 2
            elif first == 0x81:
                s, first = pos + 3, data[pos + 2]
            elif first == 0x82:
                s, first = pos + 4, data[pos + 2] << 8 | data[pos + 3]
            else:
                return None
            stop = s + first
            if stop > end:
                return None
            first = data[s + 1]  # its name (any tag, as above): short, as names are
            if first >= 0x80:
                return None
            ns = s + 2
            s = ne = ns + first  # the SET of values
            if s + 2 > stop or data[s] != ber.SET:
                return None
            first = data[s + 1]
            if first < 0x80:
                s += 2
            elif first == 0x81:
                s, first = s + 3, data[s + 2]
            elif first == 0x82:
                s, first = s + 4, data[s + 2] << 8 | data[s + 3]
            else:
                return None
            if s + first != stop:
                return None
            left -= 2 * ELEMENT_COST
            if (
                s < stop
                and data[s] == ber.OCTET_STRING
                and (first := data[s + 1]) < 0x80
                and s + 2 + first == stop
            ):  # the usual attribute: one short value
                left -= ELEMENT_COST + first
                values: tuple[str, ...] = (data[s + 2 : stop].decode("utf-8"),)
            else:
                several: list[str] = []
                while s < stop:
                    if data[s] != ber.OCTET_STRING:
                        return None
                    first = data[s + 1]
                    if first < 0x80:
                        s += 2
                    elif first == 0x81:
                        s, first = s + 3, data[s + 2]
                    elif first == 0x82:
                        s, first = s + 4, data[s + 2] << 8 | data[s + 3]
                    else:
                        return None
                    e = s + first
                    if e > stop:
                        return None
                    left -= ELEMENT_COST + first
                    several.append(data[s:e].decode("utf-8"))
                    s = e
                values = tuple(several)
            raw = data[ns:ne]
            name = names.get(raw)
            if name is None:
                name = raw.decode("ascii").lower()
                if len(names) < _MAX_NAMES:
                    names[raw] = name
            if values:
                if name in attributes:
                    return None
                attributes[name] = values
            pos = stop
    except (IndexError, UnicodeDecodeError):
        return None
    if left < 0:
        return None
    return attributes, left


def _values(
    data: bytes, start: int, end: int, budget: Budget, name: str, dn: str
) -> tuple[str, ...]:
    """The OCTET STRING values of ``data[start:end]`` as text, each charged to the budget
    before it is made (the hot loop of reading: no intermediate tuples)."""
    out: list[str] = []
    left = budget.left
    pos = start
    try:
        while pos < end:
            length = data[pos + 1]
            if length < 0x80 and data[pos] == ber.OCTET_STRING:
                s = pos + 2
                pos = s + length
            else:
                tag, s, pos = ber.header(data, pos)
                if tag != ber.OCTET_STRING:
                    raise ber.BerError("attribute value is not an OCTET STRING")
            if pos > end:
                raise ber.BerError("element longer than its container")
            left -= ELEMENT_COST + pos - s
            if left < 0:
                raise ber.BerError(_OVER_BUDGET)
            out.append(data[s:pos].decode("utf-8"))
    except IndexError:
        raise ber.BerError("truncated element") from None
    except UnicodeDecodeError:
        raise NotText(name, dn) from None
    budget.left = left
    return tuple(out)


def _deref_response(value: bytes, begin: int, finish: int, budget: Budget) -> dict[str, Linked]:
    """``SEQUENCE OF SEQUENCE { derefAttr, derefVal LDAPDN, attrVals [0] OPTIONAL }`` at
    ``value[begin:finish]``: per attribute, the entries named (with no attributes when
    unreadable or dangling).

    The hot loop of a big group's read: one result per member, 20,000 in one answer, each
    about ten BER elements, nearly all alike (``member``, a DN, ``entryUUID`` and the same
    object classes). Walking every element in Python cost 20 µs a member; instead, each
    result is first compared with the results already decoded in full (:class:`_Shape`): one
    whose bytes equal a known shape's outside its DN and its values' contents has that
    shape's structure, so only the DN and those values are decoded. Anything else is
    decoded in full (:func:`_deref_result`), element by element, and may become a shape.
    What repeats is made once per answer: attribute names, and value sets seen before
    (``objectClass``), shared between entries and charged to the budget once. Results alike
    are kept as their DN and values only (:class:`Linked`).
    """
    if finish - begin < 2:
        raise ber.BerError("truncated element")
    tag, pos, end = ber.header(value, begin)
    if tag != ber.SEQUENCE or end > finish:
        raise ber.BerError("dereference control: not a sequence")
    seen = _Seen()
    out: dict[str, Linked] = {}
    shapes: dict[int, list[_Shape]] = {}
    while pos < end:
        if pos + 2 < end and value[pos] == ber.SEQUENCE and value[pos + 1] == 0x81:
            start = pos + 3  # the usual result: 128 to 255 bytes (ber.header, inlined)
            stop = start + value[pos + 2]
        else:
            tag, start, stop = ber.header(value, pos)
            if tag != ber.SEQUENCE:
                raise ber.BerError("dereference control: malformed result")
        if stop > end:
            raise ber.BerError("dereference control: malformed result")
        shape = None
        for known in shapes.get(stop - pos, ()):
            for a, b, piece in known.pieces:
                if value[pos + a : pos + b] != piece:
                    break
            else:
                shape = known
                break
        if shape is not None and shape.lone:  # the usual member: its DN and its id
            linked = out.get(shape.name)
            if linked is None:
                out[shape.name] = linked = Linked()
            dn, one = shape.one(value, pos, budget)
            linked.add_lone(dn, one, shape)
            pos = stop
            continue
        if shape is not None:
            name = shape.name
            dn, row = shape.row(value, pos, budget)
        else:
            name, entry, shape = _deref_result(value, pos, start, stop, budget, seen)
            dn, row = entry.dn, entry
            if seen.shapes < _MAX_SHAPES:
                alike = shapes.setdefault(stop - pos, [])
                if len(alike) < _SHAPES_PER_LENGTH:
                    alike.append(shape)
                    seen.shapes += 1
        linked = out.get(name)
        if linked is None:
            out[name] = linked = Linked()
        linked.add(dn, row)
        pos = stop
    return out


class Linked(Sequence[Entry]):
    """The entries one attribute's dereference results named, in order, kept compact: for
    a result read through a :class:`_Shape`, its DN and a row of its own values; the
    :class:`Entry` (its dict, its tuples) is made when the entry is read. A big group's
    members are read once, one at a time, so 100,000 of them never exist as Entry objects
    together (about 230 bytes each, besides their DN and id).

    A row of a shape with one value of its own (a member's ``entryUUID``: the object
    classes are shared) is kept as that value alone, its shape noted once per run of such
    rows (``_starts``, ``_shapes``): 56 bytes less per member than a (shape, value) tuple,
    5.6 MB of a 100,000-member group's 24 MB."""

    __slots__ = ("_shapes", "_starts", "dns", "rows")

    def __init__(self) -> None:
        self.dns: list[str] = []
        self.rows: list[Entry | tuple[Any, ...] | str] = []
        self._starts: list[int] = []  # where each run of lone-value rows begins
        self._shapes: list[_Shape] = []  # and the shape of that run

    def add(self, dn: str, row: Entry | tuple[Any, ...]) -> None:
        """The next entry: an Entry, or a row from :meth:`_Shape.row`."""
        self.dns.append(dn)
        self.rows.append(row)

    def add_lone(self, dn: str, value: str, shape: _Shape) -> None:
        """The next entry: a result of a :attr:`_Shape.lone` shape, kept as its one value."""
        if not self._shapes or self._shapes[-1] is not shape:
            self._starts.append(len(self.rows))
            self._shapes.append(shape)
        self.dns.append(dn)
        self.rows.append(value)

    def __len__(self) -> int:
        return len(self.dns)

    @overload
    def __getitem__(self, index: int) -> Entry: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Entry, ...]: ...
    def __getitem__(self, index: int | slice) -> Entry | tuple[Entry, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self.dns))))
        if index < 0:
            index += len(self.dns)
            if index < 0:
                raise IndexError("Linked index out of range")
        return _made(self.dns[index], self._row(index))

    def __iter__(self) -> Iterator[Entry]:
        return (_made(dn, row) for dn, row in self._full_rows())

    def _row(self, index: int) -> Entry | tuple[Any, ...]:
        row = self.rows[index]
        if type(row) is str:
            return (self._shapes[bisect.bisect_right(self._starts, index) - 1], row)
        return row  # type: ignore[return-value]

    def _full_rows(self) -> Iterator[tuple[str, Entry | tuple[Any, ...]]]:
        """(DN, Entry or (shape, values...)) of each entry in order, lone values' tuples
        made one at a time."""
        starts, shapes = self._starts, self._shapes
        run = -1
        following = starts[0] if starts else None
        for index, (dn, row) in enumerate(zip(self.dns, self.rows, strict=True)):
            if type(row) is str:
                while following is not None and following <= index:
                    run += 1
                    following = starts[run + 1] if run + 1 < len(starts) else None
                yield dn, (shapes[run], row)
            else:
                yield dn, row  # type: ignore[misc]

    def pick(self, names: tuple[str, ...]) -> Iterator[tuple[str, tuple[tuple[str, ...], ...]]]:
        """Each entry's DN and the values of ``names`` (lower-case; ``()`` where it has
        none), in order, without making its Entry: for a caller that needs two attributes
        of each of 100,000 entries."""
        plans: dict[_Shape, tuple[tuple[tuple[str, ...], int, bool], ...]] = {}
        shape: _Shape | None = None
        starts, shapes = self._starts, self._shapes
        run = -1
        following = starts[0] if starts else len(self.rows)
        lone: tuple[tuple[str, ...] | None, ...] = ()  # the values of names, None for its own
        first: tuple[str, ...] | None = None  # lone is (first, None): the usual plan
        for index, (dn, row) in enumerate(zip(self.dns, self.rows, strict=True)):
            if type(row) is str:
                if index >= following:
                    run += 1
                    following = starts[run + 1] if run + 1 < len(starts) else len(self.rows)
                    lone = tuple(c if not i else None for c, i, _ in shapes[run].plan(names))
                    first = lone[0] if len(lone) == 2 and lone[1] is None else None
                if first is not None:
                    yield dn, (first, (row,))
                else:
                    yield dn, tuple([(row,) if c is None else c for c in lone])
                continue
            if isinstance(row, Entry):
                yield dn, tuple([row.attributes.get(n, ()) for n in names])
                continue
            if row[0] is not shape:
                shape = row[0]
                plan = plans.get(shape)
                if plan is None:
                    plan = plans[shape] = shape.plan(names)
                # the usual plan: shared classes, then one value of the row's own
                pair = (
                    (plan[0][0], plan[1][1])
                    if len(plan) == 2 and not plan[0][1] and plan[1][2]
                    else None
                )
            if pair is not None:
                yield dn, (pair[0], (row[pair[1]],))
            else:
                yield (
                    dn,
                    tuple([c if not i else (row[i],) if one else row[i] for c, i, one in plan]),
                )

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Linked | tuple | list):
            return tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Linked({tuple(self)!r})"


def _made(dn: str, row: Entry | tuple[Any, ...]) -> Entry:
    return row if isinstance(row, Entry) else row[0].make(dn, row)


_SHARED_SETS = 64
_SHARED_SET_BYTES = 1024
"""How many distinct multi-valued sets one answer's dereference results share, of at most
how many bytes each (object classes: a few dozen)."""
_MAX_SHAPES = 64
_SHAPES_PER_LENGTH = 4
"""Shapes kept per answer, and per result length (each result is compared with those of
its length): bounds the comparisons an answer of results all different can cause."""


class _Seen:
    """What one answer's dereference results have in common, decoded once."""

    __slots__ = ("names", "sets", "shapes")

    def __init__(self) -> None:
        self.names: dict[bytes, str] = {}
        self.sets: dict[bytes, tuple[str, ...]] = {}
        self.shapes = 0

    def name(self, raw: bytes, what: str) -> str:
        name = self.names.get(raw)
        if name is None:
            try:
                name = raw.decode("ascii").lower()
            except UnicodeDecodeError:
                raise ber.BerError(f"{what} is not ASCII") from None
            self.names[raw] = name
        return name


class _Shape:
    """The bytes of a dereference result decoded in full, less its variable parts (the DN
    and the contents of values not shared): a result equal to it outside those spans, with
    the same lengths, has the same structure — same tags, lengths, names, shared sets."""

    __slots__ = ("cost", "dn", "lone", "name", "pieces", "several", "shared", "single")

    def __init__(
        self,
        name: str,
        dn: tuple[int, int],
        attrs: list[tuple[str, tuple[str, ...] | None, tuple[tuple[int, int], ...]]],
        data: bytes,
        start: int,
        stop: int,
    ) -> None:
        self.name = name
        self.dn = dn
        spans = sorted([dn, *(span for _, _, spans in attrs for span in spans)])
        pieces: list[tuple[int, int, bytes]] = []
        at = 0
        for a, b in [*spans, (stop - start, stop - start)]:
            if a > at:
                pieces.append((at, a, data[start + at : start + a]))
            at = b
        self.pieces = pieces
        # what the full decoding charges for such a result (shared sets: nothing more)
        self.cost = 3 * ELEMENT_COST + dn[1] - dn[0]
        for _, shared, spans in attrs:
            self.cost += 2 * ELEMENT_COST
            if shared is None:
                self.cost += sum(ELEMENT_COST + b - a for a, b in spans)
        self.shared = {attr: values for attr, values, _ in attrs if values is not None}
        self.single = tuple(
            (attr, *spans[0]) for attr, values, spans in attrs if values is None and len(spans) == 1
        )
        self.several = tuple(
            (attr, spans) for attr, values, spans in attrs if values is None and len(spans) > 1
        )
        self.lone = len(self.single) == 1 and not self.several  # a row: (shape, one value)

    def row(self, data: bytes, pos: int, budget: Budget) -> tuple[str, tuple[Any, ...]]:
        """The DN and the row (this shape, then each single value, then each tuple of
        several) of a result of this shape at ``pos``; charged as if made an Entry."""
        budget.left -= self.cost
        if budget.left < 0:
            raise ber.BerError(_OVER_BUDGET)
        a, b = self.dn
        try:
            dn = data[pos + a : pos + b].decode("utf-8")
        except UnicodeDecodeError:
            raise NotText("a dereferenced DN", _loggable(data, pos + a, pos + b)) from None
        row: list[Any] = [self]
        for name, a, b in self.single:
            try:
                row.append(data[pos + a : pos + b].decode("utf-8"))
            except UnicodeDecodeError:
                raise NotText(name, dn) from None
        for name, spans in self.several:
            try:
                row.append(tuple(data[pos + a : pos + b].decode("utf-8") for a, b in spans))
            except UnicodeDecodeError:
                raise NotText(name, dn) from None
        return dn, tuple(row)

    def one(self, data: bytes, pos: int, budget: Budget) -> tuple[str, str]:
        """The DN and the one value of its own of a result of a :attr:`lone` shape at
        ``pos`` (:meth:`row` without the tuple); charged the same."""
        budget.left -= self.cost
        if budget.left < 0:
            raise ber.BerError(_OVER_BUDGET)
        a, b = self.dn
        try:
            dn = data[pos + a : pos + b].decode("utf-8")
        except UnicodeDecodeError:
            raise NotText("a dereferenced DN", _loggable(data, pos + a, pos + b)) from None
        name, a, b = self.single[0]
        try:
            return dn, data[pos + a : pos + b].decode("utf-8")
        except UnicodeDecodeError:
            raise NotText(name, dn) from None

    def plan(self, names: tuple[str, ...]) -> tuple[tuple[tuple[str, ...], int, bool], ...]:
        """Where each of ``names`` is in a row (see :meth:`Linked.pick`): (values, 0, _)
        for shared or absent ones, (_, index, single?) for a row's own."""
        where: dict[str, tuple[tuple[str, ...], int, bool]] = {}
        i = 1
        for name, _, _ in self.single:
            where[name] = ((), i, True)
            i += 1
        for name, _ in self.several:
            where[name] = ((), i, False)
            i += 1
        return tuple(where.get(n) or (self.shared.get(n, ()), 0, False) for n in names)

    def make(self, dn: str, row: tuple[Any, ...]) -> Entry:
        """The Entry of a row from :meth:`row`."""
        attributes = dict(self.shared)
        i = 1
        for name, _, _ in self.single:
            attributes[name] = (row[i],)
            i += 1
        for name, _ in self.several:
            attributes[name] = row[i]
            i += 1
        return Entry(dn, attributes)


def _deref_result(
    data: bytes, pos: int, start: int, stop: int, budget: Budget, seen: _Seen
) -> tuple[str, Entry, _Shape]:
    """One dereference result decoded element by element, and its shape."""
    fields = ber.children(data, start, stop, 3)
    if len(fields) < 2 or fields[0][0] != ber.OCTET_STRING or fields[1][0] != ber.OCTET_STRING:
        raise ber.BerError("dereference control: malformed result")
    (_, as_, ae), (_, vs, ve) = fields[0], fields[1]
    name = seen.name(data[as_:ae], "dereference control: attribute")
    try:
        dn = data[vs:ve].decode("utf-8")
    except UnicodeDecodeError:
        raise NotText("a dereferenced DN", _loggable(data, vs, ve)) from None
    budget.take(3)  # the Entry, its dict and its DN
    budget.left -= ve - vs
    attributes: dict[str, tuple[str, ...]] = {}
    layout: list[tuple[str, tuple[str, ...] | None, tuple[tuple[int, int], ...]]] = []
    if len(fields) > 2 and fields[2][0] == 0xA0:
        listed = ber.children(data, fields[2][1], fields[2][2], budget.elements())
        budget.take(2 * len(listed))  # a name and a tuple's slot each
        for _, ps, pe in listed:
            pair = ber.children(data, ps, pe, 2)
            if len(pair) != 2 or pair[0][0] != ber.OCTET_STRING or pair[1][0] != ber.SET:
                raise ber.BerError("search result entry: malformed attribute")
            (_, ns, ne), (_, ss, se) = pair
            attr = seen.name(data[ns:ne], "attribute description")
            content = data[ss:se]
            values = seen.sets.get(content)
            spans: tuple[tuple[int, int], ...] = ()
            shared = values
            if values is None:
                values = _values(data, ss, se, budget, attr, dn)
                spans = tuple(
                    (s - pos, e - pos) for _, s, e in ber.children(data, ss, se, len(values))
                )
                if (
                    len(values) > 1
                    and len(content) <= _SHARED_SET_BYTES
                    and len(seen.sets) < _SHARED_SETS
                ):
                    seen.sets[content] = shared = values
                    spans = ()
            if values:
                if attr in attributes:
                    raise ber.BerError(f"attribute {attr} appears twice in one entry")
                attributes[attr] = values
                layout.append((attr, shared, spans))
    if budget.left < 0:
        raise ber.BerError(_OVER_BUDGET)
    return name, Entry(dn, attributes), _Shape(name, (vs - pos, ve - pos), layout, data, pos, stop)


def _result(data: bytes, start: int, end: int, op_tag: int, budget: Budget) -> Result:
    """An LDAPResult (RFC 4511 §4.1.9): code, matched DN, message, then the optional
    referral [3] and, in an extended response, responseName [10] / responseValue [11]."""
    parts = ber.children(data, start, end, 6)
    if len(parts) < 3 or parts[0][0] != ber.ENUMERATED:
        raise ber.BerError("malformed LDAP result")
    code = ber.read_integer(data, parts[0][1], parts[0][2])
    if code not in RESULT_CODES:
        raise ber.BerError(f"result code {code} is not an LDAP result code")
    result = Result(
        code,
        _loggable(data, parts[1][1], parts[1][2]),
        _loggable(data, parts[2][1], parts[2][2]),
    )
    for tag, s, e in parts[3:]:
        if tag == 0xA3:  # referral: SEQUENCE OF URI
            uris = ber.children(data, s, e, budget.elements())
            budget.take(len(uris))
            result.referrals = tuple(_loggable(data, a, b) for _, a, b in uris)
        elif tag == 0x8A and op_tag == EXTENDED_RESPONSE:  # responseName
            result.name = _loggable(data, s, e)
    return result


def _controls(data: bytes, start: int, end: int, budget: Budget) -> dict[str, bytes]:
    return {oid: data[s:e] for oid, (s, e) in _control_spans(data, start, end, budget).items()}


def _control_spans(data: bytes, start: int, end: int, budget: Budget) -> dict[str, tuple[int, int]]:
    """Each control's type and where its value lies in ``data`` (empty when it has none)."""
    listed = ber.children(data, start, end, budget.elements())
    budget.take(len(listed))
    out: dict[str, tuple[int, int]] = {}
    for _, s, e in listed:
        fields = ber.children(data, s, e, 3)
        if not fields:
            raise ber.BerError("empty control")
        try:
            oid = data[fields[0][1] : fields[0][2]].decode("ascii")
        except UnicodeDecodeError:
            raise ber.BerError("control type is not an OID") from None
        value = (e, e)
        for tag, vs, ve in fields[1:]:
            if tag == ber.OCTET_STRING:
                value = (vs, ve)
        out[oid] = value
    return out


def _loggable(data: bytes, start: int, end: int) -> str:
    """Text that is only shown in logs and error messages (diagnostic message, matched DN,
    referral URIs), never stored: invalid UTF-8 is kept visible as ``\\xNN``."""
    return data[start:end].decode("utf-8", errors="backslashreplace")
