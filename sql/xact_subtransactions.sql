--
-- Subtransactions: every write belongs to the subtransaction that made it.
-- Each statement runs on a foreign table (sxt) and on a heap twin (sxh);
-- :diff lists the rows on which they disagree, so an empty result is the
-- test, inside each transaction and after it.  The superuser only sets up;
-- the statements run as an application role.
-- (Named to run after write.sql, which lists its whole store.)
--
\getenv write_url S3DB_WRITE_URL
CREATE ROLE regress_subxact_app;
CREATE SERVER sx FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR CURRENT_USER SERVER sx
  OPTIONS (connection_string :'write_url');
CREATE USER MAPPING FOR regress_subxact_app SERVER sx
  OPTIONS (connection_string :'write_url');
GRANT USAGE ON FOREIGN SERVER sx TO regress_subxact_app;
CREATE FOREIGN TABLE sxt (id text, v int, w text) SERVER sx OPTIONS (resource 'subx');
SELECT s3db_create_resource('sxt');
CREATE TABLE sxh (id text PRIMARY KEY, v int, w text);
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON sxt, sxh TO regress_subxact_app;
SELECT :'write_url' LIKE 'file:%' AS file_store \gset
\if :file_store
GRANT pg_read_server_files, pg_write_server_files TO regress_subxact_app;
\endif
SET ROLE regress_subxact_app;
\set diff 'SELECT ''foreign only'' AS side, * FROM (SELECT * FROM sxt EXCEPT ALL SELECT * FROM sxh) f UNION ALL SELECT ''heap only'', * FROM (SELECT * FROM sxh EXCEPT ALL SELECT * FROM sxt) h ORDER BY 2, 1'

-- a savepoint taken before the transaction's first write
BEGIN;
SAVEPOINT a;
INSERT INTO sxt VALUES ('x', 1, 'rolled back');
INSERT INTO sxh VALUES ('x', 1, 'rolled back');
ROLLBACK TO a;
:diff;
COMMIT;
SELECT * FROM sxt ORDER BY id;
:diff;

-- a PL/pgSQL exception block that raised and was caught
DO $$
BEGIN
  BEGIN
    INSERT INTO sxt VALUES ('y', 1, 'caught');
    INSERT INTO sxh VALUES ('y', 1, 'caught');
    RAISE EXCEPTION 'boom';
  EXCEPTION WHEN raise_exception THEN NULL;
  END;
END $$;
SELECT * FROM sxt ORDER BY id;
:diff;

-- TRUNCATE is undone with its subtransaction, and the writes before it return
BEGIN;
INSERT INTO sxt VALUES ('a', 1, 'before');
INSERT INTO sxh VALUES ('a', 1, 'before');
SAVEPOINT s;
INSERT INTO sxt VALUES ('b', 2, 'inside');
INSERT INTO sxh VALUES ('b', 2, 'inside');
TRUNCATE sxt;
TRUNCATE sxh;
SELECT count(*) FROM sxt;
:diff;
ROLLBACK TO s;
SELECT * FROM sxt ORDER BY id;
:diff;
COMMIT;
SELECT * FROM sxt ORDER BY id;
:diff;

-- a truncate that stays: the stored records go, and so do the writes before it
BEGIN;
UPDATE sxt SET v = 10 WHERE id = 'a';
UPDATE sxh SET v = 10 WHERE id = 'a';
INSERT INTO sxt VALUES ('c', 3, 'before the truncate');
INSERT INTO sxh VALUES ('c', 3, 'before the truncate');
SAVEPOINT s;
TRUNCATE sxt;
TRUNCATE sxh;
INSERT INTO sxt VALUES ('a', 20, 'after the truncate');
INSERT INTO sxh VALUES ('a', 20, 'after the truncate');
RELEASE s;
:diff;
COMMIT;
SELECT * FROM sxt ORDER BY id;
:diff;

