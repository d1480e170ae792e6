#!/usr/bin/env bash
# The pg_regress suite with s3db_fdw built under AddressSanitizer.
#
#   test/asan.sh        (as root, from the repository root)
#
# Builds a copy of the tree with -fsanitize=address,undefined into a scratch
# directory, installs it, starts a scratch cluster with libasan preloaded
# into the server, runs sql/ against the file:// fixtures, and fails on any
# sanitizer report in the server log.  Leaks are checked by `make unit-asan`
# (src/ under LeakSanitizer); here PostgreSQL's own exit-time allocations
# would drown them, so leak detection is off.  Reinstalls the normal build
# at the end, pass or fail.
set -uo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
. test/lib.sh

WORK=$(mktemp -d /tmp/s3db_fdw_asan.XXXXXX)
make_work "$WORK"
cleanup() {
  pg_stop "$WORK/pg"
  (cd "$TOP" && make -s install >/dev/null 2>&1)
  [ "${KEEP_WORK:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

git ls-files -z | tar --null -T - -cf - | (mkdir -p "$WORK/src" && cd "$WORK/src" && tar xf -)
SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
(cd "$WORK/src" && make -s -j2 CC=gcc COPT="$SAN" SHLIB_LINK_EXTRA="$SAN" \
   SHLIB_LINK="-lcurl -lssl -lcrypto -ljson-c -lxml2 -lz $SAN" >/dev/null && make -s install >/dev/null) \
  || { echo "asan build failed"; echo "0 passed, 1 failed"; exit 1; }

LIBASAN=$(gcc -print-file-name=libasan.so)
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:log_path=$WORK/asan"
export UBSAN_OPTIONS="print_stacktrace=1:log_path=$WORK/ubsan"
PG_PRELOAD=$LIBASAN pg_start "$WORK/pg" || { echo "0 passed, 1 failed"; exit 1; }

cp -r test/fixtures "$WORK/fixtures"
make_work "$WORK/write-store"
chown -R "$PGUSER_OS" "$WORK/fixtures" 2>/dev/null || true
PG_REGRESS=$(dirname "$(pg_config --pgxs)")/../test/regress/pg_regress
TESTS=$(ls sql/*.sql | grep -v -- '--' | sed 's,sql/,,;s,\.sql$,,' | sort)
S3DB_FIXTURE_URL="file://$WORK/fixtures/store" S3DB_BROKEN_URL="file://$WORK/fixtures/broken" \
S3DB_CORRUPT_URL="file://$WORK/fixtures/corrupt" S3DB_WRITE_URL="file://$WORK/write-store" \
  "$PG_REGRESS" --inputdir=. --outputdir="$WORK/regress" --bindir="$PGBIN" \
    --load-extension=s3db_fdw --dbname=contrib_regression_asan $TESTS
rc=$?
[ $rc -ne 0 ] && [ -f "$WORK/regress/regression.diffs" ] && head -100 "$WORK/regress/regression.diffs"

reports=$(cat "$WORK"/asan.* "$WORK"/ubsan.* 2>/dev/null; grep -h -A30 "ERROR: AddressSanitizer\|runtime error:" "$WORK/pg/server.log" 2>/dev/null)
if [ -n "$reports" ]; then
  echo "sanitizer reports:"; echo "$reports" | head -80
  rc=1
fi
if grep -q "terminated by signal" "$WORK/pg/server.log"; then
  echo "a backend crashed:"; grep "terminated by signal" "$WORK/pg/server.log"
  rc=1
fi
[ $rc -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $rc
