"""references' per-types lookup plan and remembered classification must give what working
them out per request gives (``best_type``, ``_type_filter``, ``_where``), over the shipped
mappings and DNs in, beside, below and above where they keep entries."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from gateway.mapping import placement
from gateway.mapping.loader import load_mapping, load_mapping_text
from gateway.mapping.model import Mapping, ResourceMapping
from gateway.provisioning import references as refs

ROOT = Path(__file__).resolve().parents[3]
MAPPINGS = sorted((ROOT / "mappings").glob("*.yaml"))
MOVE = (ROOT / "mappings" / "openldap-uniquemember.yaml").read_text()
# bases inside one another: where a base DN itself differs from its siblings
NESTED = {
    "disabled-inside": MOVE.replace("scope: one", "scope: sub", 1).replace(
        "disabled_base_dn: ou=Disabled,dc=example,dc=org",
        "disabled_base_dn: ou=Disabled,ou=People,dc=example,dc=org",
    ),
    "groups-inside": MOVE.replace("scope: one", "scope: sub", 1).replace(
        "base_dn: ou=Groups,dc=example,dc=org", "base_dn: ou=Groups,ou=People,dc=example,dc=org"
    ),
}
SOURCES = [*((p.name, p.read_text()) for p in MAPPINGS), *NESTED.items()]


def _bases(mapping: Mapping) -> list[str]:
    out = []
    for rm in mapping.resources.values():
        out.append(rm.base_dn)
        if rm.disable is not None and rm.disable.disabled_base:
            out.append(rm.disable.disabled_base)
    return list(dict.fromkeys(out))


def _dns(mapping: Mapping) -> list[str]:
    dns = ["uid=x", "", "uid=a,9bad", "uid=a,dc=org"]
    for base in _bases(mapping):
        parent = base.partition(",")[2]
        dns += [
            base,
            base.upper(),
            parent,
            f"uid=jdoe,{base}",
            f"UID=JDoe,{base.upper()}",
            f"cn=grp one,{base}",  # a blank: not plain
            f"uid=a\\,b,{base}",
            f"cn=a+sn=b,{base}",
            f"uid=jdoe,ou=deeper,{base}",
            f"uid=jdoe,{parent}",
            f"uid=jdoe,ou=elsewhere,{parent}",
            f"{base.partition(',')[0]},ou=elsewhere,{parent}",  # a base's RDN elsewhere
        ]
    return list(dict.fromkeys(dns))


def _classes(mapping: Mapping) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = [(), ("top",), ("device",), ("organizationalUnit",)]
    for rm in mapping.resources.values():
        classes = tuple(rm.object_classes)
        out += [classes, tuple(c.upper() for c in classes), classes[-1:], ("top", *classes[:1])]
    return list(dict.fromkeys(out))


def _type_lists(mapping: Mapping) -> list[tuple[ResourceMapping, ...]]:
    every = tuple(mapping.resources.values())
    return [*((rm,) for rm in every), every, every[::-1]]


@pytest.mark.parametrize("text", [t for _, t in SOURCES], ids=[n for n, _ in SOURCES])
def test_remembered_types_are_the_walks(text: str) -> None:
    mapping = load_mapping_text(text)
    refs._TYPES.clear()
    cases = list(itertools.product(_dns(mapping), _classes(mapping), _type_lists(mapping)))
    for _ in range(2):  # cold, then from the memo (a parent seen for another DN first)
        for dn, classes, mappings in cases:
            assert refs.type_of(dn, classes, mappings) is refs.best_type(dn, classes, mappings), (
                dn,
                classes,
                [rm.name for rm in mappings],
            )
    assert refs._TYPES  # the memo was used


@pytest.mark.parametrize("text", [t for _, t in SOURCES], ids=[n for n, _ in SOURCES])
def test_a_plan_is_what_a_lookup_worked_out_each_time(text: str) -> None:
    mapping = load_mapping_text(text)
    names = list(mapping.resources)
    for types in [*([n] for n in names), names, names[::-1], [*names, "Nope", names[0]], []]:
        plan = refs._plan(mapping, tuple(types))
        mappings = [mapping.resources[t] for t in dict.fromkeys(types) if t in mapping.resources]
        assert list(plan.mappings) == mappings
        assert set(plan.id_attrs) == {rm.id_attribute for rm in mappings}
        assert len(plan.id_attrs) == len(set(plan.id_attrs))
        assert plan.read == (*plan.id_attrs, "objectClass")
        if not mappings:
            continue
        assert plan.type_filter == refs._type_filter(mappings)
        assert (plan.base, plan.scope) == refs._where(mappings)
        for rm in mapping.resources.values():
            areas = [placement.area(m) for m in (rm, *mappings)]
            expected = placement.common_base([a.base for a in areas])
            assert refs._with_base(rm, plan.mappings) == expected
        for value in ["0a0b0c0d-0000-4000-8000-000000000001", "jdoe", "", "a\x00b", "x" * 300]:
            assert plan.accepts_id(value) == any(rm.accepts_id(value) for rm in mappings)


def test_the_memo_is_bounded() -> None:
    mapping = load_mapping(MAPPINGS[0])
    every = tuple(mapping.resources.values())
    refs._TYPES.clear()
    for n in range(refs._TYPES_BOUND + 10):
        refs.type_of(f"uid=a,ou=p{n},dc=example,dc=org", ("person",), every)
    assert 0 < len(refs._TYPES) <= refs._TYPES_BOUND


def test_classes_given_as_a_list_are_remembered_too() -> None:
    mapping = load_mapping(MAPPINGS[0])
    rm = next(iter(mapping.resources.values()))
    dn = f"uid=jdoe,{rm.base_dn}"
    as_list = refs.type_of(dn, list(rm.object_classes), (rm,))  # type: ignore[arg-type]
    assert as_list is refs.best_type(dn, rm.object_classes, (rm,)) is rm


@pytest.mark.parametrize("text", [t for _, t in SOURCES], ids=[n for n, _ in SOURCES])
def test_reference_rules_are_the_rules_from_links_would_not_skip(text: str) -> None:
    mapping = load_mapping_text(text)
    for rm in mapping.resources.values():
        expected = [(r, r.ldap.lower()) for r in rm.attributes if r.reference]
        assert list(refs._reference_rules(rm)) == expected
