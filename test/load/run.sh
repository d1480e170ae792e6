#!/usr/bin/env bash
# Load: concurrent increments through the FDW lose no update.
#
#   test/load/run.sh [file|s3|all]     (as root; the extension installed;
#                                       default: file)
#
# A scratch cluster and a store (a file:// directory, or the S3 test server
# of test/s3/start.sh), a foreign table counters(id text, n bigint) of 20
# records created with s3db_create_resource, then pgbench with 4 clients
# for LOAD_SECONDS (15) running test/load/mixed.sql: reads by id, increments
# (each logged into a local table in the same transaction), full scans.
# Two increments of one record race: the loser's COMMIT is a serialization
# failure (If-Match on the ETag it read), which pgbench retries
# (--max-tries=10).  Afterwards: pgbench ran without aborted clients, the
# server logged no error but serialization failures, and every record's n
# equals the number of committed increments of its id.  Ends with
# "N passed, M failed"; stops and removes everything it started.
# In s3 mode the check fails against stock s3rver, which writes an object's
# MD5 and metadata to two files one after the other (a HEAD in between
# pairs the new ETag with the old fields); LOAD_S3_START=SCRIPT starts the
# S3 server with another script than test/s3/start.sh.
set -uo pipefail
cd "$(dirname "$0")/../.."
TOP=$PWD
. test/lib.sh

MODE=${1:-file}
SECONDS_RUN=${LOAD_SECONDS:-15}
CLIENTS=${LOAD_CLIENTS:-4}
case $MODE in file|s3) MODES=$MODE ;; all) MODES="file s3" ;;
  *) echo "usage: $0 [file|s3|all]" >&2; exit 2 ;; esac

