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
        "pwdpolicysubentry": ("cn=disabled,ou=Policies,dc=example,dc=org",),
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
    assert resource["emails"] == [{"value": "b@example.org", "type": "work", "primary": True}]
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


def test_enable_removes_the_lock_attribute_and_the_mark() -> None:
    old = translate.to_image(USER, {"userName": "a", "active": False}, {})
    new = translate.to_image(USER, {"userName": "a", "active": True}, {})
    mods = changes.diff(USER, old, new).modifications
    assert [(m.attr, m.op, m.values) for m in mods] == [
        ("pwdaccountlockedtime", ModOp.REPLACE, ()),
        ("pwdpolicysubentry", ModOp.REPLACE, ()),
    ]


DISABLED_MARK = ("cn=disabled,ou=Policies,dc=example,dc=org",)


@pytest.mark.parametrize(
    ("stored", "active"),
    [
        ({}, True),
        ({"pwdaccountlockedtime": ("000001010000Z",)}, False),
        ({"pwdpolicysubentry": DISABLED_MARK}, False),  # lock lost to a password reset
        ({"pwdaccountlockedtime": ("20260101000000Z",)}, True),  # locked by failed binds
        ({"pwdpolicysubentry": ("cn=strict,ou=Policies,dc=example,dc=org",)}, True),
    ],
)
def test_active_is_read_from_the_lock_and_the_mark(stored: dict, active: bool) -> None:
    resource = translate.to_resource(USER, "uid=a,ou=People,dc=example,dc=org", stored, {})
    assert resource["active"] is active


def test_an_update_of_a_disabled_entry_writes_back_a_lost_lock() -> None:
    stored = {"uid": ("a",), "sn": ("a",), "cn": ("a",), "pwdpolicysubentry": DISABLED_MARK}
    dn = "uid=a,ou=People,dc=example,dc=org"
    old_resource = translate.to_resource(USER, dn, stored, {})
    old = translate.to_image(USER, old_resource, {}, current_dn=dn, stored=stored)
    new = translate.to_image(USER, {**old_resource, "title": "t"}, {}, current_dn=dn)
    mods = changes.diff(USER, old, new).modifications
    assert [(m.attr, m.values) for m in mods] == [
        ("pwdaccountlockedtime", ("000001010000Z",)),
        ("title", ("t",)),
    ]


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


def test_typed_values_of_one_type_read_back_as_one_object() -> None:
    attrs = {
        "uid": ("a",),
        "street": ("1 Main St",),
        "l": ("Springfield",),
        "st": ("IL",),
        "postalcode": ("62701",),
        "telephonenumber": ("+1 555",),
        "facsimiletelephonenumber": ("+1 777",),
    }
    resource = translate.to_resource(USER, "uid=a,ou=People,dc=example,dc=org", attrs, {})
    assert resource["addresses"] == [
        {
            "type": "work",
            "streetAddress": "1 Main St",
            "locality": "Springfield",
            "region": "IL",
            "postalCode": "62701",
        }
    ]
    assert resource["phoneNumbers"] == [
        {"type": "work", "value": "+1 555"},
        {"type": "fax", "value": "+1 777"},
    ]


def test_an_address_writes_each_part_to_its_attribute() -> None:
    address = {"type": "work", "streetAddress": "S", "locality": "L", "postalCode": "P"}
    image = translate.to_image(USER, {"userName": "a", "addresses": [address]}, {})
    assert {k: image.attributes.get(k) for k in ("street", "l", "st", "postalcode")} == {
        "street": ("S",),
        "l": ("L",),
        "st": None,
        "postalcode": ("P",),
    }


def test_reads_show_values_equal_to_what_the_defaults_derive() -> None:
    """Entra always sends name.formatted = givenName + " " + familyName (issue 13, item 1)."""
    resource = {
        "userName": "lee",
        "name": {"givenName": "Ann", "familyName": "lee", "formatted": "Ann lee"},
    }
    image = translate.to_image(USER, resource, {})
    shown = translate.to_resource(USER, "uid=lee,ou=People,dc=example,dc=org", image.attributes, {})
    assert shown["name"] == resource["name"]
    before_update = translate.to_resource(
        USER, "uid=lee,ou=People,dc=example,dc=org", image.attributes, {}, hide_derived=True
    )
    # familyName is what {userName} derives, so it would follow a rename; formatted is then
    # not what the remaining values derive, so it stays as written
    assert before_update["name"] == {"givenName": "Ann", "formatted": "Ann lee"}


