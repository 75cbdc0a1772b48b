"""The workers' event loop: asyncio's, accepting one connection per turn.

All workers wait on the one listening socket gunicorn opened. asyncio's loop accepts up to
100 connections each time that socket turns readable, so when a client opens several
connections at once (a load balancer's pool, the benchmark's eight clients) the first worker
to wake takes them all and the other workers sit idle: measured with 2 workers and 8
keep-alive clients, reads ran at 0.4x the rate of gunicorn's gthread workers. Accepting one
connection per turn lets every woken worker take its share (the listening socket stays
readable, so nothing waits longer than one turn of the loop).

``_accept_connection`` is a private method of asyncio's selector loop, with the same
signature from Python 3.11 to 3.13; ``tests/unit/test_frontdoor.py`` checks it is still there.
"""

from __future__ import annotations

import asyncio
from typing import Any


class OneAcceptPerTurn(asyncio.SelectorEventLoop):
    def _accept_connection(  # type: ignore[override]
        self,
        protocol_factory: Any,
        sock: Any,
        sslcontext: Any = None,
        server: Any = None,
        backlog: int = 100,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        return super()._accept_connection(  # type: ignore[misc]
            protocol_factory, sock, sslcontext, server, 1, *args, **kwargs
        )


def new_loop() -> asyncio.AbstractEventLoop:
    """uvicorn's ``loop`` setting: a factory of event loops."""
    return OneAcceptPerTurn()
