#!/usr/bin/env bash
# Starts the gateway under gunicorn. The container's entry point, also used by scripts/run.sh and
# by the smoke test, so the path that production takes is the one that is tested.
#   SCIM_GATEWAY_BIND     HOST:PORT to listen on (default 0.0.0.0:8080)
#   SCIM_GATEWAY_WORKERS  worker processes (default 2)
#   SCIM_GATEWAY_THREADS  threads per worker (default 4)
# Everything else is read by the gateway itself (SCIM_GATEWAY_*; see README).
set -euo pipefail
SCIM_GATEWAY_BIN=${SCIM_GATEWAY_BIN:-$(command -v scim-gateway || true)}
if [ -z "$SCIM_GATEWAY_BIN" ]; then
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
    SCIM_GATEWAY_BIN="$here/.venv/bin/scim-gateway"
fi
exec "$SCIM_GATEWAY_BIN" serve \
    --bind "${SCIM_GATEWAY_BIND:-0.0.0.0:8080}" \
    --workers "${SCIM_GATEWAY_WORKERS:-2}" \
    --threads "${SCIM_GATEWAY_THREADS:-4}"
