"""The one line a gateway process logs when it starts: what it serves and how it is reached.

An operator reading the log of a restarted container wants to see which mapping file it
loaded, which directory it talks to and how clients authenticate, without hunting through the
environment. Only what is not secret goes in: LDAP URLs lose any user information and
extensions they carry, tokens are counted, never shown, and the bind password never appears.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from gateway.settings import Settings


def start_line(settings: Settings) -> str:
    """``mapping=<file> ldap=<urls> bind_dn=<dn> auth=<mode>`` for ``settings``."""
    urls = ",".join(safe_url(u) for u in settings.ldap_urls)
    bind = settings.ldap_bind_dn or "(anonymous)"
    tls = " starttls" if settings.ldap_start_tls else ""
    return (
        f"scim-gateway starting: mapping={settings.mapping_path} ldap={urls}{tls} "
        f"bind_dn={bind!r} auth={auth_mode(settings)}"
    )


def safe_url(url: str) -> str:
    """``scheme://host:port`` of an LDAP URL: no user information, no DN, no extensions."""
    try:
        parts = urlsplit(url)
        host = parts.netloc.rsplit("@", 1)[-1]
    except ValueError:
        return "<unparsable LDAP URL>"
    return f"{parts.scheme}://{host}" if parts.scheme and host else "<unparsable LDAP URL>"


def auth_mode(settings: Settings) -> str:
    """How clients authenticate: shared bearer tokens (how many), Entra JWTs (whose), or both."""
    modes = []
    if settings.tokens:
        count = len(settings.tokens)
        modes.append(f"bearer-token({count} accepted)" if count > 1 else "bearer-token")
    if settings.jwt_jwks:
        modes.append(f"jwt(issuer={settings.jwt_issuer}, audience={settings.jwt_audience})")
    return "+".join(modes) or "none"
