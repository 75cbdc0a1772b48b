"""The front door's HTTP/1.1 on the wire, through `scim-gateway serve` (httptools under
uvicorn, gateway/frontdoor/protocol.py): what h11 did before holds.

- response header names are written as the app wrote them (``Content-Type``, ``X-Request-Id``);
- a request head over 16 KiB is refused with 400 and the connection closed, whether it arrives
  whole or never ends (cut at the cap, long before the header deadline);
- keep-alive and pipelined requests are each answered, in order, and the header deadline
  cuts neither a connection that is busy nor the next request on it.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

from support.served import Served

from e2e.conftest import TOKEN

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
