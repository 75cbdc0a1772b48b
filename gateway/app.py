"""The composition root: settings → mapping → directory pool → services → Flask app.

Nothing here talks to the directory: connections open lazily in each worker process on
first use, so the app can be built before gunicorn forks (``--preload``) and a directory
that is down at start-up only turns requests into 503s until it is back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from inspect import CO_COROUTINE
from types import FunctionType
from typing import Any

from flask import (
    Flask,
    Request,
    Response,
    appcontext_tearing_down,
    request,
    request_finished,
    request_started,
    request_tearing_down,
)
from flask.globals import request_ctx
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import MapAdapter

from gateway.directory.operations import Directory, counting_round_trips
from gateway.directory.pool import ConnectionPool, ConnectionSettings
from gateway.mapping.loader import load_mapping
from gateway.mapping.model import Mapping
from gateway.provisioning.catalog import Catalog, PatchPolicy
from gateway.provisioning.dncache import DISABLED, DnCache
from gateway.provisioning.readiness import Readiness
from gateway.provisioning.service import Limits, ResourceService
from gateway.settings import Settings
from gateway.startlog import start_line
from gateway.web import discovery, errors, health, prometheus, requestlog, resources
from gateway.web.auth import BearerAuth
from gateway.web.jwt_auth import JwtValidator
from gateway.web.public_url import PublicUrl
from gateway.web.request_class import GatewayRequest
from gateway.web.response import GatewayResponse
from gateway.web.routeshapes import CountingMap
from gateway.web.routing import BoundMaps
from gateway.web.runtime import EXTENSION
from gateway.web.wire import BASE_PATH

MAX_BODY_BYTES = 1024 * 1024
_NOT_GIVEN: Any = object()

log = logging.getLogger(__name__)


def lean_steps_fit(flask_version: str) -> bool:
    """Whether :class:`LeanFlask`'s copies of Flask's per-request steps are those of this Flask:
    they are Flask 3.1.3's (they read ``RequestContext._session``, new in 3.1.3), so any other
    release gets Flask's own steps rather than copies that may no longer match."""
    parts = flask_version.split(".")
    try:
        major, minor, patch = int(parts[0]), int(parts[1]), int(parts[2].split("rc")[0])
    except (IndexError, ValueError):
        return False
    return (major, minor) == (3, 1) and patch >= 3


LEAN_STEPS = lean_steps_fit(version("flask"))


