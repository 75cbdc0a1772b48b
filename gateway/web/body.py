"""A request's body as bytes: ``Request.get_data(cache=True)``, in less of Werkzeug's machinery.

Every create and PATCH reads its body once. Werkzeug's way (``get_data`` → the ``stream``
property → ``get_input_stream`` → ``LimitedStream.read()``) parses ``Content-Length`` from the
environ, builds a ``LimitedStream``, then reads it in 64 KiB steps through ``RawIOBase``: a
64 KiB buffer made and zeroed, the body copied into a second one of its own length, then
twice more (~25 µs for a 300-byte user, most of a create's body reading). When the length is
known, the same stream read for exactly that length gives the same bytes in one step.

:func:`request_body` leaves the request as ``get_data`` would: ``stream`` the same kind of
``LimitedStream`` over the same input, read to its end (so a later ``stream.read()`` gives
``b""`` as before), and the bytes cached where ``get_data`` caches them (a later
``get_data()`` or ``data`` answers them). Everything else is left to ``get_data`` itself: a
stream or body already read, an input the server terminates (``wsgi.input_terminated``, which
Werkzeug reads up to ``MAX_CONTENT_LENGTH`` instead), no ``Content-Length`` or a chunked one,
and a length over the limit (its 413). A body shorter than its ``Content-Length`` is read
on by Werkzeug's own ``readall``, which raises ``ClientDisconnected`` as before.
tests/unit/web/test_body.py holds both to the same bytes, errors and request state.
"""

from __future__ import annotations

from typing import Any

from flask import Request
from werkzeug.wsgi import LimitedStream, get_content_length

_UNREAD: Any = object()


def request_body(req: Request, length: int | None = _UNREAD) -> bytes:
    """``req.get_data(cache=True)``: the body, read once and kept on the request. ``length``,
    if given, is ``get_content_length(req.environ)`` already read by the caller."""
    state = req.__dict__
    environ = req.environ
    if (
        "stream" in state
        or "_cached_data" in state
        or "wsgi.input_terminated" in environ
        or req.shallow  # its ``stream`` raises
    ):
        return req.get_data(cache=True)
    if length is _UNREAD:
        length = get_content_length(environ)  # what get_input_stream reads: None when chunked
    if length is None:
        return req.get_data(cache=True)
    limit = req.max_content_length
    if limit is not None and length > limit:
        return req.get_data(cache=True)  # Werkzeug's 413
    stream = LimitedStream(environ["wsgi.input"], length)
    state["stream"] = stream  # where the ``stream`` cached_property keeps its value
    raw = stream.read(length)  # one readinto of exactly ``length`` bytes
    if len(raw) < length:
        raw += stream.readall()  # the input ended early: ClientDisconnected, as get_data
    req._cached_data = raw  # where get_data(cache=True) keeps it
    return raw
