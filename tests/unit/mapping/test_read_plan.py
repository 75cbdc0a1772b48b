"""to_resource sets a plain slot's value (core, single-valued, no sub-attribute, not a
reference) at the top without ``_put``; over the shipped mappings it must read every entry as
the general path (each value through ``_put``) does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.errors import InvalidValue
from gateway.mapping import translate
from gateway.mapping.loader import load_mapping
from gateway.mapping.model import ResourceMapping

ROOT = Path(__file__).resolve().parents[3]
MAPPINGS = sorted((ROOT / "mappings").glob("*.yaml"))


_PLAN = translate._read_plan


def _general_plan(rm: ResourceMapping) -> tuple[Any, ...]:
    """The same plan with no slot taken as plain: every value through ``_put``."""
    return tuple((rule, key, slot, False) for rule, key, slot, _ in _PLAN(rm))


def _entries(rm: ResourceMapping) -> list[dict[str, tuple[str, ...]]]:
    """Every attribute read with a value; then each attribute alone; then odd values."""
    names = [n.lower() for n in translate.read_attributes(rm, members=True)]
    full: dict[str, tuple[str, ...]] = {n: (f"{n}-value", "second") for n in names}
    for rule in rm.attributes:
        if rule.reference:
            full[rule.ldap.lower()] = (f"uid=x,{rm.base_dn}",)
        elif rule.converter.name == "boolean":
            full[rule.ldap.lower()] = ("TRUE",)
    full["createtimestamp"] = ("20260101000000Z",)
    out = [full, {}, {n: ("",) for n in names}, {n: () for n in names}]
    out += [{n: full[n]} for n in names]
    out += [{n: ("not a number", "x") for n in names}]  # converters that refuse: logged, left out
    return out


@pytest.mark.parametrize("path", MAPPINGS, ids=[p.name for p in MAPPINGS])
def test_plain_slots_read_as_put_reads_them(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mapping = load_mapping(path)
    plain = 0
    for rm in mapping.resources.values():
        plain += sum(1 for *_, is_plain in translate._read_plan(rm) if is_plain)
        ids = {f"uid=x,{rm.base_dn}".lower(): ("User", "0a0b0c0d-0000-4000-8000-000000000002")}
        dn = f"cn=x,{rm.base_dn}"
        fast = [translate.to_resource(rm, dn, e, ids) for e in _entries(rm)]
        fast_before = [
            translate.to_resource(rm, dn, e, ids, hide_derived=True) for e in _entries(rm)
        ]
        with monkeypatch.context() as patched:
            patched.setattr(translate, "_read_plan", _general_plan)
            general = [translate.to_resource(rm, dn, e, ids) for e in _entries(rm)]
            before = [
                translate.to_resource(rm, dn, e, ids, hide_derived=True) for e in _entries(rm)
            ]
        assert fast == general
        assert fast_before == before
    assert plain  # the fast path was taken


def test_plain_means_what_put_does_at_the_top() -> None:
    mapping = load_mapping(MAPPINGS[0])
    for rm in mapping.resources.values():
        for _, _, slot, is_plain in translate._read_plan(rm):
            if not is_plain:
                continue
            put: dict[str, Any] = {"schemas": [rm.rtype.schema.id]}
            translate._put(put, slot, "v", primary=True)
            assert put == {"schemas": [rm.rtype.schema.id], slot.attr: "v"}


_WRITE_PLAN = translate._write_plan


def _general_write_plan(rm: ResourceMapping) -> tuple[Any, ...]:
    """The same write plan with no slot taken as plain and no top-level key to look at
    first: every value through ``scim_value``."""
    derived, rules = _WRITE_PLAN(rm)
    return derived, tuple((rule, key, slot, False, None) for rule, key, slot, _, _ in rules)


def _image_or_error(rm: ResourceMapping, resource: dict[str, Any], **kw: Any) -> Any:
    try:
        image = translate.to_image(rm, resource, {"0a0b": f"uid=x,{rm.base_dn}"}, **kw)
    except InvalidValue as err:
        return ("refused", err.detail)
    return (image.rdn_value, image.parent_dn, image.attributes)


def _resources(rm: ResourceMapping) -> list[dict[str, Any]]:
    """Resources read from the entries above, and with odd values at each plain slot."""
    dn = f"cn=x,{rm.base_dn}"
    out = [translate.to_resource(rm, dn, e, {}) for e in _entries(rm)]
    base = out[0]
    for _, _, slot, is_plain in _PLAN(rm):
        if is_plain:
            for odd in (None, "", 7, True, 1.5, ["a"], {"value": "a"}, "a\x00b", " x "):
                out.append({**base, slot.attr: odd})
            out.append({k: v for k, v in base.items() if k != slot.attr})
    for *_, top in _WRITE_PLAN(rm)[1]:  # each top-level key absent, null or odd
        assert top is not None
        out.append({k: v for k, v in base.items() if k != top})
        for odd in (None, "", "x", 7, [], {}, [None], {"value": None}):
            out.append({**base, top: odd})
    return out


@pytest.mark.parametrize("path", MAPPINGS, ids=[p.name for p in MAPPINGS])
def test_plain_slots_write_as_scim_value_reads_them(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mapping = load_mapping(path)
    for rm in mapping.resources.values():
        resources = _resources(rm)
        stored = _entries(rm)[0]
        fast = [_image_or_error(rm, r) for r in resources]
        fast_stored = [
            _image_or_error(rm, r, stored=stored, current_dn=f"cn=x,{rm.base_dn}")
            for r in resources
        ]
        with monkeypatch.context() as patched:
            patched.setattr(translate, "_write_plan", _general_write_plan)
            general = [_image_or_error(rm, r) for r in resources]
            general_stored = [
                _image_or_error(rm, r, stored=stored, current_dn=f"cn=x,{rm.base_dn}")
                for r in resources
            ]
        assert fast == general
        assert fast_stored == general_stored
        assert any(f[0] != "refused" for f in fast)  # some were written
        assert any(f[0] == "refused" for f in fast)  # and some refused
