--
-- What a scan sees of its own transaction's pending writes is what a heap
-- scan sees: the writes of earlier commands, not those of its own
-- statement (INSERT ... SELECT from the same table, data-modifying WITH)
-- nor of later ones (cursors declared before them).  Every query runs on
-- the foreign table and on a heap twin; the results must agree.
--
\getenv write_url S3DB_WRITE_URL
\set VERBOSITY terse
SELECT :'write_url' || '-visibility' AS vis_url \gset

CREATE ROLE regress_s3db_vis;
CREATE SCHEMA vis AUTHORIZATION regress_s3db_vis;
-- a scan batch of 16 records: the tables below span several; each
-- inserted row is queued at once (batch_size 1)
CREATE SERVER vis_srv FOREIGN DATA WRAPPER s3db_fdw OPTIONS (max_inflight '4');
GRANT USAGE ON FOREIGN SERVER vis_srv TO regress_s3db_vis;
CREATE USER MAPPING FOR regress_s3db_vis SERVER vis_srv OPTIONS (connection_string :'vis_url');
SELECT :'write_url' LIKE 'file:%' AS file_store \gset
\if :file_store
GRANT pg_read_server_files, pg_write_server_files TO regress_s3db_vis;
\endif

SET ROLE regress_s3db_vis;
SET search_path = vis, public;
CREATE FOREIGN TABLE t (id text, qty bigint) SERVER vis_srv OPTIONS (resource 'vis', batch_size '1');
SELECT s3db_create_resource('t') IS NOT NULL AS created;
CREATE TABLE h (id text PRIMARY KEY, qty bigint);
INSERT INTO t SELECT 'k' || g, g FROM generate_series(1, 24) g;
INSERT INTO h SELECT 'k' || g, g FROM generate_series(1, 24) g;
CREATE FUNCTION differences() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM (
    (SELECT * FROM vis.t EXCEPT ALL SELECT * FROM vis.h)
    UNION ALL (SELECT * FROM vis.h EXCEPT ALL SELECT * FROM vis.t)) d $$;

-- a statement does not read back its own inserts
BEGIN;
INSERT INTO t SELECT id || 'x', qty FROM t;
INSERT INTO h SELECT id || 'x', qty FROM h;
SELECT differences();
-- nor those of rows it inserted earlier in the transaction
INSERT INTO t SELECT id || 'y', qty FROM t WHERE id LIKE '%x';
INSERT INTO h SELECT id || 'y', qty FROM h WHERE id LIKE '%x';
SELECT differences(), (SELECT count(*) FROM t) AS records;
COMMIT;
SELECT differences();

-- the main query of a data-modifying WITH does not see its writes
WITH i AS (INSERT INTO t VALUES ('w1', 1) RETURNING id)
  SELECT (SELECT count(*) FROM t) AS before, (SELECT count(*) FROM i) AS inserted;
WITH i AS (INSERT INTO h VALUES ('w1', 1) RETURNING id)
  SELECT (SELECT count(*) FROM h) AS before, (SELECT count(*) FROM i) AS inserted;
WITH d AS (DELETE FROM t WHERE id = 'w1' RETURNING id)
  SELECT (SELECT count(*) FROM t WHERE id = 'w1') AS still_there, (SELECT count(*) FROM d);
WITH d AS (DELETE FROM h WHERE id = 'w1' RETURNING id)
  SELECT (SELECT count(*) FROM h WHERE id = 'w1') AS still_there, (SELECT count(*) FROM d);

-- a cursor sees the transaction as it was when it was declared
BEGIN;
DECLARE ct CURSOR FOR SELECT id, qty FROM t WHERE id LIKE 'k_' ORDER BY id;
DECLARE ch CURSOR FOR SELECT id, qty FROM h WHERE id LIKE 'k_' ORDER BY id;
INSERT INTO t VALUES ('k0', 0);
INSERT INTO h VALUES ('k0', 0);
UPDATE t SET qty = -qty WHERE id IN ('k2', 'k3');
UPDATE h SET qty = -qty WHERE id IN ('k2', 'k3');
DELETE FROM t WHERE id = 'k5';
DELETE FROM h WHERE id = 'k5';
FETCH ALL ct;
FETCH ALL ch;
-- ... and one declared now sees all of it
DECLARE ct2 CURSOR FOR SELECT id, qty FROM t WHERE id LIKE 'k_' ORDER BY id;
DECLARE ch2 CURSOR FOR SELECT id, qty FROM h WHERE id LIKE 'k_' ORDER BY id;
SAVEPOINT s;
UPDATE t SET qty = 1000 WHERE id = 'k1';
UPDATE h SET qty = 1000 WHERE id = 'k1';
FETCH 2 ct2;
FETCH 2 ch2;
ROLLBACK TO s;
FETCH ALL ct2;
FETCH ALL ch2;
COMMIT;
SELECT differences();

-- a cursor held across COMMIT keeps what it saw before the later writes
BEGIN;
DECLARE ct CURSOR WITH HOLD FOR SELECT id, qty FROM t WHERE id LIKE 'k_' ORDER BY id;
DECLARE ch CURSOR WITH HOLD FOR SELECT id, qty FROM h WHERE id LIKE 'k_' ORDER BY id;
UPDATE t SET qty = 70 WHERE id = 'k7';
UPDATE h SET qty = 70 WHERE id = 'k7';
DELETE FROM t WHERE id = 'k8';
DELETE FROM h WHERE id = 'k8';
COMMIT;
FETCH ALL ct;
FETCH ALL ch;
CLOSE ct;
CLOSE ch;
SELECT differences();
RESET ROLE;

-- clean up
SET ROLE regress_s3db_vis;
TRUNCATE vis.t;
DROP SCHEMA vis CASCADE;
RESET ROLE;
DROP SERVER vis_srv CASCADE;
DROP ROLE regress_s3db_vis;
