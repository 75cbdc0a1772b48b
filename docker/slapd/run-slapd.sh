#!/usr/bin/env bash
# run-slapd.sh - the one way to run the gateway's local OpenLDAP directory.
#
# Used by the dev command, by the test suite (tests/support/slapd.py) and as the entry point of the
# Docker test image. It renders slapd.conf.template and seed.ldif.template (next to this script)
# into a run directory, creates and seeds the database on first use, and runs slapd from there.
# It never touches a system slapd, /etc/ldap/slapd.d or /var/lib/ldap.
#
# Usage:
#   run-slapd.sh start DIR       start in the background; prints the URL (ldap://HOST:PORT) when
#                                it answers
#   run-slapd.sh stop DIR        stop the slapd started from DIR
#   run-slapd.sh status DIR      exit 0 and print the URL if running from DIR, else exit 1
#   run-slapd.sh foreground DIR  exec slapd in the foreground (container PID 1)
#
# DIR receives slapd.conf, seed.ldif, data/ (the mdb database), slapd.pid, slapd.url, slapd.log.
#
# Environment:
#   SLAPD_ADMIN_PASSWORD  required; password of the rootdn cn=admin,<suffix> (never printed)
#   SLAPD_SUFFIX          default dc=example,dc=org (first RDN must be dc=...)
#   SLAPD_HOST            default 127.0.0.1 (the only address slapd listens on)
#   SLAPD_PORT            default 3890
#   SLAPD_TLS_CERT_FILE   PEM certificate (with SLAPD_TLS_KEY_FILE): enables StartTLS
#   SLAPD_TLS_KEY_FILE    its private key
#   SLAPD_LDAPS_PORT      also listen with ldaps:// on this port (needs the two above)
#   SLAPD_DBNOSYNC        1 = no fsync on writes (fast tests; data may be lost on a crash)
#   SLAPD_DEREF           0 = leave out the dereference overlay (to try the gateway without it)
#   SLAPD_DB_MAXSIZE      mdb map size in bytes, default 1073741824
#   SLAPD_MODULE_PATH     default /usr/lib/ldap (else the first of a few known locations found)
#   SLAPD_SCHEMA_DIR      default /etc/ldap/schema (else the first of a few known locations found)
#   SLAPD_DEBUG_LEVEL     slapd -d level, default "none": only errors, start and stop (-d 0 is
#                         silent even about fatal errors such as a port in use)
#   SLAPD_START_TIMEOUT   seconds to wait for slapd to answer, default 10
#   SLAPD_STOP_TIMEOUT    seconds to wait for slapd to exit after SIGTERM, default 10
#   SLAPD_MAX_FDS         cap on the open-files limit for slapd, default 4096 (slapd sizes tables
#                         by it; container defaults of 1M+ make it slow and memory hungry)
#
# Replicated (multi-provider) mode, one node per DIR; unset SLAPD_SERVER_ID = the single directory:
#   SLAPD_SERVER_ID       1..4095, unique per node: slapd.conf.template with the sections of
#                         slapd-provider.conf.template spliced in (delta-syncrepl, accesslog,
#                         dynlist memberOf; no slapo-memberof)
#   SLAPD_PEER_URLS       required with it: the other nodes' ldap:// URLs, comma-separated; this
#                         node replicates from each, binding as the rootdn with the admin password
#   Every node is seeded with the same entries (entryUUID and entryCSN derived from the DN), so
#   any node can start first. See docs/replication.md.
#
# Exit codes: 0 ok, 1 failure, 2 usage, 3 slapd not installed and cannot be installed here.
set -euo pipefail

readonly PROG=run-slapd.sh
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
readonly SCRIPT_DIR

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}
usage() {
    cat >&2 <<'EOF'
usage: run-slapd.sh start|stop|status|foreground DIR
  start       start slapd in the background from DIR; prints its URL once it answers
  stop        stop the slapd started from DIR
  status      print the URL and exit 0 if slapd is running from DIR, else exit 1
  foreground  exec slapd in the foreground (container entry point)
SLAPD_ADMIN_PASSWORD must be set for start and foreground; see the header of this script.
EOF
    exit 2
}

# --- locating / installing slapd ------------------------------------------------------------------
SLAPD=""

