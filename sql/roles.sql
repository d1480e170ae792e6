--
-- Application roles and views: a view runs as its owner, so reads and
-- writes through it use the owner's user mapping and privileges, as for a
-- heap table under the same view
--
\getenv write_url S3DB_WRITE_URL
\set VERBOSITY default
SELECT :'write_url' || '-roles' AS roles_url \gset

-- the superuser sets up: the owner of the data (its schema, USAGE on the
-- server, its user mapping; file:// also needs the server-file roles), a
-- reader granted only SELECT and UPDATE on the owner's views, and a role
-- with no rights at all
CREATE ROLE regress_s3db_owner;
CREATE ROLE regress_s3db_reader;
CREATE ROLE regress_s3db_nobody;
CREATE SCHEMA app AUTHORIZATION regress_s3db_owner;
CREATE SERVER w FOREIGN DATA WRAPPER s3db_fdw;
GRANT USAGE ON FOREIGN SERVER w TO regress_s3db_owner;
CREATE USER MAPPING FOR regress_s3db_owner SERVER w
  OPTIONS (connection_string :'roles_url', passphrase 'roles-pass');
SELECT :'write_url' LIKE 'file:%' AS file_store \gset
\if :file_store
GRANT pg_read_server_files, pg_write_server_files TO regress_s3db_owner;
\endif

-- the owner: a foreign table, a heap twin, the same view over each
SET ROLE regress_s3db_owner;
SET search_path = app, public;
CREATE FOREIGN TABLE t (id text, name text, qty bigint) SERVER w OPTIONS (resource 'stock');
SELECT s3db_create_resource('t');
CREATE TABLE h (id text PRIMARY KEY, name text, qty bigint);
INSERT INTO t VALUES ('r1', 'one', 1), ('r2', 'two', 2), ('r3', 'three', 3);
INSERT INTO h SELECT * FROM t;
CREATE VIEW v_t AS SELECT id, name, qty FROM t WHERE qty < 100;
CREATE VIEW v_h AS SELECT id, name, qty FROM h WHERE qty < 100;
GRANT USAGE ON SCHEMA app TO regress_s3db_reader, regress_s3db_nobody;
GRANT SELECT, UPDATE ON v_t, v_h TO regress_s3db_reader;
RESET ROLE;

-- the reader has no user mapping and (on file://) no server-file role: the
-- view uses its owner's
SET ROLE regress_s3db_reader;
SET search_path = app, public;
SELECT * FROM v_t ORDER BY id;
UPDATE v_t SET qty = qty + 10 WHERE id = 'r1';
UPDATE v_h SET qty = qty + 10 WHERE id = 'r1';
-- a scan and the write under it use one user: read-your-writes in a
-- transaction, and what commits, agree with the heap table
BEGIN;
UPDATE v_t SET name = upper(name) WHERE qty > 1;
UPDATE v_h SET name = upper(name) WHERE qty > 1;
SELECT count(*) AS differences FROM (
  (SELECT * FROM v_t EXCEPT ALL SELECT * FROM v_h)
  UNION ALL (SELECT * FROM v_h EXCEPT ALL SELECT * FROM v_t)) d;
UPDATE v_t SET qty = qty * 2 WHERE id IN ('r2', 'r3') RETURNING *;
UPDATE v_h SET qty = qty * 2 WHERE id IN ('r2', 'r3') RETURNING *;
COMMIT;
SELECT count(*) AS differences FROM (
  (SELECT * FROM v_t EXCEPT ALL SELECT * FROM v_h)
  UNION ALL (SELECT * FROM v_h EXCEPT ALL SELECT * FROM v_t)) d;
SELECT * FROM v_t ORDER BY id;
-- what was not granted is refused, as for the heap table
DELETE FROM v_t WHERE id = 'r1';
DELETE FROM v_h WHERE id = 'r1';
INSERT INTO v_t VALUES ('r9', 'nine', 9);
INSERT INTO v_h VALUES ('r9', 'nine', 9);
-- (planning reads the store's catalog before the executor checks table
-- privileges: without a mapping the reader gets the embedded store, and
-- is refused that)
SELECT * FROM t;
SELECT * FROM h;
RESET ROLE;

-- a user mapping of the reader's own, pointing elsewhere, changes nothing
-- for the view, which still uses its owner's store
CREATE USER MAPPING FOR regress_s3db_reader SERVER w
  OPTIONS (connection_string 'memory://regress-roles-elsewhere');
GRANT USAGE ON FOREIGN SERVER w TO regress_s3db_reader;
SET ROLE regress_s3db_owner;
GRANT SELECT ON t TO regress_s3db_reader;
SET ROLE regress_s3db_reader;
SELECT count(*) FROM app.v_t;
UPDATE app.v_t SET qty = qty + 1 WHERE id = 'r1' RETURNING id, qty;
-- while its own direct access goes to its own (empty) store
SELECT count(*) FROM app.t;
RESET ROLE;

-- a role without rights gets nothing, as for the heap table
SET ROLE regress_s3db_nobody;
SELECT * FROM app.v_t;
SELECT * FROM app.v_h;
UPDATE app.v_t SET qty = 0;
UPDATE app.v_h SET qty = 0;
RESET ROLE;
SET ROLE regress_s3db_owner;
SELECT count(*) AS differences FROM (
  (SELECT id, name, qty - CASE WHEN id = 'r1' THEN 1 ELSE 0 END FROM app.t
     EXCEPT ALL SELECT * FROM app.h)
  UNION ALL (SELECT * FROM app.h EXCEPT ALL
     SELECT id, name, qty - CASE WHEN id = 'r1' THEN 1 ELSE 0 END FROM app.t)) d;

-- a view owned by a role without UPDATE on the table cannot be used to
-- update it, whoever is granted UPDATE on the view
RESET ROLE;
GRANT USAGE ON FOREIGN SERVER w TO regress_s3db_nobody;
CREATE USER MAPPING FOR regress_s3db_nobody SERVER w
  OPTIONS (connection_string :'roles_url', passphrase 'roles-pass');
\if :file_store
GRANT pg_read_server_files, pg_write_server_files TO regress_s3db_nobody;
\endif
CREATE SCHEMA nobody AUTHORIZATION regress_s3db_nobody;
GRANT USAGE ON SCHEMA nobody TO regress_s3db_reader;
SET ROLE regress_s3db_owner;
GRANT SELECT ON app.t, app.h TO regress_s3db_nobody;
SET ROLE regress_s3db_nobody;
CREATE VIEW nobody.v_t AS SELECT * FROM app.t;
CREATE VIEW nobody.v_h AS SELECT * FROM app.h;
GRANT SELECT, UPDATE ON nobody.v_t, nobody.v_h TO regress_s3db_reader;
SET ROLE regress_s3db_reader;
SELECT count(*) FROM nobody.v_t;
UPDATE nobody.v_t SET qty = 0;
UPDATE nobody.v_h SET qty = 0;
RESET ROLE;

-- clean up
SET ROLE regress_s3db_owner;
TRUNCATE app.t;
SELECT count(*) FROM app.t;
DROP SCHEMA app CASCADE;
RESET ROLE;
DROP SCHEMA nobody CASCADE;
DROP SERVER w CASCADE;
DROP ROLE regress_s3db_owner, regress_s3db_reader, regress_s3db_nobody;
