"""Serving the app under gunicorn: options, TLS, log routing and Prometheus multi-process mode.

- Each worker reads requests with an asyncio server and runs the Flask app on a bounded thread
  pool (:mod:`gateway.frontdoor`): slow clients hold no thread, a request's headers and body
  each have a deadline, and a full pool answers 429.
- The app is built once in the master (``preload_app``) and forked into workers; the LDAP
  pool opens lazily in each worker, so nothing is shared across the fork.
- gunicorn's own log lines go through the root logger, so they come out in the gateway's
  format (JSON or text) like every other line.
- Metrics: before anything imports ``prometheus_client``, :func:`prepare_metrics_dir` points
  ``PROMETHEUS_MULTIPROC_DIR`` at an empty directory (a fresh temporary one unless the
  operator set one); the ``child_exit`` hook forgets dead workers' live gauges.
- SIGHUP (gunicorn's reload) reloads the mapping in the master before fresh workers are
  forked from it; a broken mapping is logged and the old one kept (see gateway.reloading).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gunicorn import glogging
from gunicorn.app.base import BaseApplication

if TYPE_CHECKING:
    from gateway.frontdoor.bridge import Limits

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
WORKER_CLASS = "gateway.frontdoor.worker.GatewayWorker"
KEEPALIVE_SECONDS = 5


@dataclass(frozen=True, slots=True)
class ServeOptions:
    bind: str = "127.0.0.1:8080"
    workers: int = 2
    threads: int = 4
    timeout: int = 30
    log_level: str = "INFO"
    certfile: Path | None = None
    keyfile: Path | None = None
    queue: int = 64
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_body: int = 1024 * 1024
    retry_after: int = 5

    def limits(self) -> Limits:
        from gateway.frontdoor.bridge import Limits  # after prepare_metrics_dir (it records)

        return Limits(
            threads=self.threads,
            queue=self.queue,
            header_timeout=self.header_timeout,
            body_timeout=self.body_timeout,
            max_body=self.max_body,
            retry_after=self.retry_after,
        )


def prepare_metrics_dir() -> Callable[[], None]:
    """Make ``PROMETHEUS_MULTIPROC_DIR`` name an empty directory; return the clean-up.

    An operator-set directory is kept but emptied of the previous run's ``*.db`` files (the
    prometheus_client docs ask for a wipe before start). A directory created here is removed
    by the clean-up, which does nothing in any process but this one (forked workers exit
    through the same frames).
    """
    owner = os.getpid()
    given = os.environ.get(MULTIPROC_ENV, "").strip()
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink(missing_ok=True)
        return lambda: None
    created = tempfile.mkdtemp(prefix="scim-gateway-metrics-")
    os.environ[MULTIPROC_ENV] = created

    def cleanup() -> None:
        if os.getpid() == owner:
            os.environ.pop(MULTIPROC_ENV, None)
            shutil.rmtree(created, ignore_errors=True)

    return cleanup


class RootLogger(glogging.Logger):
    """gunicorn's error/access loggers without handlers of their own: records go to root."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
            logger.propagate = True


def _child_exit(_server: Any, worker: Any) -> None:
    from gateway import metrics

    metrics.process_exited(worker.pid)


def _on_reload(arbiter: Any) -> None:
    """SIGHUP, in the master: reload the mapping of the Flask app behind the front door."""
    from gateway.reloading import reload_mapping

    reload_mapping(arbiter.app.application)


class GatewayServer(BaseApplication):
    def __init__(self, app: Any, options: ServeOptions) -> None:
        self.application = app  # the Flask app
        self.options = options
        from gateway.frontdoor.bridge import FrontDoor

        self.front_door = FrontDoor(app, options.limits())  # what the workers serve
        super().__init__()

    def load_config(self) -> None:
        o = self.options
        self.cfg.set("bind", [o.bind])
        self.cfg.set("workers", o.workers)
        self.cfg.set("worker_class", WORKER_CLASS)  # threads: the front door's pool
        self.cfg.set("keepalive", KEEPALIVE_SECONDS)
        self.cfg.set("timeout", o.timeout)
        self.cfg.set("preload_app", True)  # safe: the LDAP pool opens lazily per worker
        self.cfg.set("accesslog", None)  # the app logs one line per request itself
        self.cfg.set("loglevel", o.log_level.lower())
        self.cfg.set("logger_class", RootLogger)
        self.cfg.set("child_exit", _child_exit)
        self.cfg.set("on_reload", _on_reload)  # SIGHUP: reload the mapping (gateway.reloading)
        if "control_socket_disable" in self.cfg.settings:  # gunicorn >= 25.1
            # No runtime-management socket in $HOME: nothing here uses gunicornc, several
            # gateways on one host would share the path, and containers run with no home.
            self.cfg.set("control_socket_disable", True)
        if o.certfile is not None and o.keyfile is not None:
            self.cfg.set("certfile", str(o.certfile))
            self.cfg.set("keyfile", str(o.keyfile))

    def load(self) -> Any:
        return self.front_door


def run(app: Any, options: ServeOptions) -> None:
    """Serve until gunicorn is told to stop (SIGTERM/SIGINT: graceful shutdown)."""
    GatewayServer(app, options).run()
