#!/usr/bin/env bash
# Cancelled statements under valgrind: what the FDW holds when a statement
# is cancelled or times out must be freed (run by test/valgrind/run.sh).
#
#   test/valgrind/cancel.sh WORKDIR FIXTURE_URL [S3]
#
# Needs PGHOST/PGPORT/PGUSER of the cluster under valgrind and the file://
# URL of a copy of the fixture store.  On file:// a statement_timeout ends
# a scan while it holds a fetched batch (the rows sleep), ANALYZE and a scan
# fail on a value the column type rejects while they hold fetched records,
# and a COMMIT whose deferred trigger sleeps is cancelled.  With S3 (S3DB_TEST_S3_URL
# set, the fixture store uploaded under <bucket>/vg/store),
# test/faults/fault_proxy.py runs in front of the server and, for each
# case, a session warms up (backend started, s3db.json read), then the requests of interest
# stall and the statement stuck on them is cancelled: by statement_timeout
# and by pg_cancel_backend, in scans, a fetch by id under a nested loop, the
# revalidation of s3db.json, a LIST, ANALYZE, COMMIT and TTL sweeps.  Each
# case only checks that the statement was cancelled (under valgrind nothing
# is timed); the leak check is the caller's (check_logs.py on the logs of
# these backends).  Prints TAP lines and ends with "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
. test/lib.sh

WORK=$1 FIXTURE_URL=$2 MODE=${3:-file}
make_work "$WORK"
n=0; passed=0; failed=0
FP_PID=
cleanup() { [ -n "$FP_PID" ] && { kill "$FP_PID" 2>/dev/null; wait "$FP_PID" 2>/dev/null; }; }
trap cleanup EXIT

# ---- file:// ---------------------------------------------------------------
psql -X -q -d postgres -c "CREATE DATABASE valgrind_cancel_file" >/dev/null || die "could not create a database"
make_work "$WORK/write-file"
setup=$(psql -X -q -v ON_ERROR_STOP=1 -d valgrind_cancel_file 2>&1 <<SQL
CREATE EXTENSION s3db_fdw;
CREATE SERVER fx FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR CURRENT_USER SERVER fx
  OPTIONS (connection_string '$FIXTURE_URL', passphrase 'fixture-pass');
CREATE SERVER fw FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR CURRENT_USER SERVER fw
  OPTIONS (connection_string 'file://$WORK/write-file');
CREATE SCHEMA f;
IMPORT FOREIGN SCHEMA s3db LIMIT TO (people) FROM SERVER fx INTO f;
CREATE FOREIGN TABLE w (id text, v text) SERVER fw OPTIONS (resource 'w');
SELECT s3db_create_resource('w');
CREATE FOREIGN TABLE bad_people (id text, name int) SERVER fx OPTIONS (resource 'people');
CREATE TABLE slow (x int);
CREATE FUNCTION slow_trigger() RETURNS trigger LANGUAGE plpgsql
  AS \$\$ BEGIN PERFORM pg_sleep(60); RETURN NULL; END \$\$;
CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON slow
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_trigger();
SQL
)
has "$setup" ERROR && die "setup failed: $setup"
out=$(psql -X -q -A -t -d valgrind_cancel_file -c "SET statement_timeout = '5s'" \
      -c "SELECT p.id, pg_sleep(3) FROM f.people p" 2>&1)
check "file://: statement_timeout cancels a scan holding a fetched batch" \
  "$(has "$out" "canceling statement due to statement timeout" || echo "not cancelled: $out")"
# errors while fetched records are held: ANALYZE's sample, a scan's batch
out=$(psql -X -q -A -t -d valgrind_cancel_file -c "ANALYZE bad_people" 2>&1)
check "file://: ANALYZE failing on a value the column type rejects" \
  "$(has "$out" "invalid input syntax for type integer" || echo "unexpected: $out")"
out=$(psql -X -q -A -t -d valgrind_cancel_file -c "SELECT * FROM bad_people" 2>&1)
check "file://: a scan failing on a value the column type rejects" \
  "$(has "$out" "invalid input syntax for type integer" || echo "unexpected: $out")"

# COMMIT runs without the statement timer until the FDW's own commit arms
# it again: a deferred trigger that sleeps is cancelled by pg_cancel_backend
psql -X -q -A -t -d valgrind_cancel_file -c "BEGIN" \
  -c "INSERT INTO w SELECT 'k' || g, 'queued' FROM generate_series(1, 40) g" \
  -c "INSERT INTO slow VALUES (1)" -c "COMMIT" >"$WORK/commit-file.out" 2>&1 &
bg=$!
pid=
for _ in $(seq 1 600); do
  pid=$(psql -X -A -t -d valgrind_cancel_file -c "SELECT pid FROM pg_stat_activity WHERE query = 'COMMIT' AND state = 'active' AND pid <> pg_backend_pid()")
  [ -n "$pid" ] && break
  sleep 0.2
