"""The one table of directory failures → SCIM errors, for a write of a type's values too."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.errors import EntryExists, InvalidValue, SchemaViolation, Uniqueness
from gateway.mapping.loader import load_mapping
from gateway.provisioning.errors import to_scim_error, translating

ROOT = Path(__file__).resolve().parents[3]
USER = load_mapping(ROOT / "mappings" / "openldap.yaml")["User"]
REFUSED = SchemaViolation("modify", "uid=x,dc=x", 21, "title: value #0 invalid per syntax")


def test_a_refused_write_names_the_mapping_rule_behind_the_attribute() -> None:
    scim = to_scim_error(REFUSED, USER)
    assert isinstance(scim, InvalidValue)
    assert scim.detail.startswith("the directory refused title for this User (invalid syntax")
    assert "it holds the SCIM attribute 'title'" in scim.detail


def test_without_the_mapping_the_refusal_is_worded_for_the_type_alone() -> None:
    scim = to_scim_error(REFUSED, "User")
    assert scim.detail == (
        "the directory refused the values for User (LDAP result 21); check the attribute values"
    )


def test_other_failures_read_the_same_by_name_or_by_mapping() -> None:
    exists = EntryExists("add", "uid=x,dc=x", 68)
    by_name, by_mapping = to_scim_error(exists, "User"), to_scim_error(exists, USER)
    assert isinstance(by_mapping, Uniqueness)
    assert (by_mapping.status, by_mapping.detail) == (by_name.status, by_name.detail)


def test_translating_raises_the_tables_answer_from_the_directory_error() -> None:
    with pytest.raises(InvalidValue) as caught, translating(USER):
        raise REFUSED
    assert caught.value.__cause__ is REFUSED
    assert "title" in caught.value.detail
