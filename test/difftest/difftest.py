#!/usr/bin/python3
"""Differential test of s3db_fdw's transactions against PostgreSQL's own.

Random transactions (nested savepoints, ROLLBACK TO and RELEASE, PL/pgSQL
blocks that raise and catch, statements that fail inside a savepoint,
TRUNCATE, inserts, updates by id and by predicate, deletes of present and
absent ids, COMMIT and ROLLBACK) run statement by statement on a foreign
table and, in a second session, on a heap table with the same columns.
After every statement the two sessions must agree on the outcome (row
count, or the SQLSTATE of the error) and on the contents of their table as
their own transaction sees it; after the transaction, on what it
committed.  With --sessions N, N pairs of sessions run at once, each on its
own range of ids (where the outcome does not depend on the interleaving),
and TRUNCATE becomes a delete of the session's range.

Everything is generated from --seed: transaction K of session S is the
same on every run.  On a divergence the transaction is replayed from the
same starting contents while statements are dropped as long as the
divergence remains, and the smallest transaction is printed with the seed;
the exit status is then 1.

The superuser (the libpq environment: PGHOST, PGPORT, PGUSER) only sets
up: a scratch database, the server, the tables, and an application role
that holds what a DBA grants an application: table privileges, USAGE on
the server and its own user mapping (and, as the regression suites grant
it, pg_read_server_files and pg_write_server_files for a file:// store).
Every transaction runs as that role.

    test/difftest/difftest.py --url file:///some/dir --seed 1 --count 2000
"""
import argparse
import os
import random
import sys
import threading
import time

import psycopg2
import psycopg2.extensions

ROLE = None  # the application role: "<database>_app" (--db)
FT = "ft"
HT = "ht"


# ---------------------------------------------------------------------------
# Generating transactions
# ---------------------------------------------------------------------------

class Block:
    """A PL/pgSQL block: statements (text) and inner blocks, maybe a handler."""

    def __init__(self, parts, handler):
        self.parts = parts
        self.handler = handler

    def text(self):
        body = " ".join(p if isinstance(p, str) else p.text() for p in self.parts)
        if self.handler:
            return "BEGIN " + body + " EXCEPTION " + self.handler + " END;"
        return "BEGIN " + body + " END;"

    def smaller(self):
        """The blocks with one part fewer, here or in an inner block."""
        for j, p in enumerate(self.parts):
            if len(self.parts) > 1:
                yield Block(self.parts[:j] + self.parts[j + 1:], self.handler)
            if isinstance(p, Block):
                for q in p.smaller():
                    yield Block(self.parts[:j] + [q] + self.parts[j + 1:], self.handler)


def sql(stmt, table):
    """A statement's text for a table; a Block is a DO statement."""
    text = stmt if isinstance(stmt, str) else "DO $do$ " + stmt.text() + " $do$"
    return text.replace("{t}", table)


