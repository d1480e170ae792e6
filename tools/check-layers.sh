#!/usr/bin/env bash
# The layering rules of the source tree, checked rather than trusted:
#
#  1. src/store, src/format and src/coord are plain C: no PostgreSQL header,
#     so they build, fuzz and unit-test without a server.
#  2. src/fdw includes nothing from plugins/: plugins reach the FDW through
#     its observer interface (src/fdw/observer.h), never the other way round.
#  3. Only src/store itself and the tests tell a store how it keeps write
#     conditions (s3s_set_conditions): everything else leaves that to the
#     probe behind the store's write gate (src/store/gate.c), so no path of
#     the extension writes to a store that was never checked.  A probe's
#     result is handed to another store (s3s_adopt_probe) only where results
#     are shared between backends, src/fdw/probe_shared.c.
#
# Prints each violation and exits 1 if there is one.
set -uo pipefail
cd "$(dirname "$0")/.."
bad=0
report() { echo "$1"; bad=1; }

while IFS= read -r hit; do
  report "PostgreSQL header in a plain C layer: $hit"
done < <(grep -nE '^\s*#\s*include\s*[<"](postgres|postgres_ext|fmgr|utils/|nodes/|access/|catalog/|executor/|miscadmin)' \
           --include='*.c' --include='*.h' -r src/store src/format src/coord)

while IFS= read -r hit; do
  report "src/fdw includes a plugin: $hit"
done < <(grep -nE '^\s*#\s*include\s*"(\.\./)*plugins/' --include='*.c' --include='*.h' -r src/fdw)

while IFS= read -r hit; do
  report "a store's conditions declared outside src/store and the tests: $hit"
done < <(grep -nw 's3s_set_conditions' --include='*.c' --include='*.h' -r . \
           | grep -vE '^\./(src/store|test)/')

while IFS= read -r hit; do
  report "a probe result adopted outside src/store, probe_shared.c and the tests: $hit"
done < <(grep -nw 's3s_adopt_probe' --include='*.c' --include='*.h' -r . \
           | grep -vE '^\./(src/store|test)/|^\./src/fdw/(probe_shared\.c|probe\.h):')

[ "$bad" -eq 0 ] && echo "layers: ok"
exit "$bad"
