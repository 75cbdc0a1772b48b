"""Reload the mapping file into a running app; a broken file is refused, the old one stays.

How a reload is triggered (docs/mapping.md, "Reloading"): ``kill -HUP <gunicorn master>``.
gunicorn answers HUP by re-reading its configuration and replacing every worker with a new
one forked from the master. ``scim-gateway serve`` preloads the app in the master, so a new
worker is a copy of the master's app: the reload therefore happens in the master, in
gunicorn's ``on_reload`` hook (gateway/server.py), before the new workers are forked. Every
worker then serves the new mapping, the problems of a broken file are logged once, and a
broken file never reaches a worker — the new workers keep serving the old mapping.

The swap itself is one assignment of ``Runtime.services`` (a new dict of new services), so a
request that already picked its service finishes with the old mapping and the next one gets
the new one; nothing is half-replaced. Outside gunicorn (tests, an embedding server) call
:func:`reload_mapping` directly.
"""

from __future__ import annotations

import logging
from typing import Any

from gateway import metrics
from gateway.directory.operations import Directory
from gateway.errors import ConfigError
from gateway.mapping.loader import load_mapping
from gateway.provisioning.service import ResourceService

log = logging.getLogger(__name__)


def reload_mapping(app: Any) -> bool:
    """Load the app's mapping file again and serve it; False (old one kept) if it is broken."""
    runtime = app.extensions["scim"]
    path = runtime.settings.mapping_path
    try:
        mapping = load_mapping(path)
    except ConfigError as err:
        for problem in err.problems:
            log.error("mapping reload refused: %s", problem)
        log.error(
            "mapping reload refused: %d problem(s) in %s; still serving the previous mapping",
            len(err.problems),
            path,
        )
        metrics.MAPPING_RELOADS.labels("failed").inc()
        return False
    current = next(iter(runtime.services.values()), None)
    directory = current.directory if current is not None else Directory(runtime.pool)
    services = {
        name: ResourceService(mapping, name, directory, runtime.limits, runtime.dn_cache)
        for name in mapping.resources
    }
    runtime.services = services  # the swap: one reference, read once per request
    runtime.mapping = mapping
    runtime.readiness.mapping = mapping
    metrics.MAPPING_RELOADS.labels("ok").inc()
    log.info("mapping reloaded from %s (%s)", path, ", ".join(mapping.resources))
    return True


def on_reload(arbiter: Any) -> None:
    """gunicorn's ``on_reload`` server hook (SIGHUP), run in the master before it forks."""
    reload_mapping(arbiter.app.wsgi())
