/*
 * reverse.mjs - the s3db.js side of reverse.sh (SQL writes, s3db.js reads).
 *
 *   reverse.mjs copy-catalog SRC DST      copies SRC's s3db.json to DST
 *   reverse.mjs compare A B OUTDIR        B (written by PostgreSQL from A)
 *                                         read with s3db.js, record by record
 *   reverse.mjs after-sql B OUTDIR        checks the UPDATE/DELETE/TRUNCATE
 *                                         statements of reverse.sh
 *
 * A and B are connection strings, OUTDIR holds corpus.mjs's expected.json
 * and inputs.json for A.  The expected value of a field is what get()
 * returned on A, except where corpus.mjs marked it "useInput" (get() known
 * to be wrong, README-differences.md): there the input is expected, and
 * get() on B may instead show the same known misreading of the input
 * (a JSON-looking string parsed, "NaN:NaN:NaN.NaN" for a time, a missing
 * field), since B is read by the same s3db.js.
 *
 * "compare" counts one check per record, and one per partitioned resource
 * for its partition reference objects: B must hold exactly the keys that
 * s3db.js's getPartitionKey() gives for the records (A is not the
 * reference here: s3db.js's update() on S3 can lose a reference, which is
 * printed as a "note" line and not counted);
 * "after-sql" one per statement checked.  Each prints one line per
 * mismatch and finally "N passed, M failed"; exit 1 when M > 0.
 */
import fs from 'node:fs';
import path from 'node:path';
import { openDb, recordView, toJson, withTimeout } from './lib.mjs';
import { baseType, isBatchedNumbers } from './normalize.mjs';

const T = 30000;
const [cmd, ...args] = process.argv.slice(2);

/* ---------------- catalog copy ---------------- */

function s3Target(url) {
  const u = new URL(url);
  const [bucket, ...rest] = u.pathname.replace(/^\//, '').split('/');
  const prefix = rest.filter(Boolean).join('/');
  return { u, bucket, key: (prefix ? `${prefix}/` : '') + 's3db.json' };
}

async function s3Client(u) {
  const { S3Client } = await import('@aws-sdk/client-s3');
  return new S3Client({
    endpoint: u.origin, forcePathStyle: true, region: 'us-east-1',
    // s3rver stores aws-chunked uploads as empty bodies
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: decodeURIComponent(u.username), secretAccessKey: decodeURIComponent(u.password) },
  });
}

async function copyCatalog(src, dst) {
  if (src.startsWith('file://') && dst.startsWith('file://')) {
    const from = new URL(src).pathname;
    const to = new URL(dst).pathname;
    fs.mkdirSync(to, { recursive: true });
    for (const f of ['s3db.json', 's3db.json.meta.json']) {
      if (fs.existsSync(path.join(from, f))) fs.copyFileSync(path.join(from, f), path.join(to, f));
    }
    return;
  }
  if (!/^https?:/.test(src) || !/^https?:/.test(dst)) throw new Error('copy-catalog: both file:// or both http(s)://');
  const { GetObjectCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
  const a = s3Target(src);
  const b = s3Target(dst);
  const ca = await s3Client(a.u);
  const cb = await s3Client(b.u);
  const got = await ca.send(new GetObjectCommand({ Bucket: a.bucket, Key: a.key }));
  const body = Buffer.from(await got.Body.transformToByteArray());
  await cb.send(new PutObjectCommand({
    Bucket: b.bucket, Key: b.key, Body: body, ContentType: got.ContentType, Metadata: got.Metadata || {},
  }));
  ca.destroy();
  cb.destroy();
}

/* ---------------- value comparison ---------------- */

function numEqual(a, b, rel) {
  if (a && typeof a === 'object' && '$number' in a) a = Number(a.$number);
  if (b && typeof b === 'object' && '$number' in b) b = Number(b.$number);
  if (typeof a !== 'number' || typeof b !== 'number') return false;
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  return a === b || Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));
}

/* deep equality of two values in the JSON conventions of lib.mjs */
export function same(a, b, rel = 1e-12) {
  if (a === undefined || b === undefined) return a === b;
  if (typeof a === 'number' || typeof b === 'number') return numEqual(a, b, rel);
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i], rel));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    if ('$number' in a || '$number' in b) return numEqual(a, b, rel);
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && same(a[k], b[k], rel));
  }
  return a === b;
}

/* how s3db.js get() misreads the correct value `input` under `rule` */
function misread(rule, input) {
  switch (rule) {
    case 'json-looking-string':
      try { return toJson(JSON.parse(input)); } catch { return input; }
    case 'timeonly-nan': return 'NaN:NaN:NaN.NaN';
    case 'body-short-key': return undefined;
    default: return input;
  }
}

/* null and a missing member are the same for an optional field */
const orNull = (v) => (v === undefined ? null : v);

function fieldMatches(def, rec, input, field, got) {
  const rel = isBatchedNumbers(def) ? 1e-6 : 1e-12;
  const rule = rec.useInput[field];
  const want = rule ? input[field] : rec.get[field];
  if (same(orNull(want), orNull(got), rel)) return { ok: true, want };
  if (rule && same(orNull(misread(rule, want)), orNull(got), rel)) return { ok: true, want };
  return { ok: false, want };
}

