"""gateway/web/routeshapes.py: a request's route found per path shape answers exactly what
Werkzeug's ``MapAdapter.match`` answers, over every route of the gateway and odd paths."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, MapAdapter, Rule

from gateway.app import GatewayFlask
from gateway.web import resources, routeshapes
from gateway.web.routeshapes import ShapedAdapter, Shapes

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "get")

PATHS = (
    "",
    "/",
    "//",
    "/scim",
    "/scim/",
    "/scim/v2",
    "/scim/v2/",
    "/scim/v2/Users",
    "/scim/v2/Users/",
    "/scim/v2/Users//",
    "/scim/v2/Users/abc",
    "/scim/v2/Users/abc/",
    "/scim/v2/Users/abc/def",
    "/scim/v2/Users/abc//",
    "/scim/v2//Users/abc",
    "//scim/v2/Users/abc",
    "scim/v2/Users/abc",
    "/scim/v2/Users/.search",
    "/scim/v2/Users/.search/",
    "/scim/v2/.search",
    "/scim/v2/.search/",
    "/scim/v2/.search/x",
    "/scim/v2/Groups/2819c223-7f76-453a-919d-413861904646",
    "/scim/v2/Schemas",
    "/scim/v2/Schemas/",
    "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
    "/scim/v2/Schemas/Schemas",
    "/scim/v2/Schemas/.search",
    "/scim/v2/ResourceTypes/User",
    "/scim/v2/ServiceProviderConfig",
    "/scim/v2/ServiceProviderConfig/",
    "/scim/v2/ServiceProviderConfig/x",
    "/scim/v2/Users/Schemas",
    "/scim/v2/Users/v2",
    "/scim/v2/scim/v2",
    "/scim/v2/v2/scim",
    "/scim/v2/static/x",
    "/scim/v2/Users/a b",
    "/scim/v2/Users/a%2Fb",
    "/scim/v2/Users/\u00e9\u00e8",
    "/scim/v2/Users/\u00c3\u00a9",
    "/scim/v2/Users/\x00",
    "/scim/v2/Users/\x001",
    "/scim/v2/\x002/x",
    "/scim/v2/Users/a\nb",
    "/scim/v2/Users/..",
    "/scim/v2/Users/.",
    "/healthz",
    "/healthz/",
    "/healthz/x",
    "/readyz",
    "/metrics",
    "/metrics//",
    "/static/x.css",
    "/static/a/b/c",
    "/static/",
    "/static",
    "/static//x",
    "/nope",
    "/nope/",
    "/Users/abc",
)


def gateway_map() -> Map:
    """The gateway's routes as ``create_app`` registers them (blueprints and prefixes)."""
    from gateway.web import discovery, health, prometheus
    from gateway.web.wire import BASE_PATH

    app = GatewayFlask("gateway")
    app.url_map.strict_slashes = False
    app.register_blueprint(discovery.bp, url_prefix=BASE_PATH)
    app.register_blueprint(resources.bp, url_prefix=BASE_PATH)
    app.register_blueprint(health.bp)
    app.register_blueprint(prometheus.bp)
    if "static" not in app.view_functions:  # Flask's own, when it finds a static folder
        app.add_url_rule("/static/<path:filename>", "static", lambda filename: filename)
    return app.url_map


def outcome(adapter: MapAdapter, return_rule: bool = True) -> Any:
    try:
        found, args = adapter.match(return_rule=return_rule)
    except HTTPException as err:
        return (
            type(err),
            err.code,
            sorted(getattr(err, "valid_methods", None) or []),
            getattr(err, "new_url", None),
        )
    return found, args


def adapters(url_map: Map, shapes: Shapes, path: str, method: str) -> tuple[MapAdapter, ...]:
    args = (url_map, "127.0.0.1:8080", "", "", "http", path, method, None)
    shaped = ShapedAdapter(*args)
    shaped.shapes = shapes
    return MapAdapter(*args), shaped


@pytest.mark.parametrize("strict", [False, True])
def test_every_route_and_odd_path_matches_as_werkzeug(strict: bool) -> None:
    url_map = gateway_map()
    url_map.strict_slashes = strict
    for rule in url_map.iter_rules():
        rule.strict_slashes = strict
    url_map._remap = True
    shapes = Shapes(url_map)
    routes = [r.rule.replace("<", "").replace(">", "") for r in url_map.iter_rules()]
    checked = 0
    for _ in range(2):  # once to find each shape, once from what was kept
        for path, method in itertools.product((*PATHS, *routes), METHODS):
            plain, shaped = adapters(url_map, shapes, path, method)
            assert outcome(shaped) == outcome(plain), (path, method)
            assert outcome(shaped, False) == outcome(plain, False), (path, method)
            checked += 1
    assert shapes._table.eligible
    assert shapes._table.unsafe == (["", "", "static"],)
    kept = [a for a in shapes._table.answers.values() if a is not routeshapes._FALLBACK]
    assert len(kept) > 20  # the argument was exercised, not only the fallback
    assert checked > 1000


