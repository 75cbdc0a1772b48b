"""One request's id → resource lookups, with what the request already found.

A PATCH reads its entry and the resources its operations name in one search
(:meth:`References.entry_with_refs`); the writes that follow ask for those ids again (the
member values to write, the manager's DN). The :class:`Resolver` made for that request
answers them from what was found, and asks the directory only for the rest. It is passed
as an argument to whatever resolves ids during the request, so nothing outlives it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from gateway.provisioning.references import Ref, References


@dataclass(frozen=True, slots=True)
class Resolver:
    """Ids → :class:`Ref` for one request: ``known`` answers without a search."""

    refs: References
    known: Mapping[str, Ref] = field(default_factory=dict)

    def by_ids(self, ids: Iterable[str], types: Iterable[str]) -> dict[str, Ref]:
        """Existing resources among ``ids`` (of the given types), keyed by id.

        An id in ``known`` of one of ``types`` costs nothing; the others are looked up in
        one search per chunk (:meth:`References.by_ids`), none when every id is known.
        """
        types = list(types)
        if not self.known:
            return self.refs.by_ids(ids, types)
        ids = list(ids)
        hits = {i: self.known[i] for i in ids if i in self.known and self.known[i].type in types}
        rest = [i for i in ids if i not in hits]
        return {**hits, **(self.refs.by_ids(rest, types) if rest else {})}