/* ---------------- reporting ---------------- */

let passed = 0;
let failed = 0;
function show(v) {
  if (v === undefined) return 'missing';
  const s = JSON.stringify(v);
  return s.length > 160 ? `${s.slice(0, 150)}... (${s.length} chars)` : s;
}
function mismatch(resource, id, what, want, got) {
  console.log(`mismatch ${resource} ${JSON.stringify(id)} ${what}: expected ${show(want)}, got ${show(got)}`);
}
function tally(ok) {
  if (ok) passed++;
  else failed++;
}
function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

function loadExpected(outdir) {
  return {
    expected: JSON.parse(fs.readFileSync(path.join(outdir, 'expected.json'), 'utf8')),
    inputs: JSON.parse(fs.readFileSync(path.join(outdir, 'inputs.json'), 'utf8')),
  };
}

/*
 * Compares one record of B with the expectation: `set` gives the expected
 * value of fields changed since (also "$content"/"$content_type"), `skip`
 * fields not to compare.  Prints mismatches, returns true when all match.
 */
async function checkRecord(name, res, id, rec, input, resource, { set = {}, skip = [] } = {}) {
  let view;
  try {
    view = recordView(await withTimeout(resource.get(id), T, `get ${name}/${id}`));
  } catch (e) {
    mismatch(name, id, '(record)', 'present', `error: ${e.message}`);
    return false;
  }
  let ok = true;
  for (const [field, def] of Object.entries(res.attributes)) {
    if (skip.includes(field)) continue;
    if (field in set) {
      if (!same(set[field], view[field], isBatchedNumbers(def) ? 1e-6 : 1e-12)) {
        mismatch(name, id, field, set[field], view[field]);
        ok = false;
      }
      continue;
    }
    const r = fieldMatches(def, rec, input, field, view[field]);
    if (!r.ok) {
      mismatch(name, id, field, r.want, view[field]);
      ok = false;
    }
  }
  if (res.hasContent) {
    const wantBytes = '$content' in set ? set.$content : rec.content;
    const wantType = '$content_type' in set ? set.$content_type : rec.contentType;
    try {
      const c = await withTimeout(resource.content(id), T, `content ${name}/${id}`);
      const bytes = c.buffer ? toJson(c.buffer) : undefined;
      if (!same(wantBytes, bytes)) {
        mismatch(name, id, '$content', wantBytes, bytes);
        ok = false;
      }
      if ((wantType ?? null) !== (c.contentType ?? null)) {
        mismatch(name, id, '$content_type', wantType, c.contentType);
        ok = false;
      }
    } catch (e) {
      mismatch(name, id, '$content', wantBytes, `error: ${e.message}`);
      ok = false;
    }
  }
  return ok;
}

/* the relative keys of every partition reference object of a resource */
async function partitionKeys(db, name) {
  const keys = await db.client.getAllKeys({ prefix: `resource=${name}/partition=` });
  return keys.map((k) => k.slice(k.indexOf(`resource=${name}/`))).sort();
}

/* ---------------- compare ---------------- */

async function compare(connA, connB, outdir) {
  const { expected, inputs } = loadExpected(outdir);
  const dbA = await openDb(connA);
  const dbB = await openDb(connB);
  for (const [name, res] of Object.entries(expected.resources)) {
    const resource = dbB.resources[name];
    if (!resource) {
      console.log(`mismatch ${name}: no such resource in B`);
      failed += Object.keys(res.records).length;
      continue;
    }
    const ids = new Set(await withTimeout(resource.listIds(), T, `listIds ${name}`));
    for (const [id, rec] of Object.entries(res.records)) {
      if (!ids.has(id)) {
        mismatch(name, id, '(record)', 'present', undefined);
        tally(false);
        continue;
      }
      ids.delete(id);
      tally(await checkRecord(name, res, id, rec, (inputs[name] || {})[id] || {}, resource));
    }
    for (const id of ids) {
      mismatch(name, id, '(record)', undefined, 'present');
      tally(false);
    }
    const partitions = Object.keys(resource.config?.partitions || {});
    if (partitions.length > 0) {
      // the references s3db.js itself computes for the records of A
      const want = new Set();
      for (const [id, rec] of Object.entries(res.records)) {
        for (const partitionName of partitions) {
          const k = resource.getPartitionKey({ partitionName, id, data: rec.get });
          if (k) want.add(k);
        }
      }
      const inA = await partitionKeys(dbA, name);
      const inB = new Set(await partitionKeys(dbB, name));
      for (const k of inA) {
        if (!want.has(k)) console.log(`note ${name}: s3db.js left a stale partition reference in A: ${k}`);
      }
      for (const k of want) {
        if (!inA.includes(k)) console.log(`note ${name}: s3db.js did not write the partition reference ${k} in A`);
      }
      let ok = want.size > 0;
      for (const k of want) {
        if (!inB.delete(k)) { console.log(`mismatch ${name} partition reference ${JSON.stringify(k)}: missing in B`); ok = false; }
      }
      for (const k of inB) { console.log(`mismatch ${name} partition reference ${JSON.stringify(k)}: unexpected in B`); ok = false; }
      tally(ok);
    }
  }
  await dbA.disconnect();
  await dbB.disconnect();
  finish();
}

