"""The server-side sort request control (RFC 2891), built with pyasn1 (ldap3 has none).

OpenLDAP offers it through the ``sssvlv`` overlay, together with paged results. Its
virtual-list-view half is deliberately not used: slapd keeps every VLV result set alive per
connection until the connection closes (at most five per connection, and by default half
the server's threads in total), which a long-lived gateway connection would exhaust.
"""

from __future__ import annotations

from dataclasses import dataclass

from ldap3.core import results as ldap_results
from pyasn1.codec.ber import encoder
from pyasn1.type import namedtype, tag, univ

SORT_REQUEST_OID = "1.2.840.113556.1.4.473"
SORT_RESPONSE_OID = "1.2.840.113556.1.4.474"

# ldap3 raises KeyError on result codes it does not know; sssvlv may answer 76.
ldap_results.RESULT_CODES.setdefault(76, "virtualListViewError")


@dataclass(frozen=True, slots=True)
class SortKey:
    attribute: str
    ordering_rule: str | None = None  # e.g. caseIgnoreOrderingMatch for uid/cn
    reverse: bool = False


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


def sort_control(keys: list[SortKey]) -> tuple[str, bool, bytes]:
    value = _SortKeyList()
    for i, key in enumerate(keys):
        item = _SortKey()
        item["attributeType"] = key.attribute
        if key.ordering_rule:
            item["orderingRule"] = key.ordering_rule
        if key.reverse:
            item["reverseOrder"] = True
        value[i] = item
    return (SORT_REQUEST_OID, True, encoder.encode(value))
