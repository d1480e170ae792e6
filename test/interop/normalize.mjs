/*
 * normalize.mjs - what a correct reader must return for a value written by
 * s3db.js 21.6.2, computed from the value given to insert()/update().
 *
 * s3db.js normalises values on write (spec 6, 6.2): strings are trimmed,
 * numeric precision is reduced for money/decimal/geo/embeddings, mac and
 * colour are lower-cased, dates become ISO strings, -0 becomes 0.  The
 * functions here apply the same normalisation so that corpus.mjs can
 * record the logical value next to what get() returns, and check that the
 * two agree except where get() is known to be wrong.
 */

export function baseType(def) {
  if (def && typeof def === 'object') return def.type ? String(def.type) : 'nested';
  return String(def).split('|')[0];
}

function param(def, name, dflt) {
  const m = String(def).match(new RegExp(`(?:^|\\|)${name}:(\\d+)`));
  return m ? Number(m[1]) : dflt;
}

function decimalsOf(def) {
  const head = String(def).split('|')[0];
  const m = head.match(/:(\d+)$/);
  return m ? Number(m[1]) : null;
}

const round = (x, p) => Math.round(x * 10 ** p) / 10 ** p;
const noNegZero = (x) => (Object.is(x, -0) ? 0 : x);

export function isBatchedNumbers(def) {
  const s = String(def);
  if (s.startsWith('embedding')) return true;
  if (!s.startsWith('array') || !/items:number/.test(s) || /integer/.test(s)) return false;
  const len = param(s, 'length', 0);
  return len >= 256;
}

export function canonicalIp6(text) {
  let [head, tail] = text.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail ? tail.split(':') : [];
  let groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  groups = groups.map((g) => parseInt(g, 16).toString(16));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

function timeOnly(v) {
  const m = String(v).trim().match(/^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/);
  if (!m) return v;
  return `${m[1]}:${m[2]}:${m[3] || '00'}.${(m[4] || '').padEnd(3, '0')}`;
}

/* ISO-8601 duration as s3db.js renders it: P[nD][T[nH][nM][s[.mmm]S]] */
function duration(v) {
  let ms;
  if (typeof v === 'number') ms = v;
  else {
    const m = String(v).trim().match(/^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/);
    if (!m) return v;
    ms = Math.round(((Number(m[1] || 0) * 24 + Number(m[2] || 0)) * 60 + Number(m[3] || 0)) * 60000 +
      Number(m[4] || 0) * 1000);
  }
  const d = Math.floor(ms / 86400000);
  const h = Math.floor((ms % 86400000) / 3600000);
  const mi = Math.floor((ms % 3600000) / 60000);
  const s = Math.floor((ms % 60000) / 1000);
  const f = ms % 1000;
  let out = 'P';
  if (d) out += `${d}D`;
  if (h || mi || s || f) {
    out += 'T';
    if (h) out += `${h}H`;
    if (mi) out += `${mi}M`;
    if (s || f) out += f ? `${s}.${String(f).padStart(3, '0')}S` : `${s}S`;
  }
  return out === 'P' ? 'PT0S' : out;
}

function geo(v, offset, p) {
  return round(v + offset, p) - offset;
}

/* the value a correct reader returns for `v` written to an attribute `def` */
export function normalizeValue(def, v) {
  if (v === undefined || v === null) return undefined;
  const t = baseType(def);
  const s = String(def);
  if (t === 'nested') {
    const out = {};
    for (const [k, x] of Object.entries(v)) {
      const n = def[k] !== undefined ? normalizeValue(def[k], x) : x;
      if (n !== undefined) out[k] = n;
    }
    return out;
  }
  if (s.startsWith('embedding') || isBatchedNumbers(s)) return v.map((x) => noNegZero(round(Number(x), 6)));
  if (t === 'array') {
    if (/items:string/.test(s)) return v.map((x) => String(x));
    if (/items:number/.test(s)) return v.map((x) => noNegZero(Number(x)));
    return v;
  }
  if (t.startsWith('money') || t.startsWith('crypto')) {
    const d = decimalsOf(s) ?? (t.startsWith('money') ? 2 : 8);
    return noNegZero(round(Number(v), d));
  }
  if (t.startsWith('decimal')) return noNegZero(round(Number(v), decimalsOf(s) ?? 2));
  if (t.startsWith('geo:lat')) return geo(Number(v), 90, 6);
  if (t.startsWith('geo:lon')) return geo(Number(v), 180, 6);
  if (t.startsWith('geo:point')) {
    const lat = Array.isArray(v) ? v[0] : (v.lat ?? v.latitude);
    const lon = Array.isArray(v) ? v[1] : (v.lon ?? v.longitude);
    return { latitude: geo(lat, 90, 6), longitude: geo(lon, 180, 6) };
  }
  switch (t) {
    case 'number': return noNegZero(Number(v));
    case 'boolean': return Boolean(v);
    case 'object': case 'json': case 'any': return v;
    case 'ip6': return canonicalIp6(String(v).trim());
    case 'uuid': case 'mac': case 'color': return String(v).trim().toLowerCase();
    case 'datetime': return new Date(v).toISOString();
    case 'dateonly': return new Date(String(v).includes('T') ? v : `${v}T00:00:00.000Z`).toISOString().slice(0, 10);
    case 'timeonly': return timeOnly(v);
    case 'duration': return duration(v);
    default: return typeof v === 'string' ? v.trim() : v;
  }
}

export function normalizeRecord(attributes, rec) {
  const out = {};
  for (const [k, v] of Object.entries(rec)) {
    if (k === 'id') { out.id = v; continue; }
    const n = attributes[k] !== undefined ? normalizeValue(attributes[k], v) : v;
    if (n !== undefined) out[k] = n;
  }
  return out;
}

/* deep equality with a relative tolerance for numbers */
export function sameValue(a, b, tol = 1e-9) {
  if (typeof a === 'number' && typeof b === 'number') {
    if (a === b) return true;
    return Math.abs(a - b) <= tol * Math.max(Math.abs(a), Math.abs(b));
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => sameValue(x, b[i], tol));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
    return ka.every((k) => sameValue(a[k], b[k], tol));
  }
  return a === b;
}
