-- One pgbench transaction of the load test (test/load/run.sh): mostly
-- reads by id and increments, sometimes a full scan.  An increment is
-- logged into the local table "increments" in the same transaction, so
-- the count of committed increments per id is known exactly.  A COMMIT
-- that fails with a serialization failure (40001) rolls the log row back
-- too and is retried by pgbench (--max-tries).
\set r random(1, 100)
\set k random(1, 20)
\if :r <= 35
SELECT n FROM counters WHERE id = 'c' || :k;
\elif :r <= 95
BEGIN;
UPDATE counters SET n = n + 1 WHERE id = 'c' || :k;
INSERT INTO increments (id) VALUES ('c' || :k);
COMMIT;
\else
SELECT count(*), sum(n) FROM counters;
\endif
