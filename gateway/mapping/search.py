"""SCIM filter AST (RFC 7644 §3.4.2.2) → LDAP filter AST, through the mapping.

Everything is pushed down to the directory: an attribute the mapping cannot translate is
an ``invalidFilter`` error naming it, never dropped and never "match everything".
Translation table (also in docs/filters.md):

====================  ==========================================
SCIM                  LDAP
====================  ==========================================
``a eq v``            ``(a=v)``
``a ne v``            ``(!(a=v))`` (also matches entries without a)
``a co v``            ``(a=*v*)``
``a sw v`` / ``ew``   ``(a=v*)`` / ``(a=*v)``
``a pr``              ``(a=*)``
``a gt v``            ``(&(a>=v)(!(a=v)))``; ``ge`` → ``(a>=v)``
``a lt v``            ``(&(a<=v)(!(a=v)))``; ``le`` → ``(a<=v)``
``id``                the mapping's id attribute (entryUUID)
``meta.created``      createTimestamp; ``meta.lastModified`` → modifyTimestamp
``active``            the disable strategy's filter (or the disabled OU), see disable.py
``members.value``     ``(member=<DN of that id>)``
``emails[type eq "work" and value co "x"]``  the rule for work emails: ``(mail=*x*)``
``emails[type eq "work"].value eq "x"``  (Entra) read as ``emails[type eq "work" and value eq "x"]``
``addresses[type eq "work" and locality eq "x"]``  the rules of one type are one value: ``(l=x)``
====================  ==========================================

Matching follows the directory's matching rules: most LDAP attributes compare case-
insensitively, so ``caseExact`` SCIM attributes (externalId) match ignoring case.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.directory import dn as dnlib
from gateway.directory import ldapfilter as lf
from gateway.directory.sorting import SortKey
from gateway.errors import InvalidFilter, InvalidPath, InvalidValue
from gateway.mapping.converters import iso_to_generalized_time
from gateway.mapping.model import AttributeRule, ResourceMapping
from gateway.mapping.translate import slot_of
from gateway.scim import filter as sf
from gateway.scim.path import parse_path

Translated = lf.LdapFilter | bool  # True: matches every entry, False: matches none
IdResolver = Callable[[str], str | None]  # SCIM id → DN, or None when unknown

_META = {"created": "createTimestamp", "lastmodified": "modifyTimestamp"}


def to_ldap_filter(rm: ResourceMapping, node: sf.Filter, resolve_id: IdResolver) -> lf.LdapFilter:
    """The LDAP filter for a SCIM filter on ``rm``'s resource type (without the base filter)."""
    result = _Translator(rm, resolve_id).visit(node)
    if result is True:
        return lf.MATCH_ALL
    if result is False:
        return lf.Nothing()
    return result


