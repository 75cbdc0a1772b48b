"""SCIM id ⇄ DN resolution for references (manager, members, groups), in bulk.

Each direction is one LDAP search per chunk of values, whatever the number of references:
ids are matched with ``(|(entryUUID=a)(entryUUID=b)…)``, DNs with ``(|(entryDN=…)…)``
(RFC 5020 ``entryDN``, which OpenLDAP and 389 DS both index), below the deepest DN that
contains the bases of the resource types involved (see gateway.mapping.placement).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

from gateway.directory import dn as dnlib
from gateway.directory import ldapfilter as lf
from gateway.directory.deref import Linked
from gateway.directory.entry import Entry
from gateway.directory.operations import Directory
from gateway.mapping import placement
from gateway.mapping.model import AttributeRule, Mapping, ResourceMapping
from gateway.provisioning.reftypes import named_types

CHUNK = 200


class Ref(NamedTuple):
    """A resource found in the directory: its type's name, its id and its entry's DN.

    A named tuple rather than a frozen dataclass: as immutable, compared and hashed by its
    fields alike, and made in half the time (a frozen dataclass sets each field through
    ``object.__setattr__``): a member add makes several, a big group's read one per member.
    """

    type: str  # resource type name
    id: str
    dn: str


class References:
    def __init__(self, directory: Directory, mapping: Mapping) -> None:
        self.directory = directory
        self.mapping = mapping

    def by_ids(self, ids: Iterable[str], types: Iterable[str]) -> dict[str, Ref]:
        """Existing resources among ``ids`` (of the given types), keyed by id: one search per
        chunk of ids, asked now (a request's :class:`~gateway.provisioning.resolver.Resolver`
        answers the ids it already found)."""
        plan = _plan(self.mapping, tuple(types))
        wanted = [i for i in dict.fromkeys(ids) if plan.accepts_id(i)]
        id_attrs = plan.id_attrs
        return self._lookup(
            plan.mappings,
            wanted,
            lambda chunk: (lf.Equal(a, i) for a in id_attrs for i in chunk),
            lambda ref: ref.id,
            plan,
        )

    def by_dns(self, dns: Iterable[str], types: Iterable[str]) -> dict[str, Ref]:
        """Resources at ``dns`` (of the given types), keyed by normalized DN."""
        entry_dn = self.mapping.directory.entry_dn  # else the RDN only: extra entries may match
        found = self._lookup(
            tuple(self._mappings(types)),
            list(dict.fromkeys(dns)),
            lambda chunk: (lf.entry_at(d, entry_dn=entry_dn) for d in chunk),
            lambda ref: placement.normalized(ref.dn),
        )
        if entry_dn:
            return found
        asked = {placement.normalized(d) for d in dns}
        return {k: ref for k, ref in found.items() if k in asked}

    def entry_with_refs(
        self,
        rm: ResourceMapping,
        ident: str,
        attributes: Sequence[str],
        ids: list[str],
        types: Iterable[str],
    ) -> tuple[Entry | None, dict[str, Ref]]:
        """The entry ``rm``/``ident`` plus the resources among ``ids``, in ONE search.

        A PATCH that adds members or sets a manager needs both the resource and the DNs of
        the ids it names: asked together, that is one round trip instead of two.

        An entry none of whose id attributes holds an id asked for (the entry itself, mostly)
        is not classified: the Ref it would make has one of those values as its id, so it
        would be left out anyway (tests/unit/provisioning/test_refs_shortcuts.py).
        """
        how = _patch_read(self.mapping, rm, tuple(attributes), tuple(types))
        plan = how.plan
        wanted = [i for i in dict.fromkeys(ids) if plan.accepts_id(i)]
        own = lf.conjunction(rm.filter, lf.Equal(rm.id_attribute, ident))
        id_attrs = plan.id_attrs
        flt: lf.LdapFilter = own
        if wanted:
            others = lf.conjunction(
                plan.type_filter,
                lf.Or(tuple(lf.Equal(a, i) for a in id_attrs for i in wanted)),
            )
            flt = lf.Or((own, others))
        found = self.directory.search(how.base, "sub", flt, list(how.read), deref=how.deref)
        entry = None
        for e in found:  # the first with the id asked for that is of rm's type
            values = e.attributes.get(how.own_key)  # e.first(rm.id_attribute)
            if values and values[0] == ident and self._classify(e, how.own):
                entry = e
                break
        refs: dict[str, Ref] = {}
        asked = set(wanted)
        for e in found if asked else ():
            if not _holds_one_of(e, how.id_keys, asked):
                continue  # no Ref of it could have an id asked for
            ref = self._classify(e, plan.mappings)
            if ref is not None and ref.id in asked:
                refs[ref.id] = ref
        return entry, refs

    def deref_specs(self, rm: ResourceMapping) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """What to ask the server to dereference when reading ``rm`` entries: for each
        reference attribute (memberOf, manager), the id attribute and object classes of the
        entries it names. One search then brings the ids with the entry (``Entry.linked``).

        Only for target types whose mapping filter is a plain ``(objectClass=X)`` (or none):
        that can be checked on the object classes returned; any other filter needs a search.
        """
        return _deref_specs(self.mapping, rm)

    def member_deref_spec(self, group: ResourceMapping) -> tuple[str, tuple[str, ...]] | None:
        """The dereference spec that brings a group's members' ids with the group, or None
        when member values are not DNs or a member type's filter needs a search to check."""
        return _member_deref_spec(self.mapping, group)

    def linked_refs(
        self, entry: Entry, attribute: str, types: Iterable[str]
    ) -> tuple[list[Ref], list[str]] | None:
        """The resources ``entry``'s ``attribute`` names, from what the server dereferenced
        with it; and the DNs only the server can classify (for :meth:`by_dns`). None when the
        server dereferenced nothing (no overlay): the caller resolves another way.

        A value naming no entry (or one the bind may not read) comes back without
        attributes and is left out, as a search for it would find nothing.
        """
        linked = entry.linked.get(attribute.lower()) if entry.linked is not None else None
        if linked is None:
            return None
        mappings = self._mappings(types)
        found: list[Ref] = []
        pending: list[str] = []
        # A group of 20,000 lists 20,000 DNs, nearly all under one parent with one set of
        # classes: classified once per (parent, classes), not per DN. For a DN whose first
        # RDN is plain (uid=jdoe: no escapes, no "+", nothing normalizing changes but case)
        # the normalized DN is that RDN lower-cased, a comma and the normalized parent; so
        # whether it lies in a type's base and scope (one, sub, the disabled base) depends on
        # the parent alone, unless the DN is a base itself (ruled out by ``bases``), and its
        # type follows from (parent, object classes). Any other DN is classified on its own.
        bases = _base_rdns(tuple(mappings))
        plain = _SIMPLE_RDN.fullmatch
        # (DN, (classes, *ids)) of each target; from the compact form without making the
        # Entry objects when the codec kept them so (deref.Linked)
        names = ("objectclass", *dict.fromkeys(rm.id_attribute.lower() for rm in mappings))
        rows = (
            linked.pick(names)
            if isinstance(linked, Linked)
            else ((e.dn, tuple(e.get(n) for n in names)) for e in linked)
        )
        seen: dict[tuple[str, tuple[str, ...]], tuple[str, int, bool]] = {}
        for index, (dn, values) in enumerate(rows):
            rdn, comma, parent = dn.partition(",")
            key = (
                (parent, values[0])
                if comma and plain(rdn) and parent[:1].isalpha() and rdn.lower() not in bases
                else None
            )
            known = seen.get(key) if key is not None else None
            if known is not None:
                kind, at, direct = known
                ident = values[at]
                if not ident or not ident[0]:
                    continue
                ref = Ref(kind, ident[0], dn)
            else:
                target = linked[index]
                ref = self._classify(target, mappings)
                if ref is None:
                    continue
                rm = self.mapping[ref.type]
                direct = _has_filter_class(rm, target)
                if key is not None:
                    seen[key] = (ref.type, names.index(rm.id_attribute.lower()), direct)
            if direct:
                found.append(ref)
            else:
                pending.append(dn)
        return found, pending

    def from_links(
        self, rm: ResourceMapping, entries: Iterable[Entry]
    ) -> tuple[dict[str, Ref], set[str]]:
        """References in ``entries`` resolved from what the server dereferenced, keyed by
        normalized DN; and the DN values it did not resolve (for :meth:`by_dns`)."""
        found: dict[str, Ref] = {}
        pending: set[str] = set()
        specs = {attr.lower() for attr, _ in self.deref_specs(rm)}
        rules = _reference_rules(rm)
        for entry in entries:
            for rule, name in rules:
                values = entry.get(name)
                if not values:
                    continue
                linked = entry.linked.get(name) if entry.linked and name in specs else None
                if linked is None:
                    pending.update(values)
                    continue
                mappings = _plan(self.mapping, rule.reference).mappings
                for target in linked:
                    ref = self._classify(target, mappings)
                    if ref is None:
                        continue  # not where, or not what, the mapping keeps: by_dns agrees
                    if _has_filter_class(self.mapping[ref.type], target):
                        found[placement.normalized(target.dn)] = ref
                    else:  # the type's filter may still match (a subclass): ask the server
                        pending.add(target.dn)
        return found, pending

    def _mappings(self, types: Iterable[str]) -> list[ResourceMapping]:
        return [
            self.mapping.resources[t] for t in dict.fromkeys(types) if t in self.mapping.resources
        ]

    def by_rdn_values(self, values: Iterable[str], types: Iterable[str]) -> dict[str, Ref]:
        """Resources whose naming attribute has one of ``values`` (posixGroup's memberUid
        holds uids, not DNs), keyed by the lower-cased value."""
        mappings = tuple(self._mappings(types))
        return self._lookup(
            mappings,
            [v for v in dict.fromkeys(values) if v],
            lambda chunk: (lf.Equal(rm.rdn_attribute, v) for rm in mappings for v in chunk),
            lambda ref: dnlib.rdn_value(ref.dn).lower(),
        )

    def _lookup(
        self,
        mappings: tuple[ResourceMapping, ...],
        wanted: list[str],
        matches: Callable[[list[str]], Iterable[lf.LdapFilter]],
        key: Callable[[Ref], str],
        plan: LookupPlan | None = None,
    ) -> dict[str, Ref]:
        """One search per chunk of ``wanted`` values: ``(&<types>(|<matches>))``.

        ``plan``: the same types' search parts worked out once (:func:`_plan`), else here."""
        out: dict[str, Ref] = {}
        if not wanted or not mappings:
            return out
        if plan is None:
            plan = _plan_of(mappings)
        for chunk in _chunks(wanted):
            flt = lf.conjunction(plan.type_filter, lf.Or(tuple(matches(chunk))))
            found = self.directory.search(plan.base, plan.scope, flt, list(plan.read))
            for entry in found:
                ref = self._classify(entry, mappings)
                if ref is not None:
                    out[key(ref)] = ref
        return out

    def holding(self, attribute: str, value: str, types: Iterable[str]) -> list[Ref]:
        """Resources of ``types`` whose ``attribute`` holds ``value`` — a group's members,
        through their ``memberOf`` back-link — in one paged search, whatever their number
        and however many types they are spread over."""
        mappings = self._mappings(types)
        if not mappings:
            return []
        flt = lf.conjunction(_type_filter(mappings), lf.Equal(attribute, value))
        base, scope = _where(mappings)
        attrs = [*{rm.id_attribute for rm in mappings}, "objectClass"]
        return [
            ref
            for entry in self.directory.search_paged(base, scope, flt, attrs)
            if (ref := self._classify(entry, mappings)) is not None
        ]

    @staticmethod
    def _classify(entry: Entry, mappings: Sequence[ResourceMapping]) -> Ref | None:
        """Which resource type an entry is: by where it lives, then by its object classes
        (:func:`type_of`); None if none, or if the entry has no id."""
        if type(mappings) is not tuple:  # type_of's memo key; callers on hot paths pass one
            mappings = tuple(mappings)
        attributes = entry.attributes  # Entry.get and .first, without two calls per entry
        rm = type_of(entry.dn, attributes.get("objectclass", ()), mappings)
        if rm is None:
            return None
        values = attributes.get(rm.id_attribute.lower())
        ident = values[0] if values else None
        return Ref(rm.name, ident, entry.dn) if ident else None


