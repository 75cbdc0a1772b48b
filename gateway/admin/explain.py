"""``scim-gateway mapping explain``: the LDIF a SCIM request would write, without writing it.

The request runs through the gateway's own ResourceService over a
:class:`~gateway.directory.recording.RecordingDirectory`: same translation, same diff, same
allocation and membership code, so the output is what the gateway then sends (in order;
reads are not shown). With a directory (``--ldap-url``), references and member ids resolve
and ``--existing DN`` names the entry a PUT or PATCH applies to; without one, a POST
is explained as if the directory were empty (a counter entry is then created, for example).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from gateway.admin.check import DirectoryAccess
from gateway.directory.ldif import render
from gateway.directory.operations import Directory
from gateway.directory.pool import ConnectionPool, ConnectionSettings
from gateway.directory.recording import RecordingDirectory
from gateway.errors import ConfigError, GatewayError, ScimError
from gateway.mapping import placement, translate
from gateway.mapping.loader import load_mapping
from gateway.mapping.model import Mapping
from gateway.provisioning.service import Limits, ResourceService
from gateway.scim.patch import normalize_resource


class ExplainError(Exception):
    """The request cannot be explained (bad arguments, entry not found); the message says why."""


def explain(
    mapping_path: str,
    resource: str,
    method: str,
    payload: Any,
    *,
    directory: Directory | None = None,
    existing: str | None = None,
) -> str:
    """The LDIF of the writes ``method`` on ``resource`` with ``payload`` would perform."""
    mapping = load_mapping(mapping_path)
    if resource not in mapping.resources:
        raise ExplainError(f"{mapping_path} does not map {resource}")
    recorder = RecordingDirectory(directory)
    service = ResourceService(mapping, resource, recorder, Limits())
    unresolved: list[str] = []
    if method == "POST":
        body = _object(payload)
        if directory is None:
            body, unresolved = _without_references(service, body)
        service.create(body)
    else:
        if existing is None or directory is None:
            raise ExplainError(f"{method} needs --existing DN and a directory (--ldap-url)")
        ident = _id_of(service, directory, existing)
        if method == "PUT":
            service.replace(ident, _object(payload))
        else:
            service.patch(ident, payload)
    header = f"# {method} {resource} through {mapping_path}: what the gateway would write"
    if unresolved:
        header += (
            f"\n# offline: references cannot be resolved without a directory, so "
            f"{', '.join(unresolved)} {'is' if len(unresolved) == 1 else 'are'} left out below;"
            f"\n# with --ldap-url the ids are looked up and written as DNs"
            f" (an unknown id is then a 400)"
        )
    if not recorder.records:
        return f"{header}\n# nothing: the directory already holds what the request asks for\n"
    return f"{header}\n{render(recorder.records, spelling(mapping))}"


def spelling(mapping: Mapping) -> dict[str, str]:
    """LDAP attribute names as the mapping file writes them, by lower-cased name."""
    names: dict[str, str] = {}
    for rm in mapping.resources.values():
        found = [rm.id_attribute, rm.rdn_attribute, *(r.ldap for r in rm.attributes)]
        found += [d.ldap for d in rm.derived]
        if rm.members is not None:
            found.append(rm.members.ldap)
        if rm.disable is not None:
            found += rm.disable.written_attributes()
        names.update({n.lower(): n for n in found})
    return names


def _id_of(service: ResourceService, directory: Directory, dn: str) -> str:
    rm = service.rm
    entry = directory.read(dn, [rm.id_attribute])
    if entry is None:
        raise ExplainError(f"no entry {dn!r} in the directory")
    ident = entry.first(rm.id_attribute)
    if not ident or not placement.contains(rm, entry.dn):
        raise ExplainError(f"{dn!r} is not a {rm.name} of this mapping (see base_dn and scope)")
    return ident


def _without_references(
    service: ResourceService, payload: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """``payload`` without the ids it names (members, manager, ...), and what was left out."""
    body = normalize_resource(payload, service.rtype)
    left_out: list[str] = []
    if service.rm.members is not None and body.pop("members", None):
        left_out.append("members")
    for rule in service.rm.attributes:
        if not rule.reference:
            continue
        slot = translate.slot_of(rule, service.rm)
        box = body.get(slot.container) if slot.container else body
        if isinstance(box, dict) and box.pop(slot.attr, None) is not None:
            left_out.append(rule.scim_text)
    return body, left_out


def _object(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise ExplainError("the payload must be a JSON object")
    return payload


def main(
    args: argparse.Namespace,
    access: DirectoryAccess | None,
    out: Callable[[str], None] = lambda text: print(text, end=""),
) -> int:
    """The ``mapping explain`` command; 0 with the LDIF on stdout, else 1 (2: bad usage)."""
    try:
        with open(args.payload, encoding="utf-8") as fh:
            payload = json.load(fh)
    except (OSError, ValueError) as err:
        print(f"scim-gateway: cannot read {args.payload}: {err}", file=sys.stderr)
        return 2
    directory = None
    if access is not None:
        directory = Directory(
            ConnectionPool(ConnectionSettings(access.urls, access.bind_dn, access.password))
        )
    try:
        out(
            explain(
                args.file,
                args.resource,
                args.method,
                payload,
                directory=directory,
                existing=args.existing,
            )
        )
        return 0
    except ConfigError as err:
        print(str(err), file=sys.stderr)
    except ExplainError as err:
        print(f"scim-gateway: {err}", file=sys.stderr)
        return 2
    except ScimError as err:
        kind = f" {err.scim_type}" if err.scim_type else ""
        print(f"the gateway would answer {err.status}{kind}: {err.detail}", file=sys.stderr)
    except GatewayError as err:
        print(f"scim-gateway: {err}", file=sys.stderr)
    finally:
        if directory is not None:
            directory.pool.close_all()
    return 1
