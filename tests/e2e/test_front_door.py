"""The front door of `scim-gateway serve`, with real slow sockets and a real slapd (issue 15).

- slow-header and slow-body clients (64 + 16) hold connections while authenticated requests
  keep being answered within a second; the header deadline really cuts the slow headers;
- the header and body deadlines, and the body cap, at their edges;
- overload: a full thread pool and queue answer 429 + Retry-After at once.

CI=true shortens the hold (the deadlines are then tested on their own, with short settings).
"""

from __future__ import annotations

import json
import os
import select
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from support.ldap_relay import LdapRelay
from support.served import Served
from support.slapd import Slapd

from e2e.conftest import TOKEN

QUICK = os.environ.get("CI") == "true"
HOLD_S = 6.0 if QUICK else 22.0  # the issue asks for >= 20 s; CI's quick mode holds less
SLOW_HEADERS = 64
SLOW_BODIES = 16
TRICKLE_EVERY_S = 1.0
PROMPT_S = 1.0
HEADER_TIMEOUT_S = 10.0  # serve's default
USERS = "/scim/v2/Users"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


# ------------------------------------------------------------------------------ slow clients


@dataclass
class SlowConn:
    kind: str  # "header" or "body"
    sock: socket.socket
    opened: float = field(default_factory=time.monotonic)


