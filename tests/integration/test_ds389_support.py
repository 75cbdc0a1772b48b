"""tests/support/ds389.py on its own: a start that cannot succeed fails fast and says why.

The working path (dscreate, start, bind, stop) is exercised by tests/e2e/test_389ds.py's
fixture; this covers the failure path without creating an instance.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from support.ds389 import INSTANCE, Ds389, ds389_installed


@pytest.fixture
def needs_389ds() -> None:
    if not ds389_installed():
        message = "389 Directory Server is not installed: apt-get install 389-ds-base"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest.mark.usefixtures("needs_389ds")
def test_an_ns_slapd_that_exits_at_once_fails_the_start_quickly(tmp_path: Path) -> None:
    server = Ds389(tmp_path)
    config = server.config_dir
    assert config.name == f"slapd-{INSTANCE}"
    config.mkdir(parents=True)
    (config / "dse.ldif").write_text("dn: cn=config\nnsslapd-port: 1\nthis is not LDIF\n")
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="ns-slapd exited during start-up") as failure:
        server.start()
    assert time.monotonic() - started < 15  # noticed the exit, did not wait for the deadline
    assert str(tmp_path) in str(failure.value)  # names the run dir, where the logs are kept
    assert "this is not LDIF" in str(failure.value)  # and quotes ns-slapd's complaint
    assert server.pid is None
    server.stop()  # nothing to stop: a no-op
