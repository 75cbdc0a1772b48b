"""``scim-gateway mapping check``: mapping files validated alone, then against a directory.

Without a directory: the YAML is validated (every problem, with line). With one
(``--ldap-url`` or ``SCIM_GATEWAY_LDAP_URL``): its schema is read and compared
(gateway.mapping.check), and its data probed without changing anything: base DNs exist and
the bind DN can read them and the id attribute of entries there, allocation counters exist (or
can be created) and are in range, no entry already uses the numbers a counter will hand out;
the bind DN may modify entries, is not stopped by a size limit when paging, and the attributes
the gateway searches by are indexed (gateway.admin.capacity says how each is found out).
Exit status 1 if any error was found.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gateway.admin import capacity
from gateway.directory import dn as dnlib
from gateway.directory import ldapfilter as lf
from gateway.directory.operations import Directory
from gateway.directory.pool import ConnectionPool, ConnectionSettings
from gateway.directory.subschema import read_subschema
from gateway.errors import ConfigError, DirectoryError, GatewayError, InsufficientAccess
from gateway.mapping import placement
from gateway.mapping.check import ERROR, WARNING, Finding, check_directory, check_schema
from gateway.mapping.loader import load_mapping
from gateway.mapping.model import Allocation, Mapping, ResourceMapping

NOTE = "note"


@dataclass(frozen=True)
class DirectoryAccess:
    urls: tuple[str, ...]
    bind_dn: str
    password: str = field(repr=False)


def run(
    paths: Sequence[str],
    access: DirectoryAccess | None,
    *,
    say: Callable[[str], None] = print,
    complain: Callable[[str], None] = print,
) -> int:
    """Check every file; print findings; 0 if none has an error, else 1."""
    directory = _connect(access) if access else None
    status = 0
    try:
        for path in paths:
            try:
                mapping = load_mapping(path)
            except ConfigError as err:
                for problem in err.problems:
                    complain(f"{problem}")
                complain(f"{path}: {len(err.problems)} error(s)")
                status = 1
                continue
            findings: list[Finding] = []
            if directory is not None:
                try:
                    findings = check_against(mapping, directory)
                except GatewayError as err:
                    complain(f"{path}: cannot check against the directory: {err}")
                    status = 1
                    continue
            status |= _report(path, mapping, findings, access, say, complain)
    finally:
        if directory is not None:
            directory.pool.close_all()
    return status


def check_against(mapping: Mapping, directory: Directory) -> list[Finding]:
    """Schema findings plus what the directory's data says (bases, read access, counters)."""
    schema = read_subschema(directory)
    findings = check_schema(mapping, schema)
    findings += check_directory(mapping, schema, directory.supported_controls())
    for rm in mapping.resources.values():
        findings += _Probe(mapping, rm, directory).run()
    return findings


def _connect(access: DirectoryAccess) -> Directory:
    return Directory(
        ConnectionPool(ConnectionSettings(access.urls, access.bind_dn, access.password))
    )


def _report(
    path: str,
    mapping: Mapping,
    findings: list[Finding],
    access: DirectoryAccess | None,
    say: Callable[[str], None],
    complain: Callable[[str], None],
) -> int:
    order = {ERROR: 0, WARNING: 1, NOTE: 2}
    for f in sorted(findings, key=lambda f: (_line(f.where), order.get(f.level, 3))):
        (complain if f.level == ERROR else say)(str(f))
    errors = sum(f.level == ERROR for f in findings)
    warnings = sum(f.level == WARNING for f in findings)
    against = (
        f" against {access.urls[0]}"
        if access
        else " (YAML only; give --ldap-url to check the directory)"
    )
    names = ", ".join(mapping.resources)
    if errors:
        complain(f"{path}: {errors} error(s), {warnings} warning(s){against}")
        return 1
    say(f"{path}: OK ({names}){against}" + (f", {warnings} warning(s)" if warnings else ""))
    return 0


def _line(where: str) -> int:
    tail = where.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else 0


