#!/usr/bin/env bash
# Incremental ids shared by s3db.js and PostgreSQL: s3db.js declares a
# resource with idGenerator 'incremental'; a foreign table over it has
# id_generator 'incremental'.  At the same moment one s3db.js process
# inserts 40 records one by one and two psql sessions insert 20 rows each,
# one statement per transaction, without an id (the FDW allocates it with
# s3db.js's sequence lock protocol).  Afterwards SQL and s3db.js must both
# list exactly 80 records with the distinct ids 1..80, each writer's records
# under the ids it was handed, the counter at 81 and no lock left behind.
# Inserts that failed because the lock stayed busy for 5 s, or (file://
# only) because s3db.js's non-atomic lock let two writers draw the same id,
# are retried and reported as notes (see incremental.mjs).
#
#   test/interop/incremental.sh file|s3|ceph WORKDIR
#
# Needs a running cluster (PGHOST/PGPORT/PGUSER) with s3db_fdw installed,
# and for "s3" or "ceph" (a label) the S3 server of S3DB_TEST_S3_URL.  Ends with "N passed,
# M failed"; exit 1 on any failure.  Drops the database it creates.
set -euo pipefail
cd "$(dirname "$0")"
label=${1:-} work=${2:-}
NJS=40 NSQL=20 LIMIT=120   # records per writer; seconds any writer may take
case "$label" in
  file) url="file://$work/incstore" ;;
  s3|ceph) url="${S3DB_TEST_S3_URL%/}/incremental-$(date +%s)-$$" ;;
  *) echo "usage: incremental.sh file|s3|ceph WORKDIR" >&2; exit 2 ;;
esac
[ -n "$work" ] || { echo "usage: incremental.sh file|s3|ceph WORKDIR" >&2; exit 2; }
mkdir -p "$work"; chmod 0777 "$work"
res="$work/inc"
rm -rf "$work/incstore" "$res"; mkdir -p "$res"
node() { command node --no-warnings "$@"; }

db=incremental_$label
PSQL=$(command -v psql)
psql() { PGOPTIONS="-c client_min_messages=warning" "$PSQL" -X -q -v ON_ERROR_STOP=1 "$@"; }
jspid=
cleanup() {
  [ -n "$jspid" ] && kill "$jspid" 2>/dev/null
  psql -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
}
trap cleanup EXIT
psql -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"

# s3db.js declares the resource, then waits for "go"; the server user
# (postgres) and s3db.js (maybe root) share the file:// store: umask 0
( set +e; umask 0; timeout "$LIMIT" node incremental.mjs run "$url" "$NJS" "$res" \
    > "$res/js.ids" 2> "$res/js.err"; echo $? > "$res/js.rc" ) &
jspid=$!
for _ in $(seq 1 600); do [ -e "$res/ready" ] || [ -e "$res/js.rc" ] && break; sleep 0.1; done
[ -e "$res/ready" ] || { echo "s3db.js did not declare the resource:"; cat "$res/js.err"; echo "0 passed, 1 failed"; exit 1; }
[ "$label" = file ] && chmod -R a+rwX "$work/incstore"

psql -d "$db" -v url="$url" <<'SQL'
CREATE EXTENSION s3db_fdw;
CREATE SERVER inc FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR CURRENT_USER SERVER inc
  OPTIONS (connection_string :'url', passphrase 'corpus-pass');
CREATE FOREIGN TABLE inc_ids (id text, who text, k bigint)
  SERVER inc OPTIONS (resource 'inc_ids', id_generator 'incremental');
SQL

# a SQL writer: NSQL INSERTs without an id, each its own transaction (one
# psql per statement, so that a failed one can be retried like the s3db.js
# writer does, see incremental.mjs)
sql_writer() {  # sql_writer NAME
  local w=$1 k attempt out err
  for k in $(seq 1 "$NSQL"); do
    for attempt in 1 2 3 4 5 6; do
      if out=$("$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$db" \
                 -c "INSERT INTO inc_ids (who, k) VALUES ('$w', $k) RETURNING id" 2> "$res/$w.last"); then
        echo "$out" >> "$res/$w.ids"; break
      fi
      err=$(grep -m1 ERROR "$res/$w.last" || head -1 "$res/$w.last")
      if [ "$attempt" -lt 6 ] && [[ $err == *"sequence lock busy"* ]]; then
        echo "lock: k=$k: $err" >> "$res/$w.retries"
      elif [ "$attempt" -lt 6 ] && [[ $err == *"already exists"* || $err == *"recondition"* ]]; then
        echo "collision: k=$k: $err" >> "$res/$w.retries"
      else
        cat "$res/$w.last" >> "$res/$w.err"; return 1
      fi
    done
  done
}
touch "$res/go"
for w in sql1 sql2; do
  : > "$res/$w.ids"
  ( set +e; timeout "$LIMIT" bash -c "$(declare -f sql_writer); PSQL='$PSQL' db='$db' res='$res' NSQL=$NSQL sql_writer $w"
    echo $? > "$res/$w.rc" ) &
done
wait
jspid=

psql -At -d "$db" -c "SELECT coalesce(json_agg(json_build_array(id, who, k)), '[]') FROM inc_ids" \
  > "$res/sql.json" 2> "$res/sql.err" || cat "$res/sql.err"
for w in js sql1 sql2; do [ -s "$res/$w.err" ] && sed "s/^/$w: /" "$res/$w.err" | head -5; done
node incremental.mjs check "$url" "$res" "$NJS" "$NSQL" "$label"
