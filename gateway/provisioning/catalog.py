"""The services of one mapping, and the use cases that span resource types.

``web`` asks the :class:`Catalog` which service is served at an endpoint, how a PATCH
answers (:func:`patch_status`) and for a root ``POST /.search`` over every type
(:meth:`Catalog.search_all`); it only parses HTTP and renders. Those rules used to live in
``web/resources.py``, next to the HTTP they do not depend on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.errors import InvalidFilter
from gateway.mapping.model import Mapping as MappingModel
from gateway.provisioning.context import Limits
from gateway.provisioning.service import ResourceService
from gateway.scim.limits import Deadline, PatchLimits
from gateway.scim.projection import Projection, parse_projection
from gateway.scim.registry import Registry


@dataclass(frozen=True, slots=True)
class PatchPolicy:
    """The caps on every PATCH (``SCIM_GATEWAY_MAX_PATCH_OPERATIONS``, ``MAX_VALUES``,
    ``PATCH_DEADLINE``): settings, turned into one request's :class:`PatchLimits`."""

    max_operations: int | None = None
    max_values: int | None = None
    deadline_seconds: float | None = None

    def limits(self) -> PatchLimits:
        """This request's limits: its deadline counts from now (call it first thing)."""
        deadline = None if self.deadline_seconds is None else Deadline.after(self.deadline_seconds)
        return PatchLimits(self.max_operations, self.max_values, deadline)


@dataclass(frozen=True, slots=True)
class Hit:
    """One resource of a cross-type search, with the service and projection it is shown by."""

    service: ResourceService
    resource: dict[str, Any]
    projection: Projection


@dataclass(frozen=True, slots=True)
class SearchResult:
    total: int
    start_index: int
    hits: list[Hit]


def patch_status(service: ResourceService, attributes_asked: bool) -> int:
    """200 with the resource, except 204 (no body, members not even read) for a type that
    holds members when the client did not ask for attributes: Entra's group PATCHes, where
    reading back a large group's members would cost more than the change (entra-scim.md)."""
    return 204 if service.rm.members is not None and not attributes_asked else 200


class Catalog:
    """The services of one mapping: by type name (in the registry's order) and by endpoint.

    Built again whenever the services are (a mapping reload swaps them all at once).
    """

    def __init__(
        self,
        services: Mapping[str, ResourceService],
        limits: Limits,
        patch: PatchPolicy = PatchPolicy(),
    ) -> None:
        self.services = services
        self.limits = limits
        self.patch = patch
        self._registry = Registry(tuple(s.rtype for s in services.values()))

    @property
    def mapping(self) -> MappingModel | None:
        """The mapping every service serves (None when it maps no type)."""
        first = next(iter(self.services.values()), None)
        return first.mapping if first is not None else None

    def type_at(self, endpoint: str) -> str | None:
        """The name of the type served at ``/<endpoint>`` (``Users`` → ``User``), if any."""
        found = self._registry.at(endpoint)
        return found.name if found is not None and found.name in self.services else None

    def at(self, endpoint: str) -> ResourceService | None:
        """The service of the type served at ``/<endpoint>``, if any."""
        name = self.type_at(endpoint)
        return self.services[name] if name is not None else None

    def search_all(
        self,
        filter_text: str | None,
        start_index: int | None,
        count: int | None,
        attributes: str | None = None,
        excluded: str | None = None,
    ) -> SearchResult:
        """RFC 7644 §3.4.3 at the root: every type, in the registry's order (Users first),
        paged as one list. Each type counts its matches (one paged search of DNs), and
        those whose matches reach into the requested window read that part of them.

        A filter naming an attribute a type does not have matches nothing of that type;
        only if it fits no type is it the client's ``invalidFilter``.
        """
        start = start_index or 1
        wanted = self.limits.default_count if count is None else max(0, count)
        wanted = min(wanted, self.limits.max_results)
        hits: list[Hit] = []
        total = 0
        usable = 0
        last_error: InvalidFilter | None = None
        for service in list(self.services.values()):
            try:
                projection = parse_projection(service.rtype, attributes, excluded)
                counted = service.list(filter_text, 1, 0, projection).total
            except InvalidFilter as err:  # an attribute this type does not have: no match here
                last_error = err
                continue
            usable += 1
            offset = max(1, start - total)
            room = wanted - len(hits)
            if room > 0 and offset <= counted:
                page = service.list(filter_text, offset, room, projection)
                hits += [Hit(service, r, projection) for r in page.resources]
            total += counted
        if not usable and last_error is not None:
            raise last_error
        return SearchResult(total, max(1, start), hits)
