"""GatewayFlask's per-request steps (gateway/app.py: full_dispatch_request, dispatch_request,
finalize_request, preprocess_request, process_response, do_teardown_request,
do_teardown_appcontext) call the
same hooks in the same order with the same arguments, and give the same responses and errors,
as Flask's own, with and without signal receivers, sessions and every kind of hook."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import (
    Blueprint,
    Flask,
    after_this_request,
    appcontext_tearing_down,
    g,
    request,
    request_finished,
    request_started,
    request_tearing_down,
    session,
)

from gateway.app import GatewayFlask

SIGNALS = (request_started, request_finished, request_tearing_down, appcontext_tearing_down)


def build(flask_class: type[Flask], log: list[Any], *, secret: bool = False) -> Flask:
    """An app with a hook of every kind, on the app and on a nested blueprint."""
    app = flask_class("t")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    if secret:
        app.secret_key = "test-only-secret"
    outer = Blueprint("outer", __name__)
    inner = Blueprint("inner", __name__)

    @app.url_value_preprocessor
    def _app_values(endpoint: str | None, values: dict[str, Any] | None) -> None:
        log.append(("app values", endpoint, dict(values or {})))
        if values and values.get("n") == "rewritten":
            values["n"] = "by the preprocessor"

    @outer.url_value_preprocessor
    def _outer_values(endpoint: str | None, values: dict[str, Any] | None) -> None:
        log.append(("outer values", endpoint))

    @app.before_request
    def _app_before() -> Any:
        log.append(("app before", request.path))
        if request.args.get("stop") == "app":
            return "stopped by app", 202
        return None

    @outer.before_request
    def _outer_before() -> None:
        log.append(("outer before",))

    @inner.before_request
    def _inner_before() -> Any:
        log.append(("inner before",))
        if request.args.get("stop") == "inner":
            return "stopped by inner", 203
        if request.args.get("fail") == "before":
            raise KeyError("before")
        return None

    @app.after_request
    def _app_after(response: Any) -> Any:
        log.append(("app after", response.status_code))
        response.headers["X-App"] = "1"
        if request.args.get("fail") == "after":
            raise ValueError("after")
        return response

    @inner.after_request
    def _inner_after(response: Any) -> Any:
        log.append(("inner after", response.status_code))
        return response

    @app.teardown_request
    def _app_teardown(exc: BaseException | None) -> None:
        log.append(("app teardown", repr(exc)))

    @inner.teardown_request
    def _inner_teardown(exc: BaseException | None) -> None:
        log.append(("inner teardown", repr(exc)))

    @app.teardown_appcontext
    def _appctx_teardown(exc: BaseException | None) -> None:
        log.append(("appctx teardown", repr(exc)))

    @app.errorhandler(LookupError)
    def _lookup(err: LookupError) -> Any:
        log.append(("handler", repr(err)))
        if request.args.get("fail") == "handler":
            raise RuntimeError("handler")
        return f"handled {err!r}", 409

    @inner.get("/view/<n>")
    def view(n: str) -> Any:
        log.append(("view", n, g.get("x")))
        if request.args.get("later"):

            @after_this_request
            def _later(response: Any) -> Any:
                log.append(("after this request", response.status_code))
                return response

        if request.args.get("session"):
            session["seen"] = n
        fail = request.args.get("fail")
        if fail == "view":
            raise LookupError(n)
        if fail == "unexpected":
            raise ZeroDivisionError(n)
        return {"n": n}

    @app.get("/plain")
    def plain() -> str:
        log.append(("plain view",))
        return "plain"

    @app.get("/folder/")
    def folder() -> str:
        log.append(("folder view",))
        return "folder"

    outer.register_blueprint(inner, url_prefix="/inner")
    app.register_blueprint(outer, url_prefix="/outer")
    return app


REQUESTS = [
    ("GET", "/outer/inner/view/1"),
    ("GET", "/outer/inner/view/rewritten"),
    ("GET", "/outer/inner/view/2?later=1"),
    ("GET", "/outer/inner/view/3?stop=app"),
    ("GET", "/outer/inner/view/4?stop=inner"),
    ("GET", "/outer/inner/view/5?fail=before"),
    ("GET", "/outer/inner/view/6?fail=view"),
    ("GET", "/outer/inner/view/7?fail=unexpected"),
    ("GET", "/outer/inner/view/8?fail=after"),
    ("GET", "/outer/inner/view/9?fail=view&later=1"),
    ("GET", "/outer/inner/view/10?fail=handler"),
    ("GET", "/outer/inner/view/11?session=1"),
    ("POST", "/outer/inner/view/12"),
    ("OPTIONS", "/outer/inner/view/13"),
    ("HEAD", "/outer/inner/view/14"),
    ("GET", "/plain"),
    ("GET", "/missing"),
    ("DELETE", "/plain"),
    ("OPTIONS", "/plain"),
    ("GET", "/folder"),
    ("POST", "/folder"),
    ("GET", "/folder/"),
    ("GET", "/outer/inner/view/"),
]


@contextmanager
def receivers(connected: bool, log: list[Any]) -> Iterator[None]:
    def receiver(sender: Any, **extra: Any) -> None:
        log.append(("signal", sorted(extra)))

    if connected:
        for signal in SIGNALS:
            signal.connect(receiver)
    try:
        yield
    finally:
        for signal in SIGNALS:
            signal.disconnect(receiver)


def run(flask_class: type[Flask], *, signals: bool, secret: bool) -> list[Any]:
    log: list[Any] = []
    app = build(flask_class, log, secret=secret)
    outcomes: list[Any] = []
    with receivers(signals, log):
        client = app.test_client()
        for method, path in REQUESTS:
            log.append(("request", method, path))
            response = client.open(path, method=method)
            headers = sorted(
                # a session cookie's signature holds the time: its payload is compared
                (k, v.split(".")[0] if k == "Set-Cookie" else v)
                for k, v in response.headers.items()
                if k != "Date"
            )
            outcomes.append((response.status_code, headers, response.get_data()))
    return [*outcomes, *log]


@pytest.mark.parametrize("signals", [False, True], ids=["no receivers", "receivers"])
@pytest.mark.parametrize("secret", [False, True], ids=["no session", "session"])
def test_gateway_flask_runs_a_request_as_flask_does(signals: bool, secret: bool) -> None:
    lean = run(GatewayFlask, signals=signals, secret=secret)
    assert lean == run(Flask, signals=signals, secret=secret)
    assert ("app teardown", "ZeroDivisionError('7')") in lean  # the hooks did run
    assert any(entry[0] == "signal" for entry in lean) == signals


def test_teardown_without_an_exception_given_reads_the_current_one() -> None:
    logs = []
    for flask_class in (Flask, GatewayFlask):
        log: list[Any] = []
        app = build(flask_class, log)
        with app.test_request_context("/outer/inner/view/1"):
            try:
                raise OSError("current")
            except OSError:
                app.do_teardown_request()
                app.do_teardown_appcontext()
        logs.append(log)
    assert logs[0] == logs[1]
    assert ("appctx teardown", "OSError('current')") in logs[1]
