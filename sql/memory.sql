--
-- Memory: the inner scan of a nested loop, rescanned once per outer row,
-- does not grow with the number of outer rows.  Measured as the backend's
-- memory (every memory context) after 200 and after 1,200 rescans of a
-- parameterized fetch by id, within one cursor; the bound is far below
-- what the ids kept by every rescan used to add (about 200 bytes each).
-- The superuser sets up; the queries run as an application role, granted
-- the memory-context view a DBA grants for monitoring.
--
\getenv write_url S3DB_WRITE_URL
SELECT rtrim(:'write_url', '/') || '-mem' AS url_mem \gset

CREATE ROLE regress_s3db_mem_app;
CREATE SERVER mem_srv FOREIGN DATA WRAPPER s3db_fdw;
GRANT USAGE ON FOREIGN SERVER mem_srv TO regress_s3db_mem_app;
CREATE USER MAPPING FOR CURRENT_USER SERVER mem_srv OPTIONS (connection_string :'url_mem');
CREATE USER MAPPING FOR regress_s3db_mem_app SERVER mem_srv OPTIONS (connection_string :'url_mem');
CREATE FOREIGN TABLE mem_things (id text, v text, n int) SERVER mem_srv OPTIONS (resource 'things');
SELECT s3db_create_resource('mem_things');
INSERT INTO mem_things SELECT g::text, 'thing ' || g, g FROM generate_series(0, 4) g;
GRANT SELECT ON mem_things TO regress_s3db_mem_app;
GRANT SELECT ON pg_backend_memory_contexts TO regress_s3db_mem_app;
GRANT EXECUTE ON FUNCTION pg_get_backend_memory_contexts() TO regress_s3db_mem_app;
SELECT :'write_url' LIKE 'file:%' AS file_store \gset
\if :file_store
GRANT pg_read_server_files TO regress_s3db_mem_app;
\endif

SET ROLE regress_s3db_mem_app;
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_material = off;
-- the plan: a nested loop whose inner foreign scan fetches by the outer id
EXPLAIN (COSTS OFF)
SELECT g, t.v FROM generate_series(1, 1200) g,
    LATERAL (SELECT v FROM mem_things WHERE id = (g % 5)::text OFFSET 0) t;

BEGIN;
DECLARE c NO SCROLL CURSOR FOR
  SELECT g, t.v FROM generate_series(1, 1200) g,
    LATERAL (SELECT v FROM mem_things WHERE id = (g % 5)::text OFFSET 0) t;
MOVE 200 IN c;
SELECT sum(total_bytes) AS after_200 FROM pg_backend_memory_contexts \gset
MOVE 1000 IN c;
SELECT sum(total_bytes) AS after_1200 FROM pg_backend_memory_contexts \gset
COMMIT;
-- the rows are right (compared with a heap copy) and memory stayed flat
-- (each rescan is a request: a few hundred suffice to compare)
CREATE TEMP TABLE heap_things AS SELECT * FROM mem_things;
CREATE TEMP TABLE fdw_rows AS
  SELECT g, t.v FROM generate_series(1, 200) g,
    LATERAL (SELECT v FROM mem_things WHERE id = (g % 5)::text OFFSET 0) t;
CREATE TEMP VIEW heap_rows AS
  SELECT g, t.v FROM generate_series(1, 200) g,
    LATERAL (SELECT v FROM heap_things WHERE id = (g % 5)::text OFFSET 0) t;
SELECT (SELECT count(*) FROM fdw_rows) AS fdw_count,
       (SELECT count(*) FROM (TABLE fdw_rows EXCEPT ALL TABLE heap_rows) d) AS only_fdw,
       (SELECT count(*) FROM (TABLE heap_rows EXCEPT ALL TABLE fdw_rows) d) AS only_heap;
SELECT :after_1200 - :after_200 < 65536 AS memory_flat;
DROP VIEW heap_rows;
DROP TABLE heap_things, fdw_rows;
RESET ROLE;
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_material;

TRUNCATE mem_things;
REVOKE SELECT ON pg_backend_memory_contexts FROM regress_s3db_mem_app;
REVOKE EXECUTE ON FUNCTION pg_get_backend_memory_contexts() FROM regress_s3db_mem_app;
DROP SERVER mem_srv CASCADE;
DROP ROLE regress_s3db_mem_app;
