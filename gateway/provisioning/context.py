"""What the use cases of one resource type work with, handed to them explicitly.

:class:`ResourceContext` is built once per resource type (and again on a mapping reload);
the reads (:mod:`~gateway.provisioning.reads`) and writes (:mod:`~gateway.provisioning.writes`)
each receive it, so neither declares attributes the other sets.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.directory.operations import Directory
from gateway.mapping.model import Mapping, ResourceMapping
from gateway.provisioning.dncache import DISABLED, DnCache
from gateway.provisioning.membership import Membership
from gateway.provisioning.references import References
from gateway.provisioning.reftypes import named_types


@dataclass(frozen=True, slots=True)
class Limits:
    """Paging of list requests (RFC 7644 §3.4.2.4): LDAP page size and the caps on ``count``."""

    page_size: int = 500
    max_results: int = 1000
    default_count: int = 100


@dataclass(frozen=True, slots=True)
class ResourceContext:
    """One resource type's mapping and the collaborators its reads and writes share."""

    mapping: Mapping
    rm: ResourceMapping
    directory: Directory
    limits: Limits
    refs: References
    membership: Membership | None  # the group side, for types that hold or are members
    # where this process last saw each id (every use verified by the directory: dncache)
    dns: DnCache = DISABLED

    @classmethod
    def build(
        cls,
        mapping: Mapping,
        name: str,
        directory: Directory,
        limits: Limits,
        dns: DnCache = DISABLED,
    ) -> ResourceContext:
        rm = mapping[name]
        refs = References(directory, mapping)
        group = rm if rm.members else holder_of(mapping, rm.name)
        membership = (
            Membership(directory, refs, mapping, group) if group and group.members else None
        )
        return cls(mapping, rm, directory, limits, refs, membership, dns)

    @property
    def name(self) -> str:
        """The resource type's name, as error details say it ("User", "Group")."""
        return self.rm.name

    def is_member_type(self) -> bool:
        """Can entries of this type be members of groups (so deletes and renames fix them)?"""
        return self.membership is not None and self.rm.name in self.membership.types

    def back_link(self) -> list[str]:
        """The back-link attribute (memberOf) to read with an entry, when the groups keep one."""
        if self.membership is not None and self.membership.rule.member_of:
            return [self.membership.rule.member_of]
        return []


def holder_of(mapping: Mapping, name: str) -> ResourceMapping | None:
    """The mapped type whose members may be of type ``name`` (the registry lets one type hold
    members: Group), so a type no group can hold has no membership side to keep up."""
    for rm in mapping.resources.values():
        if rm.members is not None and name in named_types(rm, rules=False):
            return rm
    return None
