"""request_body with the length its caller already read (read_json reads it once for the body
and the cut-body check): the same bytes, errors and request state as Werkzeug's get_data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Request
from werkzeug.wsgi import get_content_length

from gateway.web.body import request_body
from tests.unit.web.test_body import CASES, environ, outcome


@pytest.fixture(scope="module")
def app() -> Iterator[Flask]:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 100
    with app.app_context():
        yield app


@pytest.mark.parametrize("name", list(CASES))
def test_a_given_length_reads_as_get_data(app: Flask, name: str) -> None:
    werkzeug, ours = Request(environ(**CASES[name])), Request(environ(**CASES[name]))
    length = get_content_length(ours.environ)

    def read(req: Any) -> bytes:
        return request_body(req, length)

    assert outcome(read, ours) == outcome(lambda r: r.get_data(cache=True), werkzeug)
