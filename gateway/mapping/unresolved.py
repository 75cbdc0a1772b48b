"""A reference an update keeps as it is, standing in for the id it was not resolved to.

An update reads its entry and turns it into the "before" resource; the DNs in reference
attributes (manager, groups) are not worth resolving to ids for that — only to be turned
back into the same DNs. :class:`Unresolved` stands in for the id there: it is not a string,
so no client id can be mistaken for it, and ``translate.to_image`` writes its DN back.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Unresolved:
    """The DN of a referenced entry, in place of its SCIM id (never shown to a client)."""

    dn: str
