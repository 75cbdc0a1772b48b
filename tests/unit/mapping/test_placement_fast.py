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
