"""The app's response class: Werkzeug's, with a shorter way out for the common response.

Werkzeug's :meth:`~werkzeug.wrappers.Response.get_wsgi_response` copies the headers into a new
``Headers`` (validating each again), passes ``Location`` through ``iri_to_uri`` (a URL split,
three ``quote`` calls, an IDNA encoding and a join), fixes ``Content-Length`` for the statuses
that must not or need not have one, and wraps the body in a ``ClosingIterator`` over a
generator. For almost every answer of this gateway none of that changes anything: a body
already whole in memory (``Content-Length`` set by ``set_data``), a 2xx to 5xx status other
than 304, and no ``Location`` or one that is already a plain ASCII URL. For those,
:class:`GatewayResponse` gives the same status, the same header list and the same bytes
directly (a list of the body's chunks, whose ``close`` would have done nothing); a 204 (every
group PATCH Entra sends, every DELETE) the same way with what Werkzeug does to one: no body
and no ``Content-Length`` (RFC 9110 §8.6), the other headers as they are (~26 → ~4 µs).
Anything else (a HEAD, a 1xx or 304, a streamed body, a ``Location`` holding anything
``iri_to_uri`` might rewrite, a callback registered with ``call_on_close``) goes through
Werkzeug as before. tests/unit/web/test_response.py holds both paths to the same answers.

Every response also sets its status from a number, which Werkzeug's ``_clean_status`` turns
into the status line anew each time (an f-string and an ``upper()`` of the reason phrase,
~1 µs); :class:`GatewayResponse` keeps the pair it answered per code (~0.2 µs).
tests/unit/web/test_response_status.py holds it to Werkzeug's.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from flask import Response

_PLAIN_URL = re.compile(
    r"https?://[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63})*(?::([1-9][0-9]{0,4}))?"
    r"(?:/[A-Za-z0-9\-._~%!$&'()*+,;=:@/]*)?"
)
"""A URL ``iri_to_uri`` gives back unchanged: scheme, a lower-case ASCII host of non-empty labels
of at most 63 characters (IDNA leaves it alone), a port without leading zeros, and a path of
characters ``quote`` keeps as they are; no user, query or fragment."""


def plain_url(url: str) -> bool:
    """Whether ``werkzeug.urls.iri_to_uri(url) == url`` is sure without computing it."""
    match = _PLAIN_URL.fullmatch(url)
    if match is None:
        return False
    port = match.group(1)
    return port is None or int(port) <= 65535


_STATUSES: dict[int, tuple[str, int]] = {}
"""Status code → Werkzeug's ``_clean_status`` answer for it, for the codes of HTTP (100-599)."""


class GatewayResponse(Response):
    """Flask's response; see the module docstring for the shorter way out."""

    def _clean_status(self, value: str | int | HTTPStatus) -> tuple[str, int]:
        """Werkzeug's status line and code for ``value``, kept per plain ``int`` code (the
        answer depends on the code alone: its reason phrase from ``HTTP_STATUS_CODES``)."""
        if type(value) is int:
            found = _STATUSES.get(value)
            if found is None:
                found = super()._clean_status(value)
                if 100 <= value < 600:
                    _STATUSES[value] = found
            return found
        return super()._clean_status(value)

    def get_wsgi_response(self, environ: dict[str, Any]) -> tuple[Any, str, list[tuple[str, str]]]:
        if not self._sent_as_is(environ):
            return super().get_wsgi_response(environ)
        if self.status_code == 204:  # Werkzeug's get_wsgi_headers drops it; get_app_iter: ()
            headers = [(k, v) for k, v in self.headers if k.lower() != "content-length"]
            return [], self.status, headers
        return list(self.response), self.status, self.headers.to_wsgi_list()  # type: ignore[arg-type]

    def _sent_as_is(self, environ: dict[str, Any]) -> bool:
        """Whether Werkzeug would send these headers and this body unchanged (for a 204:
        these headers but ``Content-Length``, and no body)."""
        status = self.status_code
        if (
            status < 200
            or status == 304
            or environ["REQUEST_METHOD"] == "HEAD"
            or self.autocorrect_location_header
            or self.direct_passthrough
            or self._on_close
            or type(self.response) is not list
        ):
            return False
        if any(type(chunk) is not bytes for chunk in self.response):
            return False
        length = False
        location = False
        for key, value in self.headers:
            name = key.lower()
            if name == "content-length":
                length = True
            elif name == "location":
                # Werkzeug sets it again: one header, named so, already a URI
                if location or key != "Location" or not plain_url(value):
                    return False
                location = True
            elif name == "content-location":
                return False
        return length or status == 204
