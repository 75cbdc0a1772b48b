"""The use cases for one resource type: create, get, list, replace, patch, delete.

A facade: :class:`ResourceService` builds the type's
:class:`~gateway.provisioning.context.ResourceContext` once and hands it to a
:class:`~gateway.provisioning.reads.Reader` and a :class:`~gateway.provisioning.writes.Writer`,
which do the work (docs/operations.md lists the LDAP operations of each). SCIM-side work is
done by ``gateway.scim`` and translation by ``gateway.mapping``.
"""

from __future__ import annotations

from typing import Any

from gateway.directory.operations import Directory
from gateway.mapping.exposure import served_type
from gateway.mapping.model import Mapping, ResourceMapping
from gateway.provisioning.context import Limits, ResourceContext
from gateway.provisioning.dncache import DISABLED, DnCache
from gateway.provisioning.fastpatch import FastPatch
from gateway.provisioning.membership import Membership
from gateway.provisioning.reads import DEFAULT_PROJECTION, ListResult, Reader
from gateway.provisioning.references import References
from gateway.provisioning.writes import Writer
from gateway.scim.limits import NO_LIMITS, PatchLimits
from gateway.scim.projection import Projection

__all__ = ["DEFAULT_PROJECTION", "Limits", "ListResult", "ResourceService"]


class ResourceService:
    """SCIM operations on one resource type, translated to LDAP through its mapping."""

    def __init__(
        self,
        mapping: Mapping,
        name: str,
        directory: Directory,
        limits: Limits,
        dns: DnCache = DISABLED,
    ) -> None:
        self.ctx = ResourceContext.build(mapping, name, directory, limits, dns)
        self.rtype = self.ctx.rm.rtype
        self.served = served_type(self.ctx.rm)  # what discovery publishes: the mapped attributes
        self.reader = Reader(self.ctx)
        self.writer = Writer(self.ctx, self.reader)
        self.fast = FastPatch(self.ctx, self.reader, dns)

    @property
    def mapping(self) -> Mapping:
        return self.ctx.mapping

    @property
    def rm(self) -> ResourceMapping:
        return self.ctx.rm

    @property
    def directory(self) -> Directory:
        return self.ctx.directory

    @property
    def limits(self) -> Limits:
        return self.ctx.limits

    @property
    def refs(self) -> References:
        return self.ctx.refs

    @property
    def membership(self) -> Membership | None:
        return self.ctx.membership

    # ------------------------------------------------------------------ reads

    def get(
        self,
        ident: str,
        projection: Projection = DEFAULT_PROJECTION,
        *,
        lazy_members: bool = False,
    ) -> dict[str, Any]:
        """GET by id (RFC 7644 §3.4.1): one search, plus one per chunk of references the
        server did not dereference; ``lazy_members``: see :meth:`Reader.get`."""
        return self.reader.get(ident, projection, lazy_members=lazy_members)

    def list(
        self,
        filter_text: str | None,
        start_index: int = 1,
        count: int | None = None,
        projection: Projection = DEFAULT_PROJECTION,
        sort_by: str | None = None,
        descending: bool = False,
    ) -> ListResult:
        """A query (RFC 7644 §3.4.2): see :meth:`Reader.list`."""
        return self.reader.list(filter_text, start_index, count, projection, sort_by, descending)

    def can_sort(self) -> bool:
        """Whether the directory offers server-side sorting (read once per process)."""
        return self.reader.can_sort()

    # ------------------------------------------------------------------ writes

    def create(self, payload: dict[str, Any]) -> dict[str, Any]:
        """POST (RFC 7644 §3.3)."""
        return self.writer.create(payload)

    def replace(
        self,
        ident: str,
        payload: dict[str, Any],
        if_match: str | None = None,
        projection: Projection | None = DEFAULT_PROJECTION,
    ) -> dict[str, Any]:
        """PUT (RFC 7644 §3.5.1): attributes the client leaves out are removed."""
        return self.writer.replace(ident, payload, if_match, projection)

    def patch(
        self,
        ident: str,
        body: Any,
        if_match: str | None = None,
        projection: Projection | None = DEFAULT_PROJECTION,
        limits: PatchLimits = NO_LIMITS,
    ) -> dict[str, Any]:
        """PATCH (RFC 7644 §3.5.2): one modify to the DN this process saw for ``ident`` when
        the PATCH allows it (:mod:`~gateway.provisioning.fastpatch`), else
        :meth:`Writer.patch`."""
        done = self.fast.patch(ident, body, if_match, limits)
        if done is not None:
            return done
        return self.writer.patch(ident, body, if_match, projection, limits)

    def delete(self, ident: str, if_match: str | None = None) -> None:
        """DELETE (RFC 7644 §3.6): memberships first, then the entry."""
        self.writer.delete(ident, if_match)