def best_type(
    dn: str, object_classes: Iterable[str], mappings: tuple[ResourceMapping, ...]
) -> ResourceMapping | None:
    """The mapping among ``mappings`` whose place holds ``dn`` and which shares most object
    classes with the entry (the first on a tie); None if no such mapping shares one.

    Object classes are compared loosely: directories store what the writer sent, so an
    inetOrgPerson created elsewhere may lack ``person`` or ``top`` in its values.
    """
    classes = {c.lower() for c in object_classes}
    best: tuple[int, ResourceMapping] | None = None
    for rm in mappings:
        if not placement.contains(rm, dn):
            continue
        score = len(_own_classes(rm) & classes)
        if score and (best is None or score > best[0]):
            best = (score, rm)
    return best[1] if best is not None else None


_K = TypeVar("_K")
_V = TypeVar("_V")
_TYPES: dict[tuple[tuple[ResourceMapping, ...], str, tuple[str, ...]], ResourceMapping | None] = {}
_TYPES_BOUND = 4096  # (types, parent, classes): few in a directory; a full memo starts over
_SEEN: dict[tuple[tuple[ResourceMapping, ...], str, tuple[str, ...]], ResourceMapping | None] = {}
_SEEN_BOUND = 4096  # (types, DN, classes) of entries classified lately; full: starts over


