"""A loaded mapping checked against a directory's schema: what the directory would refuse.

Pure: takes a :class:`~gateway.mapping.model.Mapping` and a
:class:`~gateway.directory.subschema.DirectorySchema` (read by ``mapping check``) and returns
findings that name the YAML line and say what to change. Checked, per resource type: object
classes exist and form one structural chain; every mapped LDAP attribute exists and is
allowed by the classes (MUST/MAY, inherited ones and auxiliaries included; operational
attributes are allowed anywhere); the classes' MUST attributes are produced (by the RDN, a
rule with an always-rendering default, a constant, template or allocation); the RDN, id,
member, back-link and disable attributes exist and fit; the converter suits the syntax.
Checks that need the directory's data (base DNs exist, counters) are in gateway/admin/check.py.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from gateway.directory import subschema as ss
from gateway.directory.subschema import DirectorySchema, ObjectClass
from gateway.mapping.behaviour import PERMISSIVE_MODIFY_OID
from gateway.mapping.model import Mapping, ResourceMapping, Template

ERROR, WARNING = "error", "warning"
_FILTER_ATTRIBUTE = re.compile(r"\(\s*!?\s*([A-Za-z][\w-]*)(?:;[\w-]+)*\s*(?::[^=]*)?[~<>]?=")
_CONVERTER_FOR_SYNTAX = {
    ss.SYNTAX_INTEGER: "integer",
    ss.SYNTAX_BOOLEAN: "boolean",
    ss.SYNTAX_GENERALIZED_TIME: "generalizedTime",
}


@dataclass(frozen=True, slots=True)
class Finding:
    level: str  # error | warning
    where: str  # file:line
    path: str  # YAML path
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.level}: {self.path}: {self.message}"


def suggest(name: str, candidates: Iterable[str], preferred: Iterable[str] = ()) -> str:
    """`` — did you mean 'mail'?`` (difflib, case-insensitive), or nothing.

    ``preferred`` names are tried first: for an attribute, those the mapping's object classes
    allow (``emial`` → ``mail``, not the rarely wanted ``email``).
    """
    for group, cutoff in ((preferred, 0.6), (candidates, 0.75)):
        pool = {c.lower(): c for c in group}
        close = difflib.get_close_matches(name.lower(), list(pool), n=1, cutoff=cutoff)
        if close:
            return f" — did you mean {pool[close[0]]!r}?"
    return ""


def check_schema(mapping: Mapping, schema: DirectorySchema) -> list[Finding]:
    """Everything in ``mapping`` the directory's ``schema`` would refuse or not provide."""
    out: list[Finding] = []
    for rm in mapping.resources.values():
        _Resource(mapping, rm, schema, out).run()
    return out


