"""How ``active: false`` is stored: one class per disable strategy (the mapping's ``disable:``).

Why classes: a directory's way of disabling an account (a ppolicy lock, a flag attribute, an
OU for disabled entries, a bit in an AD-style ``userAccountControl``) touches reads, writes,
filters and placement. Each class below answers all of those for its strategy, so nothing
outside this module compares strategy names, and a new strategy is one class here, its entry
in :data:`STRATEGIES` and a section of docs/mapping.md:

- what a read must request (:meth:`DisableStrategy.read_attributes`) and how an entry reads
  (:meth:`~DisableStrategy.is_disabled`);
- what a write sets (:meth:`~DisableStrategy.image`, the "after" image; :meth:`~DisableStrategy.
  as_stored`, the "before" image; :meth:`~DisableStrategy.settle`, the value finally sent);
- what ``active`` in a SCIM filter becomes (:meth:`~DisableStrategy.disabled_filter`);
- where entries live (:attr:`~DisableStrategy.disabled_base`, ``move`` only).

The YAML keys of each strategy are its :class:`Keys` schema (marshmallow; the loader picks it
by ``strategy``); what the keys must mean together is checked by :meth:`build`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from marshmallow import RAISE, Schema, fields, validate

from gateway.directory import dn as dnlib
from gateway.directory import ldapfilter as lf
from gateway.errors import InvalidFilter, InvalidValue

Attributes = Mapping[str, tuple[str, ...]]  # lower-cased LDAP names → values
ImageAttributes = dict[str, tuple[str, ...]]  # an image being built (translate.to_image)
Report = Callable[[str, str], None]  # (key below ``disable``, "" for the block; message)

# Microsoft's LDAP_MATCHING_RULE_BIT_AND; OpenLDAP implements it as integerBitAndMatch
BIT_AND_RULE = "1.2.840.113556.1.4.803"
_ATTRIBUTE_NAME = validate.Regexp(
    r"^[A-Za-z][A-Za-z0-9-]*$", error="an LDAP attribute name (letters, digits, '-')"
)


class _Keys(Schema):
    class Meta:
        unknown = RAISE


def carries(attributes: Attributes, name: str, value: str) -> bool:
    """Does the entry hold ``value`` in ``name`` (compared ignoring case, as the marks are)?"""
    stored = attributes.get(name.lower())
    if not stored:  # an enabled entry usually: nothing to compare
        return False
    wanted = value.lower()
    return any(v.lower() == wanted for v in stored)


@dataclass(frozen=True, slots=True)
class DisableStrategy:
    """What every strategy answers; the defaults are those of a strategy that writes nothing."""

    name: ClassVar[str]
    Keys: ClassVar[type[Schema]]
    # what `mapping check` adds when the first written attribute is not in the schema
    missing_hint: ClassVar[str] = ""
    # `mapping check`: the written attribute must have INTEGER syntax (bit operations)
    needs_integer: ClassVar[bool] = False

    @classmethod
    def build(cls, keys: dict[str, Any], base_dn: str, report: Report) -> DisableStrategy:
        """The strategy for validated ``keys``; meaning problems go to ``report``."""
        return cls(**keys)

    def read_attributes(self) -> tuple[str, ...]:
        """LDAP attributes a read must request to tell whether the entry is disabled."""
        return ()

    def written_attributes(self) -> tuple[str, ...]:
        """LDAP attributes this strategy writes (checked against the schema, spelled in
        ``mapping explain``)."""
        return ()

    def always_written(self) -> tuple[str, ...]:
        """LDAP attributes every create writes (a class's MUST they satisfy)."""
        return ()

    @property
    def disabled_base(self) -> str | None:
        """The DN below which disabled entries live (``move``); None: where enabled ones do."""
        return None

    def is_disabled(self, dn: str, attributes: Attributes) -> bool:
        raise NotImplementedError

    def image(self, active: bool, attrs: ImageAttributes, parent: str, base: str) -> str:
        """Put ``active`` into an image's ``attrs``; return the entry's parent DN (``parent``
        where it is now, ``base`` the mapping's base_dn)."""
        return parent

    def as_stored(self, stored: Attributes, attrs: ImageAttributes, active: bool) -> None:
        """Make the "before" image of an update hold what the entry really stores."""

    def settle(self, name: str, before: tuple[str, ...], after: tuple[str, ...]) -> tuple[str, ...]:
        """The values to write for ``name``, given the stored ``before`` and the image's
        ``after`` (a bit flag keeps the other bits of the stored word)."""
        return after

    def disabled_filter(self) -> lf.LdapFilter:
        """The LDAP filter matching disabled entries (``active eq false``); raises
        InvalidFilter when ``active`` cannot be a filter term (``move``: see placement)."""
        raise NotImplementedError

    def blind_write_guards(self) -> tuple[lf.LdapFilter, ...] | None:
        """For a PATCH written without reading the entry (provisioning/blindpatch.py), which
        leaves ``active`` alone: the filters under which the usual update path would write
        nothing of this strategy's own, so the blind write may assert them; None when that
        cannot be said by a filter (the PATCH then takes the usual path)."""
        return None


@dataclass(frozen=True, slots=True)
class _Marked(DisableStrategy):
    """Disabled = ``attribute: disabled_value``, plus an optional second mark.

    ``mark_attribute: mark_value``: a second mark written with the first. ppolicy deletes
    ``pwdAccountLockedTime`` whenever a password is changed, so a help-desk reset would
    silently re-enable the account; the mark (the shipped mapping: a ``pwdPolicySubentry``
    naming a "disabled" policy, which slapd's ACLs refuse binds for) is left alone by password
    changes. An entry with either one reads as ``active: false``, and any later update of the
    entry writes back whichever of the two is missing.
    """

    attribute: str = ""
    disabled_value: str = ""
    enabled_value: str | None = None
    mark_attribute: str | None = None
    mark_value: str | None = None

    @classmethod
    def _check_mark(cls, keys: dict[str, Any], report: Report) -> None:
        if bool(keys.get("mark_attribute")) != bool(keys.get("mark_value")):
            report("", "'mark_attribute' and 'mark_value' go together")

    @property
    def marks(self) -> tuple[tuple[str, str], ...]:
        """The (attribute, value) pairs a disabled entry carries."""
        pairs = [(self.attribute, self.disabled_value)]
        if self.mark_attribute and self.mark_value:
            pairs.append((self.mark_attribute, self.mark_value))
        return tuple(pairs)

    def read_attributes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a for a, _ in self.marks))

    def written_attributes(self) -> tuple[str, ...]:
        return self.read_attributes()

    def always_written(self) -> tuple[str, ...]:
        return (self.attribute,) if self.enabled_value is not None else ()

    def is_disabled(self, dn: str, attributes: Attributes) -> bool:
        # either mark disables: ppolicy drops the lock on a password change, the mark stays
        return any(carries(attributes, attr, value) for attr, value in self.marks)

    def image(self, active: bool, attrs: ImageAttributes, parent: str, base: str) -> str:
        if not active:
            for name, value in self.marks:
                attrs[name.lower()] = (value,)
        elif self.enabled_value is not None:
            attrs[self.attribute.lower()] = (self.enabled_value,)
        return parent

    def as_stored(self, stored: Attributes, attrs: ImageAttributes, active: bool) -> None:
        """A disabled entry's "before" image holds the marks it carries, not both: a lost one
        is then written back."""
        if active:
            return
        for name, value in self.marks:
            if carries(stored, name, value):
                attrs[name.lower()] = (value,)
            else:
                attrs.pop(name.lower(), None)

    def disabled_filter(self) -> lf.LdapFilter:
        marks = [lf.Equal(attr, mark) for attr, mark in self.marks]
        return marks[0] if len(marks) == 1 else lf.Or(tuple(marks))

    def blind_write_guards(self) -> tuple[lf.LdapFilter, ...] | None:
        # an update writes back a disabled entry's missing mark (as_stored): enabled ones only
        return (lf.Not(self.disabled_filter()),)


