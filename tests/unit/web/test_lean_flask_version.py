"""LeanFlask's copies of Flask's per-request steps are used only with the Flask release they were
copied from (3.1.3 on in 3.1): Flask 3.1.2 has no ``RequestContext._session``, so the copies
would fail every request there; any other release runs Flask's own steps."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from gateway.app import LEAN_STEPS, GatewayFlask, LeanFlask, lean_steps_fit


@pytest.mark.parametrize(
    ("release", "fits"),
    [
        ("3.1.3", True),
        ("3.1.4", True),
        ("3.1.10", True),
        ("3.1.3rc1", True),
        ("3.1.2", False),
        ("3.1.0", False),
        ("3.0.3", False),
        ("3.2.0", False),
        ("4.0.0", False),
        ("3.1", False),
        ("3.1.dev0", False),
        ("", False),
    ],
)
def test_lean_steps_fit_only_the_release_they_were_copied_from(release: str, fits: bool) -> None:
    assert lean_steps_fit(release) is fits


def test_gateway_flask_takes_the_lean_steps_exactly_when_they_fit() -> None:
    assert LEAN_STEPS is lean_steps_fit(version("flask"))
    assert issubclass(GatewayFlask, LeanFlask) is LEAN_STEPS