class _Resource:
    def __init__(
        self, mapping: Mapping, rm: ResourceMapping, schema: DirectorySchema, out: list[Finding]
    ) -> None:
        self.mapping, self.rm, self.schema, self.out = mapping, rm, schema, out
        self.classes: list[ObjectClass] = []
        self.must: dict[str, str] = {}  # canonical attribute → class requiring it
        self.allowed: set[str] = set()
        self.anything = False  # extensibleObject
        self.classes_known = True  # False: an unknown class makes MUST/MAY checks meaningless

    def add(self, level: str, path: str, message: str) -> None:
        full = f"{self.rm.name}.{path}"
        self.out.append(Finding(level, self.mapping.where(full), full, message))

    def run(self) -> None:
        self._object_classes()
        for rule in self.rm.attributes:
            path = f"{rule.source.split('.', 1)[1]}.ldap" if rule.source else "attributes"
            at = self._attribute(rule.ldap, path, writes=rule.writable)
            if at is not None:
                self._converter(rule.converter.name, at, path.rsplit(".", 1)[0], rule.reference)
        for derived in self.rm.derived:
            path = f"{derived.source.split('.', 1)[1]}.ldap" if derived.source else "attributes"
            at = self._attribute(derived.ldap, path, writes=True)
            if at is not None and derived.allocate is not None and not at.ordering:
                self.add(
                    ERROR,
                    path,
                    f"{at.name} has no ORDERING matching rule, which allocation needs "
                    "(the counter is kept in its range with a >= / <= assertion)",
                )
        self._naming()
        self._members()
        self._disable()
        self._filter()
        self._musts()

    # ---------------------------------------------------------------- classes

    def _object_classes(self) -> None:
        for i, name in enumerate(self.rm.object_classes):
            oc = self.schema.object_class(name)
            if oc is None:
                self.add(
                    ERROR,
                    f"object_classes.{i}",
                    f"object class {name!r} is not defined by the directory's schema"
                    + suggest(name, self.schema.class_names()),
                )
                self.classes_known = False
                continue
            self.classes.append(oc)
        structural = [c for c in self.classes if c.kind.upper() == "STRUCTURAL"]
        if self.classes_known and not structural:
            self.add(
                ERROR,
                "object_classes",
                "no structural object class: an entry needs exactly one structural class "
                "chain (e.g. inetOrgPerson for users, groupOfNames for groups)",
            )
        chain = (
            {o.name.lower() for o in self.schema.lineage(structural[0].name)}
            if structural
            else set()
        )
        tip = structural[0] if structural else None
        for oc in structural[1:]:
            lineage = {o.name.lower() for o in self.schema.lineage(oc.name)}
            if tip is not None and tip.name.lower() in lineage:
                tip, chain = oc, lineage
            elif oc.name.lower() not in chain:
                self.add(
                    ERROR,
                    "object_classes",
                    f"{tip.name if tip else '?'!s} and {oc.name} are both structural and neither "
                    "derives from the other; an entry has one structural class chain: keep one "
                    "(or use a schema where the other is auxiliary)",
                )
        for oc in self.classes:
            for member in self.schema.lineage(oc.name):
                self.anything |= member.name.lower() == "extensibleobject"
                for attr in member.must:
                    self.must.setdefault(self.schema.canonical(attr), member.name)
                self.allowed |= {self.schema.canonical(a) for a in (*member.must, *member.may)}

    # ---------------------------------------------------------------- attributes

    def _attribute(self, name: str, path: str, *, writes: bool) -> ss.AttributeType | None:
        at = self.schema.attribute(name)
        if at is None:
            self.add(
                ERROR,
                path,
                f"attribute {name!r} is not defined by the directory's schema"
                + suggest(name, self.schema.attribute_names(), self._allowed_names()),
            )
            return None
        if writes and at.no_user_modification:
            self.add(
                ERROR,
                path,
                f"{at.name} is maintained by the directory (NO-USER-MODIFICATION): "
                "set write: readOnly",
            )
        if self.classes_known and not self._allows(at):
            hint = self._classes_allowing(at)
            self.add(
                ERROR if writes else WARNING,
                path,
                f"{at.name} is not allowed by the object classes "
                f"({', '.join(self.rm.object_classes)}): "
                + (
                    f"add an auxiliary class that allows it ({hint}), or map another attribute"
                    if hint
                    else "map another attribute"
                ),
            )
        return at

    def _allowed_names(self) -> list[str]:
        return [n for a in self.allowed if (t := self.schema.attribute(a)) for n in t.names]

    def _allows(self, at: ss.AttributeType) -> bool:
        return at.operational or self.anything or at.name.lower() in self.allowed

    def _classes_allowing(self, at: ss.AttributeType) -> str:
        names = sorted(
            {
                oc.name
                for oc in self.schema.object_classes.values()
                if oc.kind.upper() == "AUXILIARY"
                and at.name.lower() in {self.schema.canonical(a) for a in (*oc.must, *oc.may)}
            }
        )
        return ", ".join(names[:3])

    def _converter(
        self, converter: str, at: ss.AttributeType, path: str, reference: tuple[str, ...]
    ) -> None:
        if reference:
            if at.syntax not in (ss.SYNTAX_DN, ss.SYNTAX_NAME_AND_UID):
                self.add(WARNING, path, f"{at.name} does not hold DNs, but references are DNs")
            return
        wanted = _CONVERTER_FOR_SYNTAX.get(at.syntax or "")
        if wanted and converter != wanted:
            self.add(
                WARNING,
                f"{path}.converter",
                f"{at.name} has the {wanted} syntax: use converter: {wanted}",
            )

    # ---------------------------------------------------------------- special attributes

    def _naming(self) -> None:
        rdn = self.schema.attribute(self.rm.rdn_attribute)
        if rdn is None:
            return  # reported with its rule
        if self.classes_known and rdn.name.lower() not in self.allowed and not self.anything:
            self.add(
                ERROR,
                "rdn_attribute",
                f"{rdn.name} is not allowed by the object classes, so entries named by it "
                "are refused (namingViolation); name entries by an attribute they hold",
            )
        ident = self.schema.attribute(self.rm.id_attribute)
        if ident is None:
            self.add(
                ERROR,
                "id_attribute",
                f"attribute {self.rm.id_attribute!r} is not defined by the directory's schema"
                + suggest(self.rm.id_attribute, self.schema.attribute_names()),
            )

    def _members(self) -> None:
        members = self.rm.members
        if members is None:
            return
        at = self._attribute(members.ldap, "members.ldap", writes=True)
        if at is not None:
            holds_dns = at.syntax in (ss.SYNTAX_DN, ss.SYNTAX_NAME_AND_UID)
            if members.by_dn and not holds_dns:
                self.add(
                    ERROR,
                    "members.ldap",
                    f"{at.name} does not hold DNs: set member_value to the members' "
                    "naming attribute (e.g. uid for memberUid)",
                )
            elif not members.by_dn and holds_dns:
                self.add(
                    ERROR, "members.member_value", f"{at.name} holds DNs: use member_value: dn"
                )
        if members.member_of and self.schema.attribute(members.member_of) is None:
            self.add(
                ERROR,
                "members.member_of",
                f"attribute {members.member_of!r} is not defined: is the memberof overlay "
                "loaded? Without it, remove member_of",
            )

    def _disable(self) -> None:
        """The attributes the strategy writes exist, fit the classes, and suit it."""
        rule = self.rm.disable
        if rule is None:
            return
        for i, name in enumerate(rule.written_attributes()):
            at = self._attribute(name, "disable", writes=True)
            if at is None and i == 0 and rule.missing_hint:
                self.add(ERROR, "disable", rule.missing_hint)
            elif at is not None and rule.needs_integer and at.syntax != ss.SYNTAX_INTEGER:
                self.add(
                    ERROR,
                    "disable.attribute",
                    f"the {rule.name} strategy needs an INTEGER attribute (it sets one bit "
                    f"and filters with integerBitAndMatch); {at.name} is not one",
                )

    def _filter(self) -> None:
        if self.rm.filter is None:
            return
        for name in dict.fromkeys(_FILTER_ATTRIBUTE.findall(self.rm.filter.text)):
            if self.schema.attribute(name) is None:
                self.add(
                    ERROR,
                    "filter",
                    f"attribute {name!r} is not defined by the directory's schema"
                    + suggest(name, self.schema.attribute_names()),
                )
        for value in re.findall(r"\(\s*objectClass\s*=\s*([^)*]+)\)", self.rm.filter.text, re.I):
            if self.schema.object_class(value.strip()) is None:
                self.add(
                    ERROR,
                    "filter",
                    f"object class {value.strip()!r} is not defined"
                    + suggest(value.strip(), self.schema.class_names()),
                )

    # ---------------------------------------------------------------- MUST attributes

    def _musts(self) -> None:
        if not self.classes_known:
            return
        always, sometimes = self._produced()
        for attr, owner in self.must.items():
            if attr == "objectclass" or attr in always:
                continue
            at = self.schema.attribute(attr)
            shown = at.name if at else attr
            if attr in sometimes and sometimes[attr].startswith("members"):
                self.add(
                    ERROR,
                    sometimes[attr],
                    f"{shown} is required by {owner}, so a group without members is refused "
                    "(Entra creates groups empty): set members.placeholder to a DN",
                )
            elif attr in sometimes:
                self.add(
                    WARNING,
                    sometimes[attr],
                    f"{shown} is required by {owner} but written only when the client sends "
                    "a value: give the rule a default, or creates without it are refused",
                )
            else:
                self.add(
                    ERROR,
                    "attributes",
                    f"{shown} is required by {owner} (MUST) but no rule produces it: map a "
                    f"SCIM attribute to it with a default, or add '- ldap: {shown}' with a "
                    "constant or template",
                )

    def _produced(self) -> tuple[set[str], dict[str, str]]:
        """LDAP attributes every create writes, and those only some creates write (→ path)."""
        required = {self.rm.rtype.naming.lower()}
        canon = self.schema.canonical
        always = {canon(self.rm.rdn_attribute)}
        sometimes: dict[str, str] = {}
        for d in self.rm.derived:
            if d.constant or d.allocate or _always_renders(d.templates, required):
                always.add(canon(d.ldap))
            else:
                sometimes.setdefault(canon(d.ldap), d.source.split(".", 1)[1])
        for rule in self.rm.attributes:
            if not rule.writable:
                continue
            if rule.scim_text.lower() in required or _always_renders(rule.defaults, required):
                always.add(canon(rule.ldap))
            else:
                sometimes.setdefault(canon(rule.ldap), rule.source.split(".", 1)[1])
        if self.rm.members is not None:
            if self.rm.members.placeholder:
                always.add(canon(self.rm.members.ldap))
            else:
                sometimes.setdefault(canon(self.rm.members.ldap), "members.placeholder")
        if self.rm.disable is not None:
            always |= {canon(a) for a in self.rm.disable.always_written()}
        return always, sometimes


