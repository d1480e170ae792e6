--
-- Pushdown is only ever an optimisation: every query shape that selects
-- records by id or by partition gives the same rows with
-- s3db_fdw.enable_pushdown on and off, and the same rows as a heap twin,
-- also under a nondeterministic (case-insensitive) collation, which must
-- not be pushed.  Run as an application role.
--
\getenv write_url S3DB_WRITE_URL
SELECT :'write_url' || '-pushdown' AS pushdown_url \gset
-- roles are shared by the databases of a cluster, which may run this file
-- side by side (test/valgrind/run.sh): one role per database
SELECT 'regress_s3db_pushdown_' || current_database() AS app_role \gset
CREATE ROLE :"app_role" LOGIN;
CREATE SERVER ps FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR :"app_role" SERVER ps OPTIONS (connection_string :'pushdown_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER ps OPTIONS (connection_string :'pushdown_url');
GRANT USAGE ON FOREIGN SERVER ps TO :"app_role";
CREATE FOREIGN TABLE ft (id text, city text, n bigint, note text) SERVER ps OPTIONS (resource 'places');
SELECT s3db_create_resource('ft', 'body-overflow',
  '{"byCity": {"fields": {"city": "string"}}, "byN": {"fields": {"n": "number"}}}');
CREATE TABLE ht (id text PRIMARY KEY, city text, n bigint, note text);
CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE probe (id text, city text);
CREATE FOREIGN TABLE fm (id text, v int) SERVER ps OPTIONS (resource 'many');
SELECT s3db_create_resource('fm');
CREATE TABLE hm (id text PRIMARY KEY, v int);
GRANT SELECT, INSERT, UPDATE, DELETE ON ft, ht, probe, fm, hm TO :"app_role";
-- (a file:// store also needs the server-file roles)
SELECT :'write_url' LIKE 'file:%' AS file_store \gset
\if :file_store
GRANT pg_read_server_files, pg_write_server_files TO :"app_role";
\endif

-- same(q [, arg]): q (with @ for the table) on the foreign table with
-- pushdown on, with pushdown off, and on the heap twin; the rows, sorted
CREATE FUNCTION same(q text, arg text[] DEFAULT NULL, f text DEFAULT 'ft', h text DEFAULT 'ht')
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  res text[];
  t text;
  push text;
  r text;
BEGIN
  FOR t, push IN VALUES (f, 'on'), (f, 'off'), (h, 'on') LOOP
    PERFORM set_config('s3db_fdw.enable_pushdown', push, true);
    EXECUTE format('SELECT coalesce(string_agg(x::text, '' '' ORDER BY x::text), '''') FROM (%s) x',
                   replace(q, '@', t)) INTO r USING arg;
    res := res || r;
  END LOOP;
  PERFORM set_config('s3db_fdw.enable_pushdown', 'on', true);
  IF res[1] = res[2] AND res[2] = res[3] THEN
    RETURN 'same: ' || res[1];
  END IF;
  RETURN format('DIFFER: pushed [%s], not pushed [%s], heap [%s]', res[1], res[2], res[3]);
END $$;

SET ROLE :"app_role";
INSERT INTO ft VALUES ('x1', 'Berlin', 1, 'lower x1'), ('X2', 'berlin', 2, 'upper X2'),
  ('a', 'Rio', 1, NULL), ('b', 'Lima', 3, 'b'), ('Straße', 'München', 4, 'eszett'),
  ('c', NULL, NULL, 'no city');
INSERT INTO ht SELECT * FROM ft;
INSERT INTO probe VALUES ('x1', 'Berlin'), ('X1', 'BERLIN'), ('b', 'Lima'), ('zz', 'Nowhere');

-- each shape is pushed with the setting on, and not with it off
EXPLAIN (COSTS OFF) SELECT * FROM ft WHERE id = 'x1';
SET s3db_fdw.enable_pushdown = off;
SHOW s3db_fdw.enable_pushdown;
EXPLAIN (COSTS OFF) SELECT * FROM ft WHERE id = 'x1';
EXPLAIN (COSTS OFF) SELECT * FROM ft WHERE city = 'Berlin';
RESET s3db_fdw.enable_pushdown;
EXPLAIN (COSTS OFF) SELECT * FROM ft WHERE city = 'Berlin';
EXPLAIN (COSTS OFF) SELECT * FROM ft WHERE n IN (1, 3);

-- id: =, IN, = ANY(array), = ANY($1), with other conditions, LIMIT
SELECT same($$SELECT * FROM @ WHERE id = 'x1'$$);
SELECT same($$SELECT * FROM @ WHERE 'X2' = id$$);
SELECT same($$SELECT * FROM @ WHERE id IN ('x1', 'X2', 'nope')$$);
SELECT same($$SELECT * FROM @ WHERE id = ANY (ARRAY['a', 'b', NULL])$$);
SELECT same($$SELECT * FROM @ WHERE id = ANY ($1)$$, ARRAY['a', 'Straße', 'zz']);
SELECT same($$SELECT * FROM @ WHERE id = $1[1]$$, ARRAY['b']);
SELECT same($$SELECT * FROM @ WHERE id = 'x1' AND n = 2$$);
SELECT same($$SELECT * FROM @ WHERE id IN ('x1', 'a') AND city = 'Rio'$$);
SELECT same($$SELECT id FROM @ WHERE id = 'x1' OR id = 'b'$$);
SELECT same($$SELECT id FROM @ WHERE id::varchar = 'b'$$);
SELECT same($$SELECT id FROM @ WHERE id > 'b'$$);
SELECT same($$SELECT id FROM @ WHERE id LIKE 'x%'$$);
SELECT same($$SELECT id FROM (SELECT id FROM @ ORDER BY id LIMIT 2) s$$);
SELECT same($$SELECT count(*) FROM (SELECT id FROM @ LIMIT 3) s$$);
-- partitions: = and IN on a text and on an integer field
SELECT same($$SELECT * FROM @ WHERE city = 'Berlin'$$);
SELECT same($$SELECT * FROM @ WHERE city IN ('Berlin', 'Lima', 'München')$$);
SELECT same($$SELECT * FROM @ WHERE city = ANY ($1)$$, ARRAY['Rio', 'berlin']);
SELECT same($$SELECT * FROM @ WHERE n = 1$$);
SELECT same($$SELECT * FROM @ WHERE n = 1::smallint$$);
SELECT same($$SELECT * FROM @ WHERE n IN (1, 4)$$);
SELECT same($$SELECT * FROM @ WHERE n = 1.0$$);
SELECT same($$SELECT * FROM @ WHERE city IS NULL$$);
-- joins: a parameterized nested loop fetches by the outer row's id (a
-- resource large enough that listing it costs more than a fetch per row)
SELECT same($$SELECT p.id, (SELECT note FROM @ f WHERE f.id = p.id) FROM probe p$$);
SELECT same($$SELECT p.id, l.note FROM probe p, LATERAL (SELECT note FROM @ f WHERE f.id = p.id LIMIT 1) l$$);
EXPLAIN (COSTS OFF) SELECT p.id, (SELECT note FROM ft f WHERE f.id = p.id) FROM probe p;
INSERT INTO fm SELECT 'm' || g, g FROM generate_series(1, 60) g;
INSERT INTO fm VALUES ('x1', -1), ('X1', -2);
INSERT INTO hm SELECT * FROM fm;
RESET ROLE;
ANALYZE probe;
SET ROLE :"app_role";
-- (17 and 18 print the pushed join clause as "id = p.id", 15 as "p.id = id")
CREATE FUNCTION pg_temp.explain(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  ln text;
BEGIN
  FOR ln IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
    RETURN NEXT regexp_replace(ln, 'Filter: \((\w+) = (\w+\.\w+)\)$', 'Filter: (\2 = \1)');
  END LOOP;
END $$;
SELECT pg_temp.explain('SELECT p.id, f.v FROM probe p JOIN fm f ON f.id = p.id');
DROP FUNCTION pg_temp.explain(text);
SELECT same($$SELECT p.id, f.v FROM probe p JOIN @ f ON f.id = p.id$$, NULL, 'fm', 'hm');
SELECT same($$SELECT p.id, f.v FROM probe p JOIN @ f ON f.id = p.id COLLATE ci$$, NULL, 'fm', 'hm');
SELECT same($$SELECT p.id, f.v FROM probe p JOIN @ f ON f.id = p.id WHERE f.v < 0$$, NULL, 'fm', 'hm');
SELECT same($$SELECT p.id, f.id FROM probe p JOIN @ f ON f.city = p.city$$);

-- a nondeterministic collation: X1 = x1, Berlin = BERLIN = berlin, Strasse = Straße
SELECT same($$SELECT * FROM @ WHERE id = 'X1' COLLATE ci$$);
SELECT same($$SELECT * FROM @ WHERE id COLLATE ci IN ('X1', 'x2')$$);
SELECT same($$SELECT * FROM @ WHERE id = ANY ($1::text[] COLLATE ci)$$, ARRAY['A', 'STRASSE']);
SELECT same($$SELECT * FROM @ WHERE city = 'BERLIN' COLLATE ci$$);
SELECT same($$SELECT * FROM @ WHERE city COLLATE ci IN ('rio', 'MÜNCHEN')$$);
SELECT same($$SELECT p.id, f.id FROM probe p JOIN @ f ON f.id = p.id COLLATE ci$$);
EXPLAIN (COSTS OFF) SELECT p.id, f.v FROM probe p JOIN fm f ON f.id = p.id COLLATE ci;
-- which is not pushed: the scan lists the resource
EXPLAIN (COSTS OFF) SELECT * FROM ft WHERE id = 'X1' COLLATE ci;
EXPLAIN (COSTS OFF) SELECT * FROM ft WHERE city = 'BERLIN' COLLATE ci;
-- and a deterministic collation other than the column's still is
EXPLAIN (COSTS OFF) SELECT * FROM ft WHERE id = 'x1' COLLATE "C";
SELECT same($$SELECT * FROM @ WHERE id = 'x1' COLLATE "C"$$);

-- a column declared with the nondeterministic collation
RESET ROLE;
CREATE FOREIGN TABLE ft_ci (id text COLLATE ci, city text COLLATE ci, n bigint, note text)
  SERVER ps OPTIONS (resource 'places');
CREATE TABLE ht_ci (id text COLLATE ci, city text COLLATE ci, n bigint, note text);
INSERT INTO ht_ci SELECT * FROM ht;
GRANT SELECT ON ft_ci, ht_ci TO :"app_role";
SET ROLE :"app_role";
EXPLAIN (COSTS OFF) SELECT * FROM ft_ci WHERE id = 'X1';
SELECT same($$SELECT * FROM @_ci WHERE id = 'X1'$$);
SELECT same($$SELECT * FROM @_ci WHERE city IN ('BERLIN', 'lima')$$);
SELECT same($$SELECT * FROM @_ci WHERE id = 'X1' COLLATE "C"$$);

-- UPDATE and DELETE find the same rows either way
BEGIN;
SET LOCAL s3db_fdw.enable_pushdown = off;
UPDATE ft SET note = 'updated' WHERE id = 'X1' COLLATE ci RETURNING id;
UPDATE ht SET note = 'updated' WHERE id = 'X1' COLLATE ci RETURNING id;
DELETE FROM ft WHERE city = 'lima' COLLATE ci RETURNING id;
DELETE FROM ht WHERE city = 'lima' COLLATE ci RETURNING id;
COMMIT;
UPDATE ft SET n = n + 10 WHERE id IN ('X2', 'a') RETURNING id, n;
UPDATE ht SET n = n + 10 WHERE id IN ('X2', 'a') RETURNING id, n;
SELECT same($$SELECT * FROM @$$);
RESET ROLE;

SET client_min_messages = warning;
DROP SERVER ps CASCADE;
DROP TABLE ht, ht_ci, hm, probe;
DROP FUNCTION same(text, text[], text, text);
DROP COLLATION ci;
DROP OWNED BY :"app_role";
DROP ROLE :"app_role";
