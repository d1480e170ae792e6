#!/usr/bin/env bash
# s3db.js writes, SQL reads: run the corpus through s3db.js 21.6.2 into a
# fresh store, IMPORT FOREIGN SCHEMA it, dump every foreign table as JSON and
# compare record by record with what s3db.js's get() returns.
#
#   test/interop/run.sh file|s3|ceph WORKDIR
#
# Needs a running cluster (PGHOST/PGPORT/PGUSER) with s3db_fdw installed,
# and for "s3" or "ceph" (a label) the S3 server of S3DB_TEST_S3_URL.
set -euo pipefail
cd "$(dirname "$0")"
label=$1 work=$2
mkdir -p "$work"; chmod 0777 "$work"
case "$label" in
  file) url="file://$work/store" ;;
  s3|ceph) url="${S3DB_TEST_S3_URL%/}/interop-$(date +%s)-$$" ;;
  *) echo "usage: run.sh file|s3|ceph WORKDIR" >&2; exit 2 ;;
esac

node corpus.mjs "$url" "$work/out" > "$work/corpus.log" 2>&1 || { tail -20 "$work/corpus.log"; exit 1; }
[ "$label" = file ] && chmod -R a+rwX "$work/store"

db=interop_$label
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v url="$url" <<'SQL'
CREATE EXTENSION s3db_fdw;
CREATE SERVER corpus FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR CURRENT_USER SERVER corpus
  OPTIONS (connection_string :'url', passphrase 'corpus-pass');
IMPORT FOREIGN SCHEMA s3db FROM SERVER corpus INTO public;
SQL

# binary content columns for the resources that have content
for r in $(node -e '
  const e = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  for (const [n, r] of Object.entries(e.resources)) if (r.hasContent) console.log(n);' "$work/out/expected.json"); do
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "ALTER FOREIGN TABLE \"$r\"
    ADD COLUMN _content bytea OPTIONS (field '\$content'),
    ADD COLUMN _content_type text OPTIONS (field '\$content_type')"
done

psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" > "$work/sql.json" <<'SQL'
SET TimeZone = 'UTC';
DO $$
DECLARE r record; rows json; acc jsonb := '{}';
BEGIN
  FOR r IN SELECT c.relname FROM pg_foreign_table ft JOIN pg_class c ON c.oid = ft.ftrelid LOOP
    EXECUTE format('SELECT coalesce(json_agg(row_to_json(s3db_row_)), ''[]'') FROM %I s3db_row_', r.relname) INTO rows;
    acc := acc || jsonb_build_object(r.relname, rows);
  END LOOP;
  PERFORM set_config('s3db.dump', acc::text, false);
END $$;
SELECT current_setting('s3db.dump');
SQL

node compare.mjs "$work/out" "$work/sql.json"
