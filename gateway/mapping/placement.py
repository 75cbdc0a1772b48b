"""Where the entries of a resource type live, and so where a search for them must look.

Usually that is ``base_dn`` with ``scope``. With the ``move`` disable strategy disabled
entries live under ``disabled_base_dn`` instead, and an LDAP search has one base: the
gateway then searches the smallest subtree holding both bases (``sub`` scope) and keeps only
entries that sit where the mapping puts them (:func:`contains`). That costs nothing extra
in round trips; it reads entries of the same object class elsewhere in that subtree and
drops them, which an indexed filter keeps cheap.

A SCIM filter on ``active`` picks the base instead (``active eq false``: only the disabled
base), see :func:`split_active`: portable LDAP has no "entry is below this DN" filter (only
OpenLDAP's ``dnSubtreeMatch``), so ``active`` must be a top-level ``and`` condition there.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from gateway.directory import dn as dnlib
from gateway.mapping.model import ResourceMapping
from gateway.scim import filter as sf


@dataclass(frozen=True, slots=True)
class Area:
    """One LDAP search base and scope."""

    base: str
    scope: str


@functools.lru_cache(maxsize=256)
def area(rm: ResourceMapping, active: bool | None = None) -> Area:
    """Where to search for entries of ``rm`` (only enabled / only disabled ones if asked)."""
    if not rm.moves_disabled:
        return Area(rm.base_dn, rm.scope)
    disabled = _disabled_base(rm)
    if active is True:
        return Area(rm.base_dn, rm.scope)
    if active is False:
        return Area(disabled, rm.scope)
    if dnlib.is_within(disabled, rm.base_dn):
        return Area(rm.base_dn, "sub")
    if dnlib.is_within(rm.base_dn, disabled):
        return Area(disabled, "sub")
    return Area(common_base([rm.base_dn, disabled]), "sub")


def needs_filtering(rm: ResourceMapping) -> bool:
    """True if a search from :func:`area` can return entries that :func:`contains` rejects."""
    return rm.moves_disabled


def contains(rm: ResourceMapping, dn: str, active: bool | None = None) -> bool:
    """Is the entry at ``dn`` where ``rm`` keeps its entries (enabled / disabled if asked)?"""
    enabled = in_scope(dn, rm.base_dn, rm.scope)
    if not rm.moves_disabled:
        return enabled and active is not False
    disabled_base = _disabled_base(rm)
    disabled = in_scope(dn, disabled_base, rm.scope)
    d, below = normalized(dn), dnlib.normalize(disabled_base)
    enabled = enabled and not (d == below or d.endswith("," + below))  # dnlib.is_within
    if active is None:
        return enabled or disabled
    return disabled if active is False else enabled


def in_scope(dn: str, base: str, scope: str) -> bool:
    """Would a search from ``base`` with ``scope`` (one / sub) return the entry at ``dn``?"""
    d, b = normalized(dn), dnlib.normalize(base)  # a base: from the mapping, cached
    if scope == "one":
        return _parent_of_normalized(d) == b
    return d.endswith("," + b)  # dnlib.is_within(dn, base) and not the base itself


@functools.lru_cache(maxsize=8192)  # as dnlib.normalize: an entry's DN is checked again
def normalized(dn: str) -> str:
    """``dnlib.normalize(dn)``, without parsing the whole DN when its first RDN is plain.

    ldap3's DN parser costs 60-190 us per DN not seen before (a PATCH's user, found in
    the id cache; a member being added), and DNs of entries are compared through this
    wherever the gateway reads and writes them (translate, provisioning). For
    ``uid=jdoe,<parent>`` whose first RDN has no escape, no ``+``, no blank and only
    letters, digits and ``._@-`` in its value, and whose parent
    parses and starts with a letter (so the ``#`` escaping before parsing treats it
    alike), parsing the DN gives that RDN followed by the parent's components; normalizing
    lower-cases the RDN (nothing in it is escaped) and joins it to the parent's normal
    form, which is cached (a handful of parents). Any other DN is normalized whole.
    tests/unit/mapping/test_placement_fast.py holds the two to the same answers.
    """
    rdn, comma, parent = dn.partition(",")
    if comma and _PLAIN_RDN.fullmatch(rdn) and parent[:1].isalpha() and _parses(parent):
        return f"{rdn.lower()},{dnlib.normalize(parent)}"
    return dnlib.normalize(dn)


_PLAIN_RDN = re.compile(r"[A-Za-z][A-Za-z0-9-]*=[A-Za-z0-9][A-Za-z0-9._@-]*")


@functools.lru_cache(maxsize=256)  # parents of entries: the bases, a handful per process
def _parses(dn: str) -> bool:
    try:
        dnlib.components(dn)
    except dnlib.InvalidDn:
        return False
    return True


def _parent_of_normalized(dn: str) -> str:
    """Everything after the first unescaped comma; never raises (a DN slapd hands back may
    hold characters ldap3's parser refuses, and normalize() then keeps the text as is)."""
    if "\\" not in dn:  # nothing escaped: the first comma is the one the walk finds
        return dn.partition(",")[2]
    return _parent_walked(dn)


def _parent_walked(dn: str) -> str:
    """:func:`_parent_of_normalized` character by character, skipping escaped ones."""
    i = 0
    while i < len(dn):
        if dn[i] == "\\":
            i += 2
            continue
        if dn[i] == ",":
            return dn[i + 1 :]
        i += 1
    return ""


def _disabled_base(rm: ResourceMapping) -> str:
    assert rm.disable is not None and rm.disable.disabled_base
    return rm.disable.disabled_base


def common_base(bases: Iterable[str]) -> str:
    """The deepest DN that contains every base (``dc=example,dc=org`` for People+Groups)."""
    return _common_base(tuple(dict.fromkeys(bases)))


@functools.lru_cache(maxsize=256)
def _common_base(bases: tuple[str, ...]) -> str:
    """Cached: the bases come from the mapping, a handful per process."""
    split = [[f"{a}={v}" for a, v in reversed(dnlib.components(b))] for b in bases]
    common: list[str] = []
    for parts in zip(*split, strict=False):
        if len({p.lower() for p in parts}) != 1:
            break
        common.append(parts[0])
    if not common:
        return ""
    return ",".join(
        f"{p.split('=', 1)[0]}={dnlib.escape_value(p.split('=', 1)[1])}" for p in reversed(common)
    )


@dataclass(frozen=True, slots=True)
class ActiveSplit:
    """A SCIM filter with its top-level ``active`` conditions taken out."""

    rest: sf.Filter | None  # what is left to translate (None: no condition)
    active: bool | None = None  # only enabled (True) / only disabled (False) / both (None)
    impossible: bool = False  # ``active eq true and active eq false``


def split_active(rm: ResourceMapping, node: sf.Filter | None) -> ActiveSplit:
    """For the ``move`` strategy, turn ``active eq/ne true|false`` conditions that are ANDed
    at the top of ``node`` into a choice of search base. Any other use of ``active`` stays in
    ``rest``, where the translator refuses it with a 400 ``invalidFilter``."""
    if node is None or not rm.moves_disabled:
        return ActiveSplit(node)
    wanted: bool | None = None
    rest: list[sf.Filter] = []
    for item in _conjuncts(node):
        if _is_active(item) and isinstance(item, sf.Present):
            continue  # "active pr": every entry has an active state
        value = _active_value(item)
        if value is None:
            rest.append(item)
        elif wanted is not None and wanted != value:
            return ActiveSplit(None, None, impossible=True)
        else:
            wanted = value
    left: sf.Filter | None = None
    for item in rest:
        left = item if left is None else sf.And(left, item)
    return ActiveSplit(left, wanted)


def _conjuncts(node: sf.Filter) -> list[sf.Filter]:
    if isinstance(node, sf.And):
        return [*_conjuncts(node.left), *_conjuncts(node.right)]
    return [node]


def _is_active(node: sf.Filter) -> bool:
    path = getattr(node, "path", None)
    return (
        isinstance(node, sf.Compare | sf.Present)
        and path is not None
        and path.attr.lower() == "active"
        and path.sub_attr is None
        and (path.schema is None or path.schema.lower().endswith(":core:2.0:user"))
    )


def _active_value(node: sf.Filter) -> bool | None:
    if not _is_active(node) or not isinstance(node, sf.Compare):
        return None
    if node.op not in ("eq", "ne") or not isinstance(node.value, bool):
        return None
    return node.value if node.op == "eq" else not node.value
