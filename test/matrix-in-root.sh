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
# and, with MATRIX_TAP=1, the TAP tests.  The pg_regress and isolation
# invocations are those of test/run-all.sh: keep them in step.  Ends with
# "N passed, M failed".
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

passed=0; failed=0
stage() {  # stage NAME COMMAND...
  local name=$1; shift
  echo "=== $name"
  local t0=$SECONDS
  if "$@"; then
    passed=$((passed + 1)); echo "=== $name: ok ($((SECONDS - t0)) s)"
  else
    failed=$((failed + 1)); echo "=== $name: FAILED ($((SECONDS - t0)) s)"
  fi
}
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

PG_REGRESS=$(dirname "$(pg_config --pgxs)")/../test/regress/pg_regress
REGRESS_TESTS=$(ls sql/*.sql | grep -v -- '--' | sed 's,sql/,,;s,\.sql$,,' | sort)
regress() {  # regress LABEL FIXTURE_BASE WRITABLE_STORE
  local label=$1 base=$2 writable=$3
  mkdir -p "$WORK/regress-$label"
  S3DB_FIXTURE_URL="$base/store" S3DB_BROKEN_URL="$base/broken" S3DB_CORRUPT_URL="$base/corrupt" \
  S3DB_WRITE_URL="$writable" \
    "$PG_REGRESS" --inputdir=. --outputdir="$WORK/regress-$label" --bindir="$PGBIN" \
      --load-extension=s3db_fdw --dbname=contrib_regression_$label $REGRESS_TESTS
  local rc=$?
  if [ $rc -ne 0 ] && [ -f "$WORK/regress-$label/regression.diffs" ]; then
    cat "$WORK/regress-$label/regression.diffs"
  fi
  return $rc
}
make_work "$WORK/write-store"
stage "pg_regress on file://" regress file "file://$WORK/fixtures" "file://$WORK/write-store"
stage "pg_regress on S3" regress s3 "$S3DB_MATRIX_S3/fixtures" "$S3/regress-write"

PG_ISOLATION=$(dirname "$(pg_config --pgxs)")/../test/isolation/pg_isolation_regress
ISOLATION_TESTS=$(ls specs/*.spec | sed 's,specs/,,;s,\.spec$,,' | sort)
isolation() {  # isolation LABEL STORE_URL
  local label=$1 url=$2
  mkdir -p "$WORK/isolation-$label"
  PGOPTIONS="-c s3db_test.url=$url" "$PG_ISOLATION" --inputdir=. --outputdir="$WORK/isolation-$label" \
    --bindir="$PGBIN" --load-extension=s3db_fdw --dbname=isolation_$label $ISOLATION_TESTS
  local rc=$?
  if [ $rc -ne 0 ] && [ -f "$WORK/isolation-$label/regression.diffs" ]; then
    cat "$WORK/isolation-$label/regression.diffs"
  fi
  return $rc
}
make_work "$WORK/isolation-store"
stage "isolation on file://" isolation file "file://$WORK/isolation-store"
stage "isolation on S3" isolation s3 "$S3/isolation"

pg_stop "$WORK/pg"
if [ "${MATRIX_TAP:-0}" = 1 ]; then
  stage "TAP (t/)" env TAP_NO_INSTALL=1 test/tap.sh
fi

finish
