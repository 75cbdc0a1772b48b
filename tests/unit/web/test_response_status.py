"""GatewayResponse's status line (gateway/web/response.py): Werkzeug's for every kind of value,
kept per plain int code."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from werkzeug.wrappers import Response

from gateway.web import response as module
from gateway.web.response import GatewayResponse

VALUES: list[Any] = [
    *range(0, 1000),
    2**40,
    -1,
    True,
    *HTTPStatus,
    "204",
    "204 NO CONTENT",
    " 418 teapot ",
    "299",
    "abc",
    "0 x",
]


def answer(cls: type[Response], value: Any) -> Any:
    try:
        made = cls(status=value)
    except Exception as err:
        return type(err), str(err)
    return made.status, made.status_code


@pytest.mark.parametrize("rounds", [1, 2], ids=["found", "kept"])
def test_every_status_is_werkzeugs(rounds: int) -> None:
    module._STATUSES.clear()
    for _ in range(rounds):
        for value in VALUES:
            assert answer(GatewayResponse, value) == answer(Response, value), value
    assert set(module._STATUSES) == set(range(100, 600))  # plain int codes of HTTP only


def test_a_status_set_later_is_werkzeugs() -> None:
    ours, theirs = GatewayResponse(), Response()
    for value in (204, "201 CREATED", HTTPStatus.NOT_FOUND, 599, 999):
        ours.status = theirs.status = value
        assert (ours.status, ours.status_code) == (theirs.status, theirs.status_code)
        ours.status_code = theirs.status_code = 409
        assert (ours.status, ours.status_code) == (theirs.status, theirs.status_code)


def test_an_empty_status_is_refused_as_werkzeug_does() -> None:
    with pytest.raises(ValueError, match="Empty status"):
        GatewayResponse(status=" ")
