#!/bin/bash
# Installs s3db.js 21.6.2 and its (shimmed) dependencies into
# test/interop/node_modules; npm only, idempotent.  Also prepares the S3
# test server (test/s3/setup.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/../s3/setup.sh"
stamp="$here/node_modules/.s3db-fdw-interop-stamp"
want=$(cat "$here/package.json" "$here/package-lock.json" "$here"/shims/*/package.json "$here"/shims/*/index.js | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
   [ -f "$here/node_modules/s3db.js/package.json" ] &&
   [ -f "$here/node_modules/recker/index.js" ] &&
   [ -f "$here/node_modules/cli-args-parser/index.js" ]; then
    exit 0
fi
# start from scratch: npm resolves the file: overrides against the wrong
# directory when it updates an existing tree, and the shims are installed
# as copies (install-links) that an update would not refresh
rm -rf "$here/node_modules"
# the versions of package-lock.json (an npm configured with package-lock=false
# would ignore it); later releases of the AWS SDK need a newer Node.js
(cd "$here" && npm install --package-lock=true --loglevel=error)
(cd "$here" && node --input-type=module -e 'import { S3db } from "s3db.js"; if (!S3db) process.exit(1)')
echo "$want" > "$stamp"