def type_of(
    dn: str, object_classes: tuple[str, ...], mappings: tuple[ResourceMapping, ...]
) -> ResourceMapping | None:
    """:func:`best_type`, remembered per (types, parent DN, object classes as stored).

    Equal to :func:`best_type`: for a DN whose first RDN is plain (``uid=jdoe``: no escape,
    ``+`` or blank) and that is not a base DN itself (its RDN is no base's first RDN), the
    normalized DN is that RDN lower-cased, a comma and the normalized parent, so whether a
    type's base and scope hold it (one, sub, the disabled base) depends on the parent alone
    (the reasoning of ``linked_refs``, which classifies a big group's members so); the score
    depends on the classes alone. Entries of one type sit under a few parents with one set of
    classes: an add member classifies the group, the new member and them again in ``settle``.
    Any other DN is classified on its own.

    Each answer is also remembered per (types, DN, classes) — :func:`best_type` is a
    function of those alone (the mappings are frozen) — so an entry classified again (the
    group a PATCH names, its new member in ``settle``) costs one look-up.
    """
    if type(object_classes) is not tuple:  # a memo key: hashable
        object_classes = tuple(object_classes)
    seen = (mappings, dn, object_classes)
    try:
        return _SEEN[seen]
    except KeyError:
        return _remember(_SEEN, _SEEN_BOUND, seen, _type_of(dn, object_classes, mappings))