-- nesting: RELEASE hands the writes to the parent, whose rollback discards them
BEGIN;
SAVEPOINT s1;
SAVEPOINT s2;
SAVEPOINT s3;
INSERT INTO sxt VALUES ('n3', 3, 'depth 3');
INSERT INTO sxh VALUES ('n3', 3, 'depth 3');
RELEASE s3;
INSERT INTO sxt VALUES ('n2', 2, 'depth 2');
INSERT INTO sxh VALUES ('n2', 2, 'depth 2');
ROLLBACK TO s2;
INSERT INTO sxt VALUES ('m2', 2, 'depth 2 again');
INSERT INTO sxh VALUES ('m2', 2, 'depth 2 again');
RELEASE s1;
SAVEPOINT s4;
DELETE FROM sxt WHERE id = 'a';
DELETE FROM sxh WHERE id = 'a';
UPDATE sxt SET w = 'updated in s4' WHERE id = 'm2';
UPDATE sxh SET w = 'updated in s4' WHERE id = 'm2';
:diff;
ROLLBACK TO s4;
SELECT * FROM sxt ORDER BY id;
:diff;
COMMIT;
SELECT * FROM sxt ORDER BY id;
:diff;

-- nested exception blocks: the inner one is undone, the outer one goes on
DO $$
BEGIN
  UPDATE sxt SET v = v + 100 WHERE id = 'm2';
  UPDATE sxh SET v = v + 100 WHERE id = 'm2';
  BEGIN
    DELETE FROM sxt WHERE id = 'a';
    DELETE FROM sxh WHERE id = 'a';
    BEGIN
      INSERT INTO sxt VALUES ('deep', 0, 'depth 3');
      INSERT INTO sxh VALUES ('deep', 0, 'depth 3');
    END;
    PERFORM 1 / 0;
  EXCEPTION WHEN division_by_zero THEN
    INSERT INTO sxt VALUES ('handler', 0, 'written by the handler');
    INSERT INTO sxh VALUES ('handler', 0, 'written by the handler');
  END;
  BEGIN
    TRUNCATE sxt;
    TRUNCATE sxh;
    RAISE EXCEPTION 'undo the truncate';
  EXCEPTION WHEN raise_exception THEN NULL;
  END;
END $$;
SELECT * FROM sxt ORDER BY id;
:diff;

-- a statement that fails halfway inside a savepoint leaves nothing behind
BEGIN;
SAVEPOINT s;
UPDATE sxt SET v = 100 / (v - 102) WHERE true;  -- m2, listed last, fails
ROLLBACK TO s;
UPDATE sxt SET w = 'after the failure' WHERE id = 'handler';
UPDATE sxh SET w = 'after the failure' WHERE id = 'handler';
:diff;
COMMIT;
SELECT * FROM sxt ORDER BY id;
:diff;

-- a record read and changed in a rolled-back subtransaction, changed again
BEGIN;
SAVEPOINT s;
UPDATE sxt SET v = -1 WHERE id = 'a';
UPDATE sxh SET v = -1 WHERE id = 'a';
ROLLBACK TO s;
UPDATE sxt SET v = v + 1 WHERE id = 'a';
UPDATE sxh SET v = v + 1 WHERE id = 'a';
:diff;
COMMIT;
SELECT * FROM sxt ORDER BY id;
:diff;

-- beyond work_mem the writes go to a temporary file; a rollback to a
-- savepoint leaves its tail unused and what follows is read back right
SET work_mem = '64kB';
BEGIN;
SAVEPOINT big;
INSERT INTO sxt SELECT 'bulk' || g, g, repeat('.', 300) FROM generate_series(1, 300) g;
INSERT INTO sxh SELECT 'bulk' || g, g, repeat('.', 300) FROM generate_series(1, 300) g;
UPDATE sxt SET v = -v WHERE id IN ('bulk7', 'bulk250', 'a');
UPDATE sxh SET v = -v WHERE id IN ('bulk7', 'bulk250', 'a');
ROLLBACK TO big;
SELECT count(*), sum(v) FROM sxt;
INSERT INTO sxt SELECT 'bulk' || g, g * 2, repeat('-', 300) FROM generate_series(1, 200) g;
INSERT INTO sxh SELECT 'bulk' || g, g * 2, repeat('-', 300) FROM generate_series(1, 200) g;
SAVEPOINT small;
DELETE FROM sxt WHERE id = 'bulk200';
DELETE FROM sxh WHERE id = 'bulk200';
ROLLBACK TO small;
UPDATE sxt SET v = 0 WHERE id = 'bulk199';
UPDATE sxh SET v = 0 WHERE id = 'bulk199';
SELECT count(*), sum(v) FROM sxt;
:diff;
COMMIT;
RESET work_mem;
SELECT count(*), sum(v), count(*) FILTER (WHERE w LIKE '-%') AS dashes FROM sxt;
:diff;

