"""Value deltas: PATCH on a multi-valued attribute whose current values are never read.

A group can have thousands of members; reading them all to apply ``add members`` is what
made other gateways slow (architecture.md, "Lessons"). For such attributes the PATCH engine
records what the operations ask for instead, and the caller turns that into LDAP value
adds and deletes ("Membership changes are value adds/deletes").

Operations compose in order, so the final ``ValueDelta`` describes the end state: adding
then removing the same value removes it; removing then adding adds it; a ``replace`` (or a
``remove`` of the whole attribute) resets everything before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.errors import InvalidValue, TooMany
from gateway.scim.schema import Attribute
from gateway.scim.values import value_key


@dataclass(frozen=True, slots=True)
class ValueDelta:
    """What to do to an attribute's values, relative to values the engine never saw.

    ``replace`` is ``None`` for "keep the current values", ``()`` for "remove them all", or
    the new full set; ``add`` and ``remove`` then apply on top of it (after a replace,
    ``remove`` is empty and ``add`` is folded into ``replace``). Values in ``remove`` are
    matched by their ``value`` sub-attribute.
    """

    add: tuple[dict[str, Any], ...] = ()
    remove: tuple[dict[str, Any], ...] = ()
    replace: tuple[dict[str, Any], ...] | None = None


class DeltaBuilder:
    """Accumulates operations on one delta attribute, keyed by value identity.

    ``max_values`` caps the values one PATCH may name for the attribute (added, removed or
    replaced, counted after the operations so far have been composed): ``TooMany``.
    """

    def __init__(self, attr: Attribute, max_values: int | None = None) -> None:
        self.attr = attr
        self.max_values = max_values
        self._add: dict[Any, dict[str, Any]] = {}
        self._remove: dict[Any, dict[str, Any]] = {}
        self._replace: dict[Any, dict[str, Any]] | None = None

    def _keyed(self, values: list[Any]) -> dict[Any, dict[str, Any]]:
        keyed: dict[Any, dict[str, Any]] = {}
        for value in values:
            if not isinstance(value, dict) or not isinstance(value.get("value"), str):
                raise InvalidValue(f"each value of '{self.attr.name}' needs a string 'value'")
            keyed.setdefault(value_key(self.attr, value), value)
        return keyed

    def add(self, values: list[Any]) -> None:
        """RFC 7644 §3.5.2.1: add values; one already present is no change."""
        for key, value in self._keyed(values).items():
            self._remove.pop(key, None)
            target = self._add if self._replace is None else self._replace
            target.setdefault(key, value)
        self._check_count()

    def remove(self, values: list[Any]) -> None:
        """Remove exactly these values (matched by ``value``); absent ones are no change."""
        for key, value in self._keyed(values).items():
            if self._replace is not None:
                self._replace.pop(key, None)
                continue
            self._add.pop(key, None)
            self._remove.setdefault(key, {"value": value["value"]})
        self._check_count()

    def replace(self, values: list[Any]) -> None:
        """RFC 7644 §3.5.2.3: the attribute's values become exactly ``values``."""
        self._replace = self._keyed(values)
        self._add.clear()
        self._remove.clear()
        self._check_count()

    def _check_count(self) -> None:
        count = len(self._add) + len(self._remove) + len(self._replace or ())
        if self.max_values is not None and count > self.max_values:
            raise TooMany(
                f"this PATCH names {count} values of '{self.attr.name}'; the gateway accepts"
                f" at most {self.max_values} per attribute in one request"
            )

    def result(self) -> ValueDelta:
        replace = None if self._replace is None else tuple(self._replace.values())
        return ValueDelta(tuple(self._add.values()), tuple(self._remove.values()), replace)
