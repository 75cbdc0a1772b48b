"""The write side of a resource type's use cases: create, replace, patch, delete.

Each is a short, fixed sequence of LDAP operations (see docs/operations.md for the list):
creates are one add with a post-read control; updates one read and one modify (plus a
rename when the naming attribute changes); deletes fix memberships first. The ids a request
names are resolved through the :class:`~gateway.provisioning.resolver.Resolver` made for it.
"""

from __future__ import annotations

import logging
from typing import Any

from gateway.directory import dn as dnlib
from gateway.directory import ldapfilter as lf
from gateway.directory.entry import Entry, Modification
from gateway.errors import EntryExists, InvalidValue, Uniqueness
from gateway.mapping import changes, placement, translate
from gateway.mapping.model import AttributeRule, ResourceMapping
from gateway.provisioning.allocation import Allocator
from gateway.provisioning.context import ResourceContext
from gateway.provisioning.errors import translating
from gateway.provisioning.membership import member_item
from gateway.provisioning.passwords import set_on_new_entry, take_password
from gateway.provisioning.reads import DEFAULT_PROJECTION, Reader
from gateway.provisioning.references import Ref
from gateway.provisioning.reftypes import named_types
from gateway.provisioning.resolver import Resolver
from gateway.scim import etag
from gateway.scim.limits import NO_LIMITS, PatchLimits
from gateway.scim.patch import (
    PatchOperation,
    ValueDelta,
    apply_deltas,
    apply_patch,
    deltas_only,
    mentioned_ids,
    normalize_resource,
    parse_patch_request,
)
from gateway.scim.projection import Projection

# The use cases log under the facade's name, as they did before the split: operators
# (and LOG_LEVEL per logger) filter on it.
log = logging.getLogger("gateway.provisioning.service")