class Gen:
    """Statements of one transaction; {t} stands for the table."""

    def __init__(self, rng, prefix, txn, shared, pool, bulk):
        self.r = rng
        self.pool = pool  # ids that statements pick from
        self.bulk = bulk  # most records one bulk insert writes (0: none)
        self.p = prefix
        self.txn = txn
        self.shared = shared  # other sessions run at once: no TRUNCATE
        self.fresh = 0
        self.nsp = 0

    def pool_id(self):
        return "%sk%02d" % (self.p, self.r.randrange(self.pool))

    def fresh_id(self):
        self.fresh += 1
        return "%sn%d_%d" % (self.p, self.txn, self.fresh)

    def scope(self):
        return "id LIKE '%s%%'" % self.p

    def word(self):
        return self.r.choice(["'a'", "'b'", "'c'", "NULL"])

    def dml(self):
        r = self.r
        k = r.random()
        if k < 0.22:
            i = self.pool_id()
            return ("INSERT INTO {t} (id, v, w) SELECT '%s', %d, %s WHERE NOT EXISTS "
                    "(SELECT 1 FROM {t} WHERE id = '%s')" % (i, r.randrange(100), self.word(), i))
        if k < 0.28:
            # reads the table it writes: sees none of its own rows
            return ("INSERT INTO {t} (id, v, w) SELECT '%s' || id, v + 1, w FROM {t} "
                    "WHERE id LIKE '%sk%%'" % (self.fresh_id(), self.p))
        if k < 0.32:
            rows = ", ".join("('%s', %d, %s)" % (self.fresh_id(), r.randrange(100), self.word())
                             for _ in range(r.randint(1, 3)))
            return "INSERT INTO {t} (id, v, w) VALUES " + rows
        if k < 0.38:
            a = r.randrange(self.pool)
            b = min(self.pool - 1, a + r.randint(0, 4))
            return ("INSERT INTO {t} (id, v, w) SELECT '%sk' || lpad(g::text, 2, '0'), g * 7, 'm' "
                    "FROM generate_series(%d, %d) g WHERE NOT EXISTS (SELECT 1 FROM {t} x "
                    "WHERE x.id = '%sk' || lpad(g::text, 2, '0'))" % (self.p, a, b, self.p))
        if k < 0.52:
            return "UPDATE {t} SET v = v + %d, w = %s WHERE id = '%s'" % (
                r.randint(1, 9), self.word(), self.pool_id())
        if k < 0.62:
            return "UPDATE {t} SET v = v * 2 + 1 WHERE %s AND v %% 3 = %d" % (
                self.scope(), r.randrange(3))
        if k < 0.66:
            return "UPDATE {t} SET w = coalesce(w, '') || 'x' WHERE %s AND w IS DISTINCT FROM %s" % (
                self.scope(), self.word())
        if k < 0.80:
            return "DELETE FROM {t} WHERE id = '%s'" % self.pool_id()
        if k < 0.84:
            return "DELETE FROM {t} WHERE id = '%sabsent%d'" % (self.p, r.randrange(3))
        if k < 0.87:
            return "DELETE FROM {t} WHERE %s AND v > %d" % (self.scope(), r.randrange(40, 200))
        if k < 0.88 and self.bulk > 0:
            # many records at once: beyond a small work_mem they go to the spill file
            return ("INSERT INTO {t} (id, v, w) SELECT '%sb%d_' || g, (g * 37) %% 100, "
                    "repeat('z', %d) FROM generate_series(1, %d) g"
                    % (self.p, self.txn * 100 + self.r.randrange(100), self.r.randrange(100, 400),
                       self.r.randint(1, self.bulk)))
        if k < 0.90:
            # the bulk records, and fresh ones, do not pile up
            return "DELETE FROM {t} WHERE id LIKE '%s%s%%'" % (self.p, r.choice("bbn"))
        if k < 0.93:
            return self.failing()
        if self.shared:
            return "DELETE FROM {t} WHERE %s" % self.scope()
        return "TRUNCATE {t}"

    def failing(self):
        """An UPDATE that may write some rows before it fails on another."""
        return "UPDATE {t} SET v = 100 / (v - %d) WHERE %s" % (self.r.randrange(100), self.scope())

    def block(self, depth):
        """A PL/pgSQL block: statements, maybe inner blocks, maybe a RAISE."""
        r = self.r
        parts = []
        for _ in range(r.randint(1, 3)):
            if depth < 3 and r.random() < 0.3:
                parts.append(self.block(depth + 1))
            else:
                parts.append(self.dml() + ";")
        raise_it = r.random() < 0.5
        if raise_it:
            parts.insert(r.randint(0, len(parts)), r.choice(
                ["RAISE EXCEPTION 'boom';", "PERFORM 1 / 0;"]))
        if depth == 0 and not raise_it and r.random() < 0.5:
            return Block(parts, None)
        handler = r.choice(["WHEN raise_exception THEN NULL;",
                            "WHEN division_by_zero THEN NULL;",
                            "WHEN OTHERS THEN NULL;"])
        if depth > 0 and r.random() < 0.25:
            return Block(parts, None)  # the error goes to the outer block
        return Block(parts, handler)

    def transaction(self, length):
        r = self.r
        out = []
        stack = []
        cursors = 0
        for _ in range(length):
            k = r.random()
            if k < 0.14:
                self.nsp += 1
                name = "s%d" % self.nsp
                stack.append(name)
                out.append("SAVEPOINT " + name)
            elif k < 0.24 and stack:
                i = r.randrange(len(stack))
                out.append("ROLLBACK TO SAVEPOINT " + stack[i])
                del stack[i + 1:]
            elif k < 0.30 and stack:
                i = r.randrange(len(stack))
                out.append("RELEASE SAVEPOINT " + stack[i])
                del stack[i:]
            elif k < 0.34 and stack:
                # a failing statement, then back to the innermost savepoint
                out.append(r.choice(["SELECT 1 / 0", self.failing()]))
                out.append("ROLLBACK TO SAVEPOINT " + stack[-1])
            elif k < 0.46:
                out.append(self.block(0))
            elif k < 0.49:
                # sees the transaction as it is now, whatever comes later
                cursors += 1
                out.append("DECLARE c%d CURSOR FOR SELECT id, v, w FROM {t} WHERE %s ORDER BY id"
                           % (cursors, self.scope()))
            elif k < 0.53 and cursors:
                out.append("FETCH %s c%d" % (r.choice(["1", "2", "ALL"]), r.randint(1, cursors)))
            else:
                out.append(self.dml())
        out.append("COMMIT" if r.random() < 0.7 else "ROLLBACK")
        return out


