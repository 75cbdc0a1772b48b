"""One directory node to write to, shared by every worker process and thread of a gateway.

With several LDAP URLs (a multi-provider pair), writing to two nodes at once lets OpenLDAP's
conflict resolution drop concurrent changes, and returning to a restarted node before it has
caught up serves stale reads. So the choice of node is not per connection but per host: it
lives in a small state file that all gateway processes with the same URLs share (gunicorn
workers are separate processes), changed only under an exclusive file lock:

- **start**: the first URL, in the configured order, that answers and has caught up with
  every other node that answers (``replication.caught_up`` on contextCSN);
- **failover**: when the chosen node cannot be reached, the next one that answers — for every
  worker at once (a generation number in the file; connections of an older generation are
  reopened before their next use, whatever their age);
- **failback** to a more preferred node only when it is safe: it answers and is close behind
  (within ``_NEAR_S`` by CSN time), writes of this host are paused and drained (each write
  holds a shared lock; the switch takes it exclusively), and the preferred node's contextCSN
  has caught up with the current node's, now final. Checked at most
  every ``failback_interval`` seconds by whichever request comes first.

Several gateway *hosts* cannot see each other's file: docs/replication.md states the
supported topologies. This module knows nothing of LDAP beyond the ``probe`` callback.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import math
import os
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from gateway.directory.replication import Vector, behind_seconds, caught_up, lag
from gateway.errors import Unavailable

log = logging.getLogger(__name__)

_RECORD = 96  # bytes of the state record at offset 0
_DRAIN_S = 3.0  # longest pause of this host's writes for a failback
_CATCH_UP_S = 2.0  # longest wait, writes paused, for the preferred node's last changes
_NEAR_S = 0.5  # a failback pauses writes only for a node at most this far behind (CSN time)

Probe = Callable[[str], Vector]
"""Reads a node's contextCSN vector; raises Unavailable when the node does not answer."""


@dataclass(frozen=True, slots=True)
class State:
    generation: int  # 0: nothing chosen yet
    index: int  # position of the chosen URL
    drain_until: float  # wall clock: writes wait while a failback is being made (0 = none)
    checked_at: float  # wall clock of the last failback check

    def encode(self) -> bytes:
        # times truncated, never rounded up: a check written "in the future" would be skipped
        drain, checked = (math.floor(t * 1000) / 1000 for t in (self.drain_until, self.checked_at))
        text = f"{self.generation} {self.index} {drain:.3f} {checked:.3f} ok\n"
        return text.encode().ljust(_RECORD)

    @classmethod
    def decode(cls, raw: bytes) -> State | None:
        parts = raw.decode("ascii", "replace").split()
        if len(parts) != 5 or parts[4] != "ok":  # empty, or caught half-written
            return None
        try:
            return cls(int(parts[0]), int(parts[1]), float(parts[2]), float(parts[3]))
        except ValueError:
            return None


def default_state_path(urls: Sequence[str], bind_dn: str) -> str:
    """One file per (URLs, bind DN) in the temporary directory: every gateway process of this
    host configured alike shares it without being told."""
    digest = hashlib.sha256("\n".join([*urls, bind_dn]).encode()).hexdigest()[:20]
    return os.path.join(tempfile.gettempdir(), f"scim-gateway-writer-{digest}")


