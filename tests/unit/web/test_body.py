"""request_body (gateway/web/body.py): the same bytes, errors and request state afterwards as
Werkzeug's ``Request.get_data(cache=True)``, whichever way it reads."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Request
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.wsgi import get_content_length

from gateway.web import body as body_module
from gateway.web.body import request_body

BODY = b'{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bjensen"}'


class ReadOnly:
    """A WSGI input with ``read`` alone (PEP 3333 asks no more)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._data.read(size)

    def tell(self) -> int:
        return self._data.tell()


class Broken(ReadOnly):
    def read(self, size: int = -1) -> bytes:
        raise OSError("connection reset")


@pytest.fixture(scope="module")
def app() -> Iterator[Flask]:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 100
    with app.app_context():
        yield app


def environ(
    data: bytes = BODY,
    length: str | None = None,
    stream: type = io.BytesIO,
    **extra: Any,
) -> dict[str, Any]:
    env: dict[str, Any] = {"REQUEST_METHOD": "POST", "wsgi.input": stream(data), **extra}
    if length is not None:
        env["CONTENT_LENGTH"] = length
    return env


def outcome(read: Any, req: Request) -> tuple[Any, ...]:
    """What reading gave, then what the request and its input show afterwards."""
    try:
        got: Any = read(req)
    except Exception as err:  # the same error class and description either way
        got = (type(err), getattr(err, "description", str(err)))
    stream = req.__dict__.get("stream")
    after: tuple[Any, ...] = (
        type(stream),
        getattr(stream, "limit", None),
        getattr(stream, "_limit_is_max", None),
        getattr(stream, "is_exhausted", None),
        getattr(req, "_cached_data", None),
        req.environ["wsgi.input"].tell(),
    )
    try:
        again = (req.get_data(), req.data, req.stream.read())
    except Exception as err:
        again = (type(err),)
    return got, after, again


def same(make: Any, req_setup: Any = None) -> tuple[Any, ...]:
    werkzeug, ours = Request(make()), Request(make())
    if req_setup is not None:
        req_setup(werkzeug)
        req_setup(ours)
    expected = outcome(lambda r: r.get_data(cache=True), werkzeug)
    assert outcome(request_body, ours) == expected
    return expected


CASES: dict[str, dict[str, Any]] = {
    "whole body": {"length": str(len(BODY))},
    "empty body": {"data": b"", "length": "0"},
    "no length": {},
    "empty length": {"length": ""},
    "length not a number": {"length": "abc"},
    "negative length": {"length": "-5"},
    "length with spaces": {"length": f" {len(BODY)} "},
    "shorter than its length": {"length": str(len(BODY) + 10)},
    "nothing sent of its length": {"data": b"", "length": "10"},
    "longer than its length": {"length": "10"},
    "length at the limit": {"data": b"x" * 100, "length": "100"},
    "length over the limit": {"data": b"x" * 101, "length": "101"},
    "chunked": {"length": str(len(BODY)), "HTTP_TRANSFER_ENCODING": "chunked"},
    "gzip then chunked": {"length": "5", "HTTP_TRANSFER_ENCODING": "gzip, chunked"},
    "other transfer coding": {"length": "5", "HTTP_TRANSFER_ENCODING": "gzip"},
    "terminated input": {"length": "", "wsgi.input_terminated": True},
    "terminated input over the limit": {"data": b"x" * 150, "wsgi.input_terminated": True},
    "read-only input": {"length": str(len(BODY)), "stream": ReadOnly},
    "read-only input, short": {"length": str(len(BODY) + 3), "stream": ReadOnly},
    "input that fails": {"length": "10", "stream": Broken},
}


@pytest.mark.parametrize("name", list(CASES))
def test_request_body_is_get_data(app: Flask, name: str) -> None:
    same(lambda: environ(**CASES[name]))


@pytest.mark.parametrize("name", list(CASES))
def test_a_given_length_reads_as_get_data(app: Flask, name: str) -> None:
    """With the length its caller already read (read_json reads it once for the body and the
    cut-body check): the same bytes, errors and request state as Werkzeug's get_data."""
    werkzeug, ours = Request(environ(**CASES[name])), Request(environ(**CASES[name]))
    length = get_content_length(ours.environ)

    def read(req: Any) -> bytes:
        return request_body(req, length)

    assert outcome(read, ours) == outcome(lambda r: r.get_data(cache=True), werkzeug)


def test_the_fast_way_is_taken_for_a_whole_body(app: Flask) -> None:
    req = Request(environ(length=str(len(BODY))))
    assert request_body(req) == BODY
    assert req.__dict__["stream"].is_exhausted  # read here, not by get_data's readall


@pytest.mark.parametrize(
    "setup",
    [
        lambda r: r.get_data(cache=True),
        lambda r: r.get_data(cache=False),
        lambda r: r.stream.read(5),
        lambda r: setattr(r, "max_content_length", 10),  # Flask 3.1: a limit per request
        lambda r: setattr(r, "max_content_length", 1000),
    ],
    ids=["cached", "read uncached", "stream half read", "own limit below", "own limit above"],
)
def test_request_body_after_other_reads_is_get_data(app: Flask, setup: Any) -> None:
    same(lambda: environ(length=str(len(BODY))), setup)


def test_a_shallow_request_raises_as_get_data(app: Flask) -> None:
    make = environ(length=str(len(BODY)))
    with pytest.raises(RuntimeError):
        Request(make, shallow=True).get_data(cache=True)
    with pytest.raises(RuntimeError):
        request_body(Request(environ(length=str(len(BODY))), shallow=True))


def test_without_an_app_context_the_limit_is_werkzeugs() -> None:
    same(lambda: environ(data=b"x" * 200, length="200"))


@settings(max_examples=300, deadline=None)
@given(
    data=st.binary(max_size=130),
    length=st.one_of(st.none(), st.integers(-2, 130).map(str), st.sampled_from(["", "x", "1e2"])),
    coding=st.sampled_from([None, "chunked", "identity"]),
    terminated=st.booleans(),
    read_only=st.booleans(),
)
def test_request_body_is_get_data_for_any_input(
    data: bytes, length: str | None, coding: str | None, terminated: bool, read_only: bool
) -> None:
    extra: dict[str, Any] = {}
    if coding is not None:
        extra["HTTP_TRANSFER_ENCODING"] = coding
    if terminated:
        extra["wsgi.input_terminated"] = True
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 100
    with app.app_context():
        same(lambda: environ(data, length, ReadOnly if read_only else io.BytesIO, **extra))


def test_the_module_reads_what_get_input_stream_reads() -> None:
    """request_body follows Werkzeug's ``get_input_stream``: its parse of the length."""
    assert body_module.get_content_length({"CONTENT_LENGTH": "7"}) == 7
    assert (
        body_module.get_content_length({"CONTENT_LENGTH": "7", "HTTP_TRANSFER_ENCODING": "chunked"})
        is None
    )
