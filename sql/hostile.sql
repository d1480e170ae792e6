--
-- A hostile application role: stores and options.  Each attack is made by a
-- role that is not a superuser, and each must be refused with nothing read,
-- written or connected to.  The store under attack is the embedded one
-- (a server without connection_string: a directory under the data
-- directory), the same in the file:// and the S3 runs.
--
\set VERBOSITY default

-- the superuser's data in the embedded store
CREATE SERVER emb FOREIGN DATA WRAPPER s3db_fdw;
CREATE FOREIGN TABLE vault_h (id text, secret text) SERVER emb OPTIONS (resource 'hostile_vault');
SELECT s3db_create_resource('vault_h') IS NOT NULL AS created;
INSERT INTO vault_h VALUES ('k1', 'the superuser''s secret');
CREATE TEMP TABLE before AS
  SELECT md5(string_agg(key || ':' || etag, ',' ORDER BY key)) AS digest FROM s3db_list('emb');

-- the attacker: may define servers for its own buckets (USAGE on the
-- wrapper), was granted USAGE on the embedded server, has a schema; no
-- server-file role.  A second role has pg_read_server_files only.
CREATE ROLE regress_s3db_mallory;
CREATE ROLE regress_s3db_readonly;
GRANT USAGE ON FOREIGN DATA WRAPPER s3db_fdw TO regress_s3db_mallory;
GRANT USAGE ON FOREIGN SERVER emb TO regress_s3db_mallory, regress_s3db_readonly;
GRANT pg_read_server_files TO regress_s3db_readonly;
CREATE SCHEMA mal AUTHORIZATION regress_s3db_mallory;
CREATE SCHEMA ro AUTHORIZATION regress_s3db_readonly;

--
-- 1. The embedded store without file privileges
--
SET ROLE regress_s3db_mallory;
-- a server of its own without connection_string, or naming a directory
CREATE SERVER mine FOREIGN DATA WRAPPER s3db_fdw;
CREATE SERVER mine FOREIGN DATA WRAPPER s3db_fdw OPTIONS (max_retries '1');
CREATE SERVER mine FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 'file:///');
CREATE SERVER mine FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 'file://localhost/tmp');
-- the superuser's embedded server, through a user mapping of its own
CREATE USER MAPPING FOR CURRENT_USER SERVER emb;
CREATE FOREIGN TABLE mal.loot (id text, secret text) SERVER emb OPTIONS (resource 'hostile_vault');
SELECT * FROM mal.loot;
SELECT * FROM mal.loot WHERE id = 'k1';
IMPORT FOREIGN SCHEMA s3db FROM SERVER emb INTO mal;
SELECT * FROM s3db_list('emb');
INSERT INTO mal.loot VALUES ('k2', 'planted');
UPDATE mal.loot SET secret = 'overwritten';
DELETE FROM mal.loot;
TRUNCATE mal.loot;
SELECT s3db_create_resource('mal.loot');
COPY mal.loot FROM STDIN;
k3	copied
\.
-- its user mapping cannot name a directory either
ALTER USER MAPPING FOR CURRENT_USER SERVER emb OPTIONS (ADD connection_string 'file:///tmp');
-- nor can it define the mapping of PUBLIC or of another role
CREATE USER MAPPING FOR PUBLIC SERVER emb;
CREATE USER MAPPING FOR regress_s3db_readonly SERVER emb;
RESET ROLE;

-- views and SECURITY DEFINER functions run as their owner: a superuser (or
-- a member of pg_read_server_files) calling the attacker's code does not
-- lend its file privileges to it
SET ROLE regress_s3db_mallory;
CREATE VIEW mal.bait AS SELECT * FROM mal.loot;
CREATE FUNCTION mal.bait_fn() RETURNS SETOF text LANGUAGE sql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT secret FROM mal.loot $$;
GRANT USAGE ON SCHEMA mal TO regress_s3db_readonly;
GRANT SELECT ON mal.bait TO regress_s3db_readonly;
RESET ROLE;
SELECT * FROM mal.bait;
-- (without the CONTEXT line, which PostgreSQL 18 words differently)
\set SHOW_CONTEXT never
SELECT * FROM mal.bait_fn();
\set SHOW_CONTEXT errors
SET ROLE regress_s3db_readonly;
SELECT * FROM mal.bait;
RESET ROLE;

