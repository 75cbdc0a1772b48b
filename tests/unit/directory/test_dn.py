"""DN building and comparison (RFC 4514), with the values that break naive code."""

from __future__ import annotations

import pytest

from gateway.directory import dn

HOSTILE = [
    "a,b",
    "a+b",
    'q"uote',
    "back\\slash",
    "<tag>",
    "semi;colon",
    "eq=ual",
    "#hash",
    " lead",
    "trail ",
    "Jürgen Groß",
    "日本語",
    "*star*",
    "(paren)",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_child_dn_round_trips_hostile_values(value: str) -> None:
    built = dn.child_dn("uid", value, "ou=People,dc=example,dc=org")
    assert dn.rdn_value(built) == value
    assert dn.parent(built) == "ou=People,dc=example,dc=org"
    assert dn.components(built)[1:] == [("ou", "People"), ("dc", "example"), ("dc", "org")]


@pytest.mark.parametrize("value", ["", "nul\x00"])
def test_child_dn_refuses_values_a_dn_cannot_hold(value: str) -> None:
    with pytest.raises(dn.InvalidDn):
        dn.child_dn("uid", value, "dc=example,dc=org")


def test_normalize_equates_server_hex_escaping_and_case() -> None:
    ours = dn.child_dn("cn", "Smith, John", "OU=Groups,dc=Example,dc=org")
    theirs = "cn=Smith\\2C John,ou=groups,dc=example,dc=org"
    assert dn.normalize(ours) == dn.normalize(theirs)
    assert dn.normalize("uid=a,dc=x") != dn.normalize("uid=b,dc=x")


def test_split_rdn_and_is_within() -> None:
    assert dn.split_rdn("uid=a\\,b,ou=People,dc=x") == ("uid=a\\,b", "ou=People,dc=x")
    assert dn.is_within("uid=a,ou=People,dc=x", "OU=people,dc=x")
    assert not dn.is_within("uid=a,ou=People2,dc=x", "ou=People,dc=x")
