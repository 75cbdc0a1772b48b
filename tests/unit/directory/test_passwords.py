"""The Password Modify request (RFC 3062) and the password policy answer, byte by byte."""

from __future__ import annotations

import pytest

from gateway.directory import passwords


def test_password_modify_request_is_the_rfc_3062_extended_request() -> None:
    got = passwords.password_modify_request("uid=a,dc=x", "pw")
    value = b"\x30\x10" + b"\x80\x0auid=a,dc=x" + b"\x82\x02pw"
    oid = b"1.3.6.1.4.1.4203.1.11.1"
    assert got == b"\x77\x2d" + b"\x80\x17" + oid + b"\x81\x12" + value


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (b"\x30\x03\x81\x01\x06", 6),  # passwordTooShort
        (b"\x30\x08\xa0\x03\x80\x01\x05\x81\x01\x08", 8),  # a warning, then passwordInHistory
        (b"\x30\x00", None),
        (b"", None),
        (None, None),
    ],
)
def test_policy_error_is_read_from_the_response_control(value: bytes | None, error: int) -> None:
    assert passwords.policy_error(value) == error


QUALITY = "Password fails quality checking policy"  # slapd's diagnostic message


@pytest.mark.parametrize(
    ("value", "message", "reason"),
    [
        (b"\x30\x03\x81\x01\x06", QUALITY, "password is too short"),
        (None, QUALITY, "the directory says: Password fails"),
        (b"\x04\x00", "", "the directory refused it"),  # not a sequence: no crash
        (b"\x30\x05\x81", "", "the directory refused it"),  # truncated
    ],
)
def test_refusal_reason_never_fails(value: bytes | None, message: str, reason: str) -> None:
    assert reason in passwords.refusal_reason(value, message)
