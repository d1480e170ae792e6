--
-- Connection strings and regions that would be used differently from how
-- they read: keys given to stores that are not signed, keys aimed at no
-- bucket, regions that are not a single host label.  Each must fail when
-- the server or user mapping is defined, and no error may repeat a secret.
-- The role making them may use local directories (pg_read_server_files),
-- so a refusal here is about the string, not about the role.
--
\set VERBOSITY default

CREATE ROLE regress_s3db_keys;
GRANT USAGE ON FOREIGN DATA WRAPPER s3db_fdw TO regress_s3db_keys;
GRANT pg_read_server_files TO regress_s3db_keys;
SET ROLE regress_s3db_keys;

--
-- 1. file:// and memory:// stores are not signed: they take no keys
--
CREATE SERVER f FOREIGN DATA WRAPPER s3db_fdw
  OPTIONS (connection_string 'file://KEY:TOPSECRET@/tmp');
CREATE SERVER f FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 'file:///tmp');
CREATE USER MAPPING FOR CURRENT_USER SERVER f
  OPTIONS (connection_string 'file://KEY:TOPSECRET@/tmp');
CREATE USER MAPPING FOR CURRENT_USER SERVER f
  OPTIONS (connection_string 'file://KEY:TOPSECRET@localhost/tmp');
CREATE USER MAPPING FOR CURRENT_USER SERVER f
  OPTIONS (connection_string 'file://TOPSECRET@/tmp');
CREATE USER MAPPING FOR CURRENT_USER SERVER f
  OPTIONS (connection_string 'file:///tmp?sessionToken=TOPSECRET');
CREATE SERVER m FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 'memory://mem-bucket/p');
CREATE USER MAPPING FOR CURRENT_USER SERVER m
  OPTIONS (connection_string 'memory://KEY:TOPSECRET@mem-bucket/p');
CREATE USER MAPPING FOR CURRENT_USER SERVER m
  OPTIONS (connection_string 'memory://mem-bucket/p?sessionToken=TOPSECRET');
-- the same strings without keys are fine
CREATE USER MAPPING FOR CURRENT_USER SERVER f OPTIONS (connection_string 'file:///tmp');
CREATE USER MAPPING FOR CURRENT_USER SERVER m OPTIONS (connection_string 'memory://mem-bucket/p');
SELECT count(*) AS mappings FROM pg_user_mappings
  WHERE srvname IN ('f', 'm') AND usename = current_user;

--
-- 2. s3:// keys aimed at no bucket are refused (s3db.js refuses them too);
--    without keys, no bucket means s3db.js's default bucket "s3db"
--
CREATE SERVER s FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 's3://my-bucket/p');
CREATE USER MAPPING FOR CURRENT_USER SERVER s
  OPTIONS (connection_string 's3://KEY:TOPSECRET@');
CREATE USER MAPPING FOR CURRENT_USER SERVER s
  OPTIONS (connection_string 's3://KEY:TOPSECRET@/p');
CREATE USER MAPPING FOR CURRENT_USER SERVER s
  OPTIONS (connection_string 's3://KEY:TOPSECRET@/p?region=eu-west-1');
CREATE USER MAPPING FOR CURRENT_USER SERVER s
  OPTIONS (connection_string 's3://KEY:TOPSECRET@my-bucket/p');
ALTER SERVER s OPTIONS (SET connection_string 's3:///p');
SELECT srvname, srvoptions FROM pg_foreign_server WHERE srvname = 's';

--
-- 3. A region is one label of s3.<region>.amazonaws.com and part of the
--    signed scope: letters, digits and hyphens only, in either place
--
ALTER SERVER s OPTIONS (ADD region 'eu west 1');
ALTER SERVER s OPTIONS (ADD region 'eu-west-1/x');
ALTER SERVER s OPTIONS (ADD region 'eu_west_1');
ALTER SERVER s OPTIONS (ADD region '');
ALTER SERVER s OPTIONS (ADD region 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
ALTER SERVER s OPTIONS (ADD region E'eu-west-1\nHost: evil.example');
CREATE SERVER r FOREIGN DATA WRAPPER s3db_fdw
  OPTIONS (connection_string 's3://my-bucket/p', region E'eu-west-1\tx');
ALTER SERVER s OPTIONS (SET connection_string 's3://my-bucket/p?region=eu+west+1');
ALTER SERVER s OPTIONS (SET connection_string 's3://my-bucket/p?region=eu-west-1%2Fx');
ALTER SERVER s OPTIONS (SET connection_string 's3://my-bucket/p?region=eu-west-1%0D%0AHost:x');
-- region names, AWS's and those S3-compatible servers choose
ALTER SERVER s OPTIONS (ADD region 'us-gov-west-1');
ALTER SERVER s OPTIONS (SET region 'garage');
ALTER SERVER s OPTIONS (SET connection_string 's3://my-bucket/p?region=ap-southeast-2');
SELECT srvname, srvoptions FROM pg_foreign_server WHERE srvname = 's';
-- a refused ALTER leaves the server as it was
ALTER SERVER s OPTIONS (SET region 'garage.evil.example');
SELECT srvname, srvoptions FROM pg_foreign_server WHERE srvname = 's';

RESET ROLE;
DROP OWNED BY regress_s3db_keys;
DROP ROLE regress_s3db_keys;
