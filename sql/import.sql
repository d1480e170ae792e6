--
-- IMPORT FOREIGN SCHEMA: one typed foreign table per resource of s3db.json
--
\getenv fixture_url S3DB_FIXTURE_URL
CREATE SERVER fixture FOREIGN DATA WRAPPER s3db_fdw;
CREATE USER MAPPING FOR CURRENT_USER SERVER fixture
  OPTIONS (connection_string :'fixture_url', passphrase 'fixture-pass');

CREATE SCHEMA imp_all;
IMPORT FOREIGN SCHEMA anything FROM SERVER fixture INTO imp_all;
SELECT c.relname, ft.ftoptions
  FROM pg_foreign_table ft JOIN pg_class c ON c.oid = ft.ftrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'imp_all' ORDER BY 1;
\d imp_all.people
\d imp_all.typed
\d imp_all.docs

CREATE SCHEMA imp_some;
IMPORT FOREIGN SCHEMA s3db LIMIT TO (people, vault, nosuch) FROM SERVER fixture INTO imp_some;
SELECT relname FROM pg_class WHERE relnamespace = 'imp_some'::regnamespace ORDER BY 1;

CREATE SCHEMA imp_except;
IMPORT FOREIGN SCHEMA s3db EXCEPT (people, typed) FROM SERVER fixture INTO imp_except;
SELECT relname FROM pg_class WHERE relnamespace = 'imp_except'::regnamespace ORDER BY 1;

-- importing twice collides, as for any FDW
IMPORT FOREIGN SCHEMA s3db LIMIT TO (people) FROM SERVER fixture INTO imp_some;
-- options of IMPORT are checked
IMPORT FOREIGN SCHEMA s3db FROM SERVER fixture INTO imp_some OPTIONS (colour 'red');

-- an empty store has no resources
CREATE SERVER empty FOREIGN DATA WRAPPER s3db_fdw OPTIONS (connection_string 'memory://empty');
CREATE SCHEMA imp_empty;
IMPORT FOREIGN SCHEMA s3db FROM SERVER empty INTO imp_empty;
SELECT count(*) FROM pg_class WHERE relnamespace = 'imp_empty'::regnamespace;

DROP SCHEMA imp_all, imp_some, imp_except, imp_empty CASCADE;
DROP SERVER empty;
DROP SERVER fixture CASCADE;
