"""Directory failures → SCIM errors, through one table.

``detail`` strings are ours: the LDAP server's message goes to the log, never to the client
(a refused write takes only the attribute's name from it, see :mod:`refusals`).
"""

from __future__ import annotations

import logging
from types import TracebackType

from gateway.errors import (
    AssertionFailed,
    DirectoryError,
    EntryExists,
    InsufficientAccess,
    InvalidValue,
    NoSuchEntry,
    NotFound,
    OutcomeUnknown,
    PasswordRefused,
    PreconditionFailed,
    Referral,
    SchemaViolation,
    ScimError,
    ServiceUnavailable,
    SizeLimit,
    TooMany,
    Unavailable,
    Uniqueness,
    UnreadableValue,
    WriteUnanswered,
)
from gateway.mapping.model import ResourceMapping
from gateway.provisioning import refusals

log = logging.getLogger(__name__)

Subject = str | ResourceMapping
"""What an operation was about: a resource type's name, or its mapping when the operation
writes its values (a refused value is then worded by the mapping rule behind it)."""


def to_scim_error(err: DirectoryError, subject: Subject) -> ScimError:
    """The SCIM error a client should see for a failed directory operation on ``subject``."""
    rm = subject if isinstance(subject, ResourceMapping) else None
    what = rm.name if rm is not None else subject
    match err:
        case EntryExists():
            return Uniqueness(f"{what} already exists")
        case NoSuchEntry():
            return NotFound(f"{what} not found")
        case AssertionFailed():
            return PreconditionFailed(f"{what} was modified by someone else (ETag mismatch)")
        case PasswordRefused():
            return InvalidValue(f"password: the directory refused it: {err.reason}")
        case SchemaViolation() if rm is not None:  # a write of rm's values
            return InvalidValue(refusals.describe(rm, err))
        case SchemaViolation():
            return InvalidValue(
                f"the directory refused the values for {what} "
                f"(LDAP result {err.result_code}); check the attribute values"
            )
        case SizeLimit():
            return TooMany("the directory returned too many results; narrow the filter")
        case WriteUnanswered():
            return OutcomeUnknown(
                f"the directory did not answer a change to {what} in time; it may or may not "
                "have been made: read the resource before repeating the request"
            )
        case Unavailable():
            return ServiceUnavailable("the directory is unavailable; retry later")
        case InsufficientAccess():
            log.error("directory refused access: %s", err)
            return ServiceUnavailable("the gateway is not allowed to do this in the directory")
        case Referral():
            log.error("directory referral not followed: %s", err)
            return ServiceUnavailable(
                "the directory referred the request to another server; the gateway does not "
                "follow referrals"
            )
        case UnreadableValue():  # logged where it was read, with the entry
            return ServiceUnavailable(
                f"the directory holds a value ({err.attribute}) for {what} that is not UTF-8 "
                "text; the gateway refuses it rather than change it"
            )
    log.error("unexpected directory error: %s", err)
    return ServiceUnavailable(
        f"the directory failed the operation (LDAP result {err.result_code})",
    )


class translating:  # lower-case: used as the function it was, ``with translating(...)``
    """Turn DirectoryError raised inside the block into the matching ScimError; ``subject``
    the resource type's name, or its mapping around a write of its values.

    A class, not ``contextlib.contextmanager``: a request enters several (3.0 -> 0.8 us
    each, timeit); the same answer as the generator's ``except DirectoryError as err: raise
    to_scim_error(err, subject) from err`` (any other exception passes through untouched).
    """

    __slots__ = ("subject",)

    def __init__(self, subject: Subject) -> None:
        self.subject = subject

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        err: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if isinstance(err, DirectoryError):
            raise to_scim_error(err, self.subject) from err
        return False
