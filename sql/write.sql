--
-- Writes: INSERT/UPDATE/DELETE/TRUNCATE in s3db.js's format, applied at commit
--
\getenv write_url S3DB_WRITE_URL
-- the superuser sets up what a DBA grants an application: a role with its
-- schemas, USAGE on the servers and its user mappings (a file:// store also
-- needs pg_read_server_files and pg_write_server_files); the application
-- role does the rest
CREATE ROLE regress_s3db_app;
CREATE SCHEMA app AUTHORIZATION regress_s3db_app;
CREATE SCHEMA imp AUTHORIZATION regress_s3db_app;
CREATE SERVER w FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR regress_s3db_app SERVER w
  OPTIONS (connection_string :'write_url', passphrase 'write-pass');
-- a second server on the same store, standing for an s3db.js process
CREATE SERVER other FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR regress_s3db_app SERVER other OPTIONS (connection_string :'write_url');
GRANT USAGE ON FOREIGN SERVER w, other TO regress_s3db_app;
SELECT :'write_url' LIKE 'file:%' AS file_store \gset
\if :file_store
GRANT pg_read_server_files, pg_write_server_files TO regress_s3db_app;
\endif
SET ROLE regress_s3db_app;
SET search_path = app, public;

CREATE VIEW store AS
  SELECT key, size FROM s3db_list('w') WHERE key NOT LIKE 'plugin=%' ORDER BY key;
CREATE VIEW store_digest AS
  SELECT count(*) AS objects, md5(string_agg(key || ':' || etag, ',' ORDER BY key)) AS digest
    FROM s3db_list('w');

-- a resource created from SQL, with a partition on a nested field
CREATE FOREIGN TABLE items (
  id text, name text NOT NULL, qty bigint, price numeric, tags text[],
  active boolean, city text OPTIONS (field 'address.city'),
  zip text OPTIONS (field 'address.zip'), seen timestamptz
) SERVER w OPTIONS (resource 'items');
SELECT s3db_create_resource('items', 'body-overflow',
                            '{"byCity": {"fields": {"address.city": "string"}}}');
IMPORT FOREIGN SCHEMA s3db FROM SERVER w INTO imp;
\d imp.items

-- INSERT: one row, RETURNING, several rows, INSERT ... SELECT, COPY
INSERT INTO items VALUES ('i1', 'Widget', 3, 9.99, '{a,b}', true, 'Berlin', '10115',
                          '2024-01-15 10:20:30.123+00') RETURNING *;
INSERT INTO items (id, name, qty, city) VALUES ('i2', 'Gadget', 1, 'Rio'), ('i3', 'Ünïcödé ✓', 0, 'Berlin');
INSERT INTO items (id, name, qty, price, city)
  SELECT 'g' || g, 'generated ' || g, g, g * 1.5, CASE WHEN g % 2 = 0 THEN 'Berlin' ELSE 'Rio' END
    FROM generate_series(1, 5) g;
COPY items (id, name, qty, city) FROM STDIN;
c1	copied one	10	Lisbon
c2	copied two	20	Lisbon
\.
SELECT id, name, qty, price, tags, active, city, zip, seen FROM items ORDER BY id;
-- what is in the store: records and partition references
SELECT * FROM store;
-- ids are generated when not given, with the resource's id size
INSERT INTO items (name, city) VALUES ('no id', 'Oslo') RETURNING length(id);
DELETE FROM items WHERE name = 'no id';

-- the partition is used for equality on its field
EXPLAIN (COSTS OFF) SELECT id FROM items WHERE city = 'Lisbon';
SELECT id FROM items WHERE city IN ('Lisbon', 'Rio') ORDER BY id;

-- constraint errors name the field
DO $$ BEGIN INSERT INTO items (id, qty) VALUES ('bad', 1);
EXCEPTION WHEN not_null_violation THEN RAISE NOTICE 'not_null_violation: %', SQLERRM; END $$;
INSERT INTO items (id, name) VALUES ('a/b', 'bad id');
INSERT INTO items (id, name) VALUES ('i1', 'duplicate in one transaction'), ('i1', 'again');
-- a record that exists in the store: unique violation at commit
BEGIN;
INSERT INTO items (id, name) VALUES ('i2', 'duplicate');
COMMIT;
SELECT name FROM items WHERE id = 'i2';

