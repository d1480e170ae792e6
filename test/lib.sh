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

# stage NAME COMMAND...: one stage of test/run-all.sh or
# test/matrix-in-root.sh, counted in passed or failed (and named in
# failures), with the seconds it took
stage() {
  local name=$1; shift
  echo "=== $name"
  local t0=$SECONDS
  if "$@"; then
    passed=$((passed + 1)); echo "=== $name: ok ($((SECONDS - t0)) s)"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "=== $name: FAILED ($((SECONDS - t0)) s)"
  fi
}

# The SQL suites against the cluster of pg_start, as test/run-all.sh and
# test/matrix-in-root.sh run them on every PostgreSQL version: from the top
# of the checkout, every file of sql/ (pg_regress) or specs/
# (pg_isolation_regress), output under $WORK/regress-LABEL or
# $WORK/isolation-LABEL, whose regression.diffs is printed on failure.
# LABEL also names the database, so runs against different stores can
# share a cluster one after the other.
show_diffs() {  # show_diffs RC DIR: RC, with DIR/regression.diffs shown if RC is not 0
  if [ "$1" -ne 0 ] && [ -f "$2/regression.diffs" ]; then cat "$2/regression.diffs"; fi
  return "$1"
}
# regress LABEL FIXTURE_BASE WRITABLE_STORE: the fixture stores are
# FIXTURE_BASE/store, /broken and /corrupt
regress() {
  local label=$1 base=$2 writable=$3 out=$WORK/regress-$1 tests
  tests=$(ls sql/*.sql | grep -v -- '--' | sed 's,sql/,,;s,\.sql$,,' | sort)
  mkdir -p "$out"
  S3DB_FIXTURE_URL="$base/store" S3DB_BROKEN_URL="$base/broken" S3DB_CORRUPT_URL="$base/corrupt" \
  S3DB_WRITE_URL="$writable" \
    "$(dirname "$(pg_config --pgxs)")/../test/regress/pg_regress" --inputdir=. --outputdir="$out" \
      --bindir="$PGBIN" --load-extension=s3db_fdw --dbname="contrib_regression_$label" $tests
  show_diffs $? "$out"
}
# isolation LABEL STORE_URL: the specs use the store STORE_URL
isolation() {
  local label=$1 url=$2 out=$WORK/isolation-$1 tests
  tests=$(ls specs/*.spec | sed 's,specs/,,;s,\.spec$,,' | sort)
  mkdir -p "$out"
  PGOPTIONS="-c s3db_test.url=$url" \
    "$(dirname "$(pg_config --pgxs)")/../test/isolation/pg_isolation_regress" --inputdir=. \
      --outputdir="$out" --bindir="$PGBIN" --load-extension=s3db_fdw --dbname="isolation_$label" $tests
  show_diffs $? "$out"
}

# difftest FILE_DIR S3_URL FILE_COUNT S3_COUNT: the differential tester
# (test/difftest/difftest.py: random transactions on a foreign table and a
# heap twin, compared after every statement) on a file:// store in FILE_DIR
# and on S3_URL at once, in the databases difftest_file and difftest_s3;
# DIFFTEST_SEED varies the seed
difftest() {
  local dir=$1 s3=$2 nfile=$3 ns3=$4 seed=${DIFFTEST_SEED:-1} f s rc=0
  make_work "$dir"
  # both at once: file:// keeps the CPU busy, S3 mostly waits for the server
  /usr/bin/python3 test/difftest/difftest.py --url "file://$dir" --seed "$seed" \
    --count "$nfile" --sessions 2 --db difftest_file &
  f=$!
  # S3 scans cost a request per record: fewer, smaller transactions
  /usr/bin/python3 test/difftest/difftest.py --url "$s3" --seed "$seed" \
    --count "$ns3" --sessions 2 --pool 6 --bulk 0 --db difftest_s3 &
  s=$!
  wait $f || rc=1
  wait $s || rc=1
  return $rc
}

# stop_pids TENTHS PID...: SIGTERM to each process, then SIGKILL to any
# still there TENTHS tenths of a second later (the stop.sh of the test
# servers, which signal only the process ids their start.sh recorded)
stop_pids() {
  local tenths=$1 p; shift
  for p in "$@"; do
    kill "$p" 2>/dev/null || true
  done
  for p in "$@"; do
    for _ in $(seq 1 "$tenths"); do
      kill -0 "$p" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$p" 2>/dev/null || true
  done
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
