/*
 * fake_sql.mjs EXPECTED_DIR OUT_JSON - renders the corpus the way
 * PostgreSQL's row_to_json would render a correct foreign table
 * (timestamptz "...+00:00", time without trailing zeros, real[] at single
 * precision, bytea "\\x...", inet, ...).  Used only to test compare.mjs:
 * the result must compare clean, and mutations of it must not.
 */
import fs from 'node:fs';
import path from 'node:path';
import { baseType, isBatchedNumbers } from './normalize.mjs';

const [expectedDir, out] = process.argv.slice(2);
const expected = JSON.parse(fs.readFileSync(path.join(expectedDir, 'expected.json'), 'utf8'));
const inputs = JSON.parse(fs.readFileSync(path.join(expectedDir, 'inputs.json'), 'utf8'));

function render(def, v) {
  if (v === undefined || v === null) return null;
  if (def && typeof def === 'object') return v;
  const s = String(def);
  const t = baseType(s);
  if (s.startsWith('embedding') || isBatchedNumbers(s)) return v.map((x) => Number(Math.fround(x).toPrecision(7)));
  if (s.includes('datetime')) return new Date(v).toISOString().replace('Z', '+00:00');
  if (t === 'timeonly') return v.replace(/\.?0+$/, '');
  if (t === 'mac') return v.toLowerCase();
  if (t === 'ip6') return v; // already canonical
  if (/^(buffer|bits)/.test(t)) return `\\x${Buffer.from(v.$bytes, 'base64').toString('hex')}`;
  return v;
}

const result = {};
for (const [name, res] of Object.entries(expected.resources)) {
  result[name] = Object.entries(res.records).map(([id, rec]) => {
    const row = { id };
    for (const [field, def] of Object.entries(res.attributes)) {
      const v = rec.useInput[field] ? inputs[name][id][field] : rec.get[field];
      row[field] = render(def, v);
    }
    if (res.hasContent) {
      row._content = `\\x${Buffer.from(rec.content.$bytes, 'base64').toString('hex')}`;
      row._content_type = rec.contentType;
    }
    return row;
  });
}
fs.writeFileSync(out, `${JSON.stringify(result, null, 1)}\n`);
