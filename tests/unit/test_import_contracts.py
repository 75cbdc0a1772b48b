"""Import contracts: which part of ``gateway`` may import which, read from the source with ``ast``.

The layers (docs/architecture.md) only hold if something fails when one is crossed, so every
import statement in ``gateway/`` — at module level, inside functions, under
``TYPE_CHECKING`` — is checked against two tables: the parts of ours each part may import
(:data:`ALLOWED`), and the parts that may import each third-party package (:data:`THIRD_PARTY`).
A violation names the file and line. The tables state what holds today; to add an edge, add
it here on purpose (with the reason in docs/architecture.md), not by accident.

A "part" is a subpackage of ``gateway`` (``web``, ``scim``, ...) or a top-level module
(``errors``, ``metrics``, ...); ``gateway`` itself is ``gateway/__init__.py``.
"""

from __future__ import annotations

import ast
import functools
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "gateway"

ALLOWED: dict[str, frozenset[str]] = {
    # foundations: import nothing of ours (settings reports its problems as a ConfigError)
    "gateway": frozenset(),
    "errors": frozenset(),
    "metrics": frozenset(),
    "logconfig": frozenset(),
    "settings": frozenset({"errors"}),
    "startlog": frozenset({"settings"}),
    # the layers, right to left: scim is pure protocol, directory the only LDAP client
    "scim": frozenset({"errors"}),
    "directory": frozenset({"errors", "metrics"}),
    "mapping": frozenset({"errors", "scim", "directory"}),
    "provisioning": frozenset({"errors", "scim", "mapping", "directory"}),
    # web calls the use cases (provisioning: services, their catalog, readiness) through
    # its typed accessor (web/runtime.py), never the mapping or the directory behind them
    "web": frozenset({"errors", "scim", "metrics", "logconfig", "provisioning"}),
    "frontdoor": frozenset({"scim", "metrics"}),
    # composition: the only parts that see several layers at once
    "admin": frozenset({"errors", "scim", "mapping", "directory", "provisioning"}),
    "reloading": frozenset({"errors", "metrics", "mapping", "directory", "provisioning"}),
    "app": frozenset({"settings", "startlog", "web", "provisioning", "mapping", "directory"}),
    "server": frozenset({"metrics", "frontdoor", "reloading"}),
    "wsgi": frozenset({"app", "settings", "logconfig"}),
    "cli": frozenset({"errors", "settings", "logconfig", "admin", "app", "server"}),
}
"""Part → the parts of ours it may import (itself always)."""

THIRD_PARTY: dict[str, frozenset[str]] = {
    "ldap3": frozenset({"directory"}),
    "flask": frozenset({"web", "app"}),
    "werkzeug": frozenset({"web", "app"}),
    "jwt": frozenset({"web"}),
    "yaml": frozenset({"mapping"}),
    "marshmallow": frozenset({"mapping"}),
    "prometheus_client": frozenset({"metrics"}),
    "gunicorn": frozenset({"server"}),
    "uvicorn": frozenset({"frontdoor"}),
    "uvicorn_worker": frozenset({"frontdoor"}),
    "uvloop": frozenset({"frontdoor"}),  # the workers' event loop (frontdoor/loop.py)
    "orjson": frozenset({"web", "logconfig"}),  # logconfig: the JSON log line (issue 17)
}
"""Third-party top-level package → the parts that may import it. A package not listed here
may not be imported at all: a new dependency is a decision about where it lives."""

DIRECTORY_WITHOUT_IO = frozenset({"dn", "entry", "ldapfilter", "sorting", "subschema"})
"""The ``gateway.directory`` modules ``mapping`` may use: values and their rules, no LDAP
round trip (mapping is pure translation; provisioning does the I/O)."""


@dataclass(frozen=True, slots=True)
class Module:
    """One source file of the package: its dotted name, its path as shown, its text."""

    name: str
    shown: str
    source: str

    @property
    def part(self) -> str:
        pieces = self.name.split(".")
        return pieces[1] if len(pieces) > 1 else "gateway"

    @property
    def is_package(self) -> bool:
        return self.shown.endswith("__init__.py")


@dataclass(frozen=True, slots=True)
class Import:
    """One imported module (absolute, dotted) and the line that imports it."""

    line: int
    target: str