-- a PUBLIC user mapping, or the ownership of the server, changes nothing:
-- the store is checked for the role that uses it
CREATE USER MAPPING FOR PUBLIC SERVER emb;
ALTER SERVER emb OWNER TO regress_s3db_mallory;
SET ROLE regress_s3db_mallory;
DROP USER MAPPING FOR CURRENT_USER SERVER emb;
SELECT * FROM mal.loot;
INSERT INTO mal.loot VALUES ('k2', 'planted');
-- as owner it may alter the server, but not point it at a directory
ALTER SERVER emb OPTIONS (ADD max_retries '1');
ALTER SERVER emb OPTIONS (ADD connection_string 'file:///tmp');
ALTER USER MAPPING FOR PUBLIC SERVER emb OPTIONS (ADD connection_string 'file:///tmp');
RESET ROLE;
ALTER SERVER emb OWNER TO CURRENT_USER;
DROP USER MAPPING FOR PUBLIC SERVER emb;

--
-- 2. pg_read_server_files alone reads, and writes nothing
--
SET ROLE regress_s3db_readonly;
CREATE USER MAPPING FOR CURRENT_USER SERVER emb;
CREATE FOREIGN TABLE ro.vault (id text, secret text) SERVER emb OPTIONS (resource 'hostile_vault');
SELECT * FROM ro.vault;
INSERT INTO ro.vault VALUES ('k2', 'planted');
UPDATE ro.vault SET secret = 'overwritten' WHERE id = 'k1';
DELETE FROM ro.vault WHERE id = 'k1';
TRUNCATE ro.vault;
SELECT s3db_create_resource('ro.vault');
COPY ro.vault FROM STDIN;
k3	copied
\.
RESET ROLE;

-- nothing crossed: the store is byte for byte what the superuser left
SELECT digest = (SELECT md5(string_agg(key || ':' || etag, ',' ORDER BY key)) FROM s3db_list('emb'))
  AS store_unchanged FROM before;
SELECT * FROM vault_h;

-- with pg_write_server_files as well, the same role writes: the boundary
-- is exactly there
GRANT pg_write_server_files TO regress_s3db_readonly;
SET ROLE regress_s3db_readonly;
UPDATE ro.vault SET secret = secret || ' (seen)' WHERE id = 'k1' RETURNING *;
RESET ROLE;
REVOKE pg_write_server_files FROM regress_s3db_readonly;
-- and a revoked membership counts at once, in the same session
SET ROLE regress_s3db_readonly;
UPDATE ro.vault SET secret = 'again' WHERE id = 'k1';
RESET ROLE;
REVOKE pg_read_server_files FROM regress_s3db_readonly;
SET ROLE regress_s3db_readonly;
SELECT * FROM ro.vault;
RESET ROLE;

--
-- 3. The database server connects only where a superuser said
--
SET ROLE regress_s3db_mallory;
-- a bucket name never carries a host, a port or an address
CREATE SERVER b FOREIGN DATA WRAPPER s3db_fdw
  OPTIONS (connection_string 's3://127.0.0.1%3A55872%23/p', url_style 'virtual');
