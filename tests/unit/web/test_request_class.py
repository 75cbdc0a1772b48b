"""GatewayRequest (gateway/web/request_class.py): the same ``max_content_length`` as
``flask.Request`` in and out of an application context, and the same files closed."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask, Request, request
from werkzeug.test import EnvironBuilder

from gateway.app import LEAN_STEPS, GatewayFlask
from gateway.web.request_class import GatewayRequest


def environ(**kwargs: Any) -> dict[str, Any]:
    return EnvironBuilder(path="/x", method="POST", **kwargs).get_environ()


def limits(cls: type[Request], config: int | None, own: list[int | None]) -> list[Any]:
    """The limit read in and out of an app context, before and after setting it on the request."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = config
    seen: list[Any] = []
    req = cls(environ(data=b"abc"))
    seen.append(req.max_content_length)  # no application context
    with app.app_context():
        seen.append(req.max_content_length)
        for value in own:
            req.max_content_length = value
            seen.append(req.max_content_length)
    seen.append(req.max_content_length)  # out again, a value set on the request or not
    return seen


@pytest.mark.parametrize("config", [None, 0, 10, 1024 * 1024])
@pytest.mark.parametrize("own", [[], [5], [5, None], [0], [None]])
def test_max_content_length_is_flasks(config: int | None, own: list[int | None]) -> None:
    assert limits(GatewayRequest, config, own) == limits(Request, config, own)


def test_max_content_length_follows_the_app_of_the_context() -> None:
    first, second = Flask("first"), Flask("second")
    first.config["MAX_CONTENT_LENGTH"], second.config["MAX_CONTENT_LENGTH"] = 1, 2
    req = GatewayRequest(environ())
    with first.app_context():
        assert req.max_content_length == 1
        with second.app_context():
            assert req.max_content_length == 2


def files_closed(cls: type[Request], parse: bool) -> list[bool]:
    upload = io.BytesIO(b"file content")
    req = cls(environ(data={"field": "v", "upload": (upload, "a.txt")}))
    if parse:
        stored = req.files["upload"]
        req.close()
        return [stored.stream.closed, upload.closed]
    req.close()
    return ["files" in req.__dict__, upload.closed]


@pytest.mark.parametrize("parse", [False, True], ids=["form not parsed", "form parsed"])
def test_close_closes_what_werkzeug_closes(parse: bool) -> None:
    assert files_closed(GatewayRequest, parse) == files_closed(Request, parse)
    if parse:
        assert files_closed(GatewayRequest, parse)[0] is True  # the upload was closed


def test_the_app_uses_it_only_with_the_lean_steps() -> None:
    expected = GatewayRequest if LEAN_STEPS else Request
    assert GatewayFlask.request_class is expected


def test_a_body_over_the_limit_is_refused_through_the_app() -> None:
    app = GatewayFlask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 4

    @app.post("/x")
    def echo() -> bytes:
        return request.get_data()

    client = app.test_client()
    assert client.post("/x", data=b"abcd").get_data() == b"abcd"
    assert client.post("/x", data=b"abcde").status_code == 413
