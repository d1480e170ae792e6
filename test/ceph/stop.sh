#!/bin/bash
# stop.sh DIR - stops the daemons that start.sh DIR started (safe to call
# twice, e.g. from a trap).  Only the recorded process ids are signalled;
# the OSD keeps its objects in memory, so nothing is left behind but logs.
dir=${1:?usage: stop.sh DIR}
pids=$(cat "$dir"/cluster/run/*.hostpid 2>/dev/null)
for p in $pids; do
    kill "$p" 2>/dev/null || true
done
# radosgw drains for up to two minutes after SIGTERM; the cluster is
# thrown away, so after a short grace period everything is killed
for p in $pids; do
    for _ in $(seq 1 20); do
        kill -0 "$p" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$p" 2>/dev/null || true
done
rm -f "$dir/env" "$dir"/cluster/run/*.hostpid
exit 0
