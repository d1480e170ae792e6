// The s3db.js 21.6.2 side of the benchmark, and the shared data definition.
//
//   node bench/js.mjs ids N                  -> JSON id sets for gets/updates
//   node bench/js.mjs create URL              -> an empty "people" resource (for SQL)
//   node bench/js.mjs run URL N IDS_JSON      -> runs every workload, one JSON line each
//
// The record generator here and the INSERT ... SELECT in run.sh produce the
// same records field by field, so both sides load and read identical data.
// s3db.js runs with its defaults (parallelism 10); the 1,000 update/patch/
// replace calls, for which s3db.js has no bulk method, run 10 at a time, the
// same as its own batch helper, within a time budget (see measureCalls).  With BENCH_COUNTS_URL set (the S3 server's
// counters) each line also carries the requests the workload made.
const { S3db } = await import(new URL('../test/interop/node_modules/s3db.js/dist/index.js', import.meta.url));
import { readFileSync } from 'node:fs';

export const CITIES = ['Berlin', 'Lisbon', 'Paris', 'Rome', 'Madrid', 'Vienna', 'Prague', 'Oslo', 'Dublin', 'Athens'];
export const SURNAMES = ['Silva', 'Müller', 'Dupont', 'Rossi', 'García', 'Novak', 'Hansen', 'Murphy'];

export function record(i) {
  return {
    id: 'u' + String(i).padStart(7, '0'),
    name: `Benchmark Person ${i} ${SURNAMES[i % 8]} of the load test, account holder`,
    email: `person${i}@bench.example.com`,
    age: 18 + (i % 60),
    score: (i % 1000) / 10 + 0.25,
    active: i % 3 !== 0,
    tags: [`tag${i % 7}`, `group${i % 5}`, `segment${i % 11}`, 'benchmark-record'],
    city: CITIES[i % 10],
    createdAt: new Date(Date.UTC(2024, 0, 1) + i * 60000).toISOString(),
  };
}

// the constants of the "replace" workload (run.sh's SQL uses the same)
export const REPLACED = {
  name: 'Replaced Person', email: 'replaced@bench.example.com', age: 99, score: 1.5,
  active: false, tags: ['replaced'], city: 'Lisbon', createdAt: '2025-06-01T00:00:00.000Z',
};

export const ATTRIBUTES = {
  name: 'string', email: 'email', age: 'number|integer:true', score: 'number', active: 'boolean',
  tags: 'array|items:string', city: 'string', createdAt: 'datetime',
};

// asyncPartitions: false makes insert/update/patch/replace return after the
// partition markers are written, as COMMIT does in SQL.  With s3db.js's
// default for S3 and file:// (true) the calls return early, the marker
// writes (and, for updates, a listing of every partition key) go on in the
// background and their cost lands on whatever workload runs next.
export const DEFINITION = {
  attributes: ATTRIBUTES, partitions: { byCity: { fields: { city: 'string' } } }, asyncPartitions: false,
};

function pick(n, k, seed) {
  // deterministic sample of k distinct indexes in 1..n (xorshift32)
  let x = seed >>> 0 || 1;
  const next = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
  const all = Array.from({ length: n }, (_, j) => j + 1);
  for (let j = 0; j < Math.min(k, n); j++) {
    const r = j + (next() % (n - j));
    [all[j], all[r]] = [all[r], all[j]];
  }
  return all.slice(0, Math.min(k, n)).map((i) => record(i).id);
}

async function counts() {
  if (!process.env.BENCH_COUNTS_URL) return null;
  return (await fetch(process.env.BENCH_COUNTS_URL)).json();
}
function diff(a, b) {
  if (!a || !b) return null;
  const d = {};
  for (const k of Object.keys(b)) if (b[k] - (a[k] || 0)) d[k] = b[k] - (a[k] || 0);
  return d;
}

async function measure(name, fn) {
  const c0 = await counts();
  const t0 = process.hrtime.bigint();
  const rows = await fn();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const c1 = await counts();
  console.log(JSON.stringify({ workload: name, seconds: s, rows, requests: diff(c0, c1) }));
}

// one call per id, 10 at a time, for at most BENCH_JS_BUDGET seconds; when
// the budget runs out first, time and requests are scaled up to all ids
// and the line says how many calls were measured
async function measureCalls(name, list, fn) {
  const budget = Number(process.env.BENCH_JS_BUDGET || 0) * 1e9;
  const c0 = await counts();
  const t0 = process.hrtime.bigint();
  let next = 0;
  await Promise.all(Array.from({ length: 10 }, async () => {
    while (next < list.length && (!budget || Number(process.hrtime.bigint() - t0) < budget)) {
      await fn(list[next++]);
    }
  }));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const c1 = await counts();
  const scale = list.length / next;
  const requests = diff(c0, c1);
  if (requests && scale !== 1) for (const k of Object.keys(requests)) requests[k] = Math.round(requests[k] * scale);
  console.log(JSON.stringify({ workload: name, seconds: s * scale, rows: list.length, requests,
    ...(scale !== 1 ? { measured: next } : {}) }));
}

async function connect(url) {
  const db = new S3db({ connectionString: url, security: { passphrase: 'bench-pass' }, logLevel: 'silent' });
  await db.connect();
  return db;
}

async function create(url) {
  const db = await connect(url);
  for (const name of ['people', 'people_copy']) {
    await db.createResource({ name, ...DEFINITION });
  }
  await db.disconnect();
}

async function run(url, n, ids) {
  const db = await connect(url);
  const people = await db.createResource({ name: 'people', ...DEFINITION });
  const records = Array.from({ length: n }, (_, j) => record(j + 1));
  const bytes = records.reduce((a, r) => a + JSON.stringify(r).length, 0) / n;
  console.error(`s3db.js: ${n} records, ${bytes.toFixed(0)} bytes of JSON each`);
  await measure('bulk insert', async () => (await people.insertMany(records)).length);
  await measure('full scan count', async () => people.count());
  await measure('full scan rows', async () => (await people.getAll()).length);
  await measure('partition query', async () =>
    (await people.list({ partition: 'byCity', partitionValues: { city: 'Berlin' }, limit: n })).length);
  await measure('gets by id', async () => (await people.getMany(ids.gets)).filter((r) => !r._error).length);
  await measureCalls('update by id', ids.update, (id) => people.update(id, { score: 1.5 }));
  await measureCalls('patch by id', ids.patch, (id) => people.patch(id, { score: 2.5 }));
  await measureCalls('replace by id', ids.replace, (id) => people.replace(id, { ...REPLACED }));
  await measure('full scan rows again', async () => (await people.getAll()).length);
  await db.disconnect();
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'ids') {
  const n = Number(args[0]);
  console.log(JSON.stringify({
    gets: pick(n, 1000, 1), update: pick(n, 1000, 2), patch: pick(n, 1000, 3), replace: pick(n, 1000, 4),
  }));
} else if (cmd === 'create') {
  await create(args[0]);
} else if (cmd === 'run') {
  await run(args[0], Number(args[1]), JSON.parse(readFileSync(args[2], 'utf8')));
} else {
  console.error('usage: js.mjs ids N | create URL | run URL N IDS_JSON');
  process.exit(2);
}
