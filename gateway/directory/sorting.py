"""The server-side sort request control (RFC 2891).

OpenLDAP offers it through the ``sssvlv`` overlay, together with paged results. Its
virtual-list-view half is deliberately not used: slapd keeps every VLV result set alive per
connection until the connection closes (at most five per connection, and by default half
the server's threads in total), which a long-lived gateway connection would exhaust.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.directory import ber
from gateway.directory.messages import Control

SORT_REQUEST_OID = "1.2.840.113556.1.4.473"
SORT_RESPONSE_OID = "1.2.840.113556.1.4.474"


@dataclass(frozen=True, slots=True)
class SortKey:
    attribute: str
    ordering_rule: str | None = None  # e.g. caseIgnoreOrderingMatch for uid/cn
    reverse: bool = False


def sort_control(keys: list[SortKey]) -> Control:
    """SortKeyList ::= SEQUENCE OF SEQUENCE { attributeType, orderingRule [0] OPTIONAL,
    reverseOrder [1] BOOLEAN DEFAULT FALSE }"""
    items = []
    for key in keys:
        parts = [ber.octets(key.attribute)]
        if key.ordering_rule:
            parts.append(ber.octets(key.ordering_rule, 0x80))
        if key.reverse:
            parts.append(ber.boolean(True, 0x81))
        items.append(ber.sequence(*parts))
    return Control(SORT_REQUEST_OID, True, ber.sequence(*items))


def sort_result(value: bytes | None) -> int | None:
    """``sortResult`` of a SortResult response control (0: sorted), None when absent.

    A server may answer success to the search and still not sort (389 DS, given an ordering
    rule it does not know): only this control says whether the entries are in order.
    """
    if value is None:
        return None
    _, start, end = ber.header(value, 0)
    parts = ber.children(value, start, end, 2)
    if not parts:
        raise ber.BerError("sort response control: expected a sortResult")
    _, s, e = parts[0]
    return ber.read_integer(value, s, e)
