--
-- SELECT: records written by s3db.js, every behavior, type conversion
--
\getenv fixture_url S3DB_FIXTURE_URL
-- the superuser sets up what a DBA grants an application: a role with a
-- schema, USAGE on the server and its user mapping (a file:// store also
-- needs pg_read_server_files); the application role does the rest
CREATE ROLE regress_s3db_app;
CREATE SCHEMA s AUTHORIZATION regress_s3db_app;
CREATE SERVER fixture FOREIGN DATA WRAPPER s3db_fdw;
GRANT USAGE ON FOREIGN SERVER fixture TO regress_s3db_app;
CREATE USER MAPPING FOR regress_s3db_app SERVER fixture
  OPTIONS (connection_string :'fixture_url', passphrase 'fixture-pass');
SELECT :'fixture_url' LIKE 'file:%' AS file_store \gset
\if :file_store
GRANT pg_read_server_files TO regress_s3db_app;
\endif
SET ROLE regress_s3db_app;

IMPORT FOREIGN SCHEMA s3db FROM SERVER fixture INTO s;

-- user-managed: metadata records and one whole-body record (> 2 KB)
SELECT id, name, email, age, score, active, tags, profile, born, seen, length(note) AS note_len
  FROM s.people ORDER BY id;
-- body-overflow: the big field lives in the JSON body
SELECT id, title, length(body) AS body_len, left(body, 5) AS head, words FROM s.docs ORDER BY id;
-- body-only
SELECT * FROM s.notes;
-- secrets are decrypted with the user mapping's passphrase
SELECT * FROM s.vault;
-- the rarer types
SELECT * FROM s.typed;
-- binary content as bytea, fetched only when selected
CREATE FOREIGN TABLE s.files_content (
  id text, title text,
  body bytea OPTIONS (field '$content'),
  mime text OPTIONS (field '$content_type')
) SERVER fixture OPTIONS (resource 'files');
SELECT id, title, body, mime, convert_from(body, 'UTF8') FROM s.files_content;
SELECT id, title FROM s.files_content;

-- nested attributes through the field option, any column name
CREATE FOREIGN TABLE s.cities (
  key text OPTIONS (field 'id'),
  city text OPTIONS (field 'profile.city'),
  zip text OPTIONS (field 'profile.zip'),
  missing text OPTIONS (field 'no.such.field')
) SERVER fixture OPTIONS (resource 'people');
SELECT * FROM s.cities ORDER BY key;

-- other column types that accept the values
CREATE FOREIGN TABLE s.people_text (
  id text, age numeric, score text, active text, tags jsonb, profile text, seen text, born text
) SERVER fixture OPTIONS (resource 'people');
SELECT * FROM s.people_text ORDER BY id;

-- the whole row, as JSON
SELECT row_to_json(p) FROM (SELECT id, age, tags FROM s.people WHERE id = 'alice') p;

-- ids: direct fetches, no listing
SELECT id, name FROM s.people WHERE id = 'chloé';
SELECT id, name FROM s.people WHERE id IN ('bob', 'dan 2', 'nobody', '../x') ORDER BY id;
SELECT id FROM s.people WHERE id = ANY (ARRAY['alice', NULL, 'alice']);
PREPARE by_id(text) AS SELECT id, age FROM s.people WHERE id = $1;
EXECUTE by_id('alice');
EXECUTE by_id('bob');
EXECUTE by_id('nobody');
SET plan_cache_mode = force_generic_plan;
EXECUTE by_id('dan 2');
RESET plan_cache_mode;
DEALLOCATE by_id;
-- a join on id uses the outer row's value at scan start
SELECT v.id, p.name FROM (VALUES ('alice'), ('bob')) v(id)
  CROSS JOIN LATERAL (SELECT name FROM s.people WHERE id = v.id) p ORDER BY 1;

-- ANALYZE counts the records from the listing and samples them
ANALYZE s.people;
SELECT reltuples FROM pg_class WHERE oid = 's.people'::regclass;
SELECT attname, null_frac FROM pg_stats
 WHERE schemaname = 's' AND tablename = 'people' AND attname IN ('id', 'born', 'note') ORDER BY 1;
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
-- joined on id with a large resource, the scan fetches per outer row
RESET ROLE;
UPDATE pg_class SET reltuples = 100000 WHERE oid = 's.people'::regclass;
SET ROLE regress_s3db_app;
SELECT pg_temp.explain('COSTS OFF',
  $$SELECT p.id, p.name FROM (VALUES ('alice'), ('bob')) v(id) JOIN s.people p ON p.id = v.id$$);
SELECT p.id, p.name FROM (VALUES ('alice'), ('bob')) v(id) JOIN s.people p ON p.id = v.id ORDER BY 1;

-- aggregates and filters run locally
SELECT count(*), sum(age), bool_or(active) FROM s.people;
SELECT id FROM s.people WHERE 'admin' = ANY (tags);
SELECT id FROM s.people WHERE profile->>'city' = 'Berlin' ORDER BY id;

-- EXPLAIN shows the object-store plan
EXPLAIN (COSTS OFF) SELECT * FROM s.people;
EXPLAIN (COSTS OFF) SELECT id FROM s.people;
EXPLAIN (COSTS OFF) SELECT name FROM s.people WHERE id = 'alice';
EXPLAIN (COSTS OFF, VERBOSE) SELECT title FROM s.docs;
SELECT pg_temp.explain('ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF',
  'SELECT count(*) FROM s.people');
SELECT pg_temp.explain('ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF',
  $$SELECT name FROM s.people WHERE id IN ('alice', 'bob')$$);
SELECT pg_temp.explain('ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF',
  'SELECT body FROM s.files_content');
-- a LIMIT fetches no more records than it needs
SELECT pg_temp.explain('ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF',
  'SELECT name FROM s.people LIMIT 1');

DROP FUNCTION pg_temp.explain(text, text);
DROP SCHEMA s CASCADE;
RESET ROLE;
DROP SERVER fixture CASCADE;
DROP ROLE regress_s3db_app;
