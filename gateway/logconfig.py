"""Logging for the process: one line per record, as JSON (production) or text (the dev command).

JSON lines carry ``time``, ``level``, ``logger``, ``message``, the ``request_id`` of the request
being served (if any) and the structured ``fields`` a caller passed with
``log.info(..., extra={"fields": {...}})`` (the access and audit lines do). Text lines are for
people: ``time LEVEL logger: message``.

Every line is one line whatever a client sent: control characters (CR, LF, ESC, C1, the
Unicode line and paragraph separators, ...) in a message or a field are written as escapes
(``\\n``, ``\\x1b``, ``\\u2028``), so a request path holding a newline cannot forge a second
line. A traceback is the only multi-line text: in the text format its lines are indented, so
none of them can pass for a line of its own.

Secrets never reach the output: nothing logs them on purpose, and as a safety net the
formatter replaces the configured secret values (bearer tokens, the LDAP bind password)
wherever they would appear. ldap3's own logger is held at WARNING whatever the level: its
DEBUG output can contain bind credentials. This module imports nothing of ours.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sys
import time
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

FORMATS = ("json", "text")
REDACTED = "[redacted]"
MIN_REDACTED_LENGTH = 8  # shorter values would blank out ordinary words; none of ours is shorter

AUDIT_LOGGER = "gateway.audit"
"""One line per SCIM change; written at INFO whatever the configured level."""

request_id: ContextVar[str] = ContextVar("request_id", default="")
"""The id of the request this thread is serving; set by the web layer, read by every log line."""

_CORE_KEYS = ("time", "level", "logger", "message", "request_id")
_CORE_KEY_SET = frozenset(_CORE_KEYS)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
TRACEBACK_INDENT = "    "
# What the careful path escapes that orjson writes as it is (it escapes the rest: a backslash)
_RAW_CONTROL = re.compile("[\x7f-\x9f\u2028\u2029]")
# Types json would give to ``default=str``, not encode itself: orjson does the same with these
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character written as an escape: one line, no terminal codes."""
    return _CONTROL.sub(_escape_char, text) if _CONTROL.search(text) else text


_second: tuple[int, str] = (-1, "")  # the last whole second seen and its text
_MILLIS = tuple(f".{ms:03d}+00:00" for ms in range(1000))  # the line's time, from the second


