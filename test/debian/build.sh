#!/usr/bin/env bash
# Build the Debian binary packages as Debian and the PostgreSQL apt
# repository do, and check what they contain.
#
#   test/debian/build.sh        (needs debhelper and postgresql-server-dev-all)
#
# Copies the tree (tracked and new files, not ignored ones) to a scratch
# directory, regenerates debian/control for the PostgreSQL majors installed
# here (pg_buildext updatecontrol), runs dpkg-buildpackage -us -uc -b, and
# checks that every postgresql-<major>-s3db-fdw package holds the module,
# the control file and the install script for its major.  Ends with
# "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
TOP=$PWD
. test/lib.sh

WORK=$(mktemp -d /tmp/s3db_deb.XXXXXX)
cleanup() { if [ "${KEEP_WORK:-0}" = 1 ]; then echo "# kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM

for t in dpkg-buildpackage pg_buildext dh; do
  command -v "$t" >/dev/null || die "$t is missing (tools/setup-deps.sh installs it)"
done

mkdir -p "$WORK/src"
git ls-files -z -c -o --exclude-standard | tar -C "$TOP" --null -T - -cf - | tar -C "$WORK/src" -xf - \
  || die "could not copy the tree"
cd "$WORK/src"
pg_buildext updatecontrol >/dev/null || die "pg_buildext updatecontrol failed"
versions=$(pg_buildext supported-versions)
[ -n "$versions" ] || die "no PostgreSQL major to build for (install postgresql-server-dev-<major>)"
echo "TAP version 13"

log=$WORK/build.log
if DEB_BUILD_OPTIONS="parallel=2 nocheck" dpkg-buildpackage -us -uc -b >"$log" 2>&1; then
  ok "dpkg-buildpackage -us -uc -b builds for PostgreSQL $(echo $versions)"
else
  not_ok "dpkg-buildpackage -us -uc -b failed" "$(tail -n 30 "$log")"
fi

ver=$(sed -n 's/^default_version = .\(.*\).$/\1/p' s3db_fdw.control)
for v in $versions; do
  deb=$(ls "$WORK"/postgresql-"$v"-s3db-fdw_*.deb 2>/dev/null | head -1)
  PROBLEMS=()
  if [ -z "$deb" ]; then
    PROBLEMS+=("no package postgresql-$v-s3db-fdw")
  else
    files=$(dpkg-deb -c "$deb" | awk '{print $NF}')
    for f in "./usr/lib/postgresql/$v/lib/s3db_fdw.so" \
             "./usr/share/postgresql/$v/extension/s3db_fdw.control" \
             "./usr/share/postgresql/$v/extension/s3db_fdw--$ver.sql"; do
      grep -qxF "$f" <<<"$files" || PROBLEMS+=("$f is missing from $(basename "$deb")")
    done
    deps=$(dpkg-deb -f "$deb" Depends)
    has "$deps" "postgresql-$v" || PROBLEMS+=("Depends does not name postgresql-$v: $deps")
    has "$deps" "libcurl" || PROBLEMS+=("Depends does not name libcurl: $deps")
  fi
  check "postgresql-$v-s3db-fdw holds s3db_fdw.so, s3db_fdw.control and s3db_fdw--$ver.sql" \
    "${PROBLEMS[@]+"${PROBLEMS[@]}"}"
done

echo "1..$n"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
