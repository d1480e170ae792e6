#!/bin/bash
# selftest.sh - starts the S3 test server in a scratch directory, runs
# selftest.py against the proxy and stops the servers again.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work="$here/../work/s3-selftest"
rm -rf "$work"; mkdir -p "$work"
"$here/setup.sh"
trap '"$here/stop.sh" "$work"' EXIT
"$here/start.sh" "$work"
. "$work/env"
/usr/bin/python3 "$here/selftest.py" "$S3DB_TEST_S3_URL" "$S3DB_TEST_S3_FAILURE_LOG"
