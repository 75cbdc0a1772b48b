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
    """The runtime of the app serving this request.

    ``current_app`` is resolved once, by the proxy's own ``_get_current_object`` (the same app,
    or the same "outside of application context" error): an attribute read through the proxy
    (``current_app.extensions``) looks the context up through Werkzeug's ``_ProxyLookup`` at
    ~4 µs, against ~0.4 µs, and a request asks three to four times (the view's catalog, the
    body's ``max_values``, the request log's type label).
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return cast("Runtime", app.extensions[EXTENSION])


def current_runtime() -> Runtime | None:
    """The runtime, or None in a Flask app built without one (unit tests of the wire)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # as in runtime()
    return cast("Runtime | None", app.extensions.get(EXTENSION))
