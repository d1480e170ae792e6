#!/bin/bash
# Installs what the local S3 test server needs: s3rver from npm into
# test/s3/node_modules and botocore for the Debian python (the signature
# checking proxy).  Safe to run repeatedly; does nothing when all is there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -f "$here/node_modules/s3rver/package.json" ] ||
   ! grep -q '"version": "3.7.1"' "$here/node_modules/s3rver/package.json"; then
    # the versions of package-lock.json, whatever the registry has since published
    (cd "$here" && npm install --no-audit --no-fund --package-lock=true --loglevel=error)
fi

# python3 on PATH may be a private interpreter without Debian's packages,
# so the proxy always runs under /usr/bin/python3
if ! /usr/bin/python3 -c 'import botocore' 2>/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y python3-botocore >/dev/null ||
        { apt-get update >/dev/null && apt-get install -y python3-botocore >/dev/null; }
fi
/usr/bin/python3 -c 'import botocore' 
