"""The ``scim-gateway mapping`` sub-commands: argument parsing and dispatch.

Imports nothing heavy at module level: ``scim-gateway serve`` builds the same parser, and the
metrics module must not be imported before serve has prepared its multi-process directory.
Directory options default to the gateway's own environment (``SCIM_GATEWAY_LDAP_URL``,
``SCIM_GATEWAY_LDAP_BIND_DN``, ``SCIM_GATEWAY_LDAP_BIND_PASSWORD[_FILE]``), so inside a
deployed container ``scim-gateway mapping check /etc/scim/mapping.yaml`` checks against the
directory the gateway uses.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path

ENV = "SCIM_GATEWAY_"


def add_mapping_commands(mapping: argparse.ArgumentParser) -> None:
    """Add ``check`` and ``explain`` under ``scim-gateway mapping``."""
    msub = mapping.add_subparsers(dest="mapping_command", required=True)
    check = msub.add_parser(
        "check",
        help="validate mapping files, and check them against a directory's schema and data",
        description="Validate mapping files (every error, with its line). With a directory "
        "(--ldap-url or SCIM_GATEWAY_LDAP_URL), also check them against its schema and data.",
    )
    check.add_argument("files", nargs="+", metavar="FILE")
    _directory_options(check)
    check.add_argument(
        "--offline", action="store_true", help="only validate the YAML, even if LDAP is configured"
    )
    explain = msub.add_parser(
        "explain",
        help="print the LDAP operations (LDIF) a SCIM request would perform, without writing",
    )
    explain.add_argument("file", metavar="FILE", help="the mapping file")
    explain.add_argument("payload", metavar="PAYLOAD.json", help="the request body")
    explain.add_argument(
        "--resource",
        required=True,
        metavar="TYPE",
        help="a resource type of the mapping: User, Group, or one its resource_types: declares",
    )
    explain.add_argument(
        "--method", default="POST", type=str.upper, choices=["POST", "PUT", "PATCH"]
    )
    explain.add_argument(
        "--existing", metavar="DN", help="the entry a PUT or PATCH applies to (read live)"
    )
    _directory_options(explain)


def _directory_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("directory (defaults: SCIM_GATEWAY_LDAP_* variables)")
    group.add_argument("--ldap-url", help="ldap:// or ldaps:// URL (comma-separated: failover)")
    group.add_argument("--bind-dn", help="DN to bind as")
    group.add_argument("--bind-password-file", type=Path, help="file holding the bind password")


def run_mapping_command(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    try:
        access = None if getattr(args, "offline", False) else _access(args, env)
    except ValueError as err:
        print(f"scim-gateway: {err}", file=sys.stderr)
        return 2
    if args.mapping_command == "check":
        from gateway.admin import check

        return check.run(args.files, access, complain=lambda line: print(line, file=sys.stderr))
    from gateway.admin import explain

    return explain.main(args, access)


def _access(args: argparse.Namespace, env: Mapping[str, str]):
    """Where and how to bind, from the options or the environment; None if no URL."""
    from gateway.admin.check import DirectoryAccess

    url = args.ldap_url or env.get(f"{ENV}LDAP_URL", "")
    urls = tuple(u.strip() for u in url.split(",") if u.strip())
    if not urls:
        return None
    bind_dn = args.bind_dn or env.get(f"{ENV}LDAP_BIND_DN", "")
    password = ""
    password_file = args.bind_password_file or env.get(f"{ENV}LDAP_BIND_PASSWORD_FILE")
    if password_file:
        try:
            password = Path(password_file).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as err:
            raise ValueError(f"cannot read the bind password file: {err.strerror}") from None
    elif not args.bind_password_file:
        password = env.get(f"{ENV}LDAP_BIND_PASSWORD", "")
    if bind_dn and not password:
        raise ValueError(
            "--bind-dn needs --bind-password-file (or SCIM_GATEWAY_LDAP_BIND_PASSWORD)"
        )
    for u in urls:
        if not u.lower().startswith(("ldap://", "ldaps://")):
            raise ValueError(f"{u!r} is not an ldap:// or ldaps:// URL")
    return DirectoryAccess(urls, bind_dn, password)
