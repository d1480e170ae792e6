-- A short tour of s3db_fdw over the embedded file:// store.
-- tools/demo.sh seeds the store with records written by s3db.js 21.6.2.
\set ECHO queries
\pset footer off

CREATE EXTENSION IF NOT EXISTS s3db_fdw;

-- A server without a connection_string uses the embedded store under the
-- data directory; no user mapping is needed for it.
CREATE SERVER store FOREIGN DATA WRAPPER s3db_fdw;

-- One typed foreign table per resource of s3db.json.
CREATE SCHEMA app;
IMPORT FOREIGN SCHEMA s3db FROM SERVER store INTO app;
\dE app.*

-- Records exactly as s3db.js's get() returns them.
SELECT id, name, age, score, active, tags, profile->>'city' AS city
  FROM app.people ORDER BY id;

-- Fetching by id costs one request per record and no listing.
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
  SELECT name FROM app.people WHERE id IN ('alice', 'bob');

-- A count needs only the listing.
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
  SELECT count(*) FROM app.people;

-- Rare types map onto PostgreSQL types.
SELECT addr6, place, vec, price, at, mac, net, cash, uid FROM app.typed;
