"""The Catalog's rules that need no directory: which service serves an endpoint, how a PATCH
answers, a PATCH's limits. Its cross-type search runs against slapd in
tests/e2e/test_root_search.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.directory.operations import Directory
from gateway.directory.pool import ConnectionPool, ConnectionSettings
from gateway.mapping.loader import load_mapping
from gateway.provisioning.catalog import Catalog, PatchPolicy, patch_status
from gateway.provisioning.context import Limits
from gateway.provisioning.service import ResourceService

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """The shipped mapping's services; building them opens no connection (nothing here
    asks the directory: the URL is a closed loopback port)."""
    mapping = load_mapping(ROOT / "mappings" / "openldap.yaml")
    pool = ConnectionPool(
        ConnectionSettings(urls=("ldap://127.0.0.1:9",), bind_dn="", bind_password="")
    )
    directory = Directory(pool)
    services = {n: ResourceService(mapping, n, directory, Limits()) for n in mapping.resources}
    return Catalog(services, Limits(), PatchPolicy(10, 20, 5.0))


def test_each_endpoint_names_its_service_and_nothing_else(catalog: Catalog) -> None:
    assert catalog.type_at("Users") == "User"
    assert catalog.at("Groups") is catalog.services["Group"]
    assert catalog.at("Devices") is None
    assert catalog.type_at("users") is None  # endpoints are case-sensitive (RFC 7644 §3.2)
    assert catalog.type_at("Schemas") is None


def test_the_catalog_knows_its_mapping(catalog: Catalog) -> None:
    assert catalog.mapping is catalog.services["User"].mapping
    assert Catalog({}, Limits()).mapping is None


def test_a_group_patch_answers_204_unless_attributes_were_asked(catalog: Catalog) -> None:
    group, user = catalog.services["Group"], catalog.services["User"]
    assert patch_status(group, attributes_asked=False) == 204
    assert patch_status(group, attributes_asked=True) == 200
    assert patch_status(user, attributes_asked=False) == 200
    assert patch_status(user, attributes_asked=True) == 200


def test_a_patch_deadline_counts_from_when_its_limits_are_made(catalog: Catalog) -> None:
    limits = catalog.patch.limits()
    assert (limits.max_operations, limits.max_values) == (10, 20)
    assert limits.deadline is not None and 4.0 < limits.deadline.remaining() <= 5.0
    assert PatchPolicy().limits().deadline is None
