#!/usr/bin/env bash
# Stores that do not keep the promises writes rely on.
#
#   test/weak/run.sh      (as root; the extension must be installed)
#
# Starts two S3 test servers whose signature-checking proxy imitates a weak
# store (test/s3/start.sh with S3DB_TEST_S3_CONDITIONS): "ceph18" refuses
# a quoted If-Match ETag on PUT with 412 and ignores If-Match on DELETE, as
# Ceph radosgw 18.2 does; "none" ignores every condition.  Checks, as an
# application role, that s3db_check_store() reports what each honours, that
# a commit writing there fails with SQLSTATE 0A000 and writes nothing, and
# that after a superuser sets weak_conditions 'accept' writes go through
# (updates only because the bare ETag spelling is used on "ceph18") and
# the foreign table matches a heap table given the same statements.  Ends
# with "N passed, M failed"; stops everything it started.
set -uo pipefail
cd "$(dirname "$0")/../.."
TOP=$PWD
. test/lib.sh

WORK=$(mktemp -d /tmp/s3db_weak.XXXXXX)
make_work "$WORK"
cleanup() {
  pg_stop "$WORK/pg"
  for m in ceph18 none; do test/s3/stop.sh "$WORK/s3-$m" >/dev/null 2>&1 || true; done
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

declare -A URL FAILLOG
for m in ceph18 none; do
  S3DB_TEST_S3_CONDITIONS=$m test/s3/start.sh "$WORK/s3-$m" >/dev/null || die "could not start the $m S3 server"
  url=$(. "$WORK/s3-$m/env" && echo "${S3DB_TEST_S3_URL%/}/weak")
  URL[$m]=http://${url#*@}    # credentials go into the user mapping
  FAILLOG[$m]=$(. "$WORK/s3-$m/env" && echo "$S3DB_TEST_S3_FAILURE_LOG")
done
pg_start "$WORK/pg" >/dev/null || die "could not start PostgreSQL"

su_sql()  { psql -X -q -A -t -v ON_ERROR_STOP=1 -d weak "$@" 2>&1; }
app_sql() { PGOPTIONS="-c role=s3db_weak_app" psql -X -q -A -t -d weak -v VERBOSITY=verbose "$@" 2>&1; }

psql -X -q -d postgres -c "CREATE DATABASE weak" >/dev/null || die "CREATE DATABASE failed"
out=$(su_sql -c "CREATE EXTENSION s3db_fdw" -c "
  CREATE ROLE s3db_weak_app;
  GRANT CREATE ON SCHEMA public TO s3db_weak_app;
  CREATE SERVER s_ceph18 FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string '${URL[ceph18]}');
  CREATE SERVER s_none FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string '${URL[none]}');
  CREATE USER MAPPING FOR s3db_weak_app SERVER s_ceph18 OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');
  CREATE USER MAPPING FOR s3db_weak_app SERVER s_none OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');
  GRANT USAGE ON FOREIGN SERVER s_ceph18, s_none TO s3db_weak_app;")
[ -z "$out" ] || die "setup failed: $out"

echo "TAP version 13"
caps() {  # caps SERVER: "capability=result" lines
  app_sql -c "SELECT capability || '=' || result FROM s3db_check_store('$1')"
}

for m in ceph18 none; do
  srv=s_$m
  out=$(app_sql -v ON_ERROR_STOP=1 \
                -c "CREATE FOREIGN TABLE t_$m (id text, n bigint) SERVER $srv OPTIONS (resource 't_$m')" \
                -c "CREATE FOREIGN TABLE i_$m (id text, n bigint) SERVER $srv OPTIONS (resource 'i_$m', id_generator 'incremental')" \
                -c "CREATE TABLE h_$m (id text PRIMARY KEY, n bigint)")
  [ -z "$out" ] || die "tables: $out"

  # the catalog write of s3db_create_resource goes through the store's gate too
  out=$(app_sql -c "SELECT s3db_create_resource('t_$m')")
  check "$m: s3db_create_resource is refused (0A000) before writing the catalog" \
    "$( has "$out" "0A000" && has "$out" "does not honour conditional writes" && has "$out" "weak_conditions" || echo "$out" )"
  left=$(app_sql -c "SELECT count(*) FROM s3db_list('$srv')")
  check "$m: nothing was written, the probe left nothing" "$( [ "$left" = 0 ] || echo "objects: $left" )"

  got=$(caps $srv)
  if [ $m = ceph18 ]; then
    want='PUT If-None-Match: *=honoured
