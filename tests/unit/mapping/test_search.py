"""SCIM filters pushed down to LDAP filters through the shipped mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.directory.ldapfilter import render
from gateway.errors import InvalidFilter
from gateway.mapping.loader import load_mapping
from gateway.mapping.search import to_ldap_filter
from gateway.scim.filter import parse_filter

ROOT = Path(__file__).resolve().parents[3]
MAPPING = load_mapping(ROOT / "mappings" / "openldap.yaml")
UUID = "7e3c5e36-2c8e-103f-8d6b-c5f3a1a3e7c1"
DNS = {UUID: "uid=boss,ou=People,dc=example,dc=org"}
OFF = "cn=disabled,ou=Policies,dc=example,dc=org"  # the shipped disable mark


def translate(text: str, resource: str = "User") -> str:
    return render(to_ldap_filter(MAPPING[resource], parse_filter(text), DNS.get))


@pytest.mark.parametrize(
    ("scim", "ldap"),
    [
        ('userName eq "bjensen"', "(uid=bjensen)"),
        ('USERNAME Eq "bjensen"', "(uid=bjensen)"),
        ('userName eq "*"', r"(uid=\2a)"),
        ('userName eq "a)(uid=*"', r"(uid=a\29\28uid=\2a)"),
        ('externalId eq "0a21f0f2"', "(businessCategory=0a21f0f2)"),
        (f'id eq "{UUID}"', f"(entryUUID={UUID})"),
        ('id eq "not-a-uuid"', "(!(objectClass=*))"),
        ('userName eq "a" and externalId eq "b"', "(&(uid=a)(businessCategory=b))"),
        ('userName sw "J" or title pr', "(|(uid=J*)(title=*))"),
        ('not (userName ew "x")', "(!(uid=*x))"),
        ('name.familyName co "ens"', "(sn=*ens*)"),
        ('userName ne "a"', "(!(uid=a))"),
        ('userName gt "m"', "(&(uid>=m)(!(uid=m)))"),
        ('userName le "m"', "(uid<=m)"),
        ('emails[type eq "work" and value co "@example.org"]', "(mail=*@example.org*)"),
        ('emails[type eq "home"]', "(!(objectClass=*))"),
        ('emails.value eq "a@b"', "(mail=a@b)"),
        (
            'phoneNumbers.value eq "1"',
            "(|(telephoneNumber=1)(mobile=1)(facsimileTelephoneNumber=1))",
        ),
        (
            'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "7"',
            "(employeeNumber=7)",
        ),
        (
            f'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "{UUID}"',
            "(manager=uid=boss,ou=People,dc=example,dc=org)",
        ),
        ("active eq false", f"(|(pwdAccountLockedTime=000001010000Z)(pwdPolicySubentry={OFF}))"),
        ("active eq true", f"(!(|(pwdAccountLockedTime=000001010000Z)(pwdPolicySubentry={OFF})))"),
        (
            'meta.lastModified gt "2024-01-02T03:04:05Z"',
            "(&(modifyTimestamp>=20240102030405Z)(!(modifyTimestamp=20240102030405Z)))",
        ),
        ('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"', "(uid=x)"),
        # Entra's email matching query (entra-scim.md §10)
        ('emails[type eq "work"].value eq "x@contoso.com"', "(mail=x@contoso.com)"),
        ('emails[type eq "work"].value eq "*)(uid=*"', r"(mail=\2a\29\28uid=\2a)"),
        ('emails[type eq "home"].value eq "x@contoso.com"', "(!(objectClass=*))"),
        ('emails[type eq "work"].primary eq true', "(mail=*)"),  # the work e-mail is primary
        ('emails[type eq "work"].value eq "a" and userName eq "b"', "(&(mail=a)(uid=b))"),
        # one work address: a test on it is a test on the one rule storing that part
        ('addresses[type eq "work" and locality eq "Paris"]', "(l=Paris)"),
        ('addresses[type eq "work"].postalCode eq "75001"', "(postalCode=75001)"),
        ('addresses[type eq "work"]', "(|(street=*)(l=*)(st=*)(postalCode=*))"),
        ('addresses[type eq "home"]', "(!(objectClass=*))"),
        ('addresses.region sw "Î"', "(st=Î*)"),
        (
            'addresses[type eq "work" and (locality eq "a" or region eq "b")]',
            "(&(|(street=*)(l=*)(st=*)(postalCode=*))(|(l=a)(st=b)))",
        ),
        (
            'addresses[type eq "work" and not (streetAddress pr)]',
            "(&(|(street=*)(l=*)(st=*)(postalCode=*))(!(street=*)))",
        ),
        ('phoneNumbers[type eq "fax"].value pr', "(facsimileTelephoneNumber=*)"),
    ],
)
def test_user_filters_translate(scim: str, ldap: str) -> None:
    assert translate(scim) == ldap


@pytest.mark.parametrize(
    ("scim", "ldap"),
    [
        ('displayName eq "Sales"', "(cn=Sales)"),
        (f'members[value eq "{UUID}"]', "(member=uid=boss,ou=People,dc=example,dc=org)"),
        (f'members.value eq "{UUID}"', "(member=uid=boss,ou=People,dc=example,dc=org)"),
        ('members.value eq "a1b2c3d4-0000-4000-8000-000000000000"', "(!(objectClass=*))"),
    ],
)
def test_group_filters_translate(scim: str, ldap: str) -> None:
    assert translate(scim, "Group") == ldap


@pytest.mark.parametrize(
    ("scim", "message"),
    [
        ('nickName eq "x"', "'nickName' is not mapped"),
        ('noSuchAttr eq "x"', "unknown attribute 'noSuchAttr'"),
        ("userName co 5", "'co' needs a string"),
        ('addresses[type eq "work" and country eq "FR"]', "addresses.country is not mapped"),
        ("addresses.formatted pr", "addresses.formatted is not mapped"),
        ('active co "x"', "active supports eq and ne"),
    ],
)
def test_untranslatable_filters_are_rejected(scim: str, message: str) -> None:
    with pytest.raises(InvalidFilter, match=message) as caught:
        translate(scim)
    assert caught.value.detail.count(message.strip("'")) == 1, caught.value.detail  # said once
