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


def test_an_error_in_the_user_section_is_reported_once_not_again_as_a_missing_user() -> None:
    """A typo in User made Group's member types report "User is not defined" as well."""
    text = (ROOT / "mappings" / "openldap.yaml").read_text(encoding="utf-8")
    assert "    - scim: title\n" in text
    with pytest.raises(ConfigError) as caught:
        load_mapping_text(text.replace("    - scim: title\n", "    - scim: titl\n"))
    problems = caught.value.problems
    assert len(problems) == 1, problems
    assert "unknown attribute 'titl'" in problems[0]


def test_reference_to_undefined_resource_type_is_reported() -> None:
    text = (
        MINIMAL
        + "    - scim: groups\n      ldap: memberOf\n"
        + "      reference: [Group]\n      write: readOnly\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_mapping_text(text)
    assert "refers to Group" in "\n".join(caught.value.problems)


def _rules(*rules: tuple[str, str, str]) -> str:
    """MINIMAL plus rules given as (scim, ldap, extra YAML line or "")."""
    text = MINIMAL
    for scim, ldap, extra in rules:
        text += f"    - scim: '{scim}'\n      ldap: {ldap}\n"
        if extra:
            text += f"      {extra}\n"
    return text


@pytest.mark.parametrize(
    ("scim", "extra", "message"),
    [
        ('phoneNumbers[type eq "fax"].valu', "", "unknown sub-attribute 'valu' of phoneNumbers"),
        ('phoneNumbers[type eq "fax"].valu', "", "did you mean 'value'?"),
        ('phoneNumbers[type eq "fax"].display', "", "display is read-only (RFC 7643 §2.4)"),
        ('addresses[type eq "work"].state', "", "did you mean 'region'?"),
        ('addresses[type eq "work"].city', "", "did you mean 'locality'?"),
        ('addresses[type eq "work"]', "", "addresses values have no 'value'"),
        ('emails[value eq "x"].value', "", "selects the values of one type only"),
        ('emails[type co "w"].value', "", "selects the values of one type only"),
        ('emails[type eq "work"].type', "", "type is set by the rule itself"),
        ('emails[type eq "work"].primary', "", "primary is set by the rule itself"),
        ('title[type eq "x"]', "", "title is single-valued"),
    ],
)
def test_a_rule_that_would_store_nothing_is_an_error_with_its_line(
    scim: str, extra: str, message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_mapping_text(_rules((scim, "description", extra)), "m.yaml")
    (problem,) = err.value.problems
    assert problem.startswith("m.yaml:9: User.attributes.1.scim: "), problem
    assert message in problem


@pytest.mark.parametrize(
    ("scim", "extra"),
    [
        ('phoneNumbers[type eq "fax"].value', ""),
        ('phoneNumbers[type eq "fax"]', ""),
        ('addresses[type eq "work"].postalCode', ""),
        ('ADDRESSES[TYPE eq "Work"].LOCALITY', ""),
        ("emails.value", ""),
        ('phoneNumbers[type eq "work"].display', "write: readOnly"),
    ],
)
def test_rules_naming_a_stored_part_of_a_typed_value_load(scim: str, extra: str) -> None:
    user = load_mapping_text(_rules((scim, "description", extra)))["User"]
    assert user.attributes[1].scim_text == scim


def test_one_typed_part_mapped_twice_in_different_spelling_is_an_error() -> None:
    text = _rules(
        ('emails[type eq "work"].value', "mail", ""),
        ('EMAILS[type eq "Work"]', "description", ""),
    )
    with pytest.raises(ConfigError) as err:
        load_mapping_text(text, "m.yaml")
    assert err.value.problems == [
        'm.yaml:11: User.attributes.2: EMAILS[type eq "Work"] is mapped twice'
    ]
