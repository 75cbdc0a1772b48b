"""The gateway's one exception tree.

Every failure the gateway knows about is one of these. ``web`` turns ``ScimError`` into a
SCIM Error response (RFC 7644 §3.12) in one handler; ``provisioning`` turns
``DirectoryError`` into ``ScimError`` through one table; ``ConfigError`` only happens at
start-up and never reaches HTTP. This module imports nothing of ours.
"""

from __future__ import annotations


class GatewayError(Exception):
    """Root of everything the gateway raises on purpose."""


# --------------------------------------------------------------------------- SCIM errors


class ScimError(GatewayError):
    """An error with a SCIM meaning: HTTP status, optional scimType, human detail.

    ``detail`` is always written by us: never an LDAP server message, a built filter or a
    DN the client did not send.
    """

    status: int = 400
    scim_type: str | None = None

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})


class InvalidFilter(ScimError):
    status, scim_type = 400, "invalidFilter"


class TooMany(ScimError):
    status, scim_type = 400, "tooMany"


class InvalidPath(ScimError):
    status, scim_type = 400, "invalidPath"


class NoTarget(ScimError):
    status, scim_type = 400, "noTarget"


class InvalidValue(ScimError):
    status, scim_type = 400, "invalidValue"


class InvalidSyntax(ScimError):
    status, scim_type = 400, "invalidSyntax"


class Mutability(ScimError):
    status, scim_type = 400, "mutability"


class Unauthorized(ScimError):
    status = 401


class NotFound(ScimError):
    status = 404


class MethodNotAllowed(ScimError):
    status = 405


class Uniqueness(ScimError):
    status, scim_type = 409, "uniqueness"


class PreconditionFailed(ScimError):
    status = 412


class PayloadTooLarge(ScimError):
    status = 413


class UnsupportedMediaType(ScimError):
    status = 415


class NotImplementedByGateway(ScimError):
    status = 501


class ServiceUnavailable(ScimError):
    """The directory cannot be reached; the client should retry later (Entra does)."""

    status = 503

    def __init__(self, detail: str, *, retry_after: int = 5) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class DeadlineExceeded(ServiceUnavailable):
    """A request ran past its deadline and stopped before writing anything (503).

    Checked between PATCH operations and once more right before the first LDAP write, so
    an expired request leaves the directory as it was and a retry starts afresh.
    """


class OutcomeUnknown(ScimError):
    """A change was sent to the directory but its answer never came: it may have been made.

    504, not 503: "retry later" would claim nothing happened. The client should read the
    resource before repeating the change; a repeated create of a name that now exists is a 409
    (``uniqueness``), which Entra resolves by matching the existing object.
    """

    status = 504

    def __init__(self, detail: str, *, retry_after: int = 5) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


# ---------------------------------------------------------------------- directory errors


class DirectoryError(GatewayError):
    """An LDAP operation failed. Raised only inside ``gateway.directory``.

    Carries the operation, the DN and the LDAP result code so that ``provisioning`` can
    decide what it means for the SCIM client; the server's message stays in ``message``
    for logs only.
    """

    def __init__(
        self, operation: str, dn: str | None, result_code: int | None, message: str = ""
    ) -> None:
        super().__init__(f"LDAP {operation} on {dn!r} failed: {result_code} {message}".strip())
        self.operation = operation
        self.dn = dn
        self.result_code = result_code
        self.message = message


class EntryExists(DirectoryError):
    """Result 68 entryAlreadyExists."""


class NoSuchEntry(DirectoryError):
    """Result 32 noSuchObject."""


class SizeLimit(DirectoryError):
    """Result 4 sizeLimitExceeded."""


class SchemaViolation(DirectoryError):
    """Results 16-21, 64-69 (except 68): the directory refused the shape of the data."""


class AssertionFailed(DirectoryError):
    """Result 122: an assertion control (If-Match) did not hold; nothing was changed."""


class InsufficientAccess(DirectoryError):
    """Results 48-50: the bind identity may not do this."""


class PasswordRefused(DirectoryError):
    """The directory would not set a password (Password Modify, RFC 3062): its policy refused
    it (length, quality, history) or the value; ``reason`` says why in words safe to show."""

    def __init__(self, dn: str | None, result_code: int | None, reason: str) -> None:
        super().__init__("passwd", dn, result_code, reason)
        self.reason = reason


class Referral(DirectoryError):
    """Result 10, or a search answered with continuation references: the entry, or part of
    the subtree searched, is held by another server. The gateway does not follow referrals
    (it would bind with its credentials wherever a server points), so the operation fails
    rather than answer with part of the data; ``referrals`` says where the server pointed."""

    def __init__(self, operation: str, dn: str | None, referrals: tuple[str, ...]) -> None:
        super().__init__(operation, dn, 10, f"referral to {', '.join(referrals) or '?'}")
        self.referrals = referrals


class UnreadableValue(DirectoryError):
    """The directory holds a DN or value that is not UTF-8 text where the gateway reads text.

    Refused rather than rewritten (a U+FFFD copy would overwrite the original at the next
    PUT); ``attribute`` names it, for the operator to fix the data or the mapping."""

    def __init__(self, dn: str | None, attribute: str) -> None:
        super().__init__("read", dn, None, f"{attribute} holds a value that is not UTF-8")
        self.attribute = attribute


class Unavailable(DirectoryError):
    """No directory answered: connect failure, timeout, busy (51), unavailable (52)."""


class WriteUnanswered(Unavailable):
    """A write was sent but no answer came (timeout, connection lost): its outcome is unknown."""


# ------------------------------------------------------------------------- config errors


class ConfigError(GatewayError):
    """Settings or mapping are invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[str], source: str = "configuration") -> None:
        self.problems = list(problems)
        self.source = source
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid {source}:\n{lines}")
