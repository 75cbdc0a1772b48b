"""The front door served by a real uvicorn server in a thread, on a loopback socket."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn

from gateway.frontdoor.bridge import FrontDoor, Limits
from gateway.frontdoor.protocol import with_deadline


def serve(
    app: Callable[..., Any], sock: socket.socket, loop: str, header_timeout: float
) -> tuple[uvicorn.Server, threading.Thread]:
    """``app`` behind the front door (one pool thread) on ``sock``, on the event loop named by
    ``loop`` (uvicorn's setting); returns once the server is started. Stop it with
    ``server.should_exit = True`` and a join of the thread."""
    config = uvicorn.Config(
        FrontDoor(app, Limits(threads=1)),
        http=with_deadline(header_timeout),
        loop=loop,
        lifespan="off",
        access_log=False,
        log_level="warning",
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started
    return server, thread
