"""Result handling in ``Directory._check``: what a final response turns into."""

from __future__ import annotations

import pytest

from gateway.directory.messages import Result
from gateway.directory.operations import Directory
from gateway.errors import DirectoryError, NoSuchEntry, Referral
from gateway.provisioning.errors import to_scim_error


def test_success_without_references_passes() -> None:
    Directory._check("search", "dc=x", Result(0))


def test_a_referral_result_names_where_the_server_points() -> None:
    with pytest.raises(Referral) as caught:
        Directory._check("modify", "cn=a,dc=x", Result(10, referrals=("ldap://b/cn=a,dc=x",)))
    assert caught.value.referrals == ("ldap://b/cn=a,dc=x",)
    assert "ldap://b/cn=a,dc=x" in str(caught.value)
    assert to_scim_error(caught.value, "User").status == 503


def test_a_search_with_continuation_references_is_not_a_partial_success() -> None:
    """The entries read so far may be all or none of what matches: refuse, don't guess."""
    with pytest.raises(Referral) as caught:
        Directory._check("search", "dc=x", Result(0, references=("ldap://c/ou=x,dc=x",)))
    assert caught.value.result_code == 10
    assert caught.value.referrals == ("ldap://c/ou=x,dc=x",)


def test_other_codes_keep_their_meaning() -> None:
    with pytest.raises(NoSuchEntry):
        Directory._check("read", "cn=a,dc=x", Result(32))
    with pytest.raises(DirectoryError):
        Directory._check("read", "cn=a,dc=x", Result(80))