def generate(args, session, txn, shared, prefix):
    rng = random.Random("%s/%d/%d" % (args.seed, session, txn))
    g = Gen(rng, prefix, txn, shared, args.pool, args.bulk)
    return g.transaction(rng.randint(2, 14))


# ---------------------------------------------------------------------------
# Running transactions on both tables
# ---------------------------------------------------------------------------

def execute(conn, sql):
    """('ok', rowcount) or ('error', sqlstate)."""
    cur = conn.cursor()
    try:
        cur.execute(sql)
        return ("ok", cur.rowcount)
    except psycopg2.Error as e:
        return ("error", e.pgcode or str(e).strip())
    finally:
        cur.close()


def contents(conn, table, prefix):
    cur = conn.cursor()
    try:
        # sorted here: a sort in the server could spill and blur the count of spill files
        cur.execute("SELECT id, v, w FROM %s WHERE id LIKE '%s%%'" % (table, prefix))
        return ("ok", sorted(cur.fetchall()))
    except psycopg2.Error as e:
        return ("error", e.pgcode)
    finally:
        cur.close()


def error_text(conn, sql):
    cur = conn.cursor()
    try:
        cur.execute(sql)
        return ""
    except psycopg2.Error as e:
        return str(e).strip().splitlines()[0]
    finally:
        cur.close()


class Pair:
    """A session on the foreign table and one on its heap twin."""

    def __init__(self, connect, prefix):
        self.f = connect(True)
        self.h = connect(False)
        self.prefix = prefix

    def run(self, stmts):
        """None when both agree throughout, else a description of the first difference."""
        for n, s in enumerate(["BEGIN"] + stmts):
            rf = execute(self.f, sql(s, FT))
            rh = execute(self.h, sql(s, HT))
            if rf != rh:
                self.abort()
                return "statement %d %r: foreign table %s, heap %s" % (n, sql(s, FT), rf, rh)
            cf = contents(self.f, FT, self.prefix)
            ch = contents(self.h, HT, self.prefix)
            if cf != ch:
                self.abort()
                return "after statement %d %r: foreign table sees %s, heap %s" % (
                    n, sql(s, FT), cf, ch)
        self.abort()
        cf = contents(self.f, FT, self.prefix)
        ch = contents(self.h, HT, self.prefix)
        if cf != ch:
            return "after the transaction: foreign table holds %s, heap %s" % (cf, ch)
        return None

    def abort(self):
        # whatever the transaction left open (nothing after COMMIT/ROLLBACK)
        for c in (self.f, self.h):
            if c.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
                execute(c, "ROLLBACK")

    def committed(self):
        return contents(self.h, HT, self.prefix)[1]

    def reset(self, rows):
        """Make both tables hold exactly rows in this session's range."""
        for c, t in ((self.f, FT), (self.h, HT)):
            execute(c, "BEGIN")
            execute(c, "DELETE FROM %s WHERE id LIKE '%s%%'" % (t, self.prefix))
            for (i, v, w) in rows:
                cur = c.cursor()
                cur.execute("INSERT INTO " + t + " (id, v, w) VALUES (%s, %s, %s)", (i, v, w))
                cur.close()
            r = execute(c, "COMMIT")
            if r[0] != "ok":
                raise RuntimeError("could not reset %s: %s" % (t, r))

    def close(self):
        self.f.close()
        self.h.close()


