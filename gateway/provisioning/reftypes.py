"""Which resource types a reference may name: one answer for reads, writes and membership.

A lookup of ids or DNs (``References.by_ids``, ``by_dns``, a PATCH's combined search)
searches only the types the attribute may name, so an id of another type is not found and a
write naming it is refused. Before this module the answer was worked out in three places
(the service's patch search, its id lookups, membership), slightly differently in each.
"""

from __future__ import annotations

import functools

from gateway.mapping.model import ResourceMapping


@functools.lru_cache(maxsize=256)  # per mapping (identity hash), asked on every request
def named_types(
    rm: ResourceMapping, *, members: bool = True, rules: bool = True, writable: bool = False
) -> tuple[str, ...]:
    """The types ``rm``'s references may name, in mapping order, once each: ``members`` adds
    those of its member rule, ``rules`` those of its reference rules (``manager``,
    ``groups``) — only the rules a client may write with ``writable``."""
    types: list[str] = []
    if members and rm.members is not None:
        types += rm.members.types
    if rules:
        types += [
            t
            for rule in rm.attributes
            if rule.reference and (rule.writable or not writable)
            for t in rule.reference
        ]
    return tuple(dict.fromkeys(types))
