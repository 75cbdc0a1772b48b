# Shared by scripts/run.sh and scripts/test.sh (sourced, not run).
# Makes the project runnable on a fresh Debian/Ubuntu machine as root with only Python 3.11 and apt.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
VENV="$ROOT/.venv"

say() { printf '==> %s\n' "$*" >&2; }

as_root_apt_install() {
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing $* with apt-get"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null ||
            { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; }
    else
        echo "please install: $* (e.g. sudo apt-get install $*)" >&2
        return 3
    fi
}

ensure_venv() {
    local py=${PYTHON:-python3}
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating $VENV"
        if ! "$py" -m venv "$VENV" 2>/dev/null; then
            rm -rf "$VENV"
            as_root_apt_install python3-venv
            "$py" -m venv "$VENV"
        fi
    fi
    local stamp="$VENV/.installed"
    if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
        say "installing the gateway and its dev tools into $VENV"
        "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
        "$VENV/bin/python" -m pip install -q -e "$ROOT[dev]"
        touch "$stamp"
    fi
}

ensure_slapd() {
    if ! command -v slapd >/dev/null 2>&1 && [ ! -x /usr/sbin/slapd ]; then
        as_root_apt_install slapd ldap-utils
    fi
    if ! command -v ldapwhoami >/dev/null 2>&1; then
        as_root_apt_install ldap-utils
    fi
}