def _type_of(
    dn: str, object_classes: tuple[str, ...], mappings: tuple[ResourceMapping, ...]
) -> ResourceMapping | None:
    """:func:`type_of` without its DN memo: by parent where the DN allows, else worked out."""
    rdn, comma, parent = dn.partition(",")
    if not (
        comma
        and _SIMPLE_RDN.fullmatch(rdn)
        and parent[:1].isalpha()
        and rdn.lower() not in _base_rdns(mappings)
    ):
        return best_type(dn, object_classes, mappings)
    key = (mappings, parent, object_classes)
    try:
        return _TYPES[key]
    except KeyError:
        return _remember(_TYPES, _TYPES_BOUND, key, best_type(dn, object_classes, mappings))


def _remember(memo: dict[_K, _V], bound: int, key: _K, value: _V) -> _V:
    """``memo[key] = value`` in a memo that starts over when full (the type memos: a few
    keys in a directory, so a full one is unusual); returns ``value``."""
    if len(memo) >= bound:
        memo.clear()
    memo[key] = value
    return value


@dataclass(frozen=True, slots=True)
class LookupPlan:
    """What a lookup among some resource types searches with, the same for every request:
    the types' mappings, their id attributes, the filter on their types, where they live
    (``_where``) and the attributes a found entry is read with (to classify it)."""

    mappings: tuple[ResourceMapping, ...]
    id_attrs: tuple[str, ...]
    type_filter: lf.LdapFilter
    base: str
    scope: str
    read: tuple[str, ...]

    def accepts_id(self, value: str) -> bool:
        """Could ``value`` be an id of one of the types (``ResourceMapping.accepts_id``)?"""
        return any(rm.accepts_id(value) for rm in self.mappings)