class _PpolicyKeys(_Keys):
    attribute = fields.String(validate=_ATTRIBUTE_NAME)
    disabled_value = fields.String(validate=validate.Length(min=1))
    mark_attribute = fields.String(validate=_ATTRIBUTE_NAME)
    mark_value = fields.String(validate=validate.Length(min=1))


@dataclass(frozen=True, slots=True)
class Ppolicy(_Marked):
    """slapo-ppolicy's lock: ``pwdAccountLockedTime: 000001010000Z`` (a bind is then refused)."""

    name: ClassVar[str] = "ppolicy"
    Keys: ClassVar[type[Schema]] = _PpolicyKeys
    missing_hint: ClassVar[str] = "the ppolicy strategy needs the ppolicy overlay loaded"

    attribute: str = "pwdAccountLockedTime"
    disabled_value: str = "000001010000Z"

    @classmethod
    def build(cls, keys: dict[str, Any], base_dn: str, report: Report) -> DisableStrategy:
        cls._check_mark(keys, report)
        return cls(**keys)


class _BooleanKeys(_PpolicyKeys):
    enabled_value = fields.String(validate=validate.Length(min=1))


@dataclass(frozen=True, slots=True)
class Boolean(_Marked):
    """``attribute`` holds ``disabled_value`` (and ``enabled_value`` when given, else it is
    removed on enable); e.g. 389 DS's ``nsAccountLock: TRUE``."""

    name: ClassVar[str] = "boolean"
    Keys: ClassVar[type[Schema]] = _BooleanKeys

    @classmethod
    def build(cls, keys: dict[str, Any], base_dn: str, report: Report) -> DisableStrategy:
        if not (keys.get("attribute") and keys.get("disabled_value")):
            report("", "the boolean strategy needs 'attribute' and 'disabled_value'")
        elif (keys.get("enabled_value") or "").lower() == keys["disabled_value"].lower():
            report("enabled_value", "must differ from disabled_value")
        cls._check_mark(keys, report)
        return cls(**keys)


