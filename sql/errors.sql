--
-- Errors: bad stores, bad records, bad conversions; each names what failed
--
\getenv broken_url S3DB_BROKEN_URL
\getenv corrupt_url S3DB_CORRUPT_URL
\getenv fixture_url S3DB_FIXTURE_URL
\getenv write_url S3DB_WRITE_URL
\set VERBOSITY default
SELECT :'write_url' || '-errors' AS hostile_url \gset
SELECT :'broken_url' || '/evil' AS evil_url \gset

-- the superuser sets up what a DBA grants an application: a role with a
-- schema, USAGE on the servers and its user mappings (file:// stores also
-- need pg_read_server_files and pg_write_server_files); the application
-- role does the rest
CREATE ROLE regress_s3db_app;
CREATE SCHEMA app AUTHORIZATION regress_s3db_app;
CREATE SCHEMA evil AUTHORIZATION regress_s3db_app;
CREATE SERVER broken FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR regress_s3db_app SERVER broken OPTIONS (connection_string :'broken_url');
CREATE SERVER corrupt FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR regress_s3db_app SERVER corrupt OPTIONS (connection_string :'corrupt_url');
CREATE SERVER fixture FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR regress_s3db_app SERVER fixture
  OPTIONS (connection_string :'fixture_url', passphrase 'fixture-pass');
CREATE SERVER fixture2 FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR regress_s3db_app SERVER fixture2
  OPTIONS (connection_string :'fixture_url', passphrase 'wrong');
CREATE SERVER dead FOREIGN DATA WRAPPER s3db_fdw
  OPTIONS (connection_string 'http://127.0.0.1:9/bucket', max_retries '1', connect_timeout '500');
CREATE USER MAPPING FOR regress_s3db_app SERVER dead
  OPTIONS (access_key_id 'AKIADEADBEEF', secret_access_key 'do-not-print-me');
CREATE SERVER hostile FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR regress_s3db_app SERVER hostile OPTIONS (connection_string :'hostile_url');
CREATE SERVER evil FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR regress_s3db_app SERVER evil OPTIONS (connection_string :'evil_url');
GRANT USAGE ON FOREIGN SERVER broken, corrupt, fixture, fixture2, dead, hostile, evil
  TO regress_s3db_app;
SELECT :'fixture_url' LIKE 'file:%' AS file_store \gset
\if :file_store
GRANT pg_read_server_files, pg_write_server_files TO regress_s3db_app;
\endif
SET ROLE regress_s3db_app;
SET search_path = app, public;

CREATE FOREIGN TABLE bad (id text, name text, age bigint, seen timestamptz)
  SERVER broken OPTIONS (resource 'bad');
CREATE FOREIGN TABLE bad_names (id text, name text) SERVER broken OPTIONS (resource 'bad');

-- records without a readable sidecar do not exist; good records read fine
SELECT id, name FROM bad_names ORDER BY id;
SELECT * FROM bad WHERE id = 'good';
-- an invalid stored value names the record and the field
SELECT * FROM bad WHERE id = 'badint';
-- a truncated JSON body
SELECT * FROM bad WHERE id = 'badbody';
-- a resource that is not in s3db.json
CREATE FOREIGN TABLE ghost (id text) SERVER broken OPTIONS (resource 'ghost');
SELECT * FROM ghost;

-- a corrupt s3db.json
CREATE FOREIGN TABLE c (id text) SERVER corrupt OPTIONS (resource 'x');
SELECT * FROM c;
IMPORT FOREIGN SCHEMA s3db FROM SERVER corrupt INTO app;

-- a value that does not fit the column's type names column, record and value
CREATE FOREIGN TABLE people_bad (id text, name integer) SERVER fixture OPTIONS (resource 'people');
SELECT * FROM people_bad WHERE id = 'alice';
CREATE FOREIGN TABLE people_short (id text, name varchar(3)) SERVER fixture OPTIONS (resource 'people');
SELECT * FROM people_short WHERE id = 'bob';
SELECT * FROM people_short WHERE id = 'alice';

-- a wrong passphrase cannot decrypt secrets
CREATE FOREIGN TABLE vault (id text, label text, secret text) SERVER fixture2 OPTIONS (resource 'vault');
SELECT id, label FROM vault;
SELECT * FROM vault;

-- an unreachable server: a clear error, no credential in it
CREATE FOREIGN TABLE dead_t (id text) SERVER dead OPTIONS (resource 'x');
SELECT * FROM dead_t;

