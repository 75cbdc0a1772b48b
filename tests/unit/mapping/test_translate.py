"""SCIM resource ⇄ LDAP image through the shipped mapping (no directory involved)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.directory.entry import ModOp
from gateway.errors import InvalidValue
from gateway.mapping import changes, translate
from gateway.mapping.loader import load_mapping

ROOT = Path(__file__).resolve().parents[3]
MAPPING = load_mapping(ROOT / "mappings" / "openldap.yaml")
USER = MAPPING["User"]
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def test_full_user_maps_to_inetorgperson_attributes() -> None:
    resource = {
        "userName": "bjensen",
        "externalId": "ext-1",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"type": "work", "value": "b@example.org", "primary": True}],
        "phoneNumbers": [
            {"type": "work", "value": "+1 555"},
            {"type": "mobile", "value": "+1 666"},
        ],
        ENTERPRISE: {"employeeNumber": "42", "manager": {"value": "mgr-id"}},
        "active": False,
    }
    image = translate.to_image(USER, resource, {"mgr-id": "uid=boss,ou=People,dc=example,dc=org"})
    assert image.dn == "uid=bjensen,ou=People,dc=example,dc=org"
    assert image.attributes == {
        "uid": ("bjensen",),
        "businesscategory": ("ext-1",),
        "givenname": ("Barbara",),
        "sn": ("Jensen",),
        "cn": ("Barbara Jensen",),
        "mail": ("b@example.org",),
        "telephonenumber": ("+1 555",),
        "mobile": ("+1 666",),
        "employeenumber": ("42",),
        "manager": ("uid=boss,ou=People,dc=example,dc=org",),
        "pwdaccountlockedtime": ("000001010000Z",),
    }


def test_only_username_derives_sn_and_cn() -> None:
    image = translate.to_image(USER, {"userName": "solo"}, {})
    assert image.attributes == {"uid": ("solo",), "sn": ("solo",), "cn": ("solo",)}


def test_unknown_reference_is_invalid_value() -> None:
    with pytest.raises(InvalidValue, match="no User with id 'nope'"):
        translate.to_image(USER, {"userName": "x", ENTERPRISE: {"manager": {"value": "nope"}}}, {})


def test_missing_username_is_invalid_value() -> None:
    with pytest.raises(InvalidValue, match="userName is required"):
        translate.to_image(USER, {"displayName": "x"}, {})


def test_entry_reads_back_as_scim() -> None:
    attrs = {
        "entryuuid": ("7e3c5e36-2c8e-103f-8d6b-c5f3a1a3e7c1",),
        "uid": ("bjensen",),
        "sn": ("Jensen",),
        "mail": ("b@example.org",),
        "pwdaccountlockedtime": ("000001010000Z",),
        "entrycsn": ("20240102030405.123456Z#000000#000#000000",),
        "createtimestamp": ("20240102030405Z",),
        "modifytimestamp": ("20240102030406Z",),
        "manager": ("uid=Boss,ou=People,dc=example,dc=org",),
    }
    ids = {"uid=boss,ou=people,dc=example,dc=org": ("User", "boss-id")}
    resource = translate.to_resource(USER, "uid=bjensen,ou=People,dc=example,dc=org", attrs, ids)
    assert resource["id"] == "7e3c5e36-2c8e-103f-8d6b-c5f3a1a3e7c1"
    assert resource["active"] is False
    assert resource["emails"] == [{"value": "b@example.org", "type": "work"}]
    assert resource[ENTERPRISE]["manager"] == {"value": "boss-id", "$ref": "Users/boss-id"}
    assert ENTERPRISE in resource["schemas"]
    assert resource["meta"] == {
        "resourceType": "User",
        "created": "2024-01-02T03:04:05Z",
        "lastModified": "2024-01-02T03:04:06Z",
        "version": 'W/"20240102030405.123456Z#000000#000#000000"',
    }


def test_diff_sends_only_what_changed_and_renames_on_username() -> None:
    # as read back from LDAP: cn is explicit (name.formatted), so it stays put on changes
    name = {"familyName": "F", "formatted": "A F"}
    old = translate.to_image(USER, {"userName": "a", "title": "T", "name": name}, {})
    new = translate.to_image(
        USER, {"userName": "b", "title": "T", "displayName": "D", "name": name}, {}
    )
    change = changes.diff(USER, old, new)
    assert change.new_rdn == "uid=b"
    assert [(m.attr, m.op, m.values) for m in change.modifications] == [
        ("displayname", ModOp.REPLACE, ("D",)),
    ]
    assert changes.diff(USER, old, old).empty


def test_enable_removes_the_lock_attribute() -> None:
    old = translate.to_image(USER, {"userName": "a", "active": False}, {})
    new = translate.to_image(USER, {"userName": "a", "active": True}, {})
    (mod,) = changes.diff(USER, old, new).modifications
    assert (mod.attr, mod.op, mod.values) == ("pwdaccountlockedtime", ModOp.REPLACE, ())


def test_unmapped_attributes_are_listed() -> None:
    found = translate.unmapped_attributes(
        USER,
        {
            "userName": "a",
            "nickName": "n",
            "roles": [],
            "name": {"middleName": "M", "givenName": "G"},
        },
    )
    assert sorted(found) == ["name.middleName", "nickName"]
