"""A served gateway (real gunicorn) on its own subtree of the session slapd, for race tests.

Race tests need real concurrency: separate HTTP connections, gunicorn workers and threads,
each with its own LDAP connection. A ``Site`` bundles the served gateway, a SCIM client and a
direct admin LDAP connection to read what the directory really holds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import ldap3
from ldap3 import Connection

from support.scim_http import ScimHttp, gateway_env
from support.served import Served
from support.slapd import Slapd


@dataclass
class Site:
    """A served gateway, its own subtree of the session slapd, and a direct LDAP connection."""

    scim: ScimHttp
    ldap: Connection
    people: str
    groups: str
    served: Served

    def search(self, base: str, flt: str, *attrs: str, scope: str = "LEVEL") -> list[dict]:
        assert self.ldap.search(base, flt, scope, attributes=list(attrs) or ["1.1"])
        return [r for r in self.ldap.response if r.get("type") == "searchResEntry"]

    def values(self, dn: str, attr: str) -> list[str]:
        found = self.search(dn, "(objectClass=*)", attr, scope="BASE")
        return [str(v) for v in found[0]["attributes"].get(attr, [])] if found else []

    def exists(self, dn: str) -> bool:
        ok = self.ldap.search(dn, "(objectClass=*)", "BASE", attributes=["1.1"])
        return bool(ok) and any(r.get("type") == "searchResEntry" for r in self.ldap.response)


@contextlib.contextmanager
def served_site(
    slapd: Slapd, tmp: Path, token: str, *, workers: int = 2, threads: int = 4
) -> Iterator[Site]:
    """`scim-gateway serve` with the shipped mapping moved into a fresh subtree."""
    from e2e.conftest import isolated_mapping, make_subtree

    ldap = Connection(
        ldap3.Server(slapd.url, get_info=ldap3.NONE),
        user=slapd.admin_dn,
        password=slapd.admin_password,
        auto_bind=True,
        auto_referrals=False,
    )
    people, groups = make_subtree(ldap, slapd.suffix)
    env = gateway_env(
        slapd.url,
        slapd.admin_dn,
        slapd.admin_password,
        isolated_mapping(tmp, people, groups),
        token,
        tmp / "secrets",
        workers=str(workers),
        threads=str(threads),
        log_level="WARNING",
    )
    served = Served(env, tmp / "gateway.log", workers=workers)
    served.start()
    try:
        yield Site(ScimHttp(served.base, token), ldap, people, groups, served)
    finally:
        served.stop()
        ldap.unbind()
