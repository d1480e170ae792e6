#!/usr/bin/env bash
# The same workloads through SQL (s3db_fdw) and through s3db.js 21.6.2, on a
# file:// store and on an S3 server, printed side by side as one table.
#
#   bench/run.sh [N]          N records (default 10000; 2000 is the quick mode)
#
# Environment:
#   BENCH_BACKENDS=file,s3    which stores to run on (default both)
#   BENCH_JS_BUDGET=15        seconds each s3db.js update/patch/replace workload
#                             may run before it stops and is extrapolated to
#                             1,000 calls (s3db.js lists every partition key on
#                             each update, so 1,000 calls take far too long)
#   BENCH_SKIP_BUILD=1        do not run make && make install first
#   KEEP_WORK=1               keep the scratch directory
#
# Starts its own scratch PostgreSQL cluster and S3 server (s3rver, reached
# directly, without the test suite's signature-checking proxy, and counting
# requests by kind) in a temporary directory and stops both on exit.  Each
# side loads its own store (s3db.js: insertMany; SQL: INSERT ... SELECT from
# generate_series in one transaction, and COPY into a second resource), so
# neither side reads what the other wrote.  A benchmark, not a test: it is
# not part of test/run-all.sh and its numbers never fail anything.
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
. test/lib.sh

N=${1:-10000}
BACKENDS=${BENCH_BACKENDS:-file,s3}
export BENCH_JS_BUDGET=${BENCH_JS_BUDGET:-15}
[ "$N" -ge 1000 ] || { echo "run.sh: N must be at least 1000" >&2; exit 2; }

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  make -s -j2 >/dev/null && make -s install >/dev/null
fi
test/interop/setup.sh >/dev/null