WORK=$(mktemp -d /tmp/s3db_load.XXXXXX)
make_work "$WORK"
S3_STARTED=0
cleanup() {
  pg_stop "$WORK/pg"
  [ "$S3_STARTED" = 1 ] && test/s3/stop.sh "$WORK/s3" >/dev/null 2>&1
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

psql_() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

pg_start "$WORK/pg" "log_min_messages = warning" "max_connections = 30" >/dev/null \
  || die "could not start PostgreSQL"
PGLOG=$WORK/pg/server.log
psql_ -c "CREATE EXTENSION s3db_fdw" >/dev/null || die "CREATE EXTENSION failed"
cp test/load/mixed.sql "$WORK/mixed.sql"

echo "TAP version 13"
for mode in $MODES; do
  db=load_$mode
  psql_ -c "CREATE DATABASE $db" >/dev/null || die "CREATE DATABASE failed"
  if [ "$mode" = file ]; then
    make_work "$WORK/store"
    url="file://$WORK/store"
  else
    ${LOAD_S3_START:-test/s3/start.sh} "$WORK/s3" >/dev/null || die "could not start the S3 test server"
    S3_STARTED=1
    . "$WORK/s3/env"
    url="${S3DB_TEST_S3_URL%/}/load"
  fi
  out=$(psql_ -d "$db" -c "CREATE EXTENSION s3db_fdw" -c "
    CREATE SERVER st FOREIGN DATA WRAPPER s3db_fdw;
    CREATE USER MAPPING FOR CURRENT_USER SERVER st OPTIONS (connection_string '$url');
    CREATE FOREIGN TABLE counters (id text, n bigint) SERVER st OPTIONS (resource 'counters');
    SELECT s3db_create_resource('counters');
    INSERT INTO counters SELECT 'c' || g, 0 FROM generate_series(1, 20) g;
    CREATE TABLE increments (id text NOT NULL, at timestamptz DEFAULT clock_timestamp());" 2>&1 >/dev/null)
  [ -z "$out" ] || die "setup on $mode failed: $out"
  log_before=$(wc -l <"$PGLOG")

  as_pg env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER=postgres \
    pgbench -n -c "$CLIENTS" -j "$CLIENTS" -T "$SECONDS_RUN" --max-tries=10 --failures-detailed \
      -f "$WORK/mixed.sql" "$db" >"$WORK/pgbench-$mode.out" 2>&1
  rc=$?
  sed 's/^/# /' "$WORK/pgbench-$mode.out" | grep -e 'processed' -e 'failed' -e 'retried' -e 'retries' -e 'serialization' -e 'tps' -e 'aborted' -e 'error'
  if [ $rc -eq 0 ] && ! grep -q 'aborted' "$WORK/pgbench-$mode.out"; then
    ok "$mode: pgbench ran $SECONDS_RUN s with $CLIENTS clients, no client aborted"
  else
    not_ok "$mode: pgbench exited $rc or a client aborted" "$(grep -e aborted -e ERROR "$WORK/pgbench-$mode.out" | head -5)"
  fi
  done_tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$WORK/pgbench-$mode.out")
  if [ "${done_tx:-0}" -ge 50 ]; then
    ok "$mode: $done_tx transactions processed"
  else
    not_ok "$mode: only ${done_tx:-0} transactions processed" "$(tail -5 "$WORK/pgbench-$mode.out")"
  fi
  other=$(grep -e 'failures:' -e 'other failures' "$WORK/pgbench-$mode.out" | grep -v -e 'serialization' -e 'deadlock' | grep -v ': 0 ' | grep -v ': 0$' || true)
  # errors the server logged during the run, other than serialization failures
  # (and their STATEMENT lines)
  errs=$(tail -n +"$((log_before + 1))" "$PGLOG" | grep -e 'ERROR' -e 'FATAL' -e 'PANIC' -e 'terminated by signal' \
           | grep -v 'could not serialize access' || true)
  if [ -z "$errs" ] && [ -z "$other" ]; then
    ok "$mode: no error other than serialization failures"
  else
    not_ok "$mode: errors other than serialization failures" "$(printf '%s\n' "$errs" "$other" | head -8)"
  fi
  serial=$(tail -n +"$((log_before + 1))" "$PGLOG" | grep -c 'could not serialize access' || true)
  echo "# $mode: $serial serialization failures logged (retried by pgbench)"

  # no lost update: n of each record == committed increments of its id
  res=$(psql_ -d "$db" -c "
    SELECT c.id || ': n = ' || c.n || ', increments = ' || coalesce(i.cnt, 0)
      FROM counters c LEFT JOIN (SELECT id, count(*) cnt FROM increments GROUP BY id) i USING (id)
     WHERE c.n IS DISTINCT FROM coalesce(i.cnt, 0)
    UNION ALL
    SELECT 'records: ' || count(*) FROM counters HAVING count(*) <> 20" 2>&1)
  total=$(psql_ -d "$db" -c "SELECT (SELECT sum(n) FROM counters) || '/' || (SELECT count(*) FROM increments)" 2>&1)
  if [ -z "$res" ]; then
    ok "$mode: every record's n equals its committed increments (sum n / increments: $total)"
  else
    mapfile -t lines <<<"$res"
    not_ok "$mode: lost or phantom updates (sum n / increments: $total)" "${lines[@]}"
  fi
  if [ "${total%/*}" = "${total#*/}" ] && [ "${total#*/}" -gt 0 ] 2>/dev/null; then
    ok "$mode: sum of n equals the number of committed increments ($total)"
  else
    not_ok "$mode: sum of n and committed increments differ or nothing committed: $total"
  fi
  # the store holds exactly the 20 records (one object each, nothing else)
  objs=$(psql_ -d "$db" -c "SELECT count(*) FROM s3db_list('st', 'resource=counters/') WHERE key LIKE 'resource=counters/data/id=%'")
  if [ "$objs" = 20 ]; then ok "$mode: the store holds the 20 record objects"
  else not_ok "$mode: the store holds $objs record objects, expected 20"; fi
done

echo "1..$n"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
