#!/bin/bash
# stop.sh DIR - stops the servers that start.sh DIR started (safe to call
# twice, e.g. from a trap).  Only the recorded process ids are signalled.
dir=${1:?usage: stop.sh DIR}
[ -f "$dir/env" ] || exit 0
. "$(dirname "$0")/../lib.sh"
# shellcheck disable=SC2046
stop_pids 50 $(sed -n 's/^S3DB_TEST_S3_PIDS="\(.*\)"$/\1/p' "$dir/env")
rm -f "$dir/env"
exit 0
