"""Readiness: can this process serve SCIM requests right now? (the use case behind /readyz)

Two checks, in order: the mapping is loaded (it defines at least one resource type), and the
directory serves the gateway: a fresh bind with the gateway's own account, then a read of each
resource type's base entry, each step within a short timeout. The report goes to an
unauthenticated endpoint, so a failed check carries a fixed reason and a resource type name,
never a DN, a server message or a credential (those go to the log).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

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

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


class Readiness:
    def __init__(
        self, mapping: Mapping | None, directory: Directory, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.mapping = mapping
        self.directory = directory
        self.timeout = timeout

    def check(self) -> Report:
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