def check_directory(
    mapping: Mapping, schema: DirectorySchema, controls: frozenset[str]
) -> list[Finding]:
    """The mapping's ``directory:`` section against what the server shows: its schema (the
    version and entryDN attributes) and its root DSE's supportedControl (permissive modify)."""
    out: list[Finding] = []
    server = mapping.directory

    def add(level: str, key: str, message: str) -> None:
        path = f"directory.{key}"
        out.append(Finding(level, mapping.where(path), path, message))

    version = server.version_attribute
    if version is not None and schema.attribute(version) is None:
        add(
            ERROR,
            "version_attribute",
            f"{version} is not defined by the directory's schema, so resources would have no "
            "version: set version_attribute: none (no ETags; 389 DS), or an attribute that "
            "changes on every write (389 DS with the USN plugin: entryUSN)",
        )
    if server.entry_dn and schema.attribute("entryDN") is None:
        add(
            ERROR,
            "entry_dn",
            "entryDN is not defined by the directory's schema: set entry_dn: false",
        )
    # slapd honours permissive modify without listing it (a hidden control), so only a
    # server that lists it can be told apart: then false leaves a cheaper write unused
    if not server.permissive_modify and PERMISSIVE_MODIFY_OID in controls:
        add(
            WARNING,
            "permissive_modify",
            f"the server lists the permissive-modify control ({PERMISSIVE_MODIFY_OID}) in its "
            "root DSE: set permissive_modify: true",
        )
    return out


def _always_renders(templates: tuple[Template, ...], required: set[str]) -> bool:
    """Some template uses only attributes every request has (userName / displayName)."""
    return any(all(f.lower() in required for f in t.fields) for t in templates)
