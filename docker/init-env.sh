#!/bin/sh
# Create docker/.env for docker/docker-compose.yml from docker/.env.example, with fresh random
# secrets: SLAPD_ADMIN_PASSWORD (also used as SCIM_GATEWAY_LDAP_BIND_PASSWORD, since the gateway
# binds as the test directory's admin) and SCIM_GATEWAY_TOKEN. Never overwrites an existing file.
#
#   sh docker/init-env.sh [OUT]     (default OUT: docker/.env next to this script)
#
# Prints nothing secret: read the token from the file (see README, "Try it with Docker").
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/.env}
if [ -e "$out" ]; then
    echo "init-env.sh: $out exists; leaving it alone" >&2
    exit 0
fi
random() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
password=$(random)
token=$(random)
umask 077
sed -e "s/^SLAPD_ADMIN_PASSWORD=\$/SLAPD_ADMIN_PASSWORD=$password/" \
    -e "s/^SCIM_GATEWAY_LDAP_BIND_PASSWORD=\$/SCIM_GATEWAY_LDAP_BIND_PASSWORD=$password/" \
    -e "s/^SCIM_GATEWAY_TOKEN=\$/SCIM_GATEWAY_TOKEN=$token/" \
    "$here/.env.example" >"$out.tmp"
mv "$out.tmp" "$out"
echo "init-env.sh: wrote $out (mode 600)" >&2