def utc_millis(created: float) -> str:
    """``datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")``, with the
    date and time of day written once per second, not once per line: the microseconds are
    rounded half to even as ``fromtimestamp`` does, then cut to milliseconds."""
    global _second
    fraction, whole = math.modf(created)
    micros = round(fraction * 1e6)
    if micros >= 1_000_000 or micros < 0:  # past the second, or before it (an old timestamp)
        return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
    second, text = _second
    if second != whole:
        text = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _second = (int(whole), text)
    return text + _MILLIS[micros // 1000]


def _printable_value(value: object) -> object:
    """A structured field with every string inside it made :func:`printable`."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable(str(k)): _printable_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_printable_value(v) for v in value]
    return value


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
        return self.redact(self.render(record))

    def redact(self, text: str) -> str:
        """``text`` with every configured secret, in each of its forms, replaced."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def render(self, record: logging.LogRecord) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


class JsonFormatter(_Redacting):
    """One JSON object per line.

    Most lines hold no character that needs escaping, so a line is first encoded as it came
    (orjson, ~10x the speed of the careful path: every log line of every request pays it);
    only if that output shows an escape (any backslash: control characters, quotes or
    backslashes in a value), a raw DEL, C1 or line separator, or orjson refuses a value, is
    the line made again the careful way: every string made :func:`printable`, then encoded by
    ``json``. Either way the line is the same, but for floats orjson writes in its own
    notation (``1e16`` for ``1e+16``, ``null`` for NaN).
    """

    def render(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", None)
        exception = None
        if record.exc_info:
            exception = self.formatException(record.exc_info)
        elif record.exc_text:
            exception = record.exc_text
        return self.render_parts(
            record.created,
            record.levelname,
            record.name,
            record.getMessage(),
            getattr(record, "request_id", "") or request_id.get(),
            fields if isinstance(fields, dict) else None,
            exception,
        )

    def render_parts(
        self,
        created: float,
        level: str,
        name: str,
        message: str,
        rid: object,
        fields: dict[Any, Any] | None,
        exception: str | None = None,
    ) -> str:
        """The line of a record made of these parts (what :meth:`render` reads off a record),
        without the secrets replaced: :func:`log_fields` writes a line with no record."""
        out: dict[str, object] = {
            "time": utc_millis(created),
            "level": level,
            "logger": name,
            "message": message,
        }
        if rid:
            out["request_id"] = str(rid)
        if fields:
            if _CORE_KEY_SET.isdisjoint(fields):  # the usual case: every field in its order
                out.update(fields)
            else:
                for key, value in fields.items():
                    if key not in _CORE_KEY_SET:
                        out[key] = value
        if exception is not None:  # a traceback: many lines, the careful path
            return self._careful(level, name, out, fields, exception)
        try:
            data = orjson.dumps(out, default=str, option=_ORJSON_OPTIONS)
        except (TypeError, orjson.JSONEncodeError):  # a str key's rival, a surrogate, a big int
            return self._careful(level, name, out, fields)
        # Looked for in the bytes: DEL is the one raw control an ASCII line can hold (orjson
        # escapes the C0 ones), and C1 and the separators are not ASCII; most lines are.
        if 0x5C in data or 0x7F in data:  # a byte's ``in``: ~7x quicker than ``b"\\" in``
            return self._careful(level, name, out, fields)
        text = data.decode()
        if not data.isascii() and _RAW_CONTROL.search(text):
            return self._careful(level, name, out, fields)
        return text

    def _careful(
        self,
        level: str,
        name: str,
        fast: dict[str, object],
        fields: dict[Any, Any] | None,
        exception: str | None = None,
    ) -> str:
        """The line with every string made printable, encoded by ``json``."""
        out: dict[str, object] = {
            "time": fast["time"],
            "level": level,
            "logger": name,
            "message": printable(str(fast["message"])),
        }
        if "request_id" in fast:
            out["request_id"] = printable(str(fast["request_id"]))
        if fields:
            out.update(
                (printable(str(k)), _printable_value(v))
                for k, v in fields.items()
                if k not in _CORE_KEY_SET
            )
        if exception is not None:
            out["exception"] = exception
        return json.dumps(out, ensure_ascii=False, default=str, separators=(",", ":"))


class TextFormatter(_Redacting):
    """``2025-01-01 12:00:00,000 INFO gateway.access: GET /scim/v2/Users 200 ...``."""

    def render(self, record: logging.LogRecord) -> str:
        message = printable(record.getMessage())
        line = f"{self.formatTime(record)} {record.levelname} {printable(record.name)}: {message}"
        rid = printable(str(getattr(record, "request_id", "") or request_id.get()))
        if rid and rid not in message:
            line = f"{line} request_id={rid}"
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        details = [record.exc_text] if record.exc_text else []
        if record.stack_info:
            details.append(self.formatStack(record.stack_info))
        for text in details:  # tracebacks: indented, so no line of theirs starts like a record
            line += "".join(
                f"\n{TRACEBACK_INDENT}{printable(part)}" for part in text.splitlines() or [""]
            )
        return line


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
    # Neither format shows where a line was logged from, nor the thread or the process:
    # without these every record skips a walk of the stack and three look-ups.
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logMultiprocessing = False
    logging.logProcesses = False
    logging.getLogger(AUDIT_LOGGER).setLevel(logging.INFO)
    # ldap3 logs nothing useful at INFO, and its DEBUG can include bind credentials.
    logging.getLogger("ldap3").setLevel(logging.WARNING)
    return handler


# Where a LogRecord's ``created`` comes from: ``time.time()``, from Python 3.13 ``time_ns()``.
_NS_CLOCK = sys.version_info >= (3, 13)


def direct_handler(logger: logging.Logger, level: int) -> logging.StreamHandler[Any] | None:
    """The handler a record of ``logger`` at ``level`` would reach, if writing the line
    straight to it gives the same bytes as ``logging`` would; else None.

    That is so when the record would meet no filter and exactly one handler, a plain
    ``StreamHandler`` formatting with a plain :class:`JsonFormatter` (what
    :func:`configure_logging` installs), and records are plain ``LogRecord`` objects from a
    plain ``Logger``. Anything else (a filter, a second handler such as pytest's capture, a
    handler level that drops the line, the text format, a record factory) is answered None,
    and the line goes through ``logging``. Checked on every line, not cached: a
    reconfiguration takes effect with the next line, as with ``logging`` itself.
    """
    if (
        type(logger) is not logging.Logger
        or logger.filters
        or logger.disabled
        or logging.getLogRecordFactory() is not logging.LogRecord
    ):
        return None
    found = None
    current: logging.Logger | None = logger
    while current is not None:  # the walk of Logger.callHandlers
        for handler in current.handlers:
            if found is not None:
                return None
            found = handler
        current = current.parent if current.propagate else None
    if (
        type(found) is not logging.StreamHandler
        or found.filters
        or found.level > level
        or type(found.formatter) is not JsonFormatter
    ):
        return None
    return found


Line = tuple[logging.Logger, int, str, tuple[Any, ...], dict[str, Any]]
"""A line for :func:`log_fields_together`: the arguments of :func:`log_fields`."""


def log_fields(
    logger: logging.Logger, level: int, msg: str, args: tuple[Any, ...], fields: dict[str, Any]
) -> None:
    """``logger.log(level, msg, *args, extra={"fields": fields})``, in a fifth of the time.

    A request's access line (and a write's audit line) would otherwise pay for ``logging``'s
    record, its hand-over from logger to handler and the handler's two lock rounds (~25 µs
    of ~37 per line, timeit). When :func:`direct_handler` finds the gateway's own handler
    alone, the line is rendered from the same parts a record would hold (its time read from
    the clock as ``LogRecord`` does, its level's name, the logger's name, ``msg %
    args``, the request id of this context), with the same secrets replaced, and written to
    the handler's stream with its terminator and flushed, under the handler's lock, as
    ``StreamHandler.emit`` does; an error there goes to the handler's ``handleError`` with
    the record ``logging`` would have made. Any other configuration takes ``logging``'s path
    itself. tests/unit/test_logfields.py holds both paths to the same bytes.
    """
    if not logger.isEnabledFor(level):
        return
    handler = direct_handler(logger, level)
    if handler is None or (len(args) == 1 and isinstance(args[0], Mapping)):
        # a lone mapping argument is LogRecord's ``%(name)s`` form: left to logging
        logger.log(level, msg, *args, extra={"fields": fields}, stacklevel=2)
        return
    rendered = _render_direct(handler, (logger, level, msg, args, fields), request_id.get())
    if rendered is not None:
        _write_direct(handler, [rendered])


def log_fields_together(*lines: Line) -> None:
    """Each line as :func:`log_fields` writes it, in the order given; a run of lines that go
    straight to the same handler is written in one ``write`` and one ``flush`` under one lock
    round, instead of one each.

    A SCIM write logs two lines back to back (its access line, then its audit line): with
    both direct, that is one system call (the flush) and one lock round fewer, and each
    line's handler check done once. The bytes are the same: each line is rendered as
    :func:`log_fields` renders it (its own time read from the clock just before, the
    request id of this context), the texts joined with the handler's terminator after each,
    which is what two writes put on the stream. A line that cannot be rendered goes to
    ``handleError`` and the others are still written, as with separate calls. A write or
    flush that fails goes to ``handleError`` once for each line it held, with each line's
    record: what two failing writes would report (a stream that fails only for the second
    of two writes is the one case told apart: the first line's text was not written alone).
    A line any other configuration would handle is written by ``logging`` in its turn, after
    the lines before it. tests/unit/test_logfields.py holds this to separate
    :func:`log_fields` calls.
    """
    rid = request_id.get()
    target: logging.StreamHandler[Any] | None = None
    pending: list[tuple[str, Line, float]] = []
    for line in lines:
        logger, level, msg, args, fields = line
        if not logger.isEnabledFor(level):
            continue
        handler = direct_handler(logger, level)
        if handler is None or (len(args) == 1 and isinstance(args[0], Mapping)):
            if pending:
                _write_direct(target, pending)  # type: ignore[arg-type]
                pending = []
            logger.log(level, msg, *args, extra={"fields": fields}, stacklevel=2)
            continue
        if handler is not target:
            if pending:
                _write_direct(target, pending)  # type: ignore[arg-type]
                pending = []
            target = handler
        rendered = _render_direct(handler, line, rid)
        if rendered is not None:
            pending.append(rendered)
    if pending:
        _write_direct(target, pending)  # type: ignore[arg-type]


def _render_direct(
    handler: logging.StreamHandler[Any], line: Line, rid: str
) -> tuple[str, Line, float] | None:
    """The line's text as the handler's formatter writes it (secrets replaced), with the line
    and its time; None when it cannot be made (reported to ``handleError`` as ``logging``
    reports it)."""
    logger, level, msg, args, fields = line
    created = time.time_ns() / 1e9 if _NS_CLOCK else time.time()
    formatter: JsonFormatter = handler.formatter  # type: ignore[assignment]  # checked
    try:
        text = formatter.redact(
            formatter.render_parts(
                created,
                logging.getLevelName(level),
                logger.name,
                msg % args if args else str(msg),
                rid,
                fields,
            )
        )
    except RecursionError:  # as StreamHandler.emit
        raise
    except Exception:
        handler.handleError(_record(line, created))
        return None
    return text, line, created


def _write_direct(
    handler: logging.StreamHandler[Any], rendered: list[tuple[str, Line, float]]
) -> None:
    """Write and flush the rendered lines under the handler's lock, as ``StreamHandler.emit``
    does for one; a failure is reported to ``handleError`` once per line."""
    terminator = handler.terminator
    if len(rendered) == 1:
        text = rendered[0][0] + terminator
    else:
        text = "".join([part for item in rendered for part in (item[0], terminator)])
    try:
        handler.acquire()
        try:
            stream = handler.stream
            stream.write(text)
            if stream and hasattr(stream, "flush"):  # StreamHandler.flush's test
                stream.flush()
        finally:
            handler.release()
    except RecursionError:  # as StreamHandler.emit
        raise
    except Exception:
        for _, line, created in rendered:
            handler.handleError(_record(line, created))


def _record(line: Line, created: float) -> logging.LogRecord:
    """The record ``logging`` would have made of the line, for ``handleError``."""
    logger, level, msg, args, fields = line
    record = logger.makeRecord(
        logger.name, level, "(unknown file)", 0, msg, args, None, extra={"fields": fields}
    )
    record.created = created
    return record
