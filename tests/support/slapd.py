"""A real OpenLDAP slapd for tests, driven through docker/slapd/run-slapd.sh.

The script is the single way this project runs its local directory (dev command, tests, Docker
image); this module only calls it, so what the tests exercise is what developers and the
container run.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_SLAPD = REPO_ROOT / "docker" / "slapd" / "run-slapd.sh"

# Test-only credentials. The punctuation exercises the script's safe template rendering.
DEFAULT_ADMIN_PASSWORD = "test-Admin/&=,pw1"

# Where run-slapd.sh looks when slapd is not on PATH; keep in sync with find_slapd there.
_SLAPD_DIRS = ("/usr/sbin", "/usr/local/sbin", "/usr/libexec", "/usr/local/libexec")

_SCRIPT_TIMEOUT_S = 120  # covers a first-time apt-get install; a normal start takes < 1 s
_LOG_TAIL_LINES = 30


def slapd_installed() -> bool:
    """True if run-slapd.sh will find a slapd binary without installing one."""
    if shutil.which("slapd"):
        return True
    return any(os.access(Path(d, "slapd"), os.X_OK) for d in _SLAPD_DIRS)


def slapd_binary() -> str:
    """The slapd run-slapd.sh runs (slapd is also slapcat/slapmodify/... with -T<tool>)."""
    found = shutil.which("slapd")
    if found:
        return found
    for d in _SLAPD_DIRS:
        if os.access(Path(d, "slapd"), os.X_OK):
            return str(Path(d, "slapd"))
    raise RuntimeError("slapd is not installed")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free on host a moment ago, below the kernel's ephemeral range.

    Why not the kernel's own pick (port 0): that comes from the ephemeral range, which
    clients' outgoing connections use too. While a test's slapd is down, a gateway retrying
    127.0.0.1:P may get P as its own local port and connect to itself (TCP simultaneous open),
    so P is taken when slapd restarts on it ("Address already in use", seen in CI).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    low = _ephemeral_low()
    for _ in range(50):
        port = random.randrange(10000, max(10001, low))
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return port
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _ephemeral_low() -> int:
    try:
        text = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text(encoding="ascii")
        return int(text.split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


class Slapd:
    """One slapd instance living in run_dir (config, database, pid file and log all inside)."""

    def __init__(
        self,
        run_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        suffix: str = "dc=example,dc=org",
        admin_password: str = DEFAULT_ADMIN_PASSWORD,
        dbnosync: bool = True,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.run_dir = Path(run_dir)
        self.extra_env = dict(extra_env or {})  # e.g. SLAPD_TLS_CERT_FILE for TLS tests
        self.host = host
        self._requested_port = port
        self.port: int | None = port
        self._suffix = suffix
        self._admin_password = admin_password
        self.dbnosync = dbnosync
        self._url: str | None = None
        self.start_messages = ""  # what run-slapd.sh said on stderr at the last start

    def __repr__(self) -> str:
        return f"Slapd(run_dir={str(self.run_dir)!r}, url={self._url!r})"

    # --- properties ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("slapd has not been started")
        return self._url

    @property
    def suffix(self) -> str:
        return self._suffix

    @property
    def admin_dn(self) -> str:
        return f"cn=admin,{self._suffix}"

    @property
    def admin_password(self) -> str:
        return self._admin_password

    @property
    def people_dn(self) -> str:
        return f"ou=People,{self._suffix}"

    @property
    def groups_dn(self) -> str:
        return f"ou=Groups,{self._suffix}"

    @property
    def pid_file(self) -> Path:
        return self.run_dir / "slapd.pid"

    @property
    def log_file(self) -> Path:
        return self.run_dir / "slapd.log"

    @property
    def pid(self) -> int | None:
        """The pid recorded in the run directory, or None when there is none."""
        try:
            return int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    # --- lifecycle ----------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        """Environment for run-slapd.sh: the caller's, with every setting this instance owns."""
        env = dict(os.environ)
        env.update(
            SLAPD_ADMIN_PASSWORD=self._admin_password,
            SLAPD_SUFFIX=self._suffix,
            SLAPD_HOST=self.host,
            SLAPD_DBNOSYNC="1" if self.dbnosync else "0",
        )
        if self.port is not None:
            env["SLAPD_PORT"] = str(self.port)
        env.update(self.extra_env)
        return env

    def admin_connection(self, **options: Any) -> Any:
        """A bound ldap3 SYNC connection as the rootdn, to look at the directory directly
        (the caller unbinds it); ``options``: more ldap3.Connection arguments."""
        from ldap3 import NONE, SYNC, Connection, Server

        return Connection(
            Server(self.url, get_info=NONE),
            user=self.admin_dn,
            password=self.admin_password,
            client_strategy=SYNC,
            auto_bind=True,
            auto_referrals=False,
            raise_exceptions=False,
            **options,
        )

    def run_script(self, command: str) -> subprocess.CompletedProcess[str]:
        """Run `run-slapd.sh COMMAND run_dir` with this instance's environment."""
        return subprocess.run(
            ["bash", str(RUN_SLAPD), command, str(self.run_dir)],
            env=self.env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=_SCRIPT_TIMEOUT_S,
            check=False,
        )

    def start(self) -> Self:
        """Start slapd (or find it already running from run_dir); raise RuntimeError on failure."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        attempts = 3 if self._requested_port is None else 1
        for attempt in range(1, attempts + 1):
            if self._requested_port is None:
                self.port = free_port(self.host)
            proc = self.run_script("start")
            self.start_messages = proc.stderr
            if proc.returncode == 0:
                lines = proc.stdout.strip().splitlines()
                if not lines:
                    raise RuntimeError(f"run-slapd.sh start printed no URL:\n{proc.stderr}")
                self._url = lines[-1].strip()
                return self
            port_taken = "Address already in use" in proc.stderr
            if not (port_taken and attempt < attempts):
                raise RuntimeError(self._failure("start", proc))
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """Stop slapd if it runs from run_dir (no-op otherwise); RuntimeError if it won't stop."""
        proc = self.run_script("stop")
        if proc.returncode != 0:
            raise RuntimeError(self._failure("stop", proc))
        self._url = None

    def kill(self) -> None:
        """SIGKILL: no goodbye to the clients, connections just break. Returns once the
        process is dead (a zombie counts: whoever adopted it may not have reaped it yet)."""
        pid = self.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
            except (FileNotFoundError, ProcessLookupError):
                return
            if state in ("Z", "X"):
                return
            time.sleep(0.01)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- helpers ------------------------------------------------------------------------------
    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return "(no slapd.log)"
        return "\n".join(text.splitlines()[-lines:])

    def _failure(self, command: str, proc: subprocess.CompletedProcess[str]) -> str:
        return (
            f"run-slapd.sh {command} {self.run_dir} failed (exit {proc.returncode})\n"
            f"--- script output ---\n{proc.stdout}{proc.stderr}"
            f"--- tail of {self.log_file} ---\n{self.log_tail()}"
        )


class SlapdPair:
    """Two multi-provider slapd nodes replicating each other (run-slapd.sh pair mode: serverID
    1 and 2, delta-syncrepl, dynlist memberOf), each in its own run directory and port."""

    def __init__(self, run_dir: Path, *, dbnosync: bool = True, **options: Any) -> None:
        ports = [free_port(), free_port()]
        while ports[1] == ports[0]:
            ports[1] = free_port()
        urls = [f"ldap://127.0.0.1:{p}" for p in ports]
        self.nodes = tuple(
            Slapd(
                Path(run_dir) / f"node{i + 1}",
                port=ports[i],
                dbnosync=dbnosync,
                extra_env={"SLAPD_SERVER_ID": str(i + 1), "SLAPD_PEER_URLS": urls[1 - i]},
                **options,
            )
            for i in range(2)
        )

    @property
    def urls(self) -> tuple[str, ...]:
        return tuple(f"ldap://127.0.0.1:{n.port}" for n in self.nodes)

    def start(self) -> Self:
        for node in self.nodes:
            node.start()
        return self

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
