"""The gateway as the container runs it: docker/gateway/entrypoint.sh -> scim-gateway serve.

:class:`Served` starts it on a free loopback port with the environment a test gives, waits for
``/healthz`` (over HTTPS when a CA file is given), and stops it with SIGTERM, keeping its
combined stdout/stderr in ``log_path`` for the test to read.
"""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Self

from support.slapd import REPO_ROOT, free_port

ENTRYPOINT = REPO_ROOT / "docker" / "gateway" / "entrypoint.sh"
START_TIMEOUT_S = 30


class Served:
    def __init__(
        self, env: dict[str, str], log_path: Path, *, cafile: Path | None = None, workers: int = 2
    ) -> None:
        self.port = free_port()
        self.scheme = "https" if cafile else "http"
        self.context = ssl.create_default_context(cafile=str(cafile)) if cafile else None
        self.log_path = log_path
        self.env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith("SCIM_GATEWAY_") and k != "PROMETHEUS_MULTIPROC_DIR"
            },
            "SCIM_GATEWAY_BIN": str(Path(sys.executable).parent / "scim-gateway"),
            "SCIM_GATEWAY_BIND": f"127.0.0.1:{self.port}",
            "SCIM_GATEWAY_WORKERS": str(workers),
            "SCIM_GATEWAY_THREADS": "2",
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self) -> Self:
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                ["bash", str(ENTRYPOINT)], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited early:\n{self.log()}")
            try:
                urllib.request.urlopen(  # noqa: S310
                    f"{self.base}/healthz", timeout=1, context=self.context
                ).close()
                return self
            except urllib.error.HTTPError:
                return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"gateway did not answer /healthz:\n{self.log()}") from None
                time.sleep(0.1)

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes, dict[str, str]]:
        req = urllib.request.Request(  # noqa: S310
            f"{self.base}{path}", data=body, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(req, timeout=10, context=self.context) as resp:  # noqa: S310
                return resp.status, resp.read(), dict(resp.headers)
        except urllib.error.HTTPError as err:
            return err.code, err.read(), dict(err.headers)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