find_slapd() {
    SLAPD=$(command -v slapd 2>/dev/null || true)
    if [[ -z $SLAPD ]]; then
        local candidate
        for candidate in /usr/sbin/slapd /usr/local/sbin/slapd /usr/libexec/slapd \
            /usr/local/libexec/slapd; do
            if [[ -x $candidate ]]; then
                SLAPD=$candidate
                break
            fi
        done
    fi
    [[ -n $SLAPD ]]
}

ensure_slapd() {
    find_slapd && return 0
    if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        log "slapd not found; installing slapd and ldap-utils with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        # Keep the package's postinst from creating (and starting) a system directory: we never
        # use it. Harmless if debconf is absent or the package is already configured.
        if command -v debconf-set-selections >/dev/null 2>&1; then
            echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections || true
        fi
        local -a install=(apt-get install -y --no-install-recommends slapd ldap-utils)
        if ! "${install[@]}" >&2; then
            apt-get update >&2
            "${install[@]}" >&2
        fi
        find_slapd || die "slapd still not found after apt-get install"
        return 0
    fi
    cat >&2 <<'EOF'
run-slapd.sh: slapd (OpenLDAP server, 2.5 or newer) is not installed.
  Debian/Ubuntu:  sudo apt-get install slapd ldap-utils
  Alpine:         apk add openldap openldap-back-mdb openldap-overlay-all openldap-clients
  Fedora/RHEL:    dnf install openldap-servers openldap-clients
  macOS (brew):   brew install openldap   (then put its sbin directory on PATH)
Then set SLAPD_MODULE_PATH / SLAPD_SCHEMA_DIR if they are not in a standard place.
EOF
    exit 3
}

# slapd is also slapadd/slaptest/slappasswd when called with -T<tool>: no dependency on where a
# distribution puts (or whether it ships) those links.
slaptool() {
    local tool=$1
    shift
    "$SLAPD" "-T$tool" "$@"
}

# --- configuration --------------------------------------------------------------------------------
first_existing_dir() {
    local d
    for d in "$@"; do
        if [[ -d $d ]]; then
            printf '%s' "$d"
            return 0
        fi
    done
    printf '%s' "$1"
}

# Characters that cannot go inside a double-quoted slapd.conf value or an LDIF line.
check_plain() {
    local name=$1 value=$2
    case $value in
    *'"'* | *\\* | *$'\n'* | *$'\r'*)
        die "$name must not contain a double quote, backslash or line break"
        ;;
    esac
}

