// The benchmark's S3 server: the test suite's s3rver 3.7.1, without the
// signature-checking proxy (so a Python proxy is not what gets measured), with
// one extra middleware in front that counts requests by kind.  The counts
// are what the benchmark prints as "requests" for each workload, for both
// s3db_fdw and s3db.js, including the write workloads that EXPLAIN ANALYZE
// cannot see because s3db_fdw applies writes at COMMIT.
//
//   node bench/s3server.mjs DATA_DIR PORT_FILE
//
// GET /__bench/counts returns {"LIST":n,"GET":n,...} and is not counted;
// GET /__bench/reset zeroes the counters.
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';

const require = createRequire(new URL('../test/s3/node_modules/', import.meta.url));
const S3rver = require('s3rver');

const [dir, portFile] = process.argv.slice(2);
if (!dir || !portFile) { console.error('usage: s3server.mjs DATA_DIR PORT_FILE'); process.exit(2); }
mkdirSync(dir, { recursive: true });

// DELKEYS: keys removed by multi-object deletes (POST ?delete), counted from
// the <Deleted> entries of the reply, so that a DeleteObjects of N keys is
// priced like N deletes
const zero = () => ({ LIST: 0, HEAD: 0, GET: 0, PUT: 0, DELETE: 0, POST: 0, DELKEYS: 0 });
let counts = zero();

const server = new S3rver({
  address: '127.0.0.1', port: 0, silent: true, directory: dir,
  configureBuckets: [{ name: 's3db-test' }],
});
server.middleware.unshift(async (ctx, next) => {
  if (ctx.path === '/__bench/counts') { ctx.body = JSON.stringify(counts); ctx.type = 'json'; return; }
  if (ctx.path === '/__bench/reset') { counts = zero(); ctx.body = '{}'; return; }
  const m = ctx.method;
  // path style: /bucket is the bucket itself (LIST), /bucket/key an object
  const isBucket = /^\/[^/]+\/?$/.test(ctx.path);
  const kind = m === 'GET' && isBucket ? 'LIST' : m;
  counts[kind] = (counts[kind] || 0) + 1;
  await next();
  if (m === 'POST' && 'delete' in ctx.query && ctx.body != null) {
    counts.DELKEYS += (String(ctx.body).match(/<Deleted>/g) || []).length;
  }
});
const addr = await server.run();
writeFileSync(portFile, String(addr.port));
const stop = () => server.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
