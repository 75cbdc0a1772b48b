"""A Directory that records writes as LDIF change records instead of sending them.

``mapping explain`` runs the gateway's real provisioning code against it, so what it prints
cannot drift from what the gateway does. Reads go to the real directory when there is one
(``real``), else find nothing. Writes are recorded and answered the way the directory would:

- an add returns the entry with a made-up ``entryUUID``;
- a modify or rename sent with an assertion (RFC 4528) is checked against the current entry
  (real values, plus what earlier recorded writes changed) and refused with
  AssertionFailed when it would not hold — so the gateway's fallbacks (a counter out of
  range) take the path they would take for real;
- an increment (RFC 4525) answers its post-read with the incremented value; a counter entry
  that does not exist is NoSuchEntry, as on the directory.

Refused writes are not in the output: the directory would not have applied them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from gateway.directory import dn as dnlib
from gateway.directory import ldapfilter as lf
from gateway.directory.entry import Entry, Modification, ModOp
from gateway.directory.ldif import ChangeRecord
from gateway.directory.operations import Deref, Directory
from gateway.errors import AssertionFailed, NoSuchEntry

FAKE_UUID = "00000000-0000-4000-8000-{:012d}"


class RecordingDirectory(Directory):
    """Writes are recorded in :attr:`records`; reads go to ``real`` (or find nothing)."""

    def __init__(self, real: Directory | None = None) -> None:
        self.real = real
        self.pool = real.pool if real is not None else None  # type: ignore[assignment]
        self._controls = None
        self.records: list[ChangeRecord] = []
        self._changed: dict[str, dict[str, tuple[str, ...]]] = {}  # normalized DN → values
        self._created: set[str] = set()
        self._uuids = itertools.count(1)

    # ------------------------------------------------------------------ reads

    def search(
        self,
        base: str,
        scope: str,
        flt: lf.LdapFilter,
        attributes: Sequence[str],
        *,
        size_limit: int = 0,
        deref: Deref = (),
    ) -> list[Entry]:
        if self.real is None:
            return []
        return self.real.search(base, scope, flt, attributes, size_limit=size_limit, deref=deref)

    def search_paged(
        self, base: str, scope: str, flt: lf.LdapFilter, attributes: Sequence[str], **kw: Any
    ) -> Iterator[Entry]:
        if self.real is None:
            return iter(())
        return self.real.search_paged(base, scope, flt, attributes, **kw)

    def supported_controls(self) -> frozenset[str]:
        return self.real.supported_controls() if self.real is not None else frozenset()

    def read(self, dn: str, attributes: Sequence[str]) -> Entry | None:
        key = dnlib.normalize(dn)
        found = self.real.read(dn, attributes) if self.real is not None else None
        if found is None and key not in self._created:
            return None
        values = dict(found.attributes) if found is not None else {}
        values.update(self._changed.get(key, {}))
        return Entry(found.dn if found is not None else dn, values)

    def ping(self, bases: Sequence[str] = (), timeout: float = 2.0) -> None:
        if self.real is not None:
            self.real.ping(bases, timeout)

    # ------------------------------------------------------------------ writes

    def add(
        self, dn: str, attributes: Mapping[str, Sequence[str]], *, read_back: Sequence[str] = ()
    ) -> Entry:
        self.records.append(ChangeRecord.add(dn, attributes))
        key = dnlib.normalize(dn)
        self._created.add(key)
        values = {k.lower(): tuple(v) for k, v in attributes.items() if v}
        self._changed[key] = dict(values)
        values["entryuuid"] = (FAKE_UUID.format(next(self._uuids)),)
        return Entry(dn, values)

    def modify(
        self,
        dn: str,
        changes: Sequence[Modification],
        *,
        read_back: Sequence[str] = (),
        assertion: lf.LdapFilter | None = None,
        permissive: bool = True,
    ) -> Entry | None:
        if not changes:
            return None
        increments = [m for m in changes if m.op is ModOp.INCREMENT]
        current = self._current(dn, [*_attrs_of(assertion), *(m.attr for m in increments)])
        if increments and current is None:
            raise NoSuchEntry("modify", dn, 32, "recorded: no such entry")
        if assertion is not None and current is not None and not holds(assertion, current):
            raise AssertionFailed("modify", dn, 122, "recorded: the assertion would fail")
        self.records.append(
            ChangeRecord("modify", dn, modifications=tuple(changes), comments=_about(assertion))
        )
        changed = self._changed.setdefault(dnlib.normalize(dn), {})
        for mod in changes:
            name = mod.attr.lower()
            if mod.op is ModOp.REPLACE:
                changed[name] = mod.values
            elif mod.op is ModOp.INCREMENT and current is not None:
                old = current.first(mod.attr) or "0"
                changed[name] = (str(int(old) + int(mod.values[0])),)
        if not read_back:
            return None
        return Entry(dn, {a.lower(): changed[a.lower()] for a in read_back if a.lower() in changed})

    def rename(
        self,
        dn: str,
        new_rdn: str,
        *,
        new_superior: str | None = None,
        assertion: lf.LdapFilter | None = None,
    ) -> str:
        self.records.append(
            ChangeRecord(
                "modrdn", dn, new_rdn=new_rdn, new_superior=new_superior, comments=_about(assertion)
            )
        )
        parent = new_superior if new_superior is not None else dnlib.parent(dn)
        return f"{new_rdn},{parent}" if parent else new_rdn

    def delete(self, dn: str, *, assertion: lf.LdapFilter | None = None) -> None:
        self.records.append(ChangeRecord("delete", dn, comments=_about(assertion)))

    def set_password(self, dn: str, password: str) -> None:
        """Recorded as a comment: an extended operation has no LDIF form, the value stays out."""
        note = "password set with the Password Modify extended operation (RFC 3062), not shown"
        self.records.append(ChangeRecord("modify", dn, comments=(note,)))

    def _current(self, dn: str, attributes: Sequence[str]) -> Entry | None:
        """The entry as the directory would see it now (None: it does not exist)."""
        if self.real is None and dnlib.normalize(dn) not in self._created:
            return Entry(dn, {}) if not attributes else None
        return self.read(dn, list(dict.fromkeys(attributes)) or ["1.1"])


def holds(flt: lf.LdapFilter, entry: Entry) -> bool:
    """Evaluate an assertion on an entry: case-insensitive values, numbers compared as such."""
    match flt:
        case lf.And(items):
            return all(holds(i, entry) for i in items)
        case lf.Or(items):
            return any(holds(i, entry) for i in items)
        case lf.Not(inner):
            return not holds(inner, entry)
        case lf.Present(attr):
            return bool(entry.get(attr)) or attr.lower() == "objectclass"
        case lf.Equal(attr, value):
            return any(_key(v) == _key(value) for v in entry.get(attr))
        case lf.GreaterOrEqual(attr, value):
            return any(_key(v) >= _key(value) for v in entry.get(attr))
        case lf.LessOrEqual(attr, value):
            return any(_key(v) <= _key(value) for v in entry.get(attr))
        case lf.Nothing():
            return False
    return True  # substrings, raw filters: not evaluated here


def _key(value: str) -> Any:
    text = value.strip()
    if text.lstrip("-").isdigit():
        return (0, int(text), "")
    return (1, 0, dnlib.normalize(text) if "=" in text else text.lower())


def _attrs_of(flt: lf.LdapFilter | None) -> list[str]:
    match flt:
        case lf.And(items) | lf.Or(items):
            return [a for i in items for a in _attrs_of(i)]
        case lf.Not(inner):
            return _attrs_of(inner)
        case lf.Equal(attr, _) | lf.GreaterOrEqual(attr, _) | lf.LessOrEqual(attr, _):
            return [attr]
        case lf.Present(attr):
            return [attr]
    return []


def _about(assertion: lf.LdapFilter | None) -> tuple[str, ...]:
    if assertion is None:
        return ()
    return (f"only if {lf.render(assertion)} (assertion control, RFC 4528)",)