class Writer:
    """Writes of one resource type, using ``reader`` for the entry they change."""

    def __init__(self, ctx: ResourceContext, reader: Reader) -> None:
        self.ctx = ctx
        self.reader = reader
        self.rm = ctx.rm
        self.rtype = ctx.rm.rtype
        self.allocator = Allocator(ctx.directory)
        # SCIM attributes a PATCH may name other resources' ids in (members, manager)
        self._ref_names = frozenset({"members"} if self.rm.members else set()) | frozenset(
            r.scim.attr.attr.lower() for r in self.rm.attributes if r.reference and r.writable
        )
        # where the writable references' ids sit (manager): one slot of a user's 20 rules
        self._ref_slots = tuple(
            translate.slot_of(r, self.rm) for r in self.rm.attributes if r.reference and r.writable
        )
        self._write_types = named_types(self.rm, members=False, writable=True)
        self._read_types = named_types(self.rm, members=False)
        # attributes a PATCH records as value deltas instead of editing the resource
        self._deltas = frozenset({"members"}) if self.rm.members is not None else frozenset()
        # equal resources make equal images (translate.images_follow_resource): per mapping
        self._images_follow = translate.images_follow_resource(self.rm)
        # may a PATCH of member deltas alone skip the resource it would leave as it was?
        # (see _patch_deltas: images that follow the resource, none showing a password)
        self._deltas_alone = (
            self.rm.members is not None
            and self._images_follow
            and all(_top_key(r, self.rm) != "password" for r in self.rm.attributes)
        )
        # what a write reads back for the answer's id and meta (post-read control)
        self._read_back = (self.rm.id_attribute, *translate.meta_attributes(self.rm))

    def create(self, payload: dict[str, Any]) -> dict[str, Any]:
        """POST (RFC 7644 §3.3): one add, its result read back with it (post-read control);
        members and references are looked up first, so an unknown id writes nothing."""
        resource = normalize_resource(payload, self.rtype)
        password = take_password(resource)
        self._check_unmapped(resource)
        resolver = Resolver(self.ctx.refs)
        with translating(self.ctx.name):
            dns_by_id, ids_by_dn = self._outgoing_refs(resource, resolver)
            image = translate.to_image(self.rm, resource, dns_by_id)
            attrs = changes.add_attributes(self.rm, image)
            attrs.update(self.allocator.allocate_all(self.rm.derived))  # uidNumber, gidNumber
            member_refs = []
            if self.rm.members is not None and self.ctx.membership is not None:
                member_refs = list(
                    self.ctx.membership.resolve(resource.get("members") or [], resolver).values()
                )
                attrs[self.rm.members.ldap.lower()] = self.ctx.membership.values_for(member_refs)
            read_back = [self.rm.id_attribute, *translate.meta_attributes(self.rm)]
            with translating(self.rm):  # a refused value names its mapping rule (errors.py)
                entry = self.ctx.directory.add(image.dn, attrs, read_back=read_back)
            self.ctx.dns.remember(self.rm.name, entry.first(self.rm.id_attribute), entry.dn)
            if password is not None:
                set_on_new_entry(self.ctx.directory, entry.dn, password)
            if member_refs and self.ctx.membership is not None:
                self.ctx.membership.settle(entry.dn, member_refs)
        out = translate.to_resource(self.rm, entry.dn, entry.attributes, ids_by_dn)
        if self.rm.members is not None:
            out["members"] = [member_item(r) for r in member_refs]
        return out

    def replace(
        self,
        ident: str,
        payload: dict[str, Any],
        if_match: str | None = None,
        projection: Projection | None = DEFAULT_PROJECTION,
    ) -> dict[str, Any]:
        """PUT (RFC 7644 §3.5.1): attributes the client leaves out are removed."""
        new = normalize_resource(payload, self.rtype)
        password = take_password(new)
        self._check_unmapped(new)
        entry = self.reader.find(ident, members=False)
        old = self.reader.as_resource(entry)
        csn = etag.require(if_match, old["meta"].get("version"))
        if password is not None:
            entry, csn = self._password_first(ident, entry, password)
        deltas: dict[str, ValueDelta]
        if self.rm.members is not None:
            delta = ValueDelta(replace=tuple(new.get("members") or ()))
            deltas = {"members": delta}
        else:
            deltas = {}
        return self._update(entry, old, new, deltas, Resolver(self.ctx.refs), csn, projection)

    def patch(
        self,
        ident: str,
        body: Any,
        if_match: str | None = None,
        projection: Projection | None = DEFAULT_PROJECTION,
        limits: PatchLimits = NO_LIMITS,
    ) -> dict[str, Any]:
        """PATCH (RFC 7644 §3.5.2): one read, the ops applied in memory, one modify.

        ``limits``: caps checked before anything is read, and a deadline checked between
        operations and once more before the first write (docs/operations.md).
        """
        operations = parse_patch_request(body, limits)
        entry, known = self.reader.find_with_refs(ident, mentioned_ids(operations, self._ref_names))
        if (
            projection is None
            and self._deltas_alone
            and deltas_only(operations, self.rtype, self._deltas)
        ):
            return self._patch_deltas(entry, operations, known, if_match, limits)
        old = self.reader.as_resource(entry)
        csn = etag.require(if_match, old["meta"].get("version"))
        deltas = self._deltas
        result = apply_patch(old, operations, self.rtype, delta_attributes=deltas, limits=limits)
        password = take_password(result.resource)
        if password is not None:
            entry, csn = self._password_first(ident, entry, password)
        self._check_unmapped(result.resource, before=old)
        resolver = Resolver(self.ctx.refs, known)  # the ids found with the entry cost nothing
        return self._update(
            entry, old, result.resource, result.deltas, resolver, csn, projection, limits
        )

    def _patch_deltas(
        self,
        entry: Entry,
        operations: list[PatchOperation],
        known: dict[str, Ref],
        if_match: str | None,
        limits: PatchLimits,
    ) -> dict[str, Any]:
        """:meth:`patch` of member deltas alone, answered without a body (Entra's 204):
        without the resource as read (``as_resource``), which such a PATCH leaves as it was.

        Equal to the general path, step for step: the version checked is what that
        resource's ``meta.version`` holds (``translate.version``, left out when empty);
        ``apply_deltas`` makes ``apply_patch``'s deltas with the same errors in the same
        order and ``apply_patch`` would hand the resource back unchanged, so no password is
        taken from it (the mapping shows none: ``_deltas_alone``), the unmapped check
        compares it with itself (nothing new), and ``_update`` sees ``new == old`` with
        images that follow the resource: the same modify, settle and answer. Only the
        conversion warnings of a read (a stored value that cannot be shown) are not logged,
        as no value is shown. tests/e2e/test_group_patch_deltas.py holds the two paths to
        the same answers and LDAP requests (tests/unit/scim/test_patch_deltas_only.py, the
        engine's part).
        """
        version = translate.version(self.rm, entry.attributes) or None
        csn = etag.require(if_match, version)
        deltas = apply_deltas(operations, self.rtype, delta_attributes=self._deltas, limits=limits)
        resolver = Resolver(self.ctx.refs, known)  # the ids found with the entry cost nothing
        return self._update(entry, None, None, deltas, resolver, csn, None, limits)

    def delete(self, ident: str, if_match: str | None = None) -> None:
        """Memberships first, then the entry: if the delete fails, a retry completes it.

        Then groups that gained the entry meanwhile (a member add that had found it just
        before) are swept, so no group keeps a value naming nothing (Membership.settle).
        """
        entry = self.reader.find(ident, members=False, links=False)
        csn = etag.require(if_match, translate.version(self.rm, entry.attributes))
        with translating(self.ctx.name):
            member = self.ctx.is_member_type()
            if member and self.ctx.membership is not None:
                groups = self.ctx.membership.groups_containing(entry.dn, entry)
                self.ctx.membership.remove_everywhere(entry.dn, groups)
            self.ctx.dns.forget(self.rm.name, ident)
            self.ctx.directory.delete(entry.dn, assertion=_unchanged(self.rm, csn))
            if member and self.ctx.membership is not None:
                self.ctx.membership.sweep(entry.dn)

    def _update(
        self,
        entry: Entry,
        old: dict[str, Any] | None,
        new: dict[str, Any] | None,
        deltas: dict[str, Any],
        resolver: Resolver,
        csn: str | None = None,
        projection: Projection | None = DEFAULT_PROJECTION,
        limits: PatchLimits = NO_LIMITS,
    ) -> dict[str, Any]:
        """Rename (if the name changed), then one modify; the first write asserts ``csn``.

        ``projection`` None means no response body will be sent: the answer is only the id
        and ``meta`` (its version, for the ETag), and members are not read.
        ``resolver`` answers the ids this request looks up (the members, the manager).
        ``old`` and ``new`` None: a PATCH of deltas alone left the resource as it was
        (:meth:`_patch_deltas`, only where images follow the resource).
        """
        with translating(self.ctx.name):
            # Equal resources make equal images when nothing in an image comes from the stored
            # entry (translate.images_follow_resource): no images, no diff, no rename. That is
            # an Entra group PATCH, whose operations are all member deltas.
            same = (new is None or new == old) and self._images_follow
            ids_by_dn: dict[str, tuple[str, str]] | None = None
            change: changes.ChangeSet | None = None
            mods: list[Modification] = []
            if not same:
                assert old is not None and new is not None  # None only where images follow
                dns_by_id, ids_by_dn = self._refs_for(entry, new, resolver)
                old_image = translate.to_image(
                    self.rm, old, dns_by_id, current_dn=entry.dn, stored=entry.attributes
                )
                new_image = translate.to_image(self.rm, new, dns_by_id, current_dn=entry.dn)
                change = changes.diff(self.rm, old_image, new_image)
                mods = list(change.modifications)
            elif projection is not None:  # a body will be sent: its references' ids
                assert new is not None  # None only without a body (_patch_deltas)
                ids_by_dn = self._refs_for(entry, new, resolver)[1]
            member_delta = deltas.get("members")
            added: tuple[Ref, ...] = ()
            if member_delta is not None and self.ctx.membership is not None:
                member_write = self.ctx.membership.delta_modifications(member_delta, resolver)
                mods += member_write.mods
                added = member_write.added
                own = placement.normalized(entry.dn) if added else ""
                if any(placement.normalized(r.dn) == own for r in added):
                    raise InvalidValue(f"members: a {self.ctx.name} cannot be a member of itself")
            limits.check_deadline("before writing to the directory")  # past it: write nothing
            dn = entry.dn
            # groups: no assertion, slapd's memberof overlay ignores writes that carry one
            assertion = _unchanged(self.rm, csn) if self.rm.members is None else None
            if change is not None and (change.new_rdn or change.new_parent):
                dn = self._rename(entry, change.new_rdn, change.new_parent, assertion)
                self.ctx.dns.remember(self.rm.name, entry.first(self.rm.id_attribute), dn)
                assertion = None
            try:
                after = self._modify(dn, mods, list(self._read_back), assertion)
            except Exception:
                if dn != entry.dn:
                    self._undo_rename(entry.dn, dn)
                raise
            if added and self.ctx.membership is not None:
                self.ctx.membership.settle(dn, added)
        attributes = dict(entry.attributes)
        if change is not None:
            for name in set(old_image.attributes) | set(new_image.attributes):
                if name not in change.kept:
                    attributes[name] = new_image.attributes.get(name, ())
        if after is not None:
            attributes.update(after.attributes)
        if projection is None or ids_by_dn is None:  # no body: what its headers need (ETag)
            return translate.identity(self.rm, attributes)
        out = translate.to_resource(self.rm, dn, attributes, ids_by_dn)
        if self.reader.wants_members(projection) and self.ctx.membership:
            with translating(self.ctx.name):
                out["members"] = self.ctx.membership.read_members(dn)
        return out

    def _modify(
        self, dn: str, mods: list, read_back: list[str], assertion: lf.LdapFilter | None
    ) -> Entry | None:
        if not mods:
            return None
        with translating(self.rm):  # a refused value names its mapping rule (errors.py)
            if self.rm.members is not None and self.ctx.membership is not None:
                # If-Match was checked against the version read (see Membership.modify)
                return self.ctx.membership.modify(dn, mods, read_back=read_back)
            return self.ctx.directory.modify(dn, mods, read_back=read_back, assertion=assertion)

    def _rename(
        self,
        entry: Entry,
        new_rdn: str | None,
        new_parent: str | None,
        assertion: lf.LdapFilter | None,
    ) -> str:
        rdn = new_rdn or dnlib.split_rdn(entry.dn)[0]
        try:
            new_dn = self.ctx.directory.rename(
                entry.dn, rdn, new_superior=new_parent, assertion=assertion
            )
        except EntryExists as err:
            naming = self.rm.rdn_rule.scim_text
            raise Uniqueness(f"a {self.ctx.name} with that {naming} already exists") from err
        if self.ctx.is_member_type() and self.ctx.membership is not None:
            groups = self.ctx.membership.groups_containing(entry.dn, entry)
            self.ctx.membership.rename_everywhere(entry.dn, new_dn, groups)
            self.ctx.membership.sweep(entry.dn, new_dn)
        return new_dn

    def _password_first(self, ident: str, entry: Entry, password: str) -> tuple[Entry, None]:
        """Set the password before any other change, so a refused one changes nothing; then
        read the entry again (the write changed its version; If-Match was checked before)."""
        with translating(self.ctx.name):
            self.ctx.directory.set_password(entry.dn, password)
        return self.reader.find(ident, members=False), None

    def _undo_rename(self, original: str, current: str) -> None:
        """Best effort: a rename whose modify failed is reverted so the request changes nothing."""
        try:
            rdn, parent = dnlib.split_rdn(original)
            self.ctx.directory.rename(current, rdn, new_superior=parent)
        except Exception:
            log.exception("could not revert the rename of %r to %r", original, current)

    def _refs_for(
        self, entry: Entry, new: dict[str, Any], resolver: Resolver
    ) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
        """id→DN for the write, id-by-DN for the response; references kept as they were
        (:class:`~gateway.mapping.unresolved.Unresolved`) are written back without a lookup."""
        wanted = self._reference_ids(new)
        found = resolver.by_ids(wanted, self._write_types) if wanted else {}
        dns_by_id = {i: r.dn for i, r in found.items()}
        ids_by_dn = {placement.normalized(r.dn): (r.type, r.id) for r in found.values()}
        linked, pending = self.ctx.refs.from_links(self.rm, [entry])
        ids_by_dn.update({k: (r.type, r.id) for k, r in linked.items()})
        if pending:  # references the server did not dereference with the read
            resolved = self.ctx.refs.by_dns(pending, self._read_types)
            ids_by_dn.update({k: (r.type, r.id) for k, r in resolved.items()})
        return dns_by_id, ids_by_dn

    def _outgoing_refs(
        self, resource: dict[str, Any], resolver: Resolver
    ) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
        ids = self._reference_ids(resource)
        found = resolver.by_ids(ids, self._write_types) if ids else {}
        return {i: r.dn for i, r in found.items()}, {
            placement.normalized(r.dn): (r.type, r.id) for r in found.values()
        }

    def _reference_ids(self, resource: dict[str, Any]) -> list[str]:
        """The ids a resource's writable references name (stand-ins are not ids: left out)."""
        ids: list[str] = []
        for slot in self._ref_slots:
            value = translate.scim_value(resource, slot)
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, str) and v:
                    ids.append(v)
        return ids

    def _check_unmapped(
        self, resource: dict[str, Any], *, before: dict[str, Any] | None = None
    ) -> None:
        """Refuse (``unmapped: reject``) or log at DEBUG (``ignore``) what no rule stores;
        ``before``: the resource a PATCH started from, whose unmapped values it keeps.

        With ``ignore`` and DEBUG off for this logger the names would go nowhere (the
        ``log.debug`` below drops its record), so they are not worked out: the walk over
        the resource was a tenth of a create's mapping work. Refused or logged, everything
        is as when they were (tests/e2e/test_unmapped_values.py)."""
        if self.rm.unmapped != "reject" and not log.isEnabledFor(logging.DEBUG):
            return
        names = set(translate.unmapped_attributes(self.rm, resource))
        if names and before is not None:
            names -= set(translate.unmapped_attributes(self.rm, before))
        if not names:
            return
        if self.rm.unmapped == "reject":
            raise InvalidValue(f"not stored by this gateway's mapping: {', '.join(sorted(names))}")
        log.debug("%s: ignoring unmapped attributes %s", self.ctx.name, sorted(names))


def _top_key(rule: AttributeRule, rm: ResourceMapping) -> str:
    """The resource's top-level key a rule's value sits under (``name`` for name.givenName)."""
    slot = translate.slot_of(rule, rm)
    return slot.container if slot.container is not None else slot.attr


def _unchanged(rm: ResourceMapping, csn: str | None) -> lf.LdapFilter | None:
    """The assertion (RFC 4528) that makes a write conditional on the version the client saw
    (on the directory's version attribute: mapping ``directory.version_attribute``)."""
    return rm.directory.unchanged(csn)
