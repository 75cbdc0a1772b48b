"""A PATCH that leaves the resource as it was skips the images and their diff when
``translate.images_follow_resource`` says the stored entry cannot change an image; over the
shipped mappings, that claim must hold: the "before" image (with ``stored``) equals the
"after" one (without) for every resource, whatever the entry holds. ``identity`` must give
what ``to_resource`` gives for ``schemas``, ``id``, ``meta.resourceType`` and ``meta.version``."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.errors import ScimError
from gateway.mapping import translate
from gateway.mapping.loader import load_mapping, load_mapping_text
from gateway.mapping.model import ResourceMapping

ROOT = Path(__file__).resolve().parents[3]
MAPPINGS = sorted((ROOT / "mappings").glob("*.yaml"))


def _types() -> list[tuple[str, ResourceMapping]]:
    return [
        (f"{path.name}:{name}", rm)
        for path in MAPPINGS
        for name, rm in load_mapping(path).resources.items()
    ]


def _entries(rm: ResourceMapping) -> list[dict[str, tuple[str, ...]]]:
    """Every attribute read with a value (one and two values), then odd stored values."""
    names = [n.lower() for n in translate.read_attributes(rm, members=True)]
    names += [d.ldap.lower() for d in rm.derived]
    one = {n: (f"{n}-value",) for n in names}
    two = {n: (f"{n}-value", "second") for n in names}
    for entry in (one, two):
        for rule in rm.attributes:
            if rule.converter.name == "boolean":
                entry[rule.ldap.lower()] = ("TRUE",)
    return [one, two, {n: ("",) for n in names}, {n: ("other",) for n in names}]


@pytest.mark.parametrize(("label", "rm"), _types(), ids=[label for label, _ in _types()])
def test_equal_resources_have_equal_images_where_the_mapping_says_so(
    label: str, rm: ResourceMapping
) -> None:
    if not translate.images_follow_resource(rm):
        pytest.skip(f"{label}: images depend on the stored entry")
    dn = f"{rm.rdn_attribute}=x,{rm.base_dn}"
    checked = 0
    for entry in _entries(rm):
        resource = translate.to_resource(rm, dn, entry, {}, hide_derived=True)
        try:
            after = translate.to_image(rm, resource, {}, current_dn=dn)
        except ScimError:
            continue  # not a writable resource (a value the rules refuse)
        for stored in _entries(rm):
            before = translate.to_image(rm, resource, {}, current_dn=dn, stored=stored)
            assert before == after
            checked += 1
    assert checked, f"{label}: no resource could be imaged"


def test_a_rendered_rule_or_a_disable_strategy_makes_images_follow_the_entry() -> None:
    head = (
        "version: 1\nUser:\n  base_dn: ou=People,dc=x\n  object_classes: [inetOrgPerson]\n"
        "  rdn_attribute: uid\n  attributes:\n    - {scim: userName, ldap: uid}\n"
    )
    assert translate.images_follow_resource(load_mapping_text(head)["User"])
    for rule in ("{ldap: loginShell, constant: /bin/sh}", "{ldap: cn, template: ['{userName}']}"):
        rm = load_mapping_text(f"{head}    - {rule}\n")["User"]
        assert rm.derived and not translate.images_follow_resource(rm)
    shipped = load_mapping(ROOT / "mappings" / "openldap.yaml")
    assert shipped["User"].disable is not None
    assert not translate.images_follow_resource(shipped["User"])
    assert translate.images_follow_resource(shipped["Group"])


@pytest.mark.parametrize(("label", "rm"), _types(), ids=[label for label, _ in _types()])
def test_identity_is_what_to_resource_gives_for_schemas_id_and_version(
    label: str, rm: ResourceMapping
) -> None:
    for entry in _entries(rm):
        for extra in (
            {},
            {rm.id_attribute.lower(): ("0b2c3d4e-1111-2222-3333-444455556666",)},
            {
                "createtimestamp": ("20260101000000Z",),
                "modifytimestamp": ("20260102000000Z",),
                "entrycsn": ("20260102000000.000001Z#000000#000#000000",),
            },
        ):
            attributes = {**entry, **extra}
            full = translate.to_resource(rm, f"cn=x,{rm.base_dn}", attributes, {})
            # to_resource adds extension schemas to ``schemas`` as values land in them
            meta = {k: full["meta"][k] for k in ("resourceType", "version") if k in full["meta"]}
            got = translate.identity(rm, attributes)
            assert got["schemas"] == [rm.rtype.schema.id]
            assert got.get("id") == full.get("id")
            assert got["meta"] == meta