class _Translator:
    def __init__(self, rm: ResourceMapping, resolve_id: IdResolver) -> None:
        self.rm = rm
        self.resolve_id = resolve_id

    def visit(self, node: sf.Filter) -> Translated:
        match node:
            case sf.And(left, right):
                return _and(self.visit(left), self.visit(right))
            case sf.Or(left, right):
                return _or(self.visit(left), self.visit(right))
            case sf.Not(inner):
                return _not(self.visit(inner))
            case sf.ValuePath(path, inner):
                return self._value_path(path, inner)
            case sf.Present(path):
                return self._leaf(path, "pr", None)
            case sf.Compare(path, op, value):
                return self._leaf(path, op, value)
        raise InvalidFilter(f"unsupported filter expression: {node!r}")

    # ---------------------------------------------------------------- leaves

    def _leaf(self, path: sf.AttrPath, op: str, value: Any) -> Translated:
        name = path.attr.lower()
        if path.schema is None or path.schema.lower() == self.rm.rtype.schema.id.lower():
            if name == "id" and path.sub_attr is None:
                return self._id(op, value)
            if name == "meta":
                return self._meta(path, op, value)
            if name == "active" and self.rm.disable is not None:
                return self._active(op, value)
            if name == "members" and self.rm.members is not None:
                return self._members(path.sub_attr, op, value)
        try:
            _schema, attribute, sub = self.rm.rtype.resolve(path)
        except InvalidPath as err:
            raise InvalidFilter(err.detail) from None  # already names the attribute
        rules = self._rules(path)
        if not rules:
            raise InvalidFilter(
                f"attribute {path.dotted()!r} is not mapped to the directory, "
                f"so it cannot be used in a filter"
            )
        sub_name = (sub.name if sub else None) or path.sub_attr
        if attribute.multi_valued:
            values = self._typed_values(attribute.name, rules)
            return _or(*(v.condition(self, sub_name or "value", op, value) for v in values))
        return _or(*(self._compare(rule, op, value) for rule in rules))

    def _typed_values(self, attr: str, rules: list[AttributeRule]) -> list[_TypedValue]:
        """The rules of a multi-valued attribute as the values they give: one per type.

        ``addresses[type eq "work"].streetAddress`` and ``.locality`` are two rules but one
        work address, so ``addresses[type eq "work" and locality eq "x"]`` is a test on that
        one value (RFC 7644 §3.4.2.2). References and untyped rules are values of their own.
        """
        groups: dict[object, list[AttributeRule]] = {}  # insertion order = mapping order
        for i, rule in enumerate(rules):
            slot = slot_of(rule, self.rm)
            alone = slot.is_reference or slot.type_value is None
            key: object = i if alone else (slot.type_value or "").casefold()
            groups.setdefault(key, []).append(rule)
        out = []
        for group in groups.values():
            slot = slot_of(group[0], self.rm)
            out.append(_TypedValue(attr, slot.type_value, tuple(group), slot.is_reference))
        known = {"type", "primary"}
        for v in out:
            known |= {(slot_of(r, self.rm).sub or "value").casefold() for r in v.rules}
        return [dataclasses.replace(v, known=frozenset(known)) for v in out]

    def _rules(self, path: sf.AttrPath) -> list[AttributeRule]:
        schema, attribute, sub = self.rm.rtype.resolve(path)
        container = self.rm.rtype.canonical_key(schema)
        out = []
        for rule in self.rm.attributes:
            slot = slot_of(rule, self.rm)
            if slot.container != container or slot.attr != attribute.name:
                continue
            if not attribute.multi_valued and sub is not None and slot.sub != sub.name:
                continue
            out.append(rule)
        return out

    def _compare(self, rule: AttributeRule, op: str, value: Any) -> Translated:
        attr = rule.ldap
        if op == "pr":
            return lf.Present(attr)
        if rule.reference:
            if op not in ("eq", "ne") or not isinstance(value, str):
                raise InvalidFilter(f"{rule.scim_text} supports only eq/ne with an id")
            target = self.resolve_id(value)
            found: Translated = lf.Equal(attr, target) if target else False
            return _not(found) if op == "ne" else found
        if value is None:
            raise InvalidFilter(f"{rule.scim_text}: compare with null is not supported; use pr")
        if op in ("co", "sw", "ew") and not isinstance(value, str):
            raise InvalidFilter(f"'{op}' needs a string value")
        try:
            text = rule.converter.to_ldap(value)
        except ValueError as err:
            raise InvalidFilter(f"{rule.scim_text}: {err}") from None
        return _operator(attr, op, text)

    def _id(self, op: str, value: Any) -> Translated:
        attr = self.rm.id_attribute
        if op == "pr":
            return True
        if op not in ("eq", "ne"):
            raise InvalidFilter("id supports eq, ne and pr")
        if not isinstance(value, str):
            raise InvalidFilter("id must be compared with a string")
        eq: Translated = lf.Equal(attr, value) if self.rm.accepts_id(value) else False
        return _not(eq) if op == "ne" else eq

    def _meta(self, path: sf.AttrPath, op: str, value: Any) -> Translated:
        sub = (path.sub_attr or "").lower()
        if sub == "resourcetype":
            return _static(self.rm.name, op, value)
        attr = _META.get(sub)
        if attr is None:
            raise InvalidFilter(f"meta.{path.sub_attr} cannot be used in a filter")
        if op == "pr":
            return True
        if op in ("co", "sw", "ew"):
            raise InvalidFilter(f"meta.{path.sub_attr} supports eq, ne, gt, ge, lt, le and pr")
        try:
            text = iso_to_generalized_time(value)
        except ValueError as err:
            raise InvalidFilter(f"meta.{path.sub_attr}: {err}") from None
        return _operator(attr, op, text)

    def _active(self, op: str, value: Any) -> Translated:
        rule = self.rm.disable
        assert rule is not None
        if op == "pr":
            return True
        if op not in ("eq", "ne") or not isinstance(value, bool):
            raise InvalidFilter("active supports eq and ne with true or false")
        disabled: Translated = rule.disabled_filter()  # the strategy's (mapping/disable.py)
        want_active = value if op == "eq" else not value
        return _not(disabled) if want_active else disabled

    def _members(self, sub: str | None, op: str, value: Any) -> Translated:
        members = self.rm.members
        assert members is not None
        if (sub or "value").lower() != "value":
            raise InvalidFilter(f"members.{sub} cannot be used in a filter; use members.value")
        if op == "pr":
            if members.placeholder:
                return _and(
                    lf.Present(members.ldap), _not(lf.Equal(members.ldap, members.placeholder))
                )
            return lf.Present(members.ldap)
        if op not in ("eq", "ne") or not isinstance(value, str):
            raise InvalidFilter("members.value supports eq, ne and pr with a member id")
        target = self.resolve_id(value)
        if target and not members.by_dn:
            target = dnlib.rdn_value(target)  # posixGroup memberUid holds the member's uid
        eq: Translated = lf.Equal(members.ldap, target) if target else False
        return _not(eq) if op == "ne" else eq

    def _value_path(self, path: sf.AttrPath, inner: sf.Filter) -> Translated:
        """``attr[inner]``: inner paths are sub-attributes of each value of ``attr``."""
        if path.attr.lower() == "members" and self.rm.members is not None:
            return self._sub_visit(inner, lambda sub, op, v: self._members(sub, op, v))
        try:
            _schema, attribute, _sub = self.rm.rtype.resolve(path)
        except InvalidPath as err:
            raise InvalidFilter(err.detail) from None  # already names the attribute
        if not attribute.multi_valued and not attribute.sub_attributes:
            raise InvalidFilter(f"{attribute.name}[...] needs a complex attribute")
        rules = self._rules(path)
        if not rules:
            raise InvalidFilter(f"attribute {path.attr!r} is not mapped to the directory")
        if not attribute.multi_valued:
            return self._sub_visit(
                inner,
                lambda sub, op, v: self._leaf(sf.AttrPath(path.schema, path.attr, sub), op, v),
            )
        return _or(
            *(
                self._sub_visit(inner, lambda sub, op, v, t=typed: t.condition(self, sub, op, v))
                for typed in self._typed_values(attribute.name, rules)
            )
        )

    def _sub_visit(
        self, node: sf.Filter, leaf: Callable[[str, str, Any], Translated]
    ) -> Translated:
        match node:
            case sf.And(left, right):
                return _and(self._sub_visit(left, leaf), self._sub_visit(right, leaf))
            case sf.Or(left, right):
                return _or(self._sub_visit(left, leaf), self._sub_visit(right, leaf))
            case sf.Not(inner):
                return _not(self._sub_visit(inner, leaf))
            case sf.Present(path):
                return leaf(path.attr, "pr", None)
            case sf.Compare(path, op, value):
                return leaf(path.attr, op, value)
        raise InvalidFilter("a value filter cannot contain another value filter")