WORK=$(mktemp -d /tmp/s3db_fdw_bench.XXXXXX)
make_work "$WORK"
S3PID=
cleanup() {
  pg_stop "$WORK/pg"
  if [ -n "$S3PID" ]; then kill "$S3PID" 2>/dev/null || true; wait "$S3PID" 2>/dev/null || true; fi
  [ "${KEEP_WORK:-0}" = 1 ] && echo "work directory kept: $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# preloaded like a production setup would, with the background worker off so
# that nothing but the workloads talks to the stores
pg_start "$WORK/pg" "shared_buffers = 128MB" "shared_preload_libraries = 's3db_fdw'" \
  "s3db_fdw.worker_enabled = off" >/dev/null
node bench/js.mjs ids "$N" > "$WORK/ids.json"
idlist() { node -e 'const j = require(process.argv[1]); console.log("{" + j[process.argv[2]].join(",") + "}")' "$WORK/ids.json" "$1"; }
IDS_GETS=$(idlist gets) IDS_UPDATE=$(idlist update) IDS_PATCH=$(idlist patch) IDS_REPLACE=$(idlist replace)

# the records, field by field as bench/js.mjs record(i) makes them
GEN_SELECT="SELECT 'u' || lpad(i::text, 7, '0'),
       'Benchmark Person ' || i || ' ' || (ARRAY['Silva','Müller','Dupont','Rossi','García','Novak','Hansen','Murphy'])[i % 8 + 1] || ' of the load test, account holder',
       'person' || i || '@bench.example.com',
       18 + i % 60,
       (i % 1000) / 10.0 + 0.25,
       i % 3 <> 0,
       ARRAY['tag' || i % 7, 'group' || i % 5, 'segment' || i % 11, 'benchmark-record'],
       (ARRAY['Berlin','Lisbon','Paris','Rome','Madrid','Vienna','Prague','Oslo','Dublin','Athens'])[i % 10 + 1],
       timestamptz '2024-01-01 00:00:00+00' + i * interval '1 minute'
FROM generate_series(1, $N) i"
COLS='id, name, email, age, score, active, tags, city, "createdAt"'
psql -X -q -v ON_ERROR_STOP=1 -c "\\copy ($GEN_SELECT) TO '$WORK/people.csv' WITH (FORMAT csv)"
chmod a+r "$WORK/people.csv"

# the S3 server
mkdir -p "$WORK/s3"
node --openssl-legacy-provider bench/s3server.mjs "$WORK/s3/data" "$WORK/s3/port" >"$WORK/s3/log" 2>&1 &
S3PID=$!
for _ in $(seq 1 100); do [ -s "$WORK/s3/port" ] && break; sleep 0.1; done
[ -s "$WORK/s3/port" ] || { cat "$WORK/s3/log"; exit 1; }
S3PORT=$(cat "$WORK/s3/port")
S3BASE="http://S3RVER:S3RVER@127.0.0.1:$S3PORT/s3db-test"
COUNTS_URL="http://127.0.0.1:$S3PORT/__bench/counts"

counts() { if [ "$BACKEND" = s3 ]; then curl -s "$COUNTS_URL"; else echo null; fi; }

# sql_run NAME ROWMODE [EXPLAIN_SQL] < script
#   times the script's statements (sum of psql \timing), counts rows
#   (ROWMODE: lines = result lines, value = the single value, tag = command
#   tag) and requests (S3 server counters; on file:// the EXPLAIN ANALYZE
#   request lines of EXPLAIN_SQL, run separately and untimed)
sql_run() {
  local name=$1 mode=$2 explain=${3:-} c0 c1 out="$WORK/sql.out" t rows req
  cat > "$WORK/sql.script"
  c0=$(counts)
  { printf '\\timing on\n\\pset tuples_only on\n\\pset format unaligned\n\\o %s\n' "$out"
    cat "$WORK/sql.script"; } |
    psql -X -v ON_ERROR_STOP=1 -d "$DB" -v gets="$IDS_GETS" -v upd="$IDS_UPDATE" \
      -v pat="$IDS_PATCH" -v rep="$IDS_REPLACE" -f - > "$WORK/sql.timing"
  c1=$(counts)
  t=$(awk '/^Time: /{s += $2} END {printf "%.6f", s / 1000}' "$WORK/sql.timing")
  case $mode in
    lines) rows=$(grep -cvE '^(BEGIN|COMMIT|PREPARE|COPY [0-9]+)$' "$out" || true) ;;
    value) rows=$(grep -E '^[0-9]+$' "$out" | head -1) ;;
    tag)   rows=$(grep -oE '^(INSERT 0|UPDATE|COPY) [0-9]+' "$out" | awk '{print $NF}' | head -1) ;;
  esac
  req=null
  if [ "$BACKEND" = file ] && [ -n "$explain" ]; then
    req=$(printf '%s\n' "$explain" |
      psql -X -At -v ON_ERROR_STOP=1 -d "$DB" -v gets="$IDS_GETS" -f - |
      sed -n 's/^ *S3 \([A-Z]*\) Requests: \([0-9]*\)$/\1 \2/p' |
      awk '{s[$1] += $2} END {printf "{"; sep=""; for (k in s) if (s[k]) {printf "%s\"%s\":%d", sep, k, s[k]; sep=","}; printf "}"}')
  fi
  node -e '
    const [name, t, rows, c0, c1, req] = process.argv.slice(1);
    let r = JSON.parse(req);
    const a = JSON.parse(c0), b = JSON.parse(c1);
    if (a && b) { r = {}; for (const k of Object.keys(b)) if (b[k] - a[k]) r[k] = b[k] - a[k]; }
    console.log(JSON.stringify({ workload: name, seconds: Number(t), rows: Number(rows), requests: r }));
  ' "$name" "$t" "${rows:-0}" "$c0" "$c1" "$req" >> "$WORK/$BACKEND-sql.jsonl"
  log "  sql $name: ${t}s, ${rows:-0} rows"
}

