--
-- Option validation: the option table, closest-match hints, privileges
--
\set VERBOSITY default

-- the embedded store needs no options at all
CREATE SERVER embedded FOREIGN DATA WRAPPER s3db_fdw;

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
CREATE ROLE s3db_regress_user;
GRANT USAGE ON FOREIGN DATA WRAPPER s3db_fdw TO s3db_regress_user;
SET ROLE s3db_regress_user;
CREATE SERVER mine FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 'file:///tmp/x');
CREATE SERVER mine FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 'http://127.0.0.1:9/b');
CREATE SERVER mine FOREIGN DATA WRAPPER s3db_fdw OPTIONS (endpoint 'http://169.254.169.254');
CREATE SERVER mine FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 's3://bucket', ca_file '/etc/passwd');
CREATE SERVER mine FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 's3://bucket', verify_tls 'off');
CREATE SERVER mine FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 's3://bucket', verify_tls 'on');
DROP SERVER mine;
CREATE SERVER mine FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 's3://bucket/p');
CREATE USER MAPPING FOR CURRENT_USER SERVER mine
  OPTIONS (connection_string 'file:///var/lib/postgresql');
CREATE USER MAPPING FOR CURRENT_USER SERVER mine OPTIONS (access_key_id 'AKIA', secret_access_key 'hidden');
RESET ROLE;
-- other users cannot read a user mapping's secrets
CREATE ROLE s3db_regress_other;
SET ROLE s3db_regress_other;
SELECT srvname, usename, umoptions FROM pg_user_mappings WHERE srvname = 'mine';
RESET ROLE;
DROP ROLE s3db_regress_other;

DROP SERVER mine CASCADE;
DROP OWNED BY s3db_regress_user;
DROP ROLE s3db_regress_user;
DROP SERVER s1 CASCADE;
DROP SERVER embedded;
