--
-- Errors: bad stores, bad records, bad conversions; each names what failed
--
\getenv broken_url S3DB_BROKEN_URL
\getenv corrupt_url S3DB_CORRUPT_URL
\getenv fixture_url S3DB_FIXTURE_URL
\set VERBOSITY default

CREATE SERVER broken FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR CURRENT_USER SERVER broken OPTIONS (connection_string :'broken_url');
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
CREATE SERVER corrupt FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR CURRENT_USER SERVER corrupt OPTIONS (connection_string :'corrupt_url');
CREATE FOREIGN TABLE c (id text) SERVER corrupt OPTIONS (resource 'x');
SELECT * FROM c;
IMPORT FOREIGN SCHEMA s3db FROM SERVER corrupt INTO public;

-- a value that does not fit the column's type names column, record and value
CREATE SERVER fixture FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR CURRENT_USER SERVER fixture
  OPTIONS (connection_string :'fixture_url', passphrase 'fixture-pass');
CREATE FOREIGN TABLE people_bad (id text, name integer) SERVER fixture OPTIONS (resource 'people');
SELECT * FROM people_bad WHERE id = 'alice';
CREATE FOREIGN TABLE people_short (id text, name varchar(3)) SERVER fixture OPTIONS (resource 'people');
SELECT * FROM people_short WHERE id = 'bob';
SELECT * FROM people_short WHERE id = 'alice';

-- a wrong passphrase cannot decrypt secrets
CREATE SERVER fixture2 FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR CURRENT_USER SERVER fixture2
  OPTIONS (connection_string :'fixture_url', passphrase 'wrong');
CREATE FOREIGN TABLE vault (id text, label text, secret text) SERVER fixture2 OPTIONS (resource 'vault');
SELECT id, label FROM vault;
SELECT * FROM vault;

-- an unreachable server: a clear error, no credential in it
CREATE SERVER dead FOREIGN DATA WRAPPER s3db_fdw
  OPTIONS (connection_string 'http://127.0.0.1:9/bucket', max_retries '1', connect_timeout '500');
CREATE USER MAPPING FOR CURRENT_USER SERVER dead
  OPTIONS (access_key_id 'AKIADEADBEEF', secret_access_key 'do-not-print-me');
CREATE FOREIGN TABLE dead_t (id text) SERVER dead OPTIONS (resource 'x');
SELECT * FROM dead_t;

-- hostile ids: rejected when written, never found when read, and nothing
-- is written or read outside the store
\getenv write_url S3DB_WRITE_URL
SELECT :'write_url' || '-errors' AS hostile_url \gset
CREATE SERVER hostile FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR CURRENT_USER SERVER hostile OPTIONS (connection_string :'hostile_url');
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
-- on file:// nothing appeared next to the store
SELECT count(*) AS outside FROM pg_ls_dir(CASE WHEN :'write_url' LIKE 'file://%'
         THEN regexp_replace(substr(:'write_url', 8), '/[^/]*/?$', '') ELSE '.' END) AS f
 WHERE f ~ 'hostile' AND f <> regexp_replace(:'hostile_url', '^.*/', '');
DELETE FROM hostile_t;
DROP SERVER hostile CASCADE;

-- a catalog naming resources "../evil", "a/b" and "..": not an escape
SELECT :'broken_url' || '/evil' AS evil_url \gset
CREATE SERVER evil FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR CURRENT_USER SERVER evil OPTIONS (connection_string :'evil_url');
CREATE SCHEMA evil;
IMPORT FOREIGN SCHEMA s3db FROM SERVER evil INTO evil;
IMPORT FOREIGN SCHEMA s3db LIMIT TO (ok) FROM SERVER evil INTO evil;
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'evil' ORDER BY 1;
SELECT * FROM evil.ok;
CREATE FOREIGN TABLE evil.up (id text, name text) SERVER evil OPTIONS (resource '../evil');
SELECT * FROM evil.up;
SELECT * FROM evil.up WHERE id = 'o1';
DROP SCHEMA evil CASCADE;
DROP SERVER evil CASCADE;

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

DROP SERVER dead, fixture, fixture2, broken, corrupt CASCADE;