@dataclass(frozen=True, slots=True)
class _TypedValue:
    """One value a mapping gives a multi-valued attribute: a type and the rules filling it."""

    attr: str
    type_value: str | None
    rules: tuple[AttributeRule, ...]
    is_reference: bool = False
    known: frozenset[str] = frozenset()  # sub-attributes some value of the attribute maps

    def condition(self, tr: _Translator, sub: str, op: str, value: Any) -> Translated:
        """``sub op value`` on this value: the rule storing ``sub``, or what the mapping fixes."""
        s = sub.casefold()
        if self.is_reference:
            return tr._compare(self.rules[0], op, value)
        if s not in self.known:
            raise InvalidFilter(f"{self.attr}.{sub} is not mapped to the directory")
        for rule in self.rules:
            if (slot_of(rule, tr.rm).sub or "value").casefold() == s:
                return tr._compare(rule, op, value)
        exists = _or(*(lf.Present(r.ldap) for r in self.rules))
        if s == "type":
            return _and(exists, _static(self.type_value, op, value))
        if s == "primary":
            return _and(exists, _static(any(r.primary for r in self.rules), op, value))
        # this type of value never has that sub-attribute: only "ne" holds, as for any
        # missing attribute (``(!(a=v))`` matches entries without a)
        return _and(exists, _static(None, op, value))


def _operator(attr: str, op: str, text: str) -> lf.LdapFilter:
    if text == "" and op in ("eq", "ne"):
        # LDAP values are never empty: nothing equals "", everything with a value differs
        return lf.Nothing() if op == "eq" else lf.Present(attr)
    match op:
        case "eq":
            return lf.Equal(attr, text)
        case "ne":
            return lf.Not(lf.Equal(attr, text))
        case "co":
            return lf.Substring(attr, any=(text,)) if text else lf.Present(attr)
        case "sw":
            return lf.Substring(attr, initial=text) if text else lf.Present(attr)
        case "ew":
            return lf.Substring(attr, final=text) if text else lf.Present(attr)
        case "gt":
            return lf.And((lf.GreaterOrEqual(attr, text), lf.Not(lf.Equal(attr, text))))
        case "ge":
            return lf.GreaterOrEqual(attr, text)
        case "lt":
            return lf.And((lf.LessOrEqual(attr, text), lf.Not(lf.Equal(attr, text))))
        case "le":
            return lf.LessOrEqual(attr, text)
        case "pr":
            return lf.Present(attr)
    raise InvalidFilter(f"unknown operator {op!r}")


