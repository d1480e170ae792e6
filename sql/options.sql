--
-- Option validation: the option table, closest-match hints, privileges
--
\set VERBOSITY default

-- the embedded store needs no options at all (but the privileges of
-- pg_read_server_files or pg_write_server_files: it is a directory)
CREATE SERVER embedded FOREIGN DATA WRAPPER s3db_fdw;

-- the superuser sets up an application role that may define servers for
-- its own buckets (USAGE on the wrapper) and a schema; nothing else
CREATE ROLE regress_s3db_app;
GRANT USAGE ON FOREIGN DATA WRAPPER s3db_fdw TO regress_s3db_app;
CREATE SCHEMA app AUTHORIZATION regress_s3db_app;
SET ROLE regress_s3db_app;
SET search_path = app, public;

-- unknown options get the closest valid name as a hint
CREATE SERVER s1 FOREIGN DATA WRAPPER s3db_fdw OPTIONS (conection_string 'memory://b');
CREATE SERVER s1 FOREIGN DATA WRAPPER s3db_fdw OPTIONS (regoin 'eu-west-1');
CREATE SERVER s1 FOREIGN DATA WRAPPER s3db_fdw OPTIONS (bogus 'x');
-- options that belong somewhere else say where
CREATE SERVER s1 FOREIGN DATA WRAPPER s3db_fdw OPTIONS (secret_access_key 'x');
CREATE SERVER s1 FOREIGN DATA WRAPPER s3db_fdw OPTIONS (resource 'x');

-- value checks
CREATE SERVER s1 FOREIGN DATA WRAPPER s3db_fdw OPTIONS (url_style 'sideways');
CREATE SERVER s1 FOREIGN DATA WRAPPER s3db_fdw OPTIONS (max_inflight '0');
CREATE SERVER s1 FOREIGN DATA WRAPPER s3db_fdw OPTIONS (max_inflight 'many');
CREATE SERVER s1 FOREIGN DATA WRAPPER s3db_fdw OPTIONS (metadata_limit '100');
CREATE SERVER s1 FOREIGN DATA WRAPPER s3db_fdw OPTIONS (endpoint 'ftp://x');
CREATE SERVER s1 FOREIGN DATA WRAPPER s3db_fdw OPTIONS (verify_tls 'maybe');
CREATE SERVER s1 FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 'gopher://x/y');
CREATE SERVER s1 FOREIGN DATA WRAPPER s3db_fdw OPTIONS (region 'eu-west-1', region 'us-east-1');

-- credentials never go into server options, which every user can read
CREATE SERVER s1 FOREIGN DATA WRAPPER s3db_fdw
  OPTIONS (connection_string 's3://AKIAEXAMPLE:s3cr3t@bucket/prefix');
-- ... but an s3db.js connection string is accepted as is in a user mapping
CREATE SERVER s1 FOREIGN DATA WRAPPER s3db_fdw
  OPTIONS (connection_string 's3://bucket/prefix', region 'eu-west-1', max_inflight '16');
CREATE USER MAPPING FOR CURRENT_USER SERVER s1
  OPTIONS (connection_string 's3://AKIAEXAMPLE:s3cr3t@bucket/prefix?sessionToken=tok');
ALTER USER MAPPING FOR CURRENT_USER SERVER s1 OPTIONS (ADD passphrase '');
ALTER USER MAPPING FOR CURRENT_USER SERVER s1 OPTIONS (ADD passphrase 'pp', ADD access_key_id 'k', ADD secret_access_key 's');
CREATE FOREIGN TABLE t1 (id text, name text OPTIONS (field 'profile.name'))
  SERVER s1 OPTIONS (resource 'users');
CREATE FOREIGN TABLE t2 (id text) SERVER s1 OPTIONS (resource 'a/b');
CREATE FOREIGN TABLE t2 (id text) SERVER s1 OPTIONS (resource '');
CREATE FOREIGN TABLE t2 (id text OPTIONS (fild 'x')) SERVER s1;

-- privileges: local directories and custom endpoints are for superusers
CREATE SERVER mine FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 'file:///tmp/x');
CREATE SERVER mine FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 'http://127.0.0.1:9/bucket');
CREATE SERVER mine FOREIGN DATA WRAPPER s3db_fdw OPTIONS (endpoint 'http://169.254.169.254');
CREATE SERVER mine FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 's3://bucket', ca_file '/etc/passwd');
CREATE SERVER mine FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 's3://bucket', verify_tls 'off');
CREATE SERVER mine FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 's3://bucket', verify_tls 'on');
DROP SERVER mine;
CREATE SERVER mine FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 's3://bucket/p');
CREATE USER MAPPING FOR CURRENT_USER SERVER mine
  OPTIONS (connection_string 'file:///var/lib/postgresql');
CREATE USER MAPPING FOR CURRENT_USER SERVER mine OPTIONS (access_key_id 'AKIA', secret_access_key 'hidden');
-- a server without connection_string is the embedded store: a directory too
CREATE SERVER mine2 FOREIGN DATA WRAPPER s3db_fdw;
CREATE SERVER mine2 FOREIGN DATA WRAPPER s3db_fdw OPTIONS (region 'eu-west-1');
ALTER SERVER mine OPTIONS (DROP connection_string);
-- a bucket is a bucket name, a region a region name: neither picks a host
CREATE SERVER mine2 FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 's3://127.0.0.1:9/p');
CREATE SERVER mine2 FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 's3://h%3A9%23/p');
CREATE SERVER mine2 FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 's3://bucket', region 'x.evil.com:9#');
RESET ROLE;
-- other users cannot read a user mapping's secrets
CREATE ROLE regress_s3db_other;
SET ROLE regress_s3db_other;
SELECT srvname, usename, umoptions FROM pg_user_mappings WHERE srvname = 'mine';
RESET ROLE;
DROP ROLE regress_s3db_other;
-- a member of pg_read_server_files may define the embedded store
GRANT pg_read_server_files TO regress_s3db_app;
SET ROLE regress_s3db_app;
CREATE SERVER mine2 FOREIGN DATA WRAPPER s3db_fdw;
DROP SERVER mine2;
RESET ROLE;

DROP SCHEMA app CASCADE;
DROP SERVER mine CASCADE;
DROP SERVER s1 CASCADE;
DROP OWNED BY regress_s3db_app;
DROP ROLE regress_s3db_app;
DROP SERVER embedded;
