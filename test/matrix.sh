#!/usr/bin/env bash
# The SQL suites on other PostgreSQL major versions, as root:
#
#   test/matrix.sh [MAJOR...]        (default: 17 18)
#
# Each major version comes from the Debian suite that ships it (15 bookworm,
# 17 trixie, 18 forky); PostgreSQL 16 is in none of them.  For each one this
# makes a root of that suite with its PostgreSQL and our build dependencies
# (tools/debroot.sh, cached in $S3DB_ROOTS, default
# /var/cache/s3db_fdw/roots/<suite>-pg<major>), copies the checkout to a
# scratch directory so objects of different majors never mix, and runs
# test/matrix-in-root.sh inside: build with -Werror and install into that
# root's PostgreSQL, the unit tests, a scratch cluster, pg_regress and
# isolation on file:// and on S3.  The S3 test server runs here on the host
# (the roots share its network) and serves every version, each under its
# own prefix.  Then the TAP tests (t/) run in each root; MATRIX_TAP=0
# leaves them out.
#
# Ends with one line "N passed, M failed" counting the stages of all
# versions; the time each root and each version took is printed.
set -uo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD

ROOTS=${S3DB_ROOTS:-/var/cache/s3db_fdw/roots}
MAJORS=("$@")
[ ${#MAJORS[@]} -gt 0 ] || MAJORS=(17 18)

suite_of() {
  case "$1" in
    15) echo bookworm ;;
    17) echo trixie ;;
    18) echo forky ;;
    *) return 1 ;;
  esac
}

# what a root holds besides PostgreSQL: the build dependencies of the
# extension and of its unit tests, python3 for the test helpers, and what
# the TAP tests need: PostgreSQL::Test::* and pg_regress (in
# postgresql-server-dev-NN), IPC::Run, nodejs and python3-botocore (the S3
# test server and its signature-checking proxy, s3db.js), and
# python3-psycopg2 for the differential tester.  The S3 server of the SQL
# suites runs on the host.  tools/debroot.sh keys its cache on this
# list: a root cached with another list is made again.
root_packages() {
  echo postgresql-"$1" postgresql-server-dev-"$1" \
    gcc make pkg-config libcurl4-openssl-dev libssl-dev libjson-c-dev \
    libxml2-dev zlib1g-dev libipc-run-perl python3 nodejs python3-botocore \
    python3-psycopg2
}

for v in "${MAJORS[@]}"; do
  if ! suite_of "$v" >/dev/null; then
    if [ "$v" = 16 ]; then
      echo "matrix: PostgreSQL 16 is packaged in no Debian suite reachable here (see README)" >&2
    else
      echo "matrix: no Debian suite known for PostgreSQL $v" >&2
    fi
    echo "0 passed, 1 failed"
    exit 1
  fi
done

[ -f test/s3/node_modules/s3rver/bin/s3rver.js ] || test/s3/setup.sh || exit 1
[ -d test/interop/node_modules/@aws-sdk/client-s3 ] || test/interop/setup.sh || exit 1

WORK=$(mktemp -d /tmp/s3db_fdw_matrix.XXXXXX)
chmod 0755 "$WORK"
cleanup() {
  test/s3/stop.sh "$WORK/s3" >/dev/null 2>&1 || true
  [ "${KEEP_WORK:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

passed=0; failed=0; failures=(); costs=()
count() {  # count NAME RC
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$1"); fi
}

test/s3/start.sh "$WORK/s3" || { echo "matrix: could not start the S3 test server"; echo "0 passed, 1 failed"; exit 1; }
. "$WORK/s3/env"
S3BASE=${S3DB_TEST_S3_URL%/}

# the read-only fixtures, once for all versions
t0=$SECONDS
for f in store broken corrupt; do
  node test/fixtures/upload.mjs test/fixtures/$f "$S3BASE/matrix/fixtures/$f" >>"$WORK/upload.log" 2>&1 ||
    { cat "$WORK/upload.log"; echo "matrix: could not upload the fixtures"; echo "0 passed, 1 failed"; exit 1; }
done
echo "matrix: fixtures uploaded ($((SECONDS - t0)) s)"

# a copy of the checkout as it is (tracked and new files, not build output)
copy_checkout() {  # copy_checkout DEST
  mkdir -p "$1"
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard |
      while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
      tar --null -T - -cf - | tar -xf - -C "$1"
  else
    cp -a . "$1" && make -C "$1" -s clean >/dev/null 2>&1
  fi
}

for v in "${MAJORS[@]}"; do
  suite=$(suite_of "$v")
  root=$ROOTS/$suite-pg$v
  echo "=== PostgreSQL $v ($suite, $root)"
  t0=$SECONDS
  # shellcheck disable=SC2046
  if tools/debroot.sh make "$root" "$suite" $(root_packages "$v") >"$WORK/root-$v.log" 2>&1; then
    count "PostgreSQL $v: root" 0
  else
    tail -n 30 "$WORK/root-$v.log"
    count "PostgreSQL $v: root" 1
    continue
  fi
  costs+=("root $suite-pg$v: $((SECONDS - t0)) s")

  t0=$SECONDS
  dir=$WORK/pg$v
  copy_checkout "$dir/src"
  # the npm packages (the S3 server and s3db.js of the TAP tests) are shared
  for nm in test/s3/node_modules test/interop/node_modules; do
    [ -d "$TOP/$nm" ] && ln -s "$TOP/$nm" "$dir/src/$nm"
  done
  tools/debroot.sh run "$root" env MAJOR="$v" MATRIX_DIR="$dir" MATRIX_TAP="${MATRIX_TAP:-1}" \
    S3DB_TEST_S3_URL="$S3DB_TEST_S3_URL" S3DB_MATRIX_S3="$S3BASE/matrix" \
    bash "$dir/src/test/matrix-in-root.sh" 2>&1 | tee "$dir.log"
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$dir.log" | tail -n 1)
  if [ -z "$line" ]; then
    count "PostgreSQL $v: run" 1
  else
    p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
    passed=$((passed + p)); failed=$((failed + f))
    while IFS= read -r stagename; do
      failures+=("PostgreSQL $v: $stagename")
    done < <(sed -n 's/^=== \(.*\): FAILED.*/\1/p' "$dir.log")
  fi
  costs+=("PostgreSQL $v: $((SECONDS - t0)) s")
done

if [ -s "$WORK/s3/signature-failures.log" ]; then
  echo "requests with bad signatures:"; cat "$WORK/s3/signature-failures.log"
  count "every S3 request correctly signed" 1
else
  count "every S3 request correctly signed" 0
fi

echo
printf 'matrix cost: %s\n' "${costs[@]}"
[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
