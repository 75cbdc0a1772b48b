"""Settings from ``SCIM_GATEWAY_*`` environment variables, validated once at start.

Secrets can come from files (``*_FILE``, for Docker/Kubernetes secrets). Every problem is
collected and reported together so an operator fixes a broken deployment in one go.
There are no secret defaults here: only the dev command (``scripts/run.sh``) generates them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from gateway.errors import ConfigError

PREFIX = "SCIM_GATEWAY_"
# Shipped inside the package (gateway/mappings links to the repository's mappings/), so the
# default also holds after `pip install .`; copy and edit it for a real directory.
DEFAULT_MAPPING = Path(__file__).resolve().parent / "mappings" / "openldap.yaml"

# Every variable the gateway reads, with a one-line meaning; the docs and the compose test
# are checked against this table, so adding a setting means adding it here.
VARIABLES: dict[str, str] = {
    "LDAP_URL": "LDAP URL(s) of the directory, comma-separated for failover (required)",
    "LDAP_BIND_DN": "DN the gateway binds as (required)",
    "LDAP_BIND_PASSWORD": "password for LDAP_BIND_DN (or LDAP_BIND_PASSWORD_FILE) (required)",
    "TOKEN": "bearer token(s) clients may send, whitespace-separated for rotation (or TOKEN_FILE, "
    "one per line); required unless JWT validation is configured",
    "MAPPING": "path of the mapping YAML (default: the shipped mappings/openldap.yaml)",
    "LDAP_CONNECT_TIMEOUT": "seconds to wait for a TCP connection to the directory (default 3)",
    "LDAP_TIMEOUT": "seconds to wait for one LDAP operation (default 10)",
    "PAGE_SIZE": "LDAP paged-search page size for lists (default 500)",
    "MAX_RESULTS": "largest SCIM 'count' honoured in one list response (default 1000)",
    "DEFAULT_COUNT": "page size of a list response when the client sends no 'count' (default 100)",
    "RETRY_AFTER": "Retry-After seconds sent with 503 when the directory is down (default 5)",
    "MAX_PATCH_OPERATIONS": "most operations one PATCH may hold; more: 400 tooMany (default 1000)",
    "MAX_VALUES": "most values one multi-valued attribute may hold in a request body or after "
    "a PATCH; more: 400 tooMany (default 10000)",
    "PATCH_DEADLINE": "seconds a PATCH may work before it stops with 503, nothing written "
    "(default 20)",
    "LOG_LEVEL": "DEBUG, INFO, WARNING or ERROR (default INFO)",
    "LOG_FORMAT": "json (one JSON object per line; the default) or text (for people)",
    "METRICS_TOKEN": "bearer token for /metrics (or METRICS_TOKEN_FILE); unset: /metrics is open",
    "TLS_CERT_FILE": "PEM certificate chain to serve HTTPS with (default: plain HTTP)",
    "TLS_KEY_FILE": "PEM private key of TLS_CERT_FILE (set both or neither)",
    "TRUSTED_PROXY_HOPS": "reverse proxies in front whose X-Forwarded-* to trust (default 0)",
    "LDAP_START_TLS": "true: upgrade ldap:// connections with StartTLS (default false)",
    "LDAP_CA_FILE": "PEM CA bundle to verify the directory's certificate (default: system CAs)",
    "LDAP_TLS_VERIFY": "false turns certificate verification off: test set-ups only (default true)",
    "LDAP_MAX_CONNECTION_AGE": "seconds before a connection is reopened, so a failover returns "
    "to the first URL (default 300)",
    "LDAP_MAX_ANSWER_BYTES": "most bytes the gateway reads in answer to one LDAP operation; a "
    "larger answer drops the connection, 503 (default 67108864, 64 MiB)",
    "LDAP_WRITE_CONCERN_TIMEOUT": "with several LDAP_URLs (multi-provider): seconds a write waits "
    "for every other node to hold it before it is acknowledged, else 504; 0 = acknowledge at "
    "once (default 0; docs/replication.md)",
    "LDAP_WRITER_STATE_FILE": "file the gateway processes of one host share to write to one LDAP "
    "node at a time (default: derived from LDAP_URL in the temporary directory)",
    "JWT_JWKS": "JWKS file or https URL with the keys of accepted JWT bearer tokens (Entra)",
    "JWT_ISSUER": "required 'iss' of JWT bearer tokens, e.g. https://sts.windows.net/<tenant>/",
    "JWT_AUDIENCE": "required 'aud' of JWT bearer tokens "
    "(Entra: 8adf8e6e-67b2-4cf2-a259-e3dc5476c621)",
    "JWT_MAX_LIFETIME": "longest accepted JWT lifetime (exp - iat) and age (now - iat), in seconds "
    "(default 86400)",
    "PUBLIC_URL": "the gateway's public base URL, e.g. https://scim.example.org (Location, "
    "meta.location, $ref); unset: taken from each request's Host header",
    "READY_CACHE_SECONDS": "seconds /readyz reuses its last directory check (default 5; 0: none)",
    "HEADER_TIMEOUT": "seconds a client has to send a request's headers (default 10)",
    "BODY_TIMEOUT": "seconds a client has to send a request's body after its headers (default 30)",
    "QUEUE_SIZE": "requests a worker holds waiting for a thread before answering 429 (default 64)",
    "DN_CACHE_SIZE": "ids whose DN each worker remembers, so a PATCH can be one LDAP write that "
    "the directory checks (default 10000; 0: off; docs/operations.md)",
}
SECRETS = ("LDAP_BIND_PASSWORD", "TOKEN", "METRICS_TOKEN")
"""Settings that may also come from a file named by ``<NAME>_FILE``."""
REQUIRED = ("LDAP_URL", "LDAP_BIND_DN", "LDAP_BIND_PASSWORD", "TOKEN")
"""Settings without a default: directly or (for SECRETS) through ``<NAME>_FILE``.
(TOKEN may be left out when the three JWT_* settings are given instead.)"""


def environment_names() -> frozenset[str]:
    """Every environment variable the gateway itself reads (``_FILE`` variants included)."""
    names = {PREFIX + name for name in VARIABLES}
    names.update(PREFIX + name + "_FILE" for name in SECRETS)
    return frozenset(names)


@dataclass(frozen=True, slots=True)
class Settings:
    ldap_urls: tuple[str, ...]
    ldap_bind_dn: str
    ldap_bind_password: str = field(repr=False)
    token: str = field(repr=False)
    mapping_path: Path = DEFAULT_MAPPING
    ldap_connect_timeout: float = 3.0
    ldap_timeout: float = 10.0
    page_size: int = 500
    max_results: int = 1000
    default_count: int = 100
    retry_after: int = 5
    max_patch_operations: int = 1000
    max_values: int = 10000
    patch_deadline: float = 20.0
    log_level: str = "INFO"
    log_format: str = "json"
    metrics_token: str = field(default="", repr=False)
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    trusted_proxy_hops: int = 0
    ldap_start_tls: bool = False
    ldap_ca_file: Path | None = None
    ldap_tls_verify: bool = True
    ldap_max_connection_age: float = 300.0
    ldap_max_answer_bytes: int = 64 << 20
    ldap_write_concern_timeout: float = 0.0
    ldap_writer_state_file: str = ""
    jwt_jwks: str = ""
    jwt_issuer: str = ""
    jwt_audience: str = ""
    jwt_max_lifetime: int = 86400
    public_url: str = ""
    ready_cache_seconds: float = 5.0
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    queue_size: int = 64
    dn_cache_size: int = 10000

    @property
    def tokens(self) -> tuple[str, ...]:
        """Every accepted shared-secret token (several during a rotation)."""
        return tuple(self.token.split())

    def secrets(self) -> tuple[str, ...]:
        """The secret values, for log redaction."""
        return tuple(s for s in (self.ldap_bind_password, *self.tokens, self.metrics_token) if s)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate all settings; raise ConfigError listing every problem."""
        env = os.environ if env is None else env
        problems: list[str] = []
        reader = _Reader(env, problems)

        urls = tuple(
            u.strip() for u in reader.text("LDAP_URL", required=True).split(",") if u.strip()
        )
        for url in urls:
            if not url.lower().startswith(("ldap://", "ldaps://")):
                problems.append(f"{PREFIX}LDAP_URL: {url!r} is not an ldap:// or ldaps:// URL")
        bind_dn = reader.text("LDAP_BIND_DN", required=True)
        password = reader.secret("LDAP_BIND_PASSWORD")
        jwt = {k: reader.text(k) for k in ("JWT_JWKS", "JWT_ISSUER", "JWT_AUDIENCE")}
        if any(jwt.values()) and not all(jwt.values()):
            problems.append(
                f"JWT validation needs all of {PREFIX}JWT_JWKS, {PREFIX}JWT_ISSUER "
                f"and {PREFIX}JWT_AUDIENCE"
            )
        jwks = jwt["JWT_JWKS"]
        if jwks and not jwks.lower().startswith("https://") and not Path(jwks).is_file():
            problems.append(f"{PREFIX}JWT_JWKS: not an https:// URL or a readable file: {jwks}")
        token = reader.secret("TOKEN", required=not all(jwt.values()))
        if any(len(t) < 16 for t in token.split()):
            problems.append(f"{PREFIX}TOKEN: use at least 16 characters per token")
        metrics_token = reader.secret("METRICS_TOKEN", required=False)
        if metrics_token and len(metrics_token) < 16:
            problems.append(f"{PREFIX}METRICS_TOKEN: use at least 16 characters")
        tls_cert, tls_key = reader.path("TLS_CERT_FILE"), reader.path("TLS_KEY_FILE")
        if (tls_cert is None) != (tls_key is None):
            problems.append(f"set both {PREFIX}TLS_CERT_FILE and {PREFIX}TLS_KEY_FILE, or neither")
        mapping = Path(reader.text("MAPPING") or DEFAULT_MAPPING)
        if not mapping.is_file():
            problems.append(f"{PREFIX}MAPPING: no such file: {mapping}")
        settings = dict(
            ldap_connect_timeout=reader.number("LDAP_CONNECT_TIMEOUT", 3.0, float, 0.1, 120),
            ldap_timeout=reader.number("LDAP_TIMEOUT", 10.0, float, 0.1, 600),
            page_size=reader.number("PAGE_SIZE", 500, int, 1, 10000),
            max_results=reader.number("MAX_RESULTS", 1000, int, 1, 100000),
            default_count=reader.number("DEFAULT_COUNT", 100, int, 1, 100000),
            retry_after=reader.number("RETRY_AFTER", 5, int, 1, 3600),
            max_patch_operations=reader.number("MAX_PATCH_OPERATIONS", 1000, int, 1, 100000),
            max_values=reader.number("MAX_VALUES", 10000, int, 1, 1000000),
            patch_deadline=reader.number("PATCH_DEADLINE", 20.0, float, 0.1, 3600),
            trusted_proxy_hops=reader.number("TRUSTED_PROXY_HOPS", 0, int, 0, 10),
            ldap_max_connection_age=reader.number(
                "LDAP_MAX_CONNECTION_AGE", 300.0, float, 1, 86400
            ),
            ldap_max_answer_bytes=reader.number(
                "LDAP_MAX_ANSWER_BYTES", 64 << 20, int, 1 << 16, 1 << 32
            ),
            ldap_write_concern_timeout=reader.number(
                "LDAP_WRITE_CONCERN_TIMEOUT", 0.0, float, 0, 600
            ),
            ldap_writer_state_file=reader.text("LDAP_WRITER_STATE_FILE"),
            ldap_start_tls=reader.flag("LDAP_START_TLS", False),
            ldap_tls_verify=reader.flag("LDAP_TLS_VERIFY", True),
            ldap_ca_file=reader.path("LDAP_CA_FILE"),
            jwt_max_lifetime=reader.number("JWT_MAX_LIFETIME", 86400, int, 60, 31 * 86400),
            public_url=_public_url(reader.text("PUBLIC_URL"), problems),
            ready_cache_seconds=reader.number("READY_CACHE_SECONDS", 5.0, float, 0, 300),
            header_timeout=reader.number("HEADER_TIMEOUT", 10.0, float, 1, 300),
            body_timeout=reader.number("BODY_TIMEOUT", 30.0, float, 1, 600),
            queue_size=reader.number("QUEUE_SIZE", 64, int, 0, 10000),
            dn_cache_size=reader.number("DN_CACHE_SIZE", 10000, int, 0, 10_000_000),
        )
        level = (reader.text("LOG_LEVEL") or "INFO").upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            problems.append(f"{PREFIX}LOG_LEVEL: {level!r} is not DEBUG, INFO, WARNING or ERROR")
        log_format = (reader.text("LOG_FORMAT") or "json").lower()
        if log_format not in ("json", "text"):
            problems.append(f"{PREFIX}LOG_FORMAT: {log_format!r} is not json or text")
        if problems:
            raise ConfigError(problems, "settings")
        return cls(
            ldap_urls=urls,
            ldap_bind_dn=bind_dn,
            ldap_bind_password=password,
            token=token,
            mapping_path=mapping,
            log_level=level,
            log_format=log_format,
            metrics_token=metrics_token,
            tls_cert_file=tls_cert,
            tls_key_file=tls_key,
            jwt_jwks=jwks,
            jwt_issuer=jwt["JWT_ISSUER"],
            jwt_audience=jwt["JWT_AUDIENCE"],
            **settings,  # type: ignore[arg-type]
        )


