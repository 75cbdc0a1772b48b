"""docker/: the compose file, the two Dockerfiles, .env.example and .dockerignore, checked against
what the gateway reads and the scripts the tests run (Docker itself does not run here)."""

from __future__ import annotations

import fnmatch
import json
import re
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.settings import PREFIX, REQUIRED, SECRETS, VARIABLES, Settings, environment_names

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "docker-compose.yml"
ENV_EXAMPLE = DOCKER / ".env.example"
GATEWAY_DOCKERFILE = DOCKER / "gateway" / "Dockerfile"
SLAPD_DOCKERFILE = DOCKER / "slapd" / "Dockerfile"
ENTRYPOINT = DOCKER / "gateway" / "entrypoint.sh"
NAME = re.compile(r"\bSCIM_GATEWAY_[A-Z0-9_]+\b")


# ------------------------------------------------------------------------------ helpers


class Missing(Exception):
    pass


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's variable interpolation: $$, ${VAR}, ${VAR:-x}, ${VAR-x}, ${VAR:?e}, nested."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            depth, j = 0, i
            while True:
                if text.startswith("${", j):
                    depth, j = depth + 1, j + 2
                    continue
                if text[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            out.append(_resolve(text[i + 2 : j], env))
            i = j + 1
        else:
            assert text[i] != "$", f"bare $ in {text!r}: use ${{...}} or $$"
            out.append(text[i])
            i += 1
    return "".join(out)


def _resolve(expr: str, env: dict[str, str]) -> str:
    found = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:-|-|:\?|\?)(.*))?", expr, re.S)
    assert found, expr
    name, op, arg = found.groups()
    value = env.get(name)
    if op == ":-":
        return value if value else interpolate(arg, env)
    if op == "-":
        return value if value is not None else interpolate(arg, env)
    if op in (":?", "?") and (value is None or (op == ":?" and not value)):
        raise Missing(f"{name}: {arg}")
    return value or ""


