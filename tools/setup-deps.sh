#!/usr/bin/env bash
# Install what building and testing s3db_fdw needs on Debian 12 (run as root).
# Idempotent: packages already present are not fetched again.
set -euo pipefail

PKGS=(
  postgresql-15 postgresql-server-dev-15 postgresql-client-15
  libcurl4-openssl-dev libssl-dev libjson-c-dev libxml2-dev zlib1g-dev
  libipc-run-perl python3-botocore python3-psycopg2
  make gcc pkg-config valgrind openssl
  debhelper postgresql-server-dev-all dpkg-dev
)
command -v node >/dev/null 2>&1 || PKGS+=(nodejs)
command -v npm >/dev/null 2>&1 || PKGS+=(npm)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# the server binaries must be reachable for pg_ctl/initdb
PGBIN=$(pg_config --bindir)
[ -x "$PGBIN/initdb" ] || { echo "setup-deps: initdb not found in $PGBIN" >&2; exit 1; }
echo "setup-deps: ok ($(pg_config --version))"
