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
