"""Reading an answer off the socket: framing, split and merged reads, and every way a
connection can go bad (each must end in ConnectionLost, so the pool drops the connection).

The peer here is a socket pair scripted byte by byte: this is about transport, not directory
behaviour, which the integration and end-to-end suites check against a real slapd.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from gateway.directory import ber, messages
from gateway.directory import ldapfilter as lf
from gateway.directory.exchange import ConnectionLost, exchange
from gateway.errors import UnreadableValue


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


def test_references_do_not_hide_the_entries(peer) -> None:
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


# ------------------------------------------------------------------- a server not to trust


class RecordingSocket:
    """A socket that remembers the size of every read asked for and every timeout set;
    ``pause``: seconds each read takes, and then it hands over at most 3 bytes (a slow
    network)."""

    def __init__(self, sock: socket.socket, pause: float = 0.0) -> None:
        self.sock = sock
        self.pause = pause
        self.reads: list[int] = []
        self.timeouts: list[float | None] = []

    def recv(self, size: int) -> bytes:
        self.reads.append(size)
        if self.pause:
            time.sleep(self.pause)
            return self.sock.recv(min(size, 3))
        return self.sock.recv(size)

    def sendall(self, data: bytes) -> None:
        self.sock.sendall(data)

    def settimeout(self, value: float | None) -> None:
        self.timeouts.append(value)
        self.sock.settimeout(value)

    def gettimeout(self) -> float | None:
        return self.sock.gettimeout()


def test_reads_are_at_most_one_mebibyte_whatever_a_header_claims(peer) -> None:
    big = "v" * (3 << 20)
    conn = peer(lambda mid: [entry(mid, "cn=a,dc=x", cn=big), done(mid)])
    recording = RecordingSocket(conn.socket)
    reply = exchange(FakeConnection(recording), SEARCH)  # type: ignore[arg-type]
    assert reply.entries[0].attributes["cn"] == (big,)
    assert max(recording.reads) <= 1 << 20


def test_a_message_beyond_the_cap_is_refused_before_it_is_read(peer) -> None:
    conn = peer(lambda mid: [b"\x30\x84\xc0\x00\x00\x00\x02\x01\x01"])  # claims 3 GiB
    recording = RecordingSocket(conn.socket)
    with pytest.raises(ConnectionLost, match="cap"):
        exchange(FakeConnection(recording), SEARCH)  # type: ignore[arg-type]
    assert recording.reads == [1 << 16]  # one read of the header, nothing reserved for the rest


def test_an_answer_beyond_the_cap_in_many_small_messages_is_refused(peer) -> None:
    conn = peer(lambda mid: [entry(mid, f"cn={i},dc=x", cn="x" * 900) for i in range(200)])
    with pytest.raises(ConnectionLost, match="cap"):
        exchange(conn, SEARCH, max_bytes=64 << 10)


def test_the_deadline_bounds_the_whole_answer_not_each_read() -> None:
    client, server = socket.socketpair()
    client.settimeout(0.6)
    stop = threading.Event()

    def trickle() -> None:
        server.recv(1 << 16)
        for byte in done(1) * 100:
            if stop.wait(0.1):
                return
            server.sendall(bytes((byte,)))

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        with pytest.raises(ConnectionLost, match=r"deadline|timed out"):
            exchange(FakeConnection(client), SEARCH)
        assert time.monotonic() - started < 1.0  # a byte every 0.1 s never resets the clock
    finally:
        stop.set()
        thread.join(2)
        client.close()
        server.close()


def test_the_socket_gets_its_own_timeout_back_after_an_answer(peer) -> None:
    """Read in pieces that come slowly (each read after the first starts more than the
    exchange's slack into it), so the reads shorten the socket's timeout to the time left."""
    conn = peer(lambda mid: [done(mid)])
    recording = RecordingSocket(conn.socket, pause=0.005)
    exchange(FakeConnection(recording), SEARCH)  # type: ignore[arg-type]
    assert len(recording.timeouts) >= 2
    assert recording.timeouts[-1] == 2
    assert all(t is not None and t <= 2 for t in recording.timeouts)
    assert recording.gettimeout() == 2


def test_memory_for_decoding_is_bounded(peer) -> None:
    """An entry of 1 MiB of empty values: 512 Ki values, each charged 64 bytes, is more
    than twice a 4 MiB cap allows — refused instead of becoming half a million objects."""
    values = ber.sequence(ber.sequence(ber.octets("cn"), ber.tlv(ber.SET, b"\x04\x00" * (1 << 19))))

    def answer(mid: int) -> list[bytes]:
        found = ber.sequence(ber.octets("cn=a,dc=x"), values, tag=0x64)
        return [ber.sequence(ber.integer(mid), found), done(mid)]

    with pytest.raises(ConnectionLost, match="memory"):
        exchange(peer(answer), SEARCH, max_bytes=4 << 20)
    assert len(exchange(peer(answer), SEARCH, max_bytes=64 << 20).entries[0].get("cn")) == 1 << 19


def test_a_value_that_is_not_utf8_is_refused_by_name_and_the_answer_read_to_its_end() -> None:
    client, server = socket.socketpair()
    client.settimeout(2)
    conn = FakeConnection(client)

    def serve() -> None:
        for _ in range(2):
            request = server.recv(1 << 16)
            _, start, end = ber.header(request, 0)
            _, s, e = ber.children(request, start, end)[0]
            mid = ber.read_integer(request, s, e)
            photo = ber.sequence(
                ber.integer(mid),
                ber.sequence(
                    ber.octets("cn=a,dc=x"),
                    ber.sequence(
                        ber.sequence(
                            ber.octets("jpegPhoto"), ber.tlv(ber.SET, ber.octets(b"\xff\xd8"))
                        )
                    ),
                    tag=0x64,
                ),
            )
            server.sendall(photo + entry(mid, "cn=b,dc=x", cn="b") + done(mid))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with pytest.raises(UnreadableValue) as caught:
            exchange(conn, SEARCH)
        assert (caught.value.dn, caught.value.attribute) == ("cn=a,dc=x", "jpegphoto")
        with pytest.raises(UnreadableValue):  # in step: the next answer is read whole
            exchange(conn, SEARCH)
    finally:
        thread.join(2)
        client.close()
        server.close()


def test_a_post_read_value_that_is_not_utf8_ends_the_answer_without_waiting(peer) -> None:
    post_read = ber.sequence(
        ber.octets("cn=g,dc=x"),
        ber.sequence(ber.sequence(ber.octets("cn"), ber.tlv(ber.SET, ber.octets(b"\xe9")))),
        tag=0x64,
    )

    def answer(mid: int) -> list[bytes]:
        controls = ber.sequence(
            ber.sequence(ber.octets(messages.POST_READ_OID), ber.octets(post_read)), tag=0xA0
        )
        result = ber.sequence(ber.enumerated(0), ber.octets(""), ber.octets(""), tag=0x67)
        return [ber.sequence(ber.integer(mid), result, controls)]

    conn = peer(answer)
    conn.socket.settimeout(5)
    started = time.monotonic()
    with pytest.raises(UnreadableValue):
        exchange(conn, messages.modify_request("cn=g,dc=x", []))
    assert time.monotonic() - started < 1


def test_continuation_references_come_back_with_the_result(peer) -> None:
    def answer(mid: int) -> list[bytes]:
        reference = ber.sequence(
            ber.integer(mid), ber.sequence(ber.octets("ldap://elsewhere/"), tag=0x73)
        )
        return [reference, entry(mid, "cn=a,dc=x", cn="a"), done(mid)]

    reply = exchange(peer(answer), SEARCH)
    assert reply.result.references == ("ldap://elsewhere/",)
    assert [e.dn for e in reply.entries] == ["cn=a,dc=x"]


def test_a_referral_result_carries_its_uris(peer) -> None:
    def answer(mid: int) -> list[bytes]:
        referral = ber.sequence(ber.octets("ldap://a/"), ber.octets("ldap://b/"), tag=0xA3)
        result = ber.sequence(
            ber.enumerated(10), ber.octets(""), ber.octets(""), referral, tag=0x65
        )
        return [ber.sequence(ber.integer(mid), result)]

    result = exchange(peer(answer), SEARCH).result
    assert (result.code, result.referrals) == (10, ("ldap://a/", "ldap://b/"))


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(lambda mid: [done(mid, -1)], id="negative-result-code"),
        pytest.param(lambda mid: [done(mid, 9)], id="reserved-result-code"),
        pytest.param(lambda mid: [done(mid, 100000)], id="unknown-result-code"),
        pytest.param(lambda mid: [done(mid) + b"\x30\x03\x02\x01\x01"], id="bytes-after-final"),
        pytest.param(
            lambda mid: [ber.sequence(ber.integer(mid), ber.sequence(tag=0x79)), done(mid)],
            id="intermediate-response",
        ),
        pytest.param(
            lambda mid: [
                ber.sequence(
                    ber.integer(mid),
                    ber.sequence(
                        ber.octets("cn=a,dc=x"),
                        ber.sequence(
                            ber.sequence(ber.octets("cn"), ber.tlv(ber.SET, ber.octets("a"))),
                            ber.sequence(ber.octets("CN"), ber.tlv(ber.SET, ber.octets("b"))),
                        ),
                        tag=0x64,
                    ),
                ),
                done(mid),
            ],
            id="attribute-twice",
        ),
    ],
)
def test_protocol_violations_lose_the_connection(peer, answer) -> None:
    with pytest.raises(ConnectionLost):
        exchange(peer(answer), SEARCH)
