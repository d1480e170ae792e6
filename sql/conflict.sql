--
-- INSERT ... ON CONFLICT and the statement shapes a foreign table must
-- either execute as a heap table does or refuse: each statement runs on the
-- foreign table and on a heap twin (id as primary key) and the row counts,
-- RETURNING rows and contents are compared.  Run as an application role.
--
\getenv write_url S3DB_WRITE_URL
SELECT :'write_url' || '-conflict' AS conflict_url \gset
-- roles are shared by the databases of a cluster, which may run this file
-- side by side (test/valgrind/run.sh): one role per database
SELECT 'regress_s3db_conflict_' || current_database() AS app_role \gset
CREATE ROLE :"app_role" LOGIN;
CREATE SERVER cs FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR :"app_role" SERVER cs OPTIONS (connection_string :'conflict_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER cs OPTIONS (connection_string :'conflict_url');
GRANT USAGE ON FOREIGN SERVER cs TO :"app_role";
CREATE FOREIGN TABLE ft (id text, name text, n bigint) SERVER cs OPTIONS (resource 'things');
SELECT s3db_create_resource('ft');
CREATE TABLE ht (id text PRIMARY KEY, name text, n bigint);
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ft, ht TO :"app_role";
-- (a file:// store also needs the server-file roles)
SELECT :'write_url' LIKE 'file:%' AS file_store \gset
\if :file_store
GRANT pg_read_server_files, pg_write_server_files TO :"app_role";
\endif

-- twin(stmt): run stmt with @ replaced by ft, then by ht; compare what each
-- reports (row count, or the RETURNING rows) and say "same" or both results
CREATE FUNCTION twin(stmt text, f text DEFAULT 'ft', h text DEFAULT 'ht') RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  res text[];
  t text;
  n bigint;
  r text;
BEGIN
  FOREACH t IN ARRAY ARRAY[f, h] LOOP
    IF stmt ~* 'returning' THEN
      EXECUTE format('WITH r AS (%s) SELECT count(*), string_agg(r::text, '' '' ORDER BY r::text) FROM r',
                     replace(stmt, '@', t)) INTO n, r;
    ELSE
      EXECUTE replace(stmt, '@', t);
      GET DIAGNOSTICS n = ROW_COUNT;
      r := NULL;
    END IF;
    res := res || format('%s rows%s', n, coalesce(' ' || r, ''));
  END LOOP;
  IF res[1] = res[2] THEN
    RETURN 'same: ' || res[1];
  END IF;
  RETURN format('DIFFER: foreign %s, heap %s', res[1], res[2]);
END $$;
-- contents: rows in one table and not in the other (a function, so that
-- the foreign table is read as the caller, as the writes were made)
CREATE FUNCTION differ() RETURNS TABLE (side text, id text, name text, n bigint)
LANGUAGE sql AS $$
  (SELECT 'only foreign', * FROM (SELECT * FROM ft EXCEPT SELECT * FROM ht) a)
  UNION ALL
  (SELECT 'only heap', * FROM (SELECT * FROM ht EXCEPT SELECT * FROM ft) b)
$$;

SET ROLE :"app_role";
SELECT twin($$INSERT INTO @ VALUES ('a', 'first', 1), ('b', 'first', 2)$$);

-- an id in the store: skipped, not an error, and not counted
SELECT twin($$INSERT INTO @ VALUES ('a', 'second', 10) ON CONFLICT DO NOTHING$$);
SELECT twin($$INSERT INTO @ VALUES ('a', 'second', 10), ('c', 'new', 3) ON CONFLICT DO NOTHING RETURNING *$$);
-- the same id twice in one statement: the first is inserted
SELECT twin($$INSERT INTO @ VALUES ('d', 'one', 4), ('d', 'two', 5) ON CONFLICT DO NOTHING RETURNING id, name$$);
-- INSERT ... SELECT (inserted in batches), overlapping what exists
SELECT twin($$INSERT INTO @ SELECT 'g' || g, 'gen', g FROM generate_series(1, 120) g ON CONFLICT DO NOTHING$$);
SELECT twin($$INSERT INTO @ SELECT 'g' || g, 'again', g FROM generate_series(110, 130) g ON CONFLICT DO NOTHING$$);
SELECT twin($$INSERT INTO @ SELECT 'g' || g, 'again', g FROM generate_series(110, 140) g ON CONFLICT DO NOTHING RETURNING id$$);
SELECT * FROM differ();

-- inside a transaction: what it inserted, deleted and truncated counts
BEGIN;
SELECT twin($$INSERT INTO @ VALUES ('e', 'in xact', 6) ON CONFLICT DO NOTHING$$);
SELECT twin($$INSERT INTO @ VALUES ('e', 'again', 7) ON CONFLICT DO NOTHING$$);
SELECT twin($$DELETE FROM @ WHERE id = 'a'$$);
SELECT twin($$INSERT INTO @ VALUES ('a', 'reborn', 8) ON CONFLICT DO NOTHING RETURNING *$$);
SELECT twin($$UPDATE @ SET n = n + 100 WHERE id = 'e'$$);
SELECT twin($$INSERT INTO @ VALUES ('e', 'after update', 9) ON CONFLICT DO NOTHING$$);
SELECT * FROM differ();
COMMIT;
SELECT * FROM differ();
SELECT id, name, n FROM ft WHERE id IN ('a', 'b', 'c', 'd', 'e') ORDER BY id;

BEGIN;
SELECT twin($$TRUNCATE @$$);
SELECT twin($$INSERT INTO @ VALUES ('a', 'after truncate', 1), ('z', 'after truncate', 2) ON CONFLICT DO NOTHING$$);
SELECT twin($$INSERT INTO @ VALUES ('a', 'again', 1) ON CONFLICT DO NOTHING$$);
COMMIT;
SELECT * FROM differ();
SELECT count(*) FROM ft;

-- a DO NOTHING insert rolled back to a savepoint is gone: the id is free again
BEGIN;
SAVEPOINT s;
SELECT twin($$INSERT INTO @ VALUES ('sp', 'rolled back', 1) ON CONFLICT DO NOTHING$$);
ROLLBACK TO s;
SELECT twin($$INSERT INTO @ VALUES ('sp', 'kept', 2) ON CONFLICT DO NOTHING RETURNING *$$);
SAVEPOINT t;
SELECT twin($$INSERT INTO @ VALUES ('sp', 'skipped', 3) ON CONFLICT DO NOTHING$$);
RELEASE t;
COMMIT;
SELECT * FROM differ();
SELECT twin($$DELETE FROM @ WHERE id = 'sp' RETURNING *$$);

-- a join that yields a row twice changes it once, as on a heap table
SELECT twin($$UPDATE @ SET n = v.n FROM (VALUES ('a', 50), ('a', 50)) v(id, n) WHERE @.id = v.id$$);
SELECT twin($$UPDATE @ SET n = @.n + 1 FROM generate_series(1, 3) WHERE @.id = 'z' RETURNING @.id, @.n$$);
SELECT twin($$DELETE FROM @ USING (VALUES ('a'), ('a'), ('z')) v(id) WHERE @.id = v.id RETURNING @.id$$);
SELECT * FROM differ();

SELECT twin($$INSERT INTO @ VALUES ('k1', 'kept', 1), ('k2', 'kept', 2)$$);

-- shapes that cannot work on a foreign table are refused, not mis-executed
-- (a conflict target or DO UPDATE needs a unique index, which it cannot have)
INSERT INTO ft VALUES ('a', 'x', 1) ON CONFLICT (id) DO NOTHING;
INSERT INTO ft VALUES ('a', 'x', 1) ON CONFLICT (id) DO UPDATE SET name = excluded.name;
INSERT INTO ft VALUES ('a', 'x', 1) ON CONFLICT DO UPDATE SET name = excluded.name;
UPDATE ft SET id = 'other' WHERE id = 'k1';
MERGE INTO ft USING (VALUES ('k1')) v(id) ON ft.id = v.id WHEN MATCHED THEN DELETE;
BEGIN;
DECLARE c CURSOR FOR SELECT * FROM ft;
FETCH 1 FROM c;
UPDATE ft SET name = 'cursor' WHERE CURRENT OF c;
ROLLBACK;
SELECT * FROM differ();

-- tuple routing: a foreign partition of a partitioned table
RESET ROLE;
CREATE TABLE parted (id text, name text, n bigint) PARTITION BY RANGE (id);
ALTER TABLE parted ATTACH PARTITION ft FOR VALUES FROM (MINVALUE) TO ('m');
CREATE TABLE parted_rest PARTITION OF parted FOR VALUES FROM ('m') TO (MAXVALUE);
CREATE TABLE hparted (id text PRIMARY KEY, name text, n bigint) PARTITION BY RANGE (id);
CREATE TABLE hparted_low PARTITION OF hparted FOR VALUES FROM (MINVALUE) TO ('m');
CREATE TABLE hparted_rest PARTITION OF hparted FOR VALUES FROM ('m') TO (MAXVALUE);
INSERT INTO hparted_low SELECT * FROM ht WHERE id < 'm';
GRANT SELECT, INSERT, UPDATE, DELETE ON parted, hparted TO :"app_role";
SET ROLE :"app_role";
SELECT twin($$INSERT INTO @ VALUES ('k2', 'routed', 0), ('b2', 'routed', 0), ('x', 'rest', 0)
              ON CONFLICT DO NOTHING RETURNING *$$, 'parted', 'hparted');
SELECT twin($$INSERT INTO @ SELECT 'g' || g, 'routed', g FROM generate_series(200, 300, 10) g
              ON CONFLICT DO NOTHING$$, 'parted', 'hparted');
SELECT twin($$INSERT INTO @ SELECT 'g' || g, 'again', g FROM generate_series(200, 320, 5) g
              ON CONFLICT DO NOTHING$$, 'parted', 'hparted');
SELECT * FROM parted EXCEPT SELECT * FROM hparted;
SELECT * FROM hparted EXCEPT SELECT * FROM parted;
-- generated ids are new: inserted without a lookup
SELECT count(*), bool_and(length(id) > 0) FROM ft;
WITH r AS (INSERT INTO ft (name, n) SELECT 'generated', g FROM generate_series(1, 3) g
           ON CONFLICT DO NOTHING RETURNING id)
SELECT count(*), count(DISTINCT id) FROM r;
SELECT count(*) FROM ft WHERE name = 'generated';
RESET ROLE;

SET client_min_messages = warning;
DROP SERVER cs CASCADE;
DROP TABLE ht, parted, hparted CASCADE;
DROP OWNED BY :"app_role";
DROP ROLE :"app_role";
