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

-- The coordinator of the background worker (s3db_fdw in
-- shared_preload_libraries, s3db_fdw.coordinator_server set): what its last
-- tick saw, read from shared memory.
CREATE FUNCTION s3db_coordinator(OUT enabled boolean, OUT namespace text,
                                 OUT worker_id text, OUT is_leader boolean,
                                 OUT leader_id text, OUT epoch bigint,
                                 OUT lease_end timestamptz, OUT live_workers integer,
                                 OUT breaker_state text, OUT last_tick timestamptz,
                                 OUT last_error text)
RETURNS record
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE;

-- Its counters and tick latencies since the coordinator was (re)configured.
CREATE FUNCTION s3db_coordinator_metrics(OUT ticks bigint, OUT elections_won bigint,
                                         OUT elections_lost bigint, OUT renewals bigint,
                                         OUT failures bigint, OUT contention_events bigint,
                                         OUT latency_p50_ms bigint, OUT latency_p95_ms bigint,
                                         OUT latency_p99_ms bigint, OUT skipped bigint,
                                         OUT breaker_trips bigint, OUT leader_changes bigint)
RETURNS record
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE;

-- The live workers of the coordinator namespace, read from the store now.
CREATE FUNCTION s3db_coordinator_workers(OUT worker_id text, OUT pod text,
                                         OUT last_heartbeat timestamptz,
                                         OUT started_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE;

-- ---------------------------------------------------------------------
-- TTL plugin: records of TTL-managed foreign tables get entries in
-- s3db.js's expiration index (plg_ttl_expiration_index) when inserted
-- through SQL, and the background worker's leader (or s3db_ttl_sweep())
-- expires due records of any writer.  Read at each statement and sweep.
-- ---------------------------------------------------------------------
CREATE TABLE s3db_fdw_ttl (
  ftable            regclass PRIMARY KEY,
  ttl               interval,              -- NULL: the field holds the expiry time
  field             text,                  -- NULL: insertion time (createdAt if any)
  action            text NOT NULL DEFAULT 'hard-delete'
                    CHECK (action IN ('hard-delete', 'soft-delete', 'archive')),
  soft_delete_field text DEFAULT 'deletedat',
  archive_resource  text,
  enabled           boolean NOT NULL DEFAULT true,
  CHECK (ttl IS NOT NULL OR field IS NOT NULL),
  CHECK (action <> 'archive' OR archive_resource IS NOT NULL)
);

-- What the sweeps did, per table.
CREATE TABLE s3db_fdw_ttl_state (
  ftable         regclass PRIMARY KEY,
  last_sweep     timestamptz,
  last_expired   bigint NOT NULL DEFAULT 0,
  total_expired  bigint NOT NULL DEFAULT 0,
  last_error     text,
  last_error_at  timestamptz
);

-- Sweep one table now; returns the number of records expired.
CREATE FUNCTION s3db_ttl_sweep(ftable regclass)
RETURNS bigint
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION s3db_ttl_status(OUT ftable regclass, OUT enabled boolean,
                                OUT action text, OUT last_sweep timestamptz,
                                OUT last_expired bigint, OUT total_expired bigint,
                                OUT last_error text, OUT last_error_at timestamptz)
RETURNS SETOF record
LANGUAGE sql STABLE
SET search_path FROM CURRENT
AS $$
  SELECT c.ftable, c.enabled, c.action, s.last_sweep,
         coalesce(s.last_expired, 0), coalesce(s.total_expired, 0),
         s.last_error, s.last_error_at
    FROM s3db_fdw_ttl c
    LEFT JOIN s3db_fdw_ttl_state s USING (ftable)
   ORDER BY c.ftable::text
$$;

-- ---------------------------------------------------------------------
-- Audit plugin: INSERT/UPDATE/DELETE through SQL on an audited foreign
-- table writes a plg_audits record (s3db.js's AuditPlugin layout) in the
-- same commit.
-- ---------------------------------------------------------------------
CREATE TABLE s3db_fdw_audit (
  ftable   regclass PRIMARY KEY,
  enabled  boolean NOT NULL DEFAULT true
);

SELECT pg_catalog.pg_extension_config_dump('s3db_fdw_ttl', '');
SELECT pg_catalog.pg_extension_config_dump('s3db_fdw_audit', '');
