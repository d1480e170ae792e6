#!/usr/bin/env bash
# SQL writes, s3db.js reads: the s3db.js corpus is written into store A,
# store B gets only A's s3db.json, and PostgreSQL copies every table from A
# to B in one transaction (INSERT INTO b.t SELECT * FROM a.t).  s3db.js
# 21.6.2 then reads B and must see what it reads from A, record by record
# (reverse.mjs compare), with the same partition reference objects.  Then
# some rows of B are changed through SQL (metadata, secret, body and
# content fields, a partition field), one deleted and one table truncated,
# and s3db.js must see exactly that (reverse.mjs after-sql).
#
#   test/interop/reverse.sh file|s3|ceph WORKDIR
#
# Needs a running cluster (PGHOST/PGPORT/PGUSER) with s3db_fdw installed,
# and for "s3" or "ceph" (a label) the S3 server of S3DB_TEST_S3_URL.  Prints one line per
# mismatch and ends with "N passed, M failed" (records and checks); exit 1
# on any failure.  Drops the database it creates.
set -euo pipefail
cd "$(dirname "$0")"
label=${1:-} work=${2:-}
case "$label" in
  file) urlA="file://$work/storeA" urlB="file://$work/storeB" ;;
  s3|ceph) base="${S3DB_TEST_S3_URL%/}/reverse-$(date +%s)-$$"
        urlA="$base/A" urlB="$base/B" ;;
  *) echo "usage: reverse.sh file|s3|ceph WORKDIR" >&2; exit 2 ;;
esac
[ -n "$work" ] || { echo "usage: reverse.sh file|s3|ceph WORKDIR" >&2; exit 2; }
mkdir -p "$work"; chmod 0777 "$work"
rm -rf "$work/storeA" "$work/storeB" "$work/out"
node() { command node --no-warnings "$@"; }

node corpus.mjs "$urlA" "$work/out" > "$work/corpus.log" 2>&1 || { tail -20 "$work/corpus.log"; exit 1; }
node reverse.mjs copy-catalog "$urlA" "$urlB"
[ "$label" = file ] && chmod -R a+rwX "$work/storeA" "$work/storeB"

db=reverse_$label
psql() { PGOPTIONS="-c client_min_messages=warning" command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
cleanup() { psql -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true; }
trap cleanup EXIT
psql -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
psql -d "$db" -v urlA="$urlA" -v urlB="$urlB" <<'SQL'
CREATE EXTENSION s3db_fdw;
CREATE SERVER store_a FOREIGN DATA WRAPPER s3db_fdw;
CREATE SERVER store_b FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR CURRENT_USER SERVER store_a
  OPTIONS (connection_string :'urlA', passphrase 'corpus-pass');
CREATE USER MAPPING FOR CURRENT_USER SERVER store_b
  OPTIONS (connection_string :'urlB', passphrase 'corpus-pass');
CREATE SCHEMA a;
CREATE SCHEMA b;
IMPORT FOREIGN SCHEMA s3db FROM SERVER store_a INTO a;
IMPORT FOREIGN SCHEMA s3db FROM SERVER store_b INTO b;
SQL

# binary content columns for the resources that have content
for r in $(node -e '
  const e = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  for (const [n, r] of Object.entries(e.resources)) if (r.hasContent) console.log(n);' "$work/out/expected.json"); do
  for s in a b; do
    psql -d "$db" -c "ALTER FOREIGN TABLE $s.\"$r\"
      ADD COLUMN _content bytea OPTIONS (field '\$content'),
      ADD COLUMN _content_type text OPTIONS (field '\$content_type')"
  done
done

# the copy: every table, one transaction (on failure the comparison shows
# every record missing)
psql -d "$db" > "$work/copy.log" 2>&1 <<'SQL' || { echo "copy failed:"; sed 's/^/  /' "$work/copy.log"; }
SET TimeZone = 'UTC';
BEGIN;
SELECT format('INSERT INTO b.%1$I (%2$s) SELECT %2$s FROM a.%1$I', c.relname,
              (SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum)
                 FROM pg_attribute WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped))
  FROM pg_foreign_table ft JOIN pg_class c ON c.oid = ft.ftrelid
 WHERE c.relnamespace = 'a'::regnamespace
 ORDER BY c.relname
\gexec
COMMIT;
SQL

passed=0 failed=0
count() {  # count OUTPUT_FILE: adds its last line "N passed, M failed", prints the rest
  local last; last=$(tail -n 1 "$1")
  sed '$d' "$1"
  if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2]))
  else
    echo "$last"; failed=$((failed + 1))
  fi
}

node reverse.mjs compare "$urlA" "$urlB" "$work/out" > "$work/compare.out" 2>&1 || true
count "$work/compare.out"

# changes through SQL (keep in sync with CHANGES in reverse.mjs)
command psql -X -v ON_ERROR_STOP=1 -d "$db" > "$work/change.log" 2>&1 <<'SQL' || true
BEGIN;
UPDATE b.t_scalars SET s = 'set by sql', n = 7.5 WHERE id = 'r1';
UPDATE b.t_special SET sec = 'new sécret' WHERE id = 's1';
UPDATE b.b_overflow SET d = repeat('S', 1800) WHERE id = 'spill';
UPDATE b.b_bodyonly SET a = 'body via sql' WHERE id = 'bo1';
UPDATE b.c_files SET _content = '\x00ff01', _content_type = 'application/x-test' WHERE id = 'png';
UPDATE b.p_orders SET status = 'shipped' WHERE id = 'o-001';
DELETE FROM b.b_user WHERE id = 'small';
COMMIT;
TRUNCATE b.b_enforce;
SQL
want=$'BEGIN\nUPDATE 1\nUPDATE 1\nUPDATE 1\nUPDATE 1\nUPDATE 1\nUPDATE 1\nDELETE 1\nCOMMIT\nTRUNCATE TABLE'
if [ "$(cat "$work/change.log")" = "$want" ]; then
  passed=$((passed + 1))
else
  echo "mismatch SQL changes: expected command tags $(echo $want), got:"; sed 's/^/  /' "$work/change.log"
  failed=$((failed + 1))
fi

node reverse.mjs after-sql "$urlB" "$work/out" > "$work/after.out" 2>&1 || true
count "$work/after.out"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
