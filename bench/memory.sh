#!/usr/bin/env bash
# Backend memory from 10,000 to 100,000 records: does it stay flat?
#
#   bench/memory.sh [SMALL [LARGE]]     record counts (default 10000 100000)
#
# On a file:// store (and on the S3 server with BENCH_BACKENDS=file,s3),
# each step runs in a fresh backend and reports that backend's peak resident
# memory (VmHWM from /proc) next to the peak of an idle backend that only
# opened the same foreign table:
#   insert   one transaction inserting the records (pending writes spill to a
#            temporary file beyond work_mem)
#   update   one UPDATE of a column of every record (what its scan read
#            spills too)
#   scan     SELECT of every column of every record, decoded and discarded
#   cached   the same scan twice in one backend with a 64 MB object cache
#            (cache_size): the cache may fill up to its limit, no further
# at SMALL records and again at LARGE records (the store grown by LARGE -
# SMALL in the same way), and the growth between the two.  The brief asks
# for less than 20 MB of growth.  A benchmark, not a test: it never fails
# because of a number.  Run as root after test/run-all.sh installed what it
# needs; KEEP_WORK=1 keeps the scratch directory.
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh

SMALL=${1:-10000}
LARGE=${2:-100000}
BACKENDS=${BENCH_BACKENDS:-file}
[ "$LARGE" -gt "$SMALL" ] || { echo "memory.sh: LARGE must exceed SMALL" >&2; exit 2; }

WORK=$(mktemp -d /tmp/s3db_fdw_mem.XXXXXX)
make_work "$WORK"
cleanup() {
  pg_stop "$WORK/pg"
  [ -f "$WORK/s3/env" ] && test/s3/stop.sh "$WORK/s3" >/dev/null 2>&1
  [ "${KEEP_WORK:-0}" = 1 ] && echo "work directory kept: $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

pg_start "$WORK/pg" "shared_buffers = 128MB" "work_mem = 4MB" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION s3db_fdw"

gen() {  # gen FROM TO: the bench records (bench/run.sh) numbered FROM..TO
  echo "SELECT 'u' || lpad(i::text, 7, '0'),
       'Benchmark Person ' || i || ' of the load test, account holder',
       'person' || i || '@bench.example.com', 18 + i % 60, (i % 1000) / 10.0 + 0.25, i % 3 <> 0,
       ARRAY['tag' || i % 7, 'group' || i % 5, 'segment' || i % 11, 'benchmark-record'],
       (ARRAY['Berlin','Lisbon','Paris','Rome','Madrid','Vienna','Prague','Oslo','Dublin','Athens'])[i % 10 + 1],
       timestamptz '2024-01-01 00:00:00+00' + i * interval '1 minute'
  FROM generate_series($1, $2) i"
}

# peak SQL: run SQL in a fresh backend, print its peak resident set in kB
peak() {
  local sql=$1 out
  out=$(psql -X -q -A -t -v ON_ERROR_STOP=1 <<SQL
SELECT pg_backend_pid() AS pid \\gset
$sql;
SELECT (regexp_match(pg_read_file('/proc/' || :pid || '/status'), 'VmHWM:\s+(\d+)'))[1];
SQL
)
  echo "$out" | tail -1
}

COLS='(id text, name text, email text, age bigint, score float8, active bool, tags text[], city text, "createdAt" timestamptz)'
SCAN="SELECT count(*), sum(length(name) + length(email) + age + array_length(tags, 1)), max(\"createdAt\") FROM"

declare -A R
for B in ${BACKENDS//,/ }; do
  if [ "$B" = file ]; then
    make_work "$WORK/store"
    URL="file://$WORK/store"
    MAP=""
  else
    test/s3/start.sh "$WORK/s3" >/dev/null
    . "$WORK/s3/env"
    URL="${S3DB_TEST_S3_URL%/}/mem"
    MAP="OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER')"
  fi
  psql -X -q -v ON_ERROR_STOP=1 <<SQL
CREATE SERVER m_$B FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string '$URL');
CREATE SERVER mc_$B FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string '$URL', cache_size '64');
CREATE USER MAPPING FOR CURRENT_USER SERVER m_$B $MAP;
CREATE USER MAPPING FOR CURRENT_USER SERVER mc_$B $MAP;
CREATE FOREIGN TABLE people_$B $COLS SERVER m_$B OPTIONS (resource 'people');
CREATE FOREIGN TABLE cached_$B $COLS SERVER mc_$B OPTIONS (resource 'people');
SELECT s3db_create_resource('people_$B', 'body-overflow', '{"byCity": {"fields": {"city": "string"}}}');
SQL
  R[$B,idle]=$(peak "SELECT count(*) FROM people_$B WHERE id = 'none'")
  from=1
  for n in "$SMALL" "$LARGE"; do
    log "$B: insert up to $n records"
    R[$B,insert,$n]=$(peak "BEGIN; INSERT INTO people_$B $(gen "$from" "$n"); COMMIT;")
    log "$B: update of $n records"
    R[$B,update,$n]=$(peak "UPDATE people_$B SET score = score + 1")
    log "$B: scans of $n records"
    R[$B,scan,$n]=$(peak "$SCAN people_$B")
    R[$B,cached,$n]=$(peak "$SCAN cached_$B; $SCAN cached_$B")
    from=$((n + 1))
  done
done

echo
echo "Backend peak resident memory (VmHWM), $SMALL and $LARGE records, $(date -u +%F), $(nproc) cores"
echo
echo "| backend | step | idle backend | at $SMALL | at $LARGE | growth |"
echo "|---|---|---|---|---|---|"
for B in ${BACKENDS//,/ }; do
  for s in insert update scan cached; do
    a=${R[$B,$s,$SMALL]} b=${R[$B,$s,$LARGE]}
    awk -v b="$B" -v s="$s" -v i="${R[$B,idle]}" -v x="$a" -v y="$b" 'BEGIN {
      printf "| %s | %s | %.1f MB | %.1f MB | %.1f MB | %+.1f MB |\n", b, s, i / 1024, x / 1024, y / 1024, (y - x) / 1024 }'
  done
done
