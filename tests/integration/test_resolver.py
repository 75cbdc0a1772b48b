"""A request's Resolver against a real slapd: what it already found costs no round trip.

The PATCH path reads its entry and the ids its operations name in one search, then hands
those to a :class:`Resolver` for the writes that follow; these tests count the LDAP requests
each lookup sends (``counting_round_trips``, what the request log and bench/run.py report).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.slapd import Slapd

from gateway.directory.operations import Directory, counting_round_trips
from gateway.directory.pool import ConnectionPool, ConnectionSettings
from gateway.mapping.loader import load_mapping
from gateway.provisioning.references import Ref, References
from gateway.provisioning.resolver import Resolver

pytestmark = pytest.mark.slapd

ROOT = Path(__file__).resolve().parents[2]
MAPPING = load_mapping(ROOT / "mappings" / "openldap.yaml")
_names = itertools.count()


@pytest.fixture(scope="module")
def directory(slapd: Slapd) -> Iterator[Directory]:
    pool = ConnectionPool(
        ConnectionSettings(
            urls=(slapd.url,), bind_dn=slapd.admin_dn, bind_password=slapd.admin_password
        )
    )
    try:
        yield Directory(pool)
    finally:
        pool.close_all()


def _user(directory: Directory, slapd: Slapd) -> Ref:
    """A new inetOrgPerson under People, as the User type of the shipped mapping sees it."""
    uid = f"resolver{os.getpid()}x{next(_names)}"
    dn = f"uid={uid},{slapd.people_dn}"
    attrs = {"objectClass": ["inetOrgPerson"], "uid": [uid], "cn": [uid], "sn": [uid]}
    entry = directory.add(dn, attrs, read_back=["entryUUID"])
    ident = entry.first("entryUUID")
    assert ident
    return Ref("User", ident, entry.dn)


@pytest.fixture
def refs(directory: Directory) -> References:
    return References(directory, MAPPING)


def test_without_known_ids_every_lookup_is_one_search(
    directory: Directory, slapd: Slapd, refs: References
) -> None:
    a, b = _user(directory, slapd), _user(directory, slapd)
    with counting_round_trips() as trips:
        found = Resolver(refs).by_ids([a.id, b.id], ["User"])
    assert found == {a.id: a, b.id: b}
    assert trips.count == 1


def test_known_ids_are_answered_and_only_the_rest_is_asked(
    directory: Directory, slapd: Slapd, refs: References
) -> None:
    a, b = _user(directory, slapd), _user(directory, slapd)
    resolver = Resolver(refs, {a.id: a})
    with counting_round_trips() as trips:
        found = resolver.by_ids([a.id, b.id], ["User"])
    assert found == {a.id: a, b.id: b}
    assert trips.count == 1
    with counting_round_trips() as trips:
        assert resolver.by_ids([a.id], ["User"]) == {a.id: a}
    assert trips.count == 0


def test_a_known_id_of_another_type_is_asked_for(
    directory: Directory, slapd: Slapd, refs: References
) -> None:
    """Found as a User, asked for as a Group: the directory says whether it is one (no)."""
    a = _user(directory, slapd)
    resolver = Resolver(refs, {a.id: a})
    with counting_round_trips() as trips:
        assert resolver.by_ids([a.id], ["Group"]) == {}
    assert trips.count == 1


def test_references_asks_the_directory_now_whatever_a_request_found(
    directory: Directory, slapd: Slapd, refs: References
) -> None:
    """Membership.settle checks after a write through References itself: an entry deleted
    since the request found it is gone there, while the request's Resolver still has it."""
    a = _user(directory, slapd)
    resolver = Resolver(refs, {a.id: a})
    directory.delete(a.dn)
    assert refs.by_ids([a.id], ["User"]) == {}
    assert resolver.by_ids([a.id], ["User"]) == {a.id: a}