PUT If-Match "etag"=refused
PUT If-Match etag=honoured
COPY x-amz-copy-source-if-match "etag"=honoured
COPY x-amz-copy-source-if-match etag=honoured
DELETE If-Match "etag"=ignored
DELETE If-Match etag=ignored
user metadata=2047 of 2047 bytes
ETag spelling=bare
writes=refused: conditions not honoured'
  else
    want='PUT If-None-Match: *=ignored
PUT If-Match "etag"=ignored
PUT If-Match etag=ignored
COPY x-amz-copy-source-if-match "etag"=ignored
COPY x-amz-copy-source-if-match etag=ignored
DELETE If-Match "etag"=ignored
DELETE If-Match etag=ignored
user metadata=2047 of 2047 bytes
ETag spelling=quoted
writes=refused: conditions not honoured'
  fi
  check "$m: s3db_check_store reports what the store honours" \
    "$( [ "$got" = "$want" ] || printf '%s\n' "got:" "$got" )"

  out=$(app_sql -c "ALTER SERVER $srv OPTIONS (ADD weak_conditions 'accept')")
  check "$m: the application role may not accept weak conditions (42501)" \
    "$( has "$out" "42501" || echo "$out" )"
  out=$(su_sql -c "ALTER SERVER $srv OPTIONS (ADD weak_conditions 'accept')")
  check "$m: a superuser may" "$( [ -z "$out" ] || echo "$out" )"
  out=$(app_sql -v ON_ERROR_STOP=1 -c "SELECT count(*) FROM (SELECT s3db_create_resource('t_$m'), s3db_create_resource('i_$m')) x")
  check "$m: with weak conditions accepted, resources are created" "$( [ "$out" = 1 ] || echo "$out" )"
  out=$(su_sql -c "ALTER SERVER $srv OPTIONS (DROP weak_conditions)")
  [ -z "$out" ] || die "could not drop weak_conditions: $out"

  out=$(app_sql -c "INSERT INTO t_$m VALUES ('a', 1)")
  check "$m: a write fails with SQLSTATE 0A000 and says why" \
    "$( has "$out" "0A000" && has "$out" "does not honour conditional writes" && has "$out" "weak_conditions" || echo "$out" )"
  # an incremental id is taken from a sequence object while the INSERT runs
  out=$(app_sql -c "INSERT INTO i_$m (n) VALUES (1)")
  check "$m: an incremental id is not drawn from the store's sequence (0A000)" \
    "$( has "$out" "0A000" && has "$out" "does not honour conditional writes" || echo "$out" )"
  left=$(app_sql -c "SELECT count(*) FROM s3db_list('$srv') WHERE key NOT LIKE 's3db.json'")
  check "$m: the refused writes wrote nothing, the probe left nothing" "$( [ "$left" = 0 ] || app_sql -c "SELECT key FROM s3db_list('$srv')" )"

  out=$(su_sql -c "ALTER SERVER $srv OPTIONS (ADD weak_conditions 'accept')")
  [ -z "$out" ] || die "could not set weak_conditions again: $out"

  # the same statements on the foreign table and on a heap table
  stmts="INSERT INTO %s VALUES ('a', 1), ('b', 2), ('c', 3);
