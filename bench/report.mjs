// Prints bench/run.sh's results as one markdown table: both sides' times and
// rates, the ratio s3db.js time / SQL time, the requests each side made, and
// the project's targets (file://: ratios; S3: the share of the server's raw
// request rate that the SQL side achieves for the requests it made).
//
//   node bench/report.mjs WORK N BACKENDS
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';

const [work, n, backends] = process.argv.slice(2);
const lines = (f) => existsSync(f)
  ? Object.fromEntries(readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => {
      const o = JSON.parse(l); return [o.workload, o];
    }))
  : {};
const raw = existsSync(`${work}/raw.json`) ? JSON.parse(readFileSync(`${work}/raw.json`, 'utf8')) : null;

// file:// targets: s3db.js time / SQL time at least this much
const FILE_TARGET = {
  'bulk insert': 5, 'bulk insert (COPY)': 5, 'full scan rows': 10, 'full scan rows again': 10,
  'gets by id': 3, 'update by id': 50, 'patch by id': 50, 'replace by id': 50,
};
const S3_TARGET = 0.8;
// the s3db.js workload the SQL one is compared with, when it is another's
const JS_SAME = { 'bulk insert (COPY)': 'bulk insert' };
// the brief's UPDATE target is against s3db.js update(), whichever strategy
// the SQL UPDATE runs with; the ratio column still compares each with the
// s3db.js call of its name (replace() is a blind PUT, no read)
const TARGET_BASE = { 'patch by id': 'update by id', 'replace by id': 'update by id' };
const TARGET_NAME = { 'update by id': 'update()' };

const fmtS = (s) => s == null ? '-' : s < 10 ? s.toFixed(3) : s.toFixed(1);
const fmtRate = (rows, s) => s ? Math.round(rows / s).toLocaleString('en-US') : '-';
const fmtReq = (r) => {
  if (!r) return '-';
  const order = ['LIST', 'HEAD', 'GET', 'PUT', 'DELETE', 'POST'];
  const parts = order.filter((k) => r[k]).map((k) =>
    k === 'POST' && r.DELKEYS ? `${r[k]} POST (${r.DELKEYS} keys deleted)` : `${r[k]} ${k}`);
  return parts.length ? parts.join(', ') : '0';
};

const rows = [];
for (const backend of backends.split(',')) {
  const sql = lines(`${work}/${backend}-sql.jsonl`);
  const js = lines(`${work}/${backend}-js.jsonl`);
  for (const [name, q] of Object.entries(sql)) {
    const j = js[JS_SAME[name] || name];
    const jsTime = j ? `${j.measured ? '~' : ''}${fmtS(j.seconds)}` : '-';
    const ratio = j && q.seconds ? j.seconds / q.seconds : null;
    let target = '-';
    if (backend === 'file' && FILE_TARGET[name] && ratio != null) {
      const t = FILE_TARGET[name];
      const base = TARGET_BASE[name];
      const jb = base ? js[base] : j;
      const r = jb && q.seconds ? jb.seconds / q.seconds : ratio;
      target = base
        ? `>= ${t}x ${TARGET_NAME[base]}: ${r >= t ? 'met' : 'NOT met'} (${r.toFixed(0)}x)`
        : `>= ${t}x: ${r >= t ? 'met' : 'NOT met'}`;
    }
    if (backend === 's3' && raw && q.requests) {
      // the time the server needs for these requests at its raw rate
      let ideal = 0;
      // a multi-object delete costs the server one delete per key
      for (const [k, c] of Object.entries(q.requests)) {
        const rate = raw[k === 'DELKEYS' ? 'DELETE' : k];
        if (rate && k !== 'POST') ideal += c / rate;
      }
      const share = ideal / q.seconds;
      target = `${(share * 100).toFixed(0)}% of raw (>= ${S3_TARGET * 100}%: ${share >= S3_TARGET ? 'met' : 'NOT met'})`;
    }
    rows.push([
      name, backend, String(q.rows), fmtS(q.seconds), jsTime,
      fmtRate(q.rows, q.seconds), j ? fmtRate(j.rows, j.seconds) : '-',
      ratio != null ? `${ratio.toFixed(1)}x` : '-',
      fmtReq(q.requests), j ? fmtReq(j.requests) + (j.measured ? ` (~, ${j.measured} calls measured)` : '') : '-',
      target,
    ]);
  }
}

const head = ['workload', 'backend', 'rows', 'SQL s', 's3db.js s', 'SQL rows/s', 's3db.js rows/s',
  's3db.js/SQL', 'SQL requests', 's3db.js requests', 'target'];
console.log(`N = ${n} records, ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores (${os.cpus()[0]?.model?.trim() || 'unknown CPU'}), ` +
  `load average at the end ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
console.log();
console.log(`| ${head.join(' | ')} |`);
console.log(`|${head.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
if (raw) {
  console.log();
  console.log(`S3 server raw rate (s3rver 3.7.1, direct, best of 16 and 48 in flight): ` +
    ['LIST', 'HEAD', 'GET', 'PUT', 'DELETE'].map((k) => `${k} ${raw[k].toFixed(k === 'LIST' ? 1 : 0)}/s`).join(', ') +
    ` (LIST: 1,000-key pages of a ${raw.keys}-record resource, one after another)`);
}
