#!/bin/bash
# stop.sh DIR - stops the servers that start.sh DIR started (safe to call
# twice, e.g. from a trap).  Only the recorded process ids are signalled.
dir=${1:?usage: stop.sh DIR}
[ -f "$dir/env" ] || exit 0
pids=$(sed -n 's/^S3DB_TEST_S3_PIDS="\(.*\)"$/\1/p' "$dir/env")
for p in $pids; do
    kill "$p" 2>/dev/null || true
done
for p in $pids; do
    for _ in $(seq 1 50); do
        kill -0 "$p" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$p" 2>/dev/null || true
done
rm -f "$dir/env"
exit 0