load_settings() {
    [[ -n ${SLAPD_ADMIN_PASSWORD:-} ]] || die "SLAPD_ADMIN_PASSWORD must be set (rootdn password)"
    SUFFIX=${SLAPD_SUFFIX:-dc=example,dc=org}
    HOST=${SLAPD_HOST:-127.0.0.1}
    PORT=${SLAPD_PORT:-3890}
    MODULE_PATH=${SLAPD_MODULE_PATH:-$(first_existing_dir /usr/lib/ldap /usr/lib/openldap \
        /usr/lib64/openldap /usr/local/libexec/openldap /opt/homebrew/opt/openldap/libexec/openldap)}
    SCHEMA_DIR=${SLAPD_SCHEMA_DIR:-$(first_existing_dir /etc/ldap/schema /etc/openldap/schema \
        /usr/local/etc/openldap/schema /opt/homebrew/etc/openldap/schema)}
    DB_MAXSIZE=${SLAPD_DB_MAXSIZE:-1073741824}
    DEBUG_LEVEL=${SLAPD_DEBUG_LEVEL:-none}
    load_replication_settings

    check_plain SLAPD_SUFFIX "$SUFFIX"
    check_plain SLAPD_MODULE_PATH "$MODULE_PATH"
    check_plain SLAPD_SCHEMA_DIR "$SCHEMA_DIR"
    local dc_re='^[dD][cC]=([A-Za-z0-9-]+)(,.+)?$'
    [[ $SUFFIX =~ $dc_re ]] ||
        die "SLAPD_SUFFIX must start with dc=<letters, digits, hyphens> (got '$SUFFIX')"
    DC=${BASH_REMATCH[1]}
    ROOTDN="cn=admin,$SUFFIX"
    if ! [[ $PORT =~ ^[0-9]{1,5}$ ]] || ((10#$PORT < 1 || 10#$PORT > 65535)); then
        die "SLAPD_PORT must be a port number (got '$PORT')"
    fi
    PORT=$((10#$PORT))
    [[ $HOST =~ ^[A-Za-z0-9.:_-]+$ ]] || die "SLAPD_HOST must be a host name or address"
    [[ $DB_MAXSIZE =~ ^[0-9]+$ ]] || die "SLAPD_DB_MAXSIZE must be a number of bytes"
    [[ -f $SCHEMA_DIR/core.schema ]] ||
        die "no core.schema in $SCHEMA_DIR (set SLAPD_SCHEMA_DIR)"
    [[ -d $MODULE_PATH ]] || die "module directory $MODULE_PATH not found (set SLAPD_MODULE_PATH)"

    local url_host=$HOST probe_host=$HOST
    if [[ $HOST == *:* ]]; then # IPv6 literal
        url_host="[$HOST]"
    fi
    case $HOST in
    0.0.0.0) probe_host=127.0.0.1 ;;
    :: | '[::]') probe_host=::1 ;;
    esac
    # URL is what clients use (ldap3 rejects a trailing slash); LISTEN_URL is slapd's -h form.
    URL="ldap://$url_host:$PORT"
    LISTEN_URL="$URL/"
    if [[ -n ${SLAPD_LDAPS_PORT:-} ]]; then
        [[ $SLAPD_LDAPS_PORT =~ ^[0-9]+$ ]] || die "SLAPD_LDAPS_PORT must be a port number"
        LISTEN_URL="$LISTEN_URL ldaps://$url_host:$SLAPD_LDAPS_PORT/"
    fi
    PROBE_HOST=$probe_host
    if [[ $probe_host == *:* ]]; then
        PROBE_URL="ldap://[$probe_host]:$PORT/"
    else
        PROBE_URL="ldap://$probe_host:$PORT/"
    fi
}

# Pair mode (SLAPD_SERVER_ID set): SERVER_ID and PEER_URLS; the single mode leaves SERVER_ID empty.
load_replication_settings() {
    SERVER_ID=${SLAPD_SERVER_ID:-}
    PEER_URLS=()
    [[ -n $SERVER_ID ]] || return 0
    if ! [[ $SERVER_ID =~ ^[0-9]{1,4}$ ]] || ((10#$SERVER_ID < 1 || 10#$SERVER_ID > 4095)); then
        die "SLAPD_SERVER_ID must be a number from 1 to 4095 (got '$SERVER_ID')"
    fi
    SERVER_ID=$((10#$SERVER_ID))
    local url url_re='^ldaps?://[A-Za-z0-9._-]+(:[0-9]{1,5})?/?$'
    local -a urls=()
    IFS=', ' read -r -a urls <<<"${SLAPD_PEER_URLS:-}"
    for url in "${urls[@]}"; do
        [[ -n $url ]] || continue
        [[ $url =~ $url_re ]] || die "SLAPD_PEER_URLS: '$url' is not an ldap://HOST:PORT URL"
        PEER_URLS+=("$url")
    done
    ((${#PEER_URLS[@]} > 0)) || die "SLAPD_PEER_URLS must name the other node(s) with SLAPD_SERVER_ID"
    ((${#PEER_URLS[@]} < 999)) || die "SLAPD_PEER_URLS: too many nodes"
    # The admin password goes into a quoted syncrepl credentials="..." value of the (0600) config.
    check_plain SLAPD_ADMIN_PASSWORD "$SLAPD_ADMIN_PASSWORD"
}

# One syncrepl directive per peer: delta-syncrepl from its accesslog (OpenLDAP Admin Guide).
syncrepl_lines() {
    local i=0 url
    for url in "${PEER_URLS[@]}"; do
        i=$((i + 1))
        printf 'syncrepl rid=%03d provider=%s bindmethod=simple binddn="%s" credentials="%s"\n' \
            "$i" "${url%/}" "$ROOTDN" "$SLAPD_ADMIN_PASSWORD"
        printf '        searchbase="%s" type=refreshAndPersist retry="1 +" timeout=3\n' "$SUFFIX"
        printf '        network-timeout=3 keepalive=30:3:5 schemachecking=on\n'
        printf '        logbase="cn=accesslog" syncdata=accesslog\n'
        printf '        logfilter="(&(objectClass=auditWriteObject)(reqResult=0))"\n'
    done
}

# splice_provider PARTS SINGLE OUT: the single-directory config with each "@@ place" section of
# PARTS (slapd-provider.conf.template, rendered) put at its place, and slapo-memberof left out.
# Every place must be found exactly once: a change to slapd.conf.template that moves one fails
# here, loudly, instead of producing a config without replication.
splice_provider() {
    local parts=$1 single=$2 out=$3
    awk '
        FNR == NR {
            if ($1 == "@@") { key = $2; next }
            if (key != "") part[key] = part[key] $0 "\n"
            next
        }
        function emit(k) {
            used[k]++
            printf "%s", part[k]
        }
        /^modulepath[ \t]/ { emit("before-modulepath"); print; next }
        /^moduleload[ \t]+memberof[ \t]*$/ { emit("instead-of-moduleload-memberof"); next }
        /^argsfile[ \t]/ { print; emit("after-argsfile"); next }
        /^database[ \t]+mdb[ \t]*$/ { emit("before-main-database"); print; next }
        /^index[ \t]+memberOf[ \t]/ { emit("instead-of-index-memberof"); next }
        /^overlay[ \t]+memberof[ \t]*$/ { emit("instead-of-overlay-memberof"); skip = 1; next }
        skip && /^memberof-/ { next }
        { skip = 0; print }
        END {
            for (k in part) {
                if (used[k] != 1) {
                    print "slapd.conf.template: the place of \"" k "\" was found " \
                        used[k] + 0 " times, not once" > "/dev/stderr"
                    bad = 1
                }
            }
            exit bad
        }
    ' "$parts" "$single" >"$out.tmp" || die "cannot build the pair-mode config from slapd.conf.template"
    mv -f -- "$out.tmp" "$out"
}

# The seed with an entryUUID and entryCSN derived from each DN: every node of a pair then starts
# with identical entries (no replication conflict over the seed, whichever node starts first).
pin_seed_identities() {
    local seed=$1
    local line dn hex
    {
        while IFS= read -r line || [[ -n $line ]]; do
            printf '%s\n' "$line"
            if [[ $line == 'dn: '* ]]; then
                dn=${line#dn: }
                hex=$(printf '%s' "${dn,,}" | md5sum)
                hex=${hex%% *}
                printf 'entryUUID: %s-%s-%s-%s-%s\n' "${hex:0:8}" "${hex:8:4}" "${hex:12:4}" \
                    "${hex:16:4}" "${hex:20:12}"
                printf 'entryCSN: 20000101000000.000000Z#000000#000#000000\n'
            fi
        done <"$seed"
    } >"$seed.tmp"
    mv -f -- "$seed.tmp" "$seed"
}

# After a crash (SIGKILL, power loss) the contextCSN a node stored can lag what it holds: slapd
# writes a change to the database and the accesslog first and checkpoints contextCSN later (the
# accesslog database's own only at shutdown). syncprov (2.5.13) then tells a reconnecting peer it
# is up to date and streams only newer changes: the peer never receives the last writes before
# the crash (measured: acknowledged creates and deletes missing on the peer for good). Before
# starting, raise each stored contextCSN (main database and cn=accesslog) to the newest change
# per serverID found in the accesslog, which holds this node's own and replicated changes.
repair_context_csns() {
    local base stored merged out oldest
    for base in "$SUFFIX" "cn=accesslog"; do
        stored=$(slaptool cat -f "$CONF" -H "ldap:///$base??base" -o ldif-wrap=no 2>/dev/null |
            awk '$1 == "contextCSN:" { print $2 }') || true
        # the oldest real serverID's value (#000# marks the seed, which never changes)
        oldest=$(grep -v '#000#' <<<"$stored" | sort | awk 'NF { print; exit }') || true
        merged=$(
            {
                printf '%s\n' "$stored" | sed 's/^/stored /'
                slaptool cat -f "$CONF" -b cn=accesslog -o ldif-wrap=no \
                    -a "(entryCSN>=${oldest:-00000101000000.000000Z#000000#000#000000})" \
                    2>/dev/null | awk '$1 == "entryCSN:" { print "logged " $2 }'
            } | awk '
                NF == 2 {
                    split($2, part, "#")
                    sid = part[3]
                    if ($1 == "stored") had[sid] = $2
                    if ($2 > best[sid]) best[sid] = $2
                }
                END {
                    for (sid in best) {
                        if (best[sid] != had[sid]) raised = 1
                        print best[sid]
                    }
                    if (!raised) print "unchanged"
                }'
        ) || true
        if [[ -z $merged ]] || grep -qx unchanged <<<"$merged"; then
            continue
        fi
        log "contextCSN of $base lags its change log after an unclean stop: raising it"
        local ldif="dn: $base"$'\n'"changetype: modify"$'\n'"replace: contextCSN"$'\n'
        # replace, not delete + add: slapmodify 2.5.13 aborts on a value change of contextCSN
        ldif+=$(sed 's/^/contextCSN: /' <<<"$merged")$'\n'
        out=$(slaptool modify -f "$TOOL_CONF" -b "$base" <<<"$ldif" 2>&1) ||
            die "could not repair the contextCSN of $base:"$'\n'"$out"
    done
}

# The config slapmodify runs with to repair contextCSNs: the node's own, each database with
# 'lastmod off'. slapmodify 2.5.13 stamps every entry it modifies with a NEW entryUUID (and a new
# entryCSN) when lastmod is on (fixed upstream by ITS#10548): a repair through the plain config
# gave the suffix entry another entryUUID on this node than on its peers, for good. lastmod off
# skips that stamping, and the entry keeps what it had; syncprov refuses to open on a database
# without lastmod even in tool mode, so its lines are left out (the tool does not run overlays).
write_tool_conf() {
    awk '
        /^overlay[ \t]+syncprov[ \t]*$/ { skip = 1; next }
        skip && /^syncprov-/ { next }
        { skip = 0; print }
        /^database[ \t]+mdb[ \t]*$/ { print "lastmod         off" }
    ' "$CONF" >"$TOOL_CONF.tmp" || die "cannot write $TOOL_CONF"
    mv -f -- "$TOOL_CONF.tmp" "$TOOL_CONF"
}

set_run_dir() {
    local dir=$1
    mkdir -p -- "$dir"
    RUN_DIR=$(cd -- "$dir" && pwd -P)
    check_plain DIR "$RUN_DIR"
    CONF=$RUN_DIR/slapd.conf
    TOOL_CONF=$RUN_DIR/slapd-tool.conf
    SEED=$RUN_DIR/seed.ldif
    DATA_DIR=$RUN_DIR/data
    PIDFILE=$RUN_DIR/slapd.pid
    URLFILE=$RUN_DIR/slapd.url
    LOGFILE=$RUN_DIR/slapd.log
}

# render TEMPLATE OUT NAME=VALUE...: replace each @NAME@ with VALUE, literally and in one pass (no
# regex or '&' surprises: values may contain / & = , and spaces). Values travel through the
# environment. An @NAME@ with no value given is an error.
render() {
    local template=$1 out=$2
    shift 2
    local -a names=() envs=()
    local pair
    for pair in "$@"; do
        names+=("${pair%%=*}")
        envs+=("RSV_${pair%%=*}=${pair#*=}")
    done
    # shellcheck disable=SC2016 # the $ are awk's
    env "${envs[@]}" RSV_NAMES="${names[*]}" awk '
        BEGIN {
            n = split(ENVIRON["RSV_NAMES"], list, " ")
            for (i = 1; i <= n; i++) known[list[i]] = ENVIRON["RSV_" list[i]]
        }
        {
            rest = $0
            line = ""
            while (match(rest, /@[A-Z_]+@/)) {
                name = substr(rest, RSTART + 1, RLENGTH - 2)
                if (!(name in known)) {
                    print FILENAME ":" FNR ": no value for @" name "@" > "/dev/stderr"
                    bad = 1
                }
                line = line substr(rest, 1, RSTART - 1) known[name]
                rest = substr(rest, RSTART + RLENGTH)
            }
            print line rest
        }
        END { exit bad }
    ' "$template" >"$out.tmp" || die "could not render $template"
    mv -f -- "$out.tmp" "$out"
}

prepare() {
    local hash dbnosync_line
    umask 077
    mkdir -p -- "$DATA_DIR"
    # The hash is salted, so the config changes on every start; the password never hits argv.
    hash=$(slaptool passwd -h '{SSHA}' -T <(printf '%s' "$SLAPD_ADMIN_PASSWORD"))
    [[ $hash == '{SSHA}'* ]] || die "slappasswd did not produce an SSHA hash"
    if [[ ${SLAPD_DBNOSYNC:-0} == 1 ]]; then
        dbnosync_line='dbnosync'
    else
        dbnosync_line='# dbnosync off: every write is synced to disk (SLAPD_DBNOSYNC=1 for tests)'
    fi
    local tls_lines='# no TLS (set SLAPD_TLS_CERT_FILE and SLAPD_TLS_KEY_FILE)'
    if [[ -n ${SLAPD_TLS_CERT_FILE:-} ]]; then
        [[ -r $SLAPD_TLS_CERT_FILE && -r ${SLAPD_TLS_KEY_FILE:-} ]] ||
            die "SLAPD_TLS_CERT_FILE and SLAPD_TLS_KEY_FILE must both be readable files"
        tls_lines="TLSCertificateFile \"$SLAPD_TLS_CERT_FILE\"
TLSCertificateKeyFile \"$SLAPD_TLS_KEY_FILE\""
    fi
    local deref_lines='overlay         deref'
    if [[ ${SLAPD_DEREF:-1} == 0 ]]; then
        deref_lines='# no dereference overlay (SLAPD_DEREF=0)'
    fi
    if [[ -n $SERVER_ID ]]; then
        mkdir -p -- "$DATA_DIR/accesslog"
        render "$SCRIPT_DIR/slapd.conf.template" "$CONF.single" \
            "SCHEMA_DIR=$SCHEMA_DIR" "MODULE_PATH=$MODULE_PATH" "RUN_DIR=$RUN_DIR" \
            "DATA_DIR=$DATA_DIR" "SUFFIX=$SUFFIX" "ROOTDN=$ROOTDN" "ROOTPW_HASH=$hash" \
            "DB_MAXSIZE=$DB_MAXSIZE" "DBNOSYNC_LINE=$dbnosync_line" "TLS_LINES=$tls_lines" \
            "DEREF_LINES=$deref_lines"
        render "$SCRIPT_DIR/slapd-provider.conf.template" "$CONF.parts" \
            "SCHEMA_DIR=$SCHEMA_DIR" "DATA_DIR=$DATA_DIR" "ROOTDN=$ROOTDN" \
            "DB_MAXSIZE=$DB_MAXSIZE" "DBNOSYNC_LINE=$dbnosync_line" "SERVER_ID=$SERVER_ID" \
            "SYNCREPL_LINES=$(syncrepl_lines)"
        splice_provider "$CONF.parts" "$CONF.single" "$CONF"
        rm -f -- "$CONF.parts" "$CONF.single"
    else
        render "$SCRIPT_DIR/slapd.conf.template" "$CONF" \
            "SCHEMA_DIR=$SCHEMA_DIR" "MODULE_PATH=$MODULE_PATH" "RUN_DIR=$RUN_DIR" \
            "DATA_DIR=$DATA_DIR" "SUFFIX=$SUFFIX" "ROOTDN=$ROOTDN" "ROOTPW_HASH=$hash" \
            "DB_MAXSIZE=$DB_MAXSIZE" "DBNOSYNC_LINE=$dbnosync_line" "TLS_LINES=$tls_lines" \
            "DEREF_LINES=$deref_lines"
    fi
    render "$SCRIPT_DIR/seed.ldif.template" "$SEED" "SUFFIX=$SUFFIX" "DC=$DC"
    if [[ -n $SERVER_ID ]]; then
        pin_seed_identities "$SEED"
    fi

    # The marker is written only after a successful slapadd: no marker = no usable database yet.
    local marker=$DATA_DIR/.seeded-suffix out
    if [[ ! -f $marker ]]; then
        log "creating database in $DATA_DIR (suffix $SUFFIX)"
        rm -f -- "$DATA_DIR/data.mdb" "$DATA_DIR/lock.mdb"
        rm -f -- "$DATA_DIR/accesslog/data.mdb" "$DATA_DIR/accesslog/lock.mdb"
        out=$(slaptool test -u -f "$CONF" 2>&1) || die "slaptest -u failed:"$'\n'"$out"
        local -a add_flags=()
        if [[ -n $SERVER_ID ]]; then
            add_flags=(-w -b "$SUFFIX") # -w: contextCSN from the seed's entryCSNs
        fi
        out=$(slaptool add -f "$CONF" "${add_flags[@]}" -l "$SEED" 2>&1) ||
            die "slapadd of the seed failed:"$'\n'"$out"
        if [[ -n $SERVER_ID ]]; then # create the (empty) change log database too
            out=$(slaptool add -f "$CONF" -b cn=accesslog -l /dev/null 2>&1) ||
                die "creating the accesslog database failed:"$'\n'"$out"
        fi
        printf '%s\n' "$SUFFIX" >"$marker"
    elif [[ $(<"$marker") != "$SUFFIX" ]]; then
        die "$DATA_DIR holds a database for suffix '$(<"$marker")', not '$SUFFIX'; use another DIR or delete $DATA_DIR"
    fi
    if [[ -n $SERVER_ID ]]; then
        write_tool_conf
        repair_context_csns
    fi
    out=$(slaptool test -f "$CONF" 2>&1) || die "slaptest failed:"$'\n'"$out"

    local max_fds=${SLAPD_MAX_FDS:-4096} cur
    cur=$(ulimit -n)
    if [[ $cur == unlimited ]] || ((cur > max_fds)); then
        ulimit -n "$max_fds"
    fi
}

# --- process helpers --------------------------------------------------------------------------------
# Alive and not a zombie (an exited child of a non-reaping parent still answers kill -0).
pid_alive() {
    local pid=$1 stat
    kill -0 "$pid" 2>/dev/null || return 1
    if [[ -r /proc/$pid/stat ]]; then
        stat=$(<"/proc/$pid/stat") || return 1
        stat=${stat##*) }
        [[ ${stat%% *} != Z ]] || return 1
    fi
    return 0
}

# PID of the slapd running from RUN_DIR, if any (the pid is checked against its command line).
running_pid() {
    local pid cmdline
    [[ -f $PIDFILE ]] || return 1
    pid=$(<"$PIDFILE") || return 1
    pid=${pid//[!0-9]/}
    [[ -n $pid ]] || return 1
    pid_alive "$pid" || return 1
    if [[ -r /proc/$pid/cmdline ]]; then
        cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline") || return 1
        [[ $cmdline == *"$CONF"* ]] || return 1
    fi
    printf '%s' "$pid"
}

# Does PID hold the listening TCP socket on PORT? (Another server on the port would otherwise pass
# the readiness probe while our slapd dies with "Address already in use".) 0 = yes or cannot tell.
owns_listener() {
    local pid=$1 inodes fd link
    [[ -r /proc/net/tcp && -d /proc/$pid/fd ]] || return 0
    inodes=$(awk -v port="$(printf ':%04X' "$PORT")" \
        'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == port { print $10 }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null) || true
    [[ -n $inodes ]] || return 1
    for fd in "/proc/$pid/fd/"*; do
        link=$(readlink -- "$fd" 2>/dev/null) || continue
        if [[ $link == socket:\[*\] ]]; then
            link=${link#socket:[}
            link=${link%]}
            if grep -qxF -- "$link" <<<"$inodes"; then
                return 0
            fi
        fi
    done
    return 1
}

log_tail() {
    if [[ -s $LOGFILE ]]; then
        log "last lines of $LOGFILE:"
        tail -n 25 -- "$LOGFILE" >&2
    else
        log "$LOGFILE is empty"
    fi
}

# 0 = slapd answers and accepts the admin password, 1 = not (yet) reachable, 2 = bind refused.
probe() {
    if command -v ldapwhoami >/dev/null 2>&1; then
        local rc=0
        ldapwhoami -x -o nettimeout=1 -H "$PROBE_URL" -D "$ROOTDN" \
            -y <(printf '%s' "$SLAPD_ADMIN_PASSWORD") >/dev/null 2>&1 || rc=$?
        case $rc in
        0) return 0 ;;
        49 | 50 | 53) return 2 ;;
        *) return 1 ;;
        esac
    fi
    # No ldap-utils: a TCP connect is the best we can do.
    (exec 3<>"/dev/tcp/$PROBE_HOST/$PORT") 2>/dev/null
}

# --- commands ---------------------------------------------------------------------------------------
cmd_start() {
    local pid
    if pid=$(running_pid); then
        local running_url=$URL
        if [[ -f $URLFILE ]]; then
            running_url=$(<"$URLFILE")
        fi
        log "already running from $RUN_DIR (pid $pid)"
        if [[ $running_url != "$URL" ]]; then
            log "warning: it listens on $running_url, not on the requested $URL"
        fi
        echo "$running_url"
        return 0
    fi
    rm -f -- "$PIDFILE"
    prepare
    if [[ -f $LOGFILE ]]; then
        mv -f -- "$LOGFILE" "$LOGFILE.1"
    fi
    : >"$LOGFILE"

    # -d keeps slapd in the foreground of its own session (setsid: no SIGHUP/SIGINT from the
    # caller's terminal); its pid is $!. slapd also writes the same pid to its pidfile.
    local -a detach=()
    if command -v setsid >/dev/null 2>&1; then
        detach=(setsid)
    else
        detach=(nohup)
    fi
    "${detach[@]}" "$SLAPD" -d "$DEBUG_LEVEL" -h "$LISTEN_URL" -f "$CONF" </dev/null >>"$LOGFILE" 2>&1 &
    pid=$!
    printf '%s\n' "$pid" >"$PIDFILE"

    local timeout=${SLAPD_START_TIMEOUT:-10} started=$SECONDS status
    while :; do
        if ! pid_alive "$pid"; then
            rm -f -- "$PIDFILE"
            log "error: slapd (pid $pid) exited during start-up"
            log_tail
            return 1
        fi
        status=0
        if owns_listener "$pid"; then
            probe || status=$?
        else
            status=1
        fi
        if ((status == 0)) && pid_alive "$pid"; then
            break
        elif ((status == 2)); then
            log "error: slapd is up but refused the admin bind as $ROOTDN"
            stop_pid "$pid" || true
            return 1
        fi
        if ((SECONDS - started >= timeout)); then
            log "error: slapd (pid $pid) did not answer on $URL within ${timeout}s; stopping it"
            stop_pid "$pid" || true
            log_tail
            return 1
        fi
        sleep 0.05
    done
    printf '%s\n' "$URL" >"$URLFILE"
    log "slapd running from $RUN_DIR (pid $pid), log $LOGFILE"
    echo "$URL"
}

# Send SIGTERM, wait (bounded), SIGKILL as a last resort.
stop_pid() {
    local pid=$1 timeout=${SLAPD_STOP_TIMEOUT:-10} i
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 20; i++)); do
        pid_alive "$pid" || break
        sleep 0.05
    done
    if pid_alive "$pid"; then
        log "slapd (pid $pid) still running after ${timeout}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 40; i++)); do
            pid_alive "$pid" || break
            sleep 0.05
        done
    fi
    rm -f -- "$PIDFILE"
    ! pid_alive "$pid"
}

cmd_stop() {
    local pid
    if ! pid=$(running_pid); then
        log "not running from $RUN_DIR"
        rm -f -- "$PIDFILE"
        return 0
    fi
    stop_pid "$pid" || die "could not stop slapd (pid $pid)"
    log "stopped slapd (pid $pid)"
}

cmd_status() {
    local pid
    if pid=$(running_pid); then
        log "running from $RUN_DIR (pid $pid)"
        cat -- "$URLFILE" 2>/dev/null || true
        return 0
    fi
    log "not running from $RUN_DIR"
    return 1
}

cmd_foreground() {
    local pid
    if pid=$(running_pid); then
        die "slapd is already running from $RUN_DIR (pid $pid); stop it first"
    fi
    prepare
    log "exec slapd on $URL (debug level $DEBUG_LEVEL)"
    exec "$SLAPD" -d "$DEBUG_LEVEL" -h "$LISTEN_URL" -f "$CONF"
}

main() {
    (($# == 2)) || usage
    local command=$1
    case $command in
    start | stop | status | foreground) ;;
    *) usage ;;
    esac
    set_run_dir "$2"
    case $command in
    stop | status) "cmd_$command" ;; # need only the run directory
    *)
        ensure_slapd
        load_settings
        "cmd_$command"
        ;;
    esac
}

main "$@"
