"""Mapping files: the shipped ones load; broken ones fail with every problem, path and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.errors import ConfigError
from gateway.mapping.loader import load_mapping, load_mapping_text

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("path", sorted((ROOT / "mappings").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_mappings_load(path: Path) -> None:
    mapping = load_mapping(path)
    assert mapping.resources


MINIMAL = """\
version: 1
User:
  base_dn: ou=People,dc=example,dc=org
  object_classes: [inetOrgPerson]
  rdn_attribute: uid
  attributes:
    - scim: userName
      ldap: uid
"""


def test_minimal_mapping_gets_defaults() -> None:
    user = load_mapping_text(MINIMAL)["User"]
    assert user.scope == "one" and user.id_attribute == "entryUUID" and user.unmapped == "ignore"
    assert user.rdn_rule.ldap == "uid"


def test_every_problem_is_reported_at_once_with_its_line() -> None:
    text = """\
version: 1
User:
  base_dn: ou=People,dc=example,dc=org
  object_classes: [inetOrgPerson]
  rdn_attribute: uid
  scpoe: sub
  attributes:
    - scim: userName
      ldap: uid
    - scim: nickname
      ldap: displayName
      converter: nosuch
    - scim: emails[type eq "work"].value
      ldapp: mail
"""
    with pytest.raises(ConfigError) as caught:
        load_mapping_text(text, "m.yaml")
    problems = "\n".join(caught.value.problems)
    assert "m.yaml:6: User.scpoe: Unknown field." in problems
    assert "m.yaml:12: User.attributes.1.converter" in problems
    assert "m.yaml:14: User.attributes.2.ldapp: Unknown field." in problems
    assert "User.attributes.2.ldap: Missing data" in problems


def test_unknown_scim_attribute_and_missing_rdn_rule_are_reported() -> None:
    text = MINIMAL.replace("scim: userName", "scim: userNmae")
    with pytest.raises(ConfigError) as caught:
        load_mapping_text(text, "m.yaml")
    problems = "\n".join(caught.value.problems)
    assert "userNmae" in problems
    assert "rdn_attribute" in problems


def test_bad_admin_filter_and_disable_strategy_are_reported() -> None:
    text = MINIMAL.replace(
        "  rdn_attribute: uid",
        "  rdn_attribute: uid\n  filter: (&(a=b)\n  disable: {strategy: boolean}",
    )
    with pytest.raises(ConfigError) as caught:
        load_mapping_text(text, "m.yaml")
    problems = "\n".join(caught.value.problems)
    assert "User.filter: not a valid LDAP filter" in problems
    assert "boolean strategy needs 'attribute' and 'disabled_value'" in problems


def test_duplicate_keys_are_errors() -> None:
    with pytest.raises(ConfigError) as caught:
        load_mapping_text(
            MINIMAL.replace("  rdn_attribute: uid", "  rdn_attribute: uid\n  rdn_attribute: cn")
        )
    assert "duplicate key" in "\n".join(caught.value.problems)


def test_reference_to_undefined_resource_type_is_reported() -> None:
    text = (
        MINIMAL
        + "    - scim: groups\n      ldap: memberOf\n"
        + "      reference: [Group]\n      write: readOnly\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_mapping_text(text)
    assert "refers to Group" in "\n".join(caught.value.problems)
