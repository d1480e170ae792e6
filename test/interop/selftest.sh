#!/bin/bash
# selftest.sh - tests the interop tooling itself, without PostgreSQL:
#   1. compare.mjs on the hand-made fixtures (one matching, one not);
#   2. s3db.js smoke test (check.mjs) on file://, memory:// and the S3
#      test server behind the signature-checking proxy;
#   3. corpus.mjs on file:// and on the proxied S3 server, readback.mjs,
#      and compare.mjs against a PostgreSQL-style rendering of each corpus
#      and single mutations of it (selftest_compare.mjs);
#   4. no signature failures were logged by the proxy.
# Servers are stopped on exit.  Scratch space: test/work/interop-selftest.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work="$here/../work/interop-selftest"
rm -rf "$work"; mkdir -p "$work"
"$here/setup.sh" >/dev/null || { echo "setup failed" >&2; exit 1; }
trap '"$here/../s3/stop.sh" "$work/s3"' EXIT
"$here/../s3/start.sh" "$work/s3" >/dev/null || exit 1
. "$work/s3/env"
node() { command node --no-warnings "$@"; }

pass=0; fail=0
check() { # check NAME COMMAND... : runs the command, counts the result
    local name=$1; shift
    if "$@" >"$work/last.out" 2>&1; then
        pass=$((pass + 1)); echo "ok - $name"
    else
        fail=$((fail + 1)); echo "not ok - $name"; sed 's/^/# /' "$work/last.out" | tail -30
    fi
}

fx="$here/fixtures/compare"
check "compare: matching fixture" \
    bash -c "out=\$(command node '$here/compare.mjs' '$fx' '$fx/sql-match.json') && [ \"\$out\" = '3 passed, 0 failed' ]"
check "compare: mismatching fixture reports exactly the expected lines" \
    bash -c "! command node '$here/compare.mjs' '$fx' '$fx/sql-mismatch.json' > '$work/mm.out'; diff '$work/mm.out' '$fx/sql-mismatch.expected'"

check "s3db.js on file://" node "$here/check.mjs" "file://$work/smoke-fs"
check "s3db.js on memory://" node "$here/check.mjs" "memory://smoke-bucket/prefix"
check "s3db.js on S3 through the proxy" node "$here/check.mjs" "$S3DB_TEST_S3_URL"

for target in fs s3; do
    if [ $target = fs ]; then url="file://$work/corpus-fs"; else url="$S3DB_TEST_S3_URL"; fi
    out="$work/out-$target"
    check "corpus on $target" node "$here/corpus.mjs" "$url" "$out"
    check "readback on $target" bash -c "command node --no-warnings '$here/readback.mjs' '$url' t_scalars c_files s_evolve > '$out/readback.json' &&
        command node -e '
            const r = require(\"$out/readback.json\"), e = require(\"$out/expected.json\");
            for (const n of [\"t_scalars\", \"c_files\", \"s_evolve\"])
                if (JSON.stringify(r[n]) !== JSON.stringify(Object.fromEntries(Object.entries(e.resources[n].records).map(([k, v]) => [k, v.get]))))
                    { console.error(\"readback differs for \" + n); process.exit(1); }'"
    check "compare against a rendering of the $target corpus and its mutations" \
        node "$here/selftest_compare.mjs" "$out" "$work/cmp-$target"
done
check "same get() results on file:// and S3 (timestamps aside)" node -e '
    const a = require(process.argv[1]).resources, b = require(process.argv[2]).resources;
    const strip = (r) => JSON.stringify(r, (k, v) => ["createdAt", "updatedAt", "metadata", "metadata_updatedat"].includes(k) ? undefined : v);
    for (const n of Object.keys(a)) if (strip(a[n]) !== strip(b[n])) { console.error("differs: " + n); process.exit(1); }
' "$work/out-fs/expected.json" "$work/out-s3/expected.json"
check "no signature failures logged by the proxy" test ! -s "$S3DB_TEST_S3_FAILURE_LOG"
[ -s "$S3DB_TEST_S3_FAILURE_LOG" ] && sed 's/^/# /' "$S3DB_TEST_S3_FAILURE_LOG" | cut -c1-300

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
