"""Readiness: can this process serve SCIM requests right now? (the use case behind /readyz)

Two checks, in order: the mapping is loaded (it defines at least one resource type), and the
directory serves the gateway: a fresh bind with the gateway's own account, then a read of each
resource type's base entry, each step within a short timeout. The report goes to an
unauthenticated endpoint, so a failed check carries a fixed reason and a resource type name,
never a DN, a server message or a credential (those go to the log).

Because that endpoint needs no token, its outcome is reused for ``cache_seconds`` (a few
seconds): any number of calls costs this process at most one bind per period, and calls that
arrive while a check runs wait for that check instead of starting their own. Failures are
cached for the same short time, so the answer is never older than ``cache_seconds`` plus one
check; the report says how old it is.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from gateway.directory.operations import Directory
from gateway.errors import DirectoryError, InsufficientAccess, NoSuchEntry, Unavailable
from gateway.mapping.model import Mapping

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 2.0
"""Seconds for each step of the directory check: probes must answer before theirs expires."""


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Report:
    checks: tuple[Check, ...]
    checked_at: float = field(default_factory=time.monotonic)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def age(self, now: float | None = None) -> float:
        """Seconds since the checks ran (0 for a fresh report)."""
        return max(0.0, (time.monotonic() if now is None else now) - self.checked_at)


class Readiness:
    def __init__(
        self,
        mapping: Mapping | None,
        directory: Directory,
        timeout: float = DEFAULT_TIMEOUT,
        cache_seconds: float = 0.0,
    ) -> None:
        self.mapping = mapping
        self.directory = directory
        self.timeout = timeout
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._last: tuple[Mapping | None, Report] | None = None

    def check(self) -> Report:
        """The latest report, checking again once it is older than ``cache_seconds``."""
        if self.cache_seconds <= 0:
            return self.check_now()
        with self._lock:  # one check at a time; the callers behind it reuse its report
            last = self._last
            fresh = last is not None and last[1].age() < self.cache_seconds
            if last is not None and fresh and last[0] is self.mapping:
                return last[1]
            mapping = self.mapping
            report = self.check_now()
            self._last = (mapping, report)
            return report

    def check_now(self) -> Report:
        """Run the checks (one bind and a read per base entry), uncached."""
        if self.mapping is None or not self.mapping.resources:
            return Report((Check("mapping", False, "no mapping is loaded"),))
        checks = [Check("mapping", True)]
        names = {rm.base_dn: name for name, rm in self.mapping.resources.items()}
        try:
            self.directory.ping(list(names), self.timeout)
        except DirectoryError as err:
            log.warning("readiness: directory check failed: %s", err)
            checks.append(Check("ldap", False, _reason(err, names)))
        else:
            checks.append(Check("ldap", True))
        return Report(tuple(checks))


def _reason(err: DirectoryError, names: dict[str, str]) -> str:
    where = names.get(err.dn or "")
    if isinstance(err, Unavailable):
        if err.operation == "connect":
            return "cannot connect to the directory"
        if err.operation == "bind":
            return f"the directory refused the gateway's bind (LDAP result {err.result_code})"
        if err.result_code is None:
            return "the directory did not answer in time"
        return f"the directory is unavailable (LDAP result {err.result_code})"
    if isinstance(err, NoSuchEntry) and where:
        return f"the base entry of {where} does not exist"
    if isinstance(err, InsufficientAccess) and where:
        return f"the gateway may not read the base entry of {where}"
    return f"reading a base entry failed (LDAP result {err.result_code})"
