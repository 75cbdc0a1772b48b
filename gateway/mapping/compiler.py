"""Validated YAML data (from the loader's marshmallow schemas) → frozen mapping rules.

The loader checks shapes and types; this module checks meaning: SCIM paths exist, rule kinds
are not mixed (a rule has ``scim`` or is LDAP-only: ``constant`` / ``template`` /
``allocate``), DNs parse, the naming rule is writable, an LDAP attribute is produced by one
rule kind only, references and member types point at defined resource types. Problems are
appended (with ``file:line: path:``) to a list so every one is reported at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import Any

from gateway.directory import dn as dnlib
from gateway.directory.ldapfilter import Raw, validate_raw
from gateway.errors import InvalidPath
from gateway.mapping.converters import REGISTRY
from gateway.mapping.disable import STRATEGIES, DisableStrategy
from gateway.mapping.model import (
    DERIVED_WRITE_POLICIES,
    Allocation,
    AttributeRule,
    DerivedRule,
    MembersRule,
    ResourceMapping,
    Template,
)
from gateway.scim.filter import Compare
from gateway.scim.path import PatchPath, parse_path
from gateway.scim.registry import BUILTIN, Registry
from gateway.scim.schema import Attribute, ResourceType

COUNTER_RDN = "cn"

Where = Callable[[str], str]
_DERIVED_KINDS = ("constant", "template", "allocate")
_SCIM_ONLY = ("default", "reference", "primary")


class _Problems:
    def __init__(self, problems: list[str], where: Where) -> None:
        self.problems = problems
        self.where = where
        self.before = len(problems)

    def add(self, path: str, message: str) -> None:
        self.problems.append(f"{self.where(path)}: {path}: {message}")

    @property
    def found(self) -> bool:
        return len(self.problems) > self.before


def compile_resource(
    name: str,
    spec: dict[str, Any],
    problems: list[str],
    where: Where,
    registry: Registry = BUILTIN,
) -> ResourceMapping | None:
    """The ResourceMapping for one validated YAML block, or None (with problems) if invalid.

    ``registry``: the mapping's resource types, ``name`` among them (its schema, naming
    attribute and member types come from there).
    """
    rtype = registry[name]
    report = _Problems(problems, where)
    rules: list[AttributeRule] = []
    derived: list[DerivedRule] = []
    for i, raw in enumerate(spec["attributes"]):
        here = f"{name}.attributes.{i}"
        if raw["scim"] is None:
            rule = _derived_rule(raw, here, report)
            if rule is not None:
                derived.append(rule)
        else:
            scim_rule = _scim_rule(rtype, raw, here, report)
            if scim_rule is not None:
                rules.append(scim_rule)
    _check_duplicates(name, rules, derived, report)
    _check_dn(spec["base_dn"], f"{name}.base_dn", report)
    flt = None
    if spec["filter"]:
        error = validate_raw(spec["filter"])
        if error:
            report.add(f"{name}.filter", error)
        flt = Raw(spec["filter"])
    rdn = spec["rdn_attribute"]
    if not any(r.ldap.lower() == rdn.lower() and r.writable for r in rules):
        report.add(
            f"{name}.rdn_attribute",
            f"no writable attribute rule maps to {rdn!r}; map the naming SCIM attribute "
            f"({rtype.naming}) to it",
        )
    disable = _disable(name, spec, report)
    members = None
    if spec["members"]:
        m = spec["members"]
        members = MembersRule(
            m["ldap"], tuple(m["types"]), m["placeholder"], m["member_of"], m["member_value"]
        )
        if not rtype.member_types:
            report.add(f"{name}.members", f"a {name} cannot hold members")
        elif any(t not in rtype.member_types for t in m["types"]):
            report.add(
                f"{name}.members.types", f"{name} members may be {', '.join(rtype.member_types)}"
            )
        if m["member_of"] and not members.by_dn:
            report.add(
                f"{name}.members.member_of",
                "a back-link needs DN-valued members; remove member_of or member_value",
            )
    if report.found:
        return None
    return ResourceMapping(
        name=name,
        rtype=rtype,
        registry=registry,
        base_dn=spec["base_dn"],
        scope=spec["scope"],
        object_classes=tuple(spec["object_classes"]),
        rdn_attribute=rdn,
        id_attribute=spec["id_attribute"],
        attributes=tuple(rules),
        filter=flt,
        unmapped=spec["unmapped"],
        disable=disable,
        members=members,
        derived=tuple(derived),
    )


def _scim_rule(
    rtype: ResourceType, raw: dict[str, Any], here: str, report: _Problems
) -> AttributeRule | None:
    for key in _DERIVED_KINDS:
        if raw[key] is not None:
            report.add(
                f"{here}.{key}",
                f"'{key}' is for LDAP-only rules (without 'scim'); a SCIM attribute's "
                f"fallback values go in 'default'",
            )
    try:
        ppath = parse_path(raw["scim"])
        _schema, attribute, _sub = rtype.resolve(ppath.attr)
    except InvalidPath as err:
        report.add(f"{here}.scim", err.detail)
        return None
    problem = _value_selection_problem(ppath, attribute, raw)
    if problem:
        report.add(f"{here}.scim", problem)
        return None
    return AttributeRule(
        scim_text=raw["scim"],
        scim=ppath,
        ldap=raw["ldap"],
        converter=REGISTRY[raw["converter"] or "string"],
        defaults=tuple(Template.parse(t) for t in raw["default"]),
        write=raw["write"] or "readWrite",
        reference=tuple(raw["reference"]),
        primary=raw["primary"],
        source=here,
    )


def _value_selection_problem(ppath: PatchPath, attribute: Attribute, raw: dict[str, Any]) -> str:
    """What is wrong with how a rule picks a value of a multi-valued attribute ("" if nothing).

    A rule stores one sub-attribute of the values of one type: ``emails[type eq "work"].value``,
    ``addresses[type eq "work"].locality``. Anything else would load and then silently store
    nothing: a misspelt sub-attribute (``.valu``, ``addresses[...].state``), ``display``
    (RFC 7643 §2.4: read-only, clients send ``value``), or a filter other than ``type eq``.
    """
    example = f'{attribute.name}[type eq "work"].{_first_part(attribute)}'
    if ppath.value_filter is not None:
        if not attribute.multi_valued:
            return f"{attribute.name} is single-valued: drop the [...] filter"
        flt = ppath.value_filter
        if not (
            isinstance(flt, Compare)
            and flt.op == "eq"
            and flt.path.attr.casefold() == "type"
            and isinstance(flt.value, str)
            and flt.value
        ):
            return f"a rule selects the values of one type only, as in {example}"
    sub_name = ppath.sub_attr if ppath.value_filter is not None else ppath.attr.sub_attr
    if not attribute.multi_valued or raw["reference"]:
        return ""
    if sub_name is None:
        if attribute.sub("value") is None:
            return f"{attribute.name} values have no 'value': name the part, as in {example}"
        return ""
    sub = attribute.sub(sub_name)
    if sub is None:
        return (
            f"unknown sub-attribute {sub_name!r} of {attribute.name}"
            + _did_you_mean(sub_name, attribute)
            + " — a rule with it would store nothing"
        )
    if sub.name in ("type", "primary"):
        return (
            f"{sub.name} is set by the rule itself ('[type eq ...]', 'primary: true'); "
            f"map a value, as in {example}"
        )
    if sub.name == "display" and (raw["write"] or "readWrite") != "readOnly":
        return (
            "display is read-only (RFC 7643 §2.4): clients send 'value', so this rule would "
            f"store nothing; map {attribute.name}[...].value (or set write: readOnly)"
        )
    return ""


_SUB_ALIASES = {
    "state": "region",
    "province": "region",
    "city": "locality",
    "town": "locality",
    "zip": "postalCode",
    "zipcode": "postalCode",
    "street": "streetAddress",
}


def _did_you_mean(name: str, attribute: Attribute) -> str:
    names = [s.name for s in attribute.sub_attributes if s.name not in ("type", "primary")]
    alias = _SUB_ALIASES.get(name.casefold())
    if alias and alias in names:
        return f" (did you mean {alias!r}?)"
    close = difflib.get_close_matches(name.casefold(), [n.casefold() for n in names], n=1)
    if close:
        return f" (did you mean {next(n for n in names if n.casefold() == close[0])!r}?)"
    return f" (it has {', '.join(names)})"


def _first_part(attribute: Attribute) -> str:
    if attribute.sub("value") is not None or not attribute.sub_attributes:
        return "value"
    return attribute.sub_attributes[0].name


def _derived_rule(raw: dict[str, Any], here: str, report: _Problems) -> DerivedRule | None:
    kinds = [k for k in _DERIVED_KINDS if raw[k] is not None]
    if len(kinds) != 1:
        report.add(
            here,
            "a rule needs 'scim' (a SCIM attribute) or exactly one of 'constant', "
            "'template', 'allocate' (an LDAP-only attribute)"
            + (f"; found {', '.join(kinds)}" if kinds else ""),
        )
        return None
    for key in _SCIM_ONLY:
        if raw[key] not in (None, [], False):
            report.add(f"{here}.{key}", f"'{key}' needs 'scim'; remove it from this LDAP-only rule")
    write = raw["write"] or "createOnly"
    if write not in DERIVED_WRITE_POLICIES:
        report.add(
            f"{here}.write",
            "an LDAP-only rule is written by the gateway: use "
            + " or ".join(DERIVED_WRITE_POLICIES),
        )
    allocation = None
    if raw["allocate"] is not None:
        a = raw["allocate"]
        allocation = Allocation(a["counter"], a["first"], a["last"])
        if a["first"] > a["last"]:
            report.add(f"{here}.allocate.last", "must not be below 'first'")
        if _check_dn(a["counter"], f"{here}.allocate.counter", report):
            attr = dnlib.components(a["counter"])[0][0]
            if attr.lower() != COUNTER_RDN:
                report.add(
                    f"{here}.allocate.counter",
                    f"name the counter entry by {COUNTER_RDN} (e.g. cn=uidNumber-counter,...): "
                    "the gateway creates it as a device entry when it is missing",
                )
    return DerivedRule(
        ldap=raw["ldap"],
        constant=tuple(raw["constant"] or ()),
        templates=tuple(Template.parse(t) for t in raw["template"] or ()),
        allocate=allocation,
        converter=REGISTRY[raw["converter"]] if raw["converter"] else None,
        write=write,
        source=here,
    )


def _check_duplicates(
    name: str, rules: list[AttributeRule], derived: list[DerivedRule], report: _Problems
) -> None:
    seen: set[str] = set()
    for rule in rules:
        # emails[type eq "work"].value and EMAILS[ type eq "Work" ].Value are one place
        typed = rule.type_value.casefold() if rule.type_value is not None else ""
        sub = rule.scim.sub_attr or ("value" if typed else "")
        key = f"{rule.scim.attr.qualified()}[{typed}].{sub}".casefold()
        if key in seen:
            report.add(rule.source, f"{rule.scim_text} is mapped twice")
        seen.add(key)
    by_scim = {r.ldap.lower() for r in rules}
    taken: set[str] = set()
    for rule in derived:
        key = rule.ldap.lower()
        if key in by_scim or key in taken:
            report.add(
                f"{rule.source}.ldap",
                f"{rule.ldap} is already written by another rule; one LDAP attribute is "
                "either mapped from SCIM or filled in by the gateway, not both",
            )
        taken.add(key)


def _check_dn(text: str, path: str, report: _Problems) -> bool:
    try:
        dnlib.components(text)
    except dnlib.InvalidDn:
        report.add(path, f"{text!r} is not a valid DN (RFC 4514), e.g. ou=People,dc=example,dc=org")
        return False
    return True


def _disable(name: str, spec: dict[str, Any], report: _Problems) -> DisableStrategy | None:
    """The strategy class named by ``disable.strategy`` checks its own keys' meaning."""
    d = spec["disable"]
    if not d:
        return None
    here = f"{name}.disable"
    keys = {k: v for k, v in d.items() if k != "strategy"}
    return STRATEGIES[d["strategy"]].build(
        keys, spec["base_dn"], lambda key, msg: report.add(f"{here}.{key}" if key else here, msg)
    )


def cross_check(
    resources: dict[str, ResourceMapping], where: Where, defined: Iterable[str] = ()
) -> list[str]:
    """Problems between resource types: references and member types that point nowhere.

    ``defined``: the types the file has a section for. One whose section has errors of its own
    is not in ``resources``; references to it are not reported again (its errors say why).
    """
    present = set(resources) | set(defined)
    problems: list[str] = []
    report = _Problems(problems, where)
    for res in resources.values():
        for rule in res.attributes:
            for ref in rule.reference:
                if ref not in present:
                    report.add(
                        f"{rule.source}.reference",
                        f"{res.name} {rule.scim_text} refers to {ref}, which this mapping "
                        "does not define",
                    )
        members = res.members
        if members is None:
            continue
        for t in members.types:
            target = resources.get(t)
            if target is None and t in present:
                continue  # its section failed to compile; its own errors are reported
            if target is None:
                report.add(f"{res.name}.members.types", f"{t} is not defined in this mapping")
            elif not members.by_dn and target.rdn_attribute.lower() != members.member_value.lower():
                report.add(
                    f"{res.name}.members.member_value",
                    f"{members.member_value!r} must be the RDN attribute of {t} "
                    f"({target.rdn_attribute}): member values are read from member DNs",
                )
    return problems
