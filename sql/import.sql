--
-- IMPORT FOREIGN SCHEMA: one typed foreign table per resource of s3db.json
--
\getenv fixture_url S3DB_FIXTURE_URL
-- the superuser sets up what a DBA grants an application: a role with its
-- schemas, USAGE on the servers and its user mapping (a file:// store also
-- needs pg_read_server_files); the application role does the rest
CREATE ROLE regress_s3db_app;
CREATE SCHEMA imp_all AUTHORIZATION regress_s3db_app;
CREATE SCHEMA imp_some AUTHORIZATION regress_s3db_app;
CREATE SCHEMA imp_except AUTHORIZATION regress_s3db_app;
CREATE SCHEMA imp_empty AUTHORIZATION regress_s3db_app;
CREATE SERVER fixture FOREIGN DATA WRAPPER s3db_fdw;
GRANT USAGE ON FOREIGN SERVER fixture TO regress_s3db_app;
CREATE USER MAPPING FOR regress_s3db_app SERVER fixture
  OPTIONS (connection_string :'fixture_url', passphrase 'fixture-pass');
CREATE SERVER empty FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 'memory://empty');
GRANT USAGE ON FOREIGN SERVER empty TO regress_s3db_app;
SELECT :'fixture_url' LIKE 'file:%' AS file_store \gset
\if :file_store
GRANT pg_read_server_files TO regress_s3db_app;
\endif
SET ROLE regress_s3db_app;

IMPORT FOREIGN SCHEMA anything FROM SERVER fixture INTO imp_all;
SELECT c.relname, ft.ftoptions
  FROM pg_foreign_table ft JOIN pg_class c ON c.oid = ft.ftrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'imp_all' ORDER BY 1;
\d imp_all.people
\d imp_all.typed
\d imp_all.docs

IMPORT FOREIGN SCHEMA s3db LIMIT TO (people, vault, nosuch) FROM SERVER fixture INTO imp_some;
SELECT relname FROM pg_class WHERE relnamespace = 'imp_some'::regnamespace ORDER BY 1;

IMPORT FOREIGN SCHEMA s3db EXCEPT (people, typed) FROM SERVER fixture INTO imp_except;
SELECT relname FROM pg_class WHERE relnamespace = 'imp_except'::regnamespace ORDER BY 1;

-- importing twice collides, as for any FDW
IMPORT FOREIGN SCHEMA s3db LIMIT TO (people) FROM SERVER fixture INTO imp_some;
-- options of IMPORT are checked
IMPORT FOREIGN SCHEMA s3db FROM SERVER fixture INTO imp_some OPTIONS (colour 'red');

-- a location without s3db.json is not a store: the import fails, naming it
IMPORT FOREIGN SCHEMA s3db FROM SERVER empty INTO imp_empty;
SELECT count(*) FROM pg_class WHERE relnamespace = 'imp_empty'::regnamespace;

DROP SCHEMA imp_all, imp_some, imp_except, imp_empty CASCADE;
RESET ROLE;
DROP SERVER empty;
DROP SERVER fixture CASCADE;
DROP ROLE regress_s3db_app;
