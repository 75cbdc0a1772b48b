"""A SCIM disable survives the directory's own tools: a help-desk ``ldappasswd`` (as the
directory's admin) resets the password, and ppolicy deletes ``pwdAccountLockedTime`` with it;
the second mark (``pwdPolicySubentry`` of the shipped mapping) stays, so the account still reads
``active: false`` and the shipped slapd ACL still refuses its binds."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from ldap3 import NONE, Connection, Server
from support.gateway import Gateway
from support.slapd import Slapd

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MARK = "cn=disabled,ou=Policies,dc=example,dc=org"
LOCKED = "000001010000Z"
LDAPPASSWD = ["ldappasswd", "-x"]  # simple bind; the admin password comes on stdin

pytestmark = pytest.mark.skipif(shutil.which("ldappasswd") is None, reason="needs ldap-utils")


def binds(slapd: Slapd, dn: str, password: str) -> bool:
    conn = Connection(Server(slapd.url, get_info=NONE), user=dn, password=password)
    try:
        return bool(conn.bind())
    finally:
        conn.unbind()


def ldappasswd(slapd: Slapd, dn: str, new: str) -> None:
    """The help desk's reset: the real OpenLDAP client, bound as the directory's admin."""
    proc = subprocess.run(
        [*LDAPPASSWD, "-H", slapd.url, "-D", slapd.admin_dn, "-y", "/dev/stdin", "-s", new, dn],
        input=slapd.admin_password,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def replace(gw: Gateway, uid: str, path: str, value: object) -> dict:
    body = {"schemas": [PATCH], "Operations": [{"op": "Replace", "path": path, "value": value}]}
    resp = gw.patch(f"/Users/{uid}", body)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def ids(gw: Gateway, flt: str) -> set[str]:
    resp = gw.get("/Users", query_string={"filter": flt})
    assert resp.status_code == 200, resp.get_json()
    return {r["id"] for r in resp.get_json().get("Resources", [])}


def test_a_password_reset_by_the_help_desk_does_not_re_enable_a_disabled_account(
    gw: Gateway, slapd: Slapd
) -> None:
    resp = gw.post("/Users", {"userName": "helpdesk", "password": "First-pw-123"})
    assert resp.status_code == 201, resp.get_json()
    uid, dn = resp.get_json()["id"], f"uid=helpdesk,{gw.people}"
    assert binds(slapd, dn, "First-pw-123")

    assert replace(gw, uid, "active", "False")["active"] is False  # Entra's string form
    marks = gw.entry(dn, "pwdAccountLockedTime", "pwdPolicySubentry")
    assert marks == {"pwdaccountlockedtime": [LOCKED], "pwdpolicysubentry": [MARK]}
    assert not binds(slapd, dn, "First-pw-123")

    ldappasswd(slapd, dn, "Reset-by-helpdesk-1")
    # ppolicy removed the lock with the reset; the mark is still there
    assert gw.entry(dn, "pwdAccountLockedTime", "pwdPolicySubentry") == {
        "pwdpolicysubentry": [MARK]
    }
    assert gw.get(f"/Users/{uid}").get_json()["active"] is False
    assert uid in ids(gw, "active eq false") and uid not in ids(gw, "active eq true")
    assert not binds(slapd, dn, "Reset-by-helpdesk-1")  # the shipped ACL refuses it

    # the next SCIM write to the account puts the lost lock back
    replace(gw, uid, "title", "Left the company")
    assert gw.entry(dn, "pwdAccountLockedTime") == {"pwdaccountlockedtime": [LOCKED]}

    # only a SCIM enable re-enables it, and then the reset password works
    assert replace(gw, uid, "active", True)["active"] is True
    assert gw.entry(dn, "pwdAccountLockedTime", "pwdPolicySubentry") == {}
    assert binds(slapd, dn, "Reset-by-helpdesk-1")


def test_a_lock_from_failed_binds_is_not_a_scim_disable(gw: Gateway, ldap_admin: Connection):
    """ppolicy's own lockout (a timestamp, after pwdMaxFailure bad binds) is not SCIM's mark:
    the account stays ``active: true`` and SCIM updates leave the lockout alone."""
    resp = gw.post("/Users", {"userName": "failures"})
    assert resp.status_code == 201
    uid, dn = resp.get_json()["id"], f"uid=failures,{gw.people}"
    assert ldap_admin.modify(
        dn, {"pwdAccountLockedTime": [("MODIFY_REPLACE", ["20260101000000Z"])]}
    )
    assert gw.get(f"/Users/{uid}").get_json()["active"] is True
    replace(gw, uid, "title", "still locked out")
    assert gw.entry(dn, "pwdAccountLockedTime") == {"pwdaccountlockedtime": ["20260101000000Z"]}
