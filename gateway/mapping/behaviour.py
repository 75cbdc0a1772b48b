"""What the directory server does that LDAP does not promise: the mapping's ``directory:``.

Why a section of the mapping: these are facts about one server (OpenLDAP with its overlays,
389 DS, ...), not about SCIM or about one resource type, and before this section they were
hard-coded where they were used (entryCSN in translate and the writes, entryDN in the
reference searches, ``etag.supported`` in discovery). Each is read from here now:

- ``version_attribute``: the operational attribute that changes on every write to an entry
  (``entryCSN`` on OpenLDAP). It gives ``meta.version`` (a weak ETag) and the If-Match
  assertion (RFC 4528). ``none``: the server has none (389 DS without the USN plugin):
  resources carry no version, ServiceProviderConfig says ``etag.supported: false``, and
  If-Match succeeds only with ``*``.
- ``entry_dn``: filters may use ``entryDN`` (RFC 5020), so a set of DNs is one search.
  ``false``: the search matches the entries' naming attribute and the gateway keeps only the
  entries at the DNs asked for (still one search).
- ``permissive_modify``: the server honours the permissive-modify control (adding a value
  that is there, deleting one that is not, succeed). ``false``: member adds leave out the
  values already there before writing instead of after a refused write.
- ``member_of``: where the members' ``memberOf`` back-link comes from. ``overlay`` (slapo-
  memberof, 389's memberOf plugin): stored, so a group's members are one search for it;
  ``dynlist`` (slapo-dynlist): computed when an entry is read, not searched by the gateway
  (members are read from the group); ``none``: there is no back-link to map.

``scim-gateway mapping check`` compares what it can see (the schema, the root DSE's
supportedControl) with these values: :func:`gateway.mapping.check.check_directory`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from gateway.directory import ldapfilter as lf

MEMBER_OF_SOURCES = ("overlay", "dynlist", "none")
NONE = "none"
PERMISSIVE_MODIFY_OID = "1.2.840.113556.1.4.1413"
_TIMESTAMPS = ("createTimestamp", "modifyTimestamp")


class DirectorySchema(Schema):
    """The YAML keys of ``directory:`` (every one optional: defaults are stock OpenLDAP)."""

    class Meta:
        unknown = RAISE

    version_attribute = fields.String(
        load_default="entryCSN",
        validate=validate.Regexp(
            r"^[A-Za-z][A-Za-z0-9-]*$", error="an LDAP attribute name, or none"
        ),
    )
    entry_dn = fields.Boolean(load_default=True)
    permissive_modify = fields.Boolean(load_default=True)
    member_of = fields.String(load_default="overlay", validate=validate.OneOf(MEMBER_OF_SOURCES))


@dataclass(frozen=True, slots=True)
class DirectoryBehaviour:
    """The ``directory:`` section, compiled. The defaults are today's OpenLDAP behaviour."""

    version_attribute: str | None = "entryCSN"
    entry_dn: bool = True
    permissive_modify: bool = True
    member_of: str = "overlay"

    @property
    def versions(self) -> bool:
        """Resources carry ``meta.version`` (ETags are offered)."""
        return self.version_attribute is not None

    @property
    def meta_attributes(self) -> tuple[str, ...]:
        """The operational attributes ``meta`` is built from, to request on reads."""
        if self.version_attribute is None:
            return _TIMESTAMPS
        return (self.version_attribute, *_TIMESTAMPS)

    def version(self, attributes: Mapping[str, tuple[str, ...]]) -> str | None:
        """``meta.version``: a weak ETag over the version attribute, or None."""
        if self.version_attribute is None:
            return None
        values = attributes.get(self.version_attribute.lower(), ())
        return f'W/"{values[0]}"' if values else None

    def unchanged(self, opaque: str | None) -> lf.LdapFilter | None:
        """The assertion (RFC 4528) that a write applies only to the version a client saw."""
        if not opaque or self.version_attribute is None:
            return None
        return lf.Equal(self.version_attribute, opaque)


DEFAULT = DirectoryBehaviour()


def compile_directory(
    spec: dict[str, Any] | None,
    resources: Mapping[str, Any],
    report: Callable[[str, str], None],
) -> DirectoryBehaviour:
    """The behaviour for a validated ``directory:`` block (None: absent, the defaults), with
    what it contradicts in the resource sections reported as ``(YAML path, message)``."""
    if not spec:
        return DEFAULT
    version = spec["version_attribute"]
    behaviour = DirectoryBehaviour(
        version_attribute=None if version.lower() == NONE else version,
        entry_dn=spec["entry_dn"],
        permissive_modify=spec["permissive_modify"],
        member_of=spec["member_of"],
    )
    if not behaviour.permissive_modify:
        for rm in resources.values():
            if rm.members is not None and rm.members.placeholder:
                report(
                    f"{rm.name}.members.placeholder",
                    "directory.permissive_modify is false: adding the first member would fail "
                    "(the placeholder's removal needs permissive modify); use a group class "
                    "whose member attribute is optional (e.g. groupOfUniqueNames on 389 DS)",
                )
    if behaviour.member_of == NONE:
        for rm in resources.values():
            if rm.members is not None and rm.members.member_of:
                report(
                    f"{rm.name}.members.member_of",
                    "directory.member_of is none: the directory keeps no back-link; "
                    "remove member_of",
                )
            for rule in rm.attributes:
                if rule.ldap.lower() == "memberof":
                    report(
                        f"{rule.source}.ldap",
                        "directory.member_of is none: memberOf holds nothing on this "
                        "directory; remove this rule",
                    )
    return behaviour


def apply(resources: dict[str, Any], behaviour: DirectoryBehaviour) -> dict[str, Any]:
    """Each resource mapping with ``behaviour`` (translation reads it from there).

    With ``member_of: dynlist`` the back-link is not stored, so the members' rule keeps no
    ``member_of`` to search by: a group's members are read from the group itself.
    """
    out = {}
    for name, rm in resources.items():
        members = rm.members
        if members is not None and behaviour.member_of != "overlay" and members.member_of:
            members = dataclasses.replace(members, member_of=None)
        out[name] = dataclasses.replace(rm, directory=behaviour, members=members)
    return out
