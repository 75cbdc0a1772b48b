"""POSIX numbers (uidNumber, gidNumber) drawn from a range, safely across many workers.

A counter entry holds the next free number in the allocated attribute itself
(``cn=uidNumber-counter,dc=example,dc=org`` with ``uidNumber: 10042``). Drawing a number is
ONE LDAP modify: increment by one (RFC 4525) with an assertion (RFC 4528) that the counter
is still inside the range, and a post-read (RFC 4527) of the new value. The directory
applies an entry's modifications one at a time, so concurrent workers — threads or
processes, on any number of hosts — each see a different post-read value: no
read-then-write race, no retry loop in the normal case. The number drawn is the new value
minus one.

Only unusual states cost more round trips, never more than a handful: the counter entry is
missing (it is created, as ``device`` + ``extensibleObject`` — the stock schemas have no
counter class — starting at ``first``; a concurrent creator wins and we increment theirs),
or its value is outside the range (below ``first``: moved up to ``first`` with an assertion
on the old value; above ``last``: the range is exhausted and creates fail with a 503 that
says so, until an administrator widens the range).

A number is drawn after the request has been validated and just before the add; if the add
then fails, that number stays unused (gaps are harmless, reuse would not be).
"""

from __future__ import annotations

import logging

from gateway.directory import dn as dnlib
from gateway.directory import ldapfilter as lf
from gateway.directory.entry import Modification, ModOp
from gateway.directory.operations import Directory
from gateway.errors import AssertionFailed, EntryExists, NoSuchEntry, ServiceUnavailable
from gateway.mapping.model import Allocation, DerivedRule

log = logging.getLogger(__name__)

COUNTER_CLASSES = ("top", "device", "extensibleObject")
MAX_ATTEMPTS = 5


class Allocator:
    """Draws numbers for a resource type's ``allocate`` rules."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    def allocate_all(self, rules: tuple[DerivedRule, ...]) -> dict[str, list[str]]:
        """One number per ``allocate`` rule, as add attributes (lower-case names)."""
        return {
            rule.ldap.lower(): [str(self.allocate(rule.ldap, rule.allocate))]
            for rule in rules
            if rule.allocate is not None
        }

    def allocate(self, attribute: str, allocation: Allocation) -> int:
        for _attempt in range(MAX_ATTEMPTS):
            try:
                after = self.directory.modify(
                    allocation.counter,
                    [Modification(attribute, ModOp.INCREMENT, ("1",))],
                    read_back=[attribute],
                    assertion=_in_range(attribute, allocation),
                    permissive=False,
                )
            except NoSuchEntry:
                if self._create_counter(attribute, allocation):
                    return allocation.first
                continue
            except AssertionFailed:
                self._repair(attribute, allocation)
                continue
            value = after.first(attribute) if after is not None else None
            if value is None or not value.lstrip("-").isdigit():
                raise _unavailable(attribute, allocation, "returned no number")
            return int(value) - 1
        raise _unavailable(attribute, allocation, "kept changing under concurrent updates")

    def _create_counter(self, attribute: str, allocation: Allocation) -> bool:
        """Create the missing counter, handing out ``first``; False if someone else did."""
        attrs = {
            "objectClass": list(COUNTER_CLASSES),
            "cn": [dnlib.rdn_value(allocation.counter)],
            attribute: [str(allocation.first + 1)],
            "description": [f"next free {attribute} for the SCIM gateway; do not edit by hand"],
        }
        try:
            self.directory.add(allocation.counter, attrs)
        except EntryExists:
            return False
        except NoSuchEntry as err:
            raise _unavailable(
                attribute, allocation, "cannot be created: its parent entry is missing"
            ) from err
        log.info("created the %s counter %s at %d", attribute, allocation.counter, allocation.first)
        return True

    def _repair(self, attribute: str, allocation: Allocation) -> None:
        """The counter was outside the range: raise it to ``first``, or report exhaustion."""
        entry = self.directory.read(allocation.counter, [attribute])
        if entry is None:
            return  # deleted meanwhile: the next attempt recreates it
        raw = entry.first(attribute)
        current = int(raw) if raw is not None and raw.lstrip("-").isdigit() else None
        if current is not None and current > allocation.last:
            log.error(
                "%s range %d-%d is exhausted (counter %s is at %d)",
                attribute,
                allocation.first,
                allocation.last,
                allocation.counter,
                current,
            )
            raise ServiceUnavailable(
                f"no free {attribute} is left in the range {allocation.first}-"
                f"{allocation.last} of the gateway's mapping; an administrator must widen it"
            )
        if current is not None and current >= allocation.first:
            return  # changed meanwhile and now in range: just try again
        guard = lf.Not(lf.Present(attribute)) if raw is None else lf.Equal(attribute, raw)
        try:
            self.directory.modify(
                allocation.counter,
                [Modification(attribute, ModOp.REPLACE, (str(allocation.first),))],
                assertion=guard,
                permissive=False,
            )
        except AssertionFailed:
            return  # someone else moved it: try again


def _in_range(attribute: str, allocation: Allocation) -> lf.LdapFilter:
    return lf.And(
        (
            lf.GreaterOrEqual(attribute, str(allocation.first)),
            lf.LessOrEqual(attribute, str(allocation.last)),
        )
    )


def _unavailable(attribute: str, allocation: Allocation, why: str) -> ServiceUnavailable:
    log.error("%s counter %s %s", attribute, allocation.counter, why)
    return ServiceUnavailable(f"cannot allocate a {attribute}: the counter entry {why}")
