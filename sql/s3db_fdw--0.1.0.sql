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
