"""The SCIM wire format: media types, JSON in (checked strictly) and out, absolute URLs."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson
from flask import Request, Response, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_options_header
from werkzeug.wsgi import get_content_length

from gateway.errors import InvalidSyntax, InvalidValue, TooMany, UnsupportedMediaType
from gateway.web.body import request_body
from gateway.web.response import GatewayResponse
from gateway.web.runtime import current_runtime

SCIM_JSON = "application/scim+json"
ACCEPTED_BODY_TYPES = ("application/scim+json", "application/json")
MAX_JSON_DEPTH = 64
MAX_NUMBER_DIGITS = 64
"""Longer JSON numbers are refused before Python converts them (no SCIM value needs more)."""
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")  # NUL, and halves of UTF-16 pairs
_STRING_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"(\s*:)?')
"""A JSON string, and the colon after it when it is a member name (scanned from the start of
a valid JSON text, every match is one whole string token)."""
BASE_PATH = "/scim/v2"
_MAX_URL_ROOTS = 256
_url_roots: dict[tuple[Any, ...], str] = {}


def scim_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A response with ``Content-Type: application/scim+json`` (RFC 7644 §3.1)."""
    content = b"" if body is None else dumps(body)
    resp = GatewayResponse(content, status=status, content_type=f"{SCIM_JSON}; charset=utf-8")
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def read_json() -> Any:
    """The request body as JSON; the media type must be SCIM's or plain JSON (any charset).

    Stricter than :func:`json.loads`, so that nothing malformed gets as far as the directory:
    RFC 8259 JSON only (no ``NaN``/``Infinity``; numbers finite and of sane length), member
    names unique within an object, at most :data:`MAX_JSON_DEPTH` levels, and no string —
    member name or value — holding NUL or an unpaired surrogate (neither can be stored in
    LDAP, whose strings are UTF-8: RFC 4517 §3.3.6 and RFC 3629). No array may hold more
    than the app's ``max_values`` setting (``TooMany``, before anything is read or written).
    """
    req = request._get_current_object()  # type: ignore[attr-defined]  # one proxy look-up
    mimetype = _mimetype(req)
    if mimetype not in ACCEPTED_BODY_TYPES:
        raise UnsupportedMediaType(
            f"send the body as {SCIM_JSON} or application/json, not {mimetype or 'no type'}"
        )
    length = get_content_length(req.environ)  # read once, for both: ``req.content_length``
    raw = request_body(req, length)  # req.get_data(cache=True)
    _refuse_cut_body(raw, req, length)
    # NUL and lone surrogates can only come from ``\\u`` escapes: a raw NUL is refused by the
    # parser and UTF-8 has no encoding for a surrogate. Without one, no string needs a look.
    texts = b"\\u" in raw
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = None
    else:
        if not texts:
            max_array = _max_values()
            members, floats, trouble = _survey(body, max_array)
            if not floats and members == _member_names(raw):  # what loads() would keep
                if trouble:
                    _check_structure(body, max_array, texts=False)  # raises the precise error
                return body
    # the general path: every rule, in the order :func:`loads` and :func:`_check_structure` apply
    body = loads(raw)
    _check_structure(body, _max_values(), texts=texts)
    return body


def dumps(body: Any) -> bytes:
    """``body`` as compact UTF-8 JSON, non-ASCII characters as themselves.

    orjson writes what ``json.dumps(body, ensure_ascii=False, separators=(",", ":"))`` writes
    for every value a SCIM body holds (strings, integers, booleans, null, lists, objects with
    string keys), about fifteen times faster; anything it refuses (an integer beyond 64 bits,
    a non-string key) is written by :mod:`json` as before.
    """
    try:
        return orjson.dumps(body)
    except TypeError:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def loads(raw: bytes) -> Any:
    """``raw`` parsed by the strict rules of :func:`read_json` (before its structure checks).

    The fast path: orjson, then the two things it does differently looked for in its answer —
    a member name repeated in an object (orjson keeps the last; counted against the member
    names in the text) and a float (orjson turns integers beyond 64 bits into floats, so a
    float may not be what :mod:`json` reads). Any error, repeat or float, and the body is
    parsed again by :func:`_strict_loads`, which gives the answer or the error it always has.
    """
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _strict_loads(raw)
    members, floats = _members_and_floats(body)
    if floats or members != _member_names(raw):
        return _strict_loads(raw)
    return body


