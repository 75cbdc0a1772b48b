"""The gateway's one exception tree.

Every failure the gateway knows about is one of these. ``web`` turns ``ScimError`` into a
SCIM Error response (RFC 7644 §3.12) in one handler; ``provisioning`` turns
``DirectoryError`` into ``ScimError`` through one table; ``ConfigError`` only happens at
start-up and never reaches HTTP. This module imports nothing of ours.

Each ``ScimError`` class is one row of RFC 7644 §3.12 (its status and ``scimType``), or an
HTTP status that table leaves to HTTP itself (RFC 9110), and says so. Each
``DirectoryError`` class names the LDAP result codes (RFC 4511 Appendix A) that
``gateway.directory.operations`` turns into it, so code above the directory catches a class,
never a number. A class nothing raises is deleted, not kept "for later".
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
    """RFC 7644 §3.12: 400 ``invalidFilter``: the filter's syntax is invalid, or the attribute
    and comparison are not supported (here: an attribute the mapping does not map)."""

    status, scim_type = 400, "invalidFilter"


class TooMany(ScimError):
    """RFC 7644 §3.12: 400 ``tooMany``: more than the service provider will process. The RFC's
    case is a filter yielding too many results (here: the directory's size limit was hit); the
    gateway uses it too for a request holding more operations or values than it accepts."""

    status, scim_type = 400, "tooMany"


class InvalidPath(ScimError):
    """RFC 7644 §3.12: 400 ``invalidPath``: a PATCH ``path`` is invalid or malformed."""

    status, scim_type = 400, "invalidPath"


class NoTarget(ScimError):
    """RFC 7644 §3.12: 400 ``noTarget``: a PATCH ``path`` yields no attribute or value to
    operate on (e.g. its value filter matches nothing)."""

    status, scim_type = 400, "noTarget"


class InvalidValue(ScimError):
    """RFC 7644 §3.12: 400 ``invalidValue``: a required value is missing, or a value does not
    fit the attribute's type or the schema (here also: a value the directory refused)."""

    status, scim_type = 400, "invalidValue"


class InvalidSyntax(ScimError):
    """RFC 7644 §3.12: 400 ``invalidSyntax``: the request body's structure is invalid or does
    not conform to the request schema."""

    status, scim_type = 400, "invalidSyntax"


class Mutability(ScimError):
    """RFC 7644 §3.12: 400 ``mutability``: the change conflicts with the attribute's
    mutability (e.g. writing a readOnly ``id``, changing an immutable value)."""

    status, scim_type = 400, "mutability"


class Unauthorized(ScimError):
    """RFC 7644 §3.12: 401, no ``scimType``: the Authorization header is missing or invalid."""

    status = 401


class NotFound(ScimError):
    """RFC 7644 §3.12: 404, no ``scimType``: the resource (or endpoint) does not exist."""

    status = 404


class MethodNotAllowed(ScimError):
    """405, no ``scimType``: not a row of RFC 7644 §3.12 but HTTP's own (RFC 9110 §15.5.6),
    with an ``Allow`` header; a write to a read-only endpoint."""

    status = 405


class Uniqueness(ScimError):
    """RFC 7644 §3.12: 409 ``uniqueness``: a value is already in use (RFC 7644 §3.3: a create
    that conflicts with an existing resource is 409 ``uniqueness``)."""

    status, scim_type = 409, "uniqueness"


class PreconditionFailed(ScimError):
    """RFC 7644 §3.12: 412, no ``scimType``: the resource changed on the server since the
    version the client names (``If-Match``, RFC 7644 §3.14)."""

    status = 412


class UnsupportedMediaType(ScimError):
    """415, no ``scimType``: not a row of RFC 7644 §3.12 but HTTP's own (RFC 9110 §15.5.16);
    a body that is not ``application/scim+json`` or ``application/json`` (RFC 7644 §3.1)."""

    status = 415


class ServiceUnavailable(ScimError):
    """503 with ``Retry-After``: not a row of RFC 7644 §3.12 but HTTP's own (RFC 9110
    §15.6.4). The directory cannot be reached; the client should retry later (Entra does)."""

    status = 503

    def __init__(self, detail: str, *, retry_after: int = 5) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class DeadlineExceeded(ServiceUnavailable):
    """503 (see ServiceUnavailable): a request ran past its deadline and stopped before
    writing anything.

    Checked between PATCH operations and once more right before the first LDAP write, so
    an expired request leaves the directory as it was and a retry starts afresh.
    """


class OutcomeUnknown(ScimError):
    """504 with ``Retry-After``: not a row of RFC 7644 §3.12 but HTTP's own Gateway Timeout
    (RFC 9110 §15.6.5). A change was sent to the directory but its answer never came: it may
    have been made.

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
    for logs only. Raised as itself for a result code no subclass names (e.g. 53
    unwillingToPerform outside a password change): the client sees 503.

    Which code becomes which class is the table in ``gateway.directory.operations``; which
    SCIM error each class becomes is ``gateway.provisioning.errors.to_scim_error``. The
    ``→`` in each docstring below names the latter.
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
    """Result 68 entryAlreadyExists → 409 ``uniqueness``."""


class NoSuchEntry(DirectoryError):
    """Result 32 noSuchObject → 404 (a search of a missing base is an empty answer instead)."""


class SizeLimit(DirectoryError):
    """Result 4 sizeLimitExceeded → 400 ``tooMany``."""


class SchemaViolation(DirectoryError):
    """The directory refused the shape of the data → 400 ``invalidValue``: results 17
    undefinedAttributeType, 18 inappropriateMatching, 19 constraintViolation, 21
    invalidAttributeSyntax, 34 invalidDNSyntax, 64 namingViolation, 66 notAllowedOnNonLeaf,
    67 notAllowedOnRDN, 69 objectClassModsProhibited; 16, 20 and 65 as the subclasses below,
    which group membership catches to retry a member write differently."""


class NoSuchAttribute(SchemaViolation):
    """Result 16 noSuchAttribute: a value to delete is not there (without permissive
    modify, or a member removed meanwhile) → 400 ``invalidValue`` when not handled."""


class ValueExists(SchemaViolation):
    """Result 20 attributeOrValueExists: a value to add is already there (a directory without
    permissive modify, e.g. 389 DS) → 400 ``invalidValue`` when not handled."""


class ObjectClassViolation(SchemaViolation):
    """Result 65 objectClassViolation: the entry would break its object classes (e.g. a
    groupOfNames left without ``member``) → 400 ``invalidValue`` when not handled."""


class AssertionFailed(DirectoryError):
    """Result 122 assertionFailed: an assertion control (If-Match) did not hold; nothing was
    changed → 412."""


class InsufficientAccess(DirectoryError):
    """Results 48 inappropriateAuthentication, 49 invalidCredentials, 50
    insufficientAccessRights: the bind identity may not do this → 503 (and an error log: the
    operator must fix the gateway's rights, the client cannot)."""


class PasswordRefused(DirectoryError):
    """Result 19 constraintViolation or 53 unwillingToPerform to a Password Modify (RFC 3062):
    the directory's policy refused the password (length, quality, history) or the value
    → 400 ``invalidValue``; ``reason`` says why in words safe to show."""

    def __init__(self, dn: str | None, result_code: int | None, reason: str) -> None:
        super().__init__("passwd", dn, result_code, reason)
        self.reason = reason


class Referral(DirectoryError):
    """Result 10 referral, or a search answered with continuation references → 503: the
    entry, or part of the subtree searched, is held by another server. The gateway does not
    follow referrals (it would bind with its credentials wherever a server points), so the
    operation fails rather than answer with part of the data; ``referrals`` says where the
    server pointed."""

    def __init__(self, operation: str, dn: str | None, referrals: tuple[str, ...]) -> None:
        super().__init__(operation, dn, 10, f"referral to {', '.join(referrals) or '?'}")
        self.referrals = referrals


class UnreadableValue(DirectoryError):
    """No result code (the answer was a success): the directory holds a DN or value that is
    not UTF-8 text where the gateway reads text → 503.

    Refused rather than rewritten (a U+FFFD copy would overwrite the original at the next
    PUT); ``attribute`` names it, for the operator to fix the data or the mapping."""

    def __init__(self, dn: str | None, attribute: str) -> None:
        super().__init__("read", dn, None, f"{attribute} holds a value that is not UTF-8")
        self.attribute = attribute


class Unavailable(DirectoryError):
    """No directory served the request → 503 with ``Retry-After``: results 3
    timeLimitExceeded, 51 busy, 52 unavailable, 80 other, 81 serverDown; or no result code at
    all (connect failure, timeout, connection lost on a read)."""


class WriteUnanswered(Unavailable):
    """No result code: a write was sent but no answer came (timeout, connection lost), so its
    outcome is unknown → 504 (``OutcomeUnknown``), never 503."""


# ------------------------------------------------------------------------- config errors


class ConfigError(GatewayError):
    """Settings or mapping are invalid; carries every problem found, not just the first.
    Start-up only (and a SIGHUP reload, which keeps the old mapping): never an HTTP answer."""

    def __init__(self, problems: list[str], source: str = "configuration") -> None:
        self.problems = list(problems)
        self.source = source
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid {source}:\n{lines}")