sql_workloads() {
  sql_run 'bulk insert' tag <<SQL
BEGIN;
INSERT INTO people ($COLS) $GEN_SELECT;
COMMIT;
SQL
  sql_run 'bulk insert (COPY)' tag <<SQL
BEGIN;
\\copy people_copy ($COLS) FROM '$WORK/people.csv' WITH (FORMAT csv)
COMMIT;
SQL
  sql_run 'full scan count' value 'EXPLAIN ANALYZE SELECT count(*) FROM people;' <<'SQL'
SELECT count(*) FROM people;
SQL
  sql_run 'full scan rows' lines 'EXPLAIN ANALYZE SELECT * FROM people;' <<'SQL'
SELECT * FROM people;
SQL
  sql_run 'partition query' lines "EXPLAIN ANALYZE SELECT * FROM people WHERE city = 'Berlin';" <<'SQL'
SELECT * FROM people WHERE city = 'Berlin';
SQL
  sql_run 'gets by id' lines "PREPARE g(text[]) AS SELECT * FROM people WHERE id = ANY(\$1);
EXPLAIN ANALYZE EXECUTE g(:'gets');" <<'SQL'
PREPARE g(text[]) AS SELECT * FROM people WHERE id = ANY($1);
EXECUTE g(:'gets');
SQL
  sql_run 'update by id' tag <<'SQL'
BEGIN;
UPDATE people SET score = 1.5 WHERE id = ANY(:'upd'::text[]);
COMMIT;
SQL
  sql_run 'patch by id' tag <<'SQL'
BEGIN;
UPDATE people SET score = 2.5 WHERE id = ANY(:'pat'::text[]);
COMMIT;
SQL
  sql_run 'replace by id' tag <<'SQL'
BEGIN;
UPDATE people SET name = 'Replaced Person', email = 'replaced@bench.example.com', age = 99,
  score = 1.5, active = false, tags = '{replaced}', city = 'Lisbon',
  "createdAt" = '2025-06-01T00:00:00Z'
WHERE id = ANY(:'rep'::text[]);
COMMIT;
SQL
  sql_run 'full scan rows again' lines 'EXPLAIN ANALYZE SELECT * FROM people;' <<'SQL'
SELECT * FROM people;
SQL
}

IFS=, read -ra backend_list <<< "$BACKENDS"
urls() {
  case $BACKEND in
    file) JS_URL="file://$WORK/file-js"; SQL_URL="file://$WORK/file-sql" ;;
    s3)   JS_URL="$S3BASE/bench-js"; SQL_URL="$S3BASE/bench-sql" ;;
    *) echo "run.sh: unknown backend $BACKEND (file, s3)" >&2; exit 2 ;;
  esac
}
# every store, database and extension first: the extension's SQL script and
# library are taken at one moment, not between workloads
for BACKEND in "${backend_list[@]}"; do
  urls
  if [ "$BACKEND" = file ]; then make_work "$WORK/file-js"; make_work "$WORK/file-sql"; fi
  NODE_NO_WARNINGS=1 node bench/js.mjs create "$SQL_URL"
  [ "$BACKEND" = file ] && chmod -R a+rwX "$WORK/file-sql"
  psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE bench_$BACKEND"
  psql -X -q -v ON_ERROR_STOP=1 -d "bench_$BACKEND" -v url="$SQL_URL" <<'SQL'
CREATE EXTENSION s3db_fdw;
CREATE SERVER bench FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR CURRENT_USER SERVER bench
  OPTIONS (connection_string :'url', passphrase 'bench-pass');
IMPORT FOREIGN SCHEMA s3db FROM SERVER bench INTO public;
SQL
done

for BACKEND in "${backend_list[@]}"; do
  urls
  DB=bench_$BACKEND
  log "$BACKEND: s3db.js"
  if [ "$BACKEND" = s3 ]; then export BENCH_COUNTS_URL=$COUNTS_URL; else unset BENCH_COUNTS_URL; fi
  NODE_NO_WARNINGS=1 node bench/js.mjs run "$JS_URL" "$N" "$WORK/ids.json" > "$WORK/$BACKEND-js.jsonl"
  log "$BACKEND: SQL"
  sql_workloads
  if [ "$BACKEND" = s3 ]; then
    log "s3: raw request rate"
    node bench/raw.mjs "http://127.0.0.1:$S3PORT/s3db-test" "bench-sql/resource=people/data/" > "$WORK/raw.json"
  fi
done

log "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
node bench/report.mjs "$WORK" "$N" "$BACKENDS"
