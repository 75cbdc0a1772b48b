#!/usr/bin/env bash
# Development server: a seeded local OpenLDAP on 127.0.0.1:3890 (in .local/slapd) and the gateway
# on http://127.0.0.1:8080/scim/v2, with a generated token and admin password kept in .local/.
# Environment: PORT (gateway, default 8080), SLAPD_PORT (directory, default 3890),
# SCIM_GATEWAY_MAPPING (default mappings/openldap.yaml), SCIM_GATEWAY_LOCAL_DIR (default .local),
# and any other SCIM_GATEWAY_* setting (README).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_slapd
ensure_venv

LOCAL=${SCIM_GATEWAY_LOCAL_DIR:-$ROOT/.local}
mkdir -p "$LOCAL"
chmod 700 "$LOCAL"
# A secret file holds the exact bytes, no trailing newline: `ldapsearch -y FILE` sends the
# whole file as the password. Files written with a newline by older versions are trimmed.
secret() {
    "$VENV/bin/python" - "$1" <<'PY'
import secrets, sys
from pathlib import Path
path = Path(sys.argv[1])
old = path.read_text(encoding="utf-8") if path.exists() else ""
value = old.strip() or secrets.token_urlsafe(32)
if value != old:
    path.write_text(value, encoding="utf-8")
PY
    chmod 600 "$1"
}
secret "$LOCAL/admin-password"
secret "$LOCAL/token"

export SLAPD_ADMIN_PASSWORD
SLAPD_ADMIN_PASSWORD=$(cat "$LOCAL/admin-password")
export SLAPD_PORT=${SLAPD_PORT:-3890}
bash docker/slapd/run-slapd.sh start "$LOCAL/slapd" >/dev/null

PORT=${PORT:-8080}
export SCIM_GATEWAY_LDAP_URL="ldap://127.0.0.1:$SLAPD_PORT"
export SCIM_GATEWAY_LDAP_BIND_DN="cn=admin,dc=example,dc=org"
export SCIM_GATEWAY_LDAP_BIND_PASSWORD_FILE="$LOCAL/admin-password"
export SCIM_GATEWAY_TOKEN_FILE="$LOCAL/token"
export SCIM_GATEWAY_BIND="127.0.0.1:$PORT"
export SCIM_GATEWAY_LOG_LEVEL=${SCIM_GATEWAY_LOG_LEVEL:-INFO}
export SCIM_GATEWAY_LOG_FORMAT=${SCIM_GATEWAY_LOG_FORMAT:-text} # the container's default is json
unset SLAPD_ADMIN_PASSWORD

TOKEN=$(cat "$LOCAL/token")
cat <<MSG

  SCIM base URL : http://127.0.0.1:$PORT/scim/v2
  Bearer token  : $TOKEN
  Directory     : ldap://127.0.0.1:$SLAPD_PORT  (cn=admin,dc=example,dc=org, password in $LOCAL/admin-password;
                  ldapsearch -H ldap://127.0.0.1:$SLAPD_PORT -D cn=admin,dc=example,dc=org -y $LOCAL/admin-password)
  Health        : http://127.0.0.1:$PORT/healthz  http://127.0.0.1:$PORT/readyz  (metrics: /metrics)

  Try it:
    curl -s -X POST http://127.0.0.1:$PORT/scim/v2/Users \\
      -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/scim+json" \\
      -d '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bjensen","name":{"givenName":"Barbara","familyName":"Jensen"},"emails":[{"type":"work","value":"bjensen@example.org","primary":true}]}'
    curl -s http://127.0.0.1:$PORT/scim/v2/Users -H "Authorization: Bearer $TOKEN"

  Stop with Ctrl-C (the directory keeps running: bash docker/slapd/run-slapd.sh stop $LOCAL/slapd)

MSG
exec bash docker/gateway/entrypoint.sh