@functools.lru_cache(maxsize=256)  # per mapping (identity hash) and types asked
def _plan(mapping: Mapping, types: tuple[str, ...]) -> LookupPlan:
    """The plan of the types named (unknown names left out, repeats once: ``_mappings``)."""
    return _plan_of(
        tuple(mapping.resources[t] for t in dict.fromkeys(types) if t in mapping.resources)
    )


@functools.lru_cache(maxsize=256)
def _plan_of(mappings: tuple[ResourceMapping, ...]) -> LookupPlan:
    """The plan of ``mappings`` (none: a plan nothing is searched with, see ``_lookup``)."""
    id_attrs = tuple(dict.fromkeys(rm.id_attribute for rm in mappings))
    if not mappings:
        return LookupPlan(mappings, id_attrs, lf.MATCH_ALL, "", "sub", ("objectClass",))
    base, scope = _where(list(mappings))
    flt = _type_filter(list(mappings))
    return LookupPlan(mappings, id_attrs, flt, base, scope, (*id_attrs, "objectClass"))


@dataclass(frozen=True, slots=True)
class PatchRead:
    """How ``entry_with_refs`` searches for one (type, attributes, types named), the same for
    every PATCH: the types' plan, the base holding them all, what it reads (the attributes,
    the types' id attributes and objectClass, to classify what is found, once each), what
    it asks to be dereferenced, the type alone (to classify the entry itself), and the entry
    keys (lower case) of its own and the types' id attributes."""

    plan: LookupPlan
    base: str
    read: tuple[str, ...]
    deref: tuple[tuple[str, tuple[str, ...]], ...]
    own: tuple[ResourceMapping]
    own_key: str
    id_keys: tuple[str, ...]


@functools.lru_cache(maxsize=256)  # per mapping (identity hash), type, attributes and types
def _patch_read(
    mapping: Mapping, rm: ResourceMapping, attributes: tuple[str, ...], types: tuple[str, ...]
) -> PatchRead:
    plan = _plan(mapping, types)
    return PatchRead(
        plan,
        _with_base(rm, plan.mappings),
        tuple(dict.fromkeys([*attributes, *plan.id_attrs, "objectClass"])),
        _deref_specs(mapping, rm),
        (rm,),
        rm.id_attribute.lower(),
        tuple(a.lower() for a in plan.id_attrs),
    )


def _holds_one_of(entry: Entry, keys: tuple[str, ...], ids: set[str]) -> bool:
    """Does the first value of one of ``keys`` in ``entry`` (``Entry.first``) lie in ``ids``?"""
    attributes = entry.attributes
    for key in keys:
        values = attributes.get(key)
        if values and values[0] in ids:
            return True
    return False


@functools.lru_cache(maxsize=256)
def _with_base(rm: ResourceMapping, mappings: tuple[ResourceMapping, ...]) -> str:
    """The deepest DN holding where ``rm`` and ``mappings`` keep entries (``entry_with_refs``)."""
    return placement.common_base([placement.area(m).base for m in (rm, *mappings)])


@functools.lru_cache(maxsize=256)  # per mapping (identity hash); a reload brings new ones
def _reference_rules(rm: ResourceMapping) -> tuple[tuple[AttributeRule, str], ...]:
    """``rm``'s reference rules with their lower-case LDAP names, in mapping order: what
    ``from_links`` looks for in each entry (the other rules it would skip one by one)."""
    return tuple((rule, rule.ldap.lower()) for rule in rm.attributes if rule.reference)


