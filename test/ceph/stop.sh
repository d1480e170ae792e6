#!/bin/bash
# stop.sh DIR - stops the daemons that start.sh DIR started (safe to call
# twice, e.g. from a trap).  Only the recorded process ids are signalled;
# the OSD keeps its objects in memory, so nothing is left behind but logs.
dir=${1:?usage: stop.sh DIR}
. "$(dirname "$0")/../lib.sh"
# radosgw drains for up to two minutes after SIGTERM; the cluster is
# thrown away, so after a short grace period everything is killed
# shellcheck disable=SC2046
stop_pids 20 $(cat "$dir"/cluster/run/*.hostpid 2>/dev/null)
rm -f "$dir/env" "$dir"/cluster/run/*.hostpid
exit 0
