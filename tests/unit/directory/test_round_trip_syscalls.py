"""What a round trip no longer does each time, and that it answers as before: the socket's
timeout is shortened only when a read could otherwise wait past the exchange's deadline (by
more than ``DEADLINE_SLACK``), the idle-connection check keeps its poll object, and message
ids are handed out without a lock.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from gateway.directory import ber, exchange, messages
from gateway.directory import ldapfilter as lf
from gateway.directory.exchange import DEADLINE_SLACK, ConnectionLost
from gateway.directory.pool import _idle_socket_is_alive

SEARCH = messages.search_request("dc=x", "base", lf.MATCH_ALL, ["cn"])


def _done(message_id: int) -> bytes:
    return ber.sequence(ber.integer(message_id), ber.tlv(0x65, b"\x0a\x01\x00\x04\x00\x04\x00"))


class RecordingSocket:
    """A socket that remembers every timeout set; ``send_takes``: seconds a send takes."""

    def __init__(self, sock: socket.socket, send_takes: float = 0.0) -> None:
        self.sock = sock
        self.send_takes = send_takes
        self.timeouts: list[float | None] = []

    def sendall(self, data: bytes) -> None:
        time.sleep(self.send_takes)
        self.sock.sendall(data)

    def recv(self, size: int) -> bytes:
        return self.sock.recv(size)

    def settimeout(self, value: float | None) -> None:
        self.timeouts.append(value)
        self.sock.settimeout(value)

    def gettimeout(self) -> float | None:
        return self.sock.gettimeout()


@dataclass
class Connection:
    socket: RecordingSocket
    receive_timeout: float | None = None
    closed: bool = False


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, theirs = socket.socketpair()
    ours.settimeout(2)
    yield ours, theirs
    ours.close()
    theirs.close()


def _answer(server: socket.socket) -> threading.Thread:
    """The server reads one request and answers it with a search's end, in one piece."""

    def serve() -> None:
        request = server.recv(1 << 16)
        _, start, end = ber.header(request, 0)
        _, s, e = ber.children(request, start, end)[0]
        server.sendall(_done(ber.read_integer(request, s, e)))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def test_an_answer_in_one_read_leaves_the_sockets_timeout_alone(pair, monkeypatch) -> None:
    """The exchange's clock stands still here, as it nearly does on an idle machine between
    the deadline's setting and the first read (a loaded one may take longer than the slack
    to get there, and then the read is shortened, as the test below shows)."""
    ours, theirs = pair
    monkeypatch.setattr(exchange, "time", SimpleNamespace(monotonic=lambda: 1000.0))
    thread = _answer(theirs)
    recording = RecordingSocket(ours)
    reply = exchange.exchange(Connection(recording), SEARCH)  # type: ignore[arg-type]
    thread.join(5)
    assert reply.result.code == 0
    assert recording.timeouts == []  # neither shortened nor restored: two calls fewer
    assert ours.gettimeout() == 2


def test_a_slow_send_shortens_the_first_read_to_the_time_left(pair) -> None:
    ours, theirs = pair
    thread = _answer(theirs)
    recording = RecordingSocket(ours, send_takes=0.02)
    exchange.exchange(Connection(recording), SEARCH)  # type: ignore[arg-type]
    thread.join(5)
    assert len(recording.timeouts) == 2
    first, restored = recording.timeouts
    assert first is not None and first <= 2 - 0.02 + DEADLINE_SLACK
    assert restored == 2 and ours.gettimeout() == 2


def test_a_socket_timeout_longer_than_the_exchanges_is_shortened(pair) -> None:
    """ldap3's receive timeout is the exchange's; a socket left with a longer one (5 s)
    still times out at the exchange's deadline."""
    ours, _ = pair
    ours.settimeout(5)
    recording = RecordingSocket(ours)
    started = time.monotonic()
    with pytest.raises(ConnectionLost, match=r"timed out|deadline"):
        exchange.exchange(Connection(recording, receive_timeout=0.2), SEARCH)  # type: ignore[arg-type]
    assert 0.15 < time.monotonic() - started < 1.0
    assert recording.timeouts and all(t is not None and t <= 0.2 for t in recording.timeouts)


@pytest.mark.parametrize("own", [None, 0.0])
def test_a_blocking_or_non_blocking_socket_gets_the_time_left(pair, own) -> None:
    """Without a timeout of its own (None: blocking, 0: non-blocking) a read would wait
    for ever or not at all: the socket is given the time left, as before."""
    ours, theirs = pair
    ours.settimeout(own)
    thread = _answer(theirs)
    recording = RecordingSocket(ours)
    reply = exchange.exchange(Connection(recording, receive_timeout=2), SEARCH)  # type: ignore[arg-type]
    thread.join(5)
    assert reply.result.code == 0
    first = recording.timeouts[0]
    assert first is not None and 1 < first <= 2
    assert recording.timeouts[-1] == 2


def test_a_silent_server_is_given_up_on_within_the_slack(pair) -> None:
    ours, _ = pair
    ours.settimeout(0.2)
    started = time.monotonic()
    with pytest.raises(ConnectionLost, match=r"timed out|deadline"):
        exchange.exchange(Connection(RecordingSocket(ours)), SEARCH)  # type: ignore[arg-type]
    waited = time.monotonic() - started
    assert 0.2 <= waited < 0.2 + DEADLINE_SLACK + 0.5  # the slack, and a busy machine's


