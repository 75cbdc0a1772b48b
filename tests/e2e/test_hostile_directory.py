"""What a SCIM client sees when the directory answers garbage (issue 12, item 5).

The app runs as in production (its own pool and codec) against the real slapd, through a
hostile proxy on 127.0.0.1 (tests/support/hostile_ldap.py) that rewrites chosen answers.
Whatever the directory sends, the client gets a SCIM error with the right status — 503
(with Retry-After) for reads, 503 or 504 (outcome unknown) for a write — never a 500,
never later than the LDAP deadline allows, and a write whose read was refused writes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from ldap3 import Connection
from support.hostile_ldap import (
    CLOSE,
    Answer,
    HostileLdap,
    decoded,
    entry,
    reference,
    result_done,
)
from support.slapd import Slapd

from e2e.conftest import TOKEN, isolated_mapping, make_subtree, settings_for
from gateway.app import create_app
from gateway.directory import messages

pytestmark = pytest.mark.slapd

LDAP_TIMEOUT = 2.0
SEARCH, MODIFY = messages.SEARCH_REQUEST, messages.MODIFY_REQUEST
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Setup:
    client: object
    hostile: HostileLdap
    ldap: Connection
    user_id: str
    user_dn: str


@pytest.fixture
def setup(slapd: Slapd, ldap_admin: Connection, tmp_path: Path) -> Iterator[Setup]:
    people, groups = make_subtree(ldap_admin, slapd.suffix)
    with HostileLdap(int(slapd.url.rsplit(":", 1)[1])) as hostile:
        settings = settings_for(
            slapd,
            isolated_mapping(tmp_path, people, groups),
            ldap_urls=(hostile.url,),
            ldap_timeout=LDAP_TIMEOUT,
        )
        app = create_app(settings)
        client = app.test_client()
        try:
            created = client.post(
                "/scim/v2/Users",
                json={"schemas": [USER], "userName": "hostile.bob", "displayName": "Bob"},
                headers=HEADERS,
            )
            assert created.status_code == 201, created.get_json()
            user_id = created.get_json()["id"]
            user_dn = f"uid=hostile.bob,{people}"
            yield Setup(client, hostile, ldap_admin, user_id, user_dn)
        finally:
            app.extensions["scim"].pool.close_all()


def refused(response, *statuses: int) -> dict:
    """A SCIM error with one of ``statuses`` (503 carries Retry-After)."""
    body = response.get_json()
    assert response.status_code in statuses, (response.status_code, body)
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert body["status"] == str(response.status_code)
    if response.status_code == 503:
        assert response.headers.get("Retry-After")
    return body


def last_id(answer: Answer) -> int:
    return decoded(answer)[-1].message_id


def non_utf8_display_name(answer: Answer) -> list[bytes]:
    """slapd's entries with displayName as Latin-1 bytes: what a U+FFFD reader would corrupt."""
    out = []
    for raw, response in zip(answer.messages, decoded(answer), strict=True):
        if response.entry is None:
            out.append(raw)
            continue
        attrs: dict[str, list[bytes | str]] = {
            k: list(v) for k, v in response.entry.attributes.items()
        }
        attrs["displayName"] = ["Bob Müller".encode("latin-1")]
        attrs.pop("displayname", None)
        out.append(entry(response.message_id, response.entry.dn, attrs))
    return out


HOSTILE_ANSWERS = [
    pytest.param(lambda a: [b"\x30\x84\xf0\x00\x00\x00\x02\x01\x01"], id="4-GiB-length"),
    pytest.param(
        lambda a: [p for byte in b"".join(a.messages) for p in (bytes((byte,)), 0.5)][:60],
        id="trickle",
    ),
    pytest.param(non_utf8_display_name, id="not-utf8"),
    pytest.param(
        lambda a: [
            *a.messages[:-1],
            reference(last_id(a), "ldap://other.example/"),
            a.messages[-1],
        ],
        id="search-reference",
    ),
    pytest.param(
        lambda a: [result_done(last_id(a), 10, referrals=["ldap://other.example/"])],
        id="referral",
    ),
    pytest.param(lambda a: [*a.messages[:-1], result_done(last_id(a), -7)], id="negative-code"),
    pytest.param(lambda a: [b"".join(a.messages) + b"\x00\x00garbage"], id="bytes-after-final"),
    pytest.param(lambda a: [a.messages[0][:5], CLOSE], id="closed-mid-message"),
]


