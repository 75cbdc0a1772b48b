#!/usr/bin/env bash
# The whole test suite, the way CI runs it: lint, format check, then pytest (unit, integration
# against a real slapd the fixture starts, end-to-end). Extra arguments go to pytest.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_slapd
ensure_venv
say "ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
say "pytest"
"$VENV/bin/python" -m pytest "$@"
