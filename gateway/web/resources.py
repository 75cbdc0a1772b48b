"""/Users and /Groups (RFC 7644 §3.3 to §3.6): one blueprint serving every mapped resource type."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Request, Response, request

from gateway.errors import InvalidValue, MethodNotAllowed, NotFound
from gateway.provisioning.catalog import patch_status
from gateway.provisioning.membership import MemberList
from gateway.provisioning.service import ResourceService
from gateway.scim import etag
from gateway.scim.messages import LIST_RESPONSE, SEARCH_REQUEST
from gateway.scim.projection import Projection, apply_projection, parse_projection
from gateway.web import stream
from gateway.web.runtime import runtime
from gateway.web.wire import absolutize, base_url, read_json, read_json_object, scim_response

bp = Blueprint("resources", __name__)

DISCOVERY = frozenset({"ServiceProviderConfig", "Schemas", "ResourceTypes"})


def _service(endpoint: str) -> ResourceService:
    if endpoint in DISCOVERY:
        raise MethodNotAllowed(f"/{endpoint} is read-only", headers={"Allow": "GET"})
    service = runtime().catalog.at(endpoint)
    if service is None:
        raise NotFound(f"no resource type is served at /{endpoint}")
    return service


def type_at(endpoint: str) -> str | None:
    """The mapped resource type served at ``/<endpoint>`` (its registry entry's endpoint)."""
    return runtime().catalog.type_at(endpoint)


def _query(req: Request | None = None) -> dict[str, str]:
    """The query parameters, the first value of each: what ``request.args.get`` answers.

    A plain dict, because Werkzeug's ``MultiDict.get`` answers a name it lacks by raising and
    catching a ``BadRequestKeyError`` (~4 µs each; a GET asks two names it usually lacks, a
    list six); and without a query string nothing is parsed.
    """
    if req is None:
        req = _request()
    if not req.environ.get("QUERY_STRING"):
        return {}
    return req.args.to_dict()


def _header(req: Request, key: str) -> str | None:
    """What ``request.headers.get(name)`` answers for a header other than Content-Type and
    Content-Length, ``key`` its environ key (``HTTP_IF_MATCH``): Werkzeug's ``EnvironHeaders``
    reads that key, but answers a header the request lacks (most requests) by raising and
    catching a ``KeyError``."""
    return req.environ.get(key)


def _request() -> Request:
    """The request, resolved once per view: each read of Flask's ``request`` proxy looks the
    context variable up again (~1-2 µs on this machine), and a view reads it four times."""
    return request._get_current_object()  # type: ignore[attr-defined,no-any-return]


def _int_param(raw: Any, name: str) -> int | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise InvalidValue(f"{name} must be an integer")
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise InvalidValue(f"{name} must be an integer, not {raw!r}") from None


def _projection(service: ResourceService, source: Any) -> Projection:
    return parse_projection(
        service.rtype, source.get("attributes"), source.get("excludedAttributes")
    )


def _render(
    service: ResourceService,
    resource: dict[str, Any],
    projection: Projection,
    endpoint: str,
    req: Request | None = None,
) -> dict[str, Any]:
    base = base_url(req)
    return apply_projection(absolutize(resource, base, endpoint), service.rtype, projection)


def _with_etag(resource: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, str]:
    out = dict(headers or {})
    version = (resource.get("meta") or {}).get("version")
    if version:
        out["ETag"] = version
    return out


def _list(endpoint: str, params: Any) -> Response:
    service = _service(endpoint)
    projection = _projection(service, params)
    start = _int_param(params.get("startIndex"), "startIndex")
    count = _int_param(params.get("count"), "count")
    order = (params.get("sortOrder") or "ascending").lower()
    if order not in ("ascending", "descending"):
        raise InvalidValue("sortOrder must be 'ascending' or 'descending'")
    result = service.list(
        params.get("filter"),
        start or 1,
        count,
        projection,
        sort_by=params.get("sortBy"),
        descending=order == "descending",
    )
    body = {
        "schemas": [LIST_RESPONSE],
        "totalResults": result.total,
        "startIndex": result.start_index,
        "itemsPerPage": len(result.resources),
        "Resources": [_render(service, r, projection, endpoint) for r in result.resources],
    }
    return scim_response(body)


@bp.get("/<endpoint>")
def list_resources(endpoint: str) -> Response:
    return _list(endpoint, _query(_request()))


@bp.post("/.search")
def search_everything() -> Response:
    """RFC 7644 §3.4.3 at the root: every resource type, Users first, paged as one list
    (``Catalog.search_all``)."""
    params = _search_params(read_json_object())
    result = runtime().catalog.search_all(
        params.get("filter"),
        _int_param(params.get("startIndex"), "startIndex"),
        _int_param(params.get("count"), "count"),
        params.get("attributes"),
        params.get("excludedAttributes"),
    )
    resources = [
        _render(h.service, h.resource, h.projection, h.service.rtype.endpoint[1:])
        for h in result.hits
    ]
    return scim_response(
        {
            "schemas": [LIST_RESPONSE],
            "totalResults": result.total,
            "startIndex": result.start_index,
            "itemsPerPage": len(resources),
            "Resources": resources,
        }
    )


def _search_params(body: dict[str, Any]) -> dict[str, Any]:
    """The members of a SearchRequest (RFC 7644 §3.4.3), type-checked like query parameters."""
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or SEARCH_REQUEST not in schemas:
        raise InvalidValue(f"a search request must declare the schema {SEARCH_REQUEST}")
    params = {k: v for k, v in body.items() if k != "schemas"}
    for key in ("filter", "sortBy", "sortOrder"):
        if params.get(key) is not None and not isinstance(params[key], str):
            raise InvalidValue(f"'{key}' must be a string")
    for key in ("attributes", "excludedAttributes"):
        value = params.get(key)
        if value is None or isinstance(value, str):
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidValue(f"'{key}' must be a list of attribute names")
        params[key] = ",".join(value)
    return params


@bp.post("/<endpoint>/.search")
def search_resources(endpoint: str) -> Response:
    """RFC 7644 §3.4.3: the same query as GET, in a body (so filters stay out of URLs and logs)."""
    return _list(endpoint, _search_params(read_json_object()))


@bp.post("/<endpoint>")
def create_resource(endpoint: str) -> Response:
    req = _request()
    service = _service(endpoint)
    projection = _projection(service, _query(req))
    resource = service.create(read_json_object())
    rendered = _render(service, resource, projection, endpoint, req)
    location = resource.get("meta", {}).get("location")
    headers = _with_etag(resource, {"Location": location} if location else None)
    return scim_response(rendered, 201, headers)


@bp.get("/<endpoint>/<ident>")
def get_resource(endpoint: str, ident: str) -> Response:
    req = _request()
    service = _service(endpoint)
    projection = _projection(service, _query(req))
    # a group's members come as a MemberList (items made when read): see gateway.web.stream
    resource = service.get(ident, projection, lazy_members=True)
    tags = etag.parse(_header(req, "HTTP_IF_NONE_MATCH"))
    if tags is not None and etag.matches(tags, resource.get("meta", {}).get("version")):
        return scim_response(None, 304, _with_etag(resource))
    if stream.streamable(resource):
        base, rtype = base_url(req), service.rtype
        body = stream.chunks(
            resource,
            lambda part: apply_projection(absolutize(part, base, endpoint), rtype, projection),
        )
        return stream.streamed_response(body, _with_etag(resource))
    if isinstance(resource.get("members"), MemberList):
        resource["members"] = list(resource["members"])
    return scim_response(
        _render(service, resource, projection, endpoint, req), 200, _with_etag(resource)
    )


@bp.put("/<endpoint>/<ident>")
def replace_resource(endpoint: str, ident: str) -> Response:
    req = _request()
    service = _service(endpoint)
    projection = _projection(service, _query(req))
    resource = service.replace(ident, read_json_object(), _header(req, "HTTP_IF_MATCH"), projection)
    return scim_response(
        _render(service, resource, projection, endpoint), 200, _with_etag(resource)
    )


@bp.patch("/<endpoint>/<ident>")
def patch_resource(endpoint: str, ident: str) -> Response:
    """200 with the resource; for Groups 204 unless the client asked for attributes (Entra:
    ``catalog.patch_status``)."""
    catalog = runtime().catalog
    limits = catalog.patch.limits()  # the deadline counts from here, reading the body included
    service = _service(endpoint)
    req = _request()
    args = _query(req)
    projection = _projection(service, args)
    asked = "attributes" in args or "excludedAttributes" in args
    quiet = patch_status(service, asked) == 204
    resource = service.patch(
        ident, read_json(), _header(req, "HTTP_IF_MATCH"), None if quiet else projection, limits
    )
    if quiet:
        return scim_response(None, 204, _with_etag(resource))
    return scim_response(
        _render(service, resource, projection, endpoint, req), 200, _with_etag(resource)
    )


@bp.delete("/<endpoint>/<ident>")
def delete_resource(endpoint: str, ident: str) -> Response:
    _service(endpoint).delete(ident, _header(_request(), "HTTP_IF_MATCH"))
    return scim_response(None, 204)
