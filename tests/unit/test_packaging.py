"""The shipped mappings install with the package, so the default SCIM_GATEWAY_MAPPING holds
after `pip install .` (checked by hand with a built wheel; here: the lookup and the packaging
rule that puts the files there)."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import gateway
from gateway.mapping.loader import load_mapping
from gateway.settings import DEFAULT_MAPPING

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(gateway.__file__).resolve().parent


def test_the_default_mapping_is_looked_up_inside_the_package() -> None:
    assert DEFAULT_MAPPING.parent.parent == PACKAGE
    assert DEFAULT_MAPPING.name == "openldap.yaml"
    assert sorted(load_mapping(DEFAULT_MAPPING).resources) == ["Group", "User"]


def test_every_shipped_mapping_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["gateway"]
    shipped = sorted(p.name for p in (ROOT / "mappings").glob("*.yaml"))
    assert shipped  # the repository's mappings/ ...
    assert sorted(p.name for p in (PACKAGE / "mappings").glob("*.yaml")) == shipped  # ... are
    for name in shipped:  # the package's, and the packaging rule picks each of them up
        assert any(fnmatch.fnmatch(f"mappings/{name}", pattern) for pattern in patterns), name