-- UPDATE: the planner's strategy is in EXPLAIN
EXPLAIN (COSTS OFF) UPDATE items SET qty = qty + 1 WHERE id = 'i1';
UPDATE items SET qty = qty + 1 WHERE id = 'i1' RETURNING id, qty;
-- moving a record to another partition moves its reference
UPDATE items SET city = 'Oslo' WHERE id = 'i3';
SELECT key FROM store WHERE key LIKE '%id=i3';
-- a table that maps some attributes only keeps the others
CREATE FOREIGN TABLE items_names (id text, name text) SERVER w OPTIONS (resource 'items');
UPDATE items_names SET name = upper(name) WHERE id = 'i1';
SELECT id, name, qty, price, tags, city, zip FROM items WHERE id = 'i1';

CREATE FOREIGN TABLE flat (id text, a text, b bigint) SERVER w OPTIONS (resource 'flat');
SELECT s3db_create_resource('flat');
INSERT INTO flat VALUES ('f1', 'x', 1), ('f2', 'y', 2);
EXPLAIN (COSTS OFF) UPDATE flat SET a = 'z', b = 3 WHERE id = 'f1';
EXPLAIN (COSTS OFF) UPDATE flat SET b = b * 10;
UPDATE flat SET a = 'z', b = 3 WHERE id = 'f1';
UPDATE flat SET b = b * 10;
SELECT * FROM flat ORDER BY id;
CREATE FOREIGN TABLE docs (id text, body text) SERVER w OPTIONS (resource 'docs');
SELECT s3db_create_resource('docs', 'body-only');
INSERT INTO docs VALUES ('d1', 'in the body');
EXPLAIN (COSTS OFF) UPDATE docs SET body = body || '!';
UPDATE docs SET body = body || '!';
SELECT * FROM docs;
UPDATE items SET id = 'renamed' WHERE id = 'i1';

-- transactions: nothing reaches the store before COMMIT, ROLLBACK leaves it as it was
CREATE TEMP TABLE before AS SELECT * FROM store_digest;
BEGIN;
INSERT INTO items (id, name, city) VALUES ('t1', 'pending', 'Berlin');
UPDATE items SET qty = 100 WHERE id = 'i2';
DELETE FROM items WHERE id = 'g1';
-- the transaction sees its own writes
SELECT id, name, qty FROM items WHERE id IN ('t1', 'i2', 'g1') ORDER BY id;
SELECT count(*) FROM items;
SELECT id FROM items WHERE city = 'Berlin' ORDER BY id;
SELECT (SELECT digest FROM store_digest) = (SELECT digest FROM before) AS store_unchanged;
ROLLBACK;
SELECT (SELECT digest FROM store_digest) = (SELECT digest FROM before) AS store_unchanged;
SELECT id, name, qty FROM items WHERE id IN ('t1', 'i2', 'g1') ORDER BY id;

-- savepoints
BEGIN;
INSERT INTO items (id, name) VALUES ('s1', 'kept');
SAVEPOINT sp;
INSERT INTO items (id, name) VALUES ('s2', 'rolled back');
DELETE FROM items WHERE id = 'i2';
ROLLBACK TO sp;
INSERT INTO items (id, name) VALUES ('s3', 'kept too');
COMMIT;
SELECT id, name FROM items WHERE id IN ('s1', 's2', 's3', 'i2') ORDER BY id;

-- an error aborts the transaction and writes nothing
BEGIN;
INSERT INTO items (id, name) VALUES ('e1', 'never');
SELECT 1 / 0;
COMMIT;
SELECT count(*) FROM items WHERE id = 'e1';

-- DELETE removes the record and its partition references
DELETE FROM items WHERE id IN ('g2', 'g3') RETURNING id;
SELECT key FROM store WHERE key ~ 'id=g[23]$';

-- row triggers fire as for any foreign table
CREATE TABLE audit (op text, id text, qty bigint);
CREATE FUNCTION items_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN INSERT INTO audit VALUES (TG_OP, OLD.id, OLD.qty); RETURN OLD; END IF;
  INSERT INTO audit VALUES (TG_OP, NEW.id, NEW.qty); RETURN NEW;