def _static(actual: Any, op: str, value: Any) -> bool:
    """Evaluate a comparison whose left side the mapping fixes (a value's ``type``)."""
    if op == "pr":
        return actual is not None
    if isinstance(actual, str) and isinstance(value, str):
        a, v = actual.lower(), value.lower()
        return {
            "eq": a == v,
            "ne": a != v,
            "co": v in a,
            "sw": a.startswith(v),
            "ew": a.endswith(v),
        }.get(op, False)
    if op == "eq":
        return actual == value
    if op == "ne":
        return actual != value
    return False


_ASSERTIONS = (lf.Equal, lf.Substring, lf.GreaterOrEqual, lf.LessOrEqual)


def _and(*items: Translated) -> Translated:
    if any(i is False for i in items):
        return False
    rest = [i for i in items if i is not True]
    if not rest:
        return True
    flat = lf.conjunction(*rest)  # type: ignore[arg-type]
    if not isinstance(flat, lf.And):
        return flat
    # A typed value "exists" when one of its attributes is present; a test on one of them
    # already says so: (&(mail=*)(mail=x)) is (mail=x), (&(|(street=*)(l=*))(l=x)) is (l=x).
    items = list(dict.fromkeys(flat.items))
    asserted = {i.attr.lower() for i in items if isinstance(i, _ASSERTIONS)}
    present = asserted | {i.attr.lower() for i in items if isinstance(i, lf.Present)}
    kept = [i for i in items if not _implied(i, asserted, present)]
    return kept[0] if len(kept) == 1 else lf.And(tuple(kept))


def _implied(item: lf.LdapFilter, asserted: set[str], present: set[str]) -> bool:
    """Is ``item`` a presence test that other conjuncts (on ``asserted``/``present``) imply?"""
    if isinstance(item, lf.Present):
        return item.attr.lower() in asserted
    if isinstance(item, lf.Or) and all(isinstance(i, lf.Present) for i in item.items):
        return any(i.attr.lower() in present for i in item.items)  # type: ignore[union-attr]
    return False


def _or(*items: Translated) -> Translated:
    if any(i is True for i in items):
        return True
    rest: list[lf.LdapFilter] = []
    for i in items:
        if i is False:
            continue
        rest.extend(i.items if isinstance(i, lf.Or) else [i])  # type: ignore[union-attr]
    if not rest:
        return False
    return rest[0] if len(rest) == 1 else lf.Or(tuple(rest))


def _not(item: Translated) -> Translated:
    if isinstance(item, bool):
        return not item
    return lf.Not(item)


_ORDERING = {
    "string": "caseIgnoreOrderingMatch",
    "lowercase": "caseIgnoreOrderingMatch",
    "integer": "integerOrderingMatch",
}


def sort_key(rm: ResourceMapping, sort_by: str | None, descending: bool = False) -> SortKey:
    """The LDAP sort key for SCIM ``sortBy`` (RFC 7644 §3.4.2.3); the naming attribute if None.

    Attributes are sorted with an explicit ordering rule because most naming attributes
    (uid, cn) have none in the stock schemas, and slapd refuses to sort them otherwise.
    """
    if sort_by is None or not sort_by.strip():
        return SortKey(rm.rdn_attribute, _ORDERING["string"], descending)
    path = parse_path(sort_by.strip())
    name = path.attr.attr.lower()
    if name == "id" and path.attr.sub_attr is None:
        return SortKey(rm.id_attribute, None, descending)
    if name == "meta" and (path.attr.sub_attr or "").lower() in _META:
        return SortKey(_META[(path.attr.sub_attr or "").lower()], None, descending)
    try:
        rules = _Translator(rm, lambda _i: None)._rules(path.attr)
    except InvalidPath as err:
        raise InvalidValue(f"cannot sort by {sort_by!r}: {err.detail}") from None
    rules = [r for r in rules if not r.reference]
    if not rules:
        raise InvalidValue(f"cannot sort by {sort_by!r}: it is not mapped to the directory")
    rule = rules[0]
    return SortKey(rule.ldap, _ORDERING.get(rule.converter.name), descending)