-- a rollback of the whole transaction from inside nested savepoints
BEGIN;
DELETE FROM sxt WHERE id LIKE 'bulk%';
DELETE FROM sxh WHERE id LIKE 'bulk%';
SAVEPOINT s1;
TRUNCATE sxt;
TRUNCATE sxh;
SAVEPOINT s2;
INSERT INTO sxt VALUES ('gone', 0, 'never committed');
INSERT INTO sxh VALUES ('gone', 0, 'never committed');
ROLLBACK;
SELECT count(*) FROM sxt;
:diff;

-- and a commit of the same
BEGIN;
DELETE FROM sxt WHERE id LIKE 'bulk%';
DELETE FROM sxh WHERE id LIKE 'bulk%';
SAVEPOINT s1;
INSERT INTO sxt VALUES ('kept', 0, 'committed');
INSERT INTO sxh VALUES ('kept', 0, 'committed');
SAVEPOINT s2;
DELETE FROM sxt WHERE id = 'kept';
DELETE FROM sxh WHERE id = 'kept';
ROLLBACK TO s2;
RELEASE s1;
COMMIT;
SELECT * FROM sxt ORDER BY id;
:diff;

-- what the plugins queue with a write goes with it: audit records and TTL
-- index entries are pending writes too (outbox rows are heap rows)
RESET ROLE;
INSERT INTO s3db_fdw_audit VALUES ('public.sxt');
INSERT INTO s3db_fdw_ttl (ftable, ttl, field, action)
  VALUES ('public.sxt', '1 day', NULL, 'hard-delete');
SET ROLE regress_subxact_app;
BEGIN;
INSERT INTO sxt VALUES ('p1', 1, 'kept');
SAVEPOINT s;
INSERT INTO sxt VALUES ('p2', 2, 'rolled back');
UPDATE sxt SET v = 10 WHERE id = 'p1';
ROLLBACK TO s;
DO $$
BEGIN
  BEGIN
    DELETE FROM sxt WHERE id = 'p1';
    INSERT INTO sxt VALUES ('p3', 3, 'caught');
    RAISE EXCEPTION 'boom';
  EXCEPTION WHEN raise_exception THEN NULL;
  END;
END $$;
COMMIT;
SELECT * FROM sxt WHERE id LIKE 'p%' ORDER BY id;
RESET ROLE;
-- one audit record (the insert of p1) and one TTL entry (p1)
SELECT count(*) FILTER (WHERE key LIKE 'resource=plg_audits/partition=byResource/resourceName=subx/%') AS audits,
       count(*) FILTER (WHERE key LIKE 'resource=plg_ttl_expiration_index/data/id=subx:%') AS ttl_entries,
       count(*) FILTER (WHERE key LIKE 'resource=plg_ttl_expiration_index/data/id=subx:p1') AS ttl_p1
  FROM s3db_list('sx');
DELETE FROM s3db_fdw_audit WHERE ftable = 'public.sxt'::regclass;
DELETE FROM s3db_fdw_ttl WHERE ftable = 'public.sxt'::regclass;

RESET ROLE;
DROP TABLE sxh;
DROP FOREIGN TABLE sxt;
DROP USER MAPPING FOR CURRENT_USER SERVER sx;
DROP USER MAPPING FOR regress_subxact_app SERVER sx;
DROP SERVER sx;
DROP ROLE regress_subxact_app;
