"""docker/docker-compose.replicated.yml: two nodes that replicate each other and a gateway that
knows both (Docker itself does not run here)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from gateway.settings import environment_names

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker" / "docker-compose.replicated.yml"
NAME = re.compile(r"\bSCIM_GATEWAY_[A-Z0-9_]+\b")
ENTRYPOINT_NAMES = {"SCIM_GATEWAY_BIND", "SCIM_GATEWAY_WORKERS", "SCIM_GATEWAY_THREADS"}


def services() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]


def test_every_service_is_in_the_replicated_profile() -> None:
    assert set(services()) == {"slapd-1", "slapd-2", "gateway"}
    for name, service in services().items():
        assert service["profiles"] == ["replicated"], name


def test_the_nodes_have_their_own_server_ids_and_replicate_each_other() -> None:
    one, two = services()["slapd-1"]["environment"], services()["slapd-2"]["environment"]
    assert {one["SLAPD_SERVER_ID"], two["SLAPD_SERVER_ID"]} == {"1", "2"}
    assert one["SLAPD_PEER_URLS"] == "ldap://slapd-2:3890"
    assert two["SLAPD_PEER_URLS"] == "ldap://slapd-1:3890"
    for node in ("slapd-1", "slapd-2"):
        assert services()[node]["volumes"] == [f"{node}-data:/var/lib/scim-test-slapd"]


def test_the_gateway_writes_through_both_nodes_preferring_node_1() -> None:
    gateway = services()["gateway"]
    urls = gateway["environment"]["SCIM_GATEWAY_LDAP_URL"].split(",")
    assert urls == ["ldap://slapd-1:3890", "ldap://slapd-2:3890"]
    assert set(gateway["depends_on"]) == {"slapd-1", "slapd-2"}


def test_ports_are_published_on_loopback_only() -> None:
    published = [p for s in services().values() for p in s.get("ports", [])]
    assert len(published) == 3
    assert all(p.startswith("127.0.0.1:") for p in published), published


def test_only_variables_the_gateway_reads_are_named() -> None:
    named = set(NAME.findall(COMPOSE.read_text(encoding="utf-8")))
    assert named - environment_names() - ENTRYPOINT_NAMES == set()
