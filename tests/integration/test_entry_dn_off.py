"""DN lookups without entryDN (mapping ``directory.entry_dn: false``) against the real slapd.

The search then matches the naming attribute only, so with ``scope: sub`` it also finds
entries of the same name in other OUs below the base: References.by_dns must keep only the
entries at the DNs it was asked for.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
from support.slapd import Slapd

from gateway.directory import dn as dnlib
from gateway.directory.operations import Directory
from gateway.directory.pool import ConnectionPool, ConnectionSettings
from gateway.mapping.loader import load_mapping_text
from gateway.provisioning.references import References

_tops = itertools.count()


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


@pytest.fixture
def top(slapd: Slapd, directory: Directory) -> str:
    """``ou=<unique>`` with two OUs, each holding a ``uid=same`` person, plus ``uid=other``."""
    top = f"ou=entrydn{os.getpid()}x{next(_tops)},{slapd.suffix}"
    directory.add(top, {"objectClass": ["organizationalUnit"], "ou": [dnlib.rdn_value(top)]})
    for ou in ("a", "b"):
        parent = f"ou={ou},{top}"
        directory.add(parent, {"objectClass": ["organizationalUnit"], "ou": [ou]})
        for uid in ("same", "other") if ou == "a" else ("same",):
            attrs = {"objectClass": ["inetOrgPerson"], "uid": [uid], "sn": [uid], "cn": [uid]}
            directory.add(f"uid={uid},{parent}", attrs)
    return top


def references(directory: Directory, top: str, entry_dn: bool) -> References:
    mapping = load_mapping_text(
        f"""version: 1
directory: {{entry_dn: {str(entry_dn).lower()}}}
User:
  base_dn: "{top}"
  scope: sub
  object_classes: [inetOrgPerson]
  filter: (objectClass=inetOrgPerson)
  rdn_attribute: uid
  attributes:
    - {{scim: userName, ldap: uid}}
"""
    )
    return References(directory, mapping)


@pytest.mark.parametrize("entry_dn", [True, False])
def test_only_the_entries_asked_for_come_back(
    directory: Directory, top: str, entry_dn: bool
) -> None:
    refs = references(directory, top, entry_dn)
    asked = [f"uid=same,ou=a,{top}", f"UID=other,ou=A,{top}", f"uid=gone,ou=a,{top}"]
    found = refs.by_dns(asked, ["User"])
    assert sorted(found) == sorted(dnlib.normalize(d) for d in asked[:2])
    assert all(r.type == "User" and r.id for r in found.values())
    other = refs.by_dns([f"uid=same,ou=b,{top}"], ["User"])
    assert list(other) == [dnlib.normalize(f"uid=same,ou=b,{top}")]
    assert found[dnlib.normalize(asked[0])].id != next(iter(other.values())).id