class LeanFlask(Flask):
    """Flask's per-request steps, each as Flask 3.1 writes it but for two things that change
    nothing this app can see: a blinker signal is sent only when it has a receiver
    (``Signal.send`` loops over no receivers otherwise: ~1 us each, four a request), and the
    request is resolved once instead of through the ``request`` proxy at each use (an
    attribute read through a proxy costs ~4 us here, the resolving ~0.4 us). Whatever is
    connected, registered or configured (receivers, url_value_preprocessors, sessions, hooks on
    the app or a blueprint) runs as Flask runs it: tests/unit/web/test_lean_flask.py holds these
    and Flask's own methods to the same hooks, order, errors and responses. Used only with the
    Flask release they were copied from (:func:`lean_steps_fit`)."""

    def full_dispatch_request(self) -> Response:
        if request_started.receivers:
            return super().full_dispatch_request()
        self._got_first_request = True
        try:
            rv = self.preprocess_request()
            if rv is None:
                rv = self.dispatch_request()
        except Exception as e:
            rv = self.handle_user_exception(e)
        return self.finalize_request(rv)

    def dispatch_request(self) -> Any:
        req = request_ctx._get_current_object().request  # type: ignore[attr-defined]
        if req.routing_exception is not None:
            self.raise_routing_exception(req)
        rule = req.url_rule
        if getattr(rule, "provide_automatic_options", False) and req.method == "OPTIONS":
            return self.make_default_options_response()
        return self.ensure_sync(self.view_functions[rule.endpoint])(**req.view_args)

    def finalize_request(self, rv: Any, from_error_handler: bool = False) -> Response:
        if request_finished.receivers:
            return super().finalize_request(rv, from_error_handler)
        response = self.make_response(rv)
        try:
            response = self.process_response(response)
        except Exception:
            if not from_error_handler:
                raise
            self.logger.exception("Request finalizing failed with an error while handling an error")
        return response

    def preprocess_request(self) -> Any:
        req = request._get_current_object()  # type: ignore[attr-defined]
        names = (None, *reversed(req.blueprints))
        preprocessors = self.url_value_preprocessors
        for name in names:
            if name in preprocessors:
                for url_func in preprocessors[name]:
                    url_func(req.endpoint, req.view_args)
        before = self.before_request_funcs
        for name in names:
            if name in before:
                for before_func in before[name]:
                    rv = self.ensure_sync(before_func)()
                    if rv is not None:
                        return rv
        return None

    def process_response(self, response: Response) -> Response:
        ctx = request_ctx._get_current_object()  # type: ignore[attr-defined]
        for func in ctx._after_request_functions:
            response = self.ensure_sync(func)(response)
        after = self.after_request_funcs
        for name in (*ctx.request.blueprints, None):
            if name in after:
                for func in reversed(after[name]):
                    response = self.ensure_sync(func)(response)
        if not self.session_interface.is_null_session(ctx._session):
            self.session_interface.save_session(self, ctx._session, response)
        return response

    def do_teardown_request(self, exc: BaseException | None = _NOT_GIVEN) -> None:  # type: ignore[assignment]
        # RequestContext.pop always passes ``exc``; without it Flask reads sys.exc_info()
        if exc is _NOT_GIVEN or request_tearing_down.receivers:
            return super().do_teardown_request(*(() if exc is _NOT_GIVEN else (exc,)))
        funcs = self.teardown_request_funcs
        for name in (*request_ctx._get_current_object().request.blueprints, None):  # type: ignore[attr-defined]
            if name in funcs:
                for func in reversed(funcs[name]):
                    self.ensure_sync(func)(exc)
        return None

    def do_teardown_appcontext(self, exc: BaseException | None = _NOT_GIVEN) -> None:  # type: ignore[assignment]
        if exc is _NOT_GIVEN or appcontext_tearing_down.receivers:
            return super().do_teardown_appcontext(*(() if exc is _NOT_GIVEN else (exc,)))
        for func in reversed(self.teardown_appcontext_funcs):
            self.ensure_sync(func)(exc)
        return None


class GatewayFlask(LeanFlask if LEAN_STEPS else Flask):  # type: ignore[misc]
    """Flask, with ``ensure_sync`` answering at once for a plain ``def`` function, the URL
    map bound to a request without redoing its host's work (:mod:`gateway.web.routing`), a
    request class with cheaper reads (:mod:`gateway.web.request_class`), and a response
    class that sends the common response as it is (:mod:`gateway.web.response`).

    Flask asks ``ensure_sync`` of every hook and view on every request (five a request here),
    and its answer goes through ``inspect.iscoroutinefunction``'s unwrapping each time. A plain
    function that is not a coroutine function is returned as it is, as Flask would; anything
    else (``async def``, a partial, a bound method, a function marked as a coroutine) gets
    Flask's own answer.
    """

    response_class = GatewayResponse
    request_class = GatewayRequest if LEAN_STEPS else Request  # its property is Flask 3.1.3's
    url_map_class = CountingMap
    _bound_maps: BoundMaps | None = None

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if (
            type(func) is FunctionType
            and not func.__code__.co_flags & CO_COROUTINE
            and getattr(func, "_is_coroutine_marker", None) is None
        ):
            return func
        return super().ensure_sync(func)

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        """A request's adapter from :mod:`gateway.web.routing` (the host work done once per
        host, not once per request) when the configuration is the one that module
        reproduces; otherwise, and for the application context, Flask's own."""
        config = self.config
        if (
            request is None
            or config["SERVER_NAME"] is not None
            or config["TRUSTED_HOSTS"] is not None
            or self.url_map.host_matching
            or self.subdomain_matching
        ):
            return super().create_url_adapter(request)
        maps = self._bound_maps
        if maps is None or maps.url_map is not self.url_map:
            maps = self._bound_maps = BoundMaps(self.url_map, self.url_map.default_subdomain or "")
        return maps.bind(request)


