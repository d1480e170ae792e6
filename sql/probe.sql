--
-- The store probe: what the write store honours, shown by s3db_check_store,
-- and the superuser-only server option weak_conditions
--
\getenv write_url S3DB_WRITE_URL
CREATE SERVER pr FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR PUBLIC SERVER pr OPTIONS (connection_string :'write_url');
-- the file:// store and every S3 server of the suite keep every promise
SELECT * FROM s3db_check_store('pr');
-- the probe leaves nothing behind
SELECT count(*) FROM s3db_list('pr', 'plugin=s3db_fdw/probe/');

-- an application role: may check a server it has USAGE on, not others;
-- roles are shared by the databases of a cluster, which may run this file
-- side by side (test/valgrind/run.sh): one role per database
SELECT 'regress_s3db_probe_' || current_database() AS app_role \gset
CREATE ROLE :"app_role";
-- (a file:// store also needs the server-file roles)
SELECT :'write_url' LIKE 'file:%' AS file_store \gset
\if :file_store
GRANT pg_read_server_files, pg_write_server_files TO :"app_role";
\endif
SET ROLE :"app_role";
SELECT * FROM s3db_check_store('pr');
RESET ROLE;
GRANT USAGE ON FOREIGN SERVER pr TO :"app_role";
SET ROLE :"app_role";
SELECT capability, ok FROM s3db_check_store('pr') WHERE capability = 'writes';
RESET ROLE;

-- weak_conditions: refuse or accept, accept only by a superuser
ALTER SERVER pr OPTIONS (ADD weak_conditions 'maybe');
ALTER SERVER pr OPTIONS (ADD weak_conditions 'accept');
ALTER SERVER pr OPTIONS (SET weak_conditions 'refuse');
ALTER SERVER pr OWNER TO :"app_role";
GRANT USAGE ON FOREIGN DATA WRAPPER s3db_fdw TO :"app_role";
SET ROLE :"app_role";
ALTER SERVER pr OPTIONS (SET weak_conditions 'accept');
CREATE SERVER pr2 FOREIGN DATA WRAPPER s3db_fdw
  OPTIONS (connection_string 's3://s3db-probe-example/x', weak_conditions 'accept');
CREATE SERVER pr2 FOREIGN DATA WRAPPER s3db_fdw
  OPTIONS (connection_string 's3://s3db-probe-example/x', weak_conditions 'refuse');
DROP SERVER pr2;
RESET ROLE;
-- a store that keeps its promises is written to whatever the option says
ALTER SERVER pr OPTIONS (SET weak_conditions 'accept');
SELECT result FROM s3db_check_store('pr') WHERE capability = 'writes';

DROP SERVER pr CASCADE;
REVOKE USAGE ON FOREIGN DATA WRAPPER s3db_fdw FROM :"app_role";
DROP ROLE :"app_role";
