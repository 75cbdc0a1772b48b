"""The LDAP reader trusts nothing the server sends (issue 12, item 5).

The gateway's own pool and Directory talk to a real slapd through a hostile proxy on
127.0.0.1 (tests/support/hostile_ldap.py) that rewrites chosen answers: huge declared
lengths, a trickle, a flood of empty values, values that are not UTF-8, referrals, unknown
result codes, bytes after the final response. Each must end as a DirectoryError that the
provisioning layer turns into a SCIM 503 — never another exception (a 500), never past the
operation's deadline, never with unbounded memory — and the next request must work.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tracemalloc
import uuid
from collections.abc import Iterator
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

from gateway.directory import ber, messages
from gateway.directory import ldapfilter as lf
from gateway.directory.operations import Directory
from gateway.directory.pool import ConnectionPool, ConnectionSettings
from gateway.errors import DirectoryError, Referral, Unavailable, UnreadableValue
from gateway.provisioning.errors import to_scim_error

pytestmark = pytest.mark.slapd

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 2.0  # the operation deadline the gateway is configured with here
SEARCH = messages.SEARCH_REQUEST


@pytest.fixture
def user(ldap_admin: Connection, slapd: Slapd) -> Iterator[str]:
    """A real entry, with a binary (non-UTF-8) jpegPhoto beside its text attributes."""
    dn = f"uid=hostile-{uuid.uuid4().hex[:10]},{slapd.people_dn}"
    attrs = {"cn": "Hostile Test", "sn": "Test", "jpegPhoto": b"\xff\xd8\xff\xe0JFIF\x00"}
    assert ldap_admin.add(dn, ["inetOrgPerson"], attrs), ldap_admin.result
    yield dn
    ldap_admin.delete(dn)


@pytest.fixture
def hostile(slapd: Slapd) -> Iterator[HostileLdap]:
    port = int(slapd.url.rsplit(":", 1)[1])
    with HostileLdap(port) as proxy:
        yield proxy


def directory_for(hostile: HostileLdap, slapd: Slapd) -> Directory:
    """The gateway's own pool and operations, as production builds them, via the proxy."""
    settings = ConnectionSettings(
        (hostile.url,), slapd.admin_dn, slapd.admin_password, operation_timeout=TIMEOUT
    )
    return Directory(ConnectionPool(settings))


@pytest.fixture
def directory(hostile: HostileLdap, slapd: Slapd) -> Iterator[Directory]:
    found = directory_for(hostile, slapd)
    yield found
    found.pool.close_all()


def read(directory: Directory, dn: str) -> list:
    return directory.search(dn, "base", lf.MATCH_ALL, ["cn", "sn"])


def fails_as_503(
    directory: Directory, dn: str, expected: type[DirectoryError]
) -> tuple[DirectoryError, float]:
    started = time.monotonic()
    with pytest.raises(DirectoryError) as caught:
        read(directory, dn)
    elapsed = time.monotonic() - started
    assert isinstance(caught.value, expected), repr(caught.value)
    assert to_scim_error(caught.value, "User").status == 503
    return caught.value, elapsed


def still_works(hostile: HostileLdap, directory: Directory, dn: str) -> None:
    hostile.rule = None
    found = read(directory, dn)
    assert [e.dn.lower() for e in found] == [dn.lower()]
    assert found[0].get("cn") == ("Hostile Test",)


def message_id(answer: Answer) -> int:
    return decoded(answer)[-1].message_id


# ---------------------------------------------------------------------------- the cases


def test_a_declared_length_of_gigabytes_reserves_nothing_and_fails_at_once(
    hostile: HostileLdap, directory: Directory, user: str
) -> None:
    hostile.only(SEARCH, lambda a: [b"\x30\x84\xc0\x00\x00\x00" + b"\x02\x01\x01" * 100, 5.0])
    tracemalloc.start()
    try:
        _, elapsed = fails_as_503(directory, user, Unavailable)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 1.0  # refused on the header, not after waiting for 3 GiB
    assert peak < 8 << 20
    still_works(hostile, directory, user)


def test_a_server_trickling_bytes_cannot_hold_a_request_past_its_deadline(
    hostile: HostileLdap, directory: Directory, user: str
) -> None:
    def trickle(answer: Answer) -> list[bytes | float]:
        data = b"".join(answer.messages)
        out: list[bytes | float] = []
        for i in range(min(len(data), 40)):  # 20 s of answer if nobody stopped reading
            out += [data[i : i + 1], 0.5]
        return out

    hostile.only(SEARCH, trickle)
    _, elapsed = fails_as_503(directory, user, Unavailable)
    # a read is tried twice (the second time on a new connection): each within its deadline
    assert hostile.tampered == 2
    assert elapsed < 2 * TIMEOUT + 1.0
    still_works(hostile, directory, user)