@dataclass
class Runtime:
    """What a request needs, hung on ``app.extensions["scim"]``; web reads it through
    ``gateway.web.runtime.runtime()`` (the :attr:`catalog`, readiness, metrics auth)."""

    settings: Settings
    mapping: Mapping
    pool: ConnectionPool
    limits: Limits
    auth: BearerAuth
    readiness: Readiness
    metrics_auth: BearerAuth | None = None
    services: dict[str, ResourceService] = field(default_factory=dict)
    dn_cache: DnCache = DISABLED  # per worker process: each fills its own copy after the fork
    _catalog: Catalog | None = field(default=None, repr=False)

    @property
    def catalog(self) -> Catalog:
        """The services as web uses them; built again when a reload swaps ``services``."""
        catalog = self._catalog
        if catalog is None or catalog.services is not self.services:
            patch = PatchPolicy(
                self.settings.max_patch_operations,
                self.settings.max_values,
                self.settings.patch_deadline,
            )
            catalog = self._catalog = Catalog(self.services, self.limits, patch)
        return catalog


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    mapping = load_mapping(settings.mapping_path)
    log.info("%s", start_line(settings))  # one line per process: mapping, directory, auth
    pool = ConnectionPool(
        ConnectionSettings(
            urls=settings.ldap_urls,
            bind_dn=settings.ldap_bind_dn,
            bind_password=settings.ldap_bind_password,
            connect_timeout=settings.ldap_connect_timeout,
            operation_timeout=settings.ldap_timeout,
            start_tls=settings.ldap_start_tls,
            ca_file=str(settings.ldap_ca_file) if settings.ldap_ca_file else None,
            verify=settings.ldap_tls_verify,
            max_age=settings.ldap_max_connection_age,
            # several URLs = a replicated directory: one node written by the whole host
            single_writer=True,
            writer_state_path=settings.ldap_writer_state_file or None,
            replicated_bases=tuple(rm.base_dn for rm in mapping.resources.values()),
            write_concern_timeout=settings.ldap_write_concern_timeout,
        )
    )
    directory = Directory(pool, max_answer_bytes=settings.ldap_max_answer_bytes)
    limits = Limits(settings.page_size, settings.max_results, settings.default_count)
    runtime = Runtime(
        settings,
        mapping,
        pool,
        limits,
        BearerAuth(list(settings.tokens), jwt=_jwt_validator(settings)),
        Readiness(mapping, directory, cache_seconds=settings.ready_cache_seconds),
        BearerAuth([settings.metrics_token], "metrics") if settings.metrics_token else None,
    )
    runtime.dn_cache = DnCache(settings.dn_cache_size)
    runtime.services = {
        name: ResourceService(mapping, name, directory, limits, runtime.dn_cache)
        for name in mapping.resources
    }

    app = GatewayFlask("gateway")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.url_map.strict_slashes = False
    app.extensions[EXTENSION] = runtime
    if settings.public_url:  # inside ProxyFix: the configured URL wins over X-Forwarded-Host
        app.wsgi_app = PublicUrl(app.wsgi_app, settings.public_url)  # type: ignore[method-assign]
    if settings.trusted_proxy_hops:
        hops = settings.trusted_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    app.register_blueprint(discovery.bp, url_prefix=BASE_PATH)
    app.register_blueprint(resources.bp, url_prefix=BASE_PATH)
    app.register_blueprint(health.bp)
    app.register_blueprint(prometheus.bp)
    errors.register(app, settings.retry_after)
    # Request id, timing and the LDAP operation recorder first: auth failures are logged too.
    requestlog.install(app, counting_round_trips)

    @app.before_request
    def _authenticate() -> None:
        req = request._get_current_object()  # type: ignore[attr-defined]  # one proxy look-up
        if req.path.startswith(BASE_PATH):  # health and metrics have their own rules
            runtime.auth.check(req)

    return app


def _jwt_validator(settings: Settings) -> JwtValidator | None:
    if not settings.jwt_jwks:
        return None
    return JwtValidator(
        settings.jwt_jwks,
        settings.jwt_issuer,
        settings.jwt_audience,
        max_lifetime=settings.jwt_max_lifetime,
    )
