"""The composition root: settings → mapping → directory pool → services → Flask app.

Nothing here talks to the directory: connections open lazily in each worker process on
first use, so the app can be built before gunicorn forks (``--preload``) and a directory
that is down at start-up only turns requests into 503s until it is back.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field

from flask import Flask, Response, g, request

from gateway.directory.operations import Directory, counting_round_trips
from gateway.directory.pool import ConnectionPool, ConnectionSettings
from gateway.mapping.loader import load_mapping
from gateway.mapping.model import Mapping
from gateway.provisioning import errors as provisioning_errors
from gateway.provisioning.service import Limits, ResourceService
from gateway.settings import Settings
from gateway.web import discovery, errors, resources
from gateway.web.auth import BearerAuth
from gateway.web.wire import BASE_PATH

log = logging.getLogger("gateway.access")

MAX_BODY_BYTES = 1024 * 1024


@dataclass
class Runtime:
    """What a request needs, hung on ``app.extensions["scim"]``."""

    settings: Settings
    mapping: Mapping
    pool: ConnectionPool
    limits: Limits
    auth: BearerAuth
    services: dict[str, ResourceService] = field(default_factory=dict)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    mapping = load_mapping(settings.mapping_path)
    pool = ConnectionPool(
        ConnectionSettings(
            urls=settings.ldap_urls,
            bind_dn=settings.ldap_bind_dn,
            bind_password=settings.ldap_bind_password,
            connect_timeout=settings.ldap_connect_timeout,
            operation_timeout=settings.ldap_timeout,
        )
    )
    directory = Directory(pool)
    limits = Limits(settings.page_size, settings.max_results, settings.default_count)
    provisioning_errors.RETRY_AFTER = settings.retry_after
    runtime = Runtime(settings, mapping, pool, limits, BearerAuth([settings.token]))
    runtime.services = {
        name: ResourceService(mapping, name, directory, limits) for name in mapping.resources
    }

    app = Flask("gateway")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.url_map.strict_slashes = False
    app.extensions["scim"] = runtime
    app.register_blueprint(discovery.bp, url_prefix=BASE_PATH)
    app.register_blueprint(resources.bp, url_prefix=BASE_PATH)
    errors.register(app)

    @app.before_request
    def _start() -> None:
        g.request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex
        g.started = time.perf_counter()
        g.round_trips_cm = counting_round_trips()
        g.round_trips = g.round_trips_cm.__enter__()
        if request.path.startswith(BASE_PATH):
            runtime.auth.check()

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        trips = g.get("round_trips")
        elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        log.info(
            "%s %s %s %.1fms ldap_ops=%s request_id=%s",
            request.method,
            request.path,
            response.status_code,
            elapsed,
            trips.count if trips else 0,
            g.get("request_id", ""),
        )
        return response

    @app.teardown_request
    def _teardown(_exc: BaseException | None) -> None:
        cm = g.pop("round_trips_cm", None)
        if cm is not None:
            cm.__exit__(None, None, None)

    return app