done
[ -n "$pid" ] && psql -X -q -A -t -d valgrind_cancel_file -c "SELECT pg_cancel_backend($pid)" >/dev/null
wait "$bg"
out="$(cat "$WORK/commit-file.out")
$(psql -X -q -A -t -d valgrind_cancel_file -c "SELECT count(*) FROM w" 2>&1)"
check "file://: pg_cancel_backend cancels a COMMIT with queued writes; nothing was written" \
  "$(has "$out" "canceling statement due to user request" && has "$out" $'\n0' || echo "unexpected (pid '$pid'): $out")"

if [ "$MODE" != s3 ]; then
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]; exit
fi

# ---- S3 behind the fault proxy ----------------------------------------------

hostport() { local a=${1#*@}; echo "${a%%/*}"; }
S3ADDR=$(hostport "$S3DB_TEST_S3_URL")
BUCKET=${S3DB_TEST_S3_URL##*/}
/usr/bin/python3 test/faults/fault_proxy.py --upstream "$S3ADDR" \
  --port-file "$WORK/proxy.port" --control-port-file "$WORK/control.port" >"$WORK/proxy.log" 2>&1 &
FP_PID=$!
for _ in $(seq 1 50); do [ -s "$WORK/control.port" ] && break; sleep 0.1; done
[ -s "$WORK/control.port" ] || die "fault proxy did not start: $(cat "$WORK/proxy.log")"
PROXY_PORT=$(cat "$WORK/proxy.port")
CONTROL=http://127.0.0.1:$(cat "$WORK/control.port")

DB=valgrind_cancel
psql -X -q -d postgres -c "CREATE DATABASE $DB" >/dev/null || die "could not create $DB"
export PGDATABASE=$DB
STORE="http://127.0.0.1:$PROXY_PORT/$BUCKET/vg/store"
WSTORE="http://127.0.0.1:$PROXY_PORT/$BUCKET/vg-cancel-write"
setup=$(psql -X -q -v ON_ERROR_STOP=1 2>&1 <<SQL
CREATE EXTENSION s3db_fdw;
CREATE SERVER stalled FOREIGN DATA WRAPPER s3db_fdw
  OPTIONS (connection_string '$STORE', max_retries '0', request_timeout '600000');
CREATE USER MAPPING FOR CURRENT_USER SERVER stalled
  OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER', passphrase 'fixture-pass');
CREATE SERVER stalled_w FOREIGN DATA WRAPPER s3db_fdw
  OPTIONS (connection_string '$WSTORE', max_retries '0', request_timeout '600000');
CREATE USER MAPPING FOR CURRENT_USER SERVER stalled_w
  OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');
CREATE SCHEMA f;
IMPORT FOREIGN SCHEMA s3db LIMIT TO (people) FROM SERVER stalled INTO f;
CREATE FOREIGN TABLE w (id text, v text) SERVER stalled_w OPTIONS (resource 'w');
SELECT s3db_create_resource('w');
SQL
)
has "$setup" ERROR && die "setup failed: $setup"

rule() { curl -s --max-time 5 -G "$CONTROL/rule" "$@" >/dev/null; }
clear_rules() { curl -s --max-time 5 "$CONTROL/clear" >/dev/null; }
WARM="SELECT count(*) FROM f.people"

# tmo NAME RULE_ARGS SQL...: warm up, stall, run SQL under a statement_timeout
tmo() {
  local name=$1 args=$2; shift 2
  local out
  out=$(psql -X -q -A -t -c "$WARM" -c "\\! curl -s --max-time 5 -G '$CONTROL/rule' $args >/dev/null" \
        -c "SET statement_timeout = '3s'" "$@" 2>&1)
  clear_rules
  echo "$out" >>"$WORK/transcript"
  check "$name" "$(has "$out" "canceling statement due to statement timeout" || echo "not cancelled: $out")"
}

# cancel NAME RULE_ARGS SQL: warm up, stall, run SQL, pg_cancel_backend it
cancel() {
  local name=$1 args=$2 q=$3 pid= bg out
  psql -X -q -A -t -c "$WARM" -c "\\! curl -s --max-time 5 -G '$CONTROL/rule' $args >/dev/null" \
    -c "BEGIN" -c "$q /* vg-cancel-me */" -c "COMMIT" >"$WORK/bg.out" 2>&1 &
  bg=$!
  for _ in $(seq 1 600); do
    pid=$(psql -X -A -t -c "SELECT pid FROM pg_stat_activity WHERE query LIKE '%vg-cancel-me%' AND state = 'active' AND pid <> pg_backend_pid()")
    [ -n "$pid" ] && break
    sleep 0.2
  done
  sleep 3     # let it reach the stalled request
  [ -n "$pid" ] && psql -X -q -A -t -c "SELECT pg_cancel_backend($pid)" >/dev/null
  wait "$bg"
  clear_rules
  out=$(cat "$WORK/bg.out"); echo "$out" >>"$WORK/transcript"
  check "$name" "$(has "$out" "canceling statement due to user request" || echo "not cancelled (pid '$pid'): $out")"
}

tmo "statement_timeout cancels a scan stalled on record fetches" \
  "--data-urlencode action=stall --data-urlencode count=1000 --data-urlencode seconds=600 --data-urlencode method=HEAD|GET --data-urlencode path=resource=people/data/" \
  -c "SELECT id, name FROM f.people"
cancel "pg_cancel_backend cancels a scan stalled on record fetches" \
  "--data-urlencode action=stall --data-urlencode count=1000 --data-urlencode seconds=600 --data-urlencode method=HEAD|GET --data-urlencode path=resource=people/data/" \
  "SELECT id, name FROM f.people"
tmo "statement_timeout cancels a nested loop's fetch by id" \
  "--data-urlencode action=stall --data-urlencode count=1000 --data-urlencode seconds=600 --data-urlencode method=HEAD|GET --data-urlencode path=resource=people/data/" \
  -c "SELECT g, p.name FROM generate_series(1, 50) g, LATERAL (SELECT name FROM f.people WHERE id = 'alice' || (g % 2) OFFSET 0) p"
tmo "statement_timeout cancels a LIST" \
  "--data-urlencode action=stall --data-urlencode count=1000 --data-urlencode seconds=600 --data-urlencode method=LIST" \
  -c "SELECT count(*) FROM s3db_list('stalled')"
tmo "statement_timeout cancels ANALYZE stalled on its sample" \
  "--data-urlencode action=stall --data-urlencode count=1000 --data-urlencode seconds=600 --data-urlencode method=GET --data-urlencode path=resource=people/data/" \
  -c "ANALYZE f.people"
# a changed s3db.json is read again: stall that read in a fresh statement
tmo "statement_timeout cancels the read of s3db.json" \
  "--data-urlencode action=stall --data-urlencode count=1000 --data-urlencode seconds=600 --data-urlencode path=s3db.json" \
  -c "SELECT count(*) FROM f.people"
tmo "statement_timeout cancels a COMMIT stalled on PUTs" \
  "--data-urlencode action=stall --data-urlencode count=1000 --data-urlencode seconds=600 --data-urlencode method=PUT" \
  -c "BEGIN" -c "INSERT INTO w SELECT 't' || g, 'timeout' FROM generate_series(1, 40) g" -c "COMMIT"
cancel "pg_cancel_backend cancels a COMMIT stalled on PUTs" \
  "--data-urlencode action=stall --data-urlencode count=1000 --data-urlencode seconds=600 --data-urlencode method=PUT" \
  "INSERT INTO w SELECT 'c' || g, 'cancel' FROM generate_series(1, 40) g; COMMIT"
# TTL sweeps call the store and the format directly and hold their results
# across the interrupt checks after each request: cancel one while it
# deletes a due record's index entry (hard-delete) and one while it writes
# the soft-deleted record (its encoded object and new values are held)
setup=$(psql -X -q -v ON_ERROR_STOP=1 2>&1 <<SQL
CREATE FOREIGN TABLE ttl_hard (id text, v text) SERVER stalled_w OPTIONS (resource 'ttl_hard');
CREATE FOREIGN TABLE ttl_soft (id text, v text, deletedat text, isdeleted text)
  SERVER stalled_w OPTIONS (resource 'ttl_soft');
SELECT s3db_create_resource(t) FROM unnest('{ttl_hard,ttl_soft}'::regclass[]) t;
INSERT INTO s3db_fdw_ttl (ftable, ttl) VALUES ('ttl_hard', '1 s');
INSERT INTO s3db_fdw_ttl (ftable, ttl, action) VALUES ('ttl_soft', '1 s', 'soft-delete');
INSERT INTO ttl_hard SELECT 'h' || g, 'due' FROM generate_series(1, 3) g;
INSERT INTO ttl_soft (id, v) SELECT 's' || g, 'due' FROM generate_series(1, 3) g;
SQL
)
has "$setup" ERROR && die "TTL setup failed: $setup"
sleep 2     # every record due
tmo "statement_timeout cancels a TTL sweep stalled on deleting an index entry" \
  "--data-urlencode action=stall --data-urlencode count=1000 --data-urlencode seconds=600 --data-urlencode method=DELETE --data-urlencode path=resource=plg_ttl_expiration_index/data/" \
  -c "SELECT s3db_ttl_sweep('ttl_hard')"
tmo "statement_timeout cancels a TTL sweep stalled on writing a soft-deleted record" \
  "--data-urlencode action=stall --data-urlencode count=1000 --data-urlencode seconds=600 --data-urlencode method=PUT --data-urlencode path=resource=ttl_soft/data/" \
  -c "SELECT s3db_ttl_sweep('ttl_soft')"

# the store still answers, and the cancelled commits left nothing half-done
out=$(psql -X -q -A -t -c "SELECT count(*) FROM w" 2>&1)
check "the store answers after the cancels (rows: $out)" "$(has "$out" ERROR && echo "$out")"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
