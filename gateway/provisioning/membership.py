"""Group membership in LDAP: value-level writes, cheap reads, the empty-group placeholder.

Member changes are LDAP value adds and deletes on the member attribute, sent with the
permissive-modify control, so adding a present member or removing an absent one succeeds
and writes nothing — and the member list is never read or rewritten to change one value.
``groupOfNames`` must keep one ``member``: the mapping's placeholder DN is added when the
last real member leaves (the directory tells us, with objectClassViolation) and removed
when a real member arrives. SCIM never shows it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from gateway.directory import dn as dnlib
from gateway.directory import ldapfilter as lf
from gateway.directory.entry import Entry, Modification, ModOp
from gateway.directory.operations import Directory
from gateway.errors import InvalidValue, SchemaViolation
from gateway.mapping.model import Mapping, ResourceMapping
from gateway.provisioning.references import Ref, References
from gateway.scim.patch import ValueDelta

log = logging.getLogger(__name__)

OBJECT_CLASS_VIOLATION = 65
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

        With a ``member_of`` back-link: one paged search per member type, whatever the size.
        Without: the member DNs are resolved in chunks (see References.by_dns).
        """
        placeholder = dnlib.normalize(self.rule.placeholder) if self.rule.placeholder else None
        refs: list[Ref] = []
        if self.rule.member_of:
            for name in self.rule.types:
                rm = self.mapping.resources.get(name)
                if rm is None:
                    continue
                flt = lf.conjunction(rm.filter, lf.Equal(self.rule.member_of, group_dn))
                for entry in self.directory.search_paged(
                    rm.base_dn, rm.scope, flt, [rm.id_attribute]
                ):
                    ident = entry.first(rm.id_attribute)
                    if ident:
                        refs.append(Ref(rm.name, ident, entry.dn))
        else:
            values = [v for v in stored or () if dnlib.normalize(v) != placeholder]
            refs = list(self.refs.by_dns(values, self.rule.types).values())
        return [member_item(r) for r in refs]

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
        dns = [ref.dn for ref in refs]
        if not dns and self.rule.placeholder:
            return [self.rule.placeholder]
        return dns

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
            dns = tuple(r.dn for r in self.resolve(delta.add).values())
            mods.append(Modification(attr, ModOp.ADD, dns))
            if self.rule.placeholder:
                mods += self.remove_values((self.rule.placeholder,))
        if delta.remove:
            # An id that resolves to nothing cannot be a member: removing it is already done.
            found = self.refs.by_ids([_member_id(v) for v in delta.remove], self.rule.types)
            if found:
                mods += self.remove_values(tuple(r.dn for r in found.values()))
        return mods

    def remove_values(self, dns: tuple[str, ...]) -> list[Modification]:
        """Delete member values whether or not they are present, in one modify.

        slapd's permissive modify accepts adding a present value but still refuses deleting
        an absent one (noSuchAttribute), so each value is added, then deleted, in the same
        atomic operation: the result is "absent" either way, with no read first.
        """
        return [
            Modification(self.rule.ldap, ModOp.ADD, dns),
            Modification(self.rule.ldap, ModOp.DELETE, dns),
        ]

    def modify(
        self,
        group_dn: str,
        mods: list[Modification],
        *,
        read_back: Sequence[str] = (),
        assertion: lf.LdapFilter | None = None,
    ) -> Entry | None:
        """Send ``mods``; if they would empty the group, send them again with the placeholder."""
        try:
            return self.directory.modify(group_dn, mods, read_back=read_back, assertion=assertion)
        except SchemaViolation as err:
            if err.result_code != OBJECT_CLASS_VIOLATION or not self.rule.placeholder:
                raise
            touches_members = any(m.attr.lower() == self.rule.ldap.lower() for m in mods)
            if not touches_members:
                raise
        placeholder = self.rule.placeholder
        retry = [m for m in mods if m.values != (placeholder,)]
        retry.append(Modification(self.rule.ldap, ModOp.ADD, (placeholder,)))
        log.debug("group %r would be empty: keeping the placeholder member", group_dn)
        return self.directory.modify(group_dn, retry, read_back=read_back, assertion=assertion)

    def remove_everywhere(self, member_dn: str, group_dns: Iterable[str]) -> None:
        """Take a deleted entry out of every group it was in (refint cannot empty a group)."""
        for group_dn in group_dns:
            self.modify(group_dn, self.remove_values((member_dn,)))

    def rename_everywhere(self, old_dn: str, new_dn: str, group_dns: Iterable[str]) -> None:
        """Point memberships at a renamed entry now, instead of whenever refint gets to it."""
        for group_dn in group_dns:
            self.directory.modify(
                group_dn,
                [
                    Modification(self.rule.ldap, ModOp.ADD, (new_dn,)),
                    *self.remove_values((old_dn,)),
                ],
            )

    def groups_containing(self, member_dn: str, entry: Entry | None) -> list[str]:
        """DNs of the groups ``member_dn`` belongs to: from its back-link, else one search.

        The back-link is trusted only if ``entry`` was read with it: an entry without the
        attribute is either in no group or was read without asking for it (a Group read for a
        PATCH does not ask for ``memberOf``), and only the mapping can tell which.
        """
        if self.rule.member_of and entry is not None and self._read_with_back_link(entry):
            return list(entry.get(self.rule.member_of))
        flt = lf.conjunction(self.group.filter, lf.Equal(self.rule.ldap, member_dn))
        return [
            e.dn for e in self.directory.search_paged(self.group.base_dn, self.group.scope, flt, [])
        ]

    def _read_with_back_link(self, entry: Entry) -> bool:
        back_link = self.rule.member_of
        assert back_link is not None
        if entry.get(back_link):
            return True
        owners = [
            rm
            for name in self.rule.types
            if (rm := self.mapping.resources.get(name)) is not None
            and dnlib.is_within(entry.dn, rm.base_dn)
        ]
        wanted = back_link.lower()
        return bool(owners) and all(
            any(rule.ldap.lower() == wanted for rule in rm.attributes) for rm in owners
        )


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
