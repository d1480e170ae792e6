#!/usr/bin/env bash
# Resources created from SQL: s3db_create_resource() writes the resource into
# s3db.json, SQL inserts records, and s3db.js 21.6.2 must see the resource,
# read the records, list the partition and insert records SQL reads back;
# then SQL adds an attribute (a new version) and both sides use it.
#
#   test/interop/created.sh file|s3|ceph WORKDIR
set -euo pipefail
cd "$(dirname "$0")"
label=$1 work=$2
mkdir -p "$work"; chmod 0777 "$work"
case "$label" in
  file) url="file://$work/store"; mkdir -p "$work/store"; chmod 0777 "$work/store" ;;
  s3|ceph) url="${S3DB_TEST_S3_URL%/}/created-$(date +%s)-$$" ;;
  *) echo "usage: created.sh file|s3|ceph WORKDIR" >&2; exit 2 ;;
esac
db=created_$label
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -v url="$url" "$@"; }
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
trap 'psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT

sql <<'SQL'
CREATE EXTENSION s3db_fdw;
CREATE SERVER s FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR CURRENT_USER SERVER s OPTIONS (connection_string :'url', passphrase 'created-pass');
CREATE FOREIGN TABLE gadgets (id text, name text NOT NULL, qty bigint, tags text[], price numeric,
  city text OPTIONS (field 'loc.city')) SERVER s OPTIONS (resource 'gadgets');
SELECT s3db_create_resource('gadgets', 'body-overflow', '{"byCity": {"fields": {"loc.city": "string"}}}') IS NOT NULL;
INSERT INTO gadgets VALUES ('g1', 'Widget', 3, '{x,y|z}', 9.5, 'Berlin'), ('g2', 'Ünïcödé', NULL, '{}', NULL, 'Rio');
SQL
[ "$label" = file ] && chmod -R a+rwX "$work/store"
node --no-warnings created.mjs "$url" check
[ "$label" = file ] && chmod -R a+rwX "$work/store"

got=$(sql -c "SELECT name || ':' || qty || ':' || city FROM gadgets WHERE id = 'js1'")
[ "$got" = "from js:7:Oslo" ] || { echo "not ok - SQL reads the s3db.js record: $got"; echo "0 passed, 1 failed"; exit 1; }
echo "ok - SQL reads the record s3db.js inserted"

sql <<'SQL'
ALTER FOREIGN TABLE gadgets ADD COLUMN color text;
SELECT s3db_create_resource('gadgets', 'body-overflow', '{"byCity": {"fields": {"loc.city": "string"}}}') IS NOT NULL;
UPDATE gadgets SET name = upper(name), color = 'red' WHERE id = 'g1';
SQL
[ "$label" = file ] && chmod -R a+rwX "$work/store"
node --no-warnings created.mjs "$url" check2
got=$(sql -c "SELECT color FROM gadgets WHERE id = 'js2'")
[ "$got" = "blue" ] || { echo "not ok - SQL reads the v2 record of s3db.js: $got"; echo "0 passed, 1 failed"; exit 1; }
echo "ok - SQL reads the v2 record s3db.js inserted"