def interpolated(node: Any, env: dict[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [interpolated(v, env) for v in node]
    if isinstance(node, dict):
        return {k: interpolated(v, env) for k, v in node.items()}
    return node


def read_env_file(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"{path.name}: not KEY=VALUE: {line!r}"
            out[key.strip()] = value
    return out


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def entrypoint_names() -> set[str]:
    return set(NAME.findall(ENTRYPOINT.read_text(encoding="utf-8")))


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    lines = [
        line
        for line in dockerfile.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("#")
    ]
    text = "\n".join(lines).replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def final_stage(dockerfile: Path) -> list[tuple[str, str]]:
    steps = instructions(dockerfile)
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


@pytest.fixture
def generated_env(tmp_path: Path) -> dict[str, str]:
    """docker/.env as docker/init-env.sh writes it (into tmp_path, not the work tree)."""
    out = tmp_path / ".env"
    subprocess.run(["sh", str(DOCKER / "init-env.sh"), str(out)], check=True, timeout=30)
    return read_env_file(out)


# ------------------------------------------------------------------------------ compose


def test_compose_runs_slapd_and_gateway_both_with_healthchecks() -> None:
    services = compose()["services"]
    assert set(services) == {"slapd", "gateway"}
    for name, service in services.items():
        check = service["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert {"interval", "timeout", "retries"} <= check.keys(), name
    assert services["slapd"]["healthcheck"]["test"][1].startswith("ldapwhoami ")
    assert "/healthz" in " ".join(services["gateway"]["healthcheck"]["test"])


def test_compose_builds_the_two_images_from_the_repository_root() -> None:
    services = compose()["services"]
    for name, dockerfile in (("slapd", SLAPD_DOCKERFILE), ("gateway", GATEWAY_DOCKERFILE)):
        build = services[name]["build"]
        assert (COMPOSE.parent / build["context"]).resolve() == ROOT
        assert (ROOT / build["dockerfile"]).resolve() == dockerfile


def test_published_ports_are_on_loopback_only(generated_env: dict[str, str]) -> None:
    services = interpolated(compose()["services"], generated_env)
    published = [p for s in services.values() for p in s.get("ports", [])]
    assert published
    for port in published:
        assert isinstance(port, str) and port.startswith("127.0.0.1:"), port
    assert all("network_mode" not in s for s in services.values())


def test_gateway_starts_once_slapd_is_healthy() -> None:
    depends = compose()["services"]["gateway"]["depends_on"]
    assert depends == {"slapd": {"condition": "service_healthy"}}


def test_volumes_hold_the_directory_and_the_editable_mappings(
    generated_env: dict[str, str],
) -> None:
    doc = compose()
    services = interpolated(doc["services"], generated_env)
    assert "slapd-data:/var/lib/scim-test-slapd" in services["slapd"]["volumes"]
    assert "slapd-data" in doc["volumes"]
    mounts = [v.rsplit(":", 2) for v in services["gateway"]["volumes"]]
    source, _, mode = next(m for m in mounts if m[1] == "/etc/scim-gateway/mappings")
    assert mode == "ro"
    assert (COMPOSE.parent / source / "openldap.yaml").is_file()
    mapping = services["gateway"]["environment"]["SCIM_GATEWAY_MAPPING"]
    assert mapping == "/etc/scim-gateway/mappings/openldap.yaml"


def test_every_gateway_variable_named_in_docker_is_one_the_gateway_reads() -> None:
    known = environment_names() | entrypoint_names()
    assert entrypoint_names() >= {f"{PREFIX}BIND", f"{PREFIX}WORKERS", f"{PREFIX}THREADS"}
    for path in (COMPOSE, ENV_EXAMPLE, GATEWAY_DOCKERFILE, DOCKER / "init-env.sh"):
        unknown = set(NAME.findall(path.read_text(encoding="utf-8"))) - known
        assert not unknown, f"{path.name} names variables nothing reads: {sorted(unknown)}"


def test_env_example_and_compose_list_every_setting() -> None:
    wanted = environment_names() | {f"{PREFIX}{n}" for n in ("BIND", "WORKERS", "THREADS")}
    example = read_env_file(ENV_EXAMPLE)
    assert wanted | {"SLAPD_ADMIN_PASSWORD"} <= example.keys()
    assert {f"{PREFIX}{name}" for name in VARIABLES} <= example.keys()
    assert {f"{PREFIX}{name}_FILE" for name in SECRETS} <= example.keys()
    environment = compose()["services"]["gateway"]["environment"]
    assert wanted <= environment.keys()
    for secret in ("SLAPD_ADMIN_PASSWORD", f"{PREFIX}TOKEN", f"{PREFIX}LDAP_BIND_PASSWORD"):
        assert example[secret] == "", f"{secret} must not have a value in .env.example"


def test_generated_env_gives_a_stack_whose_settings_the_gateway_accepts(
    generated_env: dict[str, str], tmp_path: Path
) -> None:
    services = interpolated(compose()["services"], generated_env)
    gateway = {k: str(v) for k, v in services["gateway"]["environment"].items()}
    for name in REQUIRED:
        provided = gateway.get(PREFIX + name) or gateway.get(PREFIX + name + "_FILE")
        assert provided, f"{PREFIX}{name} is required and not provided"
    # The mapping path is the container's; validate everything else as the gateway would.
    settings = Settings.from_env(
        {**gateway, f"{PREFIX}MAPPING": str(ROOT / "mappings/openldap.yaml")}
    )
    slapd = services["slapd"]["environment"]
    assert settings.ldap_bind_password == slapd["SLAPD_ADMIN_PASSWORD"]
    assert settings.ldap_bind_dn == f"cn=admin,{slapd['SLAPD_SUFFIX']}"
    assert settings.ldap_urls == ("ldap://slapd:3890",)
    assert len(settings.token) >= 32 and settings.token != settings.ldap_bind_password
    assert settings.log_format == "json"
    out = tmp_path / ".env"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    before = out.read_text()
    subprocess.run(["sh", str(DOCKER / "init-env.sh"), str(out)], check=True, timeout=30)
    assert out.read_text() == before  # never overwritten


def test_compose_refuses_to_start_slapd_without_an_admin_password() -> None:
    with pytest.raises(Missing, match=r"init-env\.sh"):
        interpolated(compose()["services"], read_env_file(ENV_EXAMPLE))


# ------------------------------------------------------------------------------ Dockerfiles


def test_slapd_image_runs_run_slapd_sh_in_the_foreground() -> None:
    steps = instructions(SLAPD_DOCKERFILE)
    assert ("FROM", "debian:12-slim") in steps
    assert any(w == "RUN" and "apt-get install" in a and "slapd ldap-utils" in a for w, a in steps)
    copies = [a.split() for w, a in steps if w == "COPY"]
    assert ["docker/slapd/", "/opt/scim-test-slapd/"] in copies
    entry = json.loads(next(a for w, a in steps if w == "ENTRYPOINT"))
    assert entry == ["/opt/scim-test-slapd/run-slapd.sh", "foreground", "/var/lib/scim-test-slapd"]
    env = " ".join(a for w, a in steps if w == "ENV")
    assert "SLAPD_HOST=0.0.0.0" in env
    assert ("VOLUME", '["/var/lib/scim-test-slapd"]') in steps
    assert any(w == "USER" and a not in ("root", "0") for w, a in steps)
    health = next(a for w, a in steps if w == "HEALTHCHECK")
    assert "ldapwhoami" in health
    # What the image copies is what the tests run: the same script, template and seed.
    assert {p.name for p in (DOCKER / "slapd").iterdir()} >= {
        "run-slapd.sh",
        "slapd.conf.template",
        "seed.ldif.template",
    }


def test_gateway_image_runs_the_entrypoint_script_as_a_non_root_user() -> None:
    steps = final_stage(GATEWAY_DOCKERFILE)
    assert steps[0] == ("FROM", "python:3.11-slim")
    assert any(w == "RUN" and "pip install ." in a for w, a in instructions(GATEWAY_DOCKERFILE))
    copies = [a.split() for w, a in steps if w == "COPY"]
    script = next(c[-1] for c in copies if "docker/gateway/entrypoint.sh" in c)
    assert json.loads(next(a for w, a in steps if w == "ENTRYPOINT")) == [script]
    user = next(a for w, a in steps if w == "USER")
    assert user.split(":")[0] not in ("root", "0")
    assert ["mappings/", "/etc/scim-gateway/mappings/"] in copies
    assert ("VOLUME", '["/etc/scim-gateway/mappings"]') in steps
    env = " ".join(a for w, a in steps if w == "ENV")
    assert "SCIM_GATEWAY_MAPPING=/etc/scim-gateway/mappings/openldap.yaml" in env
    assert (ROOT / "mappings" / "openldap.yaml").is_file()
    health = next(a for w, a in steps if w == "HEALTHCHECK")
    assert "/healthz" in health and "curl" not in health and "python" in health


def test_compose_and_image_share_the_gateway_healthcheck() -> None:
    steps = final_stage(GATEWAY_DOCKERFILE)
    image = json.loads(next(a for w, a in steps if w == "HEALTHCHECK").split(" CMD ", 1)[1])
    assert compose()["services"]["gateway"]["healthcheck"]["test"] == ["CMD", *image]


# ------------------------------------------------------------------------------ .dockerignore


def _ignored(path: str, rules: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; a directory pattern covers its content."""
    ignored = False
    for rule in rules:
        negate = rule.startswith("!")
        pattern = rule[1:] if negate else rule
        pattern = pattern.rstrip("/")
        candidates = [pattern]
        if pattern.startswith("**/"):
            candidates.append(pattern[3:])
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(
            fnmatch.fnmatchcase(p, c) or fnmatch.fnmatchcase(p, "*/" + c)
            for p in prefixes
            for c in candidates
        ):
            ignored = not negate
    return ignored


def test_dockerignore_sends_only_what_the_images_copy() -> None:
    rules = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for needed in (
        "pyproject.toml",
        "README.md",
        "gateway/app.py",
        "mappings/openldap.yaml",
        "docker/gateway/entrypoint.sh",
        "docker/slapd/run-slapd.sh",
        "docker/slapd/seed.ldif.template",
    ):
        assert not _ignored(needed, rules), needed
    for secret in (
        "docker/.env",
        ".env",
        ".local/token",
        ".venv/bin/python",
        ".git/config",
        "tests/conftest.py",
        "gateway/__pycache__/app.cpython-311.pyc",
    ):
        assert _ignored(secret, rules), secret


def test_readme_shows_the_docker_path_beside_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Two commands" in readme
    assert "docker compose -f docker/docker-compose.yml up" in readme
    assert readme.index("## Two commands") < readme.index("docker compose -f")
