"""Group membership in LDAP: value-level writes, cheap reads, the empty-group placeholder.

Member changes are LDAP value adds and deletes on the member attribute — the member list
is never read or rewritten to change one value. ``groupOfNames`` must keep one ``member``:
the mapping's placeholder DN is added when the last real member leaves (the directory says
so with objectClassViolation) and removed when a real member arrives. SCIM never shows it.
Adding a present member or removing an absent one succeeds (see ``Membership.modify``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from gateway.directory import dn as dnlib
from gateway.directory import ldapfilter as lf
from gateway.directory.entry import Entry, Modification, ModOp
from gateway.directory.operations import Directory
from gateway.errors import AssertionFailed, InvalidValue, SchemaViolation
from gateway.mapping import placement
from gateway.mapping.model import Mapping, ResourceMapping
from gateway.provisioning.references import Ref, References
from gateway.scim.patch import ValueDelta

log = logging.getLogger(__name__)

OBJECT_CLASS_VIOLATION = 65
NO_SUCH_ATTRIBUTE = 16
ENDPOINTS = {"User": "Users", "Group": "Groups"}


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

    # ------------------------------------------------------------------ reads

    def members_of(self, group_dn: str, stored: Sequence[str] | None) -> list[dict[str, Any]]:
        """The SCIM ``members`` of a group; ``stored`` = its member values if already read.

        With a ``member_of`` back-link: one paged search, whatever the size and member types.
        Without: the member values are resolved in chunks (DNs: References.by_dns; names,
        as in posixGroup's memberUid: References.by_rdn_values).
        """
        refs: list[Ref] = []
        if self.rule.member_of:
            refs = self.refs.holding(self.rule.member_of, group_dn, self.rule.types)
        elif self.rule.by_dn:
            placeholder = dnlib.normalize(self.rule.placeholder or "")
            values = [v for v in stored or () if dnlib.normalize(v) != placeholder]
            refs = list(self.refs.by_dns(values, self.rule.types).values())
        else:
            placeholder = (self.rule.placeholder or "").lower()
            values = [v for v in stored or () if v.lower() != placeholder]
            refs = list(self.refs.by_rdn_values(values, self.rule.types).values())
        return [member_item(r) for r in refs]

    def value_of(self, member_dn: str) -> str:
        """The member attribute value naming the entry at ``member_dn`` (its DN, or its uid)."""
        return member_dn if self.rule.by_dn else dnlib.rdn_value(member_dn)

    # ------------------------------------------------------------------ writes

    def resolve(self, values: Iterable[Any]) -> dict[str, Ref]:
        """Member ids → Refs; any unknown id is a 400 naming it, before anything is written."""
        ids = [_member_id(v) for v in values]
        found = self.refs.by_ids(ids, self.rule.types)
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

    def delta_modifications(self, delta: ValueDelta) -> list[Modification]:
        """LDAP value-level changes for a PATCH's member operations (replace: the whole list)."""
        attr = self.rule.ldap
        if delta.replace is not None:
            removed = {_member_id(v) for v in delta.remove}
            ids = [
                i
                for i in dict.fromkeys(_member_id(v) for v in [*delta.replace, *delta.add])
                if i not in removed
            ]
            refs = self.resolve(ids)
            return [Modification(attr, ModOp.REPLACE, tuple(self.values_for(list(refs.values()))))]
        mods: list[Modification] = []
        if delta.add:
            values = tuple(self.value_of(r.dn) for r in self.resolve(delta.add).values())
            mods.append(Modification(attr, ModOp.ADD, values))
        if delta.remove:
            # An id that resolves to nothing cannot be a member: removing it is already done.
            found = self.refs.by_ids([_member_id(v) for v in delta.remove], self.rule.types)
            if found:
                gone = tuple(self.value_of(r.dn) for r in found.values())
                mods.append(Modification(attr, ModOp.DELETE, gone))
        return mods

    def modify(
        self, group_dn: str, mods: list[Modification], *, read_back: Sequence[str] = ()
    ) -> Entry | None:
        """Apply member adds/deletes (and any other ``mods``) in one modify, usually.

        First try: plain value adds and deletes — the cheap write slapd does in a few ms even
        on a 100,000-member group — asserting (RFC 4528) that the group holds no placeholder
        when members are added. If the assertion fails (the group was empty) or a member to
        delete is already gone (noSuchAttribute), the second try is written to succeed
        whatever the current values (see :meth:`_idempotent`). If a delete would leave no
        member (objectClassViolation), the placeholder is added in the same modify.

        No other assertion is ever sent with a group write: slapd's memberof overlay skips
        updating members' ``memberOf`` when the write carries an assertion that no longer
        holds afterwards (an entryCSN for If-Match, or ``(member=x)`` before deleting x).
        If-Match on groups is therefore checked against the version just read.
        """
        guard = self._guard(mods)
        try:
            return self.directory.modify(group_dn, mods, read_back=read_back, assertion=guard)
        except AssertionFailed:
            log.debug("group %r holds the placeholder: sending the idempotent form", group_dn)
        except SchemaViolation as err:
            if err.result_code not in (NO_SUCH_ATTRIBUTE, OBJECT_CLASS_VIOLATION):
                raise
        safe = self._idempotent(mods)
        try:
            return self.directory.modify(group_dn, safe, read_back=read_back)
        except SchemaViolation as err:
            if err.result_code != OBJECT_CLASS_VIOLATION or not self.rule.placeholder:
                raise
        log.debug("group %r would be empty: keeping the placeholder member", group_dn)
        safe.append(Modification(self.rule.ldap, ModOp.ADD, (self.rule.placeholder,)))
        return self.directory.modify(group_dn, safe, read_back=read_back)

    def _guard(self, mods: list[Modification]) -> lf.LdapFilter | None:
        """``(!(member=<placeholder>))`` when members are added: true before and after."""
        attr = self.rule.ldap.lower()
        adds = any(m.attr.lower() == attr and m.op is ModOp.ADD for m in mods)
        if adds and self.rule.placeholder:
            return lf.Not(lf.Equal(self.rule.ldap, self.rule.placeholder))
        return None

    def _idempotent(self, mods: list[Modification]) -> list[Modification]:
        """``mods`` rewritten to succeed whatever the group holds now (see :meth:`modify`)."""
        attr = self.rule.ldap.lower()
        out: list[Modification] = []
        adds = False
        for mod in mods:
            if mod.attr.lower() == attr and mod.op is ModOp.DELETE:
                out += [Modification(mod.attr, ModOp.ADD, mod.values), mod]
            else:
                out.append(mod)
                adds = adds or (mod.attr.lower() == attr and mod.op is ModOp.ADD)
        if adds and self.rule.placeholder:
            placeholder = (self.rule.placeholder,)
            out += [
                Modification(self.rule.ldap, ModOp.ADD, placeholder),
                Modification(self.rule.ldap, ModOp.DELETE, placeholder),
            ]
        return out

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


def member_item(ref: Ref) -> dict[str, Any]:
    return {
        "value": ref.id,
        "$ref": f"{ENDPOINTS.get(ref.type, ref.type)}/{ref.id}",
        "type": ref.type,
    }


def _member_id(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("value")
    if not isinstance(value, str) or not value:
        raise InvalidValue("members: every member needs a 'value' with the member's id")
    return value
