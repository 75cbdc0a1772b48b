"""GatewayResponse (gateway/web/response.py): the same status, headers and body as Werkzeug's
response class gives, whether sent as it is or through Werkzeug."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Response
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.urls import iri_to_uri

from gateway.web.response import GatewayResponse, plain_url

BODY = b'{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"a"}'
SCIM = "application/scim+json; charset=utf-8"
LOCATION = "http://127.0.0.1:8080/scim/v2/Users/0f7e3c2a-1111-2222-3333-444455556666"


def answer(
    status: int = 200,
    headers: list[tuple[str, str]] | None = None,
    body: Any = BODY,
    **kwargs: Any,
) -> Callable[[type[Response]], Response]:
    def make(cls: type[Response]) -> Response:
        content = body() if callable(body) else body  # a generator: one for each response
        resp = cls(content, status=status, content_type=SCIM, **kwargs)
        for key, value in headers or []:
            resp.headers.add(key, value)
        return resp

    return make


def chunks() -> Any:
    yield b"[1,"
    yield "2]"


# (how the response is made, the request method, whether it is sent as it is)
CASES: dict[str, tuple[Callable[[type[Response]], Response], str, bool]] = {
    "get": (answer(headers=[("ETag", 'W/"1"')]), "GET", True),
    "created with location": (answer(201, [("Location", LOCATION)]), "POST", True),
    "error": (answer(400), "PATCH", True),
    "server error": (answer(503, [("Retry-After", "5")]), "GET", True),
    "empty body": (answer(body=b""), "GET", True),
    "head": (answer(), "HEAD", False),
    "no content": (answer(204, body=b""), "DELETE", True),
    "no content with etag": (answer(204, [("ETag", 'W/"2"')], body=b""), "PATCH", True),
    "no content, a body given": (answer(204, [("X-A", "1")]), "PATCH", True),
    "no content, two lengths": (answer(204, [("content-length", "5")], body=b""), "PATCH", True),
    "no content with location": (answer(204, [("Location", LOCATION)], body=b""), "PUT", True),
    "no content, relative location": (
        answer(204, [("Location", "/scim/v2/Users/a")], body=b""),
        "PUT",
        False,
    ),
    "no content, head": (answer(204, body=b""), "HEAD", False),
    "no content, streamed": (answer(204, body=chunks), "PATCH", False),
    "no content, passthrough": (answer(204, body=b"", direct_passthrough=True), "PATCH", False),
    "no content, content-location": (
        answer(204, [("Content-Location", "http://h/\u00e9")], body=b""),
        "PATCH",
        False,
    ),
    "not modified": (answer(304, [("ETag", 'W/"1"')], body=b""), "GET", False),
    "informational": (answer(103), "GET", False),
    "relative location": (answer(201, [("Location", "/scim/v2/Users/a")]), "POST", False),
    "location with space": (answer(201, [("Location", "http://h/a b")]), "POST", False),
    "non-ascii location": (answer(201, [("Location", "http://h/\u00e9")]), "POST", False),
    "upper-case host": (answer(201, [("Location", "http://H.example/a")]), "POST", False),
    "idn host": (answer(201, [("Location", "http://b\u00fccher.example/a")]), "POST", False),
    "location with query": (answer(201, [("Location", "http://h/a?b=c d")]), "POST", False),
    "two locations": (
        answer(201, [("Location", "http://h/a"), ("Location", "http://h/b")]),
        "POST",
        False,
    ),
    "lower-case location name": (answer(201, [("location", "http://h/a")]), "POST", False),
    "content-location": (answer(headers=[("Content-Location", "http://h/\u00e9")]), "GET", False),
    "streamed": (answer(body=chunks), "GET", False),
    "str chunks": (answer(body=["a", "b"]), "GET", False),
    "direct passthrough": (answer(direct_passthrough=True), "GET", False),
}


def wsgi(resp: Response, method: str) -> tuple[bytes, str, list[tuple[str, str]]]:
    app_iter, status, headers = resp.get_wsgi_response({"REQUEST_METHOD": method})
    body = b"".join(app_iter)
    close = getattr(app_iter, "close", None)
    if close is not None:
        close()
    return body, status, headers


@pytest.mark.parametrize("name", list(CASES))
def test_gateway_response_sends_what_werkzeug_sends(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    make, method, as_is = CASES[name]
    taken: list[bool] = []
    sent_as_is = GatewayResponse._sent_as_is

    def spy(self: GatewayResponse, environ: dict[str, Any]) -> bool:
        taken.append(sent_as_is(self, environ))
        return taken[-1]

    monkeypatch.setattr(GatewayResponse, "_sent_as_is", spy)
    assert wsgi(make(GatewayResponse), method) == wsgi(make(Response), method)
    assert taken == [as_is]


def test_a_close_callback_still_runs() -> None:
    closed: list[str] = []
    resp = GatewayResponse(BODY, content_type=SCIM)
    resp.call_on_close(lambda: closed.append("closed"))
    app_iter, _, _ = resp.get_wsgi_response({"REQUEST_METHOD": "GET"})
    assert b"".join(app_iter) == BODY
    app_iter.close()  # type: ignore[attr-defined]
    assert closed == ["closed"]


def test_a_close_callback_of_a_204_still_runs() -> None:
    closed: list[str] = []
    resp = GatewayResponse(b"", status=204, content_type=SCIM)
    resp.call_on_close(lambda: closed.append("closed"))
    app_iter, _, headers = resp.get_wsgi_response({"REQUEST_METHOD": "PATCH"})
    assert b"".join(app_iter) == b""
    assert "Content-Length" not in dict(headers)
    app_iter.close()  # type: ignore[attr-defined]
    assert closed == ["closed"]


def test_a_204_sent_as_is_has_no_length_and_no_body() -> None:
    resp = GatewayResponse(b"", status=204, content_type=SCIM)
    resp.headers["ETag"] = 'W/"3"'
    app_iter, status, headers = resp.get_wsgi_response({"REQUEST_METHOD": "PATCH"})
    assert (app_iter, status) == ([], "204 NO CONTENT")
    assert headers == [("Content-Type", SCIM), ("ETag", 'W/"3"')]
    assert resp.headers["Content-Length"] == "0"  # the response itself is left as it was


def test_headers_sent_as_is_are_a_copy() -> None:
    resp = GatewayResponse(BODY, content_type=SCIM)
    _, _, headers = resp.get_wsgi_response({"REQUEST_METHOD": "GET"})
    headers.append(("X-Later", "1"))
    assert "X-Later" not in resp.headers


@pytest.mark.parametrize(
    ("url", "plain"),
    [
        (LOCATION, True),
        ("https://scim.example.org/scim/v2/Groups/a-b_c.d~e", True),
        ("http://h", True),
        ("http://h:65535/x", True),
        ("http://h:65536/x", False),
        ("http://h:080/x", False),
        ("http://h:/x", False),
        ("http://h..example/x", False),
        ("http://" + "a" * 64 + "/x", False),
        ("http://H/x", False),
        ("http://h/x?y", False),
        ("http://h/x#y", False),
        ("http://u@h/x", False),
        ("http://[::1]/x", False),
        ("ftp://h/x", False),
        ("/relative", False),
    ],
)
def test_plain_url_examples(url: str, plain: bool) -> None:
    assert plain_url(url) is plain
    if plain:
        assert iri_to_uri(url) == url


_HOST_LABEL = st.text(alphabet="abcXYZ019-_.\u00e9", min_size=0, max_size=70)
_PATH = st.text(alphabet="az09/-._~%!$&'()*+,;=:@ ?#\"<>\\^`{|}\u00e9\u2603", max_size=30)


@given(
    scheme=st.sampled_from(["http", "https", "HTTP", "ftp"]),
    host=st.lists(_HOST_LABEL, min_size=1, max_size=3).map(".".join),
    port=st.one_of(st.none(), st.text(alphabet="0123456789", min_size=0, max_size=6)),
    path=_PATH,
)
def test_a_plain_url_is_what_iri_to_uri_gives_back(
    scheme: str, host: str, port: str | None, path: str
) -> None:
    url = f"{scheme}://{host}{'' if port is None else ':' + port}{'/' + path if path else ''}"
    if plain_url(url):
        assert iri_to_uri(url) == url
