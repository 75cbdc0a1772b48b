"""The worker's request threads: one queue, ``threads`` threads, a callback per job.

Why not ``concurrent.futures.ThreadPoolExecutor``: per request its ``submit`` takes two locks
and makes a ``Future`` (a ``Condition`` and its lock) and a work item, looks for an idle thread
through a semaphore (another ``Condition``), and the thread then sets the result under the
future's condition, runs its callbacks and releases the semaphore. The front door needs less:
run a function in one of a fixed number of threads, hand its outcome to a callback, and drop a
job not yet started when its request is cancelled. Measured on the bench machine, a hand-off
from an event loop and back (``call_soon_threadsafe``) cost 108-117 µs of CPU through the
executor and 74-78 µs through a queue (tests/unit/test_frontdoor_pool.py holds this pool to the
executor's answers: results, errors, cancelling queued and running jobs, order, shutdown).
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, CANCELLED = "queued", "running", "done", "cancelled"


class Job:
    """One call of ``fn(arg)``; ``done(job)`` is called once it has run or been cancelled."""

    __slots__ = ("arg", "done", "error", "fn", "result", "state")

    def __init__(self, fn: Callable[[Any], Any], arg: Any, done: Callable[[Job], Any]) -> None:
        self.fn = fn
        self.arg = arg
        self.done = done
        self.state = QUEUED
        self.result: Any = None
        self.error: BaseException | None = None

    def cancelled(self) -> bool:
        return self.state == CANCELLED


class Pool:
    """``threads`` daemon threads named ``<prefix>_<n>``, started with the pool."""

    def __init__(self, threads: int, prefix: str) -> None:
        self._queue: SimpleQueue[Job | None] = SimpleQueue()
        self._lock = threading.Lock()  # a job's QUEUED -> RUNNING or CANCELLED, one of them
        self._threads = [
            threading.Thread(
                target=_work, args=(self._queue, self._lock), name=f"{prefix}_{n}", daemon=True
            )
            for n in range(threads)
        ]
        for thread in self._threads:
            thread.start()
        # A pool dropped without shutdown (a test's) does not leave its threads waiting.
        self._stop = weakref.finalize(self, _stop, self._queue, threads)

    def submit(self, fn: Callable[[Any], Any], arg: Any, done: Callable[[Job], Any]) -> Job:
        job = Job(fn, arg, done)
        self._queue.put(job)
        return job

    def cancel(self, job: Job) -> bool:
        """Cancel a job not yet started (its ``done`` is then called here, at once)."""
        with self._lock:
            if job.state != QUEUED:
                return False
            job.state = CANCELLED
        job.done(job)
        return True

    def shutdown(self) -> None:
        """Let the jobs already queued run, then end the threads and wait for them."""
        self._stop()
        for thread in self._threads:
            thread.join()


def _stop(queue: SimpleQueue[Job | None], threads: int) -> None:
    for _ in range(threads):
        queue.put(None)


def _work(queue: SimpleQueue[Job | None], lock: threading.Lock) -> None:
    while (job := queue.get()) is not None:
        with lock:
            if job.state != QUEUED:
                continue
            job.state = RUNNING
        try:
            job.result = job.fn(job.arg)
        except BaseException as error:  # as the executor: the caller decides
            job.error = error
        job.state = DONE
        try:
            job.done(job)
        except Exception:  # as the executor: logged, the thread goes on
            log.exception("a job's done callback failed")
        del job
