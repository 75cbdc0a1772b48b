"""Log lines: JSON with request id and fields, text for people, secrets replaced either way."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

import pytest

from gateway.logconfig import (
    REDACTED,
    JsonFormatter,
    TextFormatter,
    _printable_value,
    configure_logging,
    make_formatter,
    printable,
    request_id,
    utc_millis,
)

SECRET = 'pa"ss\\word-é-123'  # survives JSON escaping only if redacted in every form


def record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("gateway.access", logging.INFO, __file__, 1, msg, args, None)
    rec.__dict__.update(extra)
    return rec


def test_json_line_has_core_keys_request_id_and_fields() -> None:
    token = request_id.set("rid-1")
    try:
        line = JsonFormatter().format(record("GET %s", "/x", fields={"status": 200, "level": "x"}))
    finally:
        request_id.reset(token)
    doc = json.loads(line)
    assert doc["message"] == "GET /x" and doc["logger"] == "gateway.access"
    assert doc["level"] == "INFO" and doc["request_id"] == "rid-1" and doc["status"] == 200
    assert doc["time"].endswith("+00:00")
    assert "\n" not in line


def test_json_line_carries_the_traceback_in_one_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        rec = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = JsonFormatter().format(rec)
    assert "\n" not in line and "ValueError: boom" in json.loads(line)["exception"]


@pytest.mark.parametrize("formatter", [JsonFormatter, TextFormatter])
def test_configured_secrets_are_replaced_in_every_form(formatter) -> None:
    out = formatter([SECRET, "short"]).format(
        record("bind with %s", SECRET, fields={"detail": f"x{SECRET}x"})
    )
    assert SECRET not in out and json.dumps(SECRET)[1:-1] not in out
    assert REDACTED in out
    assert "short" not in formatter([SECRET, "short"])._secrets  # too short to redact safely


def test_text_line_names_the_request_once() -> None:
    token = request_id.set("rid-2")
    try:
        out = TextFormatter().format(record("audit create"))
        again = TextFormatter().format(record("GET / request_id=rid-2"))
    finally:
        request_id.reset(token)
    assert out.endswith("gateway.access: audit create request_id=rid-2")
    assert again.count("rid-2") == 1


def test_configure_logging_is_idempotent_and_pins_ldap3_and_audit() -> None:
    root = logging.getLogger()
    before = list(root.handlers), root.level
    try:
        first = configure_logging("WARNING", "text")
        second = configure_logging("ERROR", "json", ["secret-value-123"])
        assert first is second
        assert sum(getattr(h, "_scim_gateway", False) for h in root.handlers) == 1
        assert isinstance(second.formatter, JsonFormatter)
        assert logging.getLogger("ldap3").level == logging.WARNING
        assert logging.getLogger("gateway.audit").getEffectiveLevel() == logging.INFO
    finally:
        root.handlers[:] = before[0]
        root.setLevel(before[1])
    with pytest.raises(ValueError):
        make_formatter("xml")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_control_characters_in_messages_and_fields_are_escaped(fmt: str) -> None:
    forged = "/x\n2026-01-01 00:00:00,000 INFO gateway.audit: audit delete\r\x1b[31m\x85\u2028"
    rec = record("GET %s 401", forged, fields={"path": forged, "query": {"f\n": [forged]}})
    out = make_formatter(fmt).format(rec)
    for breaker in ("\n", "\r", "\x1b", "\x85", "\u2028"):
        assert breaker not in out
    escaped = "/x\\n2026-01-01 00:00:00,000 INFO gateway.audit: audit delete\\r\\x1b[31m\\x85"
    if fmt == "json":
        line = json.loads(out)
        assert line["path"].startswith(escaped) and escaped in line["message"]
        assert list(line["query"]) == ["f\\n"]
    else:
        assert escaped in out


def test_a_traceback_is_indented_so_no_line_of_it_passes_for_a_record() -> None:
    try:
        raise ValueError("bad\n2026-01-01 00:00:00,000 INFO gateway.audit: forged")
    except ValueError:
        rec = logging.LogRecord("gateway", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    lines = TextFormatter().format(rec).split("\n")
    assert lines[0].endswith("ERROR gateway: boom")
    assert len(lines) > 2 and all(line.startswith("    ") for line in lines[1:])


PLAIN_SECRET = "bench-token-0123456789abcdef"  # nothing to escape: the line's quick path


def test_a_plain_secret_is_replaced_on_the_quick_path_too() -> None:
    rec = record("Bearer %s", PLAIN_SECRET, fields={"auth": PLAIN_SECRET, "n": [PLAIN_SECRET]})
    out = JsonFormatter([PLAIN_SECRET]).format(rec)
    assert PLAIN_SECRET not in out
    assert json.loads(out)["auth"] == REDACTED and json.loads(out)["n"] == [REDACTED]


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        'a "quoted" \\ value',  # escapes in the output: the careful path
        "é ü 中文",
        "tab\there",
        "del\x7f",
        "c1\x85 and \x9f",  # raw in orjson's output, not ASCII: the careful path
        "line\u2028separator \u2029",
        "é then del\x7f",
        "é ü without controls",
        {"nested": ["x", 1, 2.5, None, True]},
        ("a", "b"),
        {1: "int key"},
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # str(), as json's default=str gives
        {"a", "b"} - {"b"},
        2**70,
        "lone \ud800 surrogate",
    ],
)
def test_a_json_line_reads_as_the_careful_encoding_of_its_fields(value: object) -> None:
    """Whichever path a line takes, it is the fields made printable, then json-encoded."""
    rec = record("GET %s", value, fields={"value": value, "status": 200})
    line = JsonFormatter().format(rec)
    expected = json.dumps(
        {"value": _printable_value(value), "status": 200},
        ensure_ascii=False,
        default=str,
        separators=(",", ":"),
    )
    assert line.endswith("," + expected[1:])
    assert json.loads(line)["message"] == printable(f"GET {value}")
    assert "\n" not in line and "\t" not in line


@pytest.mark.parametrize(
    "created",
    [0.0, 1.5, 1764743240.0, 1764743240.9994999, 1764743240.9995, 1764743240.9999995, 2.0**31],
)
def test_the_time_field_is_what_datetime_writes(created: float) -> None:
    expected = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
    assert utc_millis(created) == expected
    rec = record("x")
    rec.created = created
    assert json.loads(JsonFormatter().format(rec))["time"] == expected