class WriterChoice:
    """The host-wide choice of the node to write to (see the module docstring)."""

    def __init__(self, urls: Sequence[str], path: str, *, failback_interval: float = 1.0) -> None:
        self.urls = tuple(urls)
        self.path = path
        self.failback_interval = failback_interval
        self._pid = -1
        self._fd = -1
        self._local = threading.local()  # each thread's own descriptor for the write lock
        self._init_lock = threading.Lock()

    # ------------------------------------------------------------------ the file

    def _open(self) -> int:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        info = os.fstat(fd)
        if info.st_uid != os.geteuid() or not stat.S_ISREG(info.st_mode):
            os.close(fd)
            log.error("writer state file %s is not a regular file of ours", self.path)
            raise Unavailable("connect", None, None, "writer state file not ours")
        return fd

    def _shared_fd(self) -> int:
        pid = os.getpid()
        if self._pid != pid:  # first use, or forked: descriptors are per process
            with self._init_lock:
                if self._pid != pid:
                    self._local = threading.local()
                    self._fd = self._open()
                    self._pid = pid  # last: other threads use _fd once they see the pid
        return self._fd

    def read(self) -> State:
        fd = self._shared_fd()
        for _ in range(50):
            state = State.decode(os.pread(fd, _RECORD, 0))
            if state is not None and state.index >= len(self.urls):
                return State(0, 0, 0.0, 0.0)  # written for another URL list: choose again
            if state is not None:
                return state
            if not os.pread(fd, 1, 0):  # a new, empty file
                return State(0, 0, 0.0, 0.0)
            time.sleep(0.001)
        return State(0, 0, 0.0, 0.0)

    def _write(self, state: State) -> None:
        os.pwrite(self._shared_fd(), state.encode(), 0)

    @contextlib.contextmanager
    def _changing(self, *, wait: bool = True) -> Iterator[State | None]:
        """The state under the change lock (a side file), or None if busy and not waiting."""
        fd = os.open(
            self.path + ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
        )
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield None
                return
            yield self.read()
        finally:
            os.close(fd)  # releases the lock

    # ------------------------------------------------------------------ decisions

    def current(self, probe: Probe) -> State:
        """The chosen node, choosing one first if nobody has yet."""
        state = self.read()
        if state.generation:
            return state
        with self._changing() as locked:
            assert locked is not None
            if locked.generation:
                return locked
            index = self._elect(probe)
            state = State(1, index, 0.0, time.time())
            self._write(state)
            log.warning("writing to %s (start)", self.urls[index])
            return state

    def _elect(self, probe: Probe) -> int:
        seen: dict[int, Vector] = {}
        for i, url in enumerate(self.urls):
            with contextlib.suppress(Unavailable):
                seen[i] = probe(url)
        if not seen:
            raise Unavailable("connect", None, None, "no directory node answers")
        for i, mine in seen.items():
            if all(caught_up(mine, other) for other in seen.values()):
                return i
        return min(seen)

    def fail_over(self, seen: State, probe: Probe) -> State:
        """The chosen node did not answer: move everyone to the next one that does."""
        with self._changing() as locked:
            assert locked is not None
            if locked.generation != seen.generation:
                return locked  # another worker moved already
            n = len(self.urls)
            for step in range(1, n + 1):
                index = (seen.index + step) % n
                try:
                    probe(self.urls[index])
                except Unavailable:
                    continue
                state = State(seen.generation + 1, index, 0.0, time.time())
                self._write(state)
                log.warning(
                    "failover: %s does not answer; writing to %s",
                    self.urls[seen.index],
                    self.urls[index],
                )
                return state
        raise Unavailable("connect", None, None, "no directory node answers")

    def failback_due(self, state: State) -> bool:
        return state.index != 0 and time.time() - state.checked_at >= self.failback_interval

    def try_failback(self, probe: Probe) -> State:
        """Return to the most preferred node that has caught up, writes paused meanwhile."""
        with self._changing(wait=False) as locked:
            if locked is None or locked.index == 0:
                return self.read()
            now = time.time()
            if now - locked.checked_at < self.failback_interval:
                return locked
            state = State(locked.generation, locked.index, 0.0, now)
            self._write(state)
            try:
                current = probe(self.urls[state.index])
            except Unavailable:
                return state  # the next request's connection fails over
            for index in range(state.index):
                try:
                    preferred = probe(self.urls[index])
                except Unavailable:
                    continue
                if behind_seconds(preferred, current) > _NEAR_S:  # not close: don't pause writes
                    log.info(
                        "failback to %s waits: behind on %s",
                        self.urls[index],
                        lag(preferred, current),
                    )
                    continue
                return self._switch_drained(state, index, probe)
            return state

    def _switch_drained(self, state: State, index: int, probe: Probe) -> State:
        paused = State(state.generation, state.index, time.time() + _DRAIN_S, state.checked_at)
        self._write(paused)
        started = time.monotonic()
        fd = self._open()
        try:
            if not _lock_within(fd, fcntl.LOCK_EX, _DRAIN_S):
                log.warning("failback postponed: writes did not drain in %.1fs", _DRAIN_S)
                self._write(state)
                return state
            # Nothing of this host is being written now: the current node's vector is final.
            try:
                target = probe(self.urls[state.index])
            except Unavailable:
                self._write(state)
                return state
            deadline = time.monotonic() + _CATCH_UP_S
            while True:
                try:
                    if caught_up(probe(self.urls[index]), target):
                        break
                except Unavailable:
                    pass
                if time.monotonic() > deadline:
                    log.info("failback postponed: %s did not catch up", self.urls[index])
                    self._write(state)
                    return state
                time.sleep(0.005)
            switched = State(state.generation + 1, index, 0.0, time.time())
            self._write(switched)
        finally:
            os.close(fd)
        log.warning(
            "failback: %s has caught up; writing to it again (writes paused %.3fs)",
            self.urls[index],
            time.monotonic() - started,
        )
        return switched

    # ------------------------------------------------------------------ writes

    @contextlib.contextmanager
    def writing(self) -> Iterator[State]:
        """Hold the shared write lock (a failback waits for it); waits out a failback pause."""
        while True:
            state = self.read()
            if state.drain_until <= time.time():
                break
            time.sleep(0.002)
        self._shared_fd()  # after a fork: a fresh thread-local too
        fd = getattr(self._local, "fd", None)
        if fd is None:
            fd = self._local.fd = self._open()
        if not _lock_within(fd, fcntl.LOCK_SH, _DRAIN_S + _CATCH_UP_S + 1.0):
            raise Unavailable("connect", None, None, "writer change did not finish")
        try:
            yield self.read()
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)


def _lock_within(fd: int, kind: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(fd, kind | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.001)
