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
