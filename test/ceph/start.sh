#!/bin/bash
# start.sh DIR - starts a single-node Ceph cluster (one mon, one memstore
# OSD) and radosgw 20.2 from Debian forky, in a root made and cached by
# tools/debroot.sh, everything on free 127.0.0.1 ports and state under DIR.
# Creates an S3 user with radosgw-admin and the bucket s3db-test, and
# writes DIR/env (shell-sourceable), in the shape test/s3/start.sh writes:
#   S3DB_TEST_S3_URL         connection string of the bucket on radosgw
#   S3DB_TEST_S3_DIRECT_URL  the same (no proxy: radosgw checks signatures)
#   S3DB_TEST_S3_PIDS        process ids, for stop.sh
#   S3DB_TEST_S3_FAILURE_LOG an empty file (radosgw refuses bad signatures
#                            itself, with 403)
#   S3DB_TEST_S3_KIND=ceph
# Stop with stop.sh DIR, pass or fail.  CEPH_ROOT overrides where the root
# lives (default /var/cache/s3db_fdw/roots/forky-ceph).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
dir=${1:?usage: start.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
root=${CEPH_ROOT:-/var/cache/s3db_fdw/roots/forky-ceph}
rm -rf "$dir/env" "$dir/cluster"
: > "$dir/signature-failures.log"

"$top/tools/debroot.sh" make "$root" forky ceph-mon ceph-osd radosgw ceph-common

free_port() { /usr/bin/python3 "$top/test/free_port.py"; }
port_open() {
    /usr/bin/python3 -c 'import socket, sys
s = socket.socket(); s.settimeout(0.5)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1"
}
# ten consecutive free ports for the OSD's messengers
osd_ports() {
    /usr/bin/python3 -c 'import random, socket
for _ in range(200):
    base = random.randint(10000, 32700)
    ok = True
    for p in range(base, base + 10):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            ok = False
        finally:
            s.close()
        if not ok:
            break
    if ok:
        print(base)
        break
else:
    raise SystemExit("no free port range")'
}

pids() { cat "$dir"/cluster/run/*.hostpid 2>/dev/null | tr '\n' ' '; }
write_env() {  # write_env URL
    cat > "$dir/env" <<ENV
S3DB_TEST_S3_URL=$1
S3DB_TEST_S3_DIRECT_URL=$1
S3DB_TEST_S3_PIDS="$(pids)"
S3DB_TEST_S3_FAILURE_LOG=$dir/signature-failures.log
S3DB_TEST_S3_KIND=ceph
ENV
}
fail() {
    echo "start.sh: $*; logs in $dir/cluster/log" >&2
    write_env ""
    "$here/stop.sh" "$dir" >/dev/null 2>&1 || true
    exit 1
}

t0=$SECONDS
monport=$(free_port); rgwport=$(free_port); osdport=$(osd_ports)
"$top/tools/debroot.sh" run "$root" /bin/bash "$here/cluster.sh" "$dir/cluster" \
    "$monport" "$rgwport" "$osdport" >"$dir/cluster.log" 2>&1 ||
    fail "the cluster did not start ($(tail -n 3 "$dir/cluster.log" | tr '\n' ' '))"
write_env ""   # stop.sh finds the pids even if what follows fails

for _ in $(seq 1 600); do
    port_open "$rgwport" && break
    for p in $(pids); do kill -0 "$p" 2>/dev/null || fail "a daemon exited"; done
    sleep 0.1
done
port_open "$rgwport" || fail "radosgw does not listen on $rgwport"

admin() {
    "$top/tools/debroot.sh" run "$root" timeout 120 radosgw-admin -c "$dir/cluster/ceph.conf" \
        -n client.admin "$@"
}
access=$(/usr/bin/python3 -c 'import secrets; print("S3DB" + secrets.token_hex(8).upper())')
secret=$(/usr/bin/python3 -c 'import secrets; print(secrets.token_hex(20))')
admin user create --uid=s3db --display-name=s3db --access-key="$access" --secret="$secret" \
    >"$dir/user.json" 2>"$dir/admin.log" || fail "radosgw-admin user create failed"

# the bucket, through radosgw's S3 API with a SigV4-signed request
/usr/bin/python3 - "$rgwport" "$access" "$secret" <<'PY' || fail "could not create the bucket"
import http.client, sys, time
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
port, ak, sk = sys.argv[1:4]
for attempt in range(30):
    req = AWSRequest(method="PUT", url="http://127.0.0.1:%s/s3db-test" % port)
    S3SigV4Auth(Credentials(ak, sk), "s3", "us-east-1").add_auth(req)
    try:
        c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
        c.request("PUT", "/s3db-test", headers=dict(req.headers.items()))
        r = c.getresponse()
        body = r.read()
        if r.status in (200, 409):  # 409: BucketAlreadyOwnedByYou
            sys.exit(0)
        print("PUT bucket:", r.status, body[:300], file=sys.stderr)
    except OSError as e:
        print("PUT bucket:", e, file=sys.stderr)
    time.sleep(1)
sys.exit(1)
PY

write_env "http://$access:$secret@127.0.0.1:$rgwport/s3db-test"
echo "ceph test server: radosgw 127.0.0.1:$rgwport, mon $monport, osd $osdport+ (pids $(pids)), $((SECONDS - t0)) s"
