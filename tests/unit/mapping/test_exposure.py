"""What /Schemas publishes of a mapping: the mapped parts of complex multi-valued attributes."""

from __future__ import annotations

from pathlib import Path

from gateway.mapping.exposure import served_type
from gateway.mapping.loader import load_mapping, load_mapping_text

ROOT = Path(__file__).resolve().parents[3]
USER = load_mapping(ROOT / "mappings" / "openldap.yaml")["User"]


def subs(rm, name: str) -> dict:
    attribute = served_type(rm).schema.attribute(name)
    assert attribute is not None
    return {s.name: s for s in attribute.sub_attributes}


def test_the_work_address_publishes_the_parts_it_stores() -> None:
    parts = subs(USER, "addresses")
    assert list(parts) == ["streetAddress", "locality", "region", "postalCode", "type"]
    assert parts["type"].canonical_values == ("work",)


def test_typed_values_publish_value_and_their_types() -> None:
    phones = subs(USER, "phoneNumbers")
    assert list(phones) == ["value", "type"]
    assert phones["type"].canonical_values == ("fax", "mobile", "work")
    assert "primary" in subs(USER, "emails")  # declared by the shipped rule, read-only


def test_a_mapped_primary_is_published_read_only() -> None:
    text = """\
version: 1
User:
  base_dn: ou=People,dc=example,dc=org
  object_classes: [inetOrgPerson]
  rdn_attribute: uid
  attributes:
    - scim: userName
      ldap: uid
    - scim: emails[type eq "work"].value
      ldap: mail
      primary: true
"""
    emails = subs(load_mapping_text(text)["User"], "emails")
    assert emails["primary"].mutability == "readOnly"
    assert emails["value"].mutability == "readWrite"
