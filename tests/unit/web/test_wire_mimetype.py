"""wire._mimetype: the media type Werkzeug's ``Request.mimetype`` gives, kept per header value,
and read_json's 415 for any type but SCIM's or plain JSON."""

from __future__ import annotations

import pytest
from flask import Flask, Request
from werkzeug.test import EnvironBuilder

from gateway.errors import UnsupportedMediaType
from gateway.web import wire

TYPES = [
    None,
    "",
    "application/scim+json",
    "application/scim+json; charset=utf-8",
    "Application/SCIM+JSON;Charset=UTF-8",
    "application/json",
    "APPLICATION/JSON ; q=1",
    ' application/json ; charset="utf-8"',
    "application/json, text/plain",
    "text/plain",
    "application/x-www-form-urlencoded",
    ";",
    "application/scim+json\x00",
    "application/scim+jsoné",
    "Ä/ö; x=ü",
    "multipart/form-data; boundary=--x",
]


def request_with(content_type: str | None) -> Request:
    environ = EnvironBuilder(path="/x", method="POST", data=b"{}").get_environ()
    environ.pop("CONTENT_TYPE", None)
    if content_type is not None:
        environ["CONTENT_TYPE"] = content_type
    return Request(environ)


@pytest.mark.parametrize("content_type", TYPES)
def test_the_media_type_is_werkzeugs(content_type: str | None) -> None:
    wire._MIMETYPES.clear()
    for _ in range(2):  # found, then kept
        assert wire._mimetype(request_with(content_type)) == request_with(content_type).mimetype
    parsed = request_with("text/plain")
    assert parsed.mimetype == "text/plain"  # parsed already: its own answer
    parsed.environ["CONTENT_TYPE"] = content_type or ""
    assert wire._mimetype(parsed) == "text/plain"


def test_the_kept_values_are_bounded() -> None:
    wire._MIMETYPES.clear()
    for n in range(wire._MAX_MIMETYPES + 20):
        assert wire._mimetype(request_with(f"application/x-{n}")) == f"application/x-{n}"
    assert len(wire._MIMETYPES) == wire._MAX_MIMETYPES


@pytest.mark.parametrize("content_type", TYPES)
def test_read_json_accepts_only_scim_or_json(content_type: str | None) -> None:
    app = Flask(__name__)
    environ = request_with(content_type).environ
    accepted = request_with(content_type).mimetype in wire.ACCEPTED_BODY_TYPES
    with app.request_context(environ):
        if accepted:
            assert wire.read_json() == {}
        else:
            with pytest.raises(UnsupportedMediaType):
                wire.read_json()
