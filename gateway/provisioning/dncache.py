"""A per-process, bounded memory of where resources live: (type, id) → DN.

Why: a PATCH names its resource by id, and LDAP writes name entries by DN, so today's PATCH
spends a round trip finding the DN before it can write. This cache remembers the DN of every
(id, DN) pair the process saw — in a read's results, a create's or an update's answer — so
the next PATCH of that id can write at once (:mod:`gateway.provisioning.fastpatch`).

Never trusted: a remembered DN is only ever used together with an assertion (RFC 4528) that
the entry at that DN still has that id, so the directory itself checks each use, and a stale
answer (renamed, deleted, another entry now at that DN, a replica that lacks it) fails the
write instead of changing the wrong entry. The gateway therefore stays stateless in effect:
several workers and hosts, other tools writing the same entries and failover need no
coordination; a stale entry costs one extra round trip, never a wrong write.

Thread-safe (one lock around an ``OrderedDict``; gunicorn threads share it). ``size`` 0
disables it: nothing is kept and every lookup misses.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable


class DnCache:
    """Least-recently-used map of (resource type, id) → DN, holding at most ``size`` pairs."""

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError("size must be 0 (disabled) or more")
        self.size = size
        self._items: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def enabled(self) -> bool:
        return self.size > 0

    def get(self, rtype: str, ident: str) -> str | None:
        """The DN last seen for ``ident``, or None; a hit becomes the most recent pair."""
        if not self.size:
            return None
        key = (rtype, ident)
        with self._lock:
            dn = self._items.get(key)
            if dn is not None:
                self._items.move_to_end(key)
            return dn

    def remember(self, rtype: str, ident: str | None, dn: str | None) -> None:
        """Keep ``ident`` → ``dn`` (the oldest pair goes when the cache is full)."""
        if not self.size or not ident or not dn:
            return
        key = (rtype, ident)
        with self._lock:
            self._items[key] = dn
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def remember_all(self, rtype: str, pairs: Iterable[tuple[str | None, str]]) -> None:
        """Several (id, DN) pairs at once (a list's results)."""
        if not self.size:
            return
        for ident, dn in pairs:
            self.remember(rtype, ident, dn)

    def forget(self, rtype: str, ident: str) -> None:
        """Drop ``ident`` (this process renamed or deleted it, or a use found it stale)."""
        if not self.size:
            return
        with self._lock:
            self._items.pop((rtype, ident), None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


DISABLED = DnCache(0)
"""The cache of services built without one (admin commands, ``mapping explain``)."""
