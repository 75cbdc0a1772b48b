"""A real 389 Directory Server for tests: created by ``dscreate`` under a private prefix, run
in the foreground by this object, stopped by its pid.

Why a private prefix: lib389 (behind ``dscreate``) finds an instance's files through
``$PREFIX/share/dirsrv/inf/defaults.inf`` and ``$PREFIX/etc/dirsrv/slapd-NAME/dse.ldif``. Giving
it a ``defaults.inf`` whose state paths (config, database, logs, run, lock) point into
``run_dir`` is how 389's own ``dscreate ds-root`` sets up non-root instances; this module does
the same (``ds-root`` refuses to run as root, CI runs as root) and so never touches
``/etc/dirsrv``, ``/var/lib/dirsrv`` or systemd. Binaries, plugins and the system schema stay
where the package put them. The instance listens on ``host`` only: the ``cn=config`` template
``dscreate`` renders gets ``nsslapd-listenhost`` before the first start.

``dscreate`` starts the server once to configure it online, then stops it (``start = False``).
Before the first real start ``dse.ldif`` gets a small fixed database cache, non-durable
transactions unless asked, and (with :class:`ServerCert`) TLS. :meth:`Ds389.start` runs
``ns-slapd -d <389's default level>`` in the foreground, so an early exit is seen at once.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from support.slapd import free_port

SYSTEM_DEFAULTS = Path("/usr/share/dirsrv/inf/defaults.inf")
SYSTEM_DATA = Path("/usr/share/dirsrv/data")
SYSTEM_ETC = Path("/etc/dirsrv")
_SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin")

DEFAULT_ADMIN_PASSWORD = "test-Admin/&=,pw1"  # test only; dscreate wants >= 8 characters
INSTANCE = "gw"

# defaults.inf keys naming per-instance state: moved below run_dir/root
_STATE_KEYS = frozenset(
    {
        "sysconf_dir", "initconfig_dir", "config_dir", "local_state_dir", "run_dir", "ldapi",
        "pid_file", "tmpfiles_d", "schema_dir", "cert_dir", "lock_dir", "log_dir", "access_log",
        "audit_log", "error_log", "security_log", "db_dir", "db_home_dir", "backup_dir",
        "ldif_dir", "tmp_dir", "inst_dir",
    }
)  # fmt: skip

_CREATE_TIMEOUT_S = 120.0  # dscreate starts and stops the server once: ~6 s on 2 cores
_START_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 30.0
_POLL_S = 0.05
_LOG_TAIL_LINES = 30
# dscreate (Python) says "Address already in use"; ns-slapd "PR_Bind() on ... port N failed:
# ... (Local Network address is in use.)"
_PORT_TAKEN = re.compile(r"address (is |already )?in use|PR_Bind\(\)", re.IGNORECASE)


def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for d in _SBIN_DIRS:
        if os.access(Path(d, name), os.X_OK):
            return str(Path(d, name))
    return None


def _accepts(host: str, port: int) -> bool:
    """Whether something accepts TCP connections on host:port right now."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def ds389_installed() -> bool:
    """True if Debian's 389-ds-base (dscreate, dsctl, ns-slapd, defaults.inf) is installed."""
    tools = all(_tool(name) for name in ("dscreate", "dsctl", "ns-slapd"))
    return tools and SYSTEM_DEFAULTS.is_file()


@dataclass(frozen=True, slots=True)
class ServerCert:
    """PEM files for the instance's TLS: the CA that signed ``cert`` (clients trust it),
    the server certificate (for 127.0.0.1) and its unencrypted key."""

    ca: Path
    cert: Path
    key: Path


