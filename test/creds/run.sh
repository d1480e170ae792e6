#!/usr/bin/env bash
# AWS credentials of the database server, end to end.
#
#   test/creds/run.sh          (as root; the extension must be installed)
#
# Starts the S3 test server (test/s3/start.sh) with its proxy accepting the
# temporary keys that test/creds/standin.py (IMDS, ECS and STS on one
# loopback port) issues, and a scratch cluster whose s3db_fdw.imds_endpoint
# and s3db_fdw.sts_endpoint point at the stand-in and whose environment
# has no AWS variables.  An application role (no superuser) then checks:
# a mapping without keys fails clearly; only a superuser grants
# use_server_identity and moves endpoints; with the grant the instance
# role reads the store; a scan outlives the keys it started with and a
# commit follows keys that died before it; a refused role is a clear error
# without a credential; a role on top is assumed; a profile's
# credential_process signs; the background worker leads with the server's
# identity; restarted with keys in its environment, the server uses them
# first.  Results are compared with
# a heap copy of the table.  Ends with "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
TOP=$PWD
. test/lib.sh

WORK=$(mktemp -d /tmp/s3db_creds.XXXXXX)
make_work "$WORK"
STANDIN_PID=
cleanup() {
  [ -n "$STANDIN_PID" ] && kill "$STANDIN_PID" 2>/dev/null
  pg_stop "$WORK/pg"
  test/s3/stop.sh "$WORK/s3" >/dev/null 2>&1 || true
  [ -n "$STANDIN_PID" ] && wait "$STANDIN_PID" 2>/dev/null
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@" 2>&1; }
app() { psql -X -q -A -t -U s3db_app "$@" 2>&1; }

# ---- servers ------------------------------------------------------------------
KEYS=$WORK/tempkeys
: >"$KEYS"
S3DB_TEST_S3_KEYS_FILE=$KEYS test/s3/start.sh "$WORK/s3" >/dev/null || die "could not start the S3 test server"
. "$WORK/s3/env"
S3BASE=${S3DB_TEST_S3_URL%/}
STORE_URL="http://${S3BASE#*@}/creds/store"    # the proxy, without its keys
node test/fixtures/upload.mjs test/fixtures/store "$S3BASE/creds/store" >"$WORK/upload.log" 2>&1 \
  || die "could not upload the fixture store: $(cat "$WORK/upload.log")"

ROLE=arn:aws:iam::123456789012:role/reader
FORBIDDEN=arn:aws:iam::123456789012:role/forbidden
/usr/bin/python3 test/creds/standin.py --keys-file "$KEYS" --port-file "$WORK/standin.port" \
  --refuse-role "$FORBIDDEN" >"$WORK/standin.log" 2>&1 &
STANDIN_PID=$!
for _ in $(seq 1 50); do [ -s "$WORK/standin.port" ] && break; sleep 0.1; done
[ -s "$WORK/standin.port" ] || die "the credential stand-in did not start: $(cat "$WORK/standin.log")"
STANDIN=http://127.0.0.1:$(cat "$WORK/standin.port")
standin_config() { curl -s -X POST --data "$1" "$STANDIN/__config" >/dev/null; }
stat_of() { curl -s "$STANDIN/__stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

# the server's environment: no AWS identity but the (stand-in) instance
for v in $(env | sed -n 's/^\(AWS_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
export AWS_SHARED_CREDENTIALS_FILE=$WORK/no-credentials AWS_CONFIG_FILE=$WORK/aws-config
pg_start "$WORK/pg" "s3db_fdw.imds_endpoint = '$STANDIN'" "s3db_fdw.sts_endpoint = '$STANDIN'" \
  "shared_preload_libraries = 's3db_fdw'" "s3db_fdw.coordinator_server = 'coordsrv'" \
  "s3db_fdw.heartbeat_ms = 500" >/dev/null \
  || die "could not start PostgreSQL"

out=$(sql <<SQL
CREATE EXTENSION s3db_fdw;
CREATE ROLE s3db_app LOGIN;
CREATE SERVER s3srv FOREIGN DATA WRAPPER s3db_fdw
  OPTIONS (connection_string '$STORE_URL', max_inflight '1', max_retries '0');
GRANT USAGE ON FOREIGN SERVER s3srv TO s3db_app;
CREATE USER MAPPING FOR postgres SERVER s3srv OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');
CREATE FOREIGN TABLE people (id text, name text, age bigint) SERVER s3srv OPTIONS (resource 'people');
GRANT SELECT, INSERT ON people TO s3db_app;
CREATE TABLE people_heap AS SELECT * FROM people;
GRANT SELECT, INSERT ON people_heap TO s3db_app;
SQL
)
[ -z "$out" ] || die "setup failed: $out"
echo "TAP version 13"

# rows of the foreign table against its heap copy: empty when equal
DIFF="SELECT count(*) FROM ((TABLE people EXCEPT ALL TABLE people_heap) UNION ALL
                           (TABLE people_heap EXCEPT ALL TABLE people)) d"
secrets_in() {  # secrets_in TEXT: any issued secret or token in TEXT?
  python3 - "$KEYS" "$1" <<'PY'
import json, sys
text = sys.argv[2]
for line in open(sys.argv[1]):
    k = json.loads(line)
    if k["secret"] in text or k["token"] in text:
        print("yes"); break
PY
}

# ---- no keys, no grant ------------------------------------------------------
out=$(app -v VERBOSITY=verbose -c "CREATE USER MAPPING FOR s3db_app SERVER s3srv" -c "SELECT count(*) FROM people")
PROBLEMS=()
has "$out" 'user mapping for server "s3srv" has no AWS credentials' || PROBLEMS+=("$out")
has "$out" "2F003" || PROBLEMS+=("SQLSTATE is not 2F003: $out")
has "$out" "use_server_identity" || PROBLEMS+=("the hint does not name use_server_identity: $out")
check "a mapping without keys fails clearly instead of using the server's identity" "${PROBLEMS[@]+"${PROBLEMS[@]}"}"

out=$(app -c "ALTER USER MAPPING FOR s3db_app SERVER s3srv OPTIONS (ADD use_server_identity 'true')")
PROBLEMS=()
has "$out" 'permission denied to set option "use_server_identity"' || PROBLEMS+=("$out")
check "a plain role cannot grant itself the server's identity" "${PROBLEMS[@]+"${PROBLEMS[@]}"}"

out=$(app -c "ALTER USER MAPPING FOR s3db_app SERVER s3srv OPTIONS (ADD profile 'default')")
PROBLEMS=()
has "$out" 'permission denied to set option "profile"' || PROBLEMS+=("$out")
check "a plain role cannot pick a profile of the server's AWS files" "${PROBLEMS[@]+"${PROBLEMS[@]}"}"

out=$(app -c "SELECT count(*) FROM people" -c "SET s3db_fdw.imds_endpoint = 'http://127.0.0.1:1'" \
          -c "SET s3db_fdw.sts_endpoint = 'http://127.0.0.1:1'")
PROBLEMS=()
[ "$(grep -c 'permission denied to set parameter' <<<"$out")" = 2 ] || PROBLEMS+=("$out")
check "a plain role cannot move the IMDS or STS endpoint" "${PROBLEMS[@]+"${PROBLEMS[@]}"}"

# ---- the grant ------------------------------------------------------------------
sql -c "ALTER USER MAPPING FOR s3db_app SERVER s3srv OPTIONS (ADD use_server_identity 'true')" >/dev/null
imds0=$(stat_of imds)
out=$(app -c "$DIFF" -c "SELECT count(*) FROM people")
PROBLEMS=()
[ "$out" = "$(printf '0\n4')" ] || PROBLEMS+=("rows differ from the heap copy: $out")
[ "$(stat_of imds)" -gt "$imds0" ] || PROBLEMS+=("instance metadata was not asked")
check "with use_server_identity granted by a superuser, the instance role reads the store" "${PROBLEMS[@]+"${PROBLEMS[@]}"}"

out=$(app -c "ALTER USER MAPPING FOR s3db_app SERVER s3srv OPTIONS (ADD role_arn '$ROLE')")
PROBLEMS=()
has "$out" "permission denied" || PROBLEMS+=("$out")
check "the granted mapping cannot be altered by its plain role" "${PROBLEMS[@]+"${PROBLEMS[@]}"}"

# ---- expiry in the middle of a scan -----------------------------------------------
# Keys now say they expire 302 s after issue (refresh due after 2 s) and die
# at the proxy after 5 s.  The statement rescans the table 40 times with a
# pause per row, about 8 s in all.
standin_config '{"lifetime": 302, "valid": 5}'
sleep 1
t0=$(date +%s.%N)
out=$(app -c "SELECT sum(c) FROM generate_series(1, 40) g,
                LATERAL (SELECT count(*) AS c FROM people WHERE g.g > 0 AND pg_sleep(0.05) IS NOT NULL) x" \
          -c "SELECT 40 * count(*) FROM people_heap")
t1=$(date +%s.%N)
keys_used=$(awk -v a="$t0" -v b="$t1" '$1 >= a && $1 <= b {print $2}' "$KEYS.used" | sort -u | wc -l)
PROBLEMS=()
set -- $out
[ "$#" = 2 ] && [ "$1" = "$2" ] || PROBLEMS+=("scan result: $out")
[ "$keys_used" -ge 2 ] || PROBLEMS+=("the statement used $keys_used key(s); it took $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s")
[ -s "$WORK/s3/signature-failures.log" ] && PROBLEMS+=("requests refused: $(head -3 "$WORK/s3/signature-failures.log")")
check "a scan longer than its keys live refreshes them on the way ($keys_used keys)" "${PROBLEMS[@]+"${PROBLEMS[@]}"}"

# ---- expiry before a commit ----------------------------------------------------------
out=$(app -c "BEGIN" -c "INSERT INTO people (id, name, age) VALUES ('zoe', 'Zoe', 41)" \
          -c "INSERT INTO people_heap (id, name, age) VALUES ('zoe', 'Zoe', 41)" \
          -c "SELECT pg_sleep(6)" -c "COMMIT" -c "$DIFF")
PROBLEMS=()
[ "$(tail -n 1 <<<"$out")" = 0 ] || PROBLEMS+=("after the commit: $out")
[ -s "$WORK/s3/signature-failures.log" ] && PROBLEMS+=("requests refused: $(head -3 "$WORK/s3/signature-failures.log")")
check "a commit after the keys of its statements died signs with fresh ones" "${PROBLEMS[@]+"${PROBLEMS[@]}"}"
standin_config '{"lifetime": 3600, "valid": 0}'

# ---- roles on top -----------------------------------------------------------------
sql -c "ALTER USER MAPPING FOR s3db_app SERVER s3srv OPTIONS (ADD role_arn '$FORBIDDEN', ADD role_session_name 'app-session')" >/dev/null
out=$(app -v VERBOSITY=verbose -c "SELECT count(*) FROM people")
PROBLEMS=()
has "$out" "ERROR" || PROBLEMS+=("no error: $out")
has "$out" "AccessDenied" || PROBLEMS+=("the error does not say AccessDenied: $out")
has "$out" "$FORBIDDEN" || PROBLEMS+=("the error does not name the role: $out")
[ -z "$(secrets_in "$out")" ] || PROBLEMS+=("a credential in the error: $out")
check "a role STS refuses is a clear error without a credential" "${PROBLEMS[@]+"${PROBLEMS[@]}"}"
printf '%s\n' "$out" | sed -n 's/^/#   /; /ERROR/p' | head -1

sts0=$(stat_of sts)
sql -c "ALTER USER MAPPING FOR s3db_app SERVER s3srv OPTIONS (SET role_arn '$ROLE')" >/dev/null
out=$(app -c "$DIFF")
PROBLEMS=()
[ "$out" = 0 ] || PROBLEMS+=("rows differ from the heap copy: $out")
[ "$(stat_of sts)" -gt "$sts0" ] || PROBLEMS+=("STS AssumeRole was not called")
check "role_arn is assumed on top of the instance role" "${PROBLEMS[@]+"${PROBLEMS[@]}"}"

# ---- a profile's credential_process, run by the backend --------------------------
printf '%s\n' "printf '%s' '{\"Version\": 1, \"AccessKeyId\": \"S3RVER\", \"SecretAccessKey\": \"S3RVER\"}'" \
  >"$WORK/proc.sh"
printf '[profile proc]\ncredential_process = sh %s\n' "$WORK/proc.sh" >"$WORK/aws-config"
chmod 0644 "$WORK/proc.sh" "$WORK/aws-config"
imds0=$(stat_of imds); sts0=$(stat_of sts)
sql -c "ALTER USER MAPPING FOR s3db_app SERVER s3srv OPTIONS (DROP role_arn, DROP role_session_name, ADD profile 'proc')" >/dev/null
out=$(app -c "$DIFF")
PROBLEMS=()
[ "$out" = 0 ] || PROBLEMS+=("rows differ from the heap copy: $out")
[ "$(stat_of imds)" = "$imds0" ] && [ "$(stat_of sts)" = "$sts0" ] || PROBLEMS+=("the stand-in was asked")
check "a profile named by a superuser: its credential_process signs" "${PROBLEMS[@]+"${PROBLEMS[@]}"}"
sql -c "ALTER USER MAPPING FOR s3db_app SERVER s3srv OPTIONS (DROP profile)" >/dev/null

# ---- the background worker ------------------------------------------------------
# The coordinator's store is reached with the owner's mapping, which has no
# keys but the grant: the worker signs with instance credentials, and keeps
# leading while they are replaced every few seconds.
standin_config '{"lifetime": 302, "valid": 5}'
imds0=$(stat_of imds)
out=$(sql -c "CREATE SERVER coordsrv FOREIGN DATA WRAPPER s3db_fdw
                OPTIONS (connection_string '${STORE_URL%/store}/coord', max_retries '0')" \
          -c "CREATE USER MAPPING FOR postgres SERVER coordsrv OPTIONS (use_server_identity 'true')")
PROBLEMS=()
[ -z "$out" ] || PROBLEMS+=("setup: $out")
led=
for _ in $(seq 1 60); do
  [ "$(sql -c "SELECT is_leader FROM s3db_coordinator()")" = t ] && { led=1; break; }
  sleep 0.5
done
[ -n "$led" ] || PROBLEMS+=("the worker did not lead: $(sql -c "SELECT last_error FROM s3db_coordinator()")")
renewals0=$(sql -c "SELECT renewals FROM s3db_coordinator_metrics()")
t0=$(date +%s.%N)
sleep 9
t1=$(date +%s.%N)
state=$(sql -c "SELECT is_leader, last_error IS NULL, breaker_state FROM s3db_coordinator()")
renewals1=$(sql -c "SELECT renewals FROM s3db_coordinator_metrics()")
keys_used=$(awk -v a="$t0" -v b="$t1" '$1 >= a && $1 <= b {print $2}' "$KEYS.used" | sort -u | wc -l)
[ "$state" = "t|t|closed" ] || PROBLEMS+=("coordinator after 9 s: $state")
[ "${renewals1:-0}" -gt "${renewals0:-0}" ] || PROBLEMS+=("no lease renewal in 9 s ($renewals0, $renewals1)")
[ "$keys_used" -ge 2 ] || PROBLEMS+=("the worker used $keys_used key(s) in 9 s")
[ "$(stat_of imds)" -gt "$imds0" ] || PROBLEMS+=("instance metadata was not asked")
[ -s "$WORK/s3/signature-failures.log" ] && PROBLEMS+=("requests refused: $(head -3 "$WORK/s3/signature-failures.log")")
check "the background worker leads with the server's identity and refreshes it ($keys_used keys in 9 s)" "${PROBLEMS[@]+"${PROBLEMS[@]}"}"
sql -c "ALTER SYSTEM SET s3db_fdw.coordinator_server = ''" -c "SELECT pg_reload_conf()" >/dev/null
standin_config '{"lifetime": 3600, "valid": 0}'

# ---- the environment wins ---------------------------------------------------------
as_pg "$PGBIN/pg_ctl" -D "$WORK/pg/data" -m fast -w stop >/dev/null
as_pg env AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER "$PGBIN/pg_ctl" -D "$WORK/pg/data" \
  -l "$WORK/pg/server.log" -w start >/dev/null || die "could not restart PostgreSQL"
# counted after the restart: the worker stopped with the old server
imds0=$(stat_of imds)
out=$(app -c "$DIFF")
PROBLEMS=()
[ "$out" = 0 ] || PROBLEMS+=("rows differ from the heap copy: $out")
[ "$(stat_of imds)" = "$imds0" ] || PROBLEMS+=("instance metadata was asked although the environment has keys")
check "keys in the server's environment come before instance metadata" "${PROBLEMS[@]+"${PROBLEMS[@]}"}"

PROBLEMS=()
[ -z "$(secrets_in "$(cat "$WORK/pg/server.log")")" ] || PROBLEMS+=("a temporary credential in the server log")
[ -s "$WORK/s3/signature-failures.log" ] && PROBLEMS+=("requests refused: $(head -3 "$WORK/s3/signature-failures.log")")
check "no credential reached the server log, no request was refused" "${PROBLEMS[@]+"${PROBLEMS[@]}"}"

echo "1..$n"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
