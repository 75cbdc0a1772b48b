"""The ``scim-gateway`` command: ``serve`` (under gunicorn) and ``mapping check``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gateway.errors import ConfigError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scim-gateway", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the SCIM API with gunicorn")
    serve.add_argument("--bind", default="127.0.0.1:8080", help="HOST:PORT (default %(default)s)")
    serve.add_argument(
        "--workers", type=int, default=2, help="worker processes (default %(default)s)"
    )
    serve.add_argument(
        "--threads", type=int, default=4, help="threads per worker (default %(default)s)"
    )
    serve.add_argument("--timeout", type=int, default=30, help="worker timeout in seconds")

    mapping = sub.add_parser("mapping", help="work with mapping files")
    msub = mapping.add_subparsers(dest="mapping_command", required=True)
    check = msub.add_parser("check", help="validate mapping files")
    check.add_argument("files", nargs="+")

    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    return _mapping_check(args.files)


def _serve(args: argparse.Namespace) -> int:
    from gateway.app import create_app
    from gateway.logconfig import configure_logging
    from gateway.settings import Settings

    try:
        settings = Settings.from_env()
        configure_logging(settings.log_level)
        app = create_app(settings)
    except ConfigError as err:
        print(f"scim-gateway: {err}", file=sys.stderr)
        return 2
    from gunicorn.app.base import BaseApplication

    class _Gunicorn(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", [args.bind])
            self.cfg.set("workers", args.workers)
            self.cfg.set("threads", args.threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("timeout", args.timeout)
            self.cfg.set("preload_app", True)  # safe: the LDAP pool opens lazily per worker
            self.cfg.set("accesslog", None)  # the app logs one line per request itself

        def load(self):
            return app

    _Gunicorn().run()
    return 0


def _mapping_check(files: list[str]) -> int:
    from gateway.mapping.loader import load_mapping

    status = 0
    for path in files:
        try:
            mapping = load_mapping(path)
        except ConfigError as err:
            print(str(err), file=sys.stderr)
            status = 1
            continue
        names = ", ".join(mapping.resources)
        print(f"{path}: OK ({names})")
    return status


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
