"""placement's parent of a normalized DN takes a short cut when nothing in the DN is escaped;
it must give what walking the DN character by character gives."""

from __future__ import annotations

import pytest

from gateway.directory import dn as dnlib
from gateway.mapping import placement

DNS = [
    "uid=jdoe,ou=people,dc=example,dc=org",
    "uid=u1@example.org,ou=people,dc=example,dc=org",
    "cn=a b+sn=c,ou=people,dc=example,dc=org",
    "dc=org",
    "",
    ",",
    "uid=x,",
    "uid=a\\,b,ou=people,dc=example,dc=org",  # an escaped comma in the first RDN
    "uid=a\\\\,ou=people,dc=example,dc=org",  # an escaped backslash, then the separator
    "uid=a\\",  # a trailing backslash
    "cn=\\23hash\\2c,ou=groups,dc=example,dc=org",
    "uid=ünïcode,ou=people,dc=example,dc=org",
]


@pytest.mark.parametrize("dn", DNS)
def test_parent_of_a_dn_is_what_the_walk_gives(dn: str) -> None:
    assert placement._parent_of_normalized(dn) == placement._parent_walked(dn)
    normalized = dnlib.normalize(dn)
    assert placement._parent_of_normalized(normalized) == placement._parent_walked(normalized)


def test_one_level_scope_still_sees_escaped_commas() -> None:
    base = "ou=people,dc=example,dc=org"
    assert placement.in_scope("uid=a\\,b,ou=people,dc=example,dc=org", base, "one")
    assert placement.in_scope("uid=jdoe,ou=People,dc=example,dc=org", base, "one")
    assert not placement.in_scope("uid=jdoe,ou=x,ou=people,dc=example,dc=org", base, "one")


NORMALIZED = [
    *DNS,
    "UID=JDoe,OU=People,DC=Example,DC=Org",
    "uid=j.doe-1@x.org,ou=people,dc=example,dc=org",
    "uid=a#EXT#b,ou=people,dc=example,dc=org",  # Entra guests: '#' unescaped from slapd
    "uid=a,#x=y,dc=org",
    "uid=a, ou=people,dc=example,dc=org",  # a blank after the comma
    "uid=a ,ou=people,dc=example,dc=org",
    "uid= a,ou=people,dc=example,dc=org",
    "uid=a+cn=b,ou=people,dc=example,dc=org",
    "uid=a,ou=people+cn=x,dc=example,dc=org",
    "uid=a,ou=peo\\,ple,dc=example,dc=org",
    "uid=a,ou=people,dc=example,dc=org,",
    "uid=a,,dc=org",
    "uid=a,=x",
    "uid=a,ou",
    "uid=a,ou=",
    "uid=a,1.2.3.4=x,dc=org",
    "uid=a,ou=Pëople,dc=example,dc=org",
    "1uid=a,ou=people,dc=org",
    "uid=_a,ou=people,dc=org",
    "uid=a\x00b,ou=people,dc=org",
    "uid=a,ou=people\x00,dc=org",
    " uid=a,ou=people,dc=org ",
]


@pytest.mark.parametrize("dn", NORMALIZED)
def test_normalized_is_what_normalizing_the_whole_dn_gives(dn: str) -> None:
    assert placement.normalized(dn) == dnlib.normalize(dn)


@pytest.mark.parametrize("dn", NORMALIZED)
@pytest.mark.parametrize("base", ["ou=people,dc=example,dc=org", "dc=example,dc=org", "dc=org"])
@pytest.mark.parametrize("scope", ["one", "sub"])
def test_in_scope_is_what_the_whole_dn_parse_gives(dn: str, base: str, scope: str) -> None:
    d, b = dnlib.normalize(dn), dnlib.normalize(base)
    if scope == "one":
        expected = placement._parent_walked(d) == b
    else:
        expected = dnlib.is_within(dn, base) and d != b
    assert placement.in_scope(dn, base, scope) == expected
