"""The SCIM wire format: media types, JSON in and out, absolute URLs in resources."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request

from gateway.errors import InvalidSyntax, UnsupportedMediaType

SCIM_JSON = "application/scim+json"
ACCEPTED_BODY_TYPES = ("application/scim+json", "application/json")
MAX_JSON_DEPTH = 64
BASE_PATH = "/scim/v2"


def scim_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A response with ``Content-Type: application/scim+json`` (RFC 7644 §3.1)."""
    text = "" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    resp = Response(text, status=status, content_type=f"{SCIM_JSON}; charset=utf-8")
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def read_json() -> Any:
    """The request body as JSON; the media type must be SCIM's or plain JSON (any charset)."""
    mimetype = (request.mimetype or "").lower()
    if mimetype not in ACCEPTED_BODY_TYPES:
        raise UnsupportedMediaType(
            f"send the body as {SCIM_JSON} or application/json, not {mimetype or 'no type'}"
        )
    raw = request.get_data(cache=True)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidSyntax("the body is not valid UTF-8") from None
    try:
        body = json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidSyntax(
            f"the body is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}"
        ) from None
    except RecursionError:
        raise InvalidSyntax("the body nests too deeply") from None
    _check_depth(body)
    return body


def read_json_object() -> dict[str, Any]:
    body = read_json()
    if not isinstance(body, dict):
        raise InvalidSyntax("the body must be a JSON object")
    return body


def _check_depth(value: Any) -> None:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise InvalidSyntax(f"the body nests deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def base_url() -> str:
    """``https://host/scim/v2``: where this request's SCIM service lives."""
    return request.url_root.rstrip("/") + BASE_PATH


def absolutize(resource: dict[str, Any], base: str, endpoint: str) -> dict[str, Any]:
    """Fill ``meta.location`` and turn relative ``$ref`` values into absolute URLs."""
    meta = resource.get("meta")
    if isinstance(meta, dict) and "id" in resource:
        meta["location"] = f"{base}/{endpoint}/{resource['id']}"

    def fix(items: Any) -> None:
        for item in items if isinstance(items, list) else [items]:
            if isinstance(item, dict):
                ref = item.get("$ref")
                if isinstance(ref, str) and not ref.startswith(("http://", "https://")):
                    item["$ref"] = f"{base}/{ref}"

    for key, value in resource.items():
        if key.startswith("urn:") and isinstance(value, dict):
            for sub in value.values():
                fix(sub)
        elif isinstance(value, list | dict) and key != "meta":
            fix(value)
    return resource
