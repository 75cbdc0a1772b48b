"""A request's URL adapter from gateway/web/routing.py: what ``bind_to_environ`` gives, whether
built by it (first request of a host) or from what is kept (every later one)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, Request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter
from werkzeug.wsgi import get_host

from gateway.app import GatewayFlask
from gateway.web import routing
from gateway.web.routing import BoundMaps

ADAPTER_FIELDS = (
    "server_name",
    "script_name",
    "subdomain",
    "url_scheme",
    "path_info",
    "default_method",
    "query_args",
    "websocket",
)


def environ(**overrides: Any) -> dict[str, Any]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/scim/v2/Users/abc",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "HTTP_HOST": "127.0.0.1:8080",
        "wsgi.url_scheme": "http",
    }
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


ENVIRONS = {
    "plain": environ(),
    "upper-case host": environ(HTTP_HOST="Scim.Example.COM"),
    "http default port": environ(HTTP_HOST="scim.example:80"),
    "https default port": environ(HTTP_HOST="scim.example:443", **{"wsgi.url_scheme": "https"}),
    "https other port": environ(HTTP_HOST="scim.example:8443", **{"wsgi.url_scheme": "https"}),
    "ipv6 host": environ(HTTP_HOST="[::1]:8080"),
    "no host header": environ(HTTP_HOST=None),
    "no host header, ipv6 server": environ(HTTP_HOST=None, SERVER_NAME="::1"),
    "invalid host characters": environ(HTTP_HOST="bad host\r\n"),
    "unicode host": environ(HTTP_HOST="b\u00fccher.example"),
    "script name": environ(SCRIPT_NAME="/gateway", PATH_INFO="/scim/v2/Groups"),
    "script name with slash": environ(SCRIPT_NAME="/gateway/"),
    "utf-8 path": environ(PATH_INFO="/scim/v2/Users/\u00c3\u00a9"),
    "invalid utf-8 path": environ(PATH_INFO="/scim/v2/Users/\u00ff\u00fe"),
    "no path": environ(PATH_INFO=None),
    "empty path": environ(PATH_INFO=""),
    "query": environ(QUERY_STRING="filter=userName%20eq%20%22a%22&count=2"),
    "latin-1 query": environ(QUERY_STRING="a=\u00c3\u00a9"),
    "no query": environ(QUERY_STRING=None),
    "post": environ(REQUEST_METHOD="POST", PATH_INFO="/scim/v2/Users"),
    "websocket upgrade": environ(HTTP_CONNECTION="keep-alive, Upgrade", HTTP_UPGRADE="websocket"),
    "upgrade, not websocket": environ(HTTP_CONNECTION="Upgrade", HTTP_UPGRADE="h2c"),
}


def url_map() -> Any:
    app = Flask("t")
    app.add_url_rule("/scim/v2/Users/<ident>", "user", lambda ident: ident)
    app.add_url_rule("/scim/v2/Users", "users", lambda: "", methods=["GET", "POST"])
    return app.url_map


def fields(adapter: MapAdapter) -> dict[str, Any]:
    return {name: getattr(adapter, name) for name in ADAPTER_FIELDS}


def werkzeug_binding(rules: Any, env: dict[str, Any]) -> tuple[str, dict[str, Any] | Exception]:
    request = Request(env)
    host = get_host(env)
    try:
        return host, fields(rules.bind_to_environ(request.environ, subdomain=""))
    except Exception as err:  # BadHost and the like: the same type must come out
        return host, err


def gateway_binding(maps: BoundMaps, env: dict[str, Any]) -> tuple[str, dict[str, Any] | Exception]:
    request = Request(env)
    try:
        adapter = maps.bind(request)
    except Exception as err:
        return request.host, err
    return request.host, fields(adapter)


def same(left: tuple[str, Any], right: tuple[str, Any]) -> bool:
    if isinstance(left[1], Exception) or isinstance(right[1], Exception):
        return left[0] == right[0] and type(left[1]) is type(right[1])
    return left == right


@pytest.mark.parametrize("name", list(ENVIRONS))
def test_first_and_later_bindings_equal_werkzeugs(name: str) -> None:
    env = ENVIRONS[name]
    rules = url_map()
    maps = BoundMaps(rules, "")
    # the first request of this host: built by bind_to_environ; then one with another path,
    # query and method (kept parts reused); then this one again, from what was kept
    other = {**env, "PATH_INFO": "/other", "QUERY_STRING": "x=1", "REQUEST_METHOD": "DELETE"}
    for case in (env, other, env):
        assert same(gateway_binding(maps, case), werkzeug_binding(rules, case)), case


@pytest.mark.parametrize("name", list(ENVIRONS))
def test_gateway_flask_routes_each_request_as_flask_does(name: str) -> None:
    env = ENVIRONS[name]

    def routed(app: Flask) -> Any:
        app.add_url_rule("/scim/v2/Users/<ident>", "user", lambda ident: ident)
        outcomes = []
        for _ in range(2):
            ctx = app.request_context(dict(env))
            adapter = ctx.url_adapter
            if adapter is None:
                outcomes.append(("no adapter", repr(ctx.request.routing_exception)))
                continue
            try:
                outcomes.append((ctx.request.host, adapter.match(return_rule=True)[1]))
            except HTTPException as err:
                outcomes.append((ctx.request.host, type(err)))
        return outcomes

    assert routed(GatewayFlask("t")) == routed(Flask("t"))


@pytest.mark.parametrize(
    "config",
    [{"SERVER_NAME": "scim.example"}, {"TRUSTED_HOSTS": ["127.0.0.1"]}],
)
def test_other_configurations_are_bound_by_flask(
    config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: BoundMaps, request: Request) -> MapAdapter:
        raise AssertionError("bound by gateway.web.routing")

    monkeypatch.setattr(BoundMaps, "bind", refuse)
    app = GatewayFlask("t")
    app.config.update(config)
    ctx = app.request_context(environ())
    assert ctx.url_adapter is not None or ctx.request.routing_exception is not None


def test_hosts_kept_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routing, "MAX_BOUND", 3)
    rules = url_map()
    maps = BoundMaps(rules, "")
    for n in range(10):
        env = environ(HTTP_HOST=f"h{n}.example")
        assert same(gateway_binding(maps, env), werkzeug_binding(rules, env))
    assert len(maps._bound) == 3
