"""gateway/web/resources.py reads If-Match and If-None-Match from the environ (``_header``):
the same answer as ``request.headers.get`` for a header present, absent, empty or odd."""

from __future__ import annotations

import pytest
from flask import Flask, request

from gateway.web.resources import _header

VALUES = [None, "", '"abc"', 'W/"abc"', "*", '"a", W/"b"', " spaced ", "\u00e9"]


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("name", ["If-Match", "If-None-Match"])
def test_header_read_from_the_environ_as_werkzeug_reads_it(name: str, value: str | None) -> None:
    headers = {} if value is None else {name: value}
    with Flask("t").test_request_context("/scim/v2/Users/x", headers=headers):
        key = "HTTP_" + name.upper().replace("-", "_")
        req = request._get_current_object()  # type: ignore[attr-defined]
        assert _header(req, key) == request.headers.get(name)
        assert _header(req, key) == request.headers.get(name.lower())
