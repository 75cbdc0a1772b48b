"""A hostile LDAP server for tests: a proxy on 127.0.0.1 in front of a real slapd that
rewrites the answers to chosen requests.

Binds and every request not chosen pass through untouched, so the gateway connects, binds
and works exactly as in production (its own pool, its own codec); for a chosen request the
test's ``tamper`` function gets slapd's real answer and returns what the client receives
instead: bytes, pauses (a float: seconds to wait) or :data:`CLOSE`.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gateway.directory import ber, messages

CLOSE = object()
"""In a tamper's output: close the client's connection there."""

Output = Sequence[bytes | float | object]


@dataclass(frozen=True)
class Request:
    """What the proxy saw of one client request."""

    message_id: int
    op_tag: int  # protocolOp tag, e.g. 0x63 search, 0x66 modify
    base: str  # the search base or entry DN ("" when not read)


@dataclass(frozen=True)
class Answer:
    """slapd's real answer to one request: its messages, each a whole LDAPMessage."""

    request: Request
    messages: list[bytes]


Tamper = Callable[[Answer], Output]


class HostileLdap:
    """``with HostileLdap(upstream_port) as hostile: hostile.url ...``; set ``hostile.rule``
    to choose which requests get which tamper (None: pass everything through)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.rule: Callable[[Request], Tamper | None] | None = None
        self.tampered = 0  # answers rewritten so far
        self.seen: list[Request] = []  # every request after the bind, in order
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"ldap://127.0.0.1:{self.port}"
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False

    def __enter__(self) -> HostileLdap:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed = True
        with self._lock:
            sockets, self._sockets = [*self._sockets, self._listener], []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def only(self, op_tag: int, tamper: Tamper, base: str | None = None) -> None:
        """Tamper with every request of this kind (and base, if given) from now on."""

        def rule(request: Request) -> Tamper | None:
            if request.op_tag == op_tag and (base is None or request.base == base):
                return tamper
            return None

        self.rule = rule

    # ------------------------------------------------------------------ plumbing

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream, timeout=10)
            upstream.settimeout(None)
            with self._lock:
                self._sockets += [client, upstream]
            chosen: dict[int, tuple[Request, Tamper]] = {}
            threading.Thread(
                target=self._requests, args=(client, upstream, chosen), daemon=True
            ).start()
            threading.Thread(
                target=self._answers, args=(upstream, client, chosen), daemon=True
            ).start()

    def _requests(
        self,
        client: socket.socket,
        upstream: socket.socket,
        chosen: dict[int, tuple[Request, Tamper]],
    ) -> None:
        for message in _messages(client):
            request = _request(message)
            if request.op_tag != 0x60:
                self.seen.append(request)
            rule = self.rule
            tamper = rule(request) if rule is not None and request.op_tag != 0x60 else None
            if tamper is not None:
                chosen[request.message_id] = (request, tamper)
            with contextlib.suppress(OSError):
                upstream.sendall(message)
        with contextlib.suppress(OSError):
            upstream.close()

    def _answers(
        self,
        upstream: socket.socket,
        client: socket.socket,
        chosen: dict[int, tuple[Request, Tamper]],
    ) -> None:
        held: dict[int, list[bytes]] = {}
        try:
            for message in _messages(upstream):
                message_id, op_tag = _id_and_tag(message)
                if message_id not in chosen:
                    client.sendall(message)
                    continue
                held.setdefault(message_id, []).append(message)
                if op_tag not in messages.RESULT_TAGS:
                    continue
                request, tamper = chosen.pop(message_id)
                self.tampered += 1
                for piece in tamper(Answer(request, held.pop(message_id))):
                    if piece is CLOSE:  # shutdown: close() alone waits for the reader thread
                        client.shutdown(socket.SHUT_RDWR)
                        return
                    if isinstance(piece, float):
                        time.sleep(piece)
                    else:
                        client.sendall(piece)  # type: ignore[arg-type]
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                client.close()


def _messages(sock: socket.socket):
    """Whole LDAPMessages read from ``sock`` until it closes."""
    data = b""
    while True:
        size = ber.message_length(data) if data else None
        if size is not None and len(data) >= size:
            yield data[:size]
            data = data[size:]
            continue
        try:
            chunk = sock.recv(1 << 16)
        except OSError:
            return
        if not chunk:
            return
        data += chunk


def _id_and_tag(message: bytes) -> tuple[int, int]:
    _, start, end = ber.header(message, 0)
    (_, s, e), (op_tag, _, _) = ber.children(message, start, end)[:2]
    return ber.read_integer(message, s, e), op_tag


def _request(message: bytes) -> Request:
    message_id, op_tag = _id_and_tag(message)
    _, start, end = ber.header(message, 0)
    _, os_, oe = ber.children(message, start, end)[1]
    base = ""
    if op_tag == messages.DEL_REQUEST:
        base = message[os_:oe].decode("utf-8")
    elif op_tag & 0x20 and oe > os_:  # constructed: the first field is the base / entry DN
        _, s, e = ber.header(message, os_)
        base = message[s:e].decode("utf-8")
    return Request(message_id, op_tag, base)


# ---------------------------------------------------------------------- answer builders


def message(message_id: int, op: bytes, *controls: bytes) -> bytes:
    parts = [ber.integer(message_id), op]
    if controls:
        parts.append(ber.sequence(*controls, tag=messages.CONTROLS))
    return ber.sequence(*parts)


def result_done(
    message_id: int, code: int, *, tag: int = 0x65, text: str = "", referrals: Sequence[str] = ()
) -> bytes:
    """A final response; ``code`` is encoded as given, negative or unknown included."""
    fields = [ber.enumerated(code), ber.octets(""), ber.octets(text)]
    if referrals:
        fields.append(ber.sequence(*(ber.octets(r) for r in referrals), tag=0xA3))
    return message(message_id, ber.sequence(*fields, tag=tag))


def entry(message_id: int, dn: bytes | str, attributes: dict[str, Sequence[bytes | str]]) -> bytes:
    attrs = ber.sequence(
        *(
            ber.sequence(
                ber.octets(name), ber.tlv(ber.SET, b"".join(ber.octets(v) for v in values))
            )
            for name, values in attributes.items()
        )
    )
    return message(message_id, ber.sequence(ber.octets(dn), attrs, tag=0x64))


def reference(message_id: int, *uris: str) -> bytes:
    return message(message_id, ber.sequence(*(ber.octets(u) for u in uris), tag=0x73))


def decoded(answer: Answer) -> list[messages.Response]:
    """slapd's answer as the gateway's codec reads it (to build a variant of it)."""
    return [messages.decode(m) for m in answer.messages]
