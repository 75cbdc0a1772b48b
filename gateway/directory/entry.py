"""LDAP entries and modifications as plain values, so nothing above this package sees ldap3."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


@dataclass(frozen=True, slots=True)
class Entry:
    """One directory entry. Attribute names are lower-cased; values are text — a value that
    is not UTF-8 is refused when read (``messages.NotText``), never rewritten.

    ``linked``: for DN-valued attributes the search asked the server to dereference (see
    ``messages.deref_control``), the entries those values name, with the attributes asked
    for — keyed by the lower-cased attribute name. None when the server did not answer that
    request (it lacks the overlay, or the entry has no such values).
    """

    dn: str
    attributes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    linked: dict[str, tuple[Entry, ...]] | None = None

    def get(self, name: str) -> tuple[str, ...]:
        return self.attributes.get(name.lower(), ())

    def first(self, name: str) -> str | None:
        values = self.get(name)
        return values[0] if values else None


_new_object = object.__new__
_set_dn = Entry.dn.__set__  # type: ignore[attr-defined]  # the slots' own descriptors
_set_attributes = Entry.attributes.__set__  # type: ignore[attr-defined]
_set_linked = Entry.linked.__set__  # type: ignore[attr-defined]


def decoded_entry(
    dn: str,
    attributes: dict[str, tuple[str, ...]],
    linked: dict[str, tuple[Entry, ...]] | None = None,
) -> Entry:
    """``Entry(dn, attributes, linked)`` for the codec, which makes one per entry read
    (four a member add): 0.75 instead of 1.45 us.

    The same object: a frozen dataclass's ``__init__`` stores each field through
    ``object.__setattr__`` (its own ``__setattr__`` refuses), which finds and calls the
    field's slot descriptor; this calls those descriptors itself. Entry has no
    ``__post_init__`` and every field is given, so nothing else differs
    (tests/unit/directory/test_round_trip_objects.py compares the two field by field and
    fails if a field is added without being set here)."""
    entry = _new_object(Entry)
    _set_dn(entry, dn)
    _set_attributes(entry, attributes)
    _set_linked(entry, linked)
    return entry


class ModOp(Enum):
    ADD = "add"  # add these values (present ones are fine: permissive modify)
    DELETE = "delete"  # delete these values, or the whole attribute when no values
    REPLACE = "replace"  # set exactly these values; no values removes the attribute
    INCREMENT = "increment"  # add the one value to an integer attribute (RFC 4525)


@dataclass(frozen=True, slots=True)
class Modification:
    attr: str
    op: ModOp
    values: tuple[str, ...] = ()
