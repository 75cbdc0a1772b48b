"""What a request handler may use of the running app, typed: ``runtime()``.

The app (``gateway.app``) hangs its runtime on ``app.extensions["scim"]``; web reaches it
only through :func:`runtime`, which says what web reads of it (:class:`Runtime`). Web may
import ``provisioning`` (the services, their catalog and the readiness checks), never the
mapping or the directory behind them (tests/unit/test_import_contracts.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast

from flask import current_app

if TYPE_CHECKING:
    from gateway.provisioning.catalog import Catalog
    from gateway.provisioning.readiness import Readiness
    from gateway.web.auth import BearerAuth

EXTENSION = "scim"
"""The key of ``app.extensions`` the runtime hangs on."""


class Runtime(Protocol):
    """The part of ``gateway.app.Runtime`` web reads (it holds more: pool, settings, ...)."""

    @property
    def catalog(self) -> Catalog:
        """The services of the mapping served now (swapped whole by a mapping reload)."""
        ...

    @property
    def readiness(self) -> Readiness: ...

    @property
    def metrics_auth(self) -> BearerAuth | None: ...


def runtime() -> Runtime:
    """The runtime of the app serving this request."""
    return cast("Runtime", current_app.extensions[EXTENSION])


def current_runtime() -> Runtime | None:
    """The runtime, or None in a Flask app built without one (unit tests of the wire)."""
    return cast("Runtime | None", current_app.extensions.get(EXTENSION))
