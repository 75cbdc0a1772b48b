"""RDN and filter escaping of the values ldap3's helpers got wrong (issue 12, item 6).

The round trips through slapd itself are in tests/integration/test_escaping_slapd.py; here
the escaped text is pinned exactly, so a change of form is a deliberate one.
"""

from __future__ import annotations

import pytest

from gateway.directory import dn
from gateway.directory import ldapfilter as lf

PARENT = "ou=People,dc=example,dc=org"


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        (" ", "\\20"),  # ldap3's escape_rdn made this "\\\\ ": a backslash and a space
        ("   ", "\\20 \\20"),
        (" a ", "\\20a\\20"),
        ("a\nb", "a\\0Ab"),
        ("a\rb", "a\\0Db"),
        ("a\tb", "a\\09b"),
        ("del\x7f", "del\\7F"),
        ("#x", "\\23x"),
        ("x#", "x#"),
        ("a,b+c", "a\\,b\\+c"),
        ('q"<>;=\\', 'q\\"\\<\\>\\;\\=\\\\'),
        ("Jürgen", "Jürgen"),
    ],
)
def test_rdn_values_are_escaped_per_rfc_4514(value: str, escaped: str) -> None:
    assert dn.escape_value(value) == escaped


@pytest.mark.parametrize(
    "value", [" ", "  ", " lead", "trail ", "a\nb", "\r\n", "\t", "\\ ", "#", " # ", "x\x01y"]
)
def test_escaped_rdn_values_parse_back_to_themselves(value: str) -> None:
    built = dn.child_dn("uid", value, PARENT)
    assert dn.rdn_value(built) == value
    assert dn.parent(built) == PARENT


@pytest.mark.parametrize("value", ["\ud800", "a\udfffb", "\udc00\ud800"])
def test_a_lone_surrogate_is_refused_as_an_invalid_dn(value: str) -> None:
    with pytest.raises(dn.InvalidDn, match="surrogate"):
        dn.child_dn("uid", value, PARENT)


def test_normalize_equates_a_space_value_however_it_is_escaped() -> None:
    ours = dn.child_dn("uid", " ", PARENT)
    assert dn.normalize(ours) == dn.normalize(f"uid=\\ ,{PARENT}")
    assert dn.normalize(ours) != dn.normalize(f"uid=\\5C,{PARENT}")


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        (" ", "\\20"),
        ("  a b  ", "\\20\\20a b\\20\\20"),
        ("a\nb\rc\td", "a\\0ab\\0dc\\09d"),
        ("*()\\\x00", "\\2a\\28\\29\\5c\\00"),
        ("\xa0x\u3000", "\\c2\\a0x\\e3\\80\\80"),  # str.strip() would eat these
        ("é", "é"),
        ("", ""),
    ],
)
def test_filter_values_are_escaped_per_rfc_4515(value: str, escaped: str) -> None:
    assert lf.escape(value) == escaped
    assert lf.render(lf.Equal("uid", value)) == f"(uid={escaped})"