class _MoveKeys(_Keys):
    disabled_base_dn = fields.String()


@dataclass(frozen=True, slots=True)
class Move(DisableStrategy):
    """Disabled entries live under ``disabled_base_dn``: disabling is a move (modify DN)."""

    name: ClassVar[str] = "move"
    Keys: ClassVar[type[Schema]] = _MoveKeys

    disabled_base_dn: str = ""

    @classmethod
    def build(cls, keys: dict[str, Any], base_dn: str, report: Report) -> DisableStrategy:
        target = keys.get("disabled_base_dn")
        if not target:
            report("", "the move strategy needs 'disabled_base_dn'")
            return cls(**keys)
        try:
            dnlib.components(target)
        except dnlib.InvalidDn:
            report(
                "disabled_base_dn",
                f"{target!r} is not a valid DN (RFC 4514), e.g. ou=People,dc=example,dc=org",
            )
            return cls(**keys)
        if dnlib.normalize(target) == dnlib.normalize(base_dn):
            report("disabled_base_dn", "must differ from base_dn")
        return cls(**keys)

    @property
    def disabled_base(self) -> str | None:
        return self.disabled_base_dn

    def is_disabled(self, dn: str, attributes: Attributes) -> bool:
        return dnlib.is_within(dn, self.disabled_base_dn)

    def image(self, active: bool, attrs: ImageAttributes, parent: str, base: str) -> str:
        if not active:
            return self.disabled_base_dn or parent
        return base if dnlib.is_within(parent, self.disabled_base_dn) else parent

    def blind_write_guards(self) -> tuple[lf.LdapFilter, ...] | None:
        return ()  # where the entry lives is all it stores: an update leaving active alone keeps it

    def disabled_filter(self) -> lf.LdapFilter:
        # portable LDAP has no "below this DN" filter: placement.split_active turns top-level
        # `active` conditions into a choice of search base; anything else lands here
        raise InvalidFilter(
            "with this directory's disable strategy (move), 'active' can only be compared "
            "with eq or ne and true or false, joined to the rest of the filter with 'and' "
            "(e.g. 'active eq false and userName sw \"a\"')"
        )


