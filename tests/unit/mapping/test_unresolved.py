"""A reference kept as read through an update: a typed stand-in, never a string id."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.directory import dn as dnlib
from gateway.errors import InvalidValue
from gateway.mapping import translate
from gateway.mapping.loader import load_mapping
from gateway.mapping.unresolved import Unresolved

ROOT = Path(__file__).resolve().parents[3]
USER = load_mapping(ROOT / "mappings" / "openldap.yaml")["User"]
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
BOSS = "uid=Boss,ou=People,dc=example,dc=org"
ME = "uid=me,ou=People,dc=example,dc=org"


def _before() -> dict:
    """The "before" resource of an update, its manager standing in by DN."""
    attributes = {"uid": ("me",), "sn": ("Me",), "cn": ("Me",), "manager": (BOSS,)}
    stand_in = {dnlib.normalize(BOSS): Unresolved(BOSS)}
    return translate.to_resource(USER, ME, attributes, stand_in, hide_derived=True)


def test_the_stand_in_is_written_back_as_its_dn_without_a_lookup() -> None:
    before = _before()
    assert before[ENTERPRISE]["manager"] == {"value": Unresolved(BOSS)}
    image = translate.to_image(USER, before, {}, current_dn=ME)
    assert image.attributes["manager"] == (BOSS,)


def test_a_client_id_spelled_like_the_old_string_stand_in_is_an_unknown_id() -> None:
    """Stand-ins used to be ``dn:<DN>`` strings, which a client could send as an id."""
    after = _before()
    after[ENTERPRISE]["manager"] = {"value": f"dn:{BOSS}"}
    with pytest.raises(InvalidValue, match="no User with id"):
        translate.to_image(USER, after, {}, current_dn=ME)
