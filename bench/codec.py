"""The LDAP codec's CPU per message: decoding a member add's answers and encoding its requests.

    .venv/bin/python bench/codec.py              # µs per call, the minimum of 15 runs
    .venv/bin/python bench/codec.py --runs 25

Whole requests (``bench/inprocess.py``, ``bench/compare.py``) cannot show a change of a few
µs per round trip on this machine; this times the codec alone, in thread CPU, on messages
shaped like slapd's (the ones a member add, a create and a GET by id read: an entry, a search's
end, a write's response with its post-read entry). Run it on two trees in turn to compare them.
No directory is needed: the round-trip lines (``exchange()`` of a search's end, the pool's
idle-connection check, and a member add's three round trips through ``Directory`` — its two
searches and its modify with the arguments provisioning gives them, the pool's checkout,
the metrics and the round-trip records included) run over a socket pair whose far end has
the answer queued before it is read, so they time the gateway's side of a round trip (its
system calls included) without waiting for a server.
"""

from __future__ import annotations

import argparse
import itertools
import socket
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.directory import ber, exchange, messages
from gateway.directory import ldapfilter as lf
from gateway.directory.entry import Modification, ModOp
from gateway.directory.operations import Directory, counting_round_trips
from gateway.directory.pool import ConnectionPool, ConnectionSettings, _idle_socket_is_alive

USER_DN = "uid=u22@example.org,ou=People,dc=example,dc=org"
GROUP_DN = "cn=bench,ou=Groups,dc=example,dc=org"
UUID = "2316a4c6-835a-1041-9533-09e5c6befeb5"
OPERATIONAL = {
    "entryUUID": [UUID],
    "createTimestamp": ["20261203114052Z"],
    "entryCSN": ["20261203114052.017440Z#000000#000#000000"],
    "modifyTimestamp": ["20261203114052Z"],
}
USER = {
    "uid": ["u22@example.org"],
    "displayName": ["User 22"],
    "givenName": ["Ann"],
    "sn": ["Lee22"],
    "cn": ["Ann Lee22"],
    "title": ["Engineer"],
    "mail": ["u22@example.org"],
}
CLASSES = {"objectClass": ["top", "person", "organizationalPerson", "inetOrgPerson"]}


def _entry(dn: str, attributes: dict[str, list[str]]) -> bytes:
    listed = b"".join(
        ber.sequence(ber.octets(n), ber.tlv(ber.SET, b"".join(ber.octets(v) for v in vs)))
        for n, vs in attributes.items()
    )
    return ber.tlv(messages.SEARCH_RESULT_ENTRY, ber.octets(dn) + ber.sequence(listed))


def _message(op: bytes, controls: bytes = b"") -> bytes:
    return ber.sequence(
        ber.integer(162), op, ber.tlv(messages.CONTROLS, controls) if controls else b""
    )


DONE = b"\x0a\x01\x00\x04\x00\x04\x00"
POST_READ = ber.sequence(
    ber.octets(messages.POST_READ_OID), ber.octets(_entry(GROUP_DN, OPERATIONAL))
)
ANSWERS = {
    "decode: GET's user entry": _message(_entry(USER_DN, USER | OPERATIONAL)),
    "decode: a member add's search entry": _message(_entry(USER_DN, CLASSES | OPERATIONAL)),
    "decode: a search's end": _message(ber.tlv(messages.SEARCH_RESULT_DONE, DONE)),
    "decode: a modify response + post-read": _message(ber.tlv(0x67, DONE), POST_READ),
}
FILTER = lf.Or(
    (
        lf.And((lf.Equal("objectClass", "groupOfNames"), lf.Equal("entryUUID", UUID))),
        lf.And(
            (
                lf.Or((lf.Equal("objectClass", "inetOrgPerson"), lf.Equal("objectClass", "x"))),
                lf.Or((lf.Equal("entryUUID", UUID),)),
            )
        ),
    )
)
PLACEHOLDER = ("cn=empty-membership-placeholder,dc=example,dc=org",)
CHANGES = [
    Modification("member", ModOp.ADD, (USER_DN,)),
    Modification("member", ModOp.ADD, PLACEHOLDER),
    Modification("member", ModOp.DELETE, PLACEHOLDER),
]
CONTROLS = [
    messages.Control("1.2.840.113556.1.4.1413", False),
    messages.post_read_control(list(OPERATIONAL)),
]
CALLS: dict[str, Callable[[], object]] = {
    **{name: (lambda data=data: messages.decode(data)) for name, data in ANSWERS.items()},
    "encode: add_request of a create": lambda: messages.add_request(USER_DN, USER | CLASSES),
    "encode: modify_request of a member add": lambda: messages.modify_request(GROUP_DN, CHANGES),
    "encode: a member add's search filter": lambda: messages.encode_filter(FILTER),
    "encode: message() with two controls": lambda: messages.message(162, b"x" * 200, CONTROLS),
}


