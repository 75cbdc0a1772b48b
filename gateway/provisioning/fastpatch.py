"""A PATCH in one LDAP round trip: the remembered DN, one modify that the directory checks.

When this process has seen the entry's DN (:mod:`~gateway.provisioning.dncache`) and the
PATCH can be written without reading the entry (:mod:`~gateway.provisioning.blindpatch`),
the PATCH is ONE modify to that DN carrying

- an assertion (RFC 4528): the entry there is of this type and has this id
  (``(&(objectClass=inetOrgPerson)(entryUUID=<id>))``), its version is one the client named
  in ``If-Match`` (``(entryCSN=<v>)``: the mapping's ``directory.version_attribute``), and
  the blind write's guard holds (every touched attribute changes; nothing else would be
  written back), and
- a post-read control (RFC 4527) returning everything the response shows.

Whatever makes the assertion false — the entry renamed or deleted since, another entry now
at that DN, a replica without it after a failover, a stale If-Match, a PATCH that changes
nothing — and any refusal of the write (a value the schema refuses) writes nothing; the DN is
forgotten where it may be stale and :meth:`FastPatch.patch` returns None: the caller then
takes today's path (read, apply, write), which decides everything exactly as before
(404, 412, 400). So a stale DN costs one extra round trip, never a wrong write.

Not here: what "blind-safe" means (``blindpatch``), today's path (``writes.Writer.patch``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gateway.directory import ldapfilter as lf
from gateway.directory.entry import Entry
from gateway.errors import (
    AssertionFailed,
    DirectoryError,
    NoSuchEntry,
    PreconditionFailed,
    Referral,
    Unavailable,
    UnreadableValue,
)
from gateway.mapping import placement, translate
from gateway.provisioning.blindpatch import BlindPlanner
from gateway.provisioning.context import ResourceContext
from gateway.provisioning.dncache import DnCache
from gateway.provisioning.errors import translating
from gateway.provisioning.reads import Reader
from gateway.scim import etag
from gateway.scim.limits import NO_LIMITS, PatchLimits
from gateway.scim.patch import parse_patch_request

log = logging.getLogger(__name__)

MAX_OPERATIONS = 32
"""A longer PATCH takes today's path without being looked at here (a blind-safe one is a
few operations; this keeps a 1,000-operation PATCH from being parsed twice)."""

_CSN = re.compile(r"\d{14}\.\d{6}Z#[0-9a-fA-F]{6}#[0-9a-fA-F]{3}#[0-9a-fA-F]{6}")
"""An OpenLDAP entryCSN; an If-Match tag of any other shape cannot match: today's path
answers it (412). (Another version attribute's tags go to the directory as they are: a value
it cannot compare fails the assertion or is refused, and today's path answers.)"""


class FastPatch:
    """The one-round-trip PATCH of one resource type (for types where it can apply)."""

    def __init__(self, ctx: ResourceContext, reader: Reader, dns: DnCache) -> None:
        self.ctx = ctx
        self.rm = ctx.rm
        self.reader = reader
        self.dns = dns
        self.planner = BlindPlanner(ctx.mapping, ctx.rm)
        self._read_back = [*translate.read_attributes(ctx.rm), *ctx.back_link()]

    @property
    def enabled(self) -> bool:
        return self.dns.enabled and self.planner.eligible

    def patch(
        self, ident: str, body: Any, if_match: str | None, limits: PatchLimits = NO_LIMITS
    ) -> dict[str, Any] | None:
        """The patched resource, or None: nothing was written, take today's path."""
        if not self.enabled or _operation_count(body) > MAX_OPERATIONS:
            return None
        dn = self.dns.get(self.rm.name, ident)
        if dn is None:
            return None
        if not placement.contains(self.rm, dn):
            self.dns.forget(self.rm.name, ident)
            return None
        decided, version = _version_guard(self.rm.directory.version_attribute, if_match)
        if not decided:
            return None
        try:
            operations = parse_patch_request(body, limits)
        except Exception:
            return None  # today's path raises the same error, at the same point
        write = self.planner.plan(ident, operations, limits)
        if write is None or _past(limits):
            return None
        assertion = lf.conjunction(
            self.rm.filter,
            lf.Equal(self.rm.id_attribute, ident),
            version,
            write.guard,
        )
        try:  # whole-attribute replaces only: no permissive modify (and no exact rewrite of
            # it for a replicated directory, which would retry a failed assertion)
            after = self.ctx.directory.modify(
                dn,
                write.modifications,
                read_back=self._read_back,
                assertion=assertion,
                permissive=False,
            )
        except (AssertionFailed, NoSuchEntry):
            self.dns.forget(self.rm.name, ident)  # or only a guard failed: re-learnt below
            return None
        except (Unavailable, Referral, UnreadableValue) as err:
            with translating(self.ctx.name):
                raise err  # as today's modify: 503, or 504 when the outcome is unknown
        except DirectoryError:
            return None  # refused, nothing written: today's path reads, then decides
        assert after is not None  # modifications are never empty
        self.dns.remember(self.rm.name, ident, dn)
        return self.reader.resource_of(Entry(dn, after.attributes))


def _operation_count(body: Any) -> int:
    if not isinstance(body, dict):
        return 0
    ops = next((v for k, v in body.items() if isinstance(k, str) and k.lower() == "operations"), 0)
    return len(ops) if isinstance(ops, list) else 0


def _version_guard(
    attribute: str | None, if_match: str | None
) -> tuple[bool, lf.LdapFilter | None]:
    """(True, ``(entryCSN=<tag>)``) for If-Match (several tags: an ``or``) on the mapping's
    version attribute; (True, None) without one or for ``*``; (False, None) when the
    directory keeps no versions, an entryCSN tag is no CSN or the header does not parse:
    today's path answers those (412)."""
    try:
        tags = etag.parse(if_match)
    except PreconditionFailed:
        return False, None
    if tags is None or "*" in tags:
        return True, None
    if attribute is None:
        return False, None
    if attribute.lower() == "entrycsn" and not all(_CSN.fullmatch(t) for t in tags):
        return False, None
    items = tuple(lf.Equal(attribute, t) for t in dict.fromkeys(tags))
    return True, items[0] if len(items) == 1 else lf.Or(items)


def _past(limits: PatchLimits) -> bool:
    """The PATCH deadline has passed: today's path reports it, as it does now."""
    return limits.deadline is not None and limits.deadline.remaining() <= 0
