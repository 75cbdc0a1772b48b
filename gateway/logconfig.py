"""Logging set-up for the process (level from settings; one line per record)."""

from __future__ import annotations

import logging
import sys


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(getattr(h, "_scim_gateway", False) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._scim_gateway = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # ldap3 logs nothing useful at INFO, and its DEBUG can include bind credentials.
    logging.getLogger("ldap3").setLevel(logging.WARNING)
