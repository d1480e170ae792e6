#!/bin/bash
# start.sh DIR - starts s3rver (bucket s3db-test, data in DIR/data) and the
# signature-checking proxy in front of it, both on free 127.0.0.1 ports.
# Writes DIR/env (shell-sourceable):
#   S3DB_TEST_S3_URL   connection string through the proxy
#   S3DB_TEST_S3_PIDS  process ids, for stop.sh
#   S3DB_TEST_S3_DIRECT_URL  s3rver without the proxy (for debugging only)
# and leaves both running.  DIR/signature-failures.log collects signature
# failures; a test run must fail if it is non-empty.  Stop with stop.sh DIR.
# With S3DB_TEST_S3_TRACE=1 the proxy logs every request to DIR/trace.log.
# With S3DB_TEST_S3_KEYS_FILE=FILE the proxy also accepts the temporary keys
# a credential stand-in lists in FILE (see sigv4_proxy.py, test/creds/).
# S3DB_TEST_S3_PORTS="S3RVER_PORT PROXY_PORT" reuses given ports (a test
# that stopped the servers brings them back where clients expect them).
# S3DB_TEST_S3_CONDITIONS=ceph18|none makes the proxy imitate a store that
# does not honour write conditions (sigv4_proxy.py --conditions).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: start.sh DIR}
mkdir -p "$dir/data"
dir=$(cd "$dir" && pwd)
s3rver_js="$here/node_modules/s3rver/bin/s3rver.js"
[ -f "$s3rver_js" ] || { echo "start.sh: run test/s3/setup.sh first" >&2; exit 1; }
rm -f "$dir/env" "$dir/proxy.port"
: > "$dir/signature-failures.log"

free_port() {
    /usr/bin/python3 "$here/../free_port.py"
}
port_open() {
    /usr/bin/python3 -c 'import socket, sys
s = socket.socket(); s.settimeout(0.5)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1"
}

read -r fixed_port fixed_pport <<<"${S3DB_TEST_S3_PORTS:-}"
s3pid=
for attempt in 1 2 3 4 5; do
    port=${fixed_port:-$(free_port)}
    node --openssl-legacy-provider "$s3rver_js" -d "$dir/data" -a 127.0.0.1 -p "$port" \
        --silent --configure-bucket s3db-test >"$dir/s3rver.log" 2>&1 &
    s3pid=$!
    for _ in $(seq 1 100); do
        kill -0 "$s3pid" 2>/dev/null || break
        port_open "$port" && break
        sleep 0.1
    done
    if kill -0 "$s3pid" 2>/dev/null && port_open "$port"; then
        break
    fi
    kill "$s3pid" 2>/dev/null || true
    wait "$s3pid" 2>/dev/null || true
    s3pid=
    [ -n "$fixed_port" ] && sleep 0.5
done
[ -n "$s3pid" ] || { echo "start.sh: s3rver did not start, see $dir/s3rver.log" >&2; exit 1; }

/usr/bin/python3 "$here/sigv4_proxy.py" --upstream "$port" ${fixed_pport:+--listen "$fixed_pport"} \
    --failure-log "$dir/signature-failures.log" --port-file "$dir/proxy.port" \
    ${S3DB_TEST_S3_TRACE:+--trace "$dir/trace.log"} \
    ${S3DB_TEST_S3_KEYS_FILE:+--keys-file "$S3DB_TEST_S3_KEYS_FILE"} \
    ${S3DB_TEST_S3_CONDITIONS:+--conditions "$S3DB_TEST_S3_CONDITIONS"} \
    >"$dir/proxy.log" 2>&1 &
proxypid=$!
for _ in $(seq 1 100); do
    [ -s "$dir/proxy.port" ] && break
    kill -0 "$proxypid" 2>/dev/null || break
    sleep 0.1
done
if ! [ -s "$dir/proxy.port" ] || ! port_open "$(cat "$dir/proxy.port")"; then
    echo "start.sh: proxy did not start, see $dir/proxy.log" >&2
    kill "$s3pid" "$proxypid" 2>/dev/null || true
    exit 1
fi
pport=$(cat "$dir/proxy.port")
cat > "$dir/env" <<ENV
S3DB_TEST_S3_URL=http://S3RVER:S3RVER@127.0.0.1:$pport/s3db-test
S3DB_TEST_S3_DIRECT_URL=http://S3RVER:S3RVER@127.0.0.1:$port/s3db-test
S3DB_TEST_S3_PIDS="$s3pid $proxypid"
S3DB_TEST_S3_FAILURE_LOG=$dir/signature-failures.log
ENV
echo "s3 test server: proxy 127.0.0.1:$pport -> s3rver 127.0.0.1:$port (pids $s3pid $proxypid)"
