/*
 * compare.mjs EXPECTED_DIR SQL_JSON - checks what PostgreSQL returned for
 * the corpus against what s3db.js wrote.
 *
 * EXPECTED_DIR holds expected.json and inputs.json from corpus.mjs.
 * SQL_JSON is {"<resource>": [row, ...]}, each row the row_to_json of a
 * foreign table made by IMPORT FOREIGN SCHEMA: "id", one key per top-level
 * attribute, and for resources with binary content "_content" (bytea as
 * "\\x...") and "_content_type".
 *
 * The expected value of a field is what s3db.js's get() returned, except
 * for the fields corpus.mjs marked "useInput" (get() known to be wrong),
 * where it is the normalised input.  Both sides are normalised per column
 * type before comparing (timestamps to epoch ms, times to ms, numbers
 * numerically, inet/uuid/macaddr canonically, bytea vs base64).
 *
 * Prints one line per mismatch and finally "N passed, M failed" (records
 * matching exactly / records with any mismatch, missing or extra).  Exits
 * 1 when M > 0.
 */
import fs from 'node:fs';
import path from 'node:path';
import { baseType, canonicalIp6, isBatchedNumbers } from './normalize.mjs';

const [expectedDir, sqlJson] = process.argv.slice(2);
if (!expectedDir || !sqlJson) {
  console.error('usage: compare.mjs EXPECTED_DIR SQL_JSON');
  process.exit(2);
}
const expected = JSON.parse(fs.readFileSync(path.join(expectedDir, 'expected.json'), 'utf8'));
const inputs = JSON.parse(fs.readFileSync(path.join(expectedDir, 'inputs.json'), 'utf8'));
const sql = JSON.parse(fs.readFileSync(sqlJson, 'utf8'));

/* column category of an attribute definition, following the type mapping */
export function category(def) {
  if (def && typeof def === 'object') return 'json';
  const s = String(def);
  const t = baseType(s);
  if (s.startsWith('embedding') || isBatchedNumbers(s)) return 'real[]';
  if (t === 'array') {
    if (/items:string/.test(s)) return 'text[]';
    if (/items:number/.test(s)) return 'num[]';
    return 'json';
  }
  if (t === 'ip4' || t === 'ip6') return 'inet';
  if (t.startsWith('buffer') || t.startsWith('bits')) return 'bytea';
  if (/^(money|crypto|decimal|geo:lat|geo:lon)/.test(t) || t === 'number') return 'num';
  if (t.startsWith('geo:point')) return 'json';
  if (t === 'boolean' || t === 'bool') return 'bool';
  if (['object', 'json', 'any'].includes(t)) return 'json';
  if (s.includes('datetime')) return 'ts';
  if (s.includes('dateonly')) return 'date';
  if (t === 'timeonly') return 'time';
  if (['uuid', 'mac', 'cidr'].includes(t)) return 'lower';
  return 'text';
}

function toNumber(v) {
  if (v && typeof v === 'object' && '$number' in v) return Number(v.$number);
  if (typeof v === 'string') return Number(v); // "NaN", "Infinity" from row_to_json
  return v;
}

function numEqual(a, b, rel, abs = 0) {
  a = toNumber(a);
  b = toNumber(b);
  if (typeof a !== 'number' || typeof b !== 'number') return false;
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  const d = Math.abs(a - b);
  return d <= abs || d <= rel * Math.max(Math.abs(a), Math.abs(b));
}

function jsonEqual(a, b) {
  if (typeof a === 'number' || typeof b === 'number') return numEqual(a, b, 1e-12);
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && jsonEqual(a[k], b[k]));
  }
  return a === b;
}

function bytesHex(v) {
  if (v && typeof v === 'object' && '$bytes' in v) return Buffer.from(v.$bytes, 'base64').toString('hex');
  if (typeof v === 'string' && v.startsWith('\\x')) return v.slice(2).toLowerCase();
  if (typeof v === 'string') return Buffer.from(v, 'base64').toString('hex');
  return undefined;
}

function timeMs(v) {
  const m = typeof v === 'string' && v.match(/^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$/);
  if (!m) return NaN;
  const frac = Number(`0.${m[4] || '0'}`);
  return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3] || 0)) * 1000 + Math.round(frac * 1000);
}

