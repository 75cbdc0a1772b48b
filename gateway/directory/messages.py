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

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from gateway.directory import ber, ldapfilter
from gateway.directory.deref import deref_response
from gateway.directory.entry import Entry, Modification, ModOp, decoded_entry
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
from gateway.directory.reading import (
    ELEMENT_COST,
    Budget,
    NotText,
    loggable,
    read_values,
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
        body += _controls_element(*controls)
    return ber.tlv(ber.SEQUENCE, body)


@functools.lru_cache(maxsize=256)
def _controls_element(*controls: Control) -> bytes:
    """A request's controls ([0] SEQUENCE OF Control), encoded once per list: most requests
    send one of a few (a member add: permissive modify and a post-read of the group's
    type)."""
    return ber.tlv(CONTROLS, b"".join([_control(c) for c in controls]))


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
    """An attribute and its values (SEQUENCE { type, SET OF value }): each value's OCTET
    STRING written here rather than by ``ber.octets`` (its header from the same table when
    short; a call fewer per value, a create writes a dozen), the same bytes."""
    head = _OCTETS_HEAD
    parts = []
    for v in values:
        data = v.encode("utf-8") if type(v) is str else _value_bytes(v)
        parts.append(head[len(data)] + data if len(data) < 0x80 else _long_octets(data))
    data = b"".join(parts)
    data = _name(name) + (_SET_HEAD[len(data)] + data if len(data) < 0x80 else _set(data))
    return _SEQUENCE_HEAD[len(data)] + data if len(data) < 0x80 else _sequence(data)


_OCTETS_HEAD = ber.short_heads(ber.OCTET_STRING)
_SET_HEAD = ber.short_heads(ber.SET)
_SEQUENCE_HEAD = ber.short_heads(ber.SEQUENCE)


def _set(content: bytes) -> bytes:
    return ber.tlv(ber.SET, content)


def _sequence(content: bytes) -> bytes:
    return ber.tlv(ber.SEQUENCE, content)


def _long_octets(data: bytes) -> bytes:
    return ber.tlv(ber.OCTET_STRING, data)


def _value_bytes(value: Any) -> bytes:
    """A value that is not a plain ``str``, as ``ber.octets`` would write it: a str
    subclass or bytes as they are, anything else as its text."""
    value = _value(value)
    return value.encode("utf-8") if isinstance(value, str) else value


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
    """An and / or: each item's encoder found by its type here, :func:`encode_filter`
    (the same look-up, then isinstance) only for a type not in the table — a call fewer
    per item (a member add's two searches encode sixteen nodes)."""
    get = _FILTER_ENCODERS.get
    parts = []
    for item in items:
        encode = get(type(item))
        parts.append(encode(item) if encode is not None else encode_filter(item))
    return ber.tlv(tag, b"".join(parts))


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


def _equal(flt: Equal) -> bytes:
    """An equalityMatch: ``ber.tlv(0xA3, _name(attr) + ber.octets(value))`` with the short
    headers taken inline (an id look-up's filter is a few of them)."""
    value = flt.value
    data = value.encode("utf-8") if isinstance(value, str) else value
    data = _name(flt.attr) + (
        _OCTETS_HEAD[len(data)] + data if len(data) < 0x80 else _long_octets(data)
    )
    return _EQUAL_HEAD[len(data)] + data if len(data) < 0x80 else ber.tlv(0xA3, data)


_EQUAL_HEAD = ber.short_heads(0xA3)

_FILTER_ENCODERS: dict[type, Callable[[Any], bytes]] = {
    Equal: _equal,
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
    """The entry a post-read control carries (a SearchResultEntry): read by
    :func:`_post_read_at_once` when it can, else element by element, which raises the error
    it has."""
    if budget is None:
        budget = Budget()
    read = _post_read_at_once(value, budget.left)
    if read is not None:
        budget.left = read[1]
        return read[0]
    tag, start, end = ber.header(value, 0)
    if tag != SEARCH_RESULT_ENTRY:
        raise ber.BerError("post-read control: not a search result entry")
    return _entry(value, start, end, budget)


def _post_read_at_once(value: bytes, left: int) -> tuple[Entry, int] | None:
    """What :func:`post_read_entry` reads from a plainly well-formed value, and the budget
    left after it — or None, and nothing charged, for anything else.

    Reading the same: a SearchResultEntry whose header (length in the short form or one or
    two bytes) lies within ``value`` and whose content :func:`_entry_at_once` reads; the
    general path reads such a header to the same bounds (bytes after the entry are not
    read by either) and hands the content to :func:`_entry`, whose fast path that is."""
    try:
        if value[0] != SEARCH_RESULT_ENTRY:
            return None
        first = value[1]
        if first < 0x80:
            start = 2
        elif first == 0x81:
            start, first = 3, value[2]
        elif first == 0x82:
            start, first = 4, value[2] << 8 | value[3]
        else:
            return None
    except IndexError:
        return None
    end = start + first
    if end > len(value):
        return None
    return _entry_at_once(value, start, end, left)


# ---------------------------------------------------------------------------- responses

RESULT_CODES = frozenset(
    (*range(0, 9), *range(10, 22), *range(32, 37), *range(48, 55), *range(64, 70), 71, 80)
).union(range(113, 124), (4096, 16654))
"""Result codes a server may send: RFC 4511 §4.1.9 and the IANA registry (RFC 4520) —
LCUP, cancel, assertionFailed, authorizationDenied, e-syncRefreshRequired, noOperation.
Anything else (a negative number, a client-side API code) is a protocol error."""


class Response(NamedTuple):
    message_id: int
    entry: Entry | None  # a SearchResultEntry
    result: Result | None  # an operation's final response
    reference: tuple[str, ...] = ()  # a SearchResultReference's URIs


_made = tuple.__new__
"""How :func:`decode`'s one-pass readers make a :class:`Response` (seven a member add):
``_made(Response, (id, entry, result, ()))`` is what ``Response(id, entry, result)`` does —
a NamedTuple's ``__new__`` is a Python function that calls ``tuple.__new__`` with its four
fields — without that call (0.74 -> 0.42 us); every field is given, the default included."""


def decode(data: bytes, pos: int = 0, budget: Budget | None = None) -> Response:
    """The complete LDAPMessage at ``data[pos:]``: an entry, a continuation reference or a
    final result. Anything else — an intermediate response (the gateway asks for nothing
    that sends one), an unknown operation, an unknown result code, extra fields — raises
    :class:`~gateway.directory.ber.BerError`; a value that is not text raises
    :class:`NotText`.

    The messages of nearly every answer (an entry without response controls, a result of
    three short fields) are read by the ``_at_once`` readers; whatever they do not take is
    read by :func:`_decode_by_element`, which raises the error it has (see
    :func:`_envelope_at_once` for why the two read the same)."""
    if budget is None:
        budget = Budget()
    envelope = _envelope_at_once(data, pos)
    if envelope is not None:
        message_id, op_tag, s, e, controls = envelope
        if op_tag == SEARCH_RESULT_ENTRY:
            if controls is None:
                read = _entry_at_once(data, s, e, budget.left - ELEMENT_COST)
                if read is not None:
                    budget.left = read[1]
                    return _made(Response, (message_id, read[0], None, ()))
        elif op_tag in RESULT_TAGS:
            result = _result_at_once(data, s, e)
            if result is not None:
                budget.take(1)
                if controls is not None:
                    _result_controls(result, data, controls[0], controls[1], budget)
                return _made(Response, (message_id, None, result, ()))
    return _decode_by_element(data, pos, budget)


def _decode_by_element(data: bytes, pos: int, budget: Budget) -> Response:
    """:func:`decode`, element by element: every check in the order the errors are raised."""
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
            linked = deref_response(data, *deref, budget) if deref is not None else None
        return Response(message_id, _entry(data, s, e, budget, linked), None)
    if op_tag in RESULT_TAGS:
        result = _result(data, s, e, op_tag, budget)
        if controls is not None:
            _result_controls(result, data, controls[1], controls[2], budget)
        return Response(message_id, None, result)
    if op_tag == SEARCH_RESULT_REFERENCE:
        uris = ber.children(data, s, e, budget.elements())
        budget.take(len(uris))
        if not uris:
            raise ber.BerError("search result reference without a URI")
        return Response(message_id, None, None, tuple(loggable(data, a, b) for _, a, b in uris))
    raise ber.BerError(f"unexpected LDAP operation tag 0x{op_tag:02x}")


def _result_controls(result: Result, data: bytes, start: int, end: int, budget: Budget) -> None:
    """A final response's controls (``data[start:end]``, the content of its [0]), kept and
    read."""
    result.controls = _controls(data, start, end, budget)
    try:
        _read_controls(result, budget)
    except NotText as err:
        err.final = True
        raise


def _envelope_at_once(
    data: bytes, pos: int
) -> tuple[int, int, int, int, tuple[int, int] | None] | None:
    """The LDAPMessage at ``pos`` as (message id, operation tag, operation content start
    and end, the controls' content start and end or None) when it is plainly well formed —
    or None for anything else, which :func:`_decode_by_element` reads and refuses.

    Reading the same: it takes a SEQUENCE that lies within ``data`` and holds exactly an
    INTEGER of one to four bytes, an operation, and optionally a [0] that ends the message,
    each element inside it (lengths in the short form or one to three bytes) — the
    messages the general path reads without error, to the same values (the id as signed
    big-endian, as ``ber.read_integer``). It reads no budget: the caller charges it as the
    general path does. tests/unit/directory/test_fast_codec.py holds both to the same
    answers."""
    try:
        if data[pos] != 0x30:
            return None
        first = data[pos + 1]
        if first < 0x80:
            s = pos + 2
        elif first == 0x81:
            s, first = pos + 3, data[pos + 2]
        elif first == 0x82:
            s, first = pos + 4, data[pos + 2] << 8 | data[pos + 3]
        elif first == 0x83:
            s, first = pos + 5, data[pos + 2] << 16 | data[pos + 3] << 8 | data[pos + 4]
        else:
            return None
        end = s + first
        if end > len(data) or data[s] != 0x02:
            return None
        first = data[s + 1]  # the message id: its content of one to four bytes
        if not 0 < first <= 4:
            return None
        message_id = int.from_bytes(data[s + 2 : s + 2 + first], "big", signed=True)
        s += 2 + first
        if s + 2 > end:
            return None
        op_tag = data[s]
        first = data[s + 1]
        if first < 0x80:
            s += 2
        elif first == 0x81:
            s, first = s + 3, data[s + 2]
        elif first == 0x82:
            s, first = s + 4, data[s + 2] << 8 | data[s + 3]
        elif first == 0x83:
            s, first = s + 5, data[s + 2] << 16 | data[s + 3] << 8 | data[s + 4]
        else:
            return None
        e = s + first
        if e == end:
            return message_id, op_tag, s, e, None
        if e + 2 > end or data[e] != CONTROLS:
            return None
        first = data[e + 1]
        if first < 0x80:
            cs = e + 2
        elif first == 0x81:
            cs, first = e + 3, data[e + 2]
        elif first == 0x82:
            cs, first = e + 4, data[e + 2] << 8 | data[e + 3]
        elif first == 0x83:
            cs, first = e + 5, data[e + 2] << 16 | data[e + 3] << 8 | data[e + 4]
        else:
            return None
        if cs + first != end:
            return None
        return message_id, op_tag, s, e, (cs, end)
    except IndexError:
        return None


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
    """A SearchResultEntry's content: read by :func:`_entry_at_once` when it can, else by
    :func:`_entry_by_element`, which raises the error it has."""
    read = _entry_at_once(data, start, end, budget.left, linked)
    if read is not None:
        budget.left = read[1]
        return read[0]
    return _entry_by_element(data, start, end, budget, linked)


def _entry_by_element(
    data: bytes,
    start: int,
    end: int,
    budget: Budget,
    linked: dict[str, tuple[Entry, ...]] | None = None,
) -> Entry:
    """:func:`_entry`, element by element: every check in the order the errors are raised."""
    parts = ber.children(data, start, end, 2)
    if len(parts) != 2:
        raise ber.BerError("search result entry: expected a DN and attributes")
    (_, ds, de), (_, as_, ae) = parts
    budget.take(3)  # the Entry, its dict and its DN
    try:
        dn = data[ds:de].decode("utf-8")
    except UnicodeDecodeError:
        raise NotText("the DN", loggable(data, ds, de)) from None
    return Entry(dn, _attributes(data, as_, ae, budget, dn), linked)


def _entry_at_once(
    data: bytes,
    start: int,
    end: int,
    left: int,
    linked: dict[str, tuple[Entry, ...]] | None = None,
) -> tuple[Entry, int] | None:
    """What :func:`_entry` reads from a plainly well-formed
    SearchResultEntry's content, and the budget left after it — or None, and nothing
    charged, for anything else.

    Reading the same: two elements that fill ``data[start:end]`` exactly (tags unread, as
    in the general path; lengths in the short form or one or two bytes), a DN that is
    UTF-8, the same charges (three elements, then the attributes'), and the attribute list
    read by :func:`_attributes_at_once`, whose None ends this one too. ``left`` may
    already be below zero: it only falls, so the None at the end hands the entry to the
    general path, which raises where the budget ran out."""
    try:
        first = data[start + 1]  # the DN
        if first < 0x80:
            ds = start + 2
        elif first == 0x81:
            ds, first = start + 3, data[start + 2]
        elif first == 0x82:
            ds, first = start + 4, data[start + 2] << 8 | data[start + 3]
        else:
            return None
        de = ds + first
        first = data[de + 1]  # the attribute list
        if first < 0x80:
            s = de + 2
        elif first == 0x81:
            s, first = de + 3, data[de + 2]
        elif first == 0x82:
            s, first = de + 4, data[de + 2] << 8 | data[de + 3]
        else:
            return None
        if s + first != end:  # so both headers lay inside too: s is past them
            return None
        dn = data[ds:de].decode("utf-8")
    except (IndexError, UnicodeDecodeError):
        return None
    read = _attributes_at_once(data, s, end, left - 3 * ELEMENT_COST)
    if read is None:
        return None
    return decoded_entry(dn, read[0], linked), read[1]


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
        values = read_values(data, vs, ve, budget, name, dn)
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


_SUCCESS = b"\x0a\x01\x00\x04\x00\x04\x00"
"""The LDAPResult of nearly every answer: success, no matched DN, no message."""


def _result_at_once(data: bytes, start: int, end: int) -> Result | None:
    """What :func:`_result` reads from an LDAPResult of exactly three fields — a one-byte
    ENUMERATED code that is an LDAP result code, a matched DN and a message as OCTET
    STRINGs of under 256 bytes — or None for anything else (a referral, an extended
    response's name, another form), which the general path reads. Such a result holds no
    referral to charge, so the budget is not read here.

    A plain success (:data:`_SUCCESS`, three of a member add's answers) is recognised by
    its seven bytes: it is such a result, and reading it field by field gives code 0 and
    two empty texts (2.3 -> 1.0 us)."""
    if end - start == 7 and data.startswith(_SUCCESS, start):
        return Result(0, "", "")
    try:
        if data[start] != ber.ENUMERATED or data[start + 1] != 1:
            return None
        code = data[start + 2]
        if code not in RESULT_CODES or data[start + 3] != ber.OCTET_STRING:
            return None  # a code of 0x80 and up is negative in one byte: none is a result code
        first = data[start + 4]
        if first < 0x80:
            ms = start + 5
        elif first == 0x81:
            ms, first = start + 6, data[start + 5]
        else:
            return None
        me = ms + first
        if data[me] != ber.OCTET_STRING:
            return None
        first = data[me + 1]
        if first < 0x80:
            ts = me + 2
        elif first == 0x81:
            ts, first = me + 3, data[me + 2]
        else:
            return None
        if ts + first != end:
            return None
    except IndexError:
        return None
    return Result(code, loggable(data, ms, me), loggable(data, ts, end))


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
        loggable(data, parts[1][1], parts[1][2]),
        loggable(data, parts[2][1], parts[2][2]),
    )
    for tag, s, e in parts[3:]:
        if tag == 0xA3:  # referral: SEQUENCE OF URI
            uris = ber.children(data, s, e, budget.elements())
            budget.take(len(uris))
            result.referrals = tuple(loggable(data, a, b) for _, a, b in uris)
        elif tag == 0x8A and op_tag == EXTENDED_RESPONSE:  # responseName
            result.name = loggable(data, s, e)
    return result


def _controls(data: bytes, start: int, end: int, budget: Budget) -> dict[str, bytes]:
    """Each control's type and its value (empty when it has none): read by
    :func:`_controls_at_once` when it can, else by :func:`_controls_by_element`, which
    raises the error it has."""
    read = _controls_at_once(data, start, end, budget.left)
    if read is not None:
        budget.left = read[1]
        return read[0]
    return _controls_by_element(data, start, end, budget)


def _controls_by_element(data: bytes, start: int, end: int, budget: Budget) -> dict[str, bytes]:
    """:func:`_controls`, element by element: every check in the order the errors are
    raised."""
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


def _controls_at_once(
    data: bytes, start: int, end: int, left: int
) -> tuple[dict[str, bytes], int] | None:
    """What :func:`_controls_by_element` reads from a plainly well-formed list of controls, in one
    pass, and the budget left after it — or None, and nothing charged, for anything else.

    A write's answer carries one or two controls (a post-read entry, a paging cookie); the
    general path makes a list of element tuples for the list and for each control. It is
    the same reading because this takes only what that path takes without error:

    * each control a SEQUENCE (lengths in the short form or one or two bytes) inside the
      list, holding exactly an OCTET STRING type of under 128 bytes that is ASCII, then
      perhaps a BOOLEAN of under 128 bytes, then perhaps an OCTET STRING value that ends
      the control — so at most three fields, the value the last OCTET STRING after the
      type, as the general path picks it (empty when there is none);
    * a type named twice keeps its last value, as the general path's dict does;
    * the same charge (one element per control), checked once at the end: the general
      path's bound on the number of controls (the elements the budget had) is the same
      test.

    tests/unit/directory/test_fast_controls.py holds both paths to the same answers."""
    controls: dict[str, bytes] = {}
    pos = start
    try:
        while pos < end:
            if data[pos] != ber.SEQUENCE:
                return None
            first = data[pos + 1]
            if first < 0x80:
                s = pos + 2
            elif first == 0x81:
                s, first = pos + 3, data[pos + 2]
            elif first == 0x82:
                s, first = pos + 4, data[pos + 2] << 8 | data[pos + 3]
            else:
                return None
            stop = s + first
            # the type (in a control without fields, the byte after it: the type would end
            # past the control below), then each field must end inside the control
            if stop > end or data[s] != ber.OCTET_STRING:
                return None
            first = data[s + 1]
            ts = s + 2
            s = ts + first
            if first >= 0x80 or s > stop:
                return None
            oid = data[ts:s].decode("ascii")
            if s < stop and data[s] == ber.BOOLEAN:  # criticality: read by neither path
                first = data[s + 1]
                s += 2 + first
                if first >= 0x80 or s > stop:
                    return None
            if s < stop:  # the value, which must end the control
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
                if s + first != stop:
                    return None
            controls[oid] = data[s:stop]
            left -= ELEMENT_COST
            pos = stop
    except (IndexError, UnicodeDecodeError):
        return None
    if left < 0:
        return None
    return controls, left
