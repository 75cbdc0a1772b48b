"""LDAP write operations as LDIF change records (RFC 2849), for ``mapping explain``.

Values that LDIF cannot carry as plain text (leading space, colon or ``<``, trailing space,
line breaks, NUL, non-ASCII) are written base64-encoded (``attr:: …``), as RFC 2849 §2
requires, so the output can be fed to ``ldapmodify`` as is. Increments use the
``increment:`` form of RFC 4525 §3.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from gateway.directory.entry import Modification

_UNSAFE_START = frozenset(" :<")


@dataclass(frozen=True, slots=True)
class ChangeRecord:
    """One write: ``add`` (attributes), ``modify`` (modifications), ``modrdn`` or ``delete``."""

    kind: str
    dn: str
    attributes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    modifications: tuple[Modification, ...] = ()
    new_rdn: str | None = None
    new_superior: str | None = None
    comments: tuple[str, ...] = ()  # e.g. the assertion the write is conditional on

    @classmethod
    def add(cls, dn: str, attributes: Mapping[str, Sequence[str]]) -> ChangeRecord:
        items = tuple((name, tuple(values)) for name, values in attributes.items() if values)
        return cls("add", dn, attributes=items)


def line(name: str, value: str) -> str:
    """``name: value``, or ``name:: <base64>`` when the value is not a safe LDIF string."""
    if _safe(value):
        return f"{name}: {value}"
    return f"{name}:: {base64.b64encode(value.encode('utf-8')).decode('ascii')}"


def _safe(value: str) -> bool:
    if not value:
        return True
    if value[0] in _UNSAFE_START or value.endswith(" "):
        return False
    return all(32 <= ord(c) < 127 for c in value)


def render(records: Iterable[ChangeRecord], spelling: Mapping[str, str] | None = None) -> str:
    """The records as one LDIF text (version line first, a blank line between records).

    ``spelling`` maps lower-cased attribute names to how to show them (``givenname`` →
    ``givenName``); objectClass comes first in an add, as people write it.
    """
    names = {"objectclass": "objectClass", **(spelling or {})}

    def shown(name: str) -> str:
        return names.get(name.lower(), name)

    blocks = ["version: 1"]
    for record in records:
        out = [f"# {c}" for c in record.comments]
        out += [line("dn", record.dn), f"changetype: {record.kind}"]
        if record.kind == "add":
            ordered = sorted(record.attributes, key=lambda item: item[0].lower() != "objectclass")
            for name, values in ordered:
                out += [line(shown(name), v) for v in values]
        elif record.kind == "modify":
            for mod in record.modifications:
                out.append(f"{mod.op.value}: {shown(mod.attr)}")
                out += [line(shown(mod.attr), v) for v in mod.values]
                out.append("-")
        elif record.kind == "modrdn":
            out += [line("newrdn", record.new_rdn or ""), "deleteoldrdn: 1"]
            if record.new_superior is not None:
                out.append(line("newsuperior", record.new_superior))
        blocks.append("\n".join(out))
    return "\n\n".join(blocks) + "\n"