def _strict_loads(raw: bytes) -> Any:
    """The body parsed by :mod:`json` with every rule of :func:`read_json` in the hooks."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidSyntax("the body is not valid UTF-8") from None
    try:
        return json.loads(
            text,
            parse_constant=_reject_constant,
            parse_int=_parse_int,
            parse_float=_parse_float,
            object_pairs_hook=_unique_members,
        )
    except json.JSONDecodeError as err:
        raise InvalidSyntax(
            f"the body is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}"
        ) from None
    except RecursionError:
        raise InvalidSyntax("the body nests too deeply") from None


def _survey(value: Any, max_array: int | None) -> tuple[int, bool, bool]:
    """:func:`_members_and_floats` and whether :func:`_check_structure` (without ``texts``)
    would refuse ``value``, in one walk over its containers.

    What read_json runs on an orjson answer for a body without ``\\u`` escapes instead of
    those two walks (each pushing every value, strings included, on its stack). orjson gives
    only exact ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool`` and ``None``, so the
    type tests are ``is``. ``trouble`` is True when some container at depth
    :data:`MAX_JSON_DEPTH` holds anything (its items would be deeper than allowed) or some
    array other than a PATCH body's ``Operations`` is longer than ``max_array``: the caller then
    runs :func:`_check_structure` for its error. ``floats`` stops the walk (the body is parsed
    again). tests/unit/web/test_wire_survey.py holds this to the two walks it replaces.
    """
    if type(value) is float:
        return 0, True, False
    if type(value) is not dict and type(value) is not list:
        return 0, False, False
    operations = _operations(value)
    members = 0
    trouble = False
    level: list[Any] = [value]  # the containers at ``depth``, walked a level at a time
    depth = 1
    while level:
        deeper: list[Any] = []
        for item in level:
            if type(item) is dict:
                members += len(item)
                items = item.values()
            else:
                if max_array is not None and len(item) > max_array and item is not operations:
                    trouble = True
                items = item
            if depth >= MAX_JSON_DEPTH and items:
                trouble = True
            for sub in items:
                kind = type(sub)
                if kind is dict or kind is list:
                    deeper.append(sub)
                elif kind is float:
                    return members, True, trouble
        level = deeper
        depth += 1
    return members, False, trouble


def _members_and_floats(value: Any) -> tuple[int, bool]:
    """How many members the objects in ``value`` hold, and whether any value is a float."""
    members = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            members += len(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, float):
            return members, True
    return members, False


def _member_names(raw: bytes) -> int:
    """How many member names a valid JSON text holds, repeats included.

    Without a backslash in the text no string holds an escaped quote, so splitting at the
    quotes gives the strings' contents at the odd places; outside the strings a valid JSON text
    has a colon only between a member name and its value. The member names are then the
    colons of the text less those inside strings: three passes in C (~1 µs for a user) where
    the token scan (kept for texts with escapes) is ~15-30 µs. tests/unit/web/test_wire_survey.py
    holds the two to the same counts.
    """
    if b"\\" not in raw:
        return raw.count(b":") - b"".join(raw.split(b'"')[1::2]).count(b":")
    return _member_names_scanned(raw)


def _member_names_scanned(raw: bytes) -> int:
    """:func:`_member_names` for any valid JSON text, escapes included: string by string."""
    return sum(1 for colon in _STRING_TOKEN.findall(raw) if colon)


_MIMETYPES: dict[str, str] = {}
"""``Content-Type`` value → its media type, for the first :data:`_MAX_MIMETYPES` values seen."""
_MAX_MIMETYPES = 64


def _mimetype(req: Request) -> str:
    """``req.mimetype``: the media type of the request's ``Content-Type``, lower-cased.

    Werkzeug's property reads the header through the request's ``EnvironHeaders`` (built for
    the purpose) and parses it with ``parse_options_header`` on every request (~3 µs); its
    answer depends on the header's value alone (the environ's ``CONTENT_TYPE``, as
    ``EnvironHeaders`` reads it), and clients send one or two values, so the answer is kept
    per value. A request whose type was already parsed answers from its own parse, as the
    property does. tests/unit/web/test_wire_mimetype.py holds it to the property.
    """
    if "_parsed_content_type" in req.__dict__:
        return req.mimetype
    value = req.environ.get("CONTENT_TYPE", "")
    found = _MIMETYPES.get(value)
    if found is None:
        found = parse_options_header(value)[0].lower()
        if len(_MIMETYPES) < _MAX_MIMETYPES:
            _MIMETYPES[value] = found
    return found


def _max_values() -> int | None:
    """The deployment's cap on values per attribute (``SCIM_GATEWAY_MAX_VALUES``), if any."""
    found = current_runtime()  # None in an app without the gateway's runtime (unit tests)
    return found.catalog.patch.max_values if found is not None else None


def _refuse_cut_body(raw: bytes, req: Request, length: int | None) -> None:
    """413 for a body sent without Content-Length (chunked) that is longer than the limit.

    Werkzeug stops reading such a body at ``MAX_CONTENT_LENGTH`` without complaint, which
    would leave the first megabyte to be parsed as if it were the whole request. ``length``
    is ``get_content_length(req.environ)`` (``req.content_length``, read as Werkzeug's
    stream reads it).
    """
    if length:
        return
    limit = req.max_content_length
    if limit is None or len(raw) < limit:
        return
    stream = req.environ.get("wsgi.input")
    if stream is not None and stream.read(1):
        raise RequestEntityTooLarge()


