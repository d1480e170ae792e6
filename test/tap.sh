#!/usr/bin/env bash
# The TAP tests of the background worker (t/*.pl), runnable as root:
#
#   test/tap.sh [t/001_worker.pl ...]
#
# PostgreSQL::Test::Cluster runs initdb and postgres as the invoking user,
# which cannot be root; so as root the tests run as the "postgres" OS user
# (PGUSER_OS) in a scratch directory that user owns, holding a copy of t/
# and the tmp_check directory.  The extension is built and installed first
# unless TAP_NO_INSTALL=1.  The scratch directory is removed on success and
# kept (its path printed) on failure, or always with KEEP_WORK=1.
set -uo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
PGUSER_OS=${PGUSER_OS:-postgres}
PG_CONFIG=${PG_CONFIG:-pg_config}
PGBIN=$("$PG_CONFIG" --bindir)
PERL_LIB=$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/perl

if [ ! -f "$PERL_LIB/PostgreSQL/Test/Cluster.pm" ]; then
  echo "tap: PostgreSQL::Test::Cluster not found under $PERL_LIB (install postgresql-server-dev)" >&2
  exit 1
fi
if ! perl -MIPC::Run -e 1 2>/dev/null; then
  echo "tap: the Perl module IPC::Run is missing (apt-get install libipc-run-perl)" >&2
  exit 1
fi
# t/003 and t/004 leave their s3db.js half out without node and s3db.js,
# which would pass unseen, and t/006 and t/008 cannot start the S3 test
# server without s3rver and botocore: missing, they fail the run here
# (TAP_ALLOW_SKIP=1 runs what can run)
missing=()
command -v node >/dev/null || missing+=("node (apt-get install nodejs)")
[ -f test/interop/node_modules/s3db.js/dist/index.js ] || missing+=("s3db.js (test/interop/setup.sh)")
[ -f test/s3/node_modules/s3rver/bin/s3rver.js ] || missing+=("s3rver (test/s3/setup.sh)")
/usr/bin/python3 -c 'import botocore' 2>/dev/null || missing+=("botocore (apt-get install python3-botocore)")
if [ ${#missing[@]} -gt 0 ] && [ "${TAP_ALLOW_SKIP:-0}" != 1 ]; then
  echo "tap: what t/ needs is missing: ${missing[*]}" >&2
  exit 1
fi

if [ "${TAP_NO_INSTALL:-0}" != 1 ]; then
  make -s -j2 >/dev/null && make -s install >/dev/null || { echo "tap: build or install failed" >&2; exit 1; }
fi

WORK=$(mktemp -d /tmp/s3db_fdw_tap.XXXXXX)
cp -r "$TOP/t" "$WORK/t"
as_user() {
  if [ "$(id -u)" = 0 ]; then
    chown -R "$PGUSER_OS" "$WORK"
    runuser -u "$PGUSER_OS" -- "$@"
  else
    "$@"
  fi
}

if [ $# -gt 0 ]; then
  TESTS=("$@")
else
  TESTS=(t/*.pl)
fi

cd "$WORK"
# TESTDATADIR/TESTLOGDIR: PostgreSQL 17's test modules take their scratch
# and log directories from these (relative to the current directory when
# unset, so a file:// store in tempdir() would be a relative path)
as_user env PATH="$PGBIN:$PATH" TESTDIR="$WORK" TESTDATADIR="$WORK/tmp_check" \
  TESTLOGDIR="$WORK/tmp_check/log" S3DB_FDW_SRC="$TOP" PGPORT="${PGPORT:-65432}" \
  PG_REGRESS="$(dirname "$("$PG_CONFIG" --pgxs)")/../test/regress/pg_regress" \
  prove -I "$PERL_LIB" ${PROVE_FLAGS:-} "${TESTS[@]}"
rc=$?
cd "$TOP"
if [ $rc -ne 0 ] || [ "${KEEP_WORK:-0}" = 1 ]; then
  echo "tap: logs kept in $WORK/tmp_check/log"
else
  rm -rf "$WORK"
fi
exit $rc
