"""gunicorn wiring: the Prometheus multi-process directory and gunicorn's logs going to root."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from gateway import server


def test_a_created_metrics_dir_is_removed_by_its_creator_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(server.MULTIPROC_ENV, raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(server.tempfile, "tempdir", None)
    cleanup = server.prepare_metrics_dir()
    created = Path(os.environ[server.MULTIPROC_ENV])
    assert created.parent == tmp_path and created.is_dir()
    monkeypatch.setattr(server.os, "getpid", lambda: -1)  # as in a forked worker
    cleanup()
    assert created.is_dir()
    monkeypatch.undo()
    monkeypatch.setenv(server.MULTIPROC_ENV, str(created))
    cleanup()
    assert not created.exists() and server.MULTIPROC_ENV not in os.environ
    monkeypatch.undo()  # puts back the path prepare_metrics_dir set directly: take it away
    os.environ.pop(server.MULTIPROC_ENV, None)


def test_an_operator_metrics_dir_is_kept_but_emptied_of_old_samples(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    given = tmp_path / "prom"
    given.mkdir()
    (given / "counter_123.db").write_bytes(b"old")
    (given / "README").write_text("keep")
    monkeypatch.setenv(server.MULTIPROC_ENV, str(given))
    server.prepare_metrics_dir()()
    assert [p.name for p in given.iterdir()] == ["README"]
    assert os.environ[server.MULTIPROC_ENV] == str(given)


def test_gunicorn_logs_through_the_root_logger() -> None:
    app = server.GatewayServer(object(), server.ServeOptions(log_level="WARNING"))
    assert app.cfg.logger_class is server.RootLogger
    assert app.cfg.control_socket_disable is True
    logger = server.RootLogger(app.cfg)
    assert logger.error_log.handlers == [] and logger.error_log.propagate
    assert logger.error_log.level == logging.WARNING
    tls = server.GatewayServer(
        object(), server.ServeOptions(certfile=Path("/c.pem"), keyfile=Path("/k.pem"))
    )
    assert (tls.cfg.certfile, tls.cfg.keyfile) == ("/c.pem", "/k.pem")
