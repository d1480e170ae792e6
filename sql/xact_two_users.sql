--
-- One transaction writing a resource as two users: directly, and through
-- a view or a SECURITY DEFINER function owned by another role.  Pending
-- writes commit per user mapping, so the second user's writes of what the
-- first wrote are refused before anything lands; the heap twin shows what
-- is still allowed agrees with PostgreSQL.
--
\getenv write_url S3DB_WRITE_URL
\set VERBOSITY default
SELECT :'write_url' || '-two-users' AS two_url \gset

CREATE ROLE regress_s3db_two_owner;
CREATE ROLE regress_s3db_two_app;
CREATE SCHEMA two AUTHORIZATION regress_s3db_two_owner;
CREATE SERVER two_srv FOREIGN DATA WRAPPER s3db_fdw;
GRANT USAGE ON FOREIGN SERVER two_srv TO regress_s3db_two_owner, regress_s3db_two_app;
-- both mappings reach the same store
CREATE USER MAPPING FOR regress_s3db_two_owner SERVER two_srv
  OPTIONS (connection_string :'two_url');
CREATE USER MAPPING FOR regress_s3db_two_app SERVER two_srv
  OPTIONS (connection_string :'two_url');
SELECT :'write_url' LIKE 'file:%' AS file_store \gset
\if :file_store
GRANT pg_read_server_files, pg_write_server_files
  TO regress_s3db_two_owner, regress_s3db_two_app;
\endif

SET ROLE regress_s3db_two_owner;
SET search_path = two, public;
CREATE FOREIGN TABLE t (id text, qty bigint) SERVER two_srv OPTIONS (resource 'items');
SELECT s3db_create_resource('t') IS NOT NULL AS created;
CREATE TABLE h (id text PRIMARY KEY, qty bigint);
INSERT INTO t VALUES ('a', 1), ('b', 2), ('c', 3);
INSERT INTO h SELECT * FROM t;
CREATE VIEW v_t AS SELECT * FROM t;
CREATE VIEW v_h AS SELECT * FROM h;
CREATE FUNCTION bump_t(text) RETURNS void LANGUAGE sql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ UPDATE two.t SET qty = qty + 1000 WHERE id = $1 $$;
GRANT USAGE ON SCHEMA two TO regress_s3db_two_app;
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON t, h, v_t, v_h TO regress_s3db_two_app;
RESET ROLE;

SET ROLE regress_s3db_two_app;
SET search_path = two, public;
-- the same record through the view (as the owner) and directly: refused
BEGIN;
UPDATE v_t SET qty = qty + 10 WHERE id = 'a';
UPDATE t SET qty = qty + 100 WHERE id = 'a';
COMMIT;
-- the same through the owner's SECURITY DEFINER function, the other way round
BEGIN;
DELETE FROM t WHERE id = 'b';
SELECT bump_t('b');
ROLLBACK;
-- a record the view inserted, inserted again directly
BEGIN;
INSERT INTO v_t VALUES ('n', 9);
INSERT INTO t VALUES ('n', 9);
ROLLBACK;
-- a TRUNCATE after the view wrote, and a write after the view truncated
BEGIN;
UPDATE v_t SET qty = 0 WHERE id = 'c';
TRUNCATE t;
ROLLBACK;
BEGIN;
TRUNCATE t;
SELECT bump_t('a');
ROLLBACK;
-- nothing landed
SELECT count(*) AS differences FROM (
  (SELECT * FROM t EXCEPT ALL SELECT * FROM h)
  UNION ALL (SELECT * FROM h EXCEPT ALL SELECT * FROM t)) d;

-- in a subtransaction that rolls back, the refused write takes only the
-- subtransaction with it, as an error does on the heap table
BEGIN;
UPDATE v_t SET qty = qty + 10 WHERE id = 'a';
UPDATE v_h SET qty = qty + 10 WHERE id = 'a';
SAVEPOINT s;
UPDATE t SET qty = qty + 100 WHERE id = 'a';
ROLLBACK TO s;
-- different records as two users are two independent writes: allowed
UPDATE t SET qty = qty + 100 WHERE id = 'b';
UPDATE h SET qty = qty + 100 WHERE id = 'b';
COMMIT;
SELECT count(*) AS differences FROM (
  (SELECT * FROM t EXCEPT ALL SELECT * FROM h)
  UNION ALL (SELECT * FROM h EXCEPT ALL SELECT * FROM t)) d;

-- the view's write rolled back to a savepoint no longer counts
BEGIN;
SAVEPOINT s;
UPDATE v_t SET qty = qty + 10 WHERE id = 'c';
ROLLBACK TO s;
UPDATE t SET qty = qty + 100 WHERE id = 'c';
UPDATE h SET qty = qty + 100 WHERE id = 'c';
-- and a caught exception in PL/pgSQL undoes the owner's write as well
DO $$
BEGIN
  PERFORM two.bump_t('a');
  RAISE EXCEPTION 'undo';
EXCEPTION WHEN raise_exception THEN NULL;
END $$;
UPDATE t SET qty = qty + 100 WHERE id = 'a';
UPDATE h SET qty = qty + 100 WHERE id = 'a';
COMMIT;
SELECT count(*) AS differences FROM (
  (SELECT * FROM t EXCEPT ALL SELECT * FROM h)
  UNION ALL (SELECT * FROM h EXCEPT ALL SELECT * FROM t)) d;
SELECT * FROM t ORDER BY id;
RESET ROLE;

-- clean up
SET ROLE regress_s3db_two_owner;
TRUNCATE two.t;
DROP SCHEMA two CASCADE;
RESET ROLE;
DROP SERVER two_srv CASCADE;
DROP ROLE regress_s3db_two_owner, regress_s3db_two_app;
