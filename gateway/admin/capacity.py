"""What ``mapping check`` can learn about the bind DN's rights and the directory's set-up without
changing anything: write access, a size limit that would break listing, missing indexes.

- **Write access.** One entry of the type is sent a modify that no directory may apply (remove
  its naming attribute, RFC 4511 §4.6: notAllowedOnRDN / namingViolation). Directories check
  access before they check the change, so the answer says whether the bind DN may modify
  entries there (50 insufficientAccessRights) or not, and nothing is written either way.
  (OpenLDAP's no-op control would be the obvious tool, but on slapd 2.5 back-mdb a no-op add
  can crash slapd.) The right to add entries cannot be probed this way; it usually comes
  with the right to modify them (docker/slapd/service-account-config.ldif grants both).
- **Size limit.** A paged search of the naming context, counting up to ``PROBE_ENTRIES``
  entries (attributes ``1.1``: nothing is read). If the directory stops it with
  sizeLimitExceeded, every SCIM list longer than that fails with ``400 tooMany``. A limit
  above the number of entries the directory holds cannot be seen (yet).
- **Indexes.** Read from cn=config (``olcDbIndex`` of the database holding ``base_dn``) when
  the bind DN may read it; otherwise said once as a note. The attributes the gateway searches
  by equality for every request (id, naming attribute, matching attributes, memberships)
  should be indexed, or each such search reads every entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from gateway.directory import dn as dnlib
from gateway.directory import ldapfilter as lf
from gateway.directory.entry import Modification, ModOp
from gateway.directory.operations import Directory
from gateway.errors import DirectoryError, InsufficientAccess, SchemaViolation, SizeLimit
from gateway.mapping import placement
from gateway.mapping.check import ERROR, WARNING
from gateway.mapping.model import ResourceMapping

NOTE = "note"
PROBE_ENTRIES = 5000  # entries counted at most by the size limit probe (1.1: no attributes)
PROBE_PAGE = 500
# SCIM attributes clients look entries up by (Entra's matching queries, references)
MATCHED_BY = ("username", "externalid", "displayname", "emails")

Add = Callable[[str, str, str], None]  # (level, YAML path below the resource, message)


def probe_write(rm: ResourceMapping, directory: Directory, add: Add) -> None:
    """May the bind DN modify entries of this type? (A modify that can never succeed.)"""
    where = placement.area(rm)
    found = directory.search(
        where.base, where.scope, lf.conjunction(rm.filter), ["1.1"], size_limit=1
    )
    if not found:
        add(NOTE, "base_dn", "write access not probed: no entry of this type exists yet")
        return
    impossible = [Modification(rm.rdn_attribute, ModOp.REPLACE, ())]
    try:
        directory.modify(found[0].dn, impossible, permissive=False)
    except InsufficientAccess:
        add(
            ERROR,
            "base_dn",
            f"the bind DN may not modify entries below {rm.base_dn!r}: every SCIM write "
            "would fail; grant it write access there (docker/slapd/service-account-config.ldif)",
        )
    except SchemaViolation:
        return  # refused for what it asked, after the access check: writes are allowed
    except DirectoryError as err:
        add(NOTE, "base_dn", f"write access not probed (LDAP result {err.result_code})")
    else:  # no directory should apply it; say so rather than stay silent
        add(ERROR, "base_dn", f"the directory let {found[0].dn!r} lose its naming attribute")


def probe_size_limit(rm: ResourceMapping, directory: Directory, add: Add) -> None:
    """Can the bind DN page through more entries than the directory's size limit?"""
    context = naming_context(directory, rm.base_dn) or rm.base_dn
    count = 0
    try:
        for _ in directory.search_paged(
            context, "sub", lf.MATCH_ALL, ["1.1"], page_size=PROBE_PAGE
        ):
            count += 1
            if count >= PROBE_ENTRIES:
                return
    except SizeLimit:
        add(
            ERROR,
            "base_dn",
            f"the directory stops this bind DN's paged searches after {count} entries: SCIM "
            f"lists of more {rm.name}s fail with 400 tooMany; lift it for the bind DN "
            "(OpenLDAP: limits dn.exact=<bind DN> size.pr=unlimited size.prtotal=unlimited)",
        )


def naming_context(directory: Directory, base: str) -> str | None:
    found = directory.search("", "base", lf.MATCH_ALL, ["namingContexts"])
    contexts = found[0].get("namingContexts") if found else ()
    inside = [c for c in contexts if dnlib.is_within(base, c)]
    return max(inside, key=len) if inside else None


def index_config(directory: Directory, base: str) -> dict[str, set[str]] | None:
    """attribute (lower-case) → index types of the database holding ``base``, from cn=config;
    None when cn=config cannot be read."""
    try:
        found = directory.search(
            "cn=config", "sub", lf.Present("olcSuffix"), ["olcSuffix", "olcDbIndex"]
        )
    except DirectoryError:
        return None
    holding = [e for e in found if any(dnlib.is_within(base, s) for s in e.get("olcSuffix"))]
    if not holding:
        return None
    return parse_indexes(holding[0].get("olcDbIndex"))


def parse_indexes(values: Iterable[str]) -> dict[str, set[str]]:
    """``olcDbIndex`` values (``uid,cn eq,sub``; ``default eq`` + bare names) → per attribute."""
    out: dict[str, set[str]] = {}
    default: set[str] = set()
    bare: list[str] = []
    for value in values:
        parts = value.split()
        names = [n.strip().lower() for n in parts[0].split(",") if n.strip()]
        kinds = {k.strip().lower() for k in parts[1].split(",")} if len(parts) > 1 else set()
        if names == ["default"]:
            default = kinds
            continue
        for name in names:
            if kinds:
                out.setdefault(name, set()).update(kinds)
            else:
                bare.append(name)
    for name in bare:
        out.setdefault(name, set()).update(default)
    return out


def searched_by_equality(rm: ResourceMapping) -> dict[str, str]:
    """LDAP attribute (lower-case) → why the gateway looks entries up by it."""
    wanted = {
        "objectclass": "every search",
        rm.id_attribute.lower(): "every request by id",
        rm.rdn_attribute.lower(): "uniqueness checks and renames",
    }
    for rule in rm.attributes:
        matched = rule.scim.attr.attr.lower() in MATCHED_BY and rule.type_value in (None, "work")
        if matched and rule.ldap.lower() not in wanted:
            wanted[rule.ldap.lower()] = f"filters on {rule.scim_text} (client matching queries)"
    if rm.members is not None:
        wanted.setdefault(rm.members.ldap.lower(), "group membership lookups")
        if rm.members.member_of:
            wanted.setdefault(rm.members.member_of.lower(), "listing a group's members")
    return wanted


def probe_indexes(
    rm: ResourceMapping, directory: Directory, add: Add, indexes: dict[str, set[str]] | None
) -> None:
    if indexes is None:
        add(
            NOTE,
            "base_dn",
            "indexes not checked: this bind DN cannot read the database's olcDbIndex in "
            "cn=config; see docs/deployment.md for the indexes the gateway relies on",
        )
        return
    for name, why in searched_by_equality(rm).items():
        if "eq" not in indexes.get(name, set()):
            add(
                WARNING,
                "base_dn",
                f"{name} has no equality index: {why} then read every entry of the database "
                f"(OpenLDAP: olcDbIndex: {name} eq)",
            )
