"""The worker's malloc setting (gateway/frontdoor/allocator.py): done on glibc, left to an
operator who set it, and done by the front door's lifespan startup."""

from __future__ import annotations

import asyncio
import ctypes
import platform
from typing import Any

import pytest

from gateway.frontdoor import allocator, bridge
from gateway.frontdoor.bridge import FrontDoor, Limits

GLIBC = platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="glibc only")
def test_the_threshold_is_fixed_on_glibc_unless_the_operator_set_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    assert allocator.fix_mmap_threshold() is True
    assert ctypes.CDLL(None).mallopt(allocator.M_MMAP_THRESHOLD, allocator.THRESHOLD) == 1
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    assert allocator.fix_mmap_threshold() is False


def test_the_lifespan_startup_fixes_it_in_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(bridge, "fix_mmap_threshold", lambda: calls.append(1) or True)
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    door = FrontDoor(lambda environ, start_response: [], Limits())
    asyncio.run(door({"type": "lifespan"}, receive, send))
    assert calls == [1]
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
