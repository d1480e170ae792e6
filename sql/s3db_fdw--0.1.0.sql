/* s3db_fdw--0.1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION s3db_fdw" to load this file. \quit

CREATE FUNCTION s3db_fdw_handler()
RETURNS fdw_handler
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FUNCTION s3db_fdw_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FOREIGN DATA WRAPPER s3db_fdw
  HANDLER s3db_fdw_handler
  VALIDATOR s3db_fdw_validator;

COMMENT ON FOREIGN DATA WRAPPER s3db_fdw
  IS 'foreign data wrapper for s3db.js document stores';

-- The objects of a store, for inspection: key, size, ETag, last modified.
CREATE FUNCTION s3db_list(server name, prefix text DEFAULT '',
                          OUT key text, OUT size bigint, OUT etag text,
                          OUT last_modified timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE;

-- Write a resource definition into s3db.json from a foreign table's columns
-- (a new resource, or new attributes of an existing one).  Returns the
-- attribute definitions written.
CREATE FUNCTION s3db_create_resource(ftable regclass, behavior text DEFAULT NULL,
                                     partitions jsonb DEFAULT NULL,
                                     timestamps boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE;
