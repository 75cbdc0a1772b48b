"""The ``scim-gateway`` command: ``serve`` (see gateway.server), ``mapping check|explain``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gateway.admin.commands import add_mapping_commands, run_mapping_command
from gateway.errors import ConfigError

DESCRIPTION = (
    "SCIM 2.0 service provider in front of an LDAP directory. 'serve' runs the SCIM API; "
    "'mapping check' checks a mapping file (and the directory, with --ldap-url); "
    "'mapping explain' prints the LDIF a request would write. Settings: SCIM_GATEWAY_* "
    "environment variables (README)."
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scim-gateway", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser(
        "serve", help="serve the SCIM API with gunicorn (asyncio workers, a thread pool each)"
    )
    serve.add_argument("--bind", default="127.0.0.1:8080", help="HOST:PORT (default %(default)s)")
    serve.add_argument(
        "--workers", type=int, default=2, help="worker processes (default %(default)s)"
    )
    serve.add_argument(
        "--threads", type=int, default=4, help="threads per worker (default %(default)s)"
    )
    serve.add_argument("--timeout", type=int, default=30, help="worker timeout in seconds")

    mapping = sub.add_parser("mapping", help="check mapping files; explain requests as LDIF")
    add_mapping_commands(mapping)

    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    return run_mapping_command(args)


def _serve(args: argparse.Namespace) -> int:
    from gateway.logconfig import configure_logging
    from gateway.settings import Settings

    try:
        settings = Settings.from_env()
    except ConfigError as err:
        print(f"scim-gateway: {err}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format, settings.secrets())

    from gateway import server

    # Before gateway.app (and so prometheus_client) is imported: the multi-process mode of
    # the metrics is chosen at import time.
    cleanup = server.prepare_metrics_dir()
    try:
        from gateway.app import create_app

        try:
            app = create_app(settings)
        except ConfigError as err:
            print(f"scim-gateway: {err}", file=sys.stderr)
            return 2
        options = server.ServeOptions(
            bind=args.bind,
            workers=args.workers,
            threads=args.threads,
            timeout=args.timeout,
            log_level=settings.log_level,
            certfile=settings.tls_cert_file,
            keyfile=settings.tls_key_file,
            queue=settings.queue_size,
            header_timeout=settings.header_timeout,
            body_timeout=settings.body_timeout,
            max_body=int(app.config["MAX_CONTENT_LENGTH"]),
            retry_after=settings.retry_after,
        )
        server.run(app, options)
        return 0
    finally:
        cleanup()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