class _Probe:
    """Reads that tell whether the directory's data fits the mapping."""

    def __init__(self, mapping: Mapping, rm: ResourceMapping, directory: Directory) -> None:
        self.mapping, self.rm, self.directory = mapping, rm, directory
        self.findings: list[Finding] = []

    def add(self, level: str, path: str, message: str) -> None:
        full = f"{self.rm.name}.{path}"
        self.findings.append(Finding(level, self.mapping.where(full), full, message))

    def run(self) -> list[Finding]:
        if self._exists(self.rm.base_dn, "base_dn"):
            self._ids_readable()
            capacity.probe_write(self.rm, self.directory, self.add)
            capacity.probe_size_limit(self.rm, self.directory, self.add)
            indexes = capacity.index_config(self.directory, self.rm.base_dn)
            capacity.probe_indexes(self.rm, self.directory, self.add, indexes)
        if self.rm.disable is not None and self.rm.disable.disabled_base:
            self._exists(self.rm.disable.disabled_base, "disable.disabled_base_dn")
        for rule in self.rm.derived:
            if rule.allocate is not None:
                self._counter(rule.ldap, rule.allocate, f"{rule.source.split('.', 1)[1]}.allocate")
        return self.findings

    def _ids_readable(self) -> None:
        """An entry of this type, if there is one, must show the bind DN its id attribute."""
        where = placement.area(self.rm)
        flt = lf.conjunction(self.rm.filter)
        found = self.directory.search(
            where.base, where.scope, flt, [self.rm.id_attribute], size_limit=1
        )
        if found and not found[0].first(self.rm.id_attribute):
            self.add(
                ERROR,
                "id_attribute",
                f"the bind DN cannot read {self.rm.id_attribute} of {found[0].dn!r}; "
                "grant it read access to that attribute",
            )

    def _exists(self, dn: str, path: str) -> bool:
        try:
            found = self.directory.read(dn, ["1.1"])
        except InsufficientAccess:
            self.add(ERROR, path, f"the bind DN may not read {dn!r}; grant it read access there")
            return False
        if found is not None:
            return True
        self.add(ERROR, path, f"{dn!r} does not exist in the directory{self._near(dn)}")
        return False

    def _near(self, dn: str) -> str:
        """`` — did you mean 'ou=People,...'?`` from the entries next to a missing one."""
        try:
            parent = dnlib.parent(dn)
            siblings = [e.dn for e in self.directory.search(parent, "one", lf.MATCH_ALL, [])]
        except (DirectoryError, ValueError, IndexError):
            return ""
        by_rdn = {dnlib.split_rdn(s)[0].lower(): s for s in siblings}
        wanted = dnlib.split_rdn(dn)[0].lower()
        close = difflib.get_close_matches(wanted, list(by_rdn), n=1, cutoff=0.7)
        return f" — did you mean {by_rdn[close[0]]!r}?" if close else ""

    def _counter(self, attr: str, allocation: Allocation, path: str) -> None:
        entry = self.directory.read(allocation.counter, [attr])
        if entry is None:
            if self.directory.read(dnlib.parent(allocation.counter), ["1.1"]) is None:
                self.add(
                    ERROR,
                    f"{path}.counter",
                    f"neither the counter {allocation.counter!r} nor its parent exists: "
                    "create the parent, the gateway creates the counter at the first create",
                )
            else:
                self.add(NOTE, f"{path}.counter", "the counter is created at the first create")
            return
        raw = entry.first(attr)
        value = int(raw) if raw and raw.lstrip("-").isdigit() else None
        if value is None:
            self.add(NOTE, f"{path}.counter", f"the counter holds no {attr}; it starts at first")
            return
        if value > allocation.last:
            self.add(
                ERROR,
                f"{path}.last",
                f"the range is exhausted: the counter is at {value}; raise 'last'",
            )
        where = placement.area(self.rm)
        at_or_above = lf.GreaterOrEqual(attr, str(max(value, allocation.first)))
        used = [
            e
            for e in self.directory.search(
                where.base,
                where.scope,
                lf.conjunction(self.rm.filter, at_or_above),
                [attr],
                size_limit=5,
            )
            if placement.contains(self.rm, e.dn)
        ]
        if used:
            self.add(
                WARNING,
                f"{path}.counter",
                f"{used[0].dn!r} already has {attr} {used[0].first(attr)}, at or above the "
                f"next number the counter hands out ({max(value, allocation.first)}): "
                f"set the counter's {attr} above the highest number in use",
            )
