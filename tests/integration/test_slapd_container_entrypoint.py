"""The test slapd image's entry point, minus Docker: `run-slapd.sh foreground DIR` as PID 1 would
run it, checked with the image's and the compose file's healthchecks, stopped with SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from ldap3 import BASE, Connection
from support.slapd import DEFAULT_ADMIN_PASSWORD, REPO_ROOT, RUN_SLAPD, free_port, slapd_installed

SUFFIX = "dc=example,dc=org"
ADMIN = f"cn=admin,{SUFFIX}"


@pytest.fixture(autouse=True)
def _needs_slapd() -> None:
    if not slapd_installed():
        message = "slapd (OpenLDAP) is not installed: apt-get install slapd ldap-utils"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@contextmanager
def foreground(run_dir: Path, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "SLAPD_ADMIN_PASSWORD": DEFAULT_ADMIN_PASSWORD,
        "SLAPD_HOST": "127.0.0.1",  # the image uses 0.0.0.0; loopback only here
        "SLAPD_PORT": str(port),
        "SLAPD_SUFFIX": SUFFIX,
    }
    with log.open("ab") as out:
        proc = subprocess.Popen(
            ["bash", str(RUN_SLAPD), "foreground", str(run_dir)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def bind(port: int, deadline_s: float, proc: subprocess.Popen[bytes], log: Path) -> Connection:
    """Wait until slapd accepts TCP connections, then bind as the admin."""
    deadline = time.monotonic() + deadline_s
    while True:
        if proc.poll() is not None:
            pytest.fail(f"slapd exited with {proc.returncode}:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"slapd did not listen within {deadline_s}s:\n{log.read_text()}")
            time.sleep(0.1)
    conn = Connection(f"ldap://127.0.0.1:{port}", ADMIN, DEFAULT_ADMIN_PASSWORD)
    assert conn.bind(), conn.result
    return conn


def healthchecks(port: int) -> dict[str, str]:
    """The slapd healthcheck commands of the image and the compose file, for this port."""
    dockerfile = (REPO_ROOT / "docker" / "slapd" / "Dockerfile").read_text().replace("\\\n", " ")
    found = re.search(r"^HEALTHCHECK .*? CMD (.+)$", dockerfile, re.M)
    assert found, "no HEALTHCHECK in the slapd Dockerfile"
    compose = yaml.safe_load((REPO_ROOT / "docker" / "docker-compose.yml").read_text())
    test = compose["services"]["slapd"]["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL"
    return {
        "image": found.group(1).replace("${SLAPD_PORT}", str(port)),
        "compose": test[1].replace(":3890/", f":{port}/"),
    }


def run_check(command: str) -> int:
    return subprocess.run(["sh", "-c", command], capture_output=True, timeout=30).returncode


def test_foreground_slapd_is_seeded_answers_healthchecks_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    run_dir, log, port = tmp_path / "run", tmp_path / "slapd.log", free_port()
    with foreground(run_dir, port, log) as proc:
        conn = bind(port, 20, proc, log)
        exe = Path(f"/proc/{proc.pid}/exe").resolve().name
        assert exe == "slapd", "the script must exec slapd (PID 1 in the container)"
        seeded = ("", "ou=People,", "ou=Groups,", "cn=default,ou=Policies,")
        for dn in (prefix + SUFFIX for prefix in seeded):
            assert conn.search(dn, "(objectClass=*)", BASE), (dn, conn.result)
        assert conn.add(f"uid=kept,ou=People,{SUFFIX}", ["inetOrgPerson"], {"sn": "k", "cn": "k"})
        conn.unbind()
        for name, command in healthchecks(port).items():
            assert run_check(command) == 0, name

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0, log.read_text()
    for name, command in healthchecks(port).items():
        assert run_check(command) != 0, name

    # A restarted container finds its volume: no second seeding, the data is still there.
    with foreground(run_dir, port, log) as proc:
        conn = bind(port, 20, proc, log)
        assert conn.search(f"uid=kept,ou=People,{SUFFIX}", "(objectClass=*)", BASE)
        conn.unbind()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    assert log.read_text().count("creating database") == 1