def read_json_object() -> dict[str, Any]:
    body = read_json()
    if not isinstance(body, dict):
        raise InvalidSyntax("the body must be a JSON object")
    return body


def _reject_constant(name: str) -> Any:
    raise InvalidSyntax(f"the body is not valid JSON: {name} is not a JSON value (RFC 8259 §6)")


def _parse_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise InvalidValue(f"the body holds a number longer than {MAX_NUMBER_DIGITS} digits")
    return int(digits)


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_DIGITS:
        raise InvalidValue(f"the body holds a number longer than {MAX_NUMBER_DIGITS} characters")
    value = float(text)
    if not math.isfinite(value):
        raise InvalidValue(f"the body holds a number too large to represent: {text}")
    return value


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InvalidSyntax(f"the body repeats the member {key!r} in one object")
            seen.add(key)
    return out


def _check_structure(value: Any, max_array: int | None = None, *, texts: bool = True) -> None:
    """Depth and array-length limits, and (``texts``) no NUL or unpaired surrogate in any
    member name or string value."""
    operations = _operations(value)
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise InvalidSyntax(f"the body nests deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(item, str):
            if texts and _UNSTORABLE.search(item):
                _refuse_text(value)
        elif isinstance(item, dict):
            for key, sub in item.items():
                if texts and _UNSTORABLE.search(key):
                    _refuse_text(value)
                stack.append((sub, depth + 1))
        elif isinstance(item, list):
            if max_array is not None and len(item) > max_array and item is not operations:
                _refuse_array(value, max_array)
            stack.extend((sub, depth + 1) for sub in item)


def _operations(body: Any) -> Any:
    """A PATCH body's ``Operations`` array: capped by ``max_patch_operations``, not here."""
    if not isinstance(body, dict):
        return None
    return next((v for k, v in body.items() if k.casefold() == "operations"), None)


def _refuse_array(body: Any, limit: int) -> None:
    """Raise ``TooMany`` for the first array longer than ``limit``, saying where it is."""
    operations = _operations(body)
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(body, ())]
    while stack:
        item, where = stack.pop()
        if isinstance(item, dict):
            stack.extend((sub, (*where, key)) for key, sub in item.items())
        elif isinstance(item, list):
            if len(item) > limit and item is not operations:
                raise TooMany(
                    f"the array at {_pointer(where)} holds {len(item)} values; the gateway"
                    f" accepts at most {limit} in one request"
                )
            stack.extend((sub, (*where, i)) for i, sub in enumerate(item))
    raise AssertionError("unreachable: the first pass found a long array")


def _refuse_text(body: Any) -> None:
    """Raise for the first unstorable string in ``body``, saying where it is (second pass)."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(body, ())]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            _check_text(item, where)
        elif isinstance(item, dict):
            for key, sub in item.items():
                _check_text(key, where, "in a member name")
                stack.append((sub, (*where, key)))
        elif isinstance(item, list):
            stack.extend((sub, (*where, i)) for i, sub in enumerate(item))
    raise AssertionError("unreachable: the first pass found an unstorable string")


def _check_text(text: str, where: tuple[str | int, ...], what: str = "") -> None:
    bad = _UNSTORABLE.search(text)
    if bad is None:
        return
    place = f"{what} at {_pointer(where)}" if what else f"at {_pointer(where)}"
    if bad.group() == "\x00":
        raise InvalidValue(f"NUL characters are not allowed ({place})")
    # valid JSON (RFC 8259 §8.2 allows the escape), but no character: a value LDAP cannot hold
    raise InvalidValue(f"the body holds an unpaired UTF-16 surrogate escape ({place})")


def _pointer(where: tuple[str | int, ...], limit: int = 200) -> str:
    """Where a value sits, as a JSON Pointer (RFC 6901), shortened to ``limit`` characters."""
    if not where:
        return "the top level"
    text = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in where)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def base_url(req: Request | None = None) -> str:
    """``https://host/scim/v2``: where this request's SCIM service lives.

    Werkzeug builds ``url_root`` anew for each request (host check, IRI decoding): it is kept
    here by the parts of the environ it is made of, the first :data:`_MAX_URL_ROOTS` of them
    (``Host`` is the client's to choose: past that, it is built each time as before).
    """
    if req is None:
        req = request._get_current_object()  # type: ignore[attr-defined]
    environ = req.environ
    key = (
        environ.get("wsgi.url_scheme"),
        environ.get("HTTP_HOST"),
        environ.get("SERVER_NAME"),
        environ.get("SERVER_PORT"),
        environ.get("SCRIPT_NAME"),
    )
    found = _url_roots.get(key)
    if found is None:
        found = req.url_root.rstrip("/") + BASE_PATH
        if len(_url_roots) < _MAX_URL_ROOTS:
            _url_roots[key] = found
    return found


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
