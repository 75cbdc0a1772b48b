"""The configured public base URL: where ``Location``, ``meta.location`` and ``$ref`` point.

Without it, Werkzeug builds those URLs from the request's own ``Host`` header (and scheme), so a
client that sends ``Host: evil.example`` gets ``http://evil.example/...`` back: harmless to
that client alone, but a cache or a log reader in between would take it for the gateway's word.
With ``SCIM_GATEWAY_PUBLIC_URL=https://scim.example.org`` every URL the gateway writes starts
with exactly that, whatever Host, ``X-Forwarded-Host`` or ``X-Forwarded-Proto`` say. A path in
it (``https://example.org/gateway``) becomes the script root: the URLs carry it, while routing
still sees the request path the proxy passed on (the proxy strips the prefix).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class PublicUrl:
    """WSGI middleware that makes every request look addressed to the public base URL."""

    def __init__(self, app: WsgiApp, public_url: str) -> None:
        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {public_url!r}")
        self.app = app
        self.scheme = parts.scheme
        self.host = parts.netloc.rpartition("@")[2]  # no user info in a Host header
        self.port = str(parts.port or (443 if parts.scheme == "https" else 80))
        self.server_name = parts.hostname
        self.prefix = parts.path.rstrip("/")

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        environ["wsgi.url_scheme"] = self.scheme
        environ["HTTP_HOST"] = self.host
        environ["SERVER_NAME"] = self.server_name
        environ["SERVER_PORT"] = self.port
        environ["SCRIPT_NAME"] = self.prefix
        return self.app(environ, start_response)
