"""Group membership in LDAP: value-level writes, cheap reads, the empty-group placeholder.

Member changes are LDAP value adds and deletes on the member attribute — the member list
is never read or rewritten to change one value. ``groupOfNames`` must keep one ``member``:
the mapping's placeholder DN is added when the last real member leaves (the directory says
so with objectClassViolation) and removed when a real member arrives. SCIM never shows it.
Adding a present member or removing an absent one succeeds (see ``Membership.modify``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

from gateway.directory import dn as dnlib
from gateway.directory import ldapfilter as lf
from gateway.directory.entry import Entry, Modification, ModOp
from gateway.directory.messages import DEREF_OID
from gateway.directory.operations import Directory
from gateway.errors import InvalidValue, NoSuchAttribute, ObjectClassViolation, ValueExists
from gateway.mapping import placement
from gateway.mapping.model import Mapping, ResourceMapping
from gateway.provisioning.references import Ref, References
from gateway.provisioning.reftypes import named_types
from gateway.provisioning.resolver import Resolver
from gateway.scim.patch import ValueDelta
from gateway.scim.registry import BUILTIN

log = logging.getLogger(__name__)

_SETTLE_ROUNDS = 3  # a member renamed again while being corrected is checked again


@dataclass(frozen=True, slots=True)
class MemberWrite:
    """The member modifications of one write, and the members it adds (to :meth:`settle`)."""

    mods: tuple[Modification, ...]
    added: tuple[Ref, ...]


class Membership:
    def __init__(
        self, directory: Directory, refs: References, mapping: Mapping, group: ResourceMapping
    ) -> None:
        assert group.members is not None
        self.directory = directory
        self.refs = refs
        self.mapping = mapping
        self.group = group
        self.rule = group.members
        self.types = named_types(group, rules=False)  # what a member may be
        # ADD P, DELETE P for the mapping's placeholder P (see _placeholder_out): the same
        # two (frozen) modifications for every member add, made once
        placeholder = (self.rule.placeholder,) if self.rule.placeholder else ()
        self._placeholder_pair = (
            (
                Modification(self.rule.ldap, ModOp.ADD, placeholder),
                Modification(self.rule.ldap, ModOp.DELETE, placeholder),
            )
            if placeholder
            else ()
        )

    # ------------------------------------------------------------------ reads

    def deref_spec(self) -> tuple[str, tuple[str, ...]] | None:
        """The dereference spec that brings members' ids with the group in the same search,
        when the directory offers the control (slapo-deref); None otherwise."""
        spec = self.refs.member_deref_spec(self.group)
        if spec is None or DEREF_OID not in self.directory.supported_controls():
            return None
        return spec

    def reads_values(self) -> bool:
        """Whether listing members needs the group's member values read with the group:
        yes with the dereference control, or when there is no back-link to search."""
        return self.deref_spec() is not None or not self.rule.member_of

    def members_of(
        self, group_dn: str, stored: Sequence[str] | None, entry: Entry | None = None
    ) -> list[dict[str, Any]]:
        """The SCIM ``members`` of a group (see :meth:`member_list`), as a list."""
        return list(self.member_list(group_dn, stored, entry))

    def member_list(
        self, group_dn: str, stored: Sequence[str] | None, entry: Entry | None = None
    ) -> MemberList:
        """The SCIM ``members`` of a group; ``stored`` = its member values if already read
        (None: not read, because the dereference control was to bring them),
        ``entry`` = the group as read (with dereferenced members, see :meth:`deref_spec`).

        With dereferenced members: nothing more to ask, whatever the size — and what is
        shown is what ``member`` holds, not what a back-link says. Else, with a ``member_of``
        back-link: one paged search. Else the member values are resolved in chunks (DNs:
        References.by_dns; names, as in posixGroup's memberUid: References.by_rdn_values).
        """
        refs: list[Ref] = []
        linked = (
            self.refs.linked_refs(entry, self.rule.ldap, self.types) if entry is not None else None
        )
        if linked is not None:
            refs, pending = linked
            if pending:
                refs += self.refs.by_dns(pending, self.types).values()
        elif self.rule.member_of:
            refs = self.refs.holding(self.rule.member_of, group_dn, self.types)
        elif stored is None:
            # the control was asked for and answered nothing (not on this database): the
            # member values, read now (one more search), then resolved as without it
            return self.member_list(group_dn, self._stored(group_dn))
        elif self.rule.by_dn:
            placeholder = placement.normalized(self.rule.placeholder or "")
            values = [v for v in stored or () if placement.normalized(v) != placeholder]
            refs = list(self.refs.by_dns(values, self.types).values())
        else:
            placeholder = (self.rule.placeholder or "").lower()
            values = [v for v in stored or () if v.lower() != placeholder]
            refs = list(self.refs.by_rdn_values(values, self.types).values())
        return MemberList(refs)

    def _stored(self, group_dn: str) -> tuple[str, ...]:
        """The group's member values, read without dereferencing them."""
        found = self.directory.search(group_dn, "base", lf.MATCH_ALL, [self.rule.ldap])
        return found[0].get(self.rule.ldap) if found else ()

    def read_members(self, group_dn: str) -> list[dict[str, Any]]:
        """The SCIM ``members`` of the group at ``group_dn``, read now (after a write)."""
        spec = self.deref_spec()
        if spec is None and self.rule.member_of:
            return self.members_of(group_dn, None)
        found = self.directory.search(
            group_dn, "base", lf.MATCH_ALL, [self.rule.ldap], deref=(spec,) if spec else ()
        )
        entry = found[0] if found else None
        return self.members_of(group_dn, entry.get(self.rule.ldap) if entry else (), entry)

    def value_of(self, member_dn: str) -> str:
        """The member attribute value naming the entry at ``member_dn`` (its DN, or its uid)."""
        return member_dn if self.rule.by_dn else dnlib.rdn_value(member_dn)

    # ------------------------------------------------------------------ writes

    def resolve(self, values: Iterable[Any], resolver: Resolver) -> dict[str, Ref]:
        """Member ids → Refs; any unknown id is a 400 naming it, before anything is written."""
        ids = [_member_id(v) for v in values]
        found = resolver.by_ids(ids, self.types)
        missing = [i for i in ids if i not in found]
        if missing:
            shown = ", ".join(repr(m) for m in missing[:5])
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            raise InvalidValue(f"members: no User or Group with id {shown}{more}")
        return found

    def values_for(self, refs: Sequence[Ref]) -> list[str]:
        """Member attribute values for a new (or fully replaced) group: DNs, or the placeholder."""
        values = [self.value_of(ref.dn) for ref in refs]
        if not values and self.rule.placeholder:
            return [self.rule.placeholder]
        return values

    def delta_modifications(self, delta: ValueDelta, resolver: Resolver) -> MemberWrite:
        """LDAP value-level changes for a PATCH's member operations (replace: the whole list)."""
        attr = self.rule.ldap
        if delta.replace is not None:
            removed = {_member_id(v) for v in delta.remove}
            ids = [
                i
                for i in dict.fromkeys(_member_id(v) for v in [*delta.replace, *delta.add])
                if i not in removed
            ]
            refs = list(self.resolve(ids, resolver).values())
            values = tuple(self.values_for(refs))
            return MemberWrite((Modification(attr, ModOp.REPLACE, values),), tuple(refs))
        mods: list[Modification] = []
        added: tuple[Ref, ...] = ()
        if delta.add:
            added = tuple(self.resolve(delta.add, resolver).values())
            mods.append(Modification(attr, ModOp.ADD, tuple(self.value_of(r.dn) for r in added)))
        if delta.remove:
            # An id that resolves to nothing cannot be a member: removing it is already done.
            found = resolver.by_ids([_member_id(v) for v in delta.remove], self.types)
            if found:
                gone = tuple(self.value_of(r.dn) for r in found.values())
                mods.append(Modification(attr, ModOp.DELETE, gone))
        return MemberWrite(tuple(mods), added)

    def modify(
        self, group_dn: str, mods: list[Modification], *, read_back: Sequence[str] = ()
    ) -> Entry | None:
        """Apply member adds/deletes (and any other ``mods``), in one modify usually.

        A directory without the permissive-modify control (389 DS) refuses to add a value the
        group already holds (attributeOrValueExists): the values already there are then
        left out and the rest sent again — already a member is success.
        """
        try:
            return self._write(group_dn, mods, read_back)
        except ValueExists:
            pass
        log.debug("group %r: no permissive modify; leaving out members already there", group_dn)
        mods = self._without_present(group_dn, mods)
        return self._write(group_dn, mods, read_back) if mods else None

    def _without_present(self, group_dn: str, mods: list[Modification]) -> list[Modification]:
        """``mods`` without the member values the group holds now (one base search each)."""
        attr = self.rule.ldap.lower()
        out: list[Modification] = []
        for mod in mods:
            if mod.attr.lower() == attr and mod.op is ModOp.ADD:
                values = tuple(v for v in mod.values if not self._holds(group_dn, v))
                if values:
                    out.append(Modification(mod.attr, mod.op, values))
            else:
                out.append(mod)
        return out

    def _holds(self, group_dn: str, value: str) -> bool:
        flt = lf.Equal(self.rule.ldap, value)
        return bool(self.directory.search(group_dn, "base", flt, ["1.1"]))

    def _write(
        self, group_dn: str, mods: list[Modification], read_back: Sequence[str]
    ) -> Entry | None:
        """Adds go with ``ADD placeholder, DELETE placeholder`` under permissive modify: one
        write that empties the placeholder out whether or not the group held it. Deletes go
        plain first (the cheap write slapd does in a few ms even on a 100,000-member group);
        if a member to delete is already gone (noSuchAttribute) the second try is written to
        succeed whatever the current values (see :meth:`_idempotent`); if it would leave no
        member (objectClassViolation), the placeholder is added in the same modify.

        No assertion (RFC 4528) is ever sent with a group write: slapd's memberof overlay
        copies the operation, controls included, into its own modifies of each member entry,
        so an assertion about the group is evaluated on every member — ``(!(member=P))`` is
        false on a nested *empty* group, and that member silently got no ``memberOf``.
        If-Match on groups is therefore checked against the version just read.
        """
        first = [*mods, *self._placeholder_out(mods)]
        # the control, unless the mapping says the server ignores it (directory.permissive_modify)
        permissive = self.mapping.directory.permissive_modify
        try:
            return self.directory.modify(
                group_dn, first, read_back=read_back, permissive=permissive
            )
        except (NoSuchAttribute, ObjectClassViolation):
            pass
        safe = self._idempotent(mods)
        try:
            return self.directory.modify(group_dn, safe, read_back=read_back, permissive=permissive)
        except ObjectClassViolation:
            if not self.rule.placeholder:
                raise
        log.debug("group %r would be empty: keeping the placeholder member", group_dn)
        safe.append(Modification(self.rule.ldap, ModOp.ADD, (self.rule.placeholder,)))
        return self.directory.modify(group_dn, safe, read_back=read_back, permissive=permissive)

    def _placeholder_out(self, mods: list[Modification]) -> list[Modification]:
        """``ADD P, DELETE P`` when members are added: P is gone afterwards, present or not
        before (a lone ``DELETE P`` of an absent P trips an OpenLDAP permissive-modify bug)."""
        if not self._placeholder_pair:
            return []
        attr = self.rule.ldap.lower()
        adds = any(m.attr.lower() == attr and m.op is ModOp.ADD for m in mods)
        return list(self._placeholder_pair) if adds else []

    def _idempotent(self, mods: list[Modification]) -> list[Modification]:
        """``mods`` rewritten to succeed whatever the group holds now (see :meth:`modify`)."""
        attr = self.rule.ldap.lower()
        out: list[Modification] = []
        for mod in mods:
            if mod.attr.lower() == attr and mod.op is ModOp.DELETE:
                out += [Modification(mod.attr, ModOp.ADD, mod.values), mod]
            else:
                out.append(mod)
        return [*out, *self._placeholder_out(mods)]

    def settle(self, group_dn: str, written: Sequence[Ref]) -> None:
        """After a write that added ``written``: make sure each value still names its entry.

        Finding a member and writing its value are two LDAP operations; a delete or rename
        of that member may land in between, and slapd accepts a value that names nothing
        (the next entry created with that name would inherit the membership). So the ids
        are looked up again after the write. A member deleted meanwhile is taken out (as if
        the delete came after the add, which also removes memberships); a member renamed
        meanwhile gets its new value and loses the old one (as the rename would have done).
        The delete and rename paths check the other order (see :meth:`sweep`): whichever
        write lands last sees the other's result, so no value is left naming nothing.
        """
        pending = list(written)
        for _ in range(_SETTLE_ROUNDS):
            if not pending:
                return
            now = self.refs.by_ids([r.id for r in pending], self.types)  # as it is now
            stale = [r for r in pending if not self._same(now.get(r.id), r)]
            if not stale:
                return
            moved = [now[r.id] for r in stale if r.id in now]
            log.info(
                "group %r: %d member value(s) named entries deleted or renamed meanwhile; "
                "correcting",
                group_dn,
                len(stale),
            )
            mods = []
            if moved:
                values = tuple(self.value_of(r.dn) for r in moved)
                mods.append(Modification(self.rule.ldap, ModOp.ADD, values))
            gone = tuple(dict.fromkeys(self.value_of(r.dn) for r in stale))
            mods.append(Modification(self.rule.ldap, ModOp.DELETE, gone))
            self.modify(group_dn, mods)
            pending = moved
        log.warning(
            "group %r: members kept changing while being added; last check skipped", group_dn
        )

    def sweep(self, old_dn: str, new_dn: str | None = None) -> None:
        """After a delete (or rename to ``new_dn``) of a member: values still naming
        ``old_dn`` were added meanwhile by a write that had found it just before; remove
        (or re-point) them. The other order is :meth:`settle`'s."""
        if new_dn is not None and self._key(self.value_of(old_dn)) == self._key(
            self.value_of(new_dn)
        ):
            return
        late = self.groups_containing(old_dn, None)
        if not late:
            return
        log.info("%d group(s) gained %r while it was being changed; correcting", len(late), old_dn)
        if new_dn is None:
            self.remove_everywhere(old_dn, late)
        else:
            self.rename_everywhere(old_dn, new_dn, late)

    def _same(self, now: Ref | None, written: Ref) -> bool:
        """Does the value written for ``written`` still name the entry found ``now``?
        (The same DN text names it alike: the keys are functions of the DN; settle's
        usual case, checked first.)"""
        if now is None:
            return False
        if now.dn == written.dn:
            return True
        return self._key(self.value_of(now.dn)) == self._key(self.value_of(written.dn))

    def _key(self, value: str) -> str:
        return placement.normalized(value) if self.rule.by_dn else value.casefold()

    def remove_everywhere(self, member_dn: str, group_dns: Iterable[str]) -> None:
        """Take a deleted entry out of every group it was in (refint cannot empty a group)."""
        for group_dn in group_dns:
            value = self.value_of(member_dn)
            self.modify(group_dn, [Modification(self.rule.ldap, ModOp.DELETE, (value,))])

    def rename_everywhere(self, old_dn: str, new_dn: str, group_dns: Iterable[str]) -> None:
        """Point memberships at a renamed entry now, instead of whenever refint gets to it."""
        if self.value_of(old_dn) == self.value_of(new_dn):
            return  # moved, not renamed, and the groups hold names: nothing to change
        for group_dn in group_dns:
            self.modify(
                group_dn,
                [
                    Modification(self.rule.ldap, ModOp.ADD, (self.value_of(new_dn),)),
                    Modification(self.rule.ldap, ModOp.DELETE, (self.value_of(old_dn),)),
                ],
            )

    def groups_containing(self, member_dn: str, entry: Entry | None) -> list[str]:
        """DNs of the groups ``member_dn`` belongs to: from its back-link, else one search.

        ``entry`` must have been read with the back-link attribute (the service always asks
        for it when the resource type can be a member).
        """
        if self.rule.member_of and entry is not None:
            return list(entry.get(self.rule.member_of))
        flt = lf.conjunction(self.group.filter, lf.Equal(self.rule.ldap, self.value_of(member_dn)))
        where = placement.area(self.group)
        return [
            e.dn
            for e in self.directory.search_paged(where.base, where.scope, flt, [])
            if placement.contains(self.group, e.dn)
        ]


class MemberList(Sequence[dict[str, Any]]):
    """A group's members as read: each one's type and id, made a SCIM member item when it
    is read.

    A big group's full GET renders its members a batch at a time (``gateway.web.stream``), so
    100,000 member items never exist together; anything else reads it as the list it stands
    for (``list(members)``). The members' DNs are not kept: once the read is over, what waits
    for a slow client is the ids (about 10 MB at 100,000 members, not the 25 MB of refs)."""

    __slots__ = ("ids", "types")

    def __init__(self, refs: Iterable[Ref]) -> None:
        self.types: list[str] = []
        self.ids: list[str] = []
        for ref in refs:
            self.types.append(ref.type)
            self.ids.append(ref.id)

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return list(map(_item, self.types[index], self.ids[index]))
        return _item(self.types[index], self.ids[index])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return map(_item, self.types, self.ids)

    def __repr__(self) -> str:
        return f"MemberList({len(self.ids)} members)"


def member_item(ref: Ref) -> dict[str, Any]:
    return _item(ref.type, ref.id)


def _item(type_name: str, ident: str) -> dict[str, Any]:
    return {
        "value": ident,
        # members are of the group type's member_types: built-in types (scim.registry)
        "$ref": f"{_ref_path(type_name)}/{ident}",
        "type": type_name,
    }


@functools.lru_cache(maxsize=64)
def _ref_path(type_name: str) -> str:
    """``BUILTIN.path_of``, once per type: a group's full GET makes 100,000 member items."""
    return BUILTIN.path_of(type_name)


def _member_id(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("value")
    if not isinstance(value, str) or not value:
        raise InvalidValue("members: every member needs a 'value' with the member's id")
    return value