def test_ten_megabytes_of_empty_values_do_not_blow_up_memory(
    hostile: HostileLdap, directory: Directory, slapd: Slapd, user: str
) -> None:
    """Measured in a child process (its peak RSS, reset before the read), so that neither
    tracemalloc's slowness nor this process's history blurs the figure."""
    values = b"\x04\x00" * (5 << 20)  # 10 MiB: 5 Mi empty values
    attributes = ber.sequence(ber.sequence(ber.octets("cn"), ber.tlv(ber.SET, values)))
    operation = ber.sequence(ber.octets(user), attributes, tag=0x64)

    def flood(answer: Answer) -> list[bytes]:
        mid = ber.integer(message_id(answer))
        header = bytes((ber.SEQUENCE,)) + _length(len(mid) + len(operation))
        return [header + mid, operation, result_done(message_id(answer), 0)]

    hostile.only(SEARCH, flood)
    child = subprocess.run(
        [sys.executable, "-c", _MEASURE, hostile.url, slapd.admin_dn, slapd.admin_password, user],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    assert child.returncode == 0, child.stderr
    outcome, grown = child.stdout.split()
    print(
        f"reading 10 MiB of empty values (twice: a read is retried): {outcome}, "
        f"peak RSS grew {int(grown) / 1024:.1f} MiB"
    )
    assert outcome == "Unavailable"
    assert hostile.tampered == 2
    assert int(grown) < 96 * 1024  # KiB; was 752 MiB when every value became an object
    still_works(hostile, directory, user)


_MEASURE = """
import re, sys
from gateway.directory import ldapfilter
from gateway.directory.operations import Directory
from gateway.directory.pool import ConnectionPool, ConnectionSettings
from gateway.errors import DirectoryError

def status(name):  # KiB
    with open("/proc/self/status") as f:
        return int(re.search(name + r":\\s+(\\d+)", f.read()).group(1))

url, bind_dn, password, dn = sys.argv[1:]
settings = ConnectionSettings((url,), bind_dn, password, operation_timeout=30)
directory = Directory(ConnectionPool(settings))
directory.pool.connection()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # peak RSS := RSS now (Linux >= 4.0)
before = status("VmRSS")
try:
    directory.search(dn, "base", ldapfilter.MATCH_ALL, ["cn"])
    outcome = "read"
except DirectoryError as err:
    outcome = type(err).__name__
print(outcome, status("VmHWM") - before)
"""


def test_a_binary_value_in_the_real_directory_is_refused_by_name_and_not_rewritten(
    directory: Directory, user: str, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(UnreadableValue) as caught:
        directory.search(user, "base", lf.MATCH_ALL, ["cn", "jpegPhoto"])
    assert caught.value.attribute == "jpegphoto"
    assert caught.value.dn == user
    assert to_scim_error(caught.value, "User").status == 503
    assert "jpegphoto" in caplog.text and "not UTF-8" in caplog.text
    # the answer was read to its end: the same connection serves the next request
    conn = directory.pool.connection()
    assert read(directory, user)[0].get("cn") == ("Hostile Test",)
    assert directory.pool.connection() is conn


def test_a_value_rewritten_into_invalid_utf8_is_refused_not_replaced(
    hostile: HostileLdap, directory: Directory, user: str
) -> None:
    def latin1(answer: Answer) -> list[bytes]:
        found = decoded(answer)
        mid = found[-1].message_id
        assert found[0].entry is not None
        return [entry(mid, found[0].entry.dn, {"cn": [b"Hostil\xe9"]}), answer.messages[-1]]

    hostile.only(SEARCH, latin1)
    err, _ = fails_as_503(directory, user, UnreadableValue)
    assert err.attribute == "cn"  # type: ignore[attr-defined]
    still_works(hostile, directory, user)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(
            lambda mid: [reference(mid, "ldap://elsewhere.example/ou=People,dc=example,dc=org")],
            id="search-result-reference",
        ),
        pytest.param(
            lambda mid: [result_done(mid, 10, referrals=["ldap://elsewhere.example/"])],
            id="referral-result",
        ),
    ],
)
def test_referrals_are_reported_not_dropped_or_followed(
    hostile: HostileLdap, directory: Directory, user: str, make
) -> None:
    def refer(answer: Answer) -> list[bytes]:
        return _refer(answer, make(message_id(answer)))

    hostile.only(SEARCH, refer)
    err, _ = fails_as_503(directory, user, Referral)
    assert "ldap://elsewhere.example/" in err.message
    still_works(hostile, directory, user)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(
            lambda a: [*a.messages[:-1], result_done(message_id(a), -1)], id="negative-code"
        ),
        pytest.param(
            lambda a: [*a.messages[:-1], result_done(message_id(a), 999)], id="unknown-code"
        ),
        pytest.param(
            lambda a: [b"".join(a.messages) + b"\x30\x03\x02\x01\x07"], id="bytes-after-final"
        ),
        pytest.param(lambda a: [a.messages[0][:7], CLOSE], id="closed-mid-message"),
        pytest.param(
            lambda a: [
                *a.messages[:-1],
                ber.sequence(ber.integer(message_id(a)), ber.sequence(tag=0x79)),
                *a.messages[-1:],
            ],
            id="intermediate-response",
        ),
    ],
)
def test_protocol_errors_drop_the_connection(
    hostile: HostileLdap, directory: Directory, user: str, tamper, caplog: pytest.LogCaptureFixture
) -> None:
    first = directory.pool.connection()
    hostile.only(SEARCH, tamper)
    fails_as_503(directory, user, Unavailable)
    assert "lost its connection" in caplog.text  # logged, with the reason
    still_works(hostile, directory, user)
    assert directory.pool.connection() is not first


def _length(n: int) -> bytes:
    """The BER length octets of ``n`` (definite form)."""
    if n < 0x80:
        return bytes((n,))
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(size),)) + size


def _is_reference(message: bytes) -> bool:
    _, start, end = ber.header(message, 0)
    return ber.children(message, start, end)[1][0] == messages.SEARCH_RESULT_REFERENCE


def _refer(answer: Answer, pieces: list[bytes]) -> list[bytes]:
    """A reference goes before slapd's final response; a referral result replaces it."""
    if _is_reference(pieces[0]):
        return [*answer.messages[:-1], *pieces, answer.messages[-1]]
    return [*answer.messages[:-1], *pieces]