/* ---------------- after the SQL UPDATE/DELETE/TRUNCATE ---------------- */

/*
 * What reverse.sh changed in B through SQL, after the copy (keep in sync
 * with the statements there).
 */
export const CHANGES = {
  update: [
    // metadata fields
    { resource: 't_scalars', id: 'r1', set: { s: 'set by sql', n: 7.5 } },
    // a secret: encrypted with the user mapping's passphrase
    { resource: 't_special', id: 's1', set: { sec: 'new sécret' } },
    // a field in the body of a body-overflow record
    { resource: 'b_overflow', id: 'spill', set: { d: 'S'.repeat(1800) } },
    // body-only
    { resource: 'b_bodyonly', id: 'bo1', set: { a: 'body via sql' } },
    // binary content
    { resource: 'c_files', id: 'png', set: { $content: { $bytes: Buffer.from([0, 255, 1]).toString('base64') }, $content_type: 'application/x-test' } },
    // a partition field: the references move from status=active to status=shipped
    { resource: 'p_orders', id: 'o-001', set: { status: 'shipped' } },
  ],
  delete: [{ resource: 'b_user', id: 'small' }],
  truncate: ['b_enforce'],
};

async function partitionIds(resource, partition, partitionValues) {
  const rows = await withTimeout(resource.listPartition({ partition, partitionValues }), T, `listPartition ${partition}`);
  return rows.map((r) => r.id).sort();
}

async function afterSql(connB, outdir) {
  const { expected, inputs } = loadExpected(outdir);
  const db = await openDb(connB);
  const exp = (name, id) => ({
    res: expected.resources[name],
    rec: expected.resources[name].records[id],
    input: (inputs[name] || {})[id] || {},
  });

  for (const ch of CHANGES.update) {
    const { res, rec, input } = exp(ch.resource, ch.id);
    // a timestamps: true resource may get a new updatedAt from the writer
    tally(await checkRecord(ch.resource, res, ch.id, rec, input, db.resources[ch.resource],
      { set: ch.set, skip: ['updatedAt'] }));
  }

  // the moved partition references, as s3db.js lists partitions
  {
    const r = db.resources.p_orders;
    const checks = [
      ['byStatus', { status: 'shipped' }, ['o-001']],
      ['byStatus', { status: 'active' }, ['o-002', 'o-004']],
      ['byRegionStatus', { status: 'shipped', region: 'eu' }, ['o-001']],
      ['byRegionStatus', { status: 'active', region: 'eu' }, ['o-004']],
      ['byCountry', { 'customer.country': 'DE' }, ['o-001']],
    ];
    for (const [partition, values, want] of checks) {
      let got;
      try {
        got = await partitionIds(r, partition, values);
      } catch (e) {
        got = `error: ${e.message}`;
      }
      const ok = same(want, got);
      if (!ok) mismatch('p_orders', `${partition} ${JSON.stringify(values)}`, 'listPartition', want, got);
      tally(ok);
    }
    const stale = (await partitionKeys(db, 'p_orders')).filter((k) => k.endsWith('/id=o-001') && k.includes('status=active'));
    if (stale.length) mismatch('p_orders', 'o-001', 'partition references', 'none under status=active', stale);
    tally(stale.length === 0);
  }

  for (const { resource: name, id } of CHANGES.delete) {
    const r = db.resources[name];
    const ids = await r.listIds();
    const want = Object.keys(expected.resources[name].records).filter((x) => x !== id).sort();
    let ok = !(await withTimeout(r.exists(id), T, `exists ${name}/${id}`));
    if (!ok) mismatch(name, id, '(record)', 'deleted', 'exists() is true');
    if (!same(want, [...ids].sort())) { mismatch(name, '*', 'listIds', want, [...ids].sort()); ok = false; }
    tally(ok);
  }

  for (const name of CHANGES.truncate) {
    const r = db.resources[name];
    const ids = await r.listIds();
    const count = await r.count();
    const keys = await db.client.getAllKeys({ prefix: `resource=${name}/data/` });
    const ok = ids.length === 0 && count === 0 && keys.length === 0;
    if (!ok) mismatch(name, '*', 'after TRUNCATE', 'no records', { listIds: ids, count, keys });
    tally(ok);
  }
  await db.disconnect();
  finish();
}

/* ---------------- main ---------------- */

try {
  if (cmd === 'copy-catalog' && args.length === 2) {
    await copyCatalog(args[0], args[1]);
    process.exit(0);
  } else if (cmd === 'compare' && args.length === 3) {
    await compare(...args);
  } else if (cmd === 'after-sql' && args.length === 2) {
    await afterSql(...args);
  } else {
    console.error('usage: reverse.mjs copy-catalog SRC DST | compare A B OUTDIR | after-sql B OUTDIR');
    process.exit(2);
  }
} catch (e) {
  console.error(`reverse.mjs ${cmd}: ${e.stack || e.message}`);
  process.exit(1);
}
