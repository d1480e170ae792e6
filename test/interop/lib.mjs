/*
 * lib.mjs - helpers shared by the interop scripts: opening an s3db.js
 * database on a connection string, the JSON conventions of expected.json /
 * readback output, and the record-level view of a get() result.
 *
 * JSON conventions: Dates become ISO-8601 strings, Buffers/Uint8Arrays
 * become {"$bytes": base64}, non-finite numbers become {"$number": "NaN"}
 * (or "Infinity"/"-Infinity"), undefined members are left out.
 */
import { S3db } from 's3db.js';

export const PASSPHRASE = 'corpus-pass';

export async function openDb(connectionString) {
  const db = new S3db({
    connectionString,
    security: { passphrase: PASSPHRASE },
    logLevel: 'silent',
  });
  await db.connect();
  return db;
}

export function toJson(v) {
  if (v === null) return null;
  if (v === undefined) return undefined;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? { $date: 'Invalid' } : v.toISOString();
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return { $bytes: Buffer.from(v).toString('base64') };
  if (typeof v === 'number') return Number.isFinite(v) ? v : { $number: String(v) };
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : toJson(x)));
  if (typeof v === 'object') {
    const out = {};
    for (const [k, x] of Object.entries(v)) {
      const j = toJson(x);
      if (j !== undefined) out[k] = j;
    }
    return out;
  }
  return v;
}

/*
 * The data part of a get() result: "id" and every member whose name does
 * not start with "_" (those are s3db.js's bookkeeping: _etag, _v, ...).
 * Members that are not attributes (short keys of overflowed or removed
 * fields) are kept, so that expected.json shows what get() really returns.
 */
export function recordView(obj) {
  const out = {};
  for (const [k, v] of Object.entries(obj || {})) {
    if (k.startsWith('_')) continue;
    const j = toJson(v);
    if (j !== undefined) out[k] = j;
  }
  return out;
}

export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer after ${ms} ms`)), ms);
    }),
  ]);
}