# ---------------------------------------------------------------------------- liveness


def _fresh_check(sock: socket.socket | None) -> bool:
    """The check with a poll object of its own, as every check was made before."""
    return _idle_socket_is_alive(SimpleNamespace(socket=sock))


def test_a_kept_poll_object_answers_what_a_new_one_answers() -> None:
    ours, theirs = socket.socketpair()
    conn = SimpleNamespace(socket=ours)
    try:
        for _ in range(3):  # idle: alive, every time
            assert _idle_socket_is_alive(conn) is True is _fresh_check(ours)
        kept = conn._gateway_poll
        theirs.sendall(b"x")  # something to read: the server is going away
        assert _idle_socket_is_alive(conn) is False is _fresh_check(ours)
        assert conn._gateway_poll is kept
        ours.recv(1)
        assert _idle_socket_is_alive(conn) is True is _fresh_check(ours)
        theirs.close()
        assert _idle_socket_is_alive(conn) is False is _fresh_check(ours)
        number = ours.fileno()
        ours.close()  # its number is -1 now: not the one the kept object polls
        assert _idle_socket_is_alive(conn) is False is _fresh_check(ours)
        reused, other = socket.socketpair()  # perhaps on the number the closed one had
        try:
            assert number in (reused.fileno(), other.fileno())
            assert _idle_socket_is_alive(conn) is False is _fresh_check(ours)
        finally:
            reused.close()
            other.close()
    finally:
        ours.close()
        theirs.close()


def test_a_new_socket_on_the_connection_gets_a_poll_object_of_its_own() -> None:
    first, first_peer = socket.socketpair()
    second, second_peer = socket.socketpair()
    conn = SimpleNamespace(socket=first)
    try:
        assert _idle_socket_is_alive(conn) is True
        first_peer.sendall(b"x")
        conn.socket = second  # reconnected: the first socket's state must not leak in
        assert _idle_socket_is_alive(conn) is True
        assert conn._gateway_poll[0] == second.fileno()
        second_peer.close()
        assert _idle_socket_is_alive(conn) is False
    finally:
        for sock in (first, first_peer, second, second_peer):
            sock.close()


# ---------------------------------------------------------------------------- message ids


def test_message_ids_run_from_one_to_the_largest_and_around(monkeypatch) -> None:
    monkeypatch.setattr(exchange, "_ids", itertools.count(exchange._MAX_ID - 2))
    ids = [exchange._next_id() for _ in range(4)]
    assert ids == [exchange._MAX_ID - 1, exchange._MAX_ID, 1, 2]


def test_threads_are_each_handed_ids_in_range() -> None:
    got: list[list[int]] = [[] for _ in range(4)]

    def take(out: list[int]) -> None:
        out.extend(exchange._next_id() for _ in range(2000))

    threads = [threading.Thread(target=take, args=(out,)) for out in got]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    every = [i for out in got for i in out]
    assert len(every) == 8000
    assert all(1 <= i <= exchange._MAX_ID for i in every)
    assert len(set(every)) == 8000  # CPython's count hands no number out twice


# ---------------------------------------------------------------------------- framing


def _header(form: int, length: int) -> bytes:
    """A SEQUENCE header of ``length`` in ``form`` extra bytes (0: the short form), minimal
    or not."""
    if form == 0:
        return bytes((0x30, length))
    return bytes((0x30, 0x80 | form)) + length.to_bytes(form, "big")


HEADERS = [(0, n) for n in (0, 1, 5, 127)] + [
    (form, n) for form in (1, 2, 3, 4) for n in (0, 5, 200, 255, 300) if n < 1 << (8 * form)
]


@pytest.mark.parametrize(("form", "length"), HEADERS)
def test_the_reader_frames_messages_as_ber_message_length_does(form: int, length: int) -> None:
    """Every header form, the message whole in the buffer or arriving in two pieces cut at
    each point of its header: the reader hands out what ``ber.message_length`` measures."""
    message = _header(form, length) + b"\x04" * length
    assert ber.message_length(message + b"\x30\x00", 0) == len(message)
    for cut in range(len(message) - length + 2):
        ours, theirs = socket.socketpair()
        try:
            ours.settimeout(2)
            reader = exchange._Reader(ours, None, 1 << 20)
            reader.data = message[:cut]
            theirs.sendall(message[cut:] + b"\x30\x00")
            data, start = reader.next_message()
            assert data[start : reader.pos] == message
            data, start = reader.next_message()
            assert data[start : reader.pos] == b"\x30\x00"
        finally:
            ours.close()
            theirs.close()


@pytest.mark.parametrize("header", [b"\x30\x80", b"\x30\x85\x00\x00\x00\x00\x01", b"\x30\xff"])
def test_lengths_no_reader_takes_are_refused_as_before(header: bytes) -> None:
    reader = exchange._Reader(None, None, 1 << 20)
    reader.data = header + b"\x00" * 8
    with pytest.raises(ber.BerError, match="unsupported length form"):
        reader.next_message()
