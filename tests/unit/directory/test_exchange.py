"""Reading an answer off the socket: framing, split and merged reads, and every way a
connection can go bad (each must end in ConnectionLost, so the pool drops the connection).

The peer here is a socket pair scripted byte by byte: this is about transport, not directory
behaviour, which the integration and end-to-end suites check against a real slapd.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from gateway.directory import ber, messages
from gateway.directory import ldapfilter as lf
from gateway.directory.exchange import ConnectionLost, exchange


@dataclass
class FakeConnection:
    """The two attributes of an ldap3 Connection that the exchange uses."""

    socket: socket.socket | None
    closed: bool = False


def entry(message_id: int, dn: str, **attrs: str) -> bytes:
    parts = (ber.sequence(ber.octets(k), ber.tlv(ber.SET, ber.octets(v))) for k, v in attrs.items())
    return ber.sequence(
        ber.integer(message_id),
        ber.sequence(ber.octets(dn), ber.sequence(*parts), tag=0x64),
    )


def done(message_id: int, code: int = 0, tag: int = 0x65) -> bytes:
    return ber.sequence(
        ber.integer(message_id),
        ber.sequence(ber.enumerated(code), ber.octets(""), ber.octets(""), tag=tag),
    )


@pytest.fixture
def peer() -> Iterator[Callable[[Callable[[int], list[bytes]], int], FakeConnection]]:
    """``peer(answer, chunk)``: a connection whose server reads one request and writes
    ``answer(request message id)`` in pieces of ``chunk`` bytes, then closes."""
    threads: list[threading.Thread] = []
    sockets: list[socket.socket] = []

    def start(answer: Callable[[int], list[bytes]], chunk: int = 1 << 16) -> FakeConnection:
        client, server = socket.socketpair()
        client.settimeout(2)
        sockets.extend([client, server])

        def serve() -> None:
            request = server.recv(1 << 16)
            _, start, end = ber.header(request, 0)
            _, s, e = ber.children(request, start, end)[0]
            data = b"".join(answer(ber.read_integer(request, s, e)))
            for i in range(0, len(data), chunk):
                server.sendall(data[i : i + chunk])
            server.shutdown(socket.SHUT_WR)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        threads.append(thread)
        return FakeConnection(client)

    yield start
    for thread in threads:
        thread.join(5)
    for sock in sockets:
        sock.close()


SEARCH = messages.search_request("dc=x", "sub", lf.MATCH_ALL, ["cn"])


@pytest.mark.parametrize("chunk", [1, 3, 1 << 16])
def test_entries_and_result_are_read_whatever_the_chunking(peer, chunk: int) -> None:
    big = "v" * 100_000  # longer than one read
    conn = peer(
        lambda mid: [entry(mid, "cn=a,dc=x", cn="a"), entry(mid, "cn=b,dc=x", cn=big), done(mid)],
        chunk,
    )
    reply = exchange(conn, SEARCH)
    assert reply.result.code == 0
    assert [e.dn for e in reply.entries] == ["cn=a,dc=x", "cn=b,dc=x"]
    assert reply.entries[1].attributes["cn"] == (big,)


def test_references_are_skipped(peer) -> None:
    def answer(mid: int) -> list[bytes]:
        reference = ber.sequence(
            ber.integer(mid), ber.sequence(ber.octets("ldap://elsewhere/"), tag=0x73)
        )
        return [reference, entry(mid, "cn=a,dc=x", cn="a"), done(mid)]

    assert [e.dn for e in exchange(peer(answer), SEARCH).entries] == ["cn=a,dc=x"]


def test_an_error_result_is_a_reply_not_an_exception(peer) -> None:
    reply = exchange(peer(lambda mid: [done(mid, 68, tag=0x69)]), messages.delete_request("a=b"))
    assert reply.result.code == 68


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(lambda mid: [entry(mid, "cn=a,dc=x", cn="a")], id="closed-before-result"),
        pytest.param(lambda mid: [done(mid)[:5]], id="closed-mid-message"),
        pytest.param(lambda mid: [done(mid + 1)], id="someone-elses-message-id"),
        pytest.param(lambda mid: [b"\x04\x03abc"], id="not-an-ldap-message"),
        pytest.param(lambda mid: [b"\x30\x85\x00\x00\x00\x00\x01"], id="unsupported-length"),
        pytest.param(
            lambda mid: [
                ber.sequence(
                    ber.integer(0),
                    ber.sequence(
                        ber.enumerated(52),
                        ber.octets(""),
                        ber.octets("shutting down"),
                        ber.octets(messages.NOTICE_OF_DISCONNECTION, 0x8A),
                        tag=0x78,
                    ),
                )
            ],
            id="notice-of-disconnection",
        ),
    ],
)
def test_a_broken_answer_loses_the_connection(peer, answer) -> None:
    with pytest.raises(ConnectionLost):
        exchange(peer(answer), SEARCH)


def test_a_silent_server_times_out_as_a_lost_connection() -> None:
    client, server = socket.socketpair()
    client.settimeout(0.2)
    try:
        with pytest.raises(ConnectionLost, match=r"timeout|timed out"):
            exchange(FakeConnection(client), SEARCH)
    finally:
        client.close()
        server.close()


def test_a_closed_connection_sends_nothing() -> None:
    with pytest.raises(ConnectionLost):
        exchange(FakeConnection(None), SEARCH)
