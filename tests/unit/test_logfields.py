"""``log_fields``: the access and audit lines written straight to the gateway's handler are
byte for byte what ``logging`` writes, and any other logging configuration takes ``logging``."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.logconfig import (
    JsonFormatter,
    TextFormatter,
    configure_logging,
    direct_handler,
    log_fields,
    request_id,
)

SECRET = 'tok"en\\-0123456789-é'  # redacted in every form it takes in a line
PLAIN_SECRET = "bench-token-0123456789abcdef"
ACCESS = "%s %s %s %.1fms ldap_ops=%s request_id=%s"
AUDIT = "audit %s %s id=%s status=%s outcome=%s ldap=[%s]"

# Odd values, each put in a message argument and in a field.
VALUES: list[Any] = [
    "plain",
    "",
    'a "quoted" \\ value',
    "é ü 中文 🙂",
    "tab\there\nnew line\r",
    "del\x7f esc\x1b[31m",
    "c1\x85 and \x9f",
    "line\u2028separator \u2029",
    "lone \ud800 surrogate",
    PLAIN_SECRET,
    f"Bearer {SECRET}",
    0,
    -1.5,
    1e16,
    float("nan"),
    2**70,
    None,
    True,
    ["x", 1, None, {"k\n": "v\x7f"}],
    ("a", PLAIN_SECRET),
    {1: "int key", "k": {"deep": "é\u2028"}},
    {"a", "b"} - {"b"},
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
]


@pytest.fixture
def frozen_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """``time.time`` answers the list's first value: both paths' lines get the same time
    (``time_ns`` too: ``LogRecord`` reads it from Python 3.13 on)."""
    now = [1764743240.9994999]
    monkeypatch.setattr(time, "time", lambda: now[0])
    monkeypatch.setattr(time, "time_ns", lambda: round(now[0] * 1e9))
    yield now


def isolated(
    formatter: logging.Formatter | None = None, name: str = "gateway.access"
) -> tuple[logging.Logger, logging.StreamHandler[io.StringIO]]:
    """A logger outside the logging tree (no parent: pytest's capture handlers on the root
    are not reached) with one handler as ``configure_logging`` makes it."""
    logger = logging.Logger(name)
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(formatter or JsonFormatter([SECRET, PLAIN_SECRET]))
    logger.addHandler(handler)
    return logger, handler


def both(
    logger: logging.Logger,
    handler: logging.StreamHandler[io.StringIO],
    level: int,
    msg: str,
    args: tuple[Any, ...],
    fields: dict[Any, Any],
) -> tuple[str, str]:
    """What ``logging`` writes for the line, then what ``log_fields`` writes."""
    stream = handler.stream
    start = stream.tell()
    logger.log(level, msg, *args, extra={"fields": fields})
    middle = stream.tell()
    log_fields(logger, level, msg, args, fields)
    text = stream.getvalue()
    return text[start:middle], text[middle:]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
@pytest.mark.parametrize("rid", ["", "0123456789abcdef0123456789abcdef", "r\nid"])
def test_the_direct_line_is_the_logging_line(
    frozen_time: list[float], value: Any, rid: str
) -> None:
    logger, handler = isolated()
    assert direct_handler(logger, logging.INFO) is handler  # the direct path is taken
    fields = {"event": "request", "path": value, "status": 200, "query": {"filter": value}}
    token = request_id.set(rid)
    try:
        for level in (logging.INFO, logging.WARNING):
            for msg, args in (
                (ACCESS, ("GET", value, 200, 1.25, 1, rid)),
                (AUDIT, ("create", "User", value, 201, "success", f"add {value} -> 0")),
                ("no arguments %s", ()),
            ):
                via_logging, direct = both(logger, handler, level, msg, args, fields)
                assert direct == via_logging
                assert direct.endswith("\n") and direct.count("\n") == 1
                assert SECRET not in direct and PLAIN_SECRET not in direct
    finally:
        request_id.reset(token)


@pytest.mark.parametrize(
    "created", [0.0, 1.5, 1764743240.0, 1764743240.9995, 1764743240.9999995, 2.0**31]
)
def test_the_times_are_the_same(frozen_time: list[float], created: float) -> None:
    frozen_time[0] = created
    logger, handler = isolated()
    via_logging, direct = both(logger, handler, logging.INFO, "x", (), {"n": 1})
    assert direct == via_logging


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"level": "forged", "message": "forged", "time": 0, "n": 1},  # core keys are not fields
        {"request_id": "forged", "logger": "x", "n\n": "\x7f"},
        {("tuple", "key"): 1, 2: "two"},
    ],
)
def test_fields_naming_core_keys_or_odd_keys(frozen_time: list[float], fields: dict) -> None:
    logger, handler = isolated()
    token = request_id.set("rid")
    try:
        via_logging, direct = both(logger, handler, logging.INFO, "m %s", ("a",), fields)
    finally:
        request_id.reset(token)
    assert direct == via_logging


def test_a_lone_mapping_argument_is_formatted_as_logging_does(frozen_time: list[float]) -> None:
    logger, handler = isolated()
    via_logging, direct = both(logger, handler, logging.INFO, "%(a)s!", ({"a": "b"},), {})
    assert direct == via_logging and '"message":"b!"' in direct


def test_a_line_that_cannot_be_made_goes_to_handle_error(
    frozen_time: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    logger, handler = isolated()
    seen: list[logging.LogRecord] = []
    monkeypatch.setattr(handler, "handleError", seen.append)
    logger.log(logging.INFO, "%s and %s", "one", extra={"fields": {"n": 1}})  # too few args
    log_fields(logger, logging.INFO, "%s and %s", ("one",), {"n": 1})
    assert handler.stream.getvalue() == ""
    assert len(seen) == 2
    for record in seen:
        assert (record.name, record.levelno, record.msg, record.args) == (
            "gateway.access",
            logging.INFO,
            "%s and %s",
            ("one",),
        )
        assert record.fields == {"n": 1}  # type: ignore[attr-defined]
    assert seen[0].created == seen[1].created


class _Drop(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "drop" not in record.getMessage()


class _Stream(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler of another class: its emit may differ, so it is given records."""


