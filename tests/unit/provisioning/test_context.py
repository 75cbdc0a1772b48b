"""Which type's membership side a resource type's context gets: found by the holder's member
types (the registry), not by the name "Group"."""

from __future__ import annotations

from pathlib import Path

from gateway.mapping.loader import load_mapping
from gateway.provisioning.context import holder_of

ROOT = Path(__file__).resolve().parents[3]


def test_the_holder_is_the_type_whose_members_may_be_of_that_type(tmp_path: Path) -> None:
    combined = tmp_path / "with-devices.yaml"
    combined.write_text(
        (ROOT / "mappings" / "openldap.yaml").read_text(encoding="utf-8")
        + "\n"
        + (ROOT / "tests" / "data" / "custom" / "devices.yaml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    mapping = load_mapping(combined)
    group = mapping.resources["Group"]
    assert holder_of(mapping, "User") is group
    assert holder_of(mapping, "Group") is group  # nested groups
    assert holder_of(mapping, "Device") is None  # no group may hold a Device


def test_groups_that_hold_only_users_hold_no_group(tmp_path: Path) -> None:
    text = (ROOT / "mappings" / "openldap.yaml").read_text(encoding="utf-8")
    assert text.count("types: [User, Group]") == 1
    users_only = tmp_path / "users-only.yaml"
    users_only.write_text(text.replace("types: [User, Group]", "types: [User]"), encoding="utf-8")
    mapping = load_mapping(users_only)
    assert holder_of(mapping, "User") is mapping.resources["Group"]
    assert holder_of(mapping, "Group") is None