END $$;
CREATE FUNCTION items_default_qty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.qty := coalesce(NEW.qty, 42); RETURN NEW; END $$;
CREATE TRIGGER items_before BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION items_default_qty();
CREATE TRIGGER items_after AFTER INSERT OR UPDATE OR DELETE ON items
  FOR EACH ROW EXECUTE FUNCTION items_audit();
INSERT INTO items (id, name) VALUES ('tr1', 'triggered');
UPDATE items SET qty = qty + 1 WHERE id = 'tr1';
DELETE FROM items WHERE id = 'tr1';
SELECT * FROM audit;
DROP TRIGGER items_before ON items;
DROP TRIGGER items_after ON items;

-- the object cache: a repeat scan of unchanged records costs its LIST only,
-- and a change by another writer (here a second server on the same store,
-- standing for an s3db.js process) is caught by the listing's validator
RESET ROLE;
ALTER SERVER w OPTIONS (ADD cache_size '16');
SET ROLE regress_s3db_app;
CREATE FOREIGN TABLE other_items (id text, name text) SERVER other OPTIONS (resource 'items');
SELECT count(name) FROM items;
-- EXPLAIN as every PostgreSQL version prints it: 18 shows actual rows with
-- two decimals (and buffers unless told not to); 17 and 18 print a join
-- clause pushed into a scan as "col = other.col", 15 as "other.col = col"
CREATE FUNCTION pg_temp.explain(options text, query text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
  ln text;
BEGIN
  FOR ln IN EXECUTE format('EXPLAIN (%s) %s', options, query) LOOP
    ln := regexp_replace(ln, '(rows=\d+)\.00\M', '\1', 'g');
    ln := regexp_replace(ln, 'Filter: \((\w+) = ("[^"]+"\.\w+)\)$', 'Filter: (\2 = \1)');
    RETURN NEXT ln;
  END LOOP;
END $$;
SELECT pg_temp.explain('ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF',
  'SELECT id, name FROM items');
UPDATE other_items SET name = 'changed elsewhere' WHERE id = 'i2';
SELECT pg_temp.explain('ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF',
  'SELECT id, name FROM items');
DROP FUNCTION pg_temp.explain(text, text);
SELECT id, name FROM items WHERE name LIKE 'changed%';
RESET ROLE;
ALTER SERVER w OPTIONS (DROP cache_size);
SET ROLE regress_s3db_app;
DROP FOREIGN TABLE other_items;

-- a large transaction keeps its pending writes in a temporary file beyond
-- work_mem, reads them back for its own queries and at commit
SET work_mem = '64kB';
BEGIN;
INSERT INTO items (id, name, qty, city)
  SELECT 'bulk' || g, 'bulk record ' || g || repeat('.', 100), g, 'Bulk'
    FROM generate_series(1, 600) g;
UPDATE items SET qty = -qty WHERE id IN ('bulk7', 'bulk550');
SELECT count(*), sum(qty) FROM items WHERE city = 'Bulk';
COMMIT;
RESET work_mem;
SELECT count(*), sum(qty), min(name) FROM items WHERE city = 'Bulk';
SELECT count(*) FROM store WHERE key LIKE '%address.city=Bulk/%';

-- updates, partition moves, deletes, savepoints rolled back (one over an
-- insert of an id that exists), all beyond work_mem: the same statements on a
-- local table give the same rows, inside the transaction and after COMMIT
CREATE TEMP TABLE mirror AS SELECT id, qty, city FROM items WHERE city = 'Bulk';
SET work_mem = '64kB';
BEGIN;
UPDATE items SET qty = qty + 1000, city = 'Moved' WHERE city = 'Bulk' AND qty % 3 = 0;
UPDATE mirror SET qty = qty + 1000, city = 'Moved' WHERE city = 'Bulk' AND qty % 3 = 0;
DELETE FROM items WHERE city = 'Bulk' AND qty % 5 = 0;
DELETE FROM mirror WHERE city = 'Bulk' AND qty % 5 = 0;
SAVEPOINT s;
DELETE FROM items WHERE city = 'Bulk';
UPDATE items SET qty = 0 WHERE city = 'Moved';
ROLLBACK TO s;
SAVEPOINT d;
INSERT INTO items (id, name, qty, city) VALUES ('bulk1', 'a duplicate', 0, 'Bulk');
ROLLBACK TO d;
INSERT INTO items (id, name, qty, city) VALUES ('bulk601', 'one more', 601, 'Bulk');
INSERT INTO mirror VALUES ('bulk601', 601, 'Bulk');
SELECT count(*) AS differences FROM (
  (SELECT id, qty, city FROM items WHERE city IN ('Bulk', 'Moved') EXCEPT ALL SELECT * FROM mirror)
  UNION ALL
  (SELECT * FROM mirror EXCEPT ALL SELECT id, qty, city FROM items WHERE city IN ('Bulk', 'Moved'))) d;
SELECT city, count(*) FROM items WHERE city IN ('Bulk', 'Moved') GROUP BY city ORDER BY city;
COMMIT;
RESET work_mem;
SELECT count(*) AS differences FROM (
  (SELECT id, qty, city FROM items WHERE city IN ('Bulk', 'Moved') EXCEPT ALL SELECT * FROM mirror)
  UNION ALL
  (SELECT * FROM mirror EXCEPT ALL SELECT id, qty, city FROM items WHERE city IN ('Bulk', 'Moved'))) d;
-- partition queries find exactly the records, and no reference is left in the old partition
SELECT (SELECT count(*) FROM items WHERE city = 'Moved') AS moved,
       (SELECT count(*) FROM store WHERE key LIKE '%address.city=Moved/%') AS moved_refs,
       (SELECT count(*) FROM items WHERE city = 'Bulk') AS bulk,
       (SELECT count(*) FROM store WHERE key LIKE '%address.city=Bulk/%') AS bulk_refs;
DROP TABLE mirror;

-- timestamps: true: createdAt and updatedAt as s3db.js's insert() and
-- update() write them, unless the statement gives them
CREATE FOREIGN TABLE stamped (id text, name text, "createdAt" timestamptz, "updatedAt" timestamptz)
  SERVER w OPTIONS (resource 'stamped');
SELECT s3db_create_resource('stamped', 'body-overflow', NULL, true);
-- s3db.js keeps milliseconds: compare at that precision
CREATE TEMP TABLE t0 AS SELECT date_trunc('milliseconds', statement_timestamp()) AS t;
INSERT INTO stamped (id, name) VALUES ('s1', 'one')
  RETURNING id, "createdAt" >= (SELECT t FROM t0) AS created_now, "createdAt" = "updatedAt" AS same;
INSERT INTO stamped VALUES ('s2', 'two', '2020-01-01 00:00:00+00', NULL) RETURNING "createdAt", "updatedAt" > "createdAt" AS later;
SELECT id, "createdAt" >= (SELECT t FROM t0) AS created_now, "createdAt" = "updatedAt" AS same FROM stamped ORDER BY id;
CREATE TEMP TABLE stamped_before AS SELECT id, "createdAt", "updatedAt" FROM stamped;
SELECT pg_sleep(0.01);
UPDATE stamped SET name = name || '!' RETURNING id, "updatedAt" > "createdAt" AS touched;
SELECT s.id, s."createdAt" = b."createdAt" AS created_kept, s."updatedAt" > b."updatedAt" AS updated_later
  FROM stamped s JOIN stamped_before b USING (id) ORDER BY id;
UPDATE stamped SET "updatedAt" = '2021-06-01 12:00:00+00' WHERE id = 's2';
SELECT id, "updatedAt" FROM stamped WHERE id = 's2';
-- the stored dates are s3db.js's ISO strings
CREATE FOREIGN TABLE stamped_text (id text, "createdAt" text, "updatedAt" text)
  SERVER w OPTIONS (resource 'stamped');
SELECT * FROM stamped_text WHERE id = 's2';
DROP TABLE t0, stamped_before;

-- TRUNCATE removes records and references
TRUNCATE items;
SELECT count(*) FROM items;
SELECT count(*) FROM store WHERE key LIKE 'resource=items/%';

DROP SCHEMA imp CASCADE;
DROP VIEW store, store_digest;
DROP TABLE audit, before;
DROP FUNCTION items_audit(), items_default_qty();
DROP SCHEMA app CASCADE;
RESET ROLE;
DROP SERVER w, other CASCADE;
DROP ROLE regress_s3db_app;
