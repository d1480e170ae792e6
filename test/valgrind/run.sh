#!/usr/bin/env bash
# The pg_regress suite with every server process under valgrind's memcheck.
#
#   test/valgrind/run.sh [file|s3|all]     (as root; the extension installed;
#                                           "make valgrind" runs it for file)
#
# Starts a scratch cluster whose postmaster, and so every backend, runs under
# valgrind (--trace-children, --track-origins, --leak-check=full), runs the
# sql/ suites against a file:// copy of the fixtures and, with s3 or all,
# against the S3 test server (test/s3/start.sh), then stops the cluster so
# that every process reports its leaks.  A memcheck error, or a block
# definitely lost, whose stack or origin passes through s3db_fdw (the
# extension's own code, src/ included) fails the run and is printed whole.
# Errors entirely inside PostgreSQL (its WAL and relcache writes of padding
# bytes, a memcpy overlap in its regex cache, buffers the postmaster keeps
# for its lifetime) are counted and listed by kind but do not fail: a
# release build of the server is not valgrind-clean by itself.
#
# Then test/valgrind/cancel.sh cancels statements (statement_timeout and
# pg_cancel_backend) in scans, commits, ANALYZE, LIST, the s3db.json read
# and TTL sweeps, on file:// and, with s3 or all, on S3 stalled by the fault
# proxy, and makes ANALYZE and a scan fail while they hold fetched records,
# so that what the FDW holds when a statement is cancelled or fails is
# checked for leaks too.
#
# valgrind sees malloc, so src/ (plain C) is checked byte for byte; memory
# PostgreSQL hands out with palloc lives inside large malloc'd blocks and is
# checked only at their edges.  Ends with "N passed, M failed" (one line per
# store and one for the logs); KEEP_WORK=1 keeps the scratch directory.
set -uo pipefail
cd "$(dirname "$0")/../.."
TOP=$PWD
. test/lib.sh

MODE=${1:-file}
case $MODE in file|s3|all) ;; *) echo "usage: $0 [file|s3|all]" >&2; exit 2 ;; esac
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)"; echo "0 passed, 1 failed"; exit 1; }

WORK=$(mktemp -d /tmp/s3db_valgrind.XXXXXX)
make_work "$WORK"
cleanup() {
  pg_stop "$WORK/pg-file"
  pg_stop "$WORK/pg-s3"
  [ -f "$WORK/s3/env" ] && test/s3/stop.sh "$WORK/s3" >/dev/null 2>&1
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0; failed=0
result() { if [ "$2" = 0 ]; then passed=$((passed + 1)); echo "ok - $1"; else failed=$((failed + 1)); echo "not ok - $1"; fi; }

# the server executable, wrapped
make_work "$WORK/vg"
cat >"$WORK/postgres" <<WRAP
#!/bin/sh
exec valgrind --quiet --trace-children=yes --track-origins=yes --num-callers=40 \\
  --fullpath-after= --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \\
  --log-file=$WORK/vg/%p.log "$PGBIN/postgres" "\$@"
WRAP
chmod 755 "$WORK/postgres"

# One cluster per store: the suites create roles, which are shared by the
# databases of a cluster, so two suites side by side in one cluster would
# trip over each other's roles.
declare -A hosts=() ports=()
vg_cluster() {  # vg_cluster LABEL: a cluster under valgrind, its socket and port kept
  PG_POSTGRES=$WORK/postgres PG_START_TIMEOUT=300 pg_start "$WORK/pg-$1" "jit = off" >/dev/null \
    || { echo "Bail out! could not start PostgreSQL under valgrind"; echo "0 passed, 1 failed"; exit 1; }
  hosts[$1]=$PGHOST; ports[$1]=$PGPORT
}

cp -r test/fixtures "$WORK/fixtures"
chown -R "$PGUSER_OS" "$WORK/fixtures" 2>/dev/null || true
PG_REGRESS=$(dirname "$(pg_config --pgxs)")/../test/regress/pg_regress
TESTS=$(ls sql/*.sql | grep -v -- '--' | sed 's,sql/,,;s,\.sql$,,' | sort)
regress() {  # regress LABEL FIXTURE_BASE WRITABLE_STORE
  local label=$1 base=$2 writable=$3
  mkdir -p "$WORK/regress-$label"
  S3DB_FIXTURE_URL="$base/store" S3DB_BROKEN_URL="$base/broken" S3DB_CORRUPT_URL="$base/corrupt" \
  S3DB_WRITE_URL="$writable" \
    "$PG_REGRESS" --inputdir=. --outputdir="$WORK/regress-$label" --bindir="$PGBIN" \
      --host="${hosts[$label]}" --port="${ports[$label]}" \
      --load-extension=s3db_fdw --dbname="valgrind_$label" $TESTS
  local rc=$?
  [ $rc -ne 0 ] && [ -f "$WORK/regress-$label/regression.diffs" ] && cat "$WORK/regress-$label/regression.diffs"
  return $rc
}

# The two stores run side by side, each in its own cluster: under valgrind
# a backend is bound to one core, so the pair takes as long as the slower.
declare -A pids=() labels=()
if [ "$MODE" != s3 ]; then
  vg_cluster file
  make_work "$WORK/write-file"
  regress file "file://$WORK/fixtures" "file://$WORK/write-file" >"$WORK/out-file" 2>&1 &
  pids[file]=$!; labels[file]="pg_regress on file:// under valgrind"
fi
if [ "$MODE" != file ]; then
  vg_cluster s3
  if test/s3/start.sh "$WORK/s3" >/dev/null; then
    . "$WORK/s3/env"
    base=${S3DB_TEST_S3_URL%/}
    up=0
    for f in store broken corrupt; do
      node test/fixtures/upload.mjs "$WORK/fixtures/$f" "$base/vg/$f" >/dev/null || up=1
    done
    if [ $up = 0 ]; then
      regress s3 "$base/vg" "$base/vg-write" >"$WORK/out-s3" 2>&1 &
      pids[s3]=$!; labels[s3]="pg_regress on S3 under valgrind"
    else result "fixtures uploaded to S3" 1; fi
  else
    result "S3 test server started" 1
  fi
fi
for k in file s3; do
  [ -n "${pids[$k]:-}" ] || continue
  wait "${pids[$k]}"; rc=$?
  cat "$WORK/out-$k"
  result "${labels[$k]}" $rc
done

# cancelled statements and timeouts: what the FDW held must be freed too
cmode=file
[ "$MODE" != file ] && [ -n "${S3DB_TEST_S3_URL:-}" ] && [ -n "${pids[s3]:-}" ] && cmode=s3
make_work "$WORK/cancel"
PGHOST=${hosts[$cmode]} PGPORT=${ports[$cmode]} \
S3DB_TEST_S3_URL=${S3DB_TEST_S3_URL:-} test/valgrind/cancel.sh "$WORK/cancel" \
  "file://$WORK/fixtures/store" $cmode >"$WORK/out-cancel" 2>&1
rc=$?
cat "$WORK/out-cancel"
result "cancelled scans, commits and statement timeouts under valgrind ($cmode)" $rc

# a clean shutdown: every backend and the postmaster exit and report leaks
for k in file s3; do
  [ -d "$WORK/pg-$k/data" ] && as_pg "$PGBIN/pg_ctl" -D "$WORK/pg-$k/data" -m fast -w -t 300 stop >/dev/null 2>&1
done
/usr/bin/python3 test/valgrind/check_logs.py "$WORK/vg"
result "no valgrind error or definite leak passes through s3db_fdw" $?

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
