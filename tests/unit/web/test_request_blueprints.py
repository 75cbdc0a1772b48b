"""GatewayRequest.blueprints (gateway/web/request_class.py) answers what flask.Request's does:
nested blueprints, app routes, unmatched requests, rules set by hand."""

from __future__ import annotations

import pytest
from flask import Blueprint, Flask, Request, request
from werkzeug.routing import Rule

from gateway.web.request_class import GatewayRequest


def app_with_nested_blueprints() -> Flask:
    app = Flask(__name__)
    app.request_class = GatewayRequest
    parent, child, grandchild = (
        Blueprint("p", __name__),
        Blueprint("c", __name__),
        Blueprint("g", __name__),
    )

    def view() -> str:
        return ",".join(request.blueprints)

    grandchild.add_url_rule("/three", "three", view)
    child.add_url_rule("/two", "two", view)
    child.register_blueprint(grandchild, url_prefix="/g")
    parent.add_url_rule("/one", "one", view)
    parent.register_blueprint(child, url_prefix="/c")
    app.register_blueprint(parent, url_prefix="/p")
    app.register_blueprint(parent, url_prefix="/again", name="again")
    app.add_url_rule("/plain", "plain", view)
    app.add_url_rule("/dotted", "not.a.blueprint", view)
    return app


@pytest.mark.parametrize(
    "path",
    ["/p/one", "/p/c/two", "/p/c/g/three", "/again/c/g/three", "/plain", "/dotted", "/nowhere"],
)
def test_the_blueprints_of_a_request_are_flasks(path: str) -> None:
    app = app_with_nested_blueprints()
    with app.test_request_context(path):
        ours = request._get_current_object()  # type: ignore[attr-defined]
        assert type(ours) is GatewayRequest
        flasks = Request(ours.environ)
        flasks.url_rule = ours.url_rule
        assert ours.blueprints == Request.blueprints.fget(ours) == flasks.blueprints  # type: ignore[attr-defined]
        if ours.blueprints:  # the very list Flask's cached split holds for the name
            assert ours.blueprints is flasks.blueprints
    assert app.test_client().get(path).status_code == (404 if path == "/nowhere" else 200)


def test_a_request_not_matched_or_matched_by_hand() -> None:
    req = GatewayRequest({"REQUEST_METHOD": "GET", "PATH_INFO": "/x", "wsgi.url_scheme": "http"})
    assert req.blueprints == [] and req.blueprints is not req.blueprints  # new lists, as Flask's
    for rule in (Rule("/x"), Rule("/x", endpoint="bp.view"), Rule("/x", endpoint="a.b.view")):
        req.url_rule = rule
        flasks = Request(req.environ)
        flasks.url_rule = rule
        assert req.blueprints == flasks.blueprints
    assert req.blueprints == ["a.b", "a"]


def test_a_view_sees_the_same_names() -> None:
    client = app_with_nested_blueprints().test_client()
    assert client.get("/again/c/g/three").get_data() == b"again.c.g,again.c,again"
    assert client.get("/plain").get_data() == b""
