# Shell helpers for the s3db_fdw test scripts (sourced, not run).
#
# A scratch PostgreSQL cluster: owned by the unprivileged "postgres" user
# (initdb refuses root), trust authentication on a Unix socket in the
# scratch directory, a free loopback port.  Everything lives under
# $S3DB_WORK and goes away with it.

PGBIN=${PGBIN:-$(pg_config --bindir)}
PGUSER_OS=${PGUSER_OS:-postgres}

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u "$PGUSER_OS" -- "$@"; else "$@"; fi
}

# a free loopback port below the ephemeral range (see test/free_port.py)
free_port() {
  /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/free_port.py"
}

# make_work DIR: a scratch directory the server user can read and write
make_work() {
  mkdir -p "$1"
  chmod 0777 "$1"
  if [ "$(id -u)" = 0 ]; then chown "$PGUSER_OS" "$1"; fi
}

# pg_start DIR [postgresql.conf lines...]: initdb + start; exports PGHOST/PGPORT/PGUSER.
# PG_POSTGRES names another server executable (a wrapper that runs it under
# valgrind, say); PG_START_TIMEOUT the seconds to wait for it (60).
pg_start() {
  local dir=$1; shift
  make_work "$dir"
  as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log"; return 1; }
  local port; port=$(free_port)
  {
    echo "port = $port"
    echo "listen_addresses = ''"
    echo "unix_socket_directories = '$dir'"
    echo "fsync = off"
    echo "timezone = 'UTC'"
    echo "log_min_messages = warning"
    for l in "$@"; do echo "$l"; done
  } | as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
  as_pg "$PGBIN/pg_ctl" ${PG_POSTGRES:+-p "$PG_POSTGRES"} -D "$dir/data" -l "$dir/server.log" \
    -w -t "${PG_START_TIMEOUT:-60}" start >/dev/null \
    || { cat "$dir/server.log"; return 1; }
  export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=postgres
}

pg_stop() {
  local dir=$1
  [ -d "$dir/data" ] && as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
}

# TAP-style results for the suite scripts: ok DESC; not_ok DESC [DETAIL...];
# check DESC [PROBLEM...] (ok when there is no problem); die REASON bails
# out; each script ends with  echo "1..$n"; echo "$passed passed, $failed failed".
n=0; passed=0; failed=0
ok()     { n=$((n + 1)); passed=$((passed + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do printf '#   %s\n' "$l"; done; }
check()  { local d=$1; shift; if [ -z "$*" ]; then ok "$d"; else not_ok "$d" "$@"; fi; }
die()    { echo "Bail out! $*"; echo "$passed passed, $((failed + 1)) failed"; exit 1; }
has()    { case "$1" in *"$2"*) return 0 ;; esac; return 1; }
