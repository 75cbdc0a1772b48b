"""Shortcuts of a member add's reference work (issue 17, session 9), each held to what it
replaces: ``entry_with_refs`` classifies only entries holding an id asked for, searches with
what it worked out once per type (``PatchRead``), and ``Membership`` keeps its placeholder
pair."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from gateway.directory.entry import Entry, Modification, ModOp
from gateway.mapping.loader import load_mapping_text
from gateway.mapping.model import Mapping
from gateway.provisioning import references as refs
from gateway.provisioning.membership import Membership
from gateway.provisioning.reftypes import named_types

ROOT = Path(__file__).resolve().parents[3]
SOURCES = [(p.name, p.read_text()) for p in sorted((ROOT / "mappings").glob("*.yaml"))]
IDS = ("8c1f3d84-0000-4000-8000-000000000001", "8c1f3d84-0000-4000-8000-000000000002", "jdoe")


def _entries(mapping: Mapping) -> list[Entry]:
    """Entries of every type, in and out of place, with and without ids, under every
    id attribute the mappings name."""
    id_attrs = sorted({rm.id_attribute.lower() for rm in mapping.resources.values()})
    out = []
    for rm in mapping.resources.values():
        for dn in (f"uid=jdoe,{rm.base_dn}", f"cn=g one,{rm.base_dn}", "uid=x,dc=elsewhere"):
            for classes in (tuple(rm.object_classes), ("top",), ()):
                for attr, ident in itertools.product([*id_attrs, "cn"], (*IDS, None)):
                    values = {"objectclass": classes}
                    if ident is not None:
                        values[attr] = (ident,)
                    out.append(Entry(dn, values))
    return out


@pytest.mark.parametrize("text", [t for _, t in SOURCES], ids=[n for n, _ in SOURCES])
def test_a_found_ref_has_an_id_attribute_value_as_its_id(text: str) -> None:
    """Why entry_with_refs may skip an entry none of whose id attributes holds an id asked
    for: whatever the types, a Ref made of an entry has one of those values as its id."""
    mapping = load_mapping_text(text)
    found = 0
    for rm in mapping.resources.values():
        plan = refs._plan(mapping, named_types(rm, writable=True))
        keys = refs._patch_read(mapping, rm, (), named_types(rm, writable=True)).id_keys
        for entry in _entries(mapping):
            for asked in ({IDS[0]}, set(IDS), set()):
                expected = any(entry.first(a) in asked for a in plan.id_attrs)
                assert refs._holds_one_of(entry, keys, asked) == expected
            ref = refs.References._classify(entry, plan.mappings)
            # as a list, as other callers pass them: the same
            assert refs.References._classify(entry, list(plan.mappings)) == ref
            if ref is not None:
                found += 1
                assert ref.id in {entry.first(a) for a in plan.id_attrs}, (entry, ref)
    assert found  # the claim was tested on entries that are references


@pytest.mark.parametrize("text", [t for _, t in SOURCES], ids=[n for n, _ in SOURCES])
def test_the_read_plan_is_what_each_patch_worked_out(text: str) -> None:
    mapping = load_mapping_text(text)
    directory_refs = refs.References(None, mapping)  # type: ignore[arg-type]
    for rm in mapping.resources.values():
        types = named_types(rm, writable=True)
        plan = refs._plan(mapping, types)
        attributes = ("entryUUID", "cn", "objectClass", "memberOf", "entryUUID")
        for given in (attributes, attributes[:2], ()):
            how = refs._patch_read(mapping, rm, given, types)
            worked = list(dict.fromkeys([*given, *plan.id_attrs, "objectClass"]))
            assert list(how.read) == worked
            assert how.plan is plan
            assert how.base == refs._with_base(rm, plan.mappings)
            assert how.deref == directory_refs.deref_specs(rm)
            assert how.own == (rm,)
            entry = Entry("uid=a,dc=x", {a.lower(): ("v",) for a in (rm.id_attribute, "x")})
            assert entry.attributes.get(how.own_key) == entry.get(rm.id_attribute)
            for a, key in zip(plan.id_attrs, how.id_keys, strict=True):
                assert entry.attributes.get(key) == entry.get(a)


@pytest.mark.parametrize("text", [t for _, t in SOURCES], ids=[n for n, _ in SOURCES])
def test_the_placeholder_pair_is_what_each_add_made(text: str) -> None:
    mapping = load_mapping_text(text)
    for group in (rm for rm in mapping.resources.values() if rm.members is not None):
        membership = Membership(None, None, mapping, group)  # type: ignore[arg-type]
        rule = group.members
        assert rule is not None
        member = Modification(rule.ldap.upper(), ModOp.ADD, ("uid=a,dc=x",))
        other = Modification("description", ModOp.ADD, ("x",))
        removal = Modification(rule.ldap, ModOp.DELETE, ("uid=a,dc=x",))
        for mods in ([member], [other], [removal], [other, member], []):
            adds = any(m.attr.lower() == rule.ldap.lower() and m.op is ModOp.ADD for m in mods)
            expected = (
                [
                    Modification(rule.ldap, ModOp.ADD, (rule.placeholder,)),
                    Modification(rule.ldap, ModOp.DELETE, (rule.placeholder,)),
                ]
                if adds and rule.placeholder
                else []
            )
            assert membership._placeholder_out(mods) == expected


@pytest.mark.parametrize("text", [t for _, t in SOURCES], ids=[n for n, _ in SOURCES])
def test_types_remembered_per_dn_are_the_walks(text: str) -> None:
    """type_of's DN memo answers what best_type works out, cold and remembered, for DNs
    plain or not, in place or not."""
    mapping = load_mapping_text(text)
    every = tuple(mapping.resources.values())
    refs._SEEN.clear()
    refs._TYPES.clear()
    entries = _entries(mapping) + [Entry(f"cn=a\\,b,{rm.base_dn}", {}) for rm in every]
    for _ in range(2):  # cold, then from the memo
        for entry, mappings in itertools.product(entries, [*((rm,) for rm in every), every]):
            classes = entry.get("objectClass")
            assert refs.type_of(entry.dn, classes, mappings) is refs.best_type(
                entry.dn, classes, mappings
            )
    assert refs._SEEN


def test_the_dn_memo_is_bounded() -> None:
    mapping = load_mapping_text(SOURCES[0][1])
    every = tuple(mapping.resources.values())
    refs._SEEN.clear()
    for n in range(refs._SEEN_BOUND + 10):
        refs.type_of(f"uid=a{n},ou=p,dc=example,dc=org", ("person",), every)
    assert 0 < len(refs._SEEN) <= refs._SEEN_BOUND


def test_a_ref_is_an_immutable_value() -> None:
    """Ref became a named tuple: compared, hashed and shown by its fields, not changeable."""
    ref = refs.Ref("User", "x1", "uid=a,dc=x")
    assert (ref.type, ref.id, ref.dn) == ("User", "x1", "uid=a,dc=x")
    assert ref == refs.Ref("User", "x1", "uid=a,dc=x") != refs.Ref("Group", "x1", "uid=a,dc=x")
    assert len({ref, refs.Ref("User", "x1", "uid=a,dc=x")}) == 1
    assert repr(ref) == "Ref(type='User', id='x1', dn='uid=a,dc=x')"
    with pytest.raises(AttributeError):
        ref.id = "x2"  # type: ignore[misc]


@pytest.mark.parametrize("text", [t for _, t in SOURCES], ids=[n for n, _ in SOURCES])
def test_settle_compares_member_values_as_before(text: str) -> None:
    """Membership._same answers what comparing the two values' keys answers."""
    mapping = load_mapping_text(text)
    for group in (rm for rm in mapping.resources.values() if rm.members is not None):
        membership = Membership(None, None, mapping, group)  # type: ignore[arg-type]
        base = next(iter(mapping.resources.values())).base_dn
        dns = [f"uid=jdoe,{base}", f"UID=JDoe,{base.upper()}", f"uid=jdoe2,{base}", "uid=jdoe,o=x"]
        for a, b in itertools.product(dns, dns):
            written, now = refs.Ref("User", "i", a), refs.Ref("User", "i", b)
            keys = membership._key(membership.value_of(a)), membership._key(membership.value_of(b))
            assert membership._same(now, written) == (keys[0] == keys[1])
            assert membership._same(None, written) is False
