#!/usr/bin/env bash
# Crash during COMMIT: PostgreSQL dies while a commit is writing to the store.
#
#   test/crash/run.sh            (as root; the extension must be installed)
#
# Starts an S3 test server (test/s3/start.sh), the fault proxy
# (test/faults/fault_proxy.py) in front of it and a scratch cluster.  A
# resource "items" with a partition byCity is seeded with 100 records per
# round.  Each round runs one transaction that inserts 100 new records and
# moves the 100 seeded ones to the other city (n 0 -> 1, a partition change),
# while the proxy holds every PUT 0.1 s, so the COMMIT takes seconds, and
# holds every request past the chosen point for a minute, so that the kill
# always finds the COMMIT there; the server is killed mid-commit at:
#   1. kill -9 of the backend in phase 1 (partition references)
#   2. pg_ctl -m immediate in phase 2 (new records)
#   3. kill -9 of the backend in phase 3 (changed records)
#   4. pg_ctl -m immediate between phases 3 and 4 (stale references)
# After the restart (crash recovery) every record of the transaction must
# be whole: a new record is either absent or present with its values and
# its partition reference; a moved record has either its old or its new
# state, never a mix, and the reference of the state it has; a partition
# scan finds what a full scan finds.  The next writer then works: the
# missing records can be inserted and every record updated again.
# References without their record (phase 1 done, phase 2 not) and stale
# references (phase 4 not done) are allowed: readers recheck them; they are
# counted in the output.  Ends with "N passed, M failed"; stops everything
# it started.  KEEP_WORK=1 keeps the scratch directory.
# CRASH_S3_START=SCRIPT starts the S3 server with another script than
# test/s3/start.sh, e.g. test/ceph/start.sh for Ceph radosgw (which checks
# signatures and conditions itself; the fault proxy is then directly in
# front of it).
set -uo pipefail
cd "$(dirname "$0")/../.."
TOP=$PWD
. test/lib.sh

