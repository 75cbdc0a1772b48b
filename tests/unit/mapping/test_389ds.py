"""mappings/389ds.yaml, translation only: what 389 DS would be sent and how what it returns
is read. tests/e2e/test_389ds.py runs the same mapping against a real 389 DS.
"""

from __future__ import annotations

import json
from pathlib import Path

from gateway.directory import ldapfilter as lf
from gateway.directory.entry import Modification, ModOp
from gateway.mapping import changes, search, translate
from gateway.mapping.loader import load_mapping
from gateway.scim.filter import parse_filter
from gateway.scim.patch import normalize_resource

ROOT = Path(__file__).resolve().parents[3]
MAPPING = load_mapping(ROOT / "mappings" / "389ds.yaml")
USER, GROUP = MAPPING["User"], MAPPING["Group"]
ENTRA = ROOT / "tests" / "data" / "entra"


def entra(name: str) -> dict:
    return json.loads((ENTRA / name).read_text(encoding="utf-8"))


def test_entra_create_becomes_an_unlocked_inetorgperson() -> None:
    resource = normalize_resource(entra("create-user.json"), USER.rtype)
    image = translate.to_image(USER, resource, {})
    attrs = changes.add_attributes(USER, image)
    assert image.dn == f"uid={resource['userName']},ou=people,dc=example,dc=com"
    assert attrs["objectclass"] == ["top", "person", "organizationalPerson", "inetOrgPerson"]
    assert attrs["nsaccountlock"] == ["FALSE"]
    assert attrs["mail"] == [resource["emails"][0]["value"]]


def test_disabling_sets_nsaccountlock_true_and_enabling_false() -> None:
    base = {"userName": "jdoe", "active": True}
    enabled = translate.to_image(USER, base, {})
    disabled = translate.to_image(USER, {**base, "active": False}, {})
    assert changes.diff(USER, enabled, disabled).modifications == (
        Modification("nsaccountlock", ModOp.REPLACE, ("TRUE",)),
    )
    assert changes.diff(USER, disabled, enabled).modifications == (
        Modification("nsaccountlock", ModOp.REPLACE, ("FALSE",)),
    )


def test_nsaccountlock_is_read_case_insensitively() -> None:
    dn = "uid=jdoe,ou=people,dc=example,dc=com"
    for stored, active in (("true", False), ("TRUE", False), ("FALSE", True)):
        attrs = {"uid": ("jdoe",), "nsaccountlock": (stored,)}
        assert translate.to_resource(USER, dn, attrs, {})["active"] is active
    assert translate.to_resource(USER, dn, {"uid": ("jdoe",)}, {})["active"] is True
    assert "nsAccountLock" in translate.read_attributes(USER)


def test_active_filters_use_nsaccountlock() -> None:
    flt = search.to_ldap_filter(USER, parse_filter("active eq false"), lambda _i: None)
    assert lf.render(flt) == "(nsAccountLock=TRUE)"
    flt = search.to_ldap_filter(USER, parse_filter("active eq true"), lambda _i: None)
    assert lf.render(flt) == "(!(nsAccountLock=TRUE))"


def test_groups_are_unique_names_without_a_placeholder() -> None:
    image = translate.to_image(GROUP, {"displayName": "Staff"}, {})
    assert changes.add_attributes(GROUP, image)["objectclass"] == ["top", "groupOfUniqueNames"]
    members = GROUP.members
    assert members is not None and members.ldap == "uniqueMember" and members.by_dn
    assert members.placeholder is None and members.member_of is None
    flt = search.to_ldap_filter(
        GROUP, parse_filter('members.value eq "u1"'), lambda _i: "uid=a,ou=people,dc=example,dc=com"
    )
    assert lf.render(flt) == "(uniqueMember=uid=a,ou=people,dc=example,dc=com)"
