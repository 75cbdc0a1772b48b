"""The read side of a resource type's use cases: get by id, list with filter/sort/paging.

:class:`Reader` gets its resource type's :class:`~gateway.provisioning.context.ResourceContext`
at construction; the writes (:mod:`~gateway.provisioning.writes`) use its lookups too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gateway.directory import ldapfilter as lf
from gateway.directory.entry import Entry
from gateway.directory.sorting import SORT_REQUEST_OID, SortKey
from gateway.errors import InvalidValue, NotFound
from gateway.mapping import placement, search, translate
from gateway.mapping.unresolved import Unresolved
from gateway.provisioning.context import ResourceContext
from gateway.provisioning.errors import translating
from gateway.provisioning.references import Ref
from gateway.provisioning.reftypes import named_types
from gateway.scim import filter as scim_filter
from gateway.scim.projection import Projection, wants

DEFAULT_PROJECTION = Projection()


@dataclass(frozen=True, slots=True)
class ListResult:
    total: int
    start_index: int
    resources: list[dict[str, Any]]


class Reader:
    """Reads of one resource type; each is one search plus reference resolution."""

    def __init__(self, ctx: ResourceContext) -> None:
        self.ctx = ctx
        self.rm = ctx.rm
        self.rtype = ctx.rm.rtype
        # what find_with_refs reads and which types a PATCH may name: fixed per mapping
        self._patch_read = (*translate.read_attributes(self.rm), *ctx.back_link())
        self._patch_types = named_types(self.rm, writable=True)

    def get(
        self,
        ident: str,
        projection: Projection = DEFAULT_PROJECTION,
        *,
        lazy_members: bool = False,
    ) -> dict[str, Any]:
        """The resource with id ``ident``. ``lazy_members``: a group's ``members`` as a
        :class:`~gateway.provisioning.membership.MemberList`, whose items are made when read
        (a big group's full GET streams them), rather than a list."""
        if not self.rm.accepts_id(ident):  # before anything that may ask the directory
            raise NotFound(f"{self.ctx.name} {ident!r} not found")
        members = self.wants_members(projection)
        entry = self.find(ident, members=self._reads_member_values(members))
        return self._resources([entry], members=members, lazy=lazy_members)[0]

    def list(
        self,
        filter_text: str | None,
        start_index: int = 1,
        count: int | None = None,
        projection: Projection = DEFAULT_PROJECTION,
        sort_by: str | None = None,
        descending: bool = False,
    ) -> ListResult:
        """RFC 7644 §3.4.2: filter pushed down, 1-based ``startIndex``, at most ``count``.

        LDAP has no offsets, so the matching entries are paged through and counted (memory
        stays flat). A filtered query — Entra's ``userName eq`` — usually matches a handful, so
        they are read whole in that one search. An unfiltered list walks DNs only, then
        reads the requested window in one more search.
        """
        ldap_filter, active = self._filter(filter_text)
        where = placement.area(self.rm, active)
        start = max(1, start_index)
        wanted = self.ctx.limits.default_count if count is None else max(0, count)
        wanted = min(wanted, self.ctx.limits.max_results)
        sort: tuple[SortKey, ...] = ()
        if sort_by:
            sort = (search.sort_key(self.rm, sort_by, descending),)
        with translating(self.ctx.name):
            if sort and not self.can_sort():
                raise InvalidValue("this directory cannot sort results (no server-side sort)")
            two_phase = wanted > 0 and not (filter_text and filter_text.strip())
            with_members = self._reads_member_values(self.wants_members(projection))
            attrs = (
                translate.read_attributes(self.rm, members=self._member_values(with_members))
                if wanted and not two_phase
                else []
            )
            page: list[Entry] = []
            total = 0
            for entry in self.ctx.directory.search_paged(
                where.base,
                where.scope,
                ldap_filter,
                attrs,
                page_size=self.ctx.limits.page_size,
                sort=sort,
                deref=self._deref(members=with_members) if attrs else (),
            ):
                if placement.needs_filtering(self.rm) and not placement.contains(
                    self.rm, entry.dn, active
                ):
                    continue  # same class, elsewhere in the subtree searched (see placement)
                total += 1
                if start <= total < start + wanted:
                    page.append(entry)
            if two_phase and page:
                page = self._read_all([e.dn for e in page], members=with_members)
        resources = self._resources(page, members=self.wants_members(projection)) if page else []
        return ListResult(total, start, resources)

    def can_sort(self) -> bool:
        """Whether the directory offers server-side sorting (read once per process)."""
        with translating(self.ctx.name):
            return SORT_REQUEST_OID in self.ctx.directory.supported_controls()

    def _read_all(self, dns: list[str], *, members: bool = False) -> list[Entry]:
        """The entries at ``dns``, in that order, with everything a resource needs."""
        attrs = translate.read_attributes(self.rm, members=self._member_values(members))
        where = placement.area(self.rm)
        found: dict[str, Entry] = {}
        for i in range(0, len(dns), 200):
            chunk = dns[i : i + 200]
            entry_dn = self.ctx.mapping.directory.entry_dn  # without: kept by DN below
            at = tuple(lf.entry_at(d, entry_dn=entry_dn) for d in chunk)
            flt = lf.conjunction(self.rm.filter, lf.Or(at))
            deref = self._deref(members=members)
            for entry in self.ctx.directory.search(
                where.base, where.scope, flt, attrs, deref=deref
            ):
                found[placement.normalized(entry.dn)] = entry
        return [found[k] for k in map(placement.normalized, dns) if k in found]

    def _filter(self, filter_text: str | None) -> tuple[lf.LdapFilter, bool | None]:
        """The LDAP filter, and whether only enabled (True) / disabled (False) entries match
        (the ``move`` strategy turns ``active`` into a choice of base; see placement)."""
        if filter_text is None or not filter_text.strip():
            return lf.conjunction(self.rm.filter), None
        split = placement.split_active(self.rm, scim_filter.parse_filter(filter_text))
        if split.impossible:
            return lf.Nothing(), None
        if split.rest is None:
            return lf.conjunction(self.rm.filter), split.active
        with translating(self.ctx.name):
            pushed = search.to_ldap_filter(self.rm, split.rest, self._resolve_one)
        return lf.conjunction(self.rm.filter, pushed), split.active

    def _resolve_one(self, ident: str) -> str | None:
        ref = self.ctx.refs.by_ids([ident], named_types(self.rm)).get(ident)
        return ref.dn if ref else None

    def find(
        self, ident: str, *, members: bool, extra: Sequence[str] = (), links: bool = True
    ) -> Entry:
        """The entry with id ``ident``; ``links``: with its references dereferenced too
        (when the response will show them)."""
        if not self.rm.accepts_id(ident):
            raise NotFound(f"{self.ctx.name} {ident!r} not found")
        attrs = [
            *translate.read_attributes(self.rm, members=self._member_values(members)),
            *self.ctx.back_link(),
            *extra,
        ]
        flt = lf.conjunction(self.rm.filter, lf.Equal(self.rm.id_attribute, ident))
        where = placement.area(self.rm)
        with translating(self.ctx.name):
            found = self.ctx.directory.search(
                where.base,
                where.scope,
                flt,
                attrs,
                size_limit=2,
                deref=self._deref(members=members) if links else (),
            )
        if placement.needs_filtering(self.rm):
            found = [e for e in found if placement.contains(self.rm, e.dn)]
        if not found:
            raise NotFound(f"{self.ctx.name} {ident!r} not found")
        self.ctx.dns.remember(self.rm.name, ident, found[0].dn)
        return found[0]

    def find_with_refs(self, ident: str, ids: list[str]) -> tuple[Entry, dict[str, Ref]]:
        """The entry, and the resources a PATCH names (members, manager), in one search."""
        if not ids or placement.needs_filtering(self.rm):
            return self.find(ident, members=False), {}
        if not self.rm.accepts_id(ident):
            raise NotFound(f"{self.ctx.name} {ident!r} not found")
        with translating(self.ctx.name):
            entry, known = self.ctx.refs.entry_with_refs(
                self.rm, ident, self._patch_read, ids, self._patch_types
            )
        if entry is None:
            raise NotFound(f"{self.ctx.name} {ident!r} not found")
        self.ctx.dns.remember(self.rm.name, ident, entry.dn)
        return entry, known

    def as_resource(self, entry: Entry) -> dict[str, Any]:
        """The resource as the mapping sees it, references kept as read: their DNs stand in
        for the ids (:class:`~gateway.mapping.unresolved.Unresolved`), not looked up.

        Values still equal to what their defaults derive are left out, so they follow their
        sources through this update (translate._hide_derived); reads show them.
        """
        ids_by_dn: dict[str, tuple[str, str] | Unresolved] = {
            placement.normalized(d): Unresolved(d)
            for d in translate.reference_dns(self.rm, entry.attributes)
        }
        return translate.to_resource(
            self.rm, entry.dn, entry.attributes, ids_by_dn, hide_derived=True
        )

    def _reads_member_values(self, members_wanted: bool) -> bool:
        """Read a group's member attribute with it? Only if members are wanted and either the
        server dereferences them in the same search, or there is no back-link to search
        instead (uniqueMember, memberUid: see Membership.members_of)."""
        return (
            members_wanted
            and self.rm.members is not None
            and self.ctx.membership is not None
            and self.ctx.membership.reads_values()
        )

    def _member_values(self, members: bool) -> bool:
        """Request the member attribute itself? Not when the dereference control brings
        each member's DN with its id (a 100,000-member group: 10 MB less to read and keep);
        if the server then answers nothing, ``Membership.member_list`` reads the values."""
        return members and not self._members_dereferenced()

    def _members_dereferenced(self) -> bool:
        membership = self.ctx.membership
        return (
            self.rm.members is not None
            and membership is not None
            and membership.deref_spec() is not None
        )

    def _deref(self, *, members: bool) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """What a read asks the server to dereference: references (memberOf, manager), and
        a group's members when they are read with it."""
        specs = self.ctx.refs.deref_specs(self.rm)
        if members and self.rm.members is not None and self.ctx.membership is not None:
            member = self.ctx.membership.deref_spec()
            if member is not None:
                specs = (*specs, member)
        return specs

    def resource_of(self, entry: Entry) -> dict[str, Any]:
        """The resource for an entry read back by a write (no members): as a GET shows it."""
        return self._resources([entry], members=False)[0]

    def _resources(
        self, entries: list[Entry], *, members: bool, lazy: bool = False
    ) -> list[dict[str, Any]]:
        self.ctx.dns.remember_all(
            self.rm.name, [(e.first(self.rm.id_attribute), e.dn) for e in entries]
        )
        found, pending = self.ctx.refs.from_links(self.rm, entries)
        if pending:  # not dereferenced by the server: one search per chunk of DNs
            with translating(self.ctx.name):
                found.update(self.ctx.refs.by_dns(pending, named_types(self.rm, members=False)))
        ids_by_dn = {k: (r.type, r.id) for k, r in found.items()}
        out = []
        values_read = not (members and self._members_dereferenced())
        for entry in entries:
            resource = translate.to_resource(self.rm, entry.dn, entry.attributes, ids_by_dn)
            if members and self.ctx.membership is not None and self.rm.members is not None:
                stored = entry.get(self.rm.members.ldap) if values_read else None
                with translating(self.ctx.name):
                    listed = self.ctx.membership.member_list(entry.dn, stored, entry)
                resource["members"] = listed if lazy else list(listed)
            out.append(resource)
        return out

    def wants_members(self, projection: Projection) -> bool:
        return self.rm.members is not None and wants(self.rtype, projection, "members")
