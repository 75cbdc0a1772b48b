"""A TCP relay between the gateway and a real slapd that can withhold the directory's answers.

Requests always reach slapd (so a write really happens); what comes back can be held:

- ``freeze()`` / ``thaw()``: every answer waits until thawed (a directory that stopped
  answering: requests pile up behind it);
- ``swallow(tag)``: answers whose protocolOp has that BER tag (e.g. ``ADD_RESPONSE``) are
  dropped: the change is made, the gateway never hears of it;
- ``cut(tag)``: the next answer with that tag is dropped and its connection closed at once
  (the node died after making the change, or the network cut it); later connections relay
  normally.

Loopback only; every thread is a daemon and ``close()`` ends them.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType
from typing import Self

ADD_RESPONSE = 0x69
MODIFY_RESPONSE = 0x67


def _message_length(buf: bytes | bytearray) -> int | None:
    """Length of the complete BER element at the start of ``buf``, or None if incomplete."""
    if len(buf) < 2:
        return None
    first = buf[1]
    if first < 0x80:
        header, size = 2, first
    else:
        count = first & 0x7F
        if len(buf) < 2 + count:
            return None
        header, size = 2 + count, int.from_bytes(buf[2 : 2 + count], "big")
    return header + size if len(buf) >= header + size else None


def _op_tag(message: bytes) -> int:
    """The protocolOp tag of an LDAPMessage (SEQUENCE { messageID INTEGER, protocolOp ... })."""
    first = message[1]
    pos = 2 if first < 0x80 else 2 + (first & 0x7F)
    id_len = message[pos + 1]  # messageID: a short INTEGER
    return message[pos + 2 + id_len]


class LdapRelay:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._thawed = threading.Event()
        self._thawed.set()
        self._swallowed: set[int] = set()
        self.swallowed_count = 0
        self._cut: int | None = None
        self.cut_count = 0
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    def freeze(self) -> None:
        self._thawed.clear()

    def thaw(self) -> None:
        self._thawed.set()

    def swallow(self, *tags: int) -> None:
        with self._lock:
            self._swallowed = set(tags)

    def cut(self, tag: int) -> None:
        with self._lock:
            self._cut = tag

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets += [client, server]
            threading.Thread(target=self._pump_up, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pump_down, args=(server, client), daemon=True).start()

    @staticmethod
    def _pump_up(client: socket.socket, server: socket.socket) -> None:
        try:
            while data := client.recv(65536):
                server.sendall(data)
        except OSError:
            pass
        finally:
            _shut(server)

    def _pump_down(self, server: socket.socket, client: socket.socket) -> None:
        buf = bytearray()
        try:
            while data := server.recv(65536):
                buf += data
                while (size := _message_length(buf)) is not None:
                    message, buf = bytes(buf[:size]), buf[size:]
                    self._thawed.wait(timeout=120)
                    with self._lock:
                        tag = _op_tag(message)
                        drop = tag in self._swallowed
                        self.swallowed_count += drop
                        cut = tag == self._cut
                        if cut:
                            self._cut = None
                            self.cut_count += 1
                    if cut:
                        return  # finally: the connection closes without the answer
                    if not drop:
                        client.sendall(message)
        except OSError:
            pass
        finally:
            _shut(client)

    def close(self) -> None:
        self._closed = True
        self.thaw()
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                _shut(sock)
                sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