@functools.lru_cache(maxsize=256)  # per mapping (identity hash); a reload brings new ones
def _own_classes(rm: ResourceMapping) -> frozenset[str]:
    """``rm``'s object classes lower-cased, without ``top`` (every entry has it): what
    ``_classify`` scores an entry's classes against, the same for every entry."""
    return frozenset(c.lower() for c in rm.object_classes) - {"top"}


_CLASS_FILTER = re.compile(r"\(?\s*objectClass\s*=\s*([A-Za-z][A-Za-z0-9-]*)\s*\)?", re.I)


@functools.lru_cache(maxsize=256)
def _filter_class(rm: ResourceMapping) -> str | None:
    """``X`` when ``rm``'s filter is exactly ``(objectClass=X)``; "" when it has none."""
    if rm.filter is None:
        return ""
    match = _CLASS_FILTER.fullmatch(rm.filter.text.strip())
    return match.group(1).lower() if match else None


def _has_filter_class(rm: ResourceMapping, entry: Entry) -> bool:
    """Does ``entry`` store the class of ``rm``'s ``(objectClass=X)`` filter? Then that filter
    matches it. If not, it still may (X a superclass of what is stored): only the server knows."""
    wanted = _filter_class(rm)
    return not wanted or wanted in {c.lower() for c in entry.get("objectClass")}


@functools.lru_cache(maxsize=64)
def _deref_specs(mapping: Mapping, rm: ResourceMapping) -> tuple[tuple[str, tuple[str, ...]], ...]:
    specs: dict[str, tuple[str, ...]] = {}
    for rule in rm.attributes:
        if not rule.reference or rule.ldap.lower() in specs:
            continue
        targets = [mapping.resources[t] for t in rule.reference if t in mapping.resources]
        if not targets or any(_filter_class(t) is None for t in targets):
            continue
        attrs = (*dict.fromkeys(t.id_attribute for t in targets), "objectClass")
        specs[rule.ldap.lower()] = attrs
    return tuple(specs.items())


@functools.lru_cache(maxsize=64)
def _member_deref_spec(
    mapping: Mapping, group: ResourceMapping
) -> tuple[str, tuple[str, ...]] | None:
    rule = group.members
    if rule is None or not rule.by_dn:
        return None
    targets = [
        mapping.resources[t] for t in named_types(group, rules=False) if t in mapping.resources
    ]
    if not targets or any(_filter_class(t) is None for t in targets):
        return None
    return rule.ldap.lower(), (*dict.fromkeys(t.id_attribute for t in targets), "objectClass")


def _where(mappings: list[ResourceMapping]) -> tuple[str, str]:
    """One search base and scope covering where every type in ``mappings`` lives."""
    areas = [placement.area(rm) for rm in mappings]
    base = placement.common_base([a.base for a in areas])
    one = len({dnlib.normalize(a.base) for a in areas}) == 1 and all(
        a.scope == "one" for a in areas
    )
    return base, "one" if one else "sub"


def _type_filter(mappings: list[ResourceMapping]) -> lf.LdapFilter:
    items = tuple(rm.filter for rm in mappings if rm.filter is not None)
    if len(items) != len(mappings):
        return lf.MATCH_ALL
    return items[0] if len(items) == 1 else lf.Or(items)


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]


_SIMPLE_RDN = re.compile(r"[A-Za-z][A-Za-z0-9-]*=[A-Za-z0-9][A-Za-z0-9._@-]*")


@functools.lru_cache(maxsize=64)
def _base_rdns(mappings: tuple[ResourceMapping, ...]) -> frozenset[str]:
    """The first RDN (normalized) of every base DN where ``mappings`` keep entries."""
    bases = [rm.base_dn for rm in mappings]
    bases += [rm.disable.disabled_base for rm in mappings if rm.disable]  # None: not moved
    return frozenset(dnlib.normalize(b).partition(",")[0] for b in bases if b)
