"""gateway.metrics.Tally: observations kept in the process and written later add up to what
writing each at once gives; the flushing thread brings them to a scrape on its own; in
multi-process mode a scrape sees its worker's requests and a worker's last ones survive it."""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram

from gateway import metrics
from gateway.metrics import Tally

REPO = Path(__file__).resolve().parents[2]
BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def twin() -> tuple[CollectorRegistry, Counter, Histogram]:
    registry = CollectorRegistry()
    counter = Counter("t_requests_total", "requests", ["kind"], registry=registry)
    latency = Histogram("t_seconds", "latency", ["kind"], buckets=BOUNDS, registry=registry)
    return registry, counter, latency


def samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in registry.collect()
        for s in family.samples
        if not s.name.endswith("_created")
    }


def observations(n: int) -> list[tuple[str, float]]:
    rng = random.Random(17)
    on_bounds = [(rng.choice("ab"), b) for b in BOUNDS]  # exactly on an upper bound: that bucket
    spread = [
        (rng.choice("abc"), rng.choice([0.0, 1e-6, 40.0]) or rng.expovariate(50)) for _ in range(n)
    ]
    return on_bounds + spread


def test_a_flushed_tally_equals_recording_each_at_once() -> None:
    tallied, t_counter, t_latency = twin()
    direct, d_counter, d_latency = twin()
    tally = Tally(3600)
    tally._thread = threading.current_thread()  # no flushing thread: this test flushes
    for kind, seconds in observations(2_000):
        tally.add(t_counter.labels(kind), t_latency.labels(kind), seconds)
        d_counter.labels(kind).inc()
        d_latency.labels(kind).observe(seconds)
    assert all(v == 0 for k, v in samples(tallied).items() if not k[0].endswith("_sum"))
    tally.flush()
    got, want = samples(tallied), samples(direct)
    assert got.keys() == want.keys()
    for key, value in want.items():
        if key[0].endswith("_sum"):  # added once, not value by value: the last bits may differ
            assert math.isclose(got[key], value, rel_tol=1e-12), key
        else:
            assert got[key] == value, key
    tally.flush()  # nothing pending: nothing changes
    assert samples(tallied) == got


def test_observations_from_many_threads_are_all_counted() -> None:
    registry, counter, latency = twin()
    tally = Tally(3600)
    tally._thread = threading.current_thread()
    child, timing = counter.labels("a"), latency.labels("a")

    def work() -> None:
        for _ in range(2_000):
            tally.add(child, timing, 0.001)

    threads = [threading.Thread(target=work) for _ in range(4)]
    flusher_done = threading.Event()

    def flush_meanwhile() -> None:
        while not flusher_done.is_set():
            tally.flush()

    flusher = threading.Thread(target=flush_meanwhile)
    flusher.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flusher_done.set()
    flusher.join()
    tally.flush()
    assert registry.get_sample_value("t_requests_total", {"kind": "a"}) == 8_000
    assert registry.get_sample_value("t_seconds_count", {"kind": "a"}) == 8_000


def test_the_flushing_thread_brings_a_count_to_the_registry() -> None:
    registry, counter, latency = twin()
    tally = Tally(0.05)
    tally.add(counter.labels("a"), latency.labels("a"), 0.002)
    deadline = time.monotonic() + 5
    while registry.get_sample_value("t_requests_total", {"kind": "a"}) != 1:
        assert time.monotonic() < deadline, "the count never reached the registry"
        time.sleep(0.01)
    assert registry.get_sample_value("t_seconds_bucket", {"kind": "a", "le": "0.005"}) == 1


def test_a_forked_child_starts_with_nothing_pending() -> None:
    registry, counter, latency = twin()
    tally = Tally(3600)
    tally._thread = threading.current_thread()
    tally.add(counter.labels("a"), latency.labels("a"), 0.002)
    tally.forked()
    assert tally._thread is None
    tally._thread = threading.current_thread()
    tally.flush()
    assert registry.get_sample_value("t_requests_total", {"kind": "a"}) == 0


def test_in_process_mode_records_at_once() -> None:
    assert not metrics.MULTIPROCESS  # the test run has no multi-process directory
    before = metrics.REGISTRY.get_sample_value(
        "scim_gateway_ldap_operations_total", {"operation": "tally-test", "result": "0"}
    )
    metrics.observe_ldap("tally-test", 0, 0.001)
    after = metrics.REGISTRY.get_sample_value(
        "scim_gateway_ldap_operations_total", {"operation": "tally-test", "result": "0"}
    )
    assert (before or 0) + 1 == after


_MULTIPROCESS_SCRIPT = """
import sys
from gateway import metrics
assert metrics.MULTIPROCESS
for _ in range(7):
    metrics.observe_request("User", "GET", 200, 0.003)
metrics.observe_ldap("search", 0, 0.001)
if sys.argv[1] == "scrape":
    print(metrics.exposition()[0].decode())
"""


def _run(directory: Path, what: str) -> str:
    env = {**os.environ, metrics.MULTIPROC_ENV: str(directory), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", _MULTIPROCESS_SCRIPT, what],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


REQUESTS = 'scim_gateway_http_requests_total{method="GET",resource_type="User",status="200"}'


def test_multiprocess_a_scrape_sees_its_workers_requests(tmp_path: Path) -> None:
    text = _run(tmp_path, "scrape")
    assert f"{REQUESTS} 7.0" in text
    assert 'scim_gateway_ldap_operations_total{operation="search",result="0"} 1.0' in text


def test_multiprocess_a_workers_last_requests_are_written_when_it_exits(tmp_path: Path) -> None:
    _run(tmp_path, "exit")  # no scrape, no wait: written at exit
    _run(tmp_path, "exit")
    text = _run(tmp_path, "scrape")  # a third process reads all three
    assert f"{REQUESTS} 21.0" in text
