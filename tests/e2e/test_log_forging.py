"""Log forging through a request path (issue 15, item 3), through the real served gateway.

An unauthenticated request whose path holds an encoded newline followed by a made-up audit
line must not produce that line, in either log format; other line breakers (CR, NEL, U+2028)
and terminal escapes neither.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from ldap3 import Connection
from support.served import Served
from support.slapd import Slapd

from e2e.conftest import TOKEN, isolated_mapping, make_subtree

FORGED = "2026-01-01 00:00:00,000 INFO gateway.audit: audit delete User id=all status=204"
PATH = (
    "/scim/v2/Users/x%0A2026-01-01%2000:00:00,000%20INFO%20gateway.audit:%20audit%20delete"
    "%20User%20id=all%20status=204%0D%C2%85%E2%80%A8%1B[31mred"
)
BREAKERS = ("\r", "\x85", "\u2028", "\x1b")


def _send_raw(port: int, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    return b"".join(chunks)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_newline_in_the_path_cannot_forge_a_log_line(
    fmt: str, slapd: Slapd, ldap_admin: Connection, tmp_path: Path
) -> None:
    people, groups = make_subtree(ldap_admin, slapd.suffix)
    env = {
        "SCIM_GATEWAY_LDAP_URL": slapd.url,
        "SCIM_GATEWAY_LDAP_BIND_DN": slapd.admin_dn,
        "SCIM_GATEWAY_LDAP_BIND_PASSWORD": slapd.admin_password,
        "SCIM_GATEWAY_TOKEN": TOKEN,
        "SCIM_GATEWAY_MAPPING": str(isolated_mapping(tmp_path, people, groups)),
        "SCIM_GATEWAY_LOG_FORMAT": fmt,
    }
    with Served(env, tmp_path / "gateway.log", workers=1) as served:
        answer = _send_raw(served.port, PATH)
        assert answer.startswith(b"HTTP/1.1 401"), answer[:100]
    log = served.log()
    lines = log.split("\n")
    for breaker in BREAKERS:
        assert breaker not in log
    assert not any(line.startswith("2026-01-01") for line in lines)
    access = [line for line in lines if "gateway.access" in line and "/scim/v2/Users/x" in line]
    assert len(access) == 1, access
    if fmt == "text":
        assert "/scim/v2/Users/x\\n" + FORGED + "\\r\\x85\\u2028\\x1b[31mred" in access[0]
    else:
        record = json.loads(access[0])
        assert record["path"] == "/scim/v2/Users/x\\n" + FORGED + "\\r\\x85\\u2028\\x1b[31mred"
        assert "\n" not in record["message"]
        assert all(line.startswith("{") for line in lines if line)  # every line one object
