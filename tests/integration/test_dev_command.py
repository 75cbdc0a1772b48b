"""README's first command, `scripts/run.sh`, for real: a seeded slapd and the gateway serving.

Run with its own state directory and free ports, so it never touches a developer's .local/.
Pins what a new admin relies on: the printed token works, and the admin password file holds
the exact bytes (no trailing newline), so `ldapsearch -y FILE` binds.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.slapd import REPO_ROOT, RUN_SLAPD, free_port, slapd_installed

pytestmark = pytest.mark.skipif(
    not slapd_installed() or shutil.which("ldapsearch") is None,
    reason="needs slapd and ldap-utils",
)


@pytest.fixture
def dev_command(tmp_path: Path) -> Iterator[dict[str, str]]:
    local = tmp_path / "local"
    env = {
        **os.environ,
        "SCIM_GATEWAY_LOCAL_DIR": str(local),
        "PORT": str(free_port()),
        "SLAPD_PORT": str(free_port()),
        "SCIM_GATEWAY_LOG_LEVEL": "WARNING",
    }
    log = (tmp_path / "run.log").open("w")
    proc = subprocess.Popen(
        ["bash", str(REPO_ROOT / "scripts" / "run.sh")],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield {"local": str(local), "port": env["PORT"], "slapd_port": env["SLAPD_PORT"]}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
        log.close()
        subprocess.run(
            ["bash", str(RUN_SLAPD), "stop", str(local / "slapd")], check=False, timeout=30
        )


def wait_ready(port: str, token: str, seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/scim/v2/Users", headers={"Authorization": f"Bearer {token}"}
    )
    while True:
        try:
            with urllib.request.urlopen(request, timeout=5) as resp:  # noqa: S310 (loopback)
                return json.loads(resp.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_run_sh_serves_the_seeded_directory_and_its_password_file_works_with_ldapsearch(
    dev_command: dict[str, str],
) -> None:
    local = Path(dev_command["local"])
    deadline = time.monotonic() + 60
    while not (local / "token").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    token = (local / "token").read_text(encoding="utf-8")
    listing = wait_ready(dev_command["port"], token)
    assert listing["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]

    password = (local / "admin-password").read_bytes()
    assert password and not password.endswith(b"\n") and token == token.strip()
    found = subprocess.run(
        [
            "ldapsearch",
            "-x",
            "-LLL",
            "-H",
            f"ldap://127.0.0.1:{dev_command['slapd_port']}",
            "-D",
            "cn=admin,dc=example,dc=org",
            "-y",
            str(local / "admin-password"),
            "-b",
            "dc=example,dc=org",
            "-s",
            "base",
            "dn",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert found.returncode == 0, found.stderr
    assert "dn: dc=example,dc=org" in found.stdout


def test_run_sh_trims_a_password_file_written_with_a_newline(tmp_path: Path) -> None:
    """Older run.sh versions wrote the secrets with a trailing newline; the next start fixes it."""
    local = tmp_path / "local"
    local.mkdir()
    (local / "admin-password").write_text("s3cret-old\n", encoding="utf-8")
    script = (REPO_ROOT / "scripts" / "run.sh").read_text(encoding="utf-8")
    start = script.index("secret() {")
    end = script.index("\n}\n", start) + 3
    helper = script[start:end]
    venv = REPO_ROOT / ".venv"
    subprocess.run(
        ["bash", "-c", f'VENV="{venv}"\n{helper}\nsecret "$1"', "-", str(local / "admin-password")],
        check=True,
        timeout=30,
    )
    assert (local / "admin-password").read_bytes() == b"s3cret-old"
