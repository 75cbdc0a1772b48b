"""glibc's malloc told to give big blocks back at once: its mmap threshold fixed at 1 MiB.

Why: glibc serves a block of 128 KiB or more with its own ``mmap`` and unmaps it when freed,
but then raises that threshold to the size of the block freed (up to 32 MiB). After a big
group's full GET has freed its LDAP answer (17 MiB at 100,000 members), every later block
under that size — the next answer's pieces, the decoded lists, the JSON chunks — comes from
the heap of whichever pool thread asked, and each thread's heap keeps what it once held. The
served worker's peak RSS then creeps up with every big GET landing on another thread:
``bench/biggroup.py`` (4 threads) measured 109 MiB of growth at 100,000 members, 59 MiB with
the threshold fixed (``mallopt(M_MMAP_THRESHOLD)`` also turns the adjustment off).

Why 1 MiB, not glibc's starting 128 KiB: asyncio reads a socket into a 256 KiB buffer (then
shrunk to what came), at least once per request; at 128 KiB each of those is an ``mmap``
and a ``munmap``. ``bench/run.py --quick`` showed small requests 0.1-0.2 ms of CPU dearer at
concurrency 1 with 128 KiB (on a noisy machine: suggestive, not proven), and no difference
from before with 1 MiB. Under 1 MiB only a big answer's pieces and the answer itself are
mapped: 50-52 MiB of growth at 100,000 members, as with 128 KiB.

An operator who sets ``MALLOC_MMAP_THRESHOLD_`` (or runs on another C library) decides for
themself: nothing is changed then.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # glibc's malloc.h
THRESHOLD = 1024 * 1024


def fix_mmap_threshold(size: int = THRESHOLD) -> bool:
    """Fix glibc's mmap threshold at ``size`` bytes in this process; whether it was done."""
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(None)
        if not hasattr(libc, "gnu_get_libc_version"):
            return False  # not glibc (musl has mallopt, as a no-op)
        done = bool(libc.mallopt(ctypes.c_int(M_MMAP_THRESHOLD), ctypes.c_int(size)))
    except (OSError, AttributeError):
        return False
    log.debug("glibc mmap threshold fixed at %d bytes: %s", size, done)
    return done
