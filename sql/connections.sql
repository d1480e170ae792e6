--
-- Connections follow their options: one connection per user mapping,
-- replaced on the next statement after its server or mapping changes, but
-- never under writes the transaction queued through it; the
-- s3db_fdw.max_inflight setting reaches the store.  The superuser sets up;
-- the statements under test run as an application role with USAGE on the
-- server, its own user mapping and table privileges.
--
\getenv write_url S3DB_WRITE_URL
-- siblings of the write store, so that its listing in other suites stays theirs
SELECT rtrim(:'write_url', '/') || '-conn-a' AS url_a,
       rtrim(:'write_url', '/') || '-conn-b' AS url_b \gset

CREATE ROLE regress_s3db_conn_app;
CREATE ROLE regress_s3db_conn_other;
CREATE SERVER conn_srv FOREIGN DATA WRAPPER s3db_fdw;
GRANT USAGE ON FOREIGN SERVER conn_srv TO regress_s3db_conn_app, regress_s3db_conn_other;
CREATE USER MAPPING FOR regress_s3db_conn_app SERVER conn_srv OPTIONS (connection_string :'url_a');
CREATE FOREIGN TABLE conn_things (id text, v text) SERVER conn_srv OPTIONS (resource 'things');
GRANT SELECT, INSERT, UPDATE, DELETE ON conn_things TO regress_s3db_conn_app, regress_s3db_conn_other;
-- (a file:// store needs pg_read_server_files and pg_write_server_files)
SELECT :'write_url' LIKE 'file:%' AS file_store \gset
\if :file_store
GRANT pg_read_server_files, pg_write_server_files
  TO regress_s3db_conn_app, regress_s3db_conn_other;
\endif

-- the two stores, seen directly by the superuser through servers of their own
CREATE SERVER conn_a FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR CURRENT_USER SERVER conn_a OPTIONS (connection_string :'url_a');
CREATE FOREIGN TABLE a_things (id text, v text) SERVER conn_a OPTIONS (resource 'things');
CREATE SERVER conn_b FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR CURRENT_USER SERVER conn_b OPTIONS (connection_string :'url_b');
CREATE FOREIGN TABLE b_things (id text, v text) SERVER conn_b OPTIONS (resource 'things');
SELECT s3db_create_resource('a_things');
SELECT s3db_create_resource('b_things');
CREATE VIEW both_stores AS
  SELECT 'a' AS store, * FROM a_things UNION ALL SELECT 'b', * FROM b_things;
GRANT SELECT ON both_stores TO regress_s3db_conn_app;
-- the rows a cursor has left
CREATE FUNCTION conn_rest(c refcursor) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint := 0; r record;
BEGIN
  LOOP FETCH c INTO r; EXIT WHEN NOT FOUND; n := n + 1; END LOOP;
  RETURN n;
END $$;
-- just the lines of EXPLAIN ANALYZE VERBOSE that show the request window
CREATE FUNCTION conn_window(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    IF l ~ 'Max In Flight|Batch Size' THEN RETURN NEXT btrim(l); END IF;
  END LOOP;
END $$;

-- an ALTER USER MAPPING takes effect on the next statement
SET ROLE regress_s3db_conn_app;
INSERT INTO conn_things VALUES ('1', 'in a');
SELECT * FROM conn_things ORDER BY id;
RESET ROLE;
ALTER USER MAPPING FOR regress_s3db_conn_app SERVER conn_srv OPTIONS (SET connection_string :'url_b');
SET ROLE regress_s3db_conn_app;
SELECT * FROM conn_things ORDER BY id;
INSERT INTO conn_things VALUES ('2', 'in b');
SELECT * FROM both_stores ORDER BY store, id;

-- ... also inside a transaction that has queued no write
BEGIN;
SELECT id FROM conn_things ORDER BY id;
RESET ROLE;
ALTER USER MAPPING FOR regress_s3db_conn_app SERVER conn_srv OPTIONS (SET connection_string :'url_a');
SET ROLE regress_s3db_conn_app;
SELECT id FROM conn_things ORDER BY id;
ROLLBACK;
-- the ALTER was rolled back with its transaction: b again
SELECT * FROM conn_things ORDER BY id;

-- writes queued before an ALTER commit through the connection they were
-- queued for; the rest of the transaction keeps reading through it too
BEGIN;
INSERT INTO conn_things VALUES ('3', 'queued for b');
RESET ROLE;
ALTER USER MAPPING FOR regress_s3db_conn_app SERVER conn_srv OPTIONS (SET connection_string :'url_a');
SET ROLE regress_s3db_conn_app;
SELECT * FROM conn_things ORDER BY id;
UPDATE conn_things SET v = 'updated in b' WHERE id = '2';
INSERT INTO conn_things VALUES ('4', 'also queued for b');
COMMIT;
-- and the statement after the commit reads a
SELECT * FROM conn_things ORDER BY id;
SELECT * FROM both_stores ORDER BY store, id;

-- ... even when the mapping is dropped before COMMIT
BEGIN;
DELETE FROM conn_things WHERE id = '1';
INSERT INTO conn_things VALUES ('5', 'queued for a');
RESET ROLE;
DROP USER MAPPING FOR regress_s3db_conn_app SERVER conn_srv;
SET ROLE regress_s3db_conn_app;
COMMIT;
RESET ROLE;
SELECT * FROM both_stores ORDER BY store, id;

-- ... and a rollback discards them, whatever happened to the mapping
CREATE USER MAPPING FOR regress_s3db_conn_app SERVER conn_srv OPTIONS (connection_string :'url_a');
SET ROLE regress_s3db_conn_app;
BEGIN;
INSERT INTO conn_things VALUES ('6', 'rolled back');
RESET ROLE;
ALTER USER MAPPING FOR regress_s3db_conn_app SERVER conn_srv OPTIONS (SET connection_string :'url_b');
ROLLBACK;
SELECT * FROM both_stores ORDER BY store, id;

-- a cursor opened before the ALTER keeps reading the store it started on,
-- batch after batch, while the statements after the ALTER read the other
SET ROLE regress_s3db_conn_app;
INSERT INTO conn_things SELECT g::text, 'row ' || g FROM generate_series(10, 79) g;
BEGIN;
DECLARE c CURSOR FOR SELECT id FROM conn_things;
FETCH 1 FROM c;
RESET ROLE;
ALTER USER MAPPING FOR regress_s3db_conn_app SERVER conn_srv OPTIONS (SET connection_string :'url_b');
SET ROLE regress_s3db_conn_app;
SELECT count(*) AS b_count FROM conn_things;
SELECT conn_rest('c') AS rest_of_a;
COMMIT;

-- one connection per user mapping: a role without a mapping of its own
-- uses the PUBLIC one, side by side with the role that has one
RESET ROLE;
CREATE USER MAPPING FOR PUBLIC SERVER conn_srv OPTIONS (connection_string :'url_a');
SET ROLE regress_s3db_conn_other;
SELECT count(*) AS in_a FROM conn_things;
SET ROLE regress_s3db_conn_app;
SELECT count(*) AS in_b FROM conn_things;
SET ROLE regress_s3db_conn_other;
SELECT count(*) AS in_a FROM conn_things;
RESET ROLE;
DROP USER MAPPING FOR PUBLIC SERVER conn_srv;

-- s3db_fdw.max_inflight set in the session reaches the store on the next
-- statement; a server's max_inflight option overrides it
SET ROLE regress_s3db_conn_app;
SET s3db_fdw.max_inflight = 5;
SELECT * FROM conn_window('SELECT * FROM conn_things');
SET s3db_fdw.max_inflight = 64;
SELECT * FROM conn_window('SELECT * FROM conn_things');
BEGIN;
SET LOCAL s3db_fdw.max_inflight = 2;
SELECT * FROM conn_window('SELECT * FROM conn_things');
COMMIT;
SELECT * FROM conn_window('SELECT * FROM conn_things');
RESET ROLE;
ALTER SERVER conn_srv OPTIONS (ADD max_inflight '3');
SET ROLE regress_s3db_conn_app;
SELECT * FROM conn_window('SELECT * FROM conn_things');
RESET ROLE;
ALTER SERVER conn_srv OPTIONS (DROP max_inflight);
SET ROLE regress_s3db_conn_app;
SELECT * FROM conn_window('SELECT * FROM conn_things');
RESET s3db_fdw.max_inflight;
SELECT * FROM conn_window('SELECT * FROM conn_things');
RESET ROLE;

TRUNCATE a_things, b_things;
DROP FUNCTION conn_window(text);
DROP FUNCTION conn_rest(refcursor);
DROP VIEW both_stores;
DROP SERVER conn_srv CASCADE;
DROP SERVER conn_a CASCADE;
DROP SERVER conn_b CASCADE;
DROP ROLE regress_s3db_conn_app;
DROP ROLE regress_s3db_conn_other;
