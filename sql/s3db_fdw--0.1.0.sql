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
-- Unlike the two above it reads the store, with the coordinator server
-- owner's user mapping, whoever calls it: like pg_buffercache, it is for
-- superusers and pg_monitor, and a DBA may grant it to others.
CREATE FUNCTION s3db_coordinator_workers(OUT worker_id text, OUT pod text,
                                         OUT last_heartbeat timestamptz,
                                         OUT started_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION s3db_coordinator_workers() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION s3db_coordinator_workers() TO pg_monitor;

-- ---------------------------------------------------------------------
-- Replication (plugins/replicator.c): changes made through SQL on foreign
-- tables go to an outbox in the same transaction as the write, and the
-- background worker delivers them to each target, in order per record,
-- at least once, with retries and exponential backoff per target.
-- ---------------------------------------------------------------------

-- Where changes go.  kind: 'webhook' (target = URL), 'table' (target = a
-- schema-qualified local table with a unique id column), 's3db' (target =
-- a foreign server name; changes are applied to the foreign table of that
-- server and of the same resource that the target's owner owns), 'sqs'
-- (target = queue URL).  filter: the foreign tables whose changes the
-- target receives, NULL for all (only those the owner may read, and for a
-- table or s3db target only those whose owner may write the target).
-- owner: deliveries run as this role, with its privileges.  Read on every
-- delivery round.
CREATE TABLE s3db_fdw_replication_targets (
  name      text PRIMARY KEY,
  kind      text NOT NULL CHECK (kind IN ('webhook', 'sqs', 's3db', 'table')),
  target    text NOT NULL,
  options   jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(options) = 'object'),
  filter    regclass[],
  enabled   boolean NOT NULL DEFAULT true,
  owner     regrole NOT NULL
            DEFAULT pg_catalog.to_regrole(pg_catalog.quote_ident(CURRENT_USER::pg_catalog.text))
);
SELECT pg_catalog.pg_extension_config_dump('s3db_fdw_replication_targets', '');

-- A role the DBA lets configure replication sees and changes only the
-- targets of roles whose rights it has, and cannot make a target act as
-- another role.  (The extension owner, who delivers, is not subject to it.)
ALTER TABLE s3db_fdw_replication_targets ENABLE ROW LEVEL SECURITY;
CREATE POLICY targets_of_owner ON s3db_fdw_replication_targets
  USING (pg_catalog.pg_has_role(CURRENT_USER, owner::pg_catalog.oid, 'USAGE'))
  WITH CHECK (pg_catalog.pg_has_role(CURRENT_USER, owner::pg_catalog.oid, 'USAGE'));

-- The last change number of each replicated record.  Writers lock the
-- record's row until they commit, so the changes of one record enter the
-- outbox in commit order.
CREATE TABLE s3db_fdw_replication_records (
  server    name NOT NULL,
  resource  text NOT NULL,
  record_id text NOT NULL,
  last_seq  bigint NOT NULL,
  PRIMARY KEY (server, resource, record_id)
);

-- One row per committed change.
CREATE TABLE s3db_fdw_replication_outbox (
  seq        bigserial PRIMARY KEY,
  relid      oid NOT NULL,
  relname    text NOT NULL,
  server     name NOT NULL,
  resource   text NOT NULL,
  record_id  text NOT NULL,
  record_seq bigint NOT NULL,
  operation  text NOT NULL CHECK (operation IN ('insert', 'update', 'delete')),
  before     jsonb,
  after      jsonb,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- What each target still has to receive.  A row leaves when delivered;
-- the outbox row goes once no target needs it.
CREATE TABLE s3db_fdw_replication_pending (
  target       text NOT NULL REFERENCES s3db_fdw_replication_targets (name)
                 ON DELETE CASCADE ON UPDATE CASCADE,
  seq          bigint NOT NULL,
  attempts     integer NOT NULL DEFAULT 0,
  next_attempt timestamptz NOT NULL DEFAULT '-infinity',
  last_error   text,
  PRIMARY KEY (target, seq)
);
CREATE INDEX ON s3db_fdw_replication_pending (seq);

-- Per-target delivery state; its row is locked by whoever delivers to the
-- target, so a target has one deliverer at a time.
CREATE TABLE s3db_fdw_replication_state (
  target           text PRIMARY KEY REFERENCES s3db_fdw_replication_targets (name)
                     ON DELETE CASCADE ON UPDATE CASCADE,
  delivered        bigint NOT NULL DEFAULT 0,
  failures         integer NOT NULL DEFAULT 0,  -- consecutive
  last_error       text,
  last_error_at    timestamptz,
  last_delivery_at timestamptz,
  next_attempt     timestamptz NOT NULL DEFAULT '-infinity'
);

REVOKE ALL ON s3db_fdw_replication_targets, s3db_fdw_replication_records,
  s3db_fdw_replication_outbox, s3db_fdw_replication_pending,
  s3db_fdw_replication_state FROM PUBLIC;

CREATE VIEW s3db_replication_status AS
SELECT t.name AS target, t.kind, t.enabled,
       (SELECT count(*) FROM s3db_fdw_replication_pending p WHERE p.target = t.name) AS pending,
       coalesce(s.delivered, 0) AS delivered,
       coalesce(s.failures, 0) AS failures,
       s.last_error, s.last_error_at, s.last_delivery_at,
       CASE WHEN s.next_attempt > now() THEN s.next_attempt END AS next_attempt
  FROM s3db_fdw_replication_targets t
  LEFT JOIN s3db_fdw_replication_state s ON s.target = t.name
 -- the view reads as its owner: show a role only the targets it could see
 WHERE pg_catalog.pg_has_role(CURRENT_USER, t.owner::pg_catalog.oid, 'USAGE');
REVOKE ALL ON s3db_replication_status FROM PUBLIC;

-- Run a delivery round now, in this transaction (all targets, or one);
-- returns the number of changes delivered.  Backoff delays are ignored.
CREATE FUNCTION s3db_replicate_now(target text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION s3db_replicate_now(text) FROM PUBLIC;

-- The signed SQS SendMessage request a target would send for an outbox
-- change, at a given time, without sending it (for inspection and tests).
CREATE FUNCTION s3db_replication_sqs_request(target text, seq bigint, at timestamptz,
                                             OUT method text, OUT url text,
                                             OUT headers text[], OUT body text,
                                             OUT canonical_request text)
RETURNS record
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION s3db_replication_sqs_request(text, bigint, timestamptz) FROM PUBLIC;

-- A captured row as the replicated document: binary content columns
-- dropped, columns renamed to the attribute they map to, and the id.
-- It runs as the extension owner in every writing transaction: names and
-- operators are qualified, and search_path is pinned besides.
CREATE FUNCTION s3db_fdw_replication_doc(j jsonb, id text, drop_keys text[],
                                         from_keys text[], to_keys text[])
RETURNS jsonb
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN j IS NULL THEN NULL ELSE
    (j OPERATOR(pg_catalog.-) drop_keys OPERATOR(pg_catalog.-) from_keys)
    OPERATOR(pg_catalog.||) COALESCE((SELECT pg_catalog.jsonb_object_agg(u.t, j OPERATOR(pg_catalog.->) u.f)
                   FROM ROWS FROM (pg_catalog.unnest(from_keys), pg_catalog.unnest(to_keys)) AS u(f, t)
                  WHERE j OPERATOR(pg_catalog.?) u.f), '{}'::pg_catalog.jsonb)
    OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('id', id) END
$$;
REVOKE ALL ON FUNCTION s3db_fdw_replication_doc(jsonb, text, text[], text[], text[]) FROM PUBLIC;

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

-- A role the DBA lets configure TTL sees and changes only the rows of
-- tables owned by roles whose rights it has.  The worker sweeps each table
-- as its owner.
ALTER TABLE s3db_fdw_ttl ENABLE ROW LEVEL SECURITY;
CREATE POLICY ttl_of_owner ON s3db_fdw_ttl
  USING (pg_catalog.pg_has_role(CURRENT_USER,
           (SELECT c.relowner FROM pg_catalog.pg_class c
             WHERE c.oid OPERATOR(pg_catalog.=) ftable::pg_catalog.oid), 'USAGE'))
  WITH CHECK (pg_catalog.pg_has_role(CURRENT_USER,
           (SELECT c.relowner FROM pg_catalog.pg_class c
             WHERE c.oid OPERATOR(pg_catalog.=) ftable::pg_catalog.oid), 'USAGE'));
REVOKE ALL ON s3db_fdw_ttl, s3db_fdw_ttl_state FROM PUBLIC;

-- Sweep one table now; returns the number of records expired.  Needs what
-- the DELETE (UPDATE for soft-delete) it stands for needs, checked first.
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
ALTER TABLE s3db_fdw_audit ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_of_owner ON s3db_fdw_audit
  USING (pg_catalog.pg_has_role(CURRENT_USER,
           (SELECT c.relowner FROM pg_catalog.pg_class c
             WHERE c.oid OPERATOR(pg_catalog.=) ftable::pg_catalog.oid), 'USAGE'))
  WITH CHECK (pg_catalog.pg_has_role(CURRENT_USER,
           (SELECT c.relowner FROM pg_catalog.pg_class c
             WHERE c.oid OPERATOR(pg_catalog.=) ftable::pg_catalog.oid), 'USAGE'));
REVOKE ALL ON s3db_fdw_audit FROM PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('s3db_fdw_ttl', '');
SELECT pg_catalog.pg_extension_config_dump('s3db_fdw_audit', '');

-- Probe a server's store now: whether it honours If-None-Match and
-- If-Match (quoted and bare ETags) on PUT, COPY and DELETE, how much user
-- metadata it takes, and whether s3db_fdw writes there.  The first write
-- with a condition through a connection runs the same probe.
CREATE FUNCTION s3db_check_store(server name,
                                 OUT capability text, OUT result text, OUT ok boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE;

-- What the probes of this database's servers found, as shared between
-- backends when s3db_fdw is in shared_preload_libraries (empty otherwise).
CREATE FUNCTION s3db_store_checks(OUT server name, OUT checked_at timestamptz,
                                  OUT conditions_honoured boolean,
                                  OUT metadata_wanted integer, OUT metadata_accepted integer)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE;