class Ds389:
    """One 389 DS instance living in run_dir: its prefix tree, the INF given to dscreate,
    the server's own logs and the foreground process's output all stay there."""

    def __init__(
        self,
        run_dir: Path,
        *,
        host: str = "127.0.0.1",
        suffix: str = "dc=example,dc=com",
        admin_password: str = DEFAULT_ADMIN_PASSWORD,
        durable: bool = False,
        tls: ServerCert | None = None,
    ) -> None:
        self.run_dir = Path(run_dir)
        self.tls = tls  # StartTLS on the LDAP port and LDAPS on secure_port; 389 DS takes
        # passwords (Password Modify) only over TLS
        self.durable = durable  # False: no fsync per write (fast tests), as Slapd's dbnosync
        self.host = host
        self.port: int | None = None
        self.secure_port: int | None = None  # LDAPS, with ``tls``
        self._suffix = suffix
        self._admin_password = admin_password
        self._proc: subprocess.Popen[bytes] | None = None
        self.create_seconds: float | None = None  # how long dscreate took (for the report)
        self.start_seconds: float | None = None  # launch to first successful bind

    def __repr__(self) -> str:
        return f"Ds389(run_dir={str(self.run_dir)!r}, port={self.port!r})"

    # --- properties ---------------------------------------------------------------------------
    @property
    def root(self) -> Path:
        """The private prefix (``$PREFIX`` for lib389)."""
        return self.run_dir / "root"

    @property
    def url(self) -> str:
        if self._proc is None or self.port is None:
            raise RuntimeError("389 DS has not been started")
        return f"ldap://{self.host}:{self.port}"

    @property
    def suffix(self) -> str:
        return self._suffix

    @property
    def admin_dn(self) -> str:
        return "cn=Directory Manager"

    @property
    def admin_password(self) -> str:
        return self._admin_password

    @property
    def config_dir(self) -> Path:
        return self.root / "etc" / "dirsrv" / f"slapd-{INSTANCE}"

    @property
    def pid_file(self) -> Path:
        return self.root / "run" / "dirsrv" / f"slapd-{INSTANCE}.pid"

    @property
    def error_log(self) -> Path:
        return self.root / "var" / "log" / "dirsrv" / f"slapd-{INSTANCE}" / "errors"

    @property
    def output_file(self) -> Path:
        """stdout and stderr of the foreground ns-slapd."""
        return self.run_dir / "ns-slapd.out"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    # --- lifecycle ----------------------------------------------------------------------------
    def create(self) -> Self:
        """Create the instance with dscreate (server stopped afterwards); RuntimeError on failure.

        Retried with another port if the kernel's free port was taken in the meantime."""
        if (self.config_dir / "dse.ldif").exists():
            self.port = self._config_port("nsslapd-port")
            self.secure_port = self._config_port("nsslapd-securePort") if self.tls else None
            return self
        for attempt in range(1, 4):
            self.port = free_port(self.host)
            self._prepare_prefix()
            started = time.monotonic()
            proc = subprocess.run(
                [_tool("dscreate") or "dscreate", "from-file", str(self.run_dir / "instance.inf")],
                env=self._tool_env(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=_CREATE_TIMEOUT_S,
                check=False,
            )
            (self.run_dir / "dscreate.out").write_text(proc.stdout + proc.stderr)
            if proc.returncode == 0:
                self.create_seconds = time.monotonic() - started
                self._size_for_tests()
                if self.tls is not None:
                    self._enable_tls(self.tls)
                return self
            self._kill_leftover()
            taken = _PORT_TAKEN.search(proc.stdout + proc.stderr + self.log_tail())
            if not (taken and attempt < 3):
                raise RuntimeError(
                    self._failure(f"dscreate (exit {proc.returncode})", proc.stdout + proc.stderr)
                )
            shutil.rmtree(self.root)
        raise AssertionError("unreachable")

    def start(self) -> Self:
        """Create if needed, run ns-slapd in the foreground and wait until the rootdn can bind."""
        self.create()
        for attempt in range(1, 4):
            if self._launch():
                return self
            if not (_PORT_TAKEN.search(self.output_tail()) and attempt < 3):
                raise RuntimeError(self._failure("ns-slapd exited during start-up", ""))
            self._set_port(free_port(self.host))
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """SIGTERM to the pid this object started, SIGKILL after the timeout; no-op if stopped."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(_STOP_TIMEOUT_S)
            raise RuntimeError(f"ns-slapd (pid {proc.pid}) ignored SIGTERM; killed") from None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def admin_connection(self, **options: Any) -> Any:
        """A bound ldap3 SYNC connection as cn=Directory Manager (the caller unbinds it)."""
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

    # --- helpers ------------------------------------------------------------------------------
    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The end of the server's error log (where 389 DS writes why it stopped)."""
        try:
            text = self.error_log.read_text(errors="replace")
        except FileNotFoundError:
            return "(no errors log)"
        return "\n".join(text.splitlines()[-lines:])

    def _launch(self) -> bool:
        """Start ns-slapd; True once the rootdn can bind, False if it exited first."""
        from ldap3.core.exceptions import LDAPException

        # foreground, so this object owns the process; the level is 389's default (slap.h
        # SLAPD_DEFAULT_ERRORLOG_LEVEL, as dscontainer passes it): a smaller one silences
        # the errors log as well
        command = [_tool("ns-slapd") or "ns-slapd", "-D", str(self.config_dir)]
        command += ["-i", str(self.pid_file), "-d", "266354688"]
        started = time.monotonic()
        with self.output_file.open("ab") as out:
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = started + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._proc = None
                return False
            if _accepts(self.host, int(self.port or 0)):
                try:
                    self.admin_connection(receive_timeout=2).unbind()
                except LDAPException:
                    pass  # listening before its backends are up; the deadline bounds the wait
                else:
                    self.start_seconds = time.monotonic() - started
                    return True
            time.sleep(_POLL_S)
        self.stop()
        raise RuntimeError(self._failure(f"ns-slapd did not answer within {_START_TIMEOUT_S}s", ""))

    def _prepare_prefix(self) -> None:
        """The private prefix: defaults.inf moved into run_dir, a copy of /etc/dirsrv's schema
        and config, the data templates with ``nsslapd-listenhost``, and the INF answer file."""
        user = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
        root = self.root
        lines = []
        for line in SYSTEM_DEFAULTS.read_text().splitlines():
            key, sep, value = (part.strip() for part in line.partition("="))
            if sep and key in _STATE_KEYS and value.startswith("/"):
                line = f"{key} = {root}{value}"
            elif sep and key in {"user", "group", "with_systemd", "with_selinux", "data_dir"}:
                line = (
                    f"{key} = "
                    + {
                        "user": user,
                        "group": group,
                        "with_systemd": "0",
                        "with_selinux": "no",
                        "data_dir": str(root / "share"),
                    }[key]
                )
            lines.append(line)
        inf_dir = root / "share" / "dirsrv" / "inf"
        inf_dir.mkdir(parents=True, exist_ok=True)
        (inf_dir / "defaults.inf").write_text("\n".join(lines) + "\n")
        data = root / "share" / "dirsrv" / "data"
        shutil.copytree(SYSTEM_DATA, data, dirs_exist_ok=True)
        template = data / "template-dse.ldif"
        text = template.read_text()
        text = text.replace(
            "nsslapd-port: %ds_port%\n",
            f"nsslapd-port: %ds_port%\nnsslapd-listenhost: {self.host}\n"
            f"nsslapd-securelistenhost: {self.host}\n",
            1,
        )
        template.write_text(text)
        for sub in ("config", "schema"):
            shutil.copytree(SYSTEM_ETC / sub, root / "etc" / "dirsrv" / sub, dirs_exist_ok=True)
        (root / "tmp").mkdir(exist_ok=True)
        # INF answer file (dscreate create-template documents every key)
        (self.run_dir / "instance.inf").write_text(
            "\n".join(
                [
                    "[general]",
                    "config_version = 2",
                    "full_machine_name = localhost",
                    "selinux = False",
                    "systemd = False",
                    "start = False",
                    "strict_host_checking = False",
                    "[slapd]",
                    f"instance_name = {INSTANCE}",
                    f"port = {self.port}",
                    "self_sign_cert = False",
                    f"root_password = {self._admin_password}",
                    f"user = {user}",
                    f"group = {group}",
                    "[backend-userroot]",
                    f"suffix = {self._suffix}",
                    "create_suffix_entry = True",
                    "",
                ]
            )
        )
        (self.run_dir / "instance.inf").chmod(0o600)

    def _tool_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
        env.update(PREFIX=str(self.root), INSTALL_PREFIX=str(self.root))
        return env

    def _size_for_tests(self) -> None:
        """A fixed 16 MB database cache instead of 389's autosizing (a quarter of the RAM:
        ~1.5 GB here, ~100 MB of region files in every kept run dir); durability as asked."""
        self._set_config("nsslapd-cache-autosize", "0")
        self._set_config("nsslapd-dbcachesize", str(16 * 1024 * 1024))
        self._set_config("nsslapd-db-durable-transaction", "on" if self.durable else "off")

    def _enable_tls(self, tls: ServerCert) -> None:
        """Put the certificate in the instance's NSS database (dsctl, offline) and turn
        security on with LDAPS on a free loopback port."""
        for args in (
            ("import-ca", str(tls.ca), "test-ca"),
            ("import-server-key-cert", str(tls.cert), str(tls.key)),
        ):
            proc = subprocess.run(
                [_tool("dsctl") or "dsctl", INSTANCE, "tls", *args],
                env=self._tool_env(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=_CREATE_TIMEOUT_S,
                check=False,
            )
            if proc.returncode != 0:
                raise RuntimeError(
                    self._failure(f"dsctl tls {args[0]} failed", proc.stdout + proc.stderr)
                )
        self.secure_port = free_port(self.host)
        # cn=config has a securePort line but no security line yet: add it below
        self._set_config("nsslapd-securePort", f"{self.secure_port}\nnsslapd-security: on")

    def _config_port(self, key: str) -> int | None:
        found = re.search(rf"(?m)^{key}: (\d+)$", (self.config_dir / "dse.ldif").read_text())
        return int(found.group(1)) if found else None

    def _set_config(self, key: str, value: str) -> None:
        """Set a single-valued cn=config attribute in the stopped instance's dse.ldif."""
        dse = self.config_dir / "dse.ldif"
        text, count = re.subn(rf"(?m)^{re.escape(key)}: .*$", f"{key}: {value}", dse.read_text())
        if count != 1:
            raise RuntimeError(f"{dse}: expected one '{key}' line, found {count}")
        dse.write_text(text)

    def _set_port(self, port: int) -> None:
        """Move the stopped instance to another port (cn=config in dse.ldif); the LDAPS port
        too, since the one taken may have been either."""
        self._set_config("nsslapd-port", str(port))
        self.port = port
        if self.secure_port is not None:
            self.secure_port = free_port(self.host)
            self._set_config("nsslapd-securePort", str(self.secure_port))

    def _kill_leftover(self) -> None:
        """A dscreate that failed half-way may leave its detached ns-slapd running."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + _STOP_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(_POLL_S)

    def output_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The end of the foreground ns-slapd's output (start-up errors come before the
        errors log is open)."""
        try:
            text = self.output_file.read_text(errors="replace")
        except FileNotFoundError:
            return "(no output)"
        return "\n".join(text.splitlines()[-lines:])

    def _failure(self, what: str, output: str) -> str:
        return (
            f"389 DS in {self.run_dir}: {what}\n"
            f"--- output ---\n{output}"
            f"--- tail of {self.output_file} ---\n{self.output_tail()}\n"
            f"--- tail of {self.error_log} ---\n{self.log_tail()}"
        )
