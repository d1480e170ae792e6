#!/usr/bin/env bash
# One PostgreSQL major version of the test matrix, run by test/matrix.sh
# inside a root of the Debian suite that ships it (as root there), from a
# scratch copy of the checkout:
#
#   MAJOR=17 MATRIX_DIR=/tmp/... S3DB_TEST_S3_URL=... S3DB_MATRIX_S3=... \
#     bash test/matrix-in-root.sh
#
# Builds and installs into the root's PostgreSQL, runs the unit tests,
# starts a scratch cluster, runs pg_regress and isolation on file:// and on
# the S3 server (fixtures already uploaded under $S3DB_MATRIX_S3/fixtures),
# the differential tester on both, the weak-store suite (its own cluster
# and S3 servers) and the TAP tests unless MATRIX_TAP=0.  pg_regress and isolation run as
# in test/run-all.sh: both use regress and isolation of test/lib.sh.  Ends
# with "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
: "${MAJOR:?}" "${MATRIX_DIR:?}" "${S3DB_TEST_S3_URL:?}" "${S3DB_MATRIX_S3:?}"
export PATH=/usr/lib/postgresql/$MAJOR/bin:$PATH
export PG_CONFIG=/usr/lib/postgresql/$MAJOR/bin/pg_config
export S3DB_TEST_S3_URL
WORK=$MATRIX_DIR
S3=$S3DB_MATRIX_S3/pg$MAJOR
. test/lib.sh
# the server user of this root (its uid is not the host's) writes here
make_work "$WORK"

passed=0; failed=0; failures=()
finish() {
  pg_stop "$WORK/pg"
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}

echo "PostgreSQL $("$PG_CONFIG" --version | sed 's/^PostgreSQL //'), $(. /etc/os-release; echo "$PRETTY_NAME")," \
  "libcurl $(pkg-config --modversion libcurl), json-c $(pkg-config --modversion json-c)"

# with_llvm=no: no JIT bitcode (a second compile of every file with clang);
# the C the server runs is the same
build() {
  make -s -j2 with_llvm=no >/dev/null && make -s install with_llvm=no >/dev/null
}
stage "build and install (-Werror)" build
[ "$failed" -eq 0 ] || finish

stage "unit tests (src/, file:// memory:// and S3)" make -s -j2 unit

pg_start "$WORK/pg" || { failed=$((failed + 1)); echo "could not start PostgreSQL"; finish; }

cp -r test/fixtures "$WORK/fixtures"
chown -R "$PGUSER_OS" "$WORK/fixtures"

make_work "$WORK/write-store"
stage "pg_regress on file://" regress file "file://$WORK/fixtures" "file://$WORK/write-store"
stage "pg_regress on S3" regress s3 "$S3DB_MATRIX_S3/fixtures" "$S3/regress-write"

make_work "$WORK/isolation-store"
stage "isolation on file://" isolation file "file://$WORK/isolation-store"
stage "isolation on S3" isolation s3 "$S3/isolation"

stage "difftest: random transactions agree with a heap table (file:// and S3)" \
  difftest "$WORK/difftest-store" "$S3/difftest" 1000 100

pg_stop "$WORK/pg"
stage "weak stores: probe, refused writes, weak_conditions" test/weak/run.sh
if [ "${MATRIX_TAP:-1}" = 1 ]; then
  stage "TAP (t/)" env TAP_NO_INSTALL=1 test/tap.sh
else
  echo "=== TAP (t/): left out (MATRIX_TAP=0)"
fi

finish
