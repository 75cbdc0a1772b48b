"""SCIM ``password`` (RFC 7643 §4.1.1: writeOnly, returned never) for the provisioning service.

The value is taken out of the resource before anything else looks at it, so it is never
translated into an LDAP attribute, never compared, never part of a response or a log line.
The directory sets it with the Password Modify extended operation (RFC 3062, see
``gateway.directory.passwords``), which hashes it and applies the directory's password policy.

Order, so that a refused password changes nothing: on update the password is set before the
other changes; on create the entry must exist first, so a refused password deletes the entry
just added again.
"""

from __future__ import annotations

import logging
from typing import Any

from gateway.directory.operations import Directory
from gateway.errors import DirectoryError, InvalidValue

log = logging.getLogger(__name__)

MAX_LENGTH = 1024  # characters; far above any policy, well below the request size limit


def take_password(resource: dict[str, Any]) -> str | None:
    """Remove ``password`` from a normalized resource and return it (None when absent)."""
    value = resource.pop("password", None)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidValue("password must be a non-empty string")
    if "\x00" in value:
        raise InvalidValue("password: NUL characters are not allowed")
    if len(value) > MAX_LENGTH:
        raise InvalidValue(f"password: at most {MAX_LENGTH} characters")
    return value


def set_on_new_entry(directory: Directory, dn: str, password: str) -> None:
    """Set the password of an entry this request has just added; if that fails, delete the
    entry again (best effort), so the failed create leaves nothing behind."""
    try:
        directory.set_password(dn, password)
    except DirectoryError:
        try:
            directory.delete(dn)
        except DirectoryError:
            log.exception("could not delete %r after its password was refused", dn)
        raise
