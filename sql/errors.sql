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

DROP SERVER dead, fixture, fixture2, broken, corrupt CASCADE;
