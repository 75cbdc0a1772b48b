"""LDAP filter rendering: every value escaped exactly once (RFC 4515 §3)."""

from __future__ import annotations

import pytest

from gateway.directory import ldapfilter as lf


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (lf.Equal("uid", "bjensen"), "(uid=bjensen)"),
        (lf.Equal("uid", "a*b"), r"(uid=a\2ab)"),
        (lf.Equal("uid", ")("), r"(uid=\29\28)"),
        (lf.Equal("uid", "*)(uid=*"), r"(uid=\2a\29\28uid=\2a)"),
        (lf.Equal("uid", "back\\slash"), r"(uid=back\5cslash)"),
        (lf.Equal("uid", "nul\x00byte"), r"(uid=nul\00byte)"),
        (lf.Equal("cn", 'Jürgen ,+"<>;=#'), '(cn=Jürgen ,+"<>;=#)'),
        (lf.Substring("mail", any=("@ex*",)), r"(mail=*@ex\2a*)"),
        (lf.Substring("uid", initial="a(", final="z)"), r"(uid=a\28*z\29)"),
        (lf.Substring("uid", final="x"), "(uid=*x)"),
        (
            lf.GreaterOrEqual("modifyTimestamp", "20240101000000Z"),
            "(modifyTimestamp>=20240101000000Z)",
        ),
        (lf.LessOrEqual("a", "5"), "(a<=5)"),
        (lf.Present("mail"), "(mail=*)"),
        (lf.Not(lf.Equal("a", "b")), "(!(a=b))"),
        (
            lf.And((lf.Equal("a", "1"), lf.Or((lf.Equal("b", "2"), lf.Present("c"))))),
            "(&(a=1)(|(b=2)(c=*)))",
        ),
        (lf.Raw("(objectClass=inetOrgPerson)"), "(objectClass=inetOrgPerson)"),
        (lf.Raw("objectClass=person"), "(objectClass=person)"),
        (lf.Nothing(), "(!(objectClass=*))"),
    ],
)
def test_render_escapes_values_once(node: lf.LdapFilter, expected: str) -> None:
    assert lf.render(node) == expected


def test_conjunction_flattens_and_drops_none() -> None:
    a, b, c = lf.Equal("a", "1"), lf.Equal("b", "2"), lf.Equal("c", "3")
    assert lf.conjunction(None, a) == a
    assert lf.conjunction(lf.And((a, b)), None, c) == lf.And((a, b, c))
    assert lf.conjunction() == lf.MATCH_ALL


def test_validate_raw_reports_broken_admin_filters() -> None:
    assert lf.validate_raw("(objectClass=inetOrgPerson)") is None
    assert lf.validate_raw("(&(a=b)") is not None
