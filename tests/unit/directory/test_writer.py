"""The host-wide writer choice: start, failover, safe failback, writes drained (no LDAP: the
nodes are a table of contextCSN vectors; the state file is real)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from gateway.directory.replication import Vector
from gateway.directory.writer import State, WriterChoice, default_state_path
from gateway.errors import Unavailable

URLS = ("ldap://n1", "ldap://n2")
CTX = "dc=example,dc=org"


class Nodes:
    """What each node answers (None: down)."""

    def __init__(self) -> None:
        self.vectors: dict[str, Vector | None] = {url: {} for url in URLS}

    def probe(self, url: str) -> Vector:
        found = self.vectors[url]
        if found is None:
            raise Unavailable("connect", None, None, "down")
        return dict(found)


def csn(sid: str, second: int) -> Vector:
    return {(CTX, sid): f"20261202000{second:03d}.000000Z#000000#{sid}#000000"}


@pytest.fixture
def choice(tmp_path: Path) -> WriterChoice:
    return WriterChoice(URLS, str(tmp_path / "state"), failback_interval=0.0)


def test_state_survives_encoding_and_a_torn_record_is_refused() -> None:
    state = State(7, 1, 0.0, 12.5)
    assert State.decode(state.encode()) == state
    assert State.decode(state.encode()[:10]) is None
    assert State.decode(b"") is None


def test_the_default_state_file_depends_on_urls_and_bind_dn() -> None:
    a = default_state_path(URLS, "cn=a")
    assert a == default_state_path(URLS, "cn=a")
    assert a != default_state_path(URLS, "cn=b")
    assert a != default_state_path(URLS[::-1], "cn=a")


def test_start_picks_the_first_node_unless_it_is_behind(choice: WriterChoice) -> None:
    nodes = Nodes()
    nodes.vectors["ldap://n1"] = csn("001", 1)
    nodes.vectors["ldap://n2"] = {**csn("001", 1), **csn("002", 5)}  # n1 lacks n2's writes
    assert choice.current(nodes.probe).index == 1


def test_start_with_every_node_down_is_unavailable(choice: WriterChoice) -> None:
    nodes = Nodes()
    nodes.vectors = dict.fromkeys(URLS)
    with pytest.raises(Unavailable):
        choice.current(nodes.probe)


def test_failover_moves_every_process_once(choice: WriterChoice, tmp_path: Path) -> None:
    nodes = Nodes()
    first = choice.current(nodes.probe)
    assert first.index == 0
    nodes.vectors["ldap://n1"] = None
    moved = choice.fail_over(first, nodes.probe)
    assert (moved.index, moved.generation) == (1, first.generation + 1)
    # another process that saw the same failure finds the move made, and does not move again
    other = WriterChoice(URLS, str(tmp_path / "state"))
    again = other.fail_over(first, nodes.probe)
    assert (again.generation, again.index) == (moved.generation, moved.index)


def test_no_failback_until_the_preferred_node_has_caught_up(choice: WriterChoice) -> None:
    nodes = Nodes()
    state = choice.current(nodes.probe)
    nodes.vectors["ldap://n1"] = None
    state = choice.fail_over(state, nodes.probe)
    nodes.vectors["ldap://n2"] = csn("002", 9)
    nodes.vectors["ldap://n1"] = csn("002", 3)  # back, but behind
    assert choice.failback_due(state)
    assert choice.try_failback(nodes.probe).index == 1
    nodes.vectors["ldap://n1"] = csn("002", 9)
    back = choice.try_failback(nodes.probe)
    assert back.index == 0 and back.generation == state.generation + 1


def test_failback_waits_for_writes_in_flight(choice: WriterChoice) -> None:
    nodes = Nodes()
    state = choice.current(nodes.probe)
    nodes.vectors["ldap://n1"] = None
    state = choice.fail_over(state, nodes.probe)
    nodes.vectors["ldap://n1"] = {}
    seen: list[int] = []
    release = threading.Event()

    def writer() -> None:
        with choice.writing() as during:
            seen.append(during.index)
            release.wait(5)

    t = threading.Thread(target=writer)
    t.start()
    while not seen:
        time.sleep(0.001)
    started = time.monotonic()
    threading.Timer(0.3, release.set).start()
    back = choice.try_failback(nodes.probe)
    t.join(5)
    assert back.index == 0
    assert time.monotonic() - started >= 0.25, "switched while a write was in flight"
    assert seen == [1]


def test_a_state_file_owned_by_someone_else_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "link"
    os.symlink(tmp_path / "elsewhere", path)
    with pytest.raises(OSError):
        WriterChoice(URLS, str(path)).read()


def test_a_state_written_for_a_longer_url_list_is_chosen_again(tmp_path: Path) -> None:
    path = str(tmp_path / "state")
    three = WriterChoice((*URLS, "ldap://n3"), path)
    nodes = Nodes()
    nodes.vectors["ldap://n3"] = {}
    nodes.vectors["ldap://n1"] = nodes.vectors["ldap://n2"] = None
    assert three.current(nodes.probe).index == 2
    nodes.vectors = {url: {} for url in URLS}
    assert WriterChoice(URLS, path).current(nodes.probe).index == 0