@dataclass
class Trickler:
    """Keeps ``headers`` + ``bodies`` connections sending one byte per interval; reopens any
    the server closes (recording how long it had lived), as a persistent attacker would."""

    port: int
    headers: int
    bodies: int
    interval: float = TRICKLE_EVERY_S
    conns: list[SlowConn] = field(default_factory=list)
    dropped: list[tuple[str, float, bytes]] = field(default_factory=list)
    bytes_sent: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def open(self, kind: str) -> SlowConn:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        if kind == "header":
            sock.sendall(b"GET /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        else:
            sock.sendall(
                b"POST /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/scim+json\r\nContent-Length: 100000\r\n\r\n{"
            )
        sock.setblocking(False)
        return SlowConn(kind, sock)

    def start(self) -> threading.Thread:
        self.conns = [self.open("header") for _ in range(self.headers)]
        self.conns += [self.open("body") for _ in range(self.bodies)]
        thread = threading.Thread(target=self.run, daemon=True)
        thread.start()
        return thread

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            readable, _, _ = select.select([c.sock for c in self.conns], [], [], 0)
            for i, conn in enumerate(self.conns):
                answer = b""
                if conn.sock in readable:
                    try:
                        answer = conn.sock.recv(4096) or b"<closed>"
                    except OSError:
                        answer = b"<reset>"
                if not answer:
                    try:
                        conn.sock.send(b"a")
                        self.bytes_sent += 1
                        continue
                    except OSError:
                        answer = b"<send failed>"
                self.dropped.append((conn.kind, time.monotonic() - conn.opened, answer))
                conn.sock.close()
                self.conns[i] = self.open(conn.kind)

    def close(self) -> None:
        self.stop.set()
        for conn in self.conns:
            conn.sock.close()


def test_slow_clients_hold_no_thread_and_slow_headers_are_cut(
    gateway_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**gateway_env, "SCIM_GATEWAY_THREADS": "4"}  # serve's defaults: 2 workers x 4
    with Served(env, tmp_path / "gateway.log", workers=2) as served:
        trickler = Trickler(served.port, SLOW_HEADERS, SLOW_BODIES)
        thread = trickler.start()
        try:
            time.sleep(2 * TRICKLE_EVERY_S)  # every slow client has started to trickle
            latencies: list[float] = []
            deadline = time.monotonic() + HOLD_S
            n = 0
            while time.monotonic() < deadline:
                started = time.monotonic()
                if n % 5 == 4:  # writes too, not only reads
                    body = json.dumps({"userName": f"prompt{n}"}).encode()
                    headers = {**AUTH, "Content-Type": "application/scim+json"}
                    status, text, _ = served.request("POST", USERS, body, headers)
                    assert status == 201, text
                else:
                    status, text, _ = served.request("GET", f"{USERS}?count=5", headers=AUTH)
                    assert status == 200, text
                latencies.append(time.monotonic() - started)
                n += 1
                time.sleep(0.2)
            alive = [c for c in trickler.conns if c.sock.fileno() != -1]
        finally:
            trickler.close()
            thread.join(timeout=5)
    latencies.sort()
    print(
        f"\n{len(latencies)} requests during a {HOLD_S:g} s hold by {SLOW_HEADERS} slow-header "
        f"and {SLOW_BODIES} slow-body clients: median {latencies[len(latencies) // 2]:.3f} s, "
        f"max {latencies[-1]:.3f} s; {trickler.bytes_sent} bytes trickled; "
        f"{len(trickler.dropped)} connections cut"
    )
    assert len(latencies) >= HOLD_S * 2
    assert latencies[-1] < PROMPT_S
    assert len(alive) == SLOW_HEADERS + SLOW_BODIES  # still attacking at the end
    bodies_cut = [d for d in trickler.dropped if d[0] == "body"]
    assert bodies_cut == []  # held the whole time: the body deadline (30 s) is longer
    headers_cut = [d for d in trickler.dropped if d[0] == "header"]
    if HOLD_S > HEADER_TIMEOUT_S + 3 * TRICKLE_EVERY_S:
        assert len(headers_cut) >= SLOW_HEADERS, trickler.dropped[:3]
        lifetimes = [d[1] for d in headers_cut]
        assert min(lifetimes) > HEADER_TIMEOUT_S - 0.5, lifetimes
        assert max(lifetimes) < HEADER_TIMEOUT_S + 3 * TRICKLE_EVERY_S, lifetimes
        assert {d[2] for d in headers_cut} <= {b"<closed>", b"<reset>", b"<send failed>"}


# ------------------------------------------------------------------------------ deadlines


def _read_all(
    sock: socket.socket, timeout: float, started: float | None = None
) -> tuple[bytes, float]:
    """Everything until the server closes; seconds since ``started`` (default: now)."""
    started = time.monotonic() if started is None else started
    sock.settimeout(timeout)
    chunks = []
    try:
        while data := sock.recv(65536):
            chunks.append(data)
    except (TimeoutError, ConnectionResetError):
        pass
    return b"".join(chunks), time.monotonic() - started


def _trickle(sock: socket.socket, stop: threading.Event, every: float = 0.3) -> None:
    while not stop.wait(every):
        try:
            sock.send(b"a")
        except OSError:
            return


def test_header_and_body_deadlines_and_the_body_cap(
    gateway_env: dict[str, str], tmp_path: Path
) -> None:
    env = {
        **gateway_env,
        "SCIM_GATEWAY_HEADER_TIMEOUT": "2",
        "SCIM_GATEWAY_BODY_TIMEOUT": "2",
    }
    with Served(env, tmp_path / "gateway.log", workers=1) as served:
        stop = threading.Event()
        opened = time.monotonic()
        slow_header = socket.create_connection(("127.0.0.1", served.port))
        slow_header.sendall(b"GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        slow_body = socket.create_connection(("127.0.0.1", served.port))
        slow_body.sendall(
            b"POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nContent-Type: application/scim+json"
            b"\r\nContent-Length: 1000\r\n\r\n{"
        )
        silent = socket.create_connection(("127.0.0.1", served.port))  # sends nothing at all
        for sock in (slow_header, slow_body):
            threading.Thread(target=_trickle, args=(sock, stop), daemon=True).start()
        try:
            answer, waited = _read_all(slow_header, 10, opened)
            assert answer == b"" and 1.5 < waited < 4, (answer, waited)  # closed, no answer
            answer, waited = _read_all(slow_body, 10, opened)
            assert 1.5 < waited < 4, waited
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 408"), answer
            assert b"connection: close" in head.lower()
            assert json.loads(body)["status"] == "408"
            answer, waited = _read_all(silent, 10, opened)
            assert answer == b"" and 1.5 < waited < 4
        finally:
            stop.set()
            for sock in (slow_header, slow_body, silent):
                sock.close()

        # A declared body over the cap is refused before it is read; a chunked one once it is.
        big = socket.create_connection(("127.0.0.1", served.port))
        big.sendall(
            b"POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nContent-Type: application/scim+json"
            b"\r\nContent-Length: 2000000\r\n\r\n"
        )
        answer, waited = _read_all(big, 5)
        big.close()
        assert answer.startswith(b"HTTP/1.1 413") and waited < 2, answer
        assert json.loads(answer.partition(b"\r\n\r\n")[2])["scimType"] == "tooLarge"
        chunked = socket.create_connection(("127.0.0.1", served.port))
        chunked.sendall(
            b"POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nContent-Type: application/scim+json"
            b"\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        piece = b"a" * 65536
        try:
            for _ in range(20):  # 1.25 MiB, past the 1 MiB cap
                chunked.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        except OSError:
            pass  # the server may close before everything was sent
        answer, _ = _read_all(chunked, 5)
        chunked.close()
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]

        # The gateway itself is unharmed.
        assert served.request("GET", USERS, headers=AUTH)[0] == 200
        text = served.request("GET", "/metrics")[1].decode()
    for reason in ("header_timeout", "body_timeout", "too_large"):
        assert f'scim_gateway_front_door_refusals_total{{reason="{reason}"}}' in text


# ------------------------------------------------------------------------------ overload


def test_a_saturated_gateway_answers_429_with_retry_after_at_once(
    gateway_env: dict[str, str], slapd: Slapd, tmp_path: Path
) -> None:
    target = urllib.parse.urlsplit(slapd.url)
    with LdapRelay((target.hostname or "127.0.0.1", target.port or 389)) as relay:
        env = {
            **gateway_env,
            "SCIM_GATEWAY_LDAP_URL": relay.url,
            "SCIM_GATEWAY_THREADS": "1",
            "SCIM_GATEWAY_QUEUE_SIZE": "1",
            "SCIM_GATEWAY_LDAP_TIMEOUT": "8",
            "SCIM_GATEWAY_RETRY_AFTER": "7",
        }
        with Served(env, tmp_path / "gateway.log", workers=1) as served:
            assert served.request("GET", USERS, headers=AUTH)[0] == 200  # connected, bound
            relay.freeze()  # the directory stops answering: requests pile up
            results: dict[int, tuple[int, bytes, dict[str, str], float]] = {}

            def call(i: int) -> None:
                started = time.monotonic()
                status, body, headers = served.request("GET", USERS, headers=AUTH)
                results[i] = (status, body, headers, time.monotonic() - started)

            threads = []
            for i in range(6):
                thread = threading.Thread(target=call, args=(i,), daemon=True)
                thread.start()
                threads.append(thread)
                if i < 2:
                    time.sleep(0.5)  # the first runs (and waits), the second queues
            time.sleep(1.0)
            refused = {i: r for i, r in results.items() if r[0] == 429}
            relay.thaw()
            for thread in threads:
                thread.join(timeout=20)
            # One running, one queued, the rest refused (which two got in is the scheduler's
            # call, but the first was in long before the others came).
            assert len(refused) == 4 and 0 not in refused, results
            for _status, body, headers, took in refused.values():
                assert took < 1.0
                assert headers["Retry-After"] == "7"
                error = json.loads(body)
                assert error["status"] == "429" and "busy" in error["detail"]
            admitted = sorted(set(results) - set(refused))
            assert [results[i][0] for i in admitted] == [200, 200]  # served once it answered
            assert served.request("GET", USERS, headers=AUTH)[0] == 200
            text = served.request("GET", "/metrics")[1].decode()
    assert 'scim_gateway_front_door_refusals_total{reason="overload"} 4.0' in text
    assert 'scim_gateway_http_requests_total{method="GET",resource_type="User",status="429"}' in (
        text
    )
    refusals = [
        json.loads(line)
        for line in served.log().splitlines()
        if line.startswith("{") and '"refused"' in line
    ]
    assert [r["status"] for r in refusals] == [429] * 4