def _public_url(value: str, problems: list[str]) -> str:
    """``scheme://host[:port][/prefix]`` without a trailing slash, query or fragment."""
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        problems.append(
            f"{PREFIX}PUBLIC_URL: {value!r} is not an http(s)://host[:port][/path] URL "
            "without query or fragment"
        )
        return ""
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        problems.append(f"{PREFIX}PUBLIC_URL: {value!r} has an invalid port")
        return ""
    return value.rstrip("/")


@dataclass
class _Reader:
    env: Mapping[str, str]
    problems: list[str]

    def text(self, name: str, *, required: bool = False) -> str:
        value = self.env.get(PREFIX + name, "").strip()
        if required and not value:
            self.problems.append(f"{PREFIX}{name} is required ({VARIABLES[name]})")
        return value

    def path(self, name: str) -> Path | None:
        """An existing, readable file, or None when the variable is unset."""
        value = self.text(name)
        if not value:
            return None
        path = Path(value)
        try:
            with path.open("rb"):
                pass
        except OSError as err:
            self.problems.append(f"{PREFIX}{name}: cannot read {value}: {err.strerror}")
            return None
        return path

    def secret(self, name: str, *, required: bool = True) -> str:
        """From ``NAME`` or the file named by ``NAME_FILE`` (not both); never echoed."""
        direct = self.env.get(PREFIX + name, "")
        path = self.env.get(PREFIX + name + "_FILE", "").strip()
        if direct and path:
            self.problems.append(f"set {PREFIX}{name} or {PREFIX}{name}_FILE, not both")
            return ""
        if path:
            try:
                direct = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as err:
                self.problems.append(f"{PREFIX}{name}_FILE: cannot read {path}: {err.strerror}")
                return ""
        if not direct and required:
            self.problems.append(f"{PREFIX}{name} (or {PREFIX}{name}_FILE) is required")
        return direct

    def flag(self, name: str, default: bool) -> bool:
        raw = self.text(name).lower()
        if not raw:
            return default
        if raw in ("1", "true", "yes", "on"):
            return True
        if raw in ("0", "false", "no", "off"):
            return False
        self.problems.append(f"{PREFIX}{name}: {raw!r} is not true or false")
        return default

    def number(self, name, default, kind, low, high):
        raw = self.env.get(PREFIX + name, "").strip()
        if not raw:
            return default
        try:
            value = kind(raw)
        except ValueError:
            self.problems.append(f"{PREFIX}{name}: {raw!r} is not a number")
            return default
        if not low <= value <= high:
            self.problems.append(f"{PREFIX}{name}: {raw} is outside {low}..{high}")
            return default
        return value
