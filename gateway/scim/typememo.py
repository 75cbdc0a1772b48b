"""Tables of answers kept per resource type (or other frozen value), found by identity.

Does: hand out one dict per (owner object, table name) in which a caller stores what it
worked out about that owner — the ``returned`` characteristic of each key a projection
meets, where a body's key lands in the schema — so a request looks it up instead of
walking the schemas again.

Why by identity: a :class:`~gateway.scim.schema_model.ResourceType` is a frozen dataclass
whose hash walks every schema, attribute and sub-attribute it holds, which costs more than
the lookups it would save; ``functools.lru_cache`` would hash it on each call. The owner is
kept beside its tables, so its id cannot be reused by another object while they exist.
Owners are immutable, so an answer stored once stays right; a mapping reload brings new
owners (and new tables). Bounded: past ``MAX_OWNERS`` tables everything is dropped and
worked out again.

Does not: bound a table's own size (callers store only keys they have reason to keep).
"""

from __future__ import annotations

from typing import Any

MAX_OWNERS = 256

_TABLES: dict[tuple[int, str], tuple[object, dict[Any, Any]]] = {}


def table(owner: object, name: str) -> dict[Any, Any]:
    """The dict named ``name`` that belongs to ``owner`` (empty the first time).

    Safe with threads: at worst two threads build the same answers once each.
    """
    key = (id(owner), name)
    found = _TABLES.get(key)
    if found is not None and found[0] is owner:
        return found[1]
    if len(_TABLES) >= MAX_OWNERS:
        _TABLES.clear()
    made: dict[Any, Any] = {}
    _TABLES[key] = (owner, made)
    return made