function inetNorm(v) {
  if (typeof v !== 'string') return v;
  const s = v.replace(/\/(32|128)$/, '');
  return s.includes(':') ? canonicalIp6(s) : s;
}

/* does the SQL value `got` represent the expected value `want`? */
export function valueMatches(cat, want, got) {
  if (want === undefined || want === null) return got === null || got === undefined;
  if (got === null || got === undefined) return false;
  switch (cat) {
    case 'num': return numEqual(want, got, 1e-12);
    case 'real[]':
      return Array.isArray(want) && Array.isArray(got) && want.length === got.length &&
        want.every((x, i) => numEqual(x, got[i], 1e-6, 1e-12));
    case 'num[]':
      return Array.isArray(want) && Array.isArray(got) && want.length === got.length &&
        want.every((x, i) => numEqual(x, got[i], 1e-12));
    case 'text[]':
      return Array.isArray(want) && Array.isArray(got) && want.length === got.length &&
        want.every((x, i) => x === got[i]);
    case 'bool': return want === got;
    case 'json': return jsonEqual(want, got);
    case 'inet': return inetNorm(want) === inetNorm(got);
    case 'bytea': return bytesHex(want) !== undefined && bytesHex(want) === bytesHex(got);
    case 'ts': {
      const a = Date.parse(want);
      const b = Date.parse(got);
      return !Number.isNaN(a) && a === b;
    }
    case 'date': return typeof got === 'string' && String(want).slice(0, 10) === got.slice(0, 10);
    case 'time': {
      const a = timeMs(want);
      return !Number.isNaN(a) && a === timeMs(got);
    }
    case 'lower': return typeof got === 'string' && String(want).toLowerCase() === got.toLowerCase();
    default: return want === got;
  }
}

const show = (v) => (v === undefined ? 'missing' : JSON.stringify(v));
let passed = 0;
let failed = 0;
function mismatch(resource, id, field, want, got) {
  console.log(`mismatch ${resource} ${JSON.stringify(id)} ${field}: expected ${show(want)}, got ${show(got)}`);
}

for (const [name, res] of Object.entries(expected.resources)) {
  const rows = sql[name];
  const byId = new Map();
  if (!Array.isArray(rows)) {
    console.log(`mismatch ${name}: resource missing from the SQL output`);
  } else {
    for (const row of rows) {
      if (byId.has(row.id)) {
        console.log(`mismatch ${name} ${JSON.stringify(row.id)} id: returned more than once`);
        failed++;
      }
      byId.set(row.id, row);
    }
  }
  for (const [id, rec] of Object.entries(res.records)) {
    const row = byId.get(id);
    if (!row) {
      mismatch(name, id, '(record)', 'present', undefined);
      failed++;
      continue;
    }
    byId.delete(id);
    let ok = true;
    const input = (inputs[name] || {})[id] || {};
    for (const [field, def] of Object.entries(res.attributes)) {
      const want = rec.useInput[field] ? input[field] : rec.get[field];
      if (!(field in row)) {
        console.log(`mismatch ${name} ${JSON.stringify(id)} ${field}: expected ${JSON.stringify(want ?? null)}, got no such column`);
        ok = false;
        continue;
      }
      if (!valueMatches(category(def), want, row[field])) {
        mismatch(name, id, field, want ?? null, row[field]);
        ok = false;
      }
    }
    if (res.hasContent) {
      if (!valueMatches('bytea', rec.content, row._content)) {
        mismatch(name, id, '_content', rec.content, row._content);
        ok = false;
      }
      if ((rec.contentType ?? null) !== (row._content_type ?? null)) {
        mismatch(name, id, '_content_type', rec.contentType, row._content_type);
        ok = false;
      }
    }
    if (ok) passed++;
    else failed++;
  }
  for (const id of byId.keys()) {
    mismatch(name, id, '(record)', undefined, 'present');
    failed++;
  }
}
for (const name of Object.keys(sql)) {
  if (!(name in expected.resources)) {
    console.log(`mismatch ${name}: resource not in the corpus`);
    failed += Array.isArray(sql[name]) ? Math.max(sql[name].length, 1) : 1;
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
