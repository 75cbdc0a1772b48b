"""Setting a password the way the directory wants it set: the Password Modify extended
operation (RFC 3062), with the password policy request control.

Why not a ``userPassword`` write: a stock slapd stores a written value as it comes (cleartext),
and its ppolicy overlay cannot check the quality of a value it is handed already hashed. Through
the extended operation the directory receives the cleartext, applies its policy (length, quality,
history, who may change it), hashes it with its own scheme (``password-hash``) and maintains
``pwdChangedTime`` and ``pwdHistory``. When it refuses, the password policy response control
(draft-behera-ldap-password-policy §6.2) says why.

This module only encodes the request and decodes the policy's answer; it never logs, and the
bytes it builds (which hold the password) go nowhere but the socket.
"""

from __future__ import annotations

from gateway.directory import ber
from gateway.directory.messages import Control

PASSWORD_MODIFY_OID = "1.3.6.1.4.1.4203.1.11.1"  # noqa: S105 (an OID: RFC 3062)
PPOLICY_OID = "1.3.6.1.4.1.42.2.27.8.5.1"  # draft-behera-ldap-password-policy
EXTENDED_REQUEST = 0x77  # [APPLICATION 23]

# PasswordPolicyResponseValue.error (draft-behera §6.2), in words a SCIM client can act on
POLICY_ERRORS = {
    0: "the password has expired",
    1: "the account is locked",
    2: "the password must be changed after a reset",
    3: "password changes are not allowed for this account",
    4: "the old password must be supplied",
    5: "the password does not meet the quality the policy requires",
    6: "the password is too short",
    7: "the password was changed too recently to change it again",
    8: "the password was used before (password history)",
}


def password_modify_request(dn: str, new_password: str) -> bytes:
    """``ExtendedRequest`` for RFC 3062 §2: ``userIdentity`` [0] and ``newPasswd`` [2]."""
    value = ber.sequence(ber.octets(dn, 0x80), ber.octets(new_password, 0x82))
    return ber.sequence(
        ber.octets(PASSWORD_MODIFY_OID, 0x80), ber.octets(value, 0x81), tag=EXTENDED_REQUEST
    )


def policy_request_control() -> Control:
    """Asks the directory to say why a password was refused (no value, not critical)."""
    return Control(PPOLICY_OID, False)


def policy_error(value: bytes | None) -> int | None:
    """The ``error`` of a PasswordPolicyResponseValue, or None when it has none.

    ``SEQUENCE { warning [0] CHOICE {...} OPTIONAL, error [1] ENUMERATED OPTIONAL }``.
    Raises :class:`~gateway.directory.ber.BerError` on malformed input.
    """
    if not value:
        return None
    tag, start, end = ber.header(value, 0)
    if tag != ber.SEQUENCE:
        raise ber.BerError("password policy response: not a sequence")
    for child_tag, s, e in ber.children(value, start, end):
        if child_tag == 0x81:
            return ber.read_integer(value, s, e)
    return None


def refusal_reason(value: bytes | None, message: str) -> str:
    """What to tell the client: the policy's error in words, and the directory's message."""
    try:
        code = policy_error(value)
    except ber.BerError:
        code = None
    parts = [POLICY_ERRORS[code]] if code in POLICY_ERRORS else []
    text = message.strip()
    if text and text.lower() not in (p.lower() for p in parts):
        parts.append(f"the directory says: {text}")
    return "; ".join(parts) or "the directory refused it"
