#!/bin/bash
# cluster.sh DIR MON_PORT RGW_PORT OSD_PORT_MIN [RGW_DEBUG_LEVEL] - run inside the forky root
# (tools/debroot.sh run) by start.sh: creates and starts a single-node Ceph
# cluster (one mon, one memstore OSD, no mgr) and radosgw, all on
# 127.0.0.1, with their state, logs and pid files under DIR.  Daemons run
# in the foreground of background jobs, so their pids are the host's and
# stop.sh can signal them from outside the root.
set -euo pipefail
dir=$1 monport=$2 rgwport=$3 osdport=$4 debug=${5:-1}
conf=$dir/ceph.conf
mkdir -p "$dir/run" "$dir/log" "$dir/mon" "$dir/osd0"
fsid=$(cat /proc/sys/kernel/random/uuid)

# Why the less usual settings:
#  - ms mon client mode: clients (radosgw-admin, radosgw) use crc or secure
#    on the monitor connection; the default prefers secure only where the
#    mon asks for it and single-node clusters otherwise stall at auth;
#  - one OSD: pools of size 1, few PGs, and a raised per-OSD PG limit, or
#    radosgw's eight pools exceed it and pool creation is refused;
#  - memstore: objects live in the OSD's memory, nothing touches the disk,
#    and the cluster is gone when the OSD stops (a fresh one per run);
#  - tcp_nodelay: without it every small reply waits for the peer's
#    delayed ACK, about 40 ms per GET;
#  - ports: the OSD's messenger range is confined to a few free ports below
#    the ephemeral range, like every other test server here.
cat > "$conf" <<CONF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$monport
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
ms bind port min = $osdport
ms bind port max = $((osdport + 9))
ms mon client mode = crc secure
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $dir/keyring
run dir = $dir/run
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
pid file = $dir/run/\$name.pid
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
mon data = $dir/mon
osd data = $dir/osd\$id
osd objectstore = memstore
memstore device bytes = 4294967296
mon osd full ratio = 0.99
mon osd nearfull ratio = 0.98
osd failsafe full ratio = 0.995

[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$rgwport tcp_nodelay=1
rgw thread pool size = 128
debug rgw = $debug
CONF

ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$dir/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' \
    --cap mgr 'allow *' >/dev/null
ceph-authtool "$dir/keyring" --gen-key -n client.rgw --cap mon 'allow rw' --cap osd 'allow rwx' >/dev/null
monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$monport]" "$dir/monmap" >/dev/null
ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring" >/dev/null
ceph-mon -c "$conf" -i a -f >"$dir/log/mon.out" 2>&1 &
echo $! > "$dir/run/mon.hostpid"

cli() { timeout 60 ceph -c "$conf" --connect-timeout 30 "$@"; }
uuid=$(cat /proc/sys/kernel/random/uuid)
key=$(ceph-authtool --gen-print-key)
printf '{"cephx_secret": "%s"}\n' "$key" > "$dir/osd0/new.json"
id=$(cli osd new "$uuid" -i "$dir/osd0/new.json")
[ "$id" = 0 ] || { echo "cluster.sh: unexpected osd id '$id'" >&2; exit 1; }
ceph-authtool --create-keyring "$dir/osd0/keyring" --name osd.0 --add-key "$key" >/dev/null
ceph-osd -c "$conf" -i 0 --mkfs --key "$key" --osd-uuid "$uuid" >"$dir/log/osd-mkfs.out" 2>&1
ceph-osd -c "$conf" -i 0 -f --keyring "$dir/osd0/keyring" >"$dir/log/osd.out" 2>&1 &
echo $! > "$dir/run/osd.hostpid"

radosgw -c "$conf" -n client.rgw -f >"$dir/log/rgw.out" 2>&1 &
echo $! > "$dir/run/rgw.hostpid"
