"""Logging for the process: one line per record, as JSON (production) or text (the dev command).

JSON lines carry ``time``, ``level``, ``logger``, ``message``, the ``request_id`` of the request
being served (if any) and the structured ``fields`` a caller passed with
``log.info(..., extra={"fields": {...}})`` (the access and audit lines do). Text lines are for
people: ``time LEVEL logger: message``.

Secrets never reach the output: nothing logs them on purpose, and as a safety net the
formatter replaces the configured secret values (bearer tokens, the LDAP bind password)
wherever they would appear. ldap3's own logger is held at WARNING whatever the level: its
DEBUG output can contain bind credentials. This module imports nothing of ours.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime

FORMATS = ("json", "text")
REDACTED = "[redacted]"
MIN_REDACTED_LENGTH = 8  # shorter values would blank out ordinary words; none of ours is shorter

AUDIT_LOGGER = "gateway.audit"
"""One line per SCIM change; written at INFO whatever the configured level."""

request_id: ContextVar[str] = ContextVar("request_id", default="")
"""The id of the request this thread is serving; set by the web layer, read by every log line."""

_CORE_KEYS = ("time", "level", "logger", "message", "request_id")


class _Redacting(logging.Formatter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.set_secrets(secrets)

    def set_secrets(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if secret and len(secret) >= MIN_REDACTED_LENGTH:
                forms.add(secret)
                forms.add(json.dumps(secret)[1:-1])  # as it appears inside a JSON string
                forms.add(json.dumps(secret, ensure_ascii=False)[1:-1])
        self._secrets = sorted(forms, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        text = self.render(record)
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def render(self, record: logging.LogRecord) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


class JsonFormatter(_Redacting):
    """One JSON object per line."""

    def render(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", "") or request_id.get()
        if rid:
            out["request_id"] = rid
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update((k, v) for k, v in fields.items() if k not in _CORE_KEYS)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exception"] = record.exc_text
        return json.dumps(out, ensure_ascii=False, default=str, separators=(",", ":"))


class TextFormatter(_Redacting):
    """``2025-01-01 12:00:00,000 INFO gateway.access: GET /scim/v2/Users 200 ...``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__(secrets)
        self._plain = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def render(self, record: logging.LogRecord) -> str:
        text = self._plain.format(record)
        rid = getattr(record, "request_id", "") or request_id.get()
        if rid and rid not in record.getMessage():
            first, sep, rest = text.partition("\n")
            text = f"{first} request_id={rid}{sep}{rest}"
        return text


def make_formatter(fmt: str, secrets: Iterable[str] = ()) -> logging.Formatter:
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {FORMATS}, not {fmt!r}")
    return JsonFormatter(secrets) if fmt == "json" else TextFormatter(secrets)


def configure_logging(
    level: str = "INFO", fmt: str = "json", secrets: Iterable[str] = ()
) -> logging.Handler:
    """Send every log record to stderr, one line each; safe to call again (it reconfigures)."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_scim_gateway", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler._scim_gateway = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    handler.setFormatter(make_formatter(fmt, secrets))
    root.setLevel(level)
    logging.getLogger(AUDIT_LOGGER).setLevel(logging.INFO)
    # ldap3 logs nothing useful at INFO, and its DEBUG can include bind credentials.
    logging.getLogger("ldap3").setLevel(logging.WARNING)
    return handler