@pytest.mark.parametrize("tamper", HOSTILE_ANSWERS)
def test_a_read_answered_with_garbage_is_a_503_within_the_deadline(setup: Setup, tamper) -> None:
    setup.hostile.only(SEARCH, tamper)
    started = time.monotonic()
    response = setup.client.get(f"/scim/v2/Users/{setup.user_id}", headers=HEADERS)
    elapsed = time.monotonic() - started
    refused(response, 503)
    assert elapsed < 2 * LDAP_TIMEOUT + 1  # one retry of a read, each within its deadline
    setup.hostile.rule = None
    assert setup.client.get(f"/scim/v2/Users/{setup.user_id}", headers=HEADERS).status_code == 200


@pytest.mark.parametrize("tamper", HOSTILE_ANSWERS)
def test_a_list_answered_with_garbage_is_a_503(setup: Setup, tamper) -> None:
    setup.hostile.only(SEARCH, tamper)
    response = setup.client.get('/scim/v2/Users?filter=userName eq "hostile.bob"', headers=HEADERS)
    refused(response, 503)


def test_a_put_of_a_value_that_is_not_utf8_writes_nothing(setup: Setup) -> None:
    """The reader refuses the entry instead of handing back U+FFFD, so no PUT built from it,
    and no PUT that reads it first, can overwrite the stored value."""
    before = setup.ldap.search(setup.user_dn, "(objectClass=*)", "BASE", attributes=["*", "+"])
    assert before
    stored = dict(setup.ldap.response[0]["raw_attributes"])
    setup.hostile.only(SEARCH, non_utf8_display_name)
    get = setup.client.get(f"/scim/v2/Users/{setup.user_id}", headers=HEADERS)
    assert "\ufffd" not in get.get_data(as_text=True)
    assert "displayname" in refused(get, 503)["detail"]  # named, for the operator
    seen = len(setup.hostile.seen)
    put = setup.client.put(
        f"/scim/v2/Users/{setup.user_id}",
        json={"schemas": [USER], "userName": "hostile.bob", "displayName": "Bob M\ufffdller"},
        headers=HEADERS,
    )
    refused(put, 503)
    assert all(r.op_tag == SEARCH for r in setup.hostile.seen[seen:])  # no write was sent
    setup.ldap.search(setup.user_dn, "(objectClass=*)", "BASE", attributes=["*", "+"])
    assert dict(setup.ldap.response[0]["raw_attributes"]) == stored


def test_a_referral_is_reported_as_such(setup: Setup) -> None:
    setup.hostile.only(
        SEARCH, lambda a: [result_done(last_id(a), 10, referrals=["ldap://other.example/"])]
    )
    response = setup.client.get(f"/scim/v2/Users/{setup.user_id}", headers=HEADERS)
    assert "referr" in refused(response, 503)["detail"]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda a: [result_done(last_id(a), -1, tag=0x67)], id="negative-code"),
        pytest.param(lambda a: [b"".join(a.messages) + b"\x30\x00"], id="bytes-after-final"),
        pytest.param(lambda a: [b"\x30\x84\xf0\x00\x00\x00"], id="4-GiB-length"),
    ],
)
def test_a_write_answered_with_garbage_is_never_a_500(setup: Setup, tamper) -> None:
    """The write may have happened (slapd did it; the answer was garbage): 504 outcome
    unknown where the gateway reports that, else 503 — the client reads before retrying."""
    setup.hostile.only(MODIFY, tamper)
    response = setup.client.patch(
        f"/scim/v2/Users/{setup.user_id}",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "title", "value": "Engineer"}],
        },
        headers=HEADERS,
    )
    refused(response, 503, 504)
    assert setup.hostile.tampered == 1  # a write is never repeated