def test_values_come_from_the_request_path_not_the_shape() -> None:
    url_map = gateway_map()
    shapes = Shapes(url_map)
    for ident in ("a", "b", "Schemas", "\u00e9", "x" * 300):
        _, shaped = adapters(url_map, shapes, f"/scim/v2/Groups/{ident}", "PATCH")
        rule, args = shaped.match(return_rule=True)
        assert rule.endpoint == "resources.patch_resource"
        assert args == {"endpoint": "Groups", "ident": ident}
    assert len(shapes._table.answers) == 2  # "Schemas" is a static segment: a shape of its own


def test_explicit_arguments_go_to_werkzeug() -> None:
    url_map = gateway_map()
    shapes = Shapes(url_map)
    plain, shaped = adapters(url_map, shapes, "/scim/v2/Users/a", "GET")
    for kwargs in (
        {"path_info": "/healthz"},
        {"method": "DELETE"},
        {"path_info": "/scim/v2/Users/a/", "query_args": "x=1"},
        {"websocket": True},
    ):
        try:
            want: Any = plain.match(return_rule=True, **kwargs)
        except HTTPException as err:
            want = type(err)
        try:
            got: Any = shaped.match(return_rule=True, **kwargs)
        except HTTPException as err:
            got = type(err)
        assert got == want, kwargs
    assert shapes._table.answers == {}


@pytest.mark.parametrize(
    "rule",
    [
        Rule("/scim/v2/<int:n>", endpoint="number"),
        Rule("/scim/v2/x<name>", endpoint="prefixed"),
        Rule("/scim/v2/<a>/<path:rest>", endpoint="rest"),
        Rule("/scim/v2/d", endpoint="defaults", defaults={"k": 1}),
        Rule("/scim/v2/r/<a>", endpoint="moved", redirect_to="/scim/v2/{a}"),
        Rule("/scim/v2/<string(length=2):code>", endpoint="code"),
    ],
    ids=lambda r: r.endpoint,
)
def test_maps_outside_the_argument_are_matched_by_werkzeug(rule: Rule) -> None:
    url_map = gateway_map()
    url_map.add(rule)
    shapes = Shapes(url_map)
    for path, method in itertools.product((*PATHS, "/scim/v2/12", "/scim/v2/xy"), METHODS[:4]):
        plain, shaped = adapters(url_map, shapes, path, method)
        assert outcome(shaped) == outcome(plain), (path, method)
    # either the whole map, or every path under /scim/v2 (where the rule is), goes to Werkzeug
    if shapes._table.eligible:
        assert ["", "", "scim", "v2"] in shapes._table.unsafe
        assert all(key[1:5] != ("", "", "scim", "v2") for key in shapes._table.answers)
    else:
        assert shapes._table.answers == {}


@pytest.mark.parametrize("flask_class", [Flask, GatewayFlask])
def test_a_rule_added_later_is_seen(flask_class: type[Flask]) -> None:
    app = flask_class("t")
    app.url_map.strict_slashes = False
    app.add_url_rule("/a/<x>", "dynamic", lambda x: x)
    shapes = Shapes(app.url_map)
    _, shaped = adapters(app.url_map, shapes, "/a/b", "GET")
    assert shaped.match()[0] == "dynamic"
    app.url_map.add(Rule("/a/b", endpoint="static_b"))
    for path in ("/a/b", "/a/c"):
        plain, shaped = adapters(app.url_map, shapes, path, "GET")
        assert outcome(shaped) == outcome(plain)
    assert shaped.match()[0] == "dynamic"
    assert adapters(app.url_map, shapes, "/a/b", "GET")[1].match()[0] == "static_b"


def test_shapes_kept_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routeshapes, "MAX_SHAPES", 3)
    url_map = gateway_map()
    shapes = Shapes(url_map)
    for depth in range(1, 8):
        path = "/scim/v2" + "/x" * depth
        plain, shaped = adapters(url_map, shapes, path, "GET")
        assert outcome(shaped) == outcome(plain)
    assert len(shapes._table.answers) == 3
