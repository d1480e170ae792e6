#!/usr/bin/env bash
# Fault injection: what s3db_fdw does when the object store misbehaves.
#
#   test/faults/run.sh            (as root; the extension must be installed)
#
# Starts an S3 test server (test/s3/start.sh), the fault-injecting proxy
# (test/faults/fault_proxy.py) in front of s3rver, and a scratch PostgreSQL
# cluster; uploads the fixture store; then runs numbered TAP-style cases,
# each setting proxy rules (500s, SlowDowns, resets, stalls, truncated or
# trickled bodies, a dead server) and checking the FDW's answer, its timing
# and the store afterwards.  Ends with "N passed, M failed" and exits
# non-zero if any case failed.  Everything started here is stopped on exit.
# KEEP_WORK=1 keeps the scratch directory (logs, proxy trace).
# FAULTS_STORE=ceph runs the same cases against Ceph radosgw
# (test/ceph/start.sh), the fault proxy directly in front of it: radosgw
# checks signatures and conditions itself.
set -uo pipefail
cd "$(dirname "$0")/../.."
TOP=$PWD
. test/lib.sh

PASSPHRASE=do-not-leak-this-passphrase
TOKEN=do-not-leak-this-token
REQUEST_TIMEOUT=3000

WORK=$(mktemp -d /tmp/s3db_faults.XXXXXX)
make_work "$WORK"
FP_PID=
RESTARTED=           # servers this script restarted (not start.sh's)
cleanup() {
  for p in $FP_PID $RESTARTED; do kill "$p" 2>/dev/null; done
  pg_stop "$WORK/pg"
  test/s3/stop.sh "$WORK/s3" >/dev/null 2>&1 || true
  test/ceph/stop.sh "$WORK/ceph" >/dev/null 2>&1 || true
  for p in $FP_PID $RESTARTED; do wait "$p" 2>/dev/null; done
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# ---- servers -------------------------------------------------------------
STORE=${FAULTS_STORE:-s3rver}
if [ "$STORE" = ceph ]; then
  test/ceph/start.sh "$WORK/ceph" >/dev/null || die "could not start radosgw"
  . "$WORK/ceph/env"
else
  test/s3/start.sh "$WORK/s3" >/dev/null || die "could not start the S3 test server"
  . "$WORK/s3/env"
fi
# The fault proxy sits in front of the signature-checking proxy, which
# forwards to s3rver (or in front of radosgw, which checks by itself):
# every request, retries included, must be correctly signed, and
# If-None-Match / If-Match are enforced as on S3.
hostport() { local a=${1#*@}; echo "${a%%/*}"; }
S3RVER_ADDR=$(hostport "$S3DB_TEST_S3_DIRECT_URL"); S3RVER_PORT=${S3RVER_ADDR##*:}
SIGV4_ADDR=$(hostport "$S3DB_TEST_S3_URL"); SIGV4_PORT=${SIGV4_ADDR##*:}
read -r S3RVER_ORIG_PID SIGV4_ORIG_PID RGW_PID <<<"$S3DB_TEST_S3_PIDS"
creds=${S3DB_TEST_S3_URL#*://}; creds=${creds%%@*}
ACCESS_KEY=${creds%%:*}; SECRET_KEY=${creds#*:}
# radosgw takes a session token for an STS one and refuses the request
TOKEN_OPT=", session_token '$TOKEN'"
[ "$STORE" = ceph ] && TOKEN_OPT=

/usr/bin/python3 test/faults/fault_proxy.py --upstream "$SIGV4_ADDR" \
  --port-file "$WORK/proxy.port" --control-port-file "$WORK/control.port" \
  --trace "$WORK/proxy-trace.log" >"$WORK/proxy.log" 2>&1 &
FP_PID=$!
for _ in $(seq 1 50); do [ -s "$WORK/proxy.port" ] && break; sleep 0.1; done
[ -s "$WORK/proxy.port" ] || die "fault proxy did not start: $(cat "$WORK/proxy.log")"
PROXY_PORT=$(cat "$WORK/proxy.port")
CONTROL_PORT=$(cat "$WORK/control.port")

pg_start "$WORK/pg" "log_min_error_statement = error" "log_error_verbosity = verbose" ${FAULTS_PG_CONF:+"$FAULTS_PG_CONF"} \
  >/dev/null || die "could not start PostgreSQL"
PGLOG=$WORK/pg/server.log

node test/fixtures/upload.mjs test/fixtures/store "${S3DB_TEST_S3_URL%/}/faults/store" >"$WORK/upload.log" 2>&1 \
  || die "could not upload the fixture store"

# ---- helpers -------------------------------------------------------------
TRANSCRIPT=$WORK/transcript.txt     # every psql output, for the leak check
: >"$TRANSCRIPT"

ctl() { curl -s --max-time 5 "http://127.0.0.1:$CONTROL_PORT/$1"; }
rule() {  # rule "action=A&count=N&method=RE&path=RE..." (values without '&')
  local kv args=()
  IFS='&' read -ra kv <<<"$1"
  for p in "${kv[@]}"; do args+=(--data-urlencode "$p"); done
  curl -s --max-time 5 -G "${args[@]}" "http://127.0.0.1:$CONTROL_PORT/rule" >/dev/null
}
clear_rules() { ctl clear >/dev/null; }
# fired COUNT of the rules set since the last clear, summed
fired() { ctl stats | python3 -c 'import json,sys; print(sum(r["fired"] for r in json.load(sys.stdin)["rules"]))'; }
stat_req() { ctl stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"].get(sys.argv[1], 0))' "$1"; }

now_ms() { date +%s%3N; }
# sql SCRIPT...: psql options/commands, run in a fresh session; prints the
# output (rows and errors)
ELAPSED=0
sql() {
  local out
  out=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -v VERBOSITY=verbose "$@" 2>&1)
  printf '%s\n' "$out" >>"$TRANSCRIPT"
  printf '%s' "$out"
}
# sq SCRIPT...: the same, in this shell: output in OUT, time in ELAPSED
OUT=
sq() {
  local t0
  t0=$(now_ms)
  OUT=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -v VERBOSITY=verbose "$@" 2>&1)
  ELAPSED=$(( $(now_ms) - t0 ))
  printf '%s\n' "$OUT" >>"$TRANSCRIPT"
}
# problems: append a line to PROBLEMS
PROBLEMS=()
want() { if ! eval "$1"; then PROBLEMS+=("$2"); fi; }
begin_case() { PROBLEMS=(); clear_rules; }
end_case() { check "$1" "${PROBLEMS[@]+"${PROBLEMS[@]}"}"; clear_rules; }

FIXTURE_URL="http://127.0.0.1:$PROXY_PORT/s3db-test/faults/store"
setup=$(sql -c "CREATE EXTENSION s3db_fdw" -c "
CREATE SERVER faulty FOREIGN DATA WRAPPER s3db_fdw
  OPTIONS (connection_string '$FIXTURE_URL', max_retries '4',
           connect_timeout '1000', request_timeout '$REQUEST_TIMEOUT');
CREATE USER MAPPING FOR CURRENT_USER SERVER faulty
  OPTIONS (access_key_id '$ACCESS_KEY', secret_access_key '$SECRET_KEY',
           passphrase '$PASSPHRASE'$TOKEN_OPT);
CREATE SERVER quick FOREIGN DATA WRAPPER s3db_fdw
  OPTIONS (connection_string '$FIXTURE_URL', max_retries '1',
           connect_timeout '500', request_timeout '1000');
CREATE USER MAPPING FOR CURRENT_USER SERVER quick
  OPTIONS (access_key_id '$ACCESS_KEY', secret_access_key '$SECRET_KEY',
           passphrase '$PASSPHRASE'$TOKEN_OPT);
CREATE SCHEMA f;
IMPORT FOREIGN SCHEMA s3db FROM SERVER faulty INTO f;
CREATE FOREIGN TABLE quick_people (id text, name text) SERVER quick OPTIONS (resource 'people');
CREATE VIEW refs AS
  SELECT key FROM s3db_list('faulty', 'resource=people/partition=') ORDER BY key;
CREATE VIEW recs AS
  SELECT key FROM s3db_list('faulty', 'resource=people/data/') ORDER BY key;
-- profile.city mapped to a column: equality lists the byCity partition
CREATE FOREIGN TABLE people_city (id text, city text OPTIONS (field 'profile.city'))
  SERVER faulty OPTIONS (resource 'people');")
[ -z "$setup" ] || die "setup failed: $setup"

PEOPLE="alice|Alice Müller
bob|Bob
chloé|日本語テキスト
dan 2|Dan"
people_ok() { [ "$1" = "$PEOPLE" ]; }
NOTE_N1="n1|only in the body|1.5"
Q_PEOPLE="SELECT id, name FROM f.people ORDER BY id"
Q_NOTES="SELECT id, text, n FROM f.notes ORDER BY id"
# the fixture's people by a full listing (the filter is not pushed down)
Q_FIXTURE="SELECT id, name FROM f.people WHERE name NOT LIKE 'Writer %' ORDER BY id"

echo "TAP version 13"

# ---- 1. baseline -----------------------------------------------------------
begin_case
sq -c "$Q_PEOPLE"; out=$OUT
want 'people_ok "$out"' "people through the proxy: $out"
sq -c "$Q_NOTES"; out=$OUT
want '[ "$out" = "$NOTE_N1" ]' "notes through the proxy: $out"
want '[ "$(stat_req HEAD)" -gt 0 ] && [ "$(stat_req LIST)" -gt 0 ] && [ "$(stat_req GET)" -gt 0 ]' \
  "the proxy counted requests per method: $(ctl stats)"
end_case "baseline: reads through the fault proxy return the fixture (GET, HEAD and LIST counted)"

# ---- 2-4. transient faults are retried --------------------------------------
transient() {  # transient OP PATH_RE QUERY EXPECTED LABEL
  local expected=$4
  begin_case
  rule "action=500&count=1&method=$1&path=$2"
  rule "action=slowdown&count=1&method=$1&path=$2"
  rule "action=reset&count=1&method=$1&path=$2"
  sq -c "$3"; out=$OUT
  want '[ "$out" = "$expected" ]' "result: $out"
  f=$(fired)
  want '[ "$f" = 3 ]' "faults injected: $f of 3 (the query did not use $1 on $2?)"
  end_case "$5"
}
transient GET 'resource=notes/data/id=n1' "$Q_NOTES" "$NOTE_N1" \
  "GET of a record through a 500, a SlowDown and a reset: retried, the right row"
transient HEAD 'resource=people/data/id=alice' "$Q_PEOPLE" "$PEOPLE" \
  "HEAD of a record through a 500, a SlowDown and a reset: retried, the right rows"
transient LIST 'prefix=faults/store/resource=people/data' "$Q_PEOPLE" "$PEOPLE" \
  "LIST through a 500, a SlowDown and a reset: retried, the right rows"
begin_case
rule "action=500&count=1&path=/s3db.json"
rule "action=reset&count=1&path=/s3db.json"
sq -c "$Q_PEOPLE"; out=$OUT
want 'people_ok "$out"' "result: $out"
want '[ "$(fired)" = 2 ]' "faults injected: $(fired) of 2"
end_case "s3db.json through a 500 and a reset: retried, the right rows"

# ---- faults that outlast the retry budget -----------------------------------
no_secret() {  # no_secret TEXT: none of the credentials in TEXT
  ! has "$1" "$PASSPHRASE" && ! has "$1" "$TOKEN" && ! has "$1" "$SECRET_KEY"
}
outlast() {  # outlast ACTION OP PATH_RE MIN MAX QUERY LABEL WORDS...
  local action=$1 op=$2 re=$3 min=$4 max=$5 query=$6 label=$7; shift 7
  begin_case
  rule "action=$action&count=100&method=$op&path=$re"
  sq -c "$query"; out=$OUT
  want 'has "$out" ERROR' "no error: $out"
  for w in "$@"; do want 'has "$out" "$w"' "the error does not name \"$w\": $out"; done
  want 'no_secret "$out"' "a credential in the error: $out"
  f=$(fired)
  want '[ "$f" -ge "$min" ] && [ "$f" -le "$max" ]' "attempts: $f, expected $min to $max (1 + max_retries = 5)"
  want '[ "$ELAPSED" -lt 6000 ]' "took $ELAPSED ms"
  end_case "$label"
}
outlast 500 HEAD 'resource=people/data/id=alice' 5 5 "$Q_PEOPLE" \
  "persistent 500 on HEAD: fails after max_retries with an error naming operation, key and status" \
  HEAD "id=alice" 500
# planning without statistics lists one page for its row estimate, and
# retries too before it gives up and leaves the error to the scan
outlast slowdown LIST 'resource=people/data' 5 10 "$Q_PEOPLE" \
  "persistent SlowDown on LIST: fails after max_retries with an error naming operation, resource and status" \
  LIST 'resource "people"' 503 SlowDown
# libcurl itself retries once a request whose reused connection was reset
outlast reset GET 'resource=notes/data/id=n1' 5 6 "$Q_NOTES" \
  "persistent resets on GET: fails after max_retries with an error naming operation and key" \
  GET "id=n1"

# ---- stalls and request_timeout ---------------------------------------------
begin_case
rule "action=stall&count=1&seconds=20&method=HEAD&path=resource=people/data/id=alice"
sq -c "$Q_PEOPLE"; out=$OUT
want 'people_ok "$out"' "result: $out"
want '[ "$ELAPSED" -ge $((REQUEST_TIMEOUT - 200)) ] && [ "$ELAPSED" -lt $((3 * REQUEST_TIMEOUT)) ]' \
  "took $ELAPSED ms, expected between request_timeout and 3 x request_timeout"
end_case "a response stalled past request_timeout is abandoned and retried: right rows in ${ELAPSED} ms"

begin_case
rule "action=stall&count=100&seconds=20&method=HEAD&path=resource=people/data/id=alice"
sq -c "SELECT id, name FROM quick_people ORDER BY id"; out=$OUT
want 'has "$out" ERROR && has "$out" "id=alice"' "no clear error: $out"
want 'printf "%s" "$out" | grep -qi -e timeout -e "timed out"' "the error does not say timeout: $out"
want '[ "$ELAPSED" -lt 3000 ]' "took $ELAPSED ms, expected < 3 x request_timeout (1000 ms)"
end_case "a persistent stall fails within 3 x request_timeout (request_timeout 1000, max_retries 1): ${ELAPSED} ms"

# ---- truncated and trickled bodies -------------------------------------------
begin_case
rule "action=truncate&count=2&method=GET&path=resource=notes/data/id=n1"
rule "action=truncate&count=1&method=LIST&path=resource=notes/data"
sq -c "$Q_NOTES"; out=$OUT
want '[ "$out" = "$NOTE_N1" ]' "result: $out"
want '[ "$(fired)" = 3 ]' "faults injected: $(fired) of 3"
end_case "truncated bodies (GET twice, LIST once) are retried: the right row"

begin_case
rule "action=truncate&count=100&method=GET&path=resource=notes/data/id=n1"
sq -c "$Q_NOTES"; out=$OUT
want 'has "$out" ERROR && has "$out" "id=n1"' "no clear error: $out"
want '! has "$out" "n1|"' "a row came back: $out"
end_case "a body truncated on every attempt fails clearly and returns no row"

begin_case
rule "action=truncate&count=100&method=GET&path=/s3db.json"
sq -c "$Q_PEOPLE"; out=$OUT
want 'has "$out" ERROR && has "$out" "s3db.json"' "no clear error: $out"
want '! has "$out" "alice|"' "rows came back: $out"
end_case "a catalog truncated on every attempt fails clearly and returns no row"

begin_case
rule "action=trickle&count=1&bytes=3&method=GET&path=resource=notes/data/id=n1"
sq -c "$Q_NOTES"; out=$OUT
want '[ "$out" = "$NOTE_N1" ]' "result: $out"
want '[ "$ELAPSED" -lt $((3 * REQUEST_TIMEOUT)) ]' "took $ELAPSED ms"
end_case "a body trickled a few bytes per 100 ms: the right row (${ELAPSED} ms)"

# ---- request window ------------------------------------------------------------
# s3db_fdw.max_inflight set in the session bounds the requests in flight: with
# every record fetch held 2 s, the proxy sees at most that many at once (the
# fixture has 4 people, fetched in one batch)
max_concurrent() { ctl stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["max_concurrent"])'; }
begin_case
rule "action=stall&count=1000&seconds=2&method=HEAD|GET&path=resource=people/data"
ctl reset-stats >/dev/null
sq -c "SET s3db_fdw.max_inflight = 2" -c "$Q_PEOPLE"; out2=$OUT; peak2=$(max_concurrent)
ctl reset-stats >/dev/null
sq -c "SET s3db_fdw.max_inflight = 2" -c "SELECT count(*) FROM f.people" -c "SET s3db_fdw.max_inflight = 8" -c "$Q_PEOPLE"; out8=$(printf "%s\n" "$OUT" | sed 1d); peak8=$(max_concurrent)
want 'people_ok "$out2" && people_ok "$out8"' "rows: $out2 / $out8"
want '[ "$peak2" = 2 ]' "max_inflight 2: $peak2 requests at once"
want '[ "$peak8" = 4 ]' "max_inflight 8 set after 2 in the same session: $peak8 requests at once, expected 4"
end_case "SET s3db_fdw.max_inflight bounds the requests in flight ($peak2 with 2, $peak8 with 8 for 4 records)"

# ---- cancel -------------------------------------------------------------------
begin_case
rule "action=stall&count=1000&seconds=60&method=HEAD|GET&path=resource=people/data"
sq -c "SET statement_timeout = 1000" -c "$Q_PEOPLE"; out=$OUT
want 'has "$out" "canceling statement due to statement timeout"' "not cancelled: $out"
want '[ "$ELAPSED" -lt 2000 ]' "took $ELAPSED ms, expected < 2000"
end_case "statement_timeout = 1s interrupts a scan stalled on the store in ${ELAPSED} ms"

begin_case
rule "action=stall&count=1000&seconds=60&method=HEAD|GET&path=resource=people/data"
psql -X -q -A -t -c "SELECT id, name /* fault-cancel-me */ FROM f.people" >"$WORK/cancel.out" 2>&1 &
bg=$!
pid=
for _ in $(seq 1 50); do
  pid=$(psql -X -A -t -c "SELECT pid FROM pg_stat_activity WHERE query LIKE '%fault-cancel-me%' AND pid <> pg_backend_pid()")
  [ -n "$pid" ] && break
  sleep 0.1
done
sleep 0.5
t0=$(now_ms)
psql -X -q -A -t -c "SELECT pg_cancel_backend($pid)" >/dev/null 2>&1
wait "$bg"
dt=$(( $(now_ms) - t0 ))
out=$(cat "$WORK/cancel.out"); echo "$out" >>"$TRANSCRIPT"
want '[ -n "$pid" ]' "the query never showed up in pg_stat_activity"
want 'has "$out" "canceling statement due to user request"' "not cancelled: $out"
want '[ "$dt" -lt 2000 ]' "ended $dt ms after pg_cancel_backend, expected < 2000"
end_case "pg_cancel_backend interrupts a scan stalled on the store in ${dt} ms"

# ---- COMMIT under faults -------------------------------------------------------
person() {  # person ID CITY: a VALUES row for f.people
  echo "('$1', 'Writer $1', '$1@example.com', 30, 1.5, true, '{x}', '{\"city\": \"$2\"}')"
}
INS="INSERT INTO f.people (id, name, email, age, score, active, tags, profile) VALUES"
# every record written by this script has its partition reference and vice versa
refs_consistent() {  # refs_consistent ID_PREFIX -> prints problems
  sql -c "
    WITH r AS (SELECT substring(key from 'id=(.*)\$') AS id FROM recs WHERE key LIKE '%/id=$1%'),
         p AS (SELECT substring(key from 'id=(.*)\$') AS id FROM refs WHERE key LIKE '%/id=$1%')
    SELECT 'record without partition reference: ' || id FROM r WHERE id NOT IN (SELECT id FROM p)
    UNION ALL
    SELECT 'partition reference without record: ' || id FROM p WHERE id NOT IN (SELECT id FROM r)"
}

begin_case
rule "action=stall&count=1000&seconds=60&method=PUT"
sq -c "SET statement_timeout = 1000" -c "BEGIN" -c "$INS $(person c1 Oslo)" -c "COMMIT"; out=$OUT
dt=$ELAPSED
want 'has "$out" "canceling statement"' "COMMIT not interrupted: $out"
want '[ "$dt" -lt 2500 ]' "the whole transaction took $dt ms, expected about 1 s"
clear_rules
sq -c "BEGIN" -c "$INS $(person c1 Oslo)" -c "COMMIT" -c "SELECT id, name FROM f.people WHERE id = 'c1'"; out=$OUT
want '[ "$out" = "c1|Writer c1" ]' "the retried transaction: $out"
probs=$(refs_consistent c1)
want '[ -z "$probs" ]' "$probs"
end_case "statement_timeout interrupts a COMMIT stalled on PUTs (${dt} ms); the retried transaction succeeds"

begin_case
rule "action=stall&count=1000&seconds=60&method=PUT"
psql -X -q -A -t -c "BEGIN" -c "$INS $(person c2 Oslo) /* fault-commit-cancel */" -c "COMMIT" >"$WORK/cancel-commit.out" 2>&1 &
bg=$!
pid=
for _ in $(seq 1 50); do
  pid=$(psql -X -A -t -c "SELECT pid FROM pg_stat_activity WHERE query = 'COMMIT' AND state = 'active' AND pid <> pg_backend_pid()")
  [ -n "$pid" ] && break
  sleep 0.1
done
sleep 0.5
t0=$(now_ms)
[ -n "$pid" ] && psql -X -q -A -t -c "SELECT pg_cancel_backend($pid)" >/dev/null 2>&1
wait "$bg"
dt=$(( $(now_ms) - t0 ))
out=$(cat "$WORK/cancel-commit.out"); echo "$out" >>"$TRANSCRIPT"
want '[ -n "$pid" ]' "the COMMIT never showed up in pg_stat_activity: $out"
want 'has "$out" "canceling statement due to user request"' "not cancelled: $out"
want '[ "$dt" -lt 2000 ]' "ended $dt ms after pg_cancel_backend, expected < 2000"
clear_rules
sq -c "BEGIN" -c "$INS $(person c2 Oslo)" -c "COMMIT" -c "SELECT id, name FROM f.people WHERE id = 'c2'"; out=$OUT
want '[ "$out" = "c2|Writer c2" ]' "the retried transaction: $out"
probs=$(refs_consistent c2)
want '[ -z "$probs" ]' "$probs"
end_case "pg_cancel_backend interrupts a COMMIT stalled on PUTs (${dt} ms after the cancel); the retried transaction succeeds"

begin_case
rule "action=500&count=2&method=PUT&path=resource=people/data/id=w"
rule "action=slowdown&count=2&method=PUT&path=resource=people/partition"
rule "action=reset&count=1&method=PUT"
sq -c "$INS $(person w1 Berlin), $(person w2 Rio), $(person w3 Berlin), $(person w4 Lima), $(person w5 Rio)"; out=$OUT
if has "$out" ERROR; then
  echo "# the commit failed ($out); retrying" ; clear_rules
  sq -c "$INS $(person w1 Berlin), $(person w2 Rio), $(person w3 Berlin), $(person w4 Lima), $(person w5 Rio)"; out=$OUT
  want '! has "$out" ERROR' "the retried commit failed: $out"
fi
sq -c "SELECT string_agg(id || ':' || (profile->>'city'), ',' ORDER BY id) FROM f.people WHERE id LIKE 'w_'"; out=$OUT
want '[ "$out" = "w1:Berlin,w2:Rio,w3:Berlin,w4:Lima,w5:Rio" ]' "records: $out"
probs=$(refs_consistent w)
want '[ -z "$probs" ]' "$probs"
end_case "a commit through 500s, SlowDowns and a reset on PUT writes every record and every partition reference"

begin_case
rule "action=500&count=1000&method=PUT&path=resource=people/partition=.*id=x2"
sq -c "$INS $(person x1 Berlin), $(person x2 Rio), $(person x3 Lima)"; out=$OUT
want 'has "$out" ERROR' "the commit did not fail: $out"
want 'no_secret "$out"' "a credential in the error: $out"
probs=$(refs_consistent x)
want '[ -z "$probs" ]' "after the failed commit: $probs"
sq -c "SELECT coalesce((SELECT string_agg(id, ',' ORDER BY id) FROM f.people WHERE id LIKE 'x_' AND profile->>'city' = 'Rio'), '')
        || ' / ' || coalesce((SELECT string_agg(id, ',' ORDER BY id) FROM people_city WHERE id LIKE 'x_' AND city = 'Rio'), '')"
want '[ "${OUT% / *}" = "${OUT#* / }" ]' "full scan / partition scan for city = Rio disagree: $OUT"
clear_rules
sq -c "$INS $(person x1 Berlin), $(person x2 Rio), $(person x3 Lima)"; out=$OUT
want '! has "$out" ERROR' "the retried commit failed: $out"
sq -c "SELECT string_agg(id, ',' ORDER BY id) FROM f.people WHERE id LIKE 'x_'"; out=$OUT
want '[ "$out" = "x1,x2,x3" ]' "records after the retry: $out"
probs=$(refs_consistent x)
want '[ -z "$probs" ]' "after the retry: $probs"
end_case "a commit whose partition reference PUT fails for good leaves no half-written record; a retry succeeds"

begin_case
rule "action=500&count=1000&method=PUT&path=resource=people/data/id=y2"
sq -c "$INS $(person y1 Berlin), $(person y2 Rio), $(person y3 Lima)"; out=$OUT
want 'has "$out" ERROR && has "$out" "id=y2"' "no clear error: $out"
probs=$(refs_consistent y)
want '[ -z "$probs" ]' "after the failed commit: $probs"
clear_rules
sq -c "$INS $(person y1 Berlin), $(person y2 Rio), $(person y3 Lima)" -c "SELECT string_agg(id, ',' ORDER BY id) FROM f.people WHERE id LIKE 'y_'"; out=$OUT
want '[ "$out" = "y1,y2,y3" ]' "the retried commit: $out"
end_case "a commit whose record PUT fails for good leaves no half-written record; a retry succeeds"

begin_case
# changes of records that existed are not undone: when one fails after
# others landed, the error says what landed, and it is not "retry" (40001)
sq -c "$INS $(person v1 Oslo), $(person v2 Oslo)"
rule "action=500&count=1000&method=PUT&path=resource=people/data/id=v2"
sq -c "BEGIN" -c "UPDATE f.people SET age = 41 WHERE id IN ('v1', 'v2')" -c "$INS $(person v3 Oslo)" -c "COMMIT"; out=$OUT
want 'has "$out" "ERROR:  58000: the transaction was applied to the store only in part"' "not a partial-commit error: $out"
want 'has "$out" "resource \"people\" of server \"faulty\": 1 record created, 1 record changed"' "what landed is not named: $out"
want 'has "$out" "id=v2"' "the failure is not named: $out"
want '! has "$out" 40001' "a retryable SQLSTATE: $out"
want 'no_secret "$out"' "a credential in the error: $out"
clear_rules
sq -c "SELECT string_agg(id || ':' || age, ',' ORDER BY id) FROM f.people WHERE id LIKE 'v_'"; out=$OUT
want '[ "$out" = "v1:41,v2:30,v3:30" ]' "records after the partial commit: $out"
probs=$(refs_consistent v)
want '[ -z "$probs" ]' "$probs"
# the same failure with nothing landed before it is the store's error as it was
rule "action=500&count=1000&method=PUT&path=resource=people/data/id=v2"
sq -c "UPDATE f.people SET age = 42 WHERE id = 'v2'"; out=$OUT
want 'has "$out" ERROR && ! has "$out" "58000"' "nothing landed, yet: $out"
end_case "a commit that fails after some of its writes landed reports them under 58000, not as a retryable error"

begin_case
# each write lands, but its answer is lost: the retry meets its own write
rule "action=lost&count=1&method=PUT&path=resource=people/data/id=z1"
sq -c "$INS $(person z1 Oslo)"; out1=$OUT
rule "action=lost&count=1&method=PUT&path=resource=people/data/id=z1"
sq -c "UPDATE f.people SET name = 'Changed z1', profile = '{\"city\": \"Lima\"}' WHERE id = 'z1'"; out2=$OUT
sq -c "SELECT id, name, profile->>'city' FROM f.people WHERE id = 'z1'"; row=$OUT
probs=$(refs_consistent z)
rule "action=lost&count=1&method=DELETE&path=resource=people/data/id=z1"
sq -c "DELETE FROM f.people WHERE id = 'z1'"; out3=$OUT
lost=$(ctl stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["faults"].get("lost", 0))')
sq -c "SELECT count(*) FROM f.people WHERE id = 'z1'"; left=$OUT
want '[ "$lost" = 3 ]' "answers lost: $lost, expected 3"
want '[ -z "$out1" ]' "the INSERT whose answer was lost: $out1"
want '[ -z "$out2" ]' "the UPDATE whose answer was lost: $out2"
want '[ "$row" = "z1|Changed z1|Lima" ]' "after the UPDATE: $row"
want '[ -z "$probs" ]' "after the UPDATE: $probs"
want '[ -z "$out3" ]' "the DELETE whose answer was lost: $out3"
want '[ "$left" = 0 ]' "after the DELETE: $left records z1"
probs=$(refs_consistent z)
want '[ -z "$probs" ]' "after the DELETE: $probs"
end_case "an INSERT, an UPDATE and a DELETE whose write landed but whose answer was lost: each retry recognises its own write and the commit succeeds"

# ---- the server goes away ------------------------------------------------------
begin_case
rule "action=stall&count=1000&seconds=60&method=HEAD|GET&path=resource=people/data"
psql -X -q -A -t -c "SELECT id, name /* fault-kill-me */ FROM f.people" >"$WORK/kill.out" 2>&1 &
bg=$!
sleep 0.8
if [ "$STORE" = ceph ]; then KILL="$RGW_PID"; else KILL="$S3RVER_ORIG_PID $SIGV4_ORIG_PID"; fi
kill -9 $KILL 2>/dev/null
for _ in $(seq 1 50); do
  alive=
  for p in $KILL; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ -z "$alive" ] && break; sleep 0.1
done
t0=$(now_ms)
clear_rules            # the held requests now meet a dead server
wait "$bg"
dt=$(( $(now_ms) - t0 ))
out=$(cat "$WORK/kill.out"); echo "$out" >>"$TRANSCRIPT"
want 'has "$out" ERROR && has "$out" "resource=people/data"' "no clear error: $out"
want '[ "$dt" -lt 8000 ]' "the error came $dt ms after the server died"
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ "$STORE" = ceph ]; then
  # radosgw again, in its root, on the same port (the cluster kept running)
  tools/debroot.sh run "${CEPH_ROOT:-/var/cache/s3db_fdw/roots/forky-ceph}" \
    radosgw -c "$WORK/ceph/cluster/ceph.conf" -n client.rgw -f >"$WORK/rgw2.log" 2>&1 &
  echo $! > "$WORK/ceph/cluster/run/rgw2.hostpid"   # stopped with the cluster
  disown $!
  for _ in $(seq 1 300); do port_open "$SIGV4_PORT" && break; sleep 0.1; done
else
  node --openssl-legacy-provider test/s3/node_modules/s3rver/bin/s3rver.js -d "$WORK/s3/data" \
    -a 127.0.0.1 -p "$S3RVER_PORT" --silent --configure-bucket s3db-test >"$WORK/s3rver2.log" 2>&1 &
  RESTARTED="$RESTARTED $!"
  /usr/bin/python3 test/s3/sigv4_proxy.py --listen "$SIGV4_PORT" --upstream "$S3RVER_PORT" \
    --failure-log "$S3DB_TEST_S3_FAILURE_LOG" >"$WORK/sigv4-proxy2.log" 2>&1 &
  RESTARTED="$RESTARTED $!"
  for _ in $(seq 1 100); do
    port_open "$S3RVER_PORT" && port_open "$SIGV4_PORT" && break
    sleep 0.1
  done
fi
sq -c "$Q_FIXTURE"; out=$OUT
want '[ "$out" = "$PEOPLE" ]' "after the restart: $out"
want '! grep -q "terminated by signal" "$PGLOG"' "a backend crashed: $(grep "terminated by signal" "$PGLOG")"
end_case "$STORE killed mid-scan: a clear error in ${dt} ms, no crash; the next statement works after the restart"

begin_case
ctl "down?on=1" >/dev/null
sq -c "$Q_FIXTURE"; out=$OUT
want 'has "$out" ERROR' "no error: $out"
want 'no_secret "$out"' "a credential in the error: $out"
ctl "down?on=0" >/dev/null
sq -c "$Q_FIXTURE"; out2=$OUT
want '[ "$out2" = "$PEOPLE" ]' "after the store came back: $out2"
end_case "a store that resets every connection: a clear error in ${ELAPSED} ms; the next statement works"

# ---- credentials -----------------------------------------------------------------
begin_case
out=$(sql -c "EXPLAIN (VERBOSE, ANALYZE) $Q_PEOPLE" -c "EXPLAIN (VERBOSE, FORMAT JSON) SELECT * FROM f.people WHERE id = 'bob'" \
          -c "EXPLAIN (VERBOSE) UPDATE f.people SET age = 1 WHERE id = 'bob'")
want 'has "$out" "S3"' "EXPLAIN shows no S3 details: $out"
want 'no_secret "$out"' "a credential in EXPLAIN: $out"
sq -c "SELECT * FROM f.vault"; out=$OUT
want 'has "$out" ERROR' "a wrong passphrase decrypted the vault: $out"
want 'no_secret "$out"' "a credential in the decryption error: $out"
end_case "EXPLAIN (VERBOSE, ANALYZE) and a failed decryption show no credential"

begin_case
leaks=$(grep -n -e "$PASSPHRASE" -e "$TOKEN" -e "$SECRET_KEY" "$PGLOG" "$TRANSCRIPT" | head -5)
want '[ -z "$leaks" ]' "credentials leaked: $leaks"
want '[ -s "$PGLOG" ] && grep -q "ERROR" "$PGLOG"' "the server log holds no error: nothing was checked"
crash=$(grep -n -e "terminated by signal" -e "PANIC" -e "server process .* was terminated" "$PGLOG" | head -3)
want '[ -z "$crash" ]' "$crash"
end_case "no credential in the server log or in any message; no backend crashed"

begin_case
want '! [ -s "$S3DB_TEST_S3_FAILURE_LOG" ]' "badly signed requests: $(head -3 "$S3DB_TEST_S3_FAILURE_LOG")"
end_case "every request that reached the store, retries included, was correctly signed"

echo "1..$n"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