class _BitmaskKeys(_Keys):
    attribute = fields.String(required=True, validate=_ATTRIBUTE_NAME)
    flag = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    initial_value = fields.Integer(strict=True)


@dataclass(frozen=True, slots=True)
class Bitmask(DisableStrategy):
    """One bit of an INTEGER attribute: AD-style ``userAccountControl`` (``flag: 2``,
    ACCOUNTDISABLE). Disabling ORs the bit into the stored word, enabling clears it; the
    other bits are kept (:meth:`settle` works from the stored word, not the image's).
    ``initial_value``: the word a new entry gets (AD: 512, NORMAL_ACCOUNT), the bit added
    when it is created disabled. ``active eq false`` is the extensible match
    ``(attribute:1.2.840.113556.1.4.803:=flag)`` (OpenLDAP's integerBitAndMatch).
    """

    name: ClassVar[str] = "bitmask"
    Keys: ClassVar[type[Schema]] = _BitmaskKeys
    needs_integer: ClassVar[bool] = True

    attribute: str = ""
    flag: int = 0
    initial_value: int = 0

    @classmethod
    def build(cls, keys: dict[str, Any], base_dn: str, report: Report) -> DisableStrategy:
        flag = keys.get("flag", 0)
        if flag & (flag - 1):
            report("flag", f"{flag} is not one bit: use 1, 2, 4, 8, ... (AD's ACCOUNTDISABLE: 2)")
        elif keys.get("initial_value", 0) & flag:
            report("initial_value", "is the word of an enabled entry: it must not have the flag")
        return cls(**keys)

    def read_attributes(self) -> tuple[str, ...]:
        return (self.attribute,)

    def written_attributes(self) -> tuple[str, ...]:
        return (self.attribute,)

    def always_written(self) -> tuple[str, ...]:
        return (self.attribute,)

    def is_disabled(self, dn: str, attributes: Attributes) -> bool:
        word = _word(attributes.get(self.attribute.lower(), ()))
        return word is not None and bool(word & self.flag)

    def image(self, active: bool, attrs: ImageAttributes, parent: str, base: str) -> str:
        word = self.initial_value & ~self.flag
        attrs[self.attribute.lower()] = (str(word if active else word | self.flag),)
        return parent

    def as_stored(self, stored: Attributes, attrs: ImageAttributes, active: bool) -> None:
        """The "before" image holds the stored word itself, whatever its other bits."""
        key = self.attribute.lower()
        if stored.get(key):
            attrs[key] = tuple(stored[key])
        else:
            attrs.pop(key, None)

    def settle(self, name: str, before: tuple[str, ...], after: tuple[str, ...]) -> tuple[str, ...]:
        """The stored word with the flag bit of ``after``: the other bits are kept."""
        if name != self.attribute.lower() or not before or not after:
            return after
        old, new = _word(before), _word(after)
        if old is None or new is None:
            raise InvalidValue(
                f"{self.attribute} holds {before[0]!r}, which is not an integer: the bitmask "
                "disable strategy cannot set its flag (nothing was written)"
            )
        return (str((old & ~self.flag) | (new & self.flag)),)

    def disabled_filter(self) -> lf.LdapFilter:
        # built from the mapping only (a checked attribute name and an int), never client text
        return lf.Raw(f"({self.attribute}:{BIT_AND_RULE}:={self.flag})")


def _word(values: tuple[str, ...] | list[str]) -> int | None:
    """The integer an INTEGER attribute holds (its first value), or None."""
    try:
        return int(values[0].strip()) if values else None
    except ValueError:
        return None


STRATEGIES: dict[str, type[DisableStrategy]] = {
    s.name: s for s in (Ppolicy, Boolean, Move, Bitmask)
}
