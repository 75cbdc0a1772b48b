"""``log_fields_together``: a write's access and audit lines in one write and one flush, byte
for byte what separate ``log_fields`` calls write, in the same order, with the same errors."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.logconfig import JsonFormatter, Line, log_fields, log_fields_together, request_id
from tests.unit.test_logfields import ACCESS, AUDIT, PLAIN_SECRET, SECRET, VALUES


class _Counting(io.StringIO):
    """A stream that counts the writes and flushes it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.flushes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)

    def flush(self) -> None:
        self.flushes += 1


@pytest.fixture
def frozen_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """``time.time`` (and ``time_ns``) answer the list's first value, then the next ones."""
    now = [1764743240.9994999]
    monkeypatch.setattr(time, "time", lambda: now[0])
    monkeypatch.setattr(time, "time_ns", lambda: round(now[0] * 1e9))
    yield now


def tree() -> tuple[logging.Logger, logging.Logger, logging.StreamHandler[_Counting]]:
    """``gateway.access`` and ``gateway.audit`` under a ``gateway`` logger outside the logging
    tree holding the one handler, as ``configure_logging`` puts it on the root."""
    parent = logging.Logger("gateway")
    handler = logging.StreamHandler(_Counting())
    handler.setFormatter(JsonFormatter([SECRET, PLAIN_SECRET]))
    parent.addHandler(handler)
    access, audit = logging.Logger("gateway.access"), logging.Logger("gateway.audit")
    access.parent = audit.parent = parent
    return access, audit, handler


def lines(access: logging.Logger, audit: logging.Logger, value: Any, level: int) -> list[Line]:
    fields = {"event": "request", "path": value, "status": 204, "query": {"filter": value}}
    return [
        (access, logging.INFO, ACCESS, ("PATCH", value, 204, 1.25, 3, "rid"), fields),
        (
            audit,
            level,
            AUDIT,
            ("patch", "Group", value, 204, "success", f"modify {value} -> 0"),
            {
                "event": "audit",
                "dns": [value],
                "ldap_operations": [{"op": "modify", "dn": value, "result": 0}],
            },
        ),
    ]


def separately(handler: logging.StreamHandler[_Counting], given: list[Line]) -> str:
    stream = handler.stream
    start = stream.tell()
    for line in given:
        log_fields(*line)
    return stream.getvalue()[start:]


def together(handler: logging.StreamHandler[_Counting], given: list[Line]) -> str:
    stream = handler.stream
    start = stream.tell()
    log_fields_together(*given)
    return stream.getvalue()[start:]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
@pytest.mark.parametrize("level", [logging.INFO, logging.WARNING])
def test_two_lines_together_are_the_two_lines_written_apart(
    frozen_time: list[float], value: Any, level: int
) -> None:
    access, audit, handler = tree()
    given = lines(access, audit, value, level)
    token = request_id.set("0123456789abcdef")
    try:
        apart = separately(handler, given)
        stream = handler.stream
        writes, flushes = stream.writes, stream.flushes
        joined = together(handler, given)
    finally:
        request_id.reset(token)
    assert joined == apart
    assert joined.count("\n") == 2 and SECRET not in joined and PLAIN_SECRET not in joined
    assert (stream.writes - writes, stream.flushes - flushes) == (1, 1)  # apart: 2 and 2