CREATE SERVER b FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 's3://127.0.0.1/p');
CREATE SERVER b FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 's3://169.254.169.254/p');
CREATE SERVER b FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 's3://127.1/p');
CREATE SERVER b FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 's3://%5B%3A%3A1%5D/p');
CREATE SERVER b FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 's3://[::1]/p');
CREATE SERVER b FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 's3://my-bucket:8080/p');
CREATE SERVER b FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 's3://evil.com%2Fx/p');
CREATE SERVER b FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 's3://a%40evil.com/p');
-- nor does a region, an endpoint or an http(s):// string of its own
CREATE SERVER b FOREIGN DATA WRAPPER s3db_fdw
  OPTIONS (connection_string 's3://my-bucket/p', region 'x.evil.com:9#');
CREATE SERVER b FOREIGN DATA WRAPPER s3db_fdw
  OPTIONS (connection_string 's3://my-bucket/p?region=x.evil.com%3A9%23');
CREATE SERVER b FOREIGN DATA WRAPPER s3db_fdw
  OPTIONS (connection_string 's3://my-bucket/p', endpoint 'http://127.0.0.1:9');
CREATE SERVER b FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 'http://127.0.0.1:9/my-bucket');
CREATE SERVER b FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 'https://169.254.169.254/my-bucket');
-- a server for its own bucket is fine; its options and mappings are checked alike
CREATE SERVER b FOREIGN DATA WRAPPER s3db_fdw
  OPTIONS (connection_string 's3://my-bucket/p', url_style 'virtual');
ALTER SERVER b OPTIONS (ADD endpoint 'http://127.0.0.1:9');
ALTER SERVER b OPTIONS (SET connection_string 's3://127.0.0.1%3A9/p');
ALTER SERVER b OPTIONS (ADD ca_file '/etc/ssl/private/key.pem');
ALTER SERVER b OPTIONS (ADD verify_tls 'off');
ALTER SERVER b OPTIONS (DROP connection_string);
CREATE USER MAPPING FOR CURRENT_USER SERVER b
  OPTIONS (connection_string 's3://K:S@127.0.0.1%3A9%23/p');
CREATE USER MAPPING FOR PUBLIC SERVER b OPTIONS (connection_string 'http://127.0.0.1:9/my-bucket');
CREATE USER MAPPING FOR PUBLIC SERVER b OPTIONS (connection_string 'file:///tmp');
CREATE USER MAPPING FOR regress_s3db_readonly SERVER b OPTIONS (connection_string 'file:///tmp');
SELECT srvname, srvoptions FROM pg_foreign_server WHERE srvname = 'b';
DROP SERVER b;
RESET ROLE;

-- a server a superuser pointed at an endpoint and gave away keeps it: its
-- new owner cannot move it elsewhere (nor change any of its options: the
-- validator checks the whole list for the role that alters it)
CREATE SERVER given FOREIGN DATA WRAPPER s3db_fdw
  OPTIONS (connection_string 'http://127.0.0.1:9/my-bucket', max_retries '0');
ALTER SERVER given OWNER TO regress_s3db_mallory;
SET ROLE regress_s3db_mallory;
ALTER SERVER given OPTIONS (SET connection_string 'http://169.254.169.254/my-bucket');
ALTER SERVER given OPTIONS (SET connection_string 'file:///tmp');
ALTER SERVER given OPTIONS (DROP connection_string);
ALTER SERVER given OPTIONS (ADD endpoint 'http://169.254.169.254');
ALTER SERVER given OPTIONS (ADD verify_tls 'off');
ALTER SERVER given OPTIONS (SET max_retries '1');
SELECT srvname, srvoptions FROM pg_foreign_server WHERE srvname = 'given';
RESET ROLE;
DROP SERVER given;

-- clean up; the embedded store is left as it was found
DROP SCHEMA mal, ro CASCADE;
TRUNCATE vault_h;
SELECT count(*) FROM vault_h;
DROP SERVER emb CASCADE;
REVOKE USAGE ON FOREIGN DATA WRAPPER s3db_fdw FROM regress_s3db_mallory;
DROP ROLE regress_s3db_mallory, regress_s3db_readonly;
DROP TABLE before;
