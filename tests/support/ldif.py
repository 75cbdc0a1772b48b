"""A small LDIF change-record reader (RFC 2849) and applier, to compare explain with slapd."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field


@dataclass
class Record:
    dn: str
    kind: str
    attributes: dict[str, list[str]] = field(default_factory=dict)  # add
    modifications: list[tuple[str, str, list[str]]] = field(default_factory=list)  # modify
    fields: dict[str, str] = field(default_factory=dict)  # modrdn: newrdn, newsuperior


def _pair(line: str) -> tuple[str, str]:
    name, _, rest = line.partition(":")
    if rest.startswith(":"):
        return name, base64.b64decode(rest[1:].strip()).decode("utf-8")
    return name, rest[1:] if rest.startswith(" ") else rest


def parse(text: str) -> list[Record]:
    records: list[Record] = []
    for block in text.strip().split("\n\n"):
        lines = [ln for ln in block.splitlines() if ln and not ln.startswith("#")]
        if not lines or lines[0].startswith("version:"):
            lines = lines[1:]
        if not lines:
            continue
        dn = _pair(lines[0])[1]
        kind = _pair(lines[1])[1]
        record = Record(dn, kind)
        rest = lines[2:]
        if kind == "add":
            for ln in rest:
                name, value = _pair(ln)
                record.attributes.setdefault(name.lower(), []).append(value)
        elif kind == "modify":
            op = None
            for ln in rest:
                if ln == "-":
                    op = None
                    continue
                name, value = _pair(ln)
                if op is None:
                    op = (name, value.lower(), [])
                    record.modifications.append(op)
                else:
                    op[2].append(value)
        else:
            record.fields = {k: v for k, v in map(_pair, rest)}
        records.append(record)
    return records


def apply(entry: dict[str, list[str]], records: list[Record]) -> dict[str, list[str]]:
    """``entry`` (lower-cased names) after the modify/modrdn records (one entry only)."""
    out = {k: list(v) for k, v in entry.items()}
    for record in records:
        if record.kind == "modify":
            for op, attr, values in record.modifications:
                current = out.setdefault(attr, [])
                if op == "replace":
                    out[attr] = list(values)
                elif op == "add":
                    current += [v for v in values if v not in current]
                elif op == "delete":
                    out[attr] = [v for v in current if v not in values] if values else []
                if not out[attr]:
                    del out[attr]
        elif record.kind == "modrdn":
            attr, _, value = record.fields["newrdn"].partition("=")
            out[attr.lower()] = [value]
    return out
