"""Entra's email matching query (issue 13, item 2) answered by the real slapd.

With email as the matching attribute Entra sends ``GET /Users?filter=emails[type eq "work"].value
eq "x@contoso.com"`` (../shared/reference/entra-scim.md §10), form-encoded. The gateway reads it
as ``emails[type eq "work" and value eq "..."]`` and sends one LDAP equality on ``mail``.
"""

from __future__ import annotations

import logging
from urllib.parse import quote_plus

import pytest
from support.gateway import Gateway

PEOPLE = {
    "ann": "ann@contoso.com",
    "star": "a*b@contoso.com",
    "paren": "x)(uid=*@contoso.com",
    "slash": "back\\slash@contoso.com",
}


@pytest.fixture
def people(gw: Gateway) -> Gateway:
    for name, mail in PEOPLE.items():
        body = {"userName": name, "emails": [{"type": "work", "value": mail, "primary": True}]}
        resp = gw.post("/Users", body)
        assert resp.status_code == 201, resp.get_json()
    resp = gw.post("/Users", {"userName": "nomail"})
    assert resp.status_code == 201
    return gw


def entra_query(gw: Gateway, filter_text: str):
    """The request as Entra sends it: form-encoded, spaces as '+', quotes as %22."""
    return gw.client.get(f"/scim/v2/Users?filter={quote_plus(filter_text)}", headers=gw.headers)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ann@contoso.com", {"ann"}),
        ("ANN@Contoso.com", {"ann"}),  # mail compares ignoring case (caseIgnoreIA5Match)
        ("a*b@contoso.com", {"star"}),
        ("*@contoso.com", set()),  # a star is a character, never a wildcard
        ("*", set()),
        ("x)(uid=*@contoso.com", {"paren"}),
        ("x)(uid=*", set()),
        ("back\\slash@contoso.com", {"slash"}),
        ("nobody@contoso.com", set()),
    ],
)
def test_work_email_matching_query_finds_exactly_that_user(
    people: Gateway, value: str, expected: set[str]
) -> None:
    literal = value.replace("\\", "\\\\").replace('"', '\\"')
    resp = entra_query(people, f'emails[type eq "work"].value eq "{literal}"')
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert {r["userName"] for r in body["Resources"]} == expected
    assert body["totalResults"] == len(expected)


def test_other_types_and_forms_of_the_same_query(people: Gateway) -> None:
    def names(text: str) -> set[str]:
        resp = entra_query(people, text)
        assert resp.status_code == 200, resp.get_json()
        return {r["userName"] for r in resp.get_json()["Resources"]}

    assert names('emails[type eq "home"].value eq "ann@contoso.com"') == set()
    assert names('emails[type eq "work"].value eq "ann@contoso.com" and userName eq "ann"') == {
        "ann"
    }
    assert names('emails[type eq "work"].value eq "ann@contoso.com" and userName eq "x"') == set()
    assert names('emails[type eq "work"].value pr') == set(PEOPLE)
    assert names('not (emails[type eq "work"].value pr)') == {"nomail"}
    assert names('emails[type eq "work" and value eq "ann@contoso.com"]') == {"ann"}


def test_the_query_is_one_ldap_equality_on_mail(
    people: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="gateway.directory.operations"):
        resp = entra_query(people, 'emails[type eq "work"].value eq "x)(uid=*@contoso.com"')
    assert resp.status_code == 200
    searches = [r.getMessage() for r in caplog.records if "search base=" in r.getMessage()]
    assert searches, "no LDAP search logged"
    assert all(r"(mail=x\29\28uid=\2a@contoso.com)" in s for s in searches), searches


@pytest.mark.parametrize(
    "text",
    [
        'emails[type eq "work"].value',
        'emails[type eq "work"].',
        'emails[type eq "work"].valu eq "a"',
        'emails[type eq "work"].value eq',
    ],
)
def test_a_malformed_or_unknown_sub_attribute_is_400_invalid_filter(
    people: Gateway, text: str
) -> None:
    resp = entra_query(people, text)
    assert resp.status_code == 400
    assert resp.get_json()["scimType"] == "invalidFilter"
