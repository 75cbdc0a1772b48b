"""The gunicorn worker class of ``scim-gateway serve``: uvicorn's, configured for the gateway.

``uvicorn-worker`` (maintained by uvicorn's maintainers) runs a uvicorn server inside a
gunicorn worker process: gunicorn keeps forking, supervising, reloading on SIGHUP, stopping
gracefully and passing its TLS settings on. This subclass:

- serves the front door (:class:`~gateway.frontdoor.bridge.FrontDoor`, the preloaded app) with
  the header deadline and size cap of :mod:`gateway.frontdoor.protocol` (uvicorn's httptools
  protocol, a dependency; uvloop's loop accepting one connection per turn,
  :mod:`gateway.frontdoor.loop`: named here rather than uvicorn's "auto", so the behaviour
  tested is the behaviour shipped, whatever else happens to be installed);
- ignores ``X-Forwarded-*`` at this level (the gateway's own ``TRUSTED_PROXY_HOPS`` decides),
  writes no access log of its own (the app writes one line per request) and no ``Server`` header;
- sends uvicorn's log records to the root logger, so they come out in the gateway's format.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from uvicorn_worker import UvicornWorker

from gateway.frontdoor.bridge import FrontDoor
from gateway.frontdoor.protocol import with_deadline


class GatewayWorker(UvicornWorker):
    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        "loop": "gateway.frontdoor.loop:new_loop",
        "http": "httptools",  # replaced by the subclass with the limits in _serve
        "ws": "none",
        "lifespan": "on",
        "proxy_headers": False,
        "access_log": False,
        "server_header": False,
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("uvicorn", "uvicorn.error"):
            logger = logging.getLogger(name)
            logger.handlers = []
            logger.propagate = True
        # No access lines from uvicorn (the app writes its own, without the query string that
        # may hold a token): uvicorn logs them only when this logger has a handler somewhere.
        access = logging.getLogger("uvicorn.access")
        access.handlers = []
        access.propagate = False
        access.disabled = True

    async def _serve(self) -> None:
        door = self.wsgi
        if isinstance(door, FrontDoor):
            self.config.http = with_deadline(door.limits.header_timeout)
        await super()._serve()
