"""The front door's HTTP/1.1 on the wire, through `scim-gateway serve` (httptools under
uvicorn, gateway/frontdoor/protocol.py): what h11 did before holds.

- response header names are written as the app wrote them (``Content-Type``, ``X-Request-Id``);
- a request head over 16 KiB is refused with 400 and the connection closed, whether it arrives
  whole or never ends (cut at the cap, long before the header deadline);
- keep-alive and pipelined requests are each answered, in order, and the header deadline
  cuts neither a connection that is busy nor the next request on it;
- a big group's full GET is streamed with chunked transfer encoding (HTTP/1.0: whole, with
  Content-Length), and clients that leave mid-stream or stop reading hold no thread.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

from support.served import Served

from e2e.conftest import TOKEN, make_subtree, served_env

USERS = "/scim/v2/Users"


def _read_until_closed(sock: socket.socket, timeout: float) -> tuple[bytes, float]:
    started = time.monotonic()
    sock.settimeout(timeout)
    chunks = []
    try:
        while data := sock.recv(65536):
            chunks.append(data)
    except (TimeoutError, ConnectionResetError):
        pass
    return b"".join(chunks), time.monotonic() - started


def _read_responses(sock: socket.socket, count: int, timeout: float = 10) -> list[bytes]:
    """``count`` whole responses (each with Content-Length) off a keep-alive connection."""
    sock.settimeout(timeout)
    buffer = b""
    answers: list[bytes] = []
    while len(answers) < count:
        head, sep, rest = buffer.partition(b"\r\n\r\n")
        if sep:
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            if len(rest) >= length:
                answers.append(head + sep + rest[:length])
                buffer = rest[length:]
                continue
        data = sock.recv(65536)
        assert data, f"closed after {len(answers)} answers: {buffer[:200]!r}"
        buffer += data
    return answers


def _get(path: str, extra: bytes = b"") -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n".encode()
        + extra
        + b"\r\n"
    )


def test_the_front_door_speaks_http_as_before(gateway_env: dict[str, str], tmp_path: Path) -> None:
    env = {**gateway_env, "SCIM_GATEWAY_HEADER_TIMEOUT": "2"}
    with Served(env, tmp_path / "gateway.log", workers=1) as served:
        # Header names as the app wrote them, on the wire.
        with socket.create_connection(("127.0.0.1", served.port)) as sock:
            sock.sendall(_get(f"{USERS}?count=1"))
            (answer,) = _read_responses(sock, 1)
        head = answer.partition(b"\r\n\r\n")[0]
        assert head.startswith(b"HTTP/1.1 200 OK\r\n"), head
        names = [line.split(b":", 1)[0] for line in head.split(b"\r\n")[1:]]
        assert b"Content-Type" in names and b"X-Request-Id" in names, names
        assert b"Content-Length" in names and b"content-length" not in names, names

        # Pipelined: three requests in one write, three answers in order; then the header
        # deadline (2 s) is counted from the last answer, not from the first request.
        with socket.create_connection(("127.0.0.1", served.port)) as sock:
            sock.sendall(
                _get(f"{USERS}?count=1", b"X-Request-Id: first\r\n")
                + _get("/scim/v2/Users/no-such-id", b"X-Request-Id: second\r\n")
                + _get("/healthz", b"X-Request-Id: third\r\n")
            )
            answers = _read_responses(sock, 3)
            time.sleep(1.0)  # within the deadline: the connection is kept
            sock.sendall(_get("/healthz"))
            assert _read_responses(sock, 1)[0].startswith(b"HTTP/1.1 200")
            rest, waited = _read_until_closed(sock, 6)  # then nothing: cut by the deadline
        statuses = [a.split(b" ", 2)[1] for a in answers]
        assert statuses == [b"200", b"404", b"200"], answers
        ids = [
            next(line for line in a.split(b"\r\n") if line.startswith(b"X-Request-Id:"))
            for a in answers
        ]
        assert ids == [b"X-Request-Id: first", b"X-Request-Id: second", b"X-Request-Id: third"]
        assert rest == b"" and 1.5 < waited < 4, (rest, waited)

        # A head over 16 KiB, sent whole: 400, connection closed.
        with socket.create_connection(("127.0.0.1", served.port)) as sock:
            sock.sendall(_get(USERS, b"X-Big: " + b"a" * 17000 + b"\r\n"))
            answer, _ = _read_until_closed(sock, 5)
        assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
        assert b"connection: close" in answer.lower()

        # A header that never ends, sent in pieces: cut at the cap, well before the deadline.
        with socket.create_connection(("127.0.0.1", served.port)) as sock:
            sock.sendall(b"GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\nX-Endless: ")
            time.sleep(0.2)
            sent = 0
            started = time.monotonic()
            try:
                while sent < 64 * 1024:
                    sock.sendall(b"b" * 1024)
                    sent += 1024
                    time.sleep(0.005)
            except OSError:
                pass  # closed by the server while sending
            answer, _ = _read_until_closed(sock, 5)
            took = time.monotonic() - started
        assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
        assert took < 1.9, took  # the header deadline is 2 s

        # The gateway is unharmed and the answers are still SCIM JSON.
        status, body, headers = served.request(
            "GET", USERS, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert status == 200 and headers["Content-Type"].startswith("application/scim+json")
        assert json.loads(body)["schemas"]


# ---------------------------------------------------------------------- streamed answers

BIG = 2500  # members: over gateway.web.stream.MIN_MEMBERS, so the full GET is streamed
PIPELINED = 16  # full GETs asked at once by a client that then reads nothing (~5.6 MB)


def _big_group(ldap: Any, people: str, groups: str) -> str:
    """A group of BIG users written straight into the directory; its id."""
    members = []
    for i in range(BIG):
        dn = f"uid=s{i:05d},{people}"
        assert ldap.add(dn, ["inetOrgPerson"], {"sn": "s", "cn": "s"}), ldap.result
        members.append(dn)
    dn = f"cn=streamed,{groups}"
    assert ldap.add(dn, ["groupOfNames"], {"cn": "streamed", "member": members}), ldap.result
    ldap.search(dn, "(objectClass=*)", "BASE", attributes=["entryUUID"])
    value = ldap.response[0]["attributes"]["entryUUID"]
    return str(value[0] if isinstance(value, list) else value)


def _read_chunked(
    sock: socket.socket, buffer: bytes = b"", timeout: float = 20
) -> tuple[bytes, list[bytes], bytes]:
    """One response framed with chunked transfer encoding (``buffer``: what was read of it
    already): its head, its chunks, and what followed it on the connection."""
    sock.settimeout(timeout)
    while b"\r\n\r\n" not in buffer:
        data = sock.recv(65536)
        assert data, buffer[:300]
        buffer += data
    head, _, buffer = buffer.partition(b"\r\n\r\n")
    chunks: list[bytes] = []
    while True:
        while b"\r\n" not in buffer:
            data = sock.recv(65536)
            assert data, f"closed after {len(chunks)} chunks"
            buffer += data
        size_line, _, buffer = buffer.partition(b"\r\n")
        size = int(size_line, 16)
        while len(buffer) < size + 2:
            data = sock.recv(65536)
            assert data, f"closed inside chunk {len(chunks)}"
            buffer += data
        assert buffer[size : size + 2] == b"\r\n"
        if size == 0:
            return head, chunks, buffer[2:]
        chunks.append(buffer[:size])
        buffer = buffer[size + 2 :]


def _header_lines(head: bytes) -> dict[bytes, bytes]:
    lines = head.split(b"\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines)}


def test_a_big_group_is_streamed_in_chunks_and_slow_or_gone_clients_wedge_nothing(
    slapd: Any, ldap_admin: Any, tmp_path: Path
) -> None:
    people, groups = make_subtree(ldap_admin, slapd.suffix)
    gid = _big_group(ldap_admin, people, groups)
    env = served_env(slapd, tmp_path, people, groups)
    path = f"/scim/v2/Groups/{gid}"
    with Served(env, tmp_path / "gateway.log", workers=1) as served:
        # HTTP/1.1: chunked, no Content-Length, several chunks; the connection is kept.
        with socket.create_connection(("127.0.0.1", served.port)) as sock:
            sock.sendall(_get(path))
            head, chunks, rest = _read_chunked(sock)
            sock.sendall(_get("/healthz"))
            (health,) = _read_responses(sock, 1)
        assert rest == b"" and health.startswith(b"HTTP/1.1 200"), (rest, health[:100])
        assert head.startswith(b"HTTP/1.1 200 OK\r\n"), head
        headers = _header_lines(head)
        assert headers[b"transfer-encoding"] == b"chunked" and b"content-length" not in headers
        assert headers[b"content-type"].startswith(b"application/scim+json")
        assert headers[b"etag"] and headers[b"x-request-id"]
        assert len(chunks) >= 2, len(chunks)
        streamed = b"".join(chunks)
        body = json.loads(streamed)
        assert body["id"] == gid and len({m["value"] for m in body["members"]}) == BIG

        # HTTP/1.0 cannot take chunks: the same bytes whole, with Content-Length.
        with socket.create_connection(("127.0.0.1", served.port)) as sock:
            sock.sendall(_get(path).replace(b"HTTP/1.1", b"HTTP/1.0", 1))
            answer, _ = _read_until_closed(sock, 20)
        head10, _, content = answer.partition(b"\r\n\r\n")
        assert head10.split(b" ", 2)[1] == b"200", head10
        assert _header_lines(head10)[b"content-length"] == str(len(content)).encode()
        assert b"transfer-encoding" not in _header_lines(head10)
        assert content == streamed

        # Clients that leave mid-stream (more of them than the worker has threads).
        for _ in range(6):
            with socket.create_connection(("127.0.0.1", served.port)) as sock:
                sock.sendall(_get(path))
                sock.settimeout(20)
                assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        # Clients that stop reading, more of them than threads, while others are served:
        # each asks for the group PIPELINED times in one go (a small receive buffer), more
        # than the kernel's buffers take (4 MiB at most here), so the stream waits for them.
        stalled = []
        for _ in range(3):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", served.port))
            sock.sendall(_get(path) * PIPELINED)
            stalled.append(sock)
        try:
            time.sleep(1.0)
            started = time.monotonic()
            status, full, _ = served.request(
                "GET", path, headers={"Authorization": f"Bearer {TOKEN}"}
            )
            status_small, small, _ = served.request(
                "GET", f"{USERS}?count=1", headers={"Authorization": f"Bearer {TOKEN}"}
            )
            took = time.monotonic() - started
            # the stream resumes where it waited: every answer whole, in order
            rest = b""
            for _ in range(PIPELINED):
                head, chunks, rest = _read_chunked(stalled[0], rest)
                assert head.startswith(b"HTTP/1.1 200") and b"".join(chunks) == streamed
            assert rest == b""
        finally:
            for sock in stalled:
                sock.close()
        assert status == 200  # (another Host header: other absolute URLs, same members)
        assert [m["value"] for m in json.loads(full)["members"]] == [
            m["value"] for m in body["members"]
        ]
        assert status_small == 200 and json.loads(small)["schemas"]
        assert took < 10, took  # nobody waited for the stalled clients (send timeout: 30 s)
    log = (tmp_path / "gateway.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