def _drain(peer: socket.socket) -> None:
    """Read away what the far end of a socket pair holds (requests nobody answers), without
    blocking (the peer is non-blocking)."""
    while True:
        try:
            if not peer.recv(1 << 20):
                break
        except BlockingIOError:
            break


class _Queued:
    """A connection whose socket pair's far end answers each request before it is sent."""

    def __init__(self) -> None:
        self.socket, self.peer = socket.socketpair()
        self.socket.settimeout(10)  # as ldap3 leaves a pooled connection's socket
        self.peer.setblocking(False)
        self.receive_timeout = 10
        self.closed = False
        self.sent = 0

    def exchange(self) -> None:
        self.peer.send(QUEUED_ANSWER)
        exchange.exchange(self, SETTLE)
        self.sent += 1
        if self.sent % 20 == 0:  # the requests the far end never reads
            _drain(self.peer)


SETTLE = messages.search_request(USER_DN, "base", lf.MATCH_ALL, ["entryUUID"])
exchange._ids = itertools.repeat(161)  # type: ignore[assignment]  # every request is id 162
QUEUED_ANSWER = _message(ber.tlv(messages.SEARCH_RESULT_DONE, DONE))
QUEUED = _Queued()
CALLS["round trip: exchange() of a search's end"] = QUEUED.exchange
CALLS["round trip: the idle-connection check"] = lambda: _idle_socket_is_alive(QUEUED)


# ---------------------------------------------------------------------------- a member add

BASE = "dc=example,dc=org"
GROUP_UUID = "a1a67f74-8386-1041-8d42-0bce4f5072ff"
TYPES = lf.Or((lf.Raw("(objectClass=inetOrgPerson)"), lf.Raw("(objectClass=groupOfNames)")))
BY_ID = lf.Or((lf.Equal("entryUUID", UUID),))
MEMBER_ADD = [  # what provisioning asks of the directory for one member add, and its answers
    (
        "search",
        (
            BASE,
            "sub",
            lf.Or(
                (
                    lf.And(
                        (lf.Raw("(objectClass=groupOfNames)"), lf.Equal("entryUUID", GROUP_UUID))
                    ),
                    lf.And((TYPES, BY_ID)),
                )
            ),
            [*OPERATIONAL, "cn", "businessCategory", "memberOf", "objectClass"],
        ),
        {"deref": ()},
        _message(
            _entry(
                GROUP_DN,
                {"cn": ["bench"], "objectClass": ["top", "groupOfNames"]}
                | OPERATIONAL
                | {"entryUUID": [GROUP_UUID]},
            )
        )
        + _message(_entry(USER_DN, {"cn": ["Ann Lee22"]} | CLASSES | OPERATIONAL))
        + QUEUED_ANSWER,
    ),
    (
        "modify",
        (GROUP_DN, CHANGES),
        {"read_back": list(OPERATIONAL), "permissive": True},
        _message(ber.tlv(0x67, DONE), POST_READ),
    ),
    (
        "search",
        (BASE, "sub", lf.And((TYPES, BY_ID)), ["entryUUID", "objectClass"]),
        {},
        _message(_entry(USER_DN, CLASSES | {"entryUUID": [UUID]})) + QUEUED_ANSWER,
    ),
]


class _Answering(socket.socket):
    """A socket whose far end has the answer queued once the request is sent (after the
    pool's idle-connection check, which would otherwise see it)."""

    peer: socket.socket
    answers: list[bytes]

    def sendall(self, data: bytes, flags: int = 0) -> None:  # type: ignore[override]
        super().sendall(data, flags)
        self.peer.send(self.answers.pop())


class _PooledConnection:
    """This thread's connection as the pool keeps it, over a socket pair."""

    def __init__(self) -> None:
        ours, self.peer = socket.socketpair()
        self.socket = _Answering(ours.family, ours.type, ours.proto, fileno=ours.detach())
        self.socket.peer, self.socket.answers = self.peer, []
        self.socket.settimeout(10)
        self.peer.setblocking(False)
        self.receive_timeout = 10
        self.closed = False
        self._gateway_opened = time.monotonic() + 1e9  # never too old to keep
        self.sent = 0

    def member_add(self) -> None:
        with counting_round_trips():
            for operation, args, kwargs, answer in MEMBER_ADD:
                self.socket.answers.append(answer)
                getattr(DIRECTORY, operation)(*args, **kwargs)
        self.sent += 1
        if self.sent % 10 == 0:  # the requests the far end never reads
            _drain(self.peer)


_POOL = ConnectionPool(
    ConnectionSettings(urls=("ldap://127.0.0.1:1",), bind_dn="", bind_password="")
)
POOLED = _PooledConnection()
_POOL._local.conn = POOLED
DIRECTORY = Directory(_POOL)
CALLS["round trips: a member add's three (Directory)"] = POOLED.member_add


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--number", type=int, default=2000, help="calls per run")
    args = parser.parse_args(argv)
    for name, call in CALLS.items():
        timer = timeit.Timer(call, timer=time.thread_time)
        best = min(timer.repeat(args.runs, args.number)) / args.number * 1e6
        print(f"{name:42s} {best:7.2f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