def _logger_filter(logger: logging.Logger, handler: logging.Handler) -> None:
    logger.addFilter(_Drop())


def _handler_filter(logger: logging.Logger, handler: logging.Handler) -> None:
    handler.addFilter(_Drop())


def _second_handler(logger: logging.Logger, handler: logging.Handler) -> None:
    logger.addHandler(logging.StreamHandler(io.StringIO()))


def _handler_on_parent(logger: logging.Logger, handler: logging.Handler) -> None:
    parent = logging.Logger("gateway")
    parent.addHandler(logging.NullHandler())
    logger.parent = parent


def _handler_level(logger: logging.Logger, handler: logging.Handler) -> None:
    handler.setLevel(logging.WARNING)


def _text_format(logger: logging.Logger, handler: logging.Handler) -> None:
    handler.setFormatter(TextFormatter([SECRET]))


def _plain_formatter(logger: logging.Logger, handler: logging.Handler) -> None:
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))


def _disabled(logger: logging.Logger, handler: logging.Handler) -> None:
    logger.disabled = True


@pytest.mark.parametrize(
    "change",
    [
        _logger_filter,
        _handler_filter,
        _second_handler,
        _handler_on_parent,
        _handler_level,
        _text_format,
        _plain_formatter,
        _disabled,
    ],
)
def test_any_other_configuration_takes_the_logging_path(
    frozen_time: list[float], change: Any
) -> None:
    logger, handler = isolated()
    change(logger, handler)
    assert direct_handler(logger, logging.INFO) is None
    for msg in ("kept %s", "drop %s"):
        via_logging, direct = both(logger, handler, logging.INFO, msg, ("x",), {"n": 1})
        assert direct == via_logging


def test_another_handler_class_or_record_factory_takes_the_logging_path(
    frozen_time: list[float],
) -> None:
    logger = logging.Logger("gateway.access")
    handler = _Stream(io.StringIO())
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    assert direct_handler(logger, logging.INFO) is None

    logger, handler = isolated()
    factory = logging.getLogRecordFactory()

    def tagged(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        record.request_id = "from-the-factory"  # type: ignore[attr-defined]
        return record

    logging.setLogRecordFactory(tagged)
    try:
        assert direct_handler(logger, logging.INFO) is None
        via_logging, direct = both(logger, handler, logging.INFO, "m", (), {})
    finally:
        logging.setLogRecordFactory(factory)
    assert direct == via_logging and "from-the-factory" in direct


def test_a_level_that_drops_the_line_writes_nothing(frozen_time: list[float]) -> None:
    logger, handler = isolated()
    logger.setLevel(logging.WARNING)
    log_fields(logger, logging.INFO, "dropped", (), {})
    assert handler.stream.getvalue() == ""
    log_fields(logger, logging.WARNING, "kept", (), {})
    assert '"message":"kept"' in handler.stream.getvalue()


def test_a_propagating_logger_reaches_the_configured_root_handler_directly(
    frozen_time: list[float],
) -> None:
    """With ``configure_logging``'s handler alone on the root, the gateway's loggers write
    straight to it; a second root handler (here pytest's capture) sends lines through logging."""
    root = logging.getLogger()
    before = list(root.handlers), root.level
    try:
        handler = configure_logging("INFO", "json", [SECRET])
        assert isinstance(handler, logging.StreamHandler)
        access = logging.getLogger("gateway.access")
        assert direct_handler(access, logging.INFO) is None  # pytest's handlers are there too
        root.handlers[:] = [handler]
        stream = io.StringIO()
        old_stream = handler.setStream(stream)
        try:
            assert direct_handler(access, logging.INFO) is handler
            assert direct_handler(logging.getLogger("gateway.audit"), logging.INFO) is handler
            access.info("m %s", SECRET, extra={"fields": {"s": SECRET}})
            log_fields(access, logging.INFO, "m %s", (SECRET,), {"s": SECRET})
        finally:
            handler.setStream(old_stream)
        first, second, _ = stream.getvalue().split("\n")
        assert first == second and SECRET not in first
    finally:
        root.handlers[:] = before[0]
        root.setLevel(before[1])