-- hostile ids: rejected when written, never found when read, and nothing
-- is written or read outside the store
CREATE FOREIGN TABLE hostile_t (id text, name text) SERVER hostile OPTIONS (resource 'hostile');
SELECT s3db_create_resource('hostile_t');
INSERT INTO hostile_t VALUES ('hostile-ok', 'fine');
INSERT INTO hostile_t VALUES ('../hostile-up', 'x');
INSERT INTO hostile_t VALUES ('a/hostile', 'x');
INSERT INTO hostile_t VALUES ('..', 'x');
INSERT INTO hostile_t VALUES ('.', 'x');
INSERT INTO hostile_t VALUES ('%2e%2e', 'x');
INSERT INTO hostile_t VALUES ('a\hostile', 'x');
INSERT INTO hostile_t VALUES ('k=v', 'x');
INSERT INTO hostile_t VALUES ('', 'x');
INSERT INTO hostile_t VALUES (repeat('h', 10240), 'x');
UPDATE hostile_t SET id = '../hostile-up' WHERE id = 'hostile-ok';
SELECT id, name FROM hostile_t
 WHERE id IN ('../hostile-up', 'a/hostile', '..', '.', '%2e%2e', '../../../../../../etc/passwd',
              '../s3db.json', 'x/../../hostile-ok', '', repeat('h', 10240));
SELECT * FROM hostile_t WHERE id = '../../../../../../etc/passwd';
SELECT id, name FROM hostile_t ORDER BY id;
SELECT key FROM s3db_list('hostile') ORDER BY key;
-- on file:// nothing appeared next to the store (looked at by the superuser)
RESET ROLE;
SELECT count(*) AS outside FROM pg_ls_dir(CASE WHEN :'write_url' LIKE 'file://%'
         THEN regexp_replace(substr(:'write_url', 8), '/[^/]*/?$', '') ELSE '.' END) AS f
 WHERE f ~ 'hostile' AND f <> regexp_replace(:'hostile_url', '^.*/', '');
SET ROLE regress_s3db_app;
DELETE FROM hostile_t;
DROP FOREIGN TABLE hostile_t;

-- a catalog naming resources "../evil", "a/b" and "..": not an escape
IMPORT FOREIGN SCHEMA s3db FROM SERVER evil INTO evil;
IMPORT FOREIGN SCHEMA s3db LIMIT TO (ok) FROM SERVER evil INTO evil;
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'evil' ORDER BY 1;
SELECT * FROM evil.ok;
CREATE FOREIGN TABLE evil.up (id text, name text) SERVER evil OPTIONS (resource '../evil');
SELECT * FROM evil.up;
SELECT * FROM evil.up WHERE id = 'o1';
DROP SCHEMA evil CASCADE;

-- broken objects: each names resource, record and what is wrong, or is
-- skipped (a record without a readable sidecar does not exist)
CREATE FOREIGN TABLE worse (id text, name text, n bigint, seen timestamptz, score float8, tags text[])
  SERVER broken OPTIONS (resource 'worse');
SELECT id, name, n FROM worse WHERE id = 'fine';
SELECT id, n FROM worse WHERE id = 'nonjson';
SELECT id, n FROM worse WHERE id = 'emptybody';
-- a body that is not a JSON object is content, not fields
SELECT id, n FROM worse WHERE id = 'arraybody';
SELECT id, n FROM worse WHERE id = 'deepbody';
-- ill-formed UTF-8 becomes U+FFFD, as in s3db.js (never invalid text)
SELECT id, convert_to(name, 'UTF8') FROM worse WHERE id = 'badutf8body';
SELECT id, name, convert_to(name, 'UTF8') FROM worse WHERE id = 'badutf8meta';
-- an unknown schema version is read with the current one
SELECT id, name FROM worse WHERE id = 'unknownv';
SELECT id, seen FROM worse WHERE id = 'badtime';
SELECT id, length(name) FROM worse WHERE id = 'hugebody';
SELECT id, length(name) FROM worse WHERE id = 'bigmeta';
SELECT id, name FROM worse WHERE id = 'truncsidecar';
-- a full listing that needs only the ids reads no record
SELECT id FROM worse ORDER BY id;
DROP FOREIGN TABLE worse;

DROP SCHEMA app CASCADE;
RESET ROLE;
DROP SERVER dead, fixture, fixture2, broken, corrupt, hostile, evil CASCADE;
DROP ROLE regress_s3db_app;
