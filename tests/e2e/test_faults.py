"""The directory fails under load: honest answers, no lost or phantom writes, quick recovery.

Each test starts its OWN slapd (fixed port, so it can come back where the gateway expects it)
and its own `scim-gateway serve`; the session slapd is never touched. A stream of creates and
PATCHes runs from a few threads while slapd is stopped and started again (or frozen with
SIGSTOP, which leaves its port accepting connections that never get an answer).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import ldap3
import pytest
from support.scim_http import Answer, ScimHttp, gateway_env
from support.served import Served
from support.slapd import Slapd, free_port

from e2e.conftest import SHIPPED, TOKEN
from gateway.directory.dn import child_dn, normalize

CONNECT_TIMEOUT_S = 1.0
LDAP_TIMEOUT_S = 1.0
RETRY_AFTER_S = 3
RECOVERY_BUDGET_S = 5.0


@dataclass
class Rig:
    slapd: Slapd
    served: Served
    scim: ScimHttp

    def ldap(self) -> ldap3.Connection:
        return ldap3.Connection(
            ldap3.Server(self.slapd.url, get_info=ldap3.NONE),
            user=self.slapd.admin_dn,
            password=self.slapd.admin_password,
            auto_bind=True,
            auto_referrals=False,
        )


@pytest.fixture
def rig(slapd: Slapd, tmp_path: Path) -> Iterator[Rig]:
    """`slapd` (the session one) is only asked for so that a missing slapd skips or fails."""
    own = Slapd(tmp_path / "slapd", port=free_port())
    own.start()
    env = gateway_env(
        own.url,
        own.admin_dn,
        own.admin_password,
        SHIPPED,
        TOKEN,
        tmp_path / "secrets",
        workers="2",
        threads="4",
        ldap_connect_timeout=str(CONNECT_TIMEOUT_S),
        ldap_timeout=str(LDAP_TIMEOUT_S),
        retry_after=str(RETRY_AFTER_S),
        log_level="WARNING",
    )
    served = Served(env, tmp_path / "gateway.log", workers=2)
    try:
        served.start()
        yield Rig(own, served, ScimHttp(served.base, TOKEN, timeout=30))
    finally:
        served.stop()
        pid = own.pid
        if pid is not None:  # a frozen slapd cannot act on SIGTERM
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        own.stop()


# ------------------------------------------------------------------------------ the stream


@dataclass(frozen=True, slots=True)
class Sent:
    kind: str  # create / title / member
    name: str
    sent_at: float
    answer: Answer

    @property
    def ok(self) -> bool:
        return 200 <= self.answer.status < 300

    @property
    def answered_at(self) -> float:
        return self.sent_at + self.answer.seconds


@dataclass
class Stream:
    """Client threads that create users, then PATCH each one and add it to a group."""

    scim: ScimHttp
    group_id: str
    threads: int = 3
    log: list[Sent] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for n in range(self.threads):
            worker = threading.Thread(target=self._run, args=(n,), daemon=True)
            worker.start()
            self._workers.append(worker)

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(60)
            assert not worker.is_alive(), "a client thread hung"

    def _send(self, kind: str, name: str, call) -> Sent:
        sent = Sent(kind, name, time.monotonic(), call())
        with self._lock:
            self.log.append(sent)
        return sent

    def _run(self, n: int) -> None:
        scim = self.scim
        i = 0
        while not self._stop.is_set():
            name = f"s{n}u{i}"
            i += 1
            created = self._send("create", name, partial(scim.post, "/Users", {"userName": name}))
            if not created.ok:
                time.sleep(0.02)  # a client backing off a little while the directory is away
                continue
            uid = created.answer.body["id"]
            title = {"op": "replace", "path": "title", "value": f"title-{name}"}
            self._send("title", name, partial(scim.patch, f"/Users/{uid}", title))
            add = {"op": "add", "path": "members", "value": [{"value": uid}]}
            self._send("member", name, partial(scim.patch, f"/Groups/{self.group_id}", add))

    def successes_after(self, moment: float) -> int:
        with self._lock:
            return sum(1 for s in self.log if s.ok and s.sent_at >= moment)

    def wait_for_successes(self, count: int, after: float, budget: float) -> float | None:
        """Seconds until ``count`` requests sent after ``after`` have succeeded, or None."""
        deadline = time.monotonic() + budget
        while time.monotonic() < deadline:
            if self.successes_after(after) >= count:
                return time.monotonic() - after
            time.sleep(0.02)
        return None


def directory_state(rig: Rig) -> tuple[dict[str, list[str]], set[str]]:
    """uid -> title of every user, and the normalised member DNs of the group."""
    conn = rig.ldap()
    try:
        conn.search(rig.slapd.people_dn, "(uid=*)", "LEVEL", attributes=["uid", "title"])
        users = {
            str(e["attributes"]["uid"][0]): [str(t) for t in e["attributes"].get("title", [])]
            for e in conn.response
            if e.get("type") == "searchResEntry"
        }
        group = child_dn("cn", "stream", rig.slapd.groups_dn)
        conn.search(group, "(objectClass=*)", "BASE", attributes=["member"])
        members = {normalize(str(v)) for v in conn.response[0]["attributes"].get("member", [])}
    finally:
        conn.unbind()
    return users, members


def assert_honest_failure(sent: Sent) -> None:
    """Anything but a 2xx must be a 503 SCIM error that tells the client when to come back, or
    a 504 for a write sent just as the directory went (its answer never came: outcome unknown)."""
    answer = sent.answer
    assert answer.status in (503, 504), (sent.kind, sent.name, answer.status, answer.body)
    assert isinstance(answer.body, dict) and answer.body.get("status") == str(answer.status)
    if answer.status == 504:
        assert "may or may not have been made" in answer.body.get("detail", ""), answer.body
    assert answer.body.get("detail")
    assert answer.headers.get("Retry-After") == str(RETRY_AFTER_S), answer.headers


# ------------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("how", ["stop", "crash"])
def test_directory_restart_mid_stream_loses_no_acknowledged_write(rig: Rig, how: str) -> None:
    group = rig.scim.post("/Groups", {"displayName": "stream"})
    assert group.status == 201, group.body
    gateway_pid = rig.served.proc.pid if rig.served.proc else None
    stream = Stream(rig.scim, group.body["id"])
    stream.start()
    try:
        assert stream.wait_for_successes(30, 0.0, 20) is not None, "the stream never got going"
        down_from = time.monotonic()
        if how == "stop":
            rig.slapd.stop()  # SIGTERM: slapd finishes what it is doing and closes connections
        else:
            rig.slapd.kill()
        down_confirmed = time.monotonic()  # from here until restart, nothing can be written
        time.sleep(1.5)
        restart_at = time.monotonic()
        rig.slapd.start()
        back_at = time.monotonic()
        recovery = stream.wait_for_successes(2 * stream.threads, back_at, RECOVERY_BUDGET_S)
        time.sleep(0.3)
    finally:
        stream.stop()

    assert recovery is not None, f"no 2xx within {RECOVERY_BUDGET_S}s of slapd being back"
    assert rig.served.proc is not None and rig.served.proc.pid == gateway_pid
    assert rig.served.proc.poll() is None, "the gateway died"

    log = list(stream.log)
    failures = [s for s in log if not s.ok]
    for sent in failures:
        assert_honest_failure(sent)
    while_down = [s for s in log if s.sent_at >= down_confirmed and s.answered_at <= restart_at]
    assert while_down, "no request was sent while the directory was down"
    assert not [s for s in while_down if s.ok], "a 2xx while no directory was running"
    slowest_503 = max(s.answer.seconds for s in while_down)
    assert slowest_503 < CONNECT_TIMEOUT_S + 1.0, f"503 took {slowest_503:.2f}s"

    users, members = directory_state(rig)
    people = rig.slapd.people_dn
    for sent in log:
        if not sent.ok:
            continue
        if sent.kind == "create":
            assert sent.name in users, f"201 for {sent.name}, not in the directory"
        elif sent.kind == "title":
            assert users.get(sent.name) == [f"title-{sent.name}"], f"lost PATCH of {sent.name}"
        else:
            assert normalize(child_dn("uid", sent.name, people)) in members, sent.name
    # A create that failed while the directory was fully down left nothing behind.
    phantoms = [s.name for s in while_down if s.kind == "create" and s.name in users]
    assert not phantoms, f"503 answered, yet created: {phantoms}"
    print(  # shown with -s: the numbers the report quotes
        f"\nrequests={len(log)} ok={len(log) - len(failures)} 503={len(failures)} "
        f"stop={down_confirmed - down_from:.2f}s restart={back_at - restart_at:.2f}s "
        f"recovery={recovery:.2f}s slowest_503_while_down={slowest_503:.3f}s"
    )


def test_a_frozen_directory_gives_503_within_the_timeouts_then_recovers(rig: Rig) -> None:
    user = rig.scim.post("/Users", {"userName": "before-freeze"})
    assert user.status == 201
    assert rig.scim.get(f"/Users/{user.body['id']}").status == 200  # warm connections
    pid = rig.slapd.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        read = rig.scim.get(f"/Users/{user.body['id']}")
        write = rig.scim.post("/Users", {"userName": "during-freeze"})
    finally:
        os.kill(pid, signal.SIGCONT)
    assert read.status == 503, read.body
    # a write whose add reached the frozen slapd is 504 "outcome unknown" (slapd applies it
    # once thawed); one whose connection was found dead before sending is 503
    assert write.status in (503, 504), write.body
    for answer in (read, write):
        assert answer.headers.get("Retry-After") == str(RETRY_AFTER_S)
    # The HTTP client must not wait on the directory beyond the gateway's own budget: one
    # connect plus one operation timeout per attempt, and reads try twice at most.
    budget = 2 * (CONNECT_TIMEOUT_S + LDAP_TIMEOUT_S) + 1.0
    assert read.seconds < budget, f"read took {read.seconds:.2f}s"
    assert write.seconds < budget, f"write took {write.seconds:.2f}s"
    deadline = time.monotonic() + RECOVERY_BUDGET_S
    while True:
        again = rig.scim.get(f"/Users/{user.body['id']}")
        if again.status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert again.status == 200, again.body
    print(
        f"\nfrozen: read 503 after {read.seconds:.2f}s, "
        f"write {write.status} after {write.seconds:.2f}s"
    )


def test_directory_down_from_the_start_is_503_quickly_and_served_once_it_appears(
    slapd: Slapd, tmp_path: Path
) -> None:
    own = Slapd(tmp_path / "slapd", port=free_port())  # not started yet
    env = gateway_env(
        f"ldap://127.0.0.1:{own.port}",
        own.admin_dn,
        own.admin_password,
        SHIPPED,
        TOKEN,
        tmp_path / "secrets",
        ldap_connect_timeout=str(CONNECT_TIMEOUT_S),
        retry_after=str(RETRY_AFTER_S),
        log_level="WARNING",
    )
    with Served(env, tmp_path / "gateway.log", workers=1) as served:
        scim = ScimHttp(served.base, TOKEN)
        answers = [scim.get("/Users"), scim.post("/Users", {"userName": "early"})]
        for answer in answers:
            assert answer.status == 503 and answer.body["status"] == "503", answer.body
            assert answer.headers.get("Retry-After") == str(RETRY_AFTER_S)
            assert answer.seconds < CONNECT_TIMEOUT_S + 1.0
        own.start()
        try:
            created = scim.post("/Users", {"userName": "early"})
            assert created.status == 201, created.body
        finally:
            own.stop()