def test_derived_values_follow_their_sources_through_an_update() -> None:
    stored = translate.to_image(USER, {"userName": "a", "name": {"givenName": "Ann"}}, {})
    dn = "uid=a,ou=People,dc=example,dc=org"
    old = translate.to_resource(USER, dn, stored.attributes, {}, hide_derived=True)
    new = {**old, "name": {**old["name"], "familyName": "Lee"}}
    change = changes.diff(
        USER,
        translate.to_image(USER, old, {}, current_dn=dn),
        translate.to_image(USER, new, {}, current_dn=dn),
    )
    assert {(m.attr, m.values) for m in change.modifications} == {
        ("sn", ("Lee",)),
        ("cn", ("Ann Lee",)),
    }


@pytest.mark.parametrize(
    ("resource", "unmapped"),
    [
        ({"phoneNumbers": [{"type": "fax", "value": "1"}]}, []),
        ({"phoneNumbers": [{"type": "pager", "value": "1"}]}, ['phoneNumbers[type eq "pager"]']),
        (
            {"phoneNumbers": [{"type": "work", "value": "1", "display": "d"}]},
            ['phoneNumbers[type eq "work"].display'],
        ),
        ({"emails": [{"value": "a@b"}]}, ["emails (a value without type)"]),
        ({"emails": [{"type": "work", "value": "a@b", "primary": True}]}, []),
        ({"phoneNumbers": [{"type": "work", "value": "1", "primary": True}]}, []),
        ({"phoneNumbers": [{"type": "work", "value": "1", "primary": False}]}, []),
        (
            {"addresses": [{"type": "work", "locality": "L", "country": "FR"}]},
            ['addresses[type eq "work"].country'],
        ),
        ({"addresses": [{"type": "home", "locality": "L"}]}, ['addresses[type eq "home"]']),
        (
            {"emails": [{"type": "work", "value": "a"}, {"type": "WORK", "value": "b"}]},
            ['emails[type eq "WORK"] (a second value: one is stored per type)'],
        ),
    ],
)
def test_unmapped_values_of_multi_valued_attributes_are_named(
    resource: dict, unmapped: list[str]
) -> None:
    assert translate.unmapped_attributes(USER, {"userName": "a", **resource}) == unmapped


@pytest.mark.parametrize(
    "resource",
    [
        {"userName": "solo"},
        {"userName": "solo", "displayName": "Solo D"},
        # the limit of a stateless gateway: parts equal to what {userName} gives, and nothing
        # shown derived from them (docs/mapping.md, "Derived values")
        {"userName": "solo", "name": {"familyName": "solo"}},
    ],
)
def test_a_name_made_only_of_derived_values_reads_as_absent(resource: dict) -> None:
    image = translate.to_image(USER, resource, {})
    assert image.attributes["sn"] and image.attributes["cn"]  # inetOrgPerson MUSTs
    shown = translate.to_resource(
        USER, "uid=solo,ou=People,dc=example,dc=org", image.attributes, {}
    )
    assert "name" not in shown


@pytest.mark.parametrize(
    "name",
    [
        {"givenName": "Ann", "familyName": "Lee", "formatted": "Ann Lee"},  # Entra's default
        {"givenName": "Ann", "familyName": "lee"},  # familyName equal to the userName
        {"formatted": "Dr. Lee"},
    ],
)
def test_a_written_name_reads_back_exactly(name: dict) -> None:
    image = translate.to_image(USER, {"userName": "lee", "name": name}, {})
    shown = translate.to_resource(USER, "uid=lee,ou=People,dc=example,dc=org", image.attributes, {})
    assert {k: v for k, v in shown["name"].items() if k in name} == name


def test_a_partly_written_name_reads_back_without_its_derived_parts() -> None:
    image = translate.to_image(USER, {"userName": "solo", "name": {"givenName": "Ann"}}, {})
    assert image.attributes["sn"] == ("solo",) and image.attributes["cn"] == ("solo",)
    shown = translate.to_resource(
        USER, "uid=solo,ou=People,dc=example,dc=org", image.attributes, {}
    )
    assert shown["name"] == {"givenName": "Ann"}


def test_a_family_name_equal_to_the_username_with_an_unrelated_formatted_name_is_hidden() -> None:
    """The documented limit: nothing shown was derived from familyName, and it equals {userName}."""
    name = {"familyName": "lee", "formatted": "Lee, Ann"}
    image = translate.to_image(USER, {"userName": "lee", "name": name}, {})
    shown = translate.to_resource(USER, "uid=lee,ou=People,dc=example,dc=org", image.attributes, {})
    assert shown["name"] == {"formatted": "Lee, Ann"}