def package_modules() -> list[Module]:
    """Every ``.py`` file under ``gateway/``."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        shown = path.relative_to(ROOT).as_posix()
        found.append(Module(name, shown, path.read_text(encoding="utf-8")))
    return found


def imports_of(module: Module, known: frozenset[str]) -> Iterator[Import]:
    """The modules ``module`` imports, anywhere in it; relative imports made absolute.

    ``from a.b import c`` imports ``a.b.c`` when that is one of ``known`` modules (a
    submodule), else ``a.b`` (a name defined in it).
    """
    for node in ast.walk(_tree(module)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node.module, node.level)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield Import(node.lineno, sub if sub in known else base)


@functools.cache
def _tree(module: Module) -> ast.Module:
    return ast.parse(module.source, module.shown)


def _absolute(module: Module, name: str | None, level: int) -> str:
    if not level:
        return name or ""
    pieces = module.name.split(".")
    anchor = pieces if module.is_package else pieces[:-1]
    anchor = anchor[: len(anchor) - (level - 1)]
    return ".".join([*anchor, name] if name else anchor)


def violations(modules: Iterable[Module], known: frozenset[str] | None = None) -> list[str]:
    """Every import in ``modules`` that breaks a contract, as ``file:line: what, and what is
    allowed``; ``known``: the package's module names (default: those of ``modules``)."""
    modules = list(modules)
    known = known if known is not None else frozenset(m.name for m in modules)
    found: list[str] = []
    for module in modules:
        for imp in imports_of(module, known):
            problem = _judge(module.part, imp.target)
            if problem:
                found.append(f"{module.shown}:{imp.line}: {module.part} imports {problem}")
        found += _dynamic_imports(module)
    return found


def _judge(part: str, target: str) -> str | None:
    """Why ``part`` may not import ``target``, or None when it may."""
    pieces = target.split(".")
    top = pieces[0]
    if top == "gateway":
        other = pieces[1] if len(pieces) > 1 else "gateway"
        allowed = ALLOWED.get(part, frozenset())
        if other != part and other not in allowed:
            return f"{target}; {part} may import only {_listed(allowed)} of ours"
        if part == "mapping" and other == "directory":
            sub = pieces[2] if len(pieces) > 2 else None
            if sub not in DIRECTORY_WITHOUT_IO:
                return (
                    f"{target}; mapping may use only gateway.directory's "
                    f"{_listed(DIRECTORY_WITHOUT_IO)} (no LDAP I/O in translation)"
                )
        return None
    if top in sys.stdlib_module_names or top == "__future__":
        return None
    where = THIRD_PARTY.get(top)
    if where is None:
        return f"{target}, a third-party package no part may import (see THIRD_PARTY)"
    if part not in where:
        return f"{target}; only {_listed(where)} may import {top}"
    return None


