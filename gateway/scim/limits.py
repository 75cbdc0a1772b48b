"""How much one PATCH may ask for, and until when it may work (issue 12, item 4).

A legal 1 MB body holds about 12,000 PATCH operations; before the engine was made linear
such a body kept a worker thread busy for minutes and answered long after the client had
gone. The caps refuse oversized requests in SCIM form before anything is read or written;
the deadline stops whatever still runs too long, at a point where nothing has been written.

Does: hold the caps and the deadline, and raise ``TooMany`` / ``DeadlineExceeded``.
Does not: choose the numbers (``gateway.settings``) or start the clock (the web layer,
when the request arrives).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from gateway.errors import DeadlineExceeded, TooMany


@dataclass(frozen=True, slots=True)
class Deadline:
    """A point in time (on ``clock``) after which a request stops working."""

    seconds: float
    expires: float
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(seconds, clock() + seconds, clock)

    def remaining(self) -> float:
        return self.expires - self.clock()

    def check(self, stage: str) -> None:
        """Raise ``DeadlineExceeded`` (503) if the deadline has passed; ``stage`` says where."""
        if self.clock() >= self.expires:
            raise DeadlineExceeded(
                f"the request did not finish within its {self.seconds:g} s deadline ({stage});"
                " nothing was changed, retry later"
            )


@dataclass(frozen=True, slots=True)
class PatchLimits:
    """Caps on one PATCH (``None``: no cap) and its deadline (``None``: none)."""

    max_operations: int | None = None
    max_values: int | None = None
    deadline: Deadline | None = None

    def check_operations(self, count: int) -> None:
        if self.max_operations is not None and count > self.max_operations:
            raise TooMany(
                f"this PATCH holds {count} operations; the gateway accepts at most"
                f" {self.max_operations} in one request: send them in several"
            )

    def check_deadline(self, stage: str) -> None:
        if self.deadline is not None:
            self.deadline.check(stage)


NO_LIMITS = PatchLimits()
