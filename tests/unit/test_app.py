"""GatewayFlask.ensure_sync: a plain function as it is, everything else as Flask answers."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from flask import Flask

from gateway.app import GatewayFlask


def _plain() -> str:
    return "plain"


async def _coroutine() -> str:
    return "async"


def _marked() -> Any:
    return _coroutine()


_marked._is_coroutine_marker = object()  # type: ignore[attr-defined]  # inspect.markcoroutinefunction (3.12+)


class _Asked(Exception):
    """Raised by the stand-in for Flask's own ensure_sync: Flask was asked."""


@pytest.fixture
def flask_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    def flask_ensure_sync(self: Flask, func: Any) -> Any:
        raise _Asked(func)

    monkeypatch.setattr(Flask, "ensure_sync", flask_ensure_sync)


def test_a_plain_function_is_returned_as_it_is(flask_asked: None) -> None:
    assert GatewayFlask("t").ensure_sync(_plain) is _plain


@pytest.mark.parametrize(
    "func",
    [_coroutine, _marked, functools.partial(_coroutine), functools.partial(_plain), print],
    ids=["async def", "marked", "partial of async", "partial", "builtin"],
)
def test_anything_else_is_left_to_flask(flask_asked: None, func: Any) -> None:
    with pytest.raises(_Asked):
        GatewayFlask("t").ensure_sync(func)


def test_flask_itself_returns_a_plain_function_as_it_is() -> None:
    """What the shortcut assumes of Flask (checked against the installed version)."""
    assert Flask.ensure_sync(Flask("t"), _plain) is _plain
