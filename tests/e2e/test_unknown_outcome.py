"""A write whose answer never came: 504 "outcome unknown", marked in the audit line, and the
client's retry is safe (issue 15, item 6).

A relay in front of the real slapd lets the add through and drops slapd's AddResponse: the user
is created, the gateway never hears so.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

from ldap3 import Connection
from support.ldap_relay import ADD_RESPONSE, LdapRelay
from support.served import Served
from support.slapd import Slapd

from e2e.conftest import TOKEN, isolated_mapping, make_subtree

USERS = "/scim/v2/Users"
JSON_BODY = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/scim+json"}


def test_an_unanswered_create_is_504_outcome_unknown_and_its_retry_is_409(
    slapd: Slapd, ldap_admin: Connection, tmp_path: Path
) -> None:
    people, groups = make_subtree(ldap_admin, slapd.suffix)
    target = urllib.parse.urlsplit(slapd.url)
    with LdapRelay((target.hostname or "127.0.0.1", target.port or 389)) as relay:
        env = {
            "SCIM_GATEWAY_LDAP_URL": relay.url,
            "SCIM_GATEWAY_LDAP_BIND_DN": slapd.admin_dn,
            "SCIM_GATEWAY_LDAP_BIND_PASSWORD": slapd.admin_password,
            "SCIM_GATEWAY_TOKEN": TOKEN,
            "SCIM_GATEWAY_MAPPING": str(isolated_mapping(tmp_path, people, groups)),
            "SCIM_GATEWAY_LDAP_TIMEOUT": "2",
            "SCIM_GATEWAY_RETRY_AFTER": "9",
        }
        body = json.dumps({"userName": "ghost", "active": True}).encode()
        with Served(env, tmp_path / "gateway.log", workers=1) as served:
            relay.swallow(ADD_RESPONSE)
            status, raw, headers = served.request("POST", USERS, body, JSON_BODY)
            assert status == 504, raw
            assert relay.swallowed_count == 1
            error = json.loads(raw)
            assert error["status"] == "504"
            assert "may or may not have been made" in error["detail"]
            assert headers["Retry-After"] == "9"
            relay.swallow()

            # It was made: the directory holds the user, and a re-sent create is a 409.
            query = f"{USERS}?filter=" + urllib.parse.quote('userName eq "ghost"')
            status, raw, _ = served.request("GET", query, headers=JSON_BODY)
            assert status == 200 and json.loads(raw)["totalResults"] == 1, raw
            status, raw, _ = served.request("POST", USERS, body, JSON_BODY)
            assert status == 409, raw
            assert json.loads(raw)["scimType"] == "uniqueness"
    records = [json.loads(line) for line in served.log().splitlines() if line.startswith("{")]
    audits = [r for r in records if r["logger"] == "gateway.audit"]
    assert [(a["status"], a["outcome"]) for a in audits] == [(504, "unknown"), (409, "failure")]
    unknown = audits[0]
    assert unknown["operation"] == "create" and unknown["level"] == "WARNING"
    assert unknown["ldap_operations"][-1]["op"] == "add"
    assert unknown["ldap_operations"][-1]["result"] is None  # sent, never answered
    assert unknown["dns"] == [unknown["ldap_operations"][-1]["dn"]]
    assert "outcome=unknown" in unknown["message"]
