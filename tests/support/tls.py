"""A throw-away certificate for TLS tests on loopback."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """(certificate, key) for 127.0.0.1, made with openssl (skipped without it; in CI,
    where .ci/run installs it, its absence fails the test instead)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is needed for the TLS test", pytrace=False)
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key
