#!/usr/bin/env bash
# The whole s3db_fdw test suite, on a fresh Debian 12 machine as root:
#
#   test/run-all.sh
#
# Installs what is missing, builds and installs the extension, starts the S3
# test servers (s3rver behind a SigV4-verifying proxy; Ceph radosgw 20.2 in
# a Debian forky root, see test/ceph/start.sh) and a scratch PostgreSQL
# cluster on free loopback ports, runs every suite against the file:// store
# and s3rver, and the store-facing suites against radosgw too, stops
# everything, pass or fail, and ends with one line "N passed, M failed"
# counting the suites.  S3DB_TEST_CEPH=0 leaves radosgw out.
set -uo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
. test/lib.sh

SKIP_SETUP=${SKIP_SETUP:-0}
if [ "$SKIP_SETUP" != 1 ]; then
  tools/setup-deps.sh || exit 1
  test/s3/setup.sh || exit 1
  test/interop/setup.sh || exit 1
fi

WORK=$(mktemp -d /tmp/s3db_fdw_test.XXXXXX)
make_work "$WORK"
CEPH=${S3DB_TEST_CEPH:-1}
cleanup() {
  pg_stop "$WORK/pg"
  test/s3/stop.sh "$WORK/s3" >/dev/null 2>&1 || true
  test/ceph/stop.sh "$WORK/ceph" >/dev/null 2>&1 || true
  [ "${KEEP_WORK:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

passed=0; failed=0; failures=()

build() {
  make -s -j2 >/dev/null && make -s install >/dev/null
}
stage "build and install" build || true
if [ "$failed" -gt 0 ]; then echo "0 passed, 1 failed"; exit 1; fi

# the S3 test server; its proxy also accepts the temporary keys that the
# credential stand-in of test_creds issues (test/creds/standin.py)
export S3DB_TEST_S3_KEYS_FILE=$WORK/s3-temporary-keys
test/s3/start.sh "$WORK/s3" || { echo "could not start the S3 test server"; echo "$passed passed, $((failed + 1)) failed"; exit 1; }
. "$WORK/s3/env"
export S3DB_TEST_S3_URL

stage "unit tests (src/, file:// memory:// and S3)" make -s unit

pg_start "$WORK/pg" || { echo "could not start PostgreSQL"; echo "$passed passed, $((failed + 1)) failed"; exit 1; }

# fixtures readable by the server user, and the same fixtures on S3
cp -r test/fixtures "$WORK/fixtures"
chown -R "$PGUSER_OS" "$WORK/fixtures" 2>/dev/null || true
S3BASE=${S3DB_TEST_S3_URL%/}
upload_fixtures() {  # upload_fixtures [BASE_URL]
  local base=${1:-$S3BASE}
  for f in store broken corrupt; do
    node test/fixtures/upload.mjs "$WORK/fixtures/$f" "$base/regress/$f" || return 1
  done
}
stage "upload fixtures to S3" upload_fixtures

# the file:// runs as users run them: make installcheck against this cluster,
# with the Makefile's defaults (fixtures copied to a scratch directory)
installcheck() {
  make -s installcheck
  local rc=$?
  if [ $rc -ne 0 ]; then
    cat regression.diffs output_iso/regression.diffs 2>/dev/null
  fi
  return $rc
}
stage "make installcheck: pg_regress and isolation on file://" installcheck
# regress and isolation: test/lib.sh (test/matrix-in-root.sh runs the same on 17 and 18)
stage "pg_regress on S3" regress s3 "$S3BASE/regress" "$S3BASE/regress-write"

stage "isolation on S3" isolation s3 "$S3BASE/isolation"

stage "difftest: random transactions agree with a heap table (file:// and S3)" \
  difftest "$WORK/difftest-store" "$S3BASE/difftest" 4000 300

stage "interop: s3db.js writes, SQL reads, file://" test/interop/run.sh file "$WORK/interop-file"
stage "interop: s3db.js writes, SQL reads, S3" test/interop/run.sh s3 "$WORK/interop-s3"
stage "interop: SQL writes, s3db.js reads, file://" test/interop/reverse.sh file "$WORK/reverse-file"
stage "interop: SQL writes, s3db.js reads, S3" test/interop/reverse.sh s3 "$WORK/reverse-s3"
stage "interop: resource created from SQL, file://" test/interop/created.sh file "$WORK/created-file"
stage "interop: resource created from SQL, S3" test/interop/created.sh s3 "$WORK/created-s3"
stage "interop: concurrent incremental ids, file://" test/interop/incremental.sh file "$WORK/incr-file"
stage "interop: concurrent incremental ids, S3" test/interop/incremental.sh s3 "$WORK/incr-s3"

# The suites that face an S3 server (those above run them against s3rver,
# interleaved with file://), against the server whose S3DB_TEST_S3_URL is
# in the environment; LABEL names databases, directories and the interop
# scripts' mode.
store_stages() {  # store_stages LABEL NAME
  local label=$1 name=$2 base=${S3DB_TEST_S3_URL%/}
  stage "upload fixtures to $name" upload_fixtures "$base"
  stage "pg_regress on $name" regress "$label" "$base/regress" "$base/regress-write"
  stage "isolation on $name" isolation "$label" "$base/isolation"
  stage "interop: s3db.js writes, SQL reads, $name" test/interop/run.sh "$label" "$WORK/interop-$label"
  stage "interop: SQL writes, s3db.js reads, $name" test/interop/reverse.sh "$label" "$WORK/reverse-$label"
  stage "interop: resource created from SQL, $name" test/interop/created.sh "$label" "$WORK/created-$label"
  stage "interop: concurrent incremental ids, $name" test/interop/incremental.sh "$label" "$WORK/incr-$label"
}

# Ceph radosgw: a production S3 server that checks signatures and
# conditions itself (no proxy in front of it)
ceph_unit() {  # the unit tests that talk to S3, and the probe
  make -s unit-build >/dev/null &&
  (cd test/unit && prove -e '' bin/test_s3 bin/test_store bin/test_catalog_write bin/test_sequence \
     bin/test_probe)
}
if [ "$CEPH" = 1 ]; then
  if stage "start Ceph radosgw" test/ceph/start.sh "$WORK/ceph"; then
    s3rver_url=$S3DB_TEST_S3_URL
    S3DB_TEST_S3_URL=$(. "$WORK/ceph/env" && echo "$S3DB_TEST_S3_URL")
    stage "unit tests of the store on radosgw" ceph_unit
    store_stages ceph radosgw
    # the shape of the s3rver run above; 800 transactions take about a minute
    stage "difftest on radosgw" /usr/bin/python3 test/difftest/difftest.py \
      --url "${S3DB_TEST_S3_URL%/}/difftest" --seed "${DIFFTEST_SEED:-1}" \
      --count 800 --sessions 2 --pool 6 --bulk 0 --db difftest_ceph
    S3DB_TEST_S3_URL=$s3rver_url
  fi
  test/ceph/stop.sh "$WORK/ceph" >/dev/null 2>&1
fi

stage "faults: injected errors, stalls, cancel, killed server" test/faults/run.sh
if [ "$CEPH" = 1 ]; then
  stage "faults on radosgw (through the fault proxy)" env FAULTS_STORE=ceph test/faults/run.sh
fi
stage "weak stores: probe, refused writes, weak_conditions (Ceph 18 and no-condition imitations)" test/weak/run.sh
stage "TLS: https stores verified by default, ca_file, verify_tls" test/tls/run.sh
stage "credentials: server identity granted per mapping, IMDS/STS stand-ins, refresh mid-scan" test/creds/run.sh
stage "load: pgbench increments lose no update (file:// and S3)" test/load/run.sh all
if [ "$CEPH" = 1 ]; then
  stage "load on radosgw" env LOAD_S3_START=test/ceph/start.sh test/load/run.sh s3
fi
stage "crash: PostgreSQL killed mid-commit leaves every record whole" test/crash/run.sh
if [ "$CEPH" = 1 ]; then
  stage "crash on radosgw (through the fault proxy)" env CRASH_S3_START=test/ceph/start.sh test/crash/run.sh
fi
stage "TAP: worker, two clusters, TTL, audit, replicator, breaker on S3, attacker suite, shared probes" env TAP_NO_INSTALL=1 test/tap.sh
stage "valgrind: pg_regress on file:// and S3, no error through s3db_fdw" test/valgrind/run.sh all

stage "layers: plain C core, no plugin in the FDW, every written store probed" tools/check-layers.sh
stage "META.json is valid PGXN metadata and names the control file's version" python3 tools/check-meta.py
stage "debian: dpkg-buildpackage builds postgresql-<major>-s3db-fdw with pg_buildext" test/debian/build.sh

# the SQL suites on the other PostgreSQL versions, each in a root of the
# Debian suite that ships it (made once, then cached); S3DB_MATRIX_VERSIONS=
# (empty) skips them, MATRIX_TAP=0 their TAP tests
MATRIX_VERSIONS=${S3DB_MATRIX_VERSIONS-17 18}
if [ -n "$MATRIX_VERSIONS" ]; then
  matrix_tap=", TAP"
  [ "${MATRIX_TAP:-1}" = 1 ] || matrix_tap=" (TAP left out: MATRIX_TAP=0)"
  # shellcheck disable=SC2086
  stage "PostgreSQL $MATRIX_VERSIONS: build, unit, pg_regress, isolation and difftest (file:// and S3), weak stores$matrix_tap" \
    test/matrix.sh $MATRIX_VERSIONS
fi

sigfail=$WORK/s3/signature-failures.log
check_signatures() {
  if [ -s "$sigfail" ]; then echo "requests with bad signatures:"; cat "$sigfail"; return 1; fi
}
stage "every S3 request correctly signed" check_signatures

echo
[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
