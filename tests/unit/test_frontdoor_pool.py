"""gateway.frontdoor.pool gives ThreadPoolExecutor's answers for what the front door asks.

Results, errors, the order of a one-thread pool, cancelling a queued job (never runs, its
callback at once) and a running one (refused, its callback when done), shutdown after the
queued jobs; plus what the executor did for free: thread names, no thread left behind.
"""

from __future__ import annotations

import gc
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from gateway.frontdoor.pool import Job, Pool


def _pool_outcome(fn: Any, arg: Any) -> tuple[str, Any]:
    pool = Pool(2, "t")
    finished = threading.Event()
    job = pool.submit(fn, arg, lambda _: finished.set())
    assert finished.wait(5)
    pool.shutdown()
    if job.error is not None:
        return "error", (type(job.error), str(job.error))
    return "result", job.result


def _executor_outcome(fn: Any, arg: Any) -> tuple[str, Any]:
    with ThreadPoolExecutor(2) as executor:
        future = executor.submit(fn, arg)
        error = future.exception(5)
    if error is not None:
        return "error", (type(error), str(error))
    return "result", future.result()


def _fail(arg: Any) -> None:
    raise ValueError(f"bad {arg}")


def _exit(arg: Any) -> None:
    raise SystemExit(arg)


@pytest.mark.parametrize(
    ("fn", "arg"),
    [
        (len, b"abc"),
        (lambda x: None, 1),
        (lambda x: (x, [x]), "x"),
        (_fail, 3),
        (_exit, 4),  # a BaseException is an outcome too, as for the executor
        (lambda x: 1 / x, 0),
    ],
)
def test_results_and_errors_are_the_executors(fn: Any, arg: Any) -> None:
    assert _pool_outcome(fn, arg) == _executor_outcome(fn, arg)


def test_one_thread_runs_jobs_in_the_order_given_as_the_executor_does() -> None:
    ran: list[int] = []
    pool = Pool(1, "t")
    for n in range(20):
        pool.submit(ran.append, n, lambda _: None)
    pool.shutdown()
    expected: list[int] = []
    with ThreadPoolExecutor(1) as executor:
        for n in range(20):
            executor.submit(expected.append, n)
    assert ran == expected == list(range(20))


def test_a_queued_job_cancelled_never_runs_and_a_running_one_is_not_cancelled() -> None:
    release = threading.Event()
    started = threading.Event()
    ran: list[str] = []
    done: list[tuple[str, str]] = []

    def block(name: str) -> str:
        ran.append(name)
        started.set()
        release.wait(5)
        return name

    pool = Pool(1, "t")
    running = pool.submit(block, "a", lambda job: done.append((job.arg, job.state)))
    assert started.wait(5)
    queued = pool.submit(block, "b", lambda job: done.append((job.arg, job.state)))
    assert pool.cancel(queued) is True
    assert done == [("b", "cancelled")]  # at once, in the cancelling thread
    assert queued.cancelled()
    assert pool.cancel(queued) is False  # once only
    assert pool.cancel(running) is False
    release.set()
    pool.shutdown()
    assert ran == ["a"]
    assert done == [("b", "cancelled"), ("a", "done")]
    assert running.result == "a" and not running.cancelled()

    executor = ThreadPoolExecutor(1)  # the same answers from the executor
    release.clear()
    started.clear()
    ran.clear()
    first: Future[str] = executor.submit(block, "a")
    assert started.wait(5)
    second: Future[str] = executor.submit(block, "b")
    assert second.cancel() is True and first.cancel() is False
    release.set()
    executor.shutdown(wait=True)
    assert ran == ["a"] and first.result() == "a"


def test_shutdown_runs_the_queued_jobs_then_ends_the_threads() -> None:
    ran: list[int] = []
    pool = Pool(2, "t")
    for n in range(10):
        pool.submit(lambda x: (time.sleep(0.01), ran.append(x)), n, lambda _: None)
    pool.shutdown()
    assert sorted(ran) == list(range(10))
    assert not any(thread.is_alive() for thread in pool._threads)


def test_threads_are_named_and_a_failing_callback_does_not_end_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    names: list[str] = []
    pool = Pool(1, "scim")

    def broken(job: Job) -> None:
        raise RuntimeError("callback")

    pool.submit(lambda _: names.append(threading.current_thread().name), None, broken)
    finished = threading.Event()
    pool.submit(
        lambda _: names.append(threading.current_thread().name), None, lambda _: finished.set()
    )
    assert finished.wait(5)
    pool.shutdown()
    assert names == ["scim_0", "scim_0"]
    assert "a job's done callback failed" in caplog.text


def test_a_pool_dropped_without_shutdown_leaves_no_thread_waiting() -> None:
    pool = Pool(2, "dropped")
    threads = list(pool._threads)
    del pool
    gc.collect()
    for thread in threads:
        thread.join(5)
    assert not any(thread.is_alive() for thread in threads)
