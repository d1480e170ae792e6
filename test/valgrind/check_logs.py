#!/usr/bin/python3
"""
check_logs.py DIR - reads the valgrind logs (one per process) in DIR and
fails when an error or a definite leak passes through s3db_fdw.

A log holds records separated by blank lines: "Invalid read of size 8",
"Conditional jump or move depends on uninitialised value(s)", "N bytes in
M blocks are definitely lost ...", each followed by its stack ("at", "by")
and, for uninitialised values, the origin's stack.  A record is the
extension's when any frame names s3db_fdw.so or one of its source files
(valgrind runs with --fullpath-after=, so frames carry the path).  Those
are printed whole and make the exit status 1; the others (PostgreSQL's
own, see run.sh) are counted by their first line.
"""

import collections
import os
import re
import sys

OURS = re.compile(r"s3db_fdw|/src/(fdw|store|format|coord)/|/plugins/[a-z_]+\.c")
PREFIX = re.compile(r"^==\d+== ?")


def records(path):
    rec = []
    with open(path, errors="replace") as f:
        for line in f:
            line = PREFIX.sub("", line.rstrip("\n"))
            if not line.strip():
                if rec:
                    yield rec
                rec = []
            else:
                rec.append(line)
    if rec:
        yield rec


def main():
    d = sys.argv[1]
    logs = sorted(os.listdir(d))
    ours, others = [], collections.Counter()
    for name in logs:
        for rec in records(os.path.join(d, name)):
            head = rec[0]
            if head.startswith(("HEAP SUMMARY", "LEAK SUMMARY", "ERROR SUMMARY")):
                continue
            if any(OURS.search(l) for l in rec):
                ours.append((name, rec))
            else:
                kind = re.sub(r"[\d,]+", "N", head)
                others[kind] += 1
    print(f"# {len(logs)} process logs; {len(ours)} records through s3db_fdw, "
          f"{sum(others.values())} inside PostgreSQL alone")
    for kind, n in others.most_common():
        print(f"#   {n:4d} x {kind}")
    for name, rec in ours:
        print(f"# --- {name}")
        for l in rec:
            print(f"#   {l}")
    if not logs:
        print("# no valgrind log was written: the server did not run under valgrind")
        return 1
    return 1 if ours else 0


if __name__ == "__main__":
    sys.exit(main())