def test_each_line_keeps_its_own_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each line reads the clock just before it is made, as a separate call does."""
    access, audit, handler = tree()
    clock = iter([1764743240.0004, 1764743241.9996])
    monkeypatch.setattr(time, "time", lambda: next(clock))
    monkeypatch.setattr(time, "time_ns", lambda: round(next(clock) * 1e9))
    first, second, _ = together(handler, lines(access, audit, "x", logging.INFO)).split("\n")
    assert '"time":"2025-12-03T06:27:20.000+00:00"' in first
    assert '"time":"2025-12-03T06:27:21.999+00:00"' in second


def test_a_line_logging_handles_is_written_in_its_turn(frozen_time: list[float]) -> None:
    """A filter on the audit logger: that line goes through logging, after the access line."""
    access, audit, handler = tree()

    class _Mark(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            record.msg = "marked " + record.msg
            return True

    audit.addFilter(_Mark())
    given = [*lines(access, audit, "x", logging.INFO), lines(access, audit, "y", logging.INFO)[0]]
    apart = separately(handler, given)
    joined = together(handler, given)
    assert joined == apart
    assert [line.split('"message":"')[1][:6] for line in joined.splitlines()] == [
        "PATCH ",
        "marked",
        "PATCH ",
    ]


def test_lines_to_different_handlers_each_reach_their_own(frozen_time: list[float]) -> None:
    access, audit, handler = tree()
    other = logging.StreamHandler(_Counting())
    other.setFormatter(JsonFormatter())
    audit.propagate = False
    audit.addHandler(other)
    given = lines(access, audit, "x", logging.INFO)
    log_fields_together(*given)
    first, second = handler.stream.getvalue(), other.stream.getvalue()
    apart_first, apart_second = separately(handler, given[:1]), ""
    log_fields(*given[1])
    apart_second = other.stream.getvalue()[len(second) :]
    assert (first, second) == (apart_first, apart_second)


def test_a_dropped_line_is_skipped_and_the_other_written(frozen_time: list[float]) -> None:
    access, audit, handler = tree()
    access.setLevel(logging.WARNING)  # LOG_LEVEL=WARNING: no access line, the audit line kept
    given = lines(access, audit, "x", logging.INFO)
    audit.setLevel(logging.INFO)
    assert together(handler, given) == separately(handler, given)
    assert handler.stream.getvalue().count('"event":"audit"') == 2
    assert '"event":"request"' not in handler.stream.getvalue()


def test_a_lone_mapping_argument_is_left_to_logging(frozen_time: list[float]) -> None:
    access, audit, handler = tree()
    given: list[Line] = [
        (access, logging.INFO, "%(a)s!", ({"a": "b"},), {}),
        *lines(access, audit, "x", logging.INFO),
    ]
    assert together(handler, given) == separately(handler, given)
    assert '"message":"b!"' in handler.stream.getvalue()


def test_a_line_that_cannot_be_made_goes_to_handle_error_and_the_other_is_written(
    frozen_time: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    access, audit, handler = tree()
    seen: list[logging.LogRecord] = []
    monkeypatch.setattr(handler, "handleError", seen.append)
    broken: Line = (access, logging.INFO, "%s and %s", ("one",), {"n": 1})  # too few args
    given = [broken, lines(access, audit, "x", logging.INFO)[1]]
    apart = separately(handler, given)
    joined = together(handler, given)
    assert joined == apart and joined.count("\n") == 1 and '"event":"audit"' in joined
    assert len(seen) == 2
    assert [(r.name, r.msg, r.args, r.fields) for r in seen] == [  # type: ignore[attr-defined]
        ("gateway.access", "%s and %s", ("one",), {"n": 1})
    ] * 2


def test_a_failing_stream_reports_each_line_it_held(
    frozen_time: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    access, audit, handler = tree()

    class _Broken(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError("broken pipe")

    handler.setStream(_Broken())  # type: ignore[arg-type]
    seen: list[logging.LogRecord] = []
    monkeypatch.setattr(handler, "handleError", seen.append)
    given = lines(access, audit, "x", logging.INFO)
    for line in given:
        log_fields(*line)
    log_fields_together(*given)
    assert len(seen) == 4
    apart, joined = seen[:2], seen[2:]
    for one, other in zip(apart, joined, strict=True):
        assert (one.name, one.levelno, one.msg, one.args, one.created) == (
            other.name,
            other.levelno,
            other.msg,
            other.args,
            other.created,
        )
        assert one.fields == other.fields  # type: ignore[attr-defined]
    assert [r.name for r in joined] == ["gateway.access", "gateway.audit"]