UPDATE %s SET n = n + 10 WHERE id IN ('a', 'b');
DELETE FROM %s WHERE id = 'c';
UPDATE %s SET n = n * 2 WHERE id = 'a';"
  f=$(printf "$stmts" t_$m t_$m t_$m t_$m); h=$(printf "$stmts" h_$m h_$m h_$m h_$m)
  out=$(app_sql -v ON_ERROR_STOP=1 -c "$f" -c "$h")
  check "$m: with weak_conditions 'accept' inserts, updates and deletes commit" "$( [ -z "$out" ] || echo "$out" )"
  diff=$(app_sql -c "(SELECT * FROM t_$m EXCEPT SELECT * FROM h_$m) UNION ALL (SELECT * FROM h_$m EXCEPT SELECT * FROM t_$m)")
  rows=$(app_sql -c "SELECT string_agg(id || ':' || n, ',' ORDER BY id) FROM t_$m")
  check "$m: the foreign table matches the heap table ($rows)" \
    "$( [ -z "$diff" ] && [ "$rows" = "a:22,b:12" ] || echo "differ: $diff / $rows" )"
  wr=$(app_sql -c "SELECT result FROM s3db_check_store('$srv') WHERE capability = 'writes'")
  check "$m: s3db_check_store says writes are allowed with weak guarantees" \
    "$( [ "$wr" = "allowed with weak_conditions 'accept'" ] || echo "$wr" )"
done

# on "ceph18" If-Match (bare) on PUT is still enforced: a stale update is refused
out=$(app_sql -c "BEGIN" -c "UPDATE t_ceph18 SET n = n + 1 WHERE id = 'a'" \
  -c "\\! PGOPTIONS='-c role=s3db_weak_app' psql -X -q -d weak -c \"UPDATE t_ceph18 SET n = 100 WHERE id = 'a'\"" \
  -c "COMMIT")
final=$(app_sql -c "SELECT n FROM t_ceph18 WHERE id = 'a'")
check "ceph18: a concurrent update is still a serialization failure (bare If-Match honoured)" \
  $( has "$out" "40001" && [ "$final" = 100 ] || echo "out: $out / n = $final" )

# a TTL sweep deletes expired records with If-Match: where that is not
# honoured it deletes nothing, and no index entry is lost on the way
out=$(su_sql -c "GRANT SELECT, INSERT ON s3db_fdw_ttl TO s3db_weak_app")
[ -z "$out" ] || die "grant: $out"
out=$(app_sql -v ON_ERROR_STOP=1 \
  -c "CREATE FOREIGN TABLE x_ceph18 (id text, n bigint) SERVER s_ceph18 OPTIONS (resource 'x_ceph18')" \
  -c "SELECT count(*) FROM (SELECT s3db_create_resource('x_ceph18')) x" \
  -c "INSERT INTO s3db_fdw_ttl (ftable, ttl) VALUES ('x_ceph18', '1 s')" \
  -c "INSERT INTO x_ceph18 VALUES ('a', 1), ('b', 2)")
[ "$out" = 1 ] || die "ttl setup: $out"
sleep 2
out=$(su_sql -c "ALTER SERVER s_ceph18 OPTIONS (DROP weak_conditions)")
[ -z "$out" ] || die "could not drop weak_conditions: $out"
out=$(app_sql -c "SELECT s3db_ttl_sweep('x_ceph18')")
rows=$(app_sql -c "SELECT count(*) FROM x_ceph18")
check "ceph18: a TTL sweep is refused and expires nothing" \
  "$( has "$out" "does not honour conditional writes" && [ "${out##*$'\n'}" = 0 ] && [ "$rows" = 2 ] || echo "out: $out / rows: $rows" )"
out=$(su_sql -c "ALTER SERVER s_ceph18 OPTIONS (ADD weak_conditions 'accept')")
[ -z "$out" ] || die "could not set weak_conditions again: $out"
out=$(app_sql -c "SELECT s3db_ttl_sweep('x_ceph18')")
rows=$(app_sql -c "SELECT count(*) FROM x_ceph18")
check "ceph18: with weak conditions accepted the same sweep expires both records" \
  "$( [ "$out" = 2 ] && [ "$rows" = 0 ] || echo "out: $out / rows: $rows" )"

for m in ceph18 none; do
  check "$m: every request was correctly signed" "$( [ -s "${FAILLOG[$m]}" ] && head -3 "${FAILLOG[$m]}" )"
done

echo "1..$n"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
