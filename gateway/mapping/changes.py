"""The LDAP writes that turn one image into another: modifications, a rename, a move.

A change that changes nothing produces nothing, so a no-op PATCH or PUT sends no write.
Write policies are applied here: ``createOnly`` attributes are never rewritten once set.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.directory import dn as dnlib
from gateway.directory.entry import Modification, ModOp
from gateway.errors import Mutability
from gateway.mapping.model import ResourceMapping
from gateway.mapping.translate import Image


@dataclass(frozen=True, slots=True)
class ChangeSet:
    modifications: tuple[Modification, ...] = ()
    new_rdn: str | None = None  # "uid=new" when the naming attribute changes
    new_parent: str | None = None  # a DN when the entry moves (disable strategy "move")
    kept: frozenset[str] = frozenset()  # createOnly attributes left as stored (lower-case)

    @property
    def empty(self) -> bool:
        return not (self.modifications or self.new_rdn or self.new_parent)


def add_attributes(rm: ResourceMapping, image: Image) -> dict[str, list[str]]:
    """Attributes of the LDAP add for a new entry (object classes included)."""
    attrs = {name: list(values) for name, values in image.attributes.items()}
    attrs["objectclass"] = list(rm.object_classes)
    return attrs


def diff(rm: ResourceMapping, old: Image, new: Image) -> ChangeSet:
    """What to send to make an entry that looks like ``old`` look like ``new``.

    ``createOnly`` attributes are written only while the entry has no value; once set, a
    SCIM attribute with that policy is immutable (RFC 7643 §2.2): a different value is a 400
    ``mutability``, an absent one leaves the stored value alone (``kept``).
    """
    immutable = {r.ldap.lower(): r for r in rm.attributes if r.write == "createOnly"}
    frozen = set(immutable) | {d.ldap.lower() for d in rm.derived if d.write == "createOnly"}
    rdn = rm.rdn_attribute.lower()
    mods: list[Modification] = []
    kept: set[str] = set()
    for name in sorted(set(old.attributes) | set(new.attributes)):
        if name == rdn:
            continue
        before, after = old.attributes.get(name, ()), new.attributes.get(name, ())
        if rm.disable is not None:  # a bit flag keeps the stored word's other bits
            after = rm.disable.settle(name, before, after)
        if name in frozen and before:
            rule = immutable.get(name)
            if rule is not None and after and sorted(after) != sorted(before):
                raise Mutability(f"{rule.scim_text} cannot be changed once it is set")
            kept.add(name)
            continue
        if sorted(before) != sorted(after):
            mods.append(Modification(name, ModOp.REPLACE, after))
    new_rdn = None
    if old.rdn_value != new.rdn_value:
        if rm.rdn_rule.write == "createOnly":
            raise Mutability(f"{rm.rdn_rule.scim_text} cannot be changed once it is set")
        new_rdn = f"{rm.rdn_attribute}={dnlib.escape_value(new.rdn_value)}"
    new_parent = None
    if dnlib.normalize(old.parent_dn) != dnlib.normalize(new.parent_dn):
        new_parent = new.parent_dn
    return ChangeSet(tuple(mods), new_rdn, new_parent, frozenset(kept))
