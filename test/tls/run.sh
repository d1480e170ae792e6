#!/usr/bin/env bash
# TLS verification against an https store.
#
#   test/tls/run.sh            (as root; the extension must be installed)
#
# Makes a throw-away CA and a server certificate for the name "localhost"
# (no IP address in it), starts the S3 test server (test/s3/start.sh) with
# a TLS relay (test/tls/tls_relay.py) in front of it, and checks that
# https stores are verified by default: a certificate the system does not
# trust is refused, so is a trusted one for another host name, ca_file
# makes the test CA trusted, and only verify_tls 'off' (a superuser's
# option) skips the checks.  Each refusal must be a clear error that names
# TLS and carries no credential.  Ends with "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
TOP=$PWD
. test/lib.sh

WORK=$(mktemp -d /tmp/s3db_tls.XXXXXX)
make_work "$WORK"
RELAY_PID=
cleanup() {
  [ -n "$RELAY_PID" ] && kill "$RELAY_PID" 2>/dev/null
  pg_stop "$WORK/pg"
  test/s3/stop.sh "$WORK/s3" >/dev/null 2>&1 || true
  [ -n "$RELAY_PID" ] && wait "$RELAY_PID" 2>/dev/null
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@" 2>&1; }

# ---- a CA and a certificate for "localhost" ---------------------------------
C=$WORK/certs; mkdir -p "$C"
{
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=s3db_fdw test CA" \
    -keyout "$C/ca.key" -out "$C/ca.pem" &&
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$C/server.key" -out "$C/server.csr" &&
  printf 'subjectAltName = DNS:localhost\n' >"$C/ext.cnf" &&
  openssl x509 -req -in "$C/server.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial \
    -days 2 -extfile "$C/ext.cnf" -out "$C/server.pem"
} >"$WORK/openssl.log" 2>&1 || die "could not make the certificates: $(cat "$WORK/openssl.log")"
chmod 0644 "$C"/*.pem; chmod 0755 "$C"

# ---- servers ------------------------------------------------------------------
test/s3/start.sh "$WORK/s3" >/dev/null || die "could not start the S3 test server"
. "$WORK/s3/env"
hostport() { local a=${1#*@}; echo "${a%%/*}"; }
SIGV4_PORT=$(hostport "$S3DB_TEST_S3_URL"); SIGV4_PORT=${SIGV4_PORT##*:}
/usr/bin/python3 test/tls/tls_relay.py --cert "$C/server.pem" --key "$C/server.key" \
  --upstream "$SIGV4_PORT" --port-file "$WORK/relay.port" >"$WORK/relay.log" 2>&1 &
RELAY_PID=$!
for _ in $(seq 1 50); do [ -s "$WORK/relay.port" ] && break; sleep 0.1; done
[ -s "$WORK/relay.port" ] || die "the TLS relay did not start: $(cat "$WORK/relay.log")"
TLS_PORT=$(cat "$WORK/relay.port")
node test/fixtures/upload.mjs test/fixtures/store "${S3DB_TEST_S3_URL%/}/tls/store" >"$WORK/upload.log" 2>&1 \
  || die "could not upload the fixture store: $(cat "$WORK/upload.log")"
pg_start "$WORK/pg" >/dev/null || die "could not start PostgreSQL"

SECRET=tls-test-secret-do-not-leak
server() {  # server NAME HOST OPTIONS...
  local name=$1 host=$2; shift 2
  local opts="connection_string 'https://$host:$TLS_PORT/s3db-test/tls/store', max_retries '1', connect_timeout '2000', request_timeout '5000'"
  for o in "$@"; do opts="$opts, $o"; done
  echo "CREATE SERVER $name FOREIGN DATA WRAPPER s3db_fdw OPTIONS ($opts);
CREATE USER MAPPING FOR CURRENT_USER SERVER $name
  OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER', session_token '$SECRET');
CREATE FOREIGN TABLE ${name}_people (id text, name text) SERVER $name OPTIONS (resource 'people');"
}
setup="CREATE EXTENSION s3db_fdw;
$(server untrusted localhost)
$(server trusted localhost "ca_file '$C/ca.pem'")
$(server wrong_host 127.0.0.1 "ca_file '$C/ca.pem'")
$(server unverified localhost "verify_tls 'off'")"
out=$(printf '%s\n' "$setup" | sql 2>&1 >/dev/null)
[ -z "$out" ] || die "setup failed: $out"
echo "TAP version 13"

Q="SELECT string_agg(id, ',' ORDER BY id) FROM"
WANT="alice,bob,chloé,dan 2"

refused() {  # refused LABEL TABLE
  local out; out=$(sql -v VERBOSITY=verbose -c "$Q $2")
  PROBLEMS=()
  has "$out" ERROR || PROBLEMS+=("no error: $out")
  { has "$out" "TLS" || has "$out" "SSL" || has "$out" "certificate"; } || PROBLEMS+=("the error does not name TLS: $out")
  { has "$out" "$SECRET" || has "$out" "S3RVER"; } && PROBLEMS+=("a credential in the error: $out")
  check "$1" "${PROBLEMS[@]+"${PROBLEMS[@]}"}"
  printf '%s\n' "$out" | sed -n 's/^/#   /; /ERROR\|DETAIL\|HINT/p' | head -3
}
accepted() {  # accepted LABEL TABLE
  local out; out=$(sql -c "$Q $2")
  PROBLEMS=()
  [ "$out" = "$WANT" ] || PROBLEMS+=("rows: $out")
  check "$1" "${PROBLEMS[@]+"${PROBLEMS[@]}"}"
}

refused "a certificate from a CA the system does not trust is refused by default" untrusted_people
accepted "with ca_file naming that CA, the same store is read" trusted_people
refused "a trusted certificate for another host name (localhost, reached as 127.0.0.1) is refused" wrong_host_people
accepted "verify_tls 'off' skips both checks" unverified_people

out=$(sql -c "CREATE ROLE s3db_tls_user" -c "GRANT USAGE ON FOREIGN DATA WRAPPER s3db_fdw TO s3db_tls_user" \
          -c "SET ROLE s3db_tls_user" \
          -c "CREATE SERVER mine FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 's3://bucket', verify_tls 'off')")
PROBLEMS=()
has "$out" "permission denied" || PROBLEMS+=("a non-superuser turned TLS verification off: $out")
check "only a superuser may turn verification off" "${PROBLEMS[@]+"${PROBLEMS[@]}"}"

PROBLEMS=()
leaks=$(grep -n -e "$SECRET" -e "S3RVER" "$WORK/pg/server.log" | head -3)
[ -z "$leaks" ] || PROBLEMS+=("credentials in the server log: $leaks")
check "no credential reached the server log" "${PROBLEMS[@]+"${PROBLEMS[@]}"}"

echo "1..$n"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
