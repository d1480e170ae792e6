#!/usr/bin/env bash
# Set up everything and run the walkthrough, on a fresh Debian 12 machine as
# root: install dependencies, build and install s3db_fdw, start a scratch
# cluster, seed its embedded file:// store with records written by s3db.js,
# run examples/walkthrough.sql, and stop the cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh

tools/setup-deps.sh
make -s -j2 >/dev/null
make -s install >/dev/null

WORK=$(mktemp -d /tmp/s3db_fdw_demo.XXXXXX)
make_work "$WORK"
trap 'pg_stop "$WORK/pg"; rm -rf "$WORK"' EXIT INT TERM
pg_start "$WORK/pg"

# the embedded store is $PGDATA/s3db_fdw
cp -r test/fixtures/store "$WORK/pg/data/s3db_fdw"
chown -R "$PGUSER_OS" "$WORK/pg/data/s3db_fdw" 2>/dev/null || true

psql -X -v ON_ERROR_STOP=1 -f examples/walkthrough.sql
echo "walkthrough finished"
