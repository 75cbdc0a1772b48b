"""A request's URL adapter, bound without redoing the same host work on every request.

Flask binds the URL map to each request's environ (``Map.bind_to_environ``): it validates the
``Host`` header (``get_host``, twice: once for ``request.host``), looks for a WebSocket upgrade,
IDNA-encodes the server name, then makes a :class:`~werkzeug.routing.MapAdapter`. Only the
path, the query string and the method differ from one request to the next; the server name,
script name and scheme come from a handful of environ values that are the same on every
request a client sends. :func:`bind` keeps those three (and the ``request.host`` they imply)
by the environ values they are made of, for the first :data:`MAX_BOUND` combinations (the
``Host`` header is the client's to choose: past that, each request is bound as before), and
makes the adapter from them and the request's own path, query and method.

The answer is the adapter ``bind_to_environ`` gives: it is built by it the first time, and
from then on from what that adapter held (tests/unit/web/test_routing.py holds the two to
the same attributes over a table of environs). From the second request of a host on, the
adapter is a :class:`~gateway.web.routeshapes.ShapedAdapter`: the route found once per path
shape (:mod:`gateway.web.routeshapes`).
"""

from __future__ import annotations

from typing import Any

from flask import Request
from werkzeug.routing import Map, MapAdapter
from werkzeug.wsgi import get_host

from gateway.web.routeshapes import ShapedAdapter, Shapes

MAX_BOUND = 256

_KEYS = (
    "wsgi.url_scheme",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "SCRIPT_NAME",
    "HTTP_CONNECTION",
    "HTTP_UPGRADE",
)
"""Every environ value ``bind_to_environ`` and ``get_host`` read but the per-request ones
(``PATH_INFO``, ``QUERY_STRING``, ``REQUEST_METHOD``)."""


class BoundMaps:
    """Per app: the server name, script name, scheme and host of each environ seen."""

    def __init__(self, url_map: Map, subdomain: str) -> None:
        self.url_map = url_map
        self.subdomain = subdomain
        self._bound: dict[tuple[Any, ...], tuple[str, str, str, str]] = {}
        self.shapes = Shapes(url_map)

    def bind(self, request: Request) -> MapAdapter:
        """What ``Flask.create_url_adapter`` gives when neither ``SERVER_NAME``,
        ``TRUSTED_HOSTS``, host matching nor subdomain matching is configured; it sets
        ``request.host`` as Flask does."""
        environ = request.environ
        key = tuple(map(environ.get, _KEYS))
        found = self._bound.get(key)
        if found is None:
            request.host = host = get_host(environ)  # type: ignore[misc]
            adapter = self.url_map.bind_to_environ(environ, subdomain=self.subdomain)
            if len(self._bound) < MAX_BOUND:
                self._bound[key] = (
                    host,
                    adapter.server_name,
                    adapter.script_name,
                    adapter.url_scheme,
                )
            return adapter
        host, server_name, script_name, scheme = found
        request.host = host  # type: ignore[misc]
        path_info = environ.get("PATH_INFO")
        query = environ.get("QUERY_STRING")
        adapter = ShapedAdapter(
            self.url_map,
            server_name,
            script_name,
            self.subdomain,
            scheme,
            "/" if path_info is None else _decoded(path_info),
            environ["REQUEST_METHOD"],
            None if query is None else _decoded(query),
        )
        adapter.shapes = self.shapes
        return adapter


def _decoded(value: str) -> str:
    """Werkzeug's ``_wsgi_decoding_dance``: a WSGI string's bytes read as UTF-8."""
    return value.encode("latin1").decode(errors="replace")
