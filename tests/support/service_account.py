"""The gateway bound as the least-privilege service account of docker/slapd (not the rootdn).

slapd.conf.template grants ``cn=scim-gateway,ou=Services,<suffix>`` write access below
ou=People and ou=Groups only, unlimited paged searches, and write-only access to passwords;
the seed creates the account without a usable password. Tests give it one here and run the app
with it on a subtree below ou=People / ou=Groups, where those rights apply.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ldap3 import Connection

from support.gateway import Gateway
from support.slapd import Slapd

SERVICE_PASSWORD = "svc-Test-pw-42"
TOKEN = "test-token-0123456789abcdef"
_counter = itertools.count()


def service_dn(slapd: Slapd) -> str:
    return f"cn=scim-gateway,ou=Services,{slapd.suffix}"


def enable_service_account(ldap: Connection, slapd: Slapd) -> str:
    """Give the shipped service account its password (as the rootdn); returns its DN."""
    dn = service_dn(slapd)
    assert ldap.extend.standard.modify_password(dn, new_password=SERVICE_PASSWORD), ldap.result
    return dn


def service_subtree(ldap: Connection, slapd: Slapd) -> tuple[str, str]:
    """A fresh (people, groups) pair below ou=People and ou=Groups, made by the rootdn."""
    name = f"ou=s{os.getpid()}x{next(_counter)}"
    people, groups = f"{name},{slapd.people_dn}", f"{name},{slapd.groups_dn}"
    for dn in (people, groups):
        assert ldap.add(dn, ["organizationalUnit"]), ldap.result
    return people, groups


@contextlib.contextmanager
def service_gateway(
    slapd: Slapd, ldap: Connection, tmp_path: Path, source: Path, **overrides: Any
) -> Iterator[Gateway]:
    """The app over ``source`` (a mapping) moved to a fresh subtree, bound as the account."""
    from e2e.conftest import isolated_mapping, settings_for

    from gateway.app import create_app

    people, groups = service_subtree(ldap, slapd)
    mapping = isolated_mapping(tmp_path, people, groups, source=source)
    settings = settings_for(
        slapd,
        mapping,
        ldap_bind_dn=enable_service_account(ldap, slapd),
        ldap_bind_password=SERVICE_PASSWORD,
        **overrides,
    )
    app = create_app(settings)
    app.testing = True
    try:
        yield Gateway(app.test_client(), ldap, people, groups, {"Authorization": f"Bearer {TOKEN}"})
    finally:
        app.extensions["scim"].pool.close_all()