def shrink(pair, rows, stmts, budget):
    """Drop statements (the final COMMIT/ROLLBACK stays), then parts of DO blocks,
    while the divergence remains."""
    def diverges(cand):
        pair.reset(rows)
        return pair.run(cand) is not None

    body, end = stmts[:-1], stmts[-1:]
    chunk = max(1, len(body) // 2)
    while chunk >= 1 and budget > 0:
        i = 0
        changed = False
        while i < len(body) and budget > 0:
            cand = body[:i] + body[i + chunk:]
            budget -= 1
            if diverges(cand + end):
                body = cand
                changed = True
            else:
                i += chunk
        if not changed:
            chunk //= 2
    # then the parts of the DO blocks
    changed = True
    while changed and budget > 0:
        changed = False
        for i, s in enumerate(body):
            if not isinstance(s, Block):
                continue
            for v in s.smaller():
                if budget <= 0:
                    break
                budget -= 1
                cand = body[:i] + [v] + body[i + 1:]
                if diverges(cand + end):
                    body = cand
                    changed = True
                    break
            if changed:
                break
    pair.reset(rows)
    why = pair.run(body + end)
    return body + end, why


# ---------------------------------------------------------------------------
# Setup, sessions, report
# ---------------------------------------------------------------------------

def admin_exec(conn, sql, args=None):
    cur = conn.cursor()
    cur.execute(sql, args)
    cur.close()


def setup(args, db):
    a = psycopg2.connect(dbname=args.admin_db)
    a.autocommit = True
    admin_exec(a, "DROP DATABASE IF EXISTS " + db)
    admin_exec(a, "CREATE DATABASE " + db)
    admin_exec(a, "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '%s') "
                  "THEN CREATE ROLE %s LOGIN; END IF; END $$" % (ROLE, ROLE))
    a.close()
    s = psycopg2.connect(dbname=db)
    s.autocommit = True
    resource = "dt%d" % (int(time.time() * 1000) % 100000000)
    for sql in [
        "CREATE EXTENSION s3db_fdw",
        "CREATE SERVER dt FOREIGN DATA WRAPPER s3db_fdw" +
        (" OPTIONS (%s)" % args.server_options if args.server_options else ""),
        "CREATE USER MAPPING FOR CURRENT_USER SERVER dt OPTIONS (connection_string %(url)s)",
        "CREATE USER MAPPING FOR " + ROLE + " SERVER dt OPTIONS (connection_string %(url)s)",
        "GRANT USAGE ON FOREIGN SERVER dt TO " + ROLE,
        "CREATE FOREIGN TABLE ft (id text, v int, w text) SERVER dt OPTIONS (resource '%s')" % resource,
        "SELECT s3db_create_resource('ft')",
        "CREATE TABLE ht (id text PRIMARY KEY, v int, w text)",
        "GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ft, ht TO " + ROLE,
    ] + ([
        # a file:// store is a server file: the role must be allowed to use them
        "GRANT pg_read_server_files, pg_write_server_files TO " + ROLE,
    ] if args.url.startswith("file:") else []) + args.setup_sql:
        admin_exec(s, sql, {"url": args.url})
    s.close()
    return resource


def temp_files(db):
    """Temporary files created in the database so far (the statistics lag a little)."""
    s = psycopg2.connect(dbname=db)
    cur = s.cursor()
    cur.execute("SELECT pg_catalog.pg_stat_force_next_flush()")
    cur.execute("SELECT temp_files FROM pg_catalog.pg_stat_database WHERE datname = %s", (db,))
    n = cur.fetchone()[0] or 0
    s.close()
    return n


def session_options(args, foreign):
    """A small work_mem for the foreign table's session, so its large transactions spill."""
    return "-c work_mem=%s" % args.work_mem if args.work_mem and foreign else ""


def teardown(args, db):
    a = psycopg2.connect(dbname=args.admin_db)
    a.autocommit = True
    admin_exec(a, "DROP DATABASE IF EXISTS " + db)
    try:
        admin_exec(a, "DROP ROLE IF EXISTS " + ROLE)
    except psycopg2.Error:
        pass  # still used by another run's database (one kept with --keep)
    a.close()


def session_main(args, db, sidx, nsessions, result):
    prefix = chr(ord("a") + sidx)

    def connect(foreign):
        c = psycopg2.connect(dbname=db, user=ROLE, options=session_options(args, foreign))
        c.autocommit = True  # transactions are the generated BEGIN ... COMMIT
        return c

    pair = Pair(connect, prefix)
    try:
        for k in range(sidx, args.count, nsessions):
            stmts = generate(args, sidx, k, nsessions > 1, prefix)
            before = pair.committed()
            why = pair.run(stmts)
            if why is not None:
                result.append((k, sidx, prefix, before, stmts, why))
                if not args.keep_going:
                    return
                pair.reset(pair.committed())  # go on from the heap's contents
            if result and not args.keep_going:
                return  # another session found one
            if args.verbose and k % 100 == 0:
                print("difftest: transaction %d" % k, flush=True)
    finally:
        pair.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True, help="connection_string of the store")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--count", type=int, default=1000, help="transactions in all")
    ap.add_argument("--sessions", type=int, default=1, help="pairs of sessions at once")
    ap.add_argument("--work-mem", default="64kB",
                    help="work_mem of the sessions: small, so large transactions spill to disk")
    ap.add_argument("--pool", type=int, default=12, help="ids per session statements pick from")
    ap.add_argument("--bulk", type=int, default=100,
                    help="most records of one bulk insert (0: no bulk inserts)")
    ap.add_argument("--server-options", default="",
                    help="options of the foreign server, e.g. \"cache_size '8'\"")
    ap.add_argument("--db", default="s3db_difftest")
    ap.add_argument("--admin-db", default="postgres")
    ap.add_argument("--setup-sql", action="append", default=[],
                    help="one more statement the superuser runs after setting up")
    ap.add_argument("--keep", action="store_true", help="keep the database")
    ap.add_argument("--keep-going", action="store_true",
                    help="count every diverging transaction instead of stopping at the first")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    global ROLE
    ROLE = args.db + "_app"  # one per database: runs on other databases may go on at once
    sessions = max(1, min(args.sessions, 20))

    setup(args, args.db)
    temp0 = temp_files(args.db)
    t0 = time.time()
    result = []
    threads = [threading.Thread(target=session_main, args=(args, args.db, i, sessions, result))
               for i in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    status = 0
    if result:
        if args.keep_going:
            print("difftest: %d of %d transactions diverged at seed %s (first: %s)"
                  % (len(result), args.count, args.seed,
                     ", ".join(str(x[0]) for x in sorted(result)[:10])))
        k, sidx, prefix, before, stmts, why = min(result)
        print("difftest: DIVERGENCE at seed %s, transaction %d (session %d of %d)"
              % (args.seed, k, sidx, sessions))
        print("  first difference: " + why)

        def connect(foreign):
            c = psycopg2.connect(dbname=args.db, user=ROLE, options=session_options(args, foreign))
            c.autocommit = True
            return c

        pair = Pair(connect, prefix)
        small, swhy = shrink(pair, before, stmts, 400)
        pair.close()
        print("  starting from the committed rows %s" % (before,))
        if swhy is None:
            print("  (does not diverge when replayed alone; the whole transaction:)")
            small = stmts
        else:
            print("  smallest transaction that still diverges: " + swhy)
        for s in ["BEGIN"] + small:
            print("    " + sql(s, FT) + ";")
        print("  reproduce: %s --url URL --seed %s --count %d --sessions %d --pool %d --bulk %d"
              % (sys.argv[0], args.seed, args.count, sessions, args.pool, args.bulk))
        status = 1
    else:
        print("difftest: %d transactions in %d session(s), seed %s: no divergence "
              "(%.0f s; %d temporary files: writes spilled beyond work_mem)"
              % (args.count, sessions, args.seed, time.time() - t0,
                 temp_files(args.db) - temp0))
    if not args.keep:
        teardown(args, args.db)
    return status


if __name__ == "__main__":
    sys.exit(main())