def _dynamic_imports(module: Module) -> list[str]:
    """``importlib.import_module`` / ``__import__`` would slip past the tables: none allowed."""
    found = []
    for node in ast.walk(_tree(module)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name in {"import_module", "__import__"}:
            found.append(f"{module.shown}:{node.lineno}: a dynamic import ({name}) hides a layer")
    return found


def _listed(names: Iterable[str]) -> str:
    return ", ".join(sorted(names)) or "nothing"


# --------------------------------------------------------------------------- the contracts


@pytest.fixture(scope="module")
def modules() -> list[Module]:
    return package_modules()


def test_every_import_in_the_package_keeps_the_contracts(modules: list[Module]) -> None:
    found = violations(modules)
    assert not found, "import contracts broken:\n" + "\n".join(found)


def test_the_tables_name_every_part_and_only_parts_that_exist(modules: list[Module]) -> None:
    """A new subpackage or top-level module must be placed in the layers; a part that is
    gone must not linger (or its contract would pass by checking nothing)."""
    parts = {m.part for m in modules}
    assert parts == set(ALLOWED), (
        f"parts without a contract: {sorted(parts - set(ALLOWED))}; "
        f"contracts for parts that do not exist: {sorted(set(ALLOWED) - parts)}"
    )
    for allowed in ALLOWED.values():
        assert allowed <= parts
    for where in THIRD_PARTY.values():
        assert where <= parts
    assert len(modules) > 50  # the walk found the package, not an empty directory


def test_each_third_party_package_listed_is_still_imported(modules: list[Module]) -> None:
    """A stale row would allow an import nobody decided on; drop it with the dependency."""
    known = frozenset(m.name for m in modules)
    used = {imp.target.split(".")[0] for m in modules for imp in imports_of(m, known)}
    assert set(THIRD_PARTY) <= used, f"listed but not imported: {set(THIRD_PARTY) - used}"


# ------------------------------------------------------------- the checker itself can fail


def _fake(shown: str, source: str) -> Module:
    parts = Path(shown).with_suffix("").parts
    name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    return Module(name, shown, source)


@pytest.mark.parametrize(
    ("shown", "source", "expected"),
    [
        (
            "gateway/web/fake.py",
            '"""doc."""\n\nfrom gateway.directory.entry import Entry\n',
            "gateway/web/fake.py:3: web imports gateway.directory.entry; web may import only",
        ),
        (
            "gateway/web/fake.py",
            "from gateway.mapping import translate\n",
            "gateway/web/fake.py:1: web imports gateway.mapping.translate;",
        ),
        (
            "gateway/scim/fake.py",
            "def f():\n    from gateway.mapping.model import Mapping\n",
            "gateway/scim/fake.py:2: scim imports gateway.mapping.model; scim may import only "
            "errors of ours",
        ),
        (
            "gateway/scim/fake.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import flask\n",
            "gateway/scim/fake.py:3: scim imports flask; only app, web may import flask",
        ),
        (
            "gateway/provisioning/fake.py",
            "import ldap3\n",
            "gateway/provisioning/fake.py:1: provisioning imports ldap3; only directory",
        ),
        (
            "gateway/web/fake.py",
            "from ..directory import ldapfilter\n",
            "gateway/web/fake.py:1: web imports gateway.directory.ldapfilter;",
        ),
        (
            "gateway/mapping/fake.py",
            "from gateway.directory.operations import Directory\n",
            "gateway/mapping/fake.py:1: mapping imports gateway.directory.operations; mapping "
            "may use only gateway.directory's",
        ),
        (
            "gateway/directory/fake.py",
            "import requests\n",
            "gateway/directory/fake.py:1: directory imports requests, a third-party package",
        ),
        (
            "gateway/errors.py",
            "from gateway import metrics\n",
            "gateway/errors.py:1: errors imports gateway.metrics; errors may import only "
            "nothing of ours",
        ),
        (
            "gateway/provisioning/fake.py",
            "from gateway import app\n",
            "gateway/provisioning/fake.py:1: provisioning imports gateway.app;",
        ),
        (
            "gateway/web/fake.py",
            "import importlib\nm = importlib.import_module('gateway.directory')\n",
            "gateway/web/fake.py:2: a dynamic import (import_module) hides a layer",
        ),
    ],
)
def test_a_broken_contract_is_reported_with_file_and_line(
    modules: list[Module], shown: str, source: str, expected: str
) -> None:
    fake = _fake(shown, source)
    found = violations([fake], frozenset({*(m.name for m in modules), fake.name}))
    assert any(v.startswith(expected) for v in found), found


@pytest.mark.parametrize(
    ("shown", "source"),
    [
        ("gateway/mapping/fake.py", "from gateway.directory import dn as dnlib\n"),
        ("gateway/provisioning/fake.py", "from gateway.directory.operations import Directory\n"),
        ("gateway/web/fake.py", "from . import wire\nfrom .wire import BASE_PATH\n"),
        ("gateway/scim/fake.py", "from gateway.errors import InvalidFilter\nimport re\n"),
        ("gateway/directory/fake.py", "import ldap3\nfrom gateway import metrics\n"),
    ],
)
def test_an_allowed_import_is_not_reported(modules: list[Module], shown: str, source: str) -> None:
    fake = _fake(shown, source)
    assert violations([fake], frozenset({*(m.name for m in modules), fake.name})) == []


# ------------------------------------------------------------------ the page that explains it

ARCHITECTURE = ROOT / "docs" / "architecture.md"


def test_the_architecture_page_describes_every_part() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    missing = [
        part
        for part in ALLOWED
        if part != "gateway" and f"`{part}/`" not in text and f"`{part}.py`" not in text
    ]
    assert not missing, f"docs/architecture.md does not describe: {missing}"


def test_the_architecture_page_names_only_files_that_exist(modules: list[Module]) -> None:
    """The page says where a change goes; a renamed module must not leave it pointing at
    nothing. Paths are relative to the repository, to ``gateway/``, or end a module's path."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    named = set(re.findall(r"`([\w./]+\.py)`", text))
    assert named, "no file names found: the pattern is wrong"
    shown = [m.shown for m in modules]
    gone = [
        path
        for path in sorted(named)
        if not (ROOT / path).exists()
        and not (PACKAGE / path).exists()
        and not any(s.endswith(f"/{path}") for s in shown)
    ]
    assert not gone, f"docs/architecture.md names files that do not exist: {gone}"