STALL=${CRASH_STALL:-0.1}
WORK=$(mktemp -d /tmp/s3db_crash.XXXXXX)
make_work "$WORK"
FP_PID=
cleanup() {
  [ -n "$FP_PID" ] && kill "$FP_PID" 2>/dev/null
  pg_stop "$WORK/pg"
  test/s3/stop.sh "$WORK/s3" >/dev/null 2>&1 || true
  [ -n "$FP_PID" ] && wait "$FP_PID" 2>/dev/null
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@" 2>&1; }

# ---- servers -------------------------------------------------------------
${CRASH_S3_START:-test/s3/start.sh} "$WORK/s3" >/dev/null || die "could not start the S3 test server"
. "$WORK/s3/env"
hostport() { local a=${1#*@}; echo "${a%%/*}"; }
SIGV4_ADDR=$(hostport "$S3DB_TEST_S3_URL")
creds=${S3DB_TEST_S3_URL#*://}; creds=${creds%%@*}
ACCESS_KEY=${creds%%:*}; SECRET_KEY=${creds#*:}
/usr/bin/python3 test/faults/fault_proxy.py --upstream "$SIGV4_ADDR" \
  --port-file "$WORK/proxy.port" --control-port-file "$WORK/control.port" >"$WORK/proxy.log" 2>&1 &
FP_PID=$!
for _ in $(seq 1 50); do [ -s "$WORK/control.port" ] && break; sleep 0.1; done
[ -s "$WORK/control.port" ] || die "fault proxy did not start: $(cat "$WORK/proxy.log")"
PROXY_PORT=$(cat "$WORK/proxy.port")
CONTROL_PORT=$(cat "$WORK/control.port")
ctl() { curl -s --max-time 5 "http://127.0.0.1:$CONTROL_PORT/$1"; }
rule() { curl -s --max-time 5 -G --data-urlencode "action=$1" --data-urlencode "count=$2" \
           --data-urlencode "method=$3" --data-urlencode "seconds=$4" "http://127.0.0.1:$CONTROL_PORT/rule" >/dev/null; }
requests() { ctl stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"].get(sys.argv[1], 0))' "$1"; }

pg_start "$WORK/pg" "restart_after_crash = on" >/dev/null || die "could not start PostgreSQL"
PGDATA_DIR=$WORK/pg/data
URL="http://127.0.0.1:$PROXY_PORT/s3db-test/crash"
setup="CREATE EXTENSION s3db_fdw;
CREATE SERVER st FOREIGN DATA WRAPPER s3db_fdw
  OPTIONS (connection_string '$URL', max_inflight '16', request_timeout '20000', cache_size '64');
CREATE USER MAPPING FOR CURRENT_USER SERVER st OPTIONS (access_key_id '$ACCESS_KEY', secret_access_key '$SECRET_KEY');"
for r in 1 2 3 4; do
  setup="$setup
CREATE FOREIGN TABLE items$r (id text, name text, city text, n bigint) SERVER st OPTIONS (resource 'items$r');
SELECT s3db_create_resource('items$r', 'body-overflow', '{\"byCity\": {\"fields\": {\"city\": \"string\"}}}');
-- a full scan that cannot use the partition (the qual is not pushed down)
CREATE VIEW full$r AS SELECT id, name, city, n FROM items$r WHERE length(city) > 0;
CREATE VIEW refs$r AS
  SELECT substring(key from 'city=([^/]*)/') AS city, substring(key from '/id=(.*)\$') AS id
    FROM s3db_list('st', 'resource=items$r/partition=byCity/');
-- the seed: 100 records alternately in Oslo and in Rio
INSERT INTO items$r SELECT 'r${r}u' || lpad(g::text, 3, '0'), 'old', CASE WHEN g % 2 = 0 THEN 'Oslo' ELSE 'Rio' END, 0
  FROM generate_series(1, 100) g;"
done
out=$(printf '%s\n' "$setup" | sql 2>&1 >/dev/null)
[ -z "$out" ] || die "setup failed: $out"
seeded=$(sql -c "SELECT (SELECT count(*) FROM full1) + (SELECT count(*) FROM full4)")
[ "$seeded" = 200 ] || die "seeded $seeded records, expected 200"

echo "TAP version 13"

# the transaction of round R: 100 new records, 100 moved to the other city
txn() {
  local r=$1
  cat <<SQL
BEGIN;
INSERT INTO items$r SELECT 'r${r}x' || lpad(g::text, 3, '0'), 'new', CASE WHEN g % 3 = 0 THEN 'Oslo' ELSE 'Lima' END, 7
  FROM generate_series(1, 100) g;
UPDATE items$r SET name = 'moved', n = 1, city = CASE city WHEN 'Oslo' THEN 'Rio' ELSE 'Oslo' END
 WHERE id LIKE 'r${r}u%';
COMMIT;
SQL
}

wait_ready() {
  for _ in $(seq 1 100); do
    psql -X -q -A -t -c "SELECT 1" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

round() {  # round R HOW PHASE-DESCRIPTION WAIT-OP WAIT-COUNT
  local r=$1 how=$2 what=$3 op=$4 at=$5
  local t0=$SECONDS
  ctl clear >/dev/null; ctl reset-stats >/dev/null
  # the first AT requests of the kind the kill waits for go through (PUTs
  # slowed by STALL), every later one is held for a minute: the COMMIT is
  # then stuck at the chosen point, however slow the machine, until the kill
  if [ "$op" = PUT ]; then
    rule stall "$at" PUT "$STALL"
    rule stall 100000 PUT 60
  else
    rule stall 100000 PUT "$STALL"
    rule stall 100 "$op" 60
  fi
  txn "$r" >"$WORK/txn$r.sql"
  psql -X -q -A -t -f "$WORK/txn$r.sql" >"$WORK/txn$r.out" 2>&1 &
  local bg=$! seen=0
  for _ in $(seq 1 600); do
    seen=$(requests "$op")
    [ "$seen" -ge "$at" ] && break
    kill -0 "$bg" 2>/dev/null || break
    sleep 0.05
  done
  local puts; puts=$(requests PUT)
  if [ "$how" = kill9 ]; then
    local pid
    pid=$(psql -X -A -t -c "SELECT pid FROM pg_stat_activity WHERE query = 'COMMIT;' AND state = 'active' AND pid <> pg_backend_pid()")
    [ -n "$pid" ] && kill -9 "$pid"
    # the postmaster restarts after a backend crash: wait until it did
    sleep 1
  else
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m immediate -w stop >/dev/null 2>&1
  fi
  wait "$bg" 2>/dev/null
  ctl clear >/dev/null
  if [ "$how" != kill9 ]; then
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$WORK/pg/server.log" -w -t 60 start >/dev/null
  fi
  wait_ready || die "PostgreSQL did not come back after round $r"
  echo "# round $r: killed and restarted after $((SECONDS - t0)) s"
  local txout; txout=$(tr '\n' ' ' <"$WORK/txn$r.out")
  PROBLEMS=()
  [ "$seen" -ge "$at" ] || PROBLEMS+=("the kill came too late: $op requests $seen < $at")
  grep -q -e 'server closed the connection' -e 'terminating connection' -e 'connection to server was lost' "$WORK/txn$r.out" \
    || PROBLEMS+=("the COMMIT was not killed; psql said: $txout")
  check "round $r ($how $what): the COMMIT was killed after $puts PUTs" "${PROBLEMS[@]+"${PROBLEMS[@]}"}"
  verify "$r" "round $r after the crash"
  local moved; moved=$(sql -c "SELECT count(*) FROM full$r WHERE name = 'moved'")
  case $moved in ''|*[!0-9]*) moved=0 ;; esac

  # the next writer: insert what is missing, change every record again
  out=$(sql -c "INSERT INTO items$r SELECT 'r${r}x' || lpad(g::text, 3, '0'), 'new', CASE WHEN g % 3 = 0 THEN 'Oslo' ELSE 'Lima' END, 7
                  FROM generate_series(1, 100) g
                 WHERE 'r${r}x' || lpad(g::text, 3, '0') NOT IN (SELECT id FROM full$r)" \
            -c "UPDATE items$r SET n = n + 10" \
            -c "SELECT count(*), sum(n) FROM full$r")
  echo "# round $r: verified, next writer done after $((SECONDS - t0)) s"
  local want="200|$((100 * 17 + 100 * 10 + moved))"
  PROBLEMS=()
  [ "$out" = "$want" ] || PROBLEMS+=("count|sum: $out, expected $want")
  check "round $r: the next writer inserts the missing records and updates all 200 again" "${PROBLEMS[@]+"${PROBLEMS[@]}"}"
  verify "$r" "round $r after the next writer"
}

verify() {  # verify R LABEL: every record of round R whole, with its reference
  local r=$1 label=$2 probs info
  probs=$(sql -c "
    CREATE TEMP TABLE recs AS SELECT * FROM full$r;
    CREATE TEMP TABLE refs AS SELECT * FROM refs$r;
    SELECT 'record without the reference of its city: ' || id || ' (' || city || ')'
      FROM recs r WHERE NOT EXISTS (SELECT 1 FROM refs f WHERE f.id = r.id AND f.city = r.city)
    UNION ALL
    SELECT 'new record with wrong values: ' || id || ' ' || name || ' ' || city || ' ' || n
      FROM recs WHERE id LIKE 'r${r}x%'
       AND NOT (name = 'new' AND n IN (7, 17)
                AND city = CASE WHEN substr(id, 4)::int % 3 = 0 THEN 'Oslo' ELSE 'Lima' END)
    UNION ALL
    SELECT 'moved record neither old nor new: ' || id || ' ' || name || ' ' || city || ' ' || n
      FROM recs WHERE id LIKE 'r${r}u%'
       AND NOT ((name = 'old' AND n IN (0, 10) AND city = CASE WHEN substr(id, 4)::int % 2 = 0 THEN 'Oslo' ELSE 'Rio' END)
             OR (name = 'moved' AND n IN (1, 11) AND city = CASE WHEN substr(id, 4)::int % 2 = 0 THEN 'Rio' ELSE 'Oslo' END))
    UNION ALL
    SELECT 'seeded records: ' || count(*) FROM recs WHERE id LIKE 'r${r}u%' HAVING count(*) <> 100
    UNION ALL
    SELECT 'unexpected record: ' || id FROM recs WHERE id !~ '^r${r}[ux][0-9]{3}\$'
    UNION ALL
    SELECT 'partition scan misses ' || f.id || ' in ' || f.city
      FROM recs f
     WHERE f.id NOT IN (SELECT id FROM items$r WHERE city = 'Oslo'
                        UNION ALL SELECT id FROM items$r WHERE city = 'Rio'
                        UNION ALL SELECT id FROM items$r WHERE city = 'Lima')" \
    -c "SELECT 'info: ' || (SELECT count(*) FROM recs WHERE id LIKE 'r${r}x%') || ' new records present, '
        || (SELECT count(*) FROM recs WHERE name = 'moved') || ' moved, '
        || (SELECT count(*) FROM refs f
             WHERE NOT EXISTS (SELECT 1 FROM recs i WHERE i.id = f.id AND i.city = f.city))
        || ' references without a matching record'")
  info=$(printf '%s\n' "$probs" | sed -n 's/^info: //p')
  probs=$(printf '%s\n' "$probs" | grep -v '^info: ')
  [ -n "$info" ] || probs="no summary: $probs"
  local lines=()
  [ -z "$probs" ] || mapfile -t lines <<<"$probs"
  check "$label: every record whole, with its partition reference; partition and full scans agree ($info)" "${lines[@]+"${lines[@]}"}"
}

round 1 kill9     "in phase 1, partition references" PUT 100
round 2 immediate "in phase 2, new records"          PUT 250
round 3 kill9     "in phase 3, changed records"      PUT 340
round 4 immediate "between phases 3 and 4"           POST 1

crash=$(grep -c "terminated by signal 9" "$WORK/pg/server.log")
PROBLEMS=()
[ "$crash" -ge 2 ] || PROBLEMS+=("backends killed by signal 9: $crash, expected 2")
others=$(grep -e "terminated by signal" -e PANIC "$WORK/pg/server.log" | grep -v "signal 9" | head -3)
[ -z "$others" ] || PROBLEMS+=("$others")
check "the server log shows the two killed backends and no other crash" "${PROBLEMS[@]+"${PROBLEMS[@]}"}"

echo "1..$n"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
