"""Discovery endpoints (RFC 7644 §4): ServiceProviderConfig, Schemas, ResourceTypes.

They describe what this deployment serves: only the resource types its mapping defines.
"""

from __future__ import annotations

from flask import Blueprint, Response

from gateway.errors import GatewayError, NotFound
from gateway.scim.messages import LIST_RESPONSE
from gateway.scim.schema import resource_type_to_json, schema_to_json
from gateway.web.runtime import runtime
from gateway.web.wire import base_url, scim_response

bp = Blueprint("discovery", __name__)

SPC_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"


def _schemas() -> dict:
    out = {}
    for service in runtime().catalog.services.values():
        for schema in service.served.schemas():
            out[schema.id] = schema
    return out


def _list(resources: list[dict]) -> Response:
    return scim_response(
        {
            "schemas": [LIST_RESPONSE],
            "totalResults": len(resources),
            "startIndex": 1,
            "itemsPerPage": len(resources),
            "Resources": resources,
        }
    )


def _can_sort() -> bool:
    """Sorting is done by the directory (RFC 2891), so it is offered only if the directory can."""
    services = list(runtime().catalog.services.values())
    try:
        return bool(services) and services[0].can_sort()
    except GatewayError:
        return False


@bp.get("/ServiceProviderConfig")
def service_provider_config() -> Response:
    limits = runtime().catalog.limits
    base = base_url()
    return scim_response(
        {
            "schemas": [SPC_SCHEMA],
            "documentationUri": "https://github.com/scim-ldap-gateway/scim-ldap-gateway#readme",
            "patch": {"supported": True},
            "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": True, "maxResults": limits.max_results},
            "changePassword": {"supported": False},
            "sort": {"supported": _can_sort()},
            # meta.version needs a version attribute (mapping directory.version_attribute)
            "etag": {"supported": runtime().catalog.mapping.etags},
            "authenticationSchemes": [
                {
                    "type": "oauthbearertoken",
                    "name": "Bearer token",
                    "description": "A shared secret token sent as 'Authorization: Bearer <token>'",
                    "primary": True,
                }
            ],
            "meta": {
                "resourceType": "ServiceProviderConfig",
                "location": f"{base}/ServiceProviderConfig",
            },
        }
    )


@bp.get("/Schemas")
def schemas() -> Response:
    base = base_url()
    return _list([schema_to_json(s, base) for s in _schemas().values()])


@bp.get("/Schemas/<schema_id>")
def schema(schema_id: str) -> Response:
    found = _schemas().get(schema_id)
    if found is None:
        raise NotFound(f"no schema {schema_id!r}")
    return scim_response(schema_to_json(found, base_url()))


@bp.get("/ResourceTypes")
def resource_types() -> Response:
    base = base_url()
    services = runtime().catalog.services.values()
    return _list([resource_type_to_json(s.served, base) for s in services])


@bp.get("/ResourceTypes/<name>")
def resource_type(name: str) -> Response:
    service = runtime().catalog.services.get(name)
    if service is None:
        raise NotFound(f"no resource type {name!r}")
    return scim_response(resource_type_to_json(service.served, base_url()))
