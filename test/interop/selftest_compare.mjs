/*
 * selftest_compare.mjs EXPECTED_DIR WORKDIR - checks compare.mjs on the
 * generated corpus: the PostgreSQL-style rendering made by fake_sql.mjs
 * compares clean, equivalent renderings still compare clean, and each
 * single mutation of it is reported as a mismatch.  TAP output.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

const [expectedDir, work] = process.argv.slice(2);
const here = path.dirname(new URL(import.meta.url).pathname);
fs.mkdirSync(work, { recursive: true });
const base = path.join(work, 'sql-clean.json');
let r = spawnSync(process.execPath, [path.join(here, 'fake_sql.mjs'), expectedDir, base], { encoding: 'utf8' });
if (r.status !== 0) throw new Error(r.stderr);
const clean = JSON.parse(fs.readFileSync(base, 'utf8'));
const nrec = Object.values(clean).reduce((a, rows) => a + rows.length, 0);

let n = 0;
let failed = 0;
function ok(cond, name, detail) {
  n++;
  if (!cond) failed++;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`);
  if (!cond && detail) console.log(detail.split('\n').map((l) => `# ${l}`).join('\n'));
}
function compare(sql, tag) {
  const file = path.join(work, `sql-${tag}.json`);
  fs.writeFileSync(file, JSON.stringify(sql));
  return spawnSync(process.execPath, [path.join(here, 'compare.mjs'), expectedDir, file], { encoding: 'utf8' });
}
const row = (sql, res, id) => sql[res].find((x) => x.id === id);

r = compare(clean, 'clean');
ok(r.status === 0 && r.stdout.trim() === `${nrec} passed, 0 failed`, `clean rendering: ${nrec} passed, 0 failed`, r.stdout);

const equivalent = structuredClone(clean);
row(equivalent, 't_special', 's1').dt = '2024-01-15T12:20:30.123+02:00';
row(equivalent, 't_special', 's2').ip6 = '2001:0db8:0000:0000:0000:ff00:0042:8329/128';
row(equivalent, 't_special', 's1').uid = row(equivalent, 't_special', 's1').uid.toUpperCase();
row(equivalent, 't_special', 's1').money = '5.50';
equivalent.t_scalars.reverse();
r = compare(equivalent, 'equivalent');
ok(r.status === 0, 'equivalent renderings (offset, ip6 form, case, numeric text, order) still match', r.stdout);

const mutations = [
  ['number off by 1e-7', 't_scalars', 'r1', 'n', (x) => x.n * (1 + 1e-7)],
  ['integer off by one', 't_scalars', '日本語', 'i', (x) => x.i + 1],
  ['boolean flipped', 't_scalars', 'é', 'b', (x) => !x.b],
  ['string changed', 't_scalars', 'with space', 's', () => '  padded  '],
  ['json-looking string returned parsed', 't_scalars', 'jsonish', 's', () => ({ a: 1 })],
  ['text[] order swapped', 't_arrays', 'a2', 'tags', (x) => [x.tags[1], x.tags[0], ...x.tags.slice(2)]],
  ['text[] empty vs one empty string', 't_arrays', 'a3', 'tags', () => ['']],
  ['float8[] element changed', 't_arrays', 'a2', 'nums', (x) => [x.nums[0], x.nums[1] + 1e-9, x.nums[2]]],
  ['real[] element off by 1e-3', 't_arrays', 'a1', 'emb', (x) => x.emb.map((v, i) => (i ? v : v * 1.001 + 1e-3))],
  ['length-256 array shortened', 't_arrays', 'a256', 'big', (x) => x.big.slice(1)],
  ['nested object leaf changed', 't_objects', 'o1', 'profile', (x) => ({ ...x.profile, address: { ...x.profile.address, city: 'Bonn' } })],
  ['jsonb member added', 't_objects', 'o2', 'obj', () => ({ extra: 1 })],
  ['secret not decrypted', 't_special', 's1', 'sec', () => 'AQEBAQEBAQEBAQEBAQEBAQICAgICAgICAgICAmnSOoyH'],
  ['timestamptz off by 1 ms', 't_special', 's1', 'dt', () => '2024-01-15T10:20:30.124+00:00'],
  ['date off by a day', 't_special', 's1', 'd', () => '2024-01-16'],
  ['time off by 1 ms', 't_special', 's2', 't', () => '00:00:00.001'],
  ['timeonly NaN like get()', 't_special', 's1', 't', () => 'NaN:NaN:NaN.NaN'],
  ['inet changed', 't_special', 's1', 'ip4', () => '192.168.0.2'],
  ['money off by a cent', 't_special', 's1', 'money', (x) => x.money + 0.01],
  ['geo:point swapped', 't_special', 's3 ñ', 'pt', () => ({ latitude: 1, longitude: 0 })],
  ['uuid null', 't_special', 's1', 'uid', () => null],
  ['optional missing returned as empty string', 't_special', 's2', 'sec_opt', () => ''],
  ['overflowed field missing', 'b_overflow', 'spill', 'd', () => null],
  ['truncated field not blank', 'b_truncate', 'tr-cut', 'big', () => 'C'],
  ['body-only field changed', 'b_bodyonly', 'bo 日本', 'big', (x) => x.big.slice(1)],
  ['removed attribute leaked', 's_evolve', 'e1', 'email', () => 'Rio'],
  ['partitioned record changed', 'p_orders', 'o-002', 'status', () => 'on hold'],
  ['binary content byte changed', 'c_files', 'bin', '_content', (x) => `${x._content.slice(0, -2)}00`],
  ['content type changed', 'c_files', 'png', '_content_type', () => 'application/octet-stream'],
];
for (const [what, res, id, field, fn] of mutations) {
  const sql = structuredClone(clean);
  const x = row(sql, res, id);
  x[field] = fn(x);
  r = compare(sql, 'mutated');
  const line = `mismatch ${res} ${JSON.stringify(id)} ${field}:`;
  ok(r.status === 1 && r.stdout.includes(line) && r.stdout.includes(`${nrec - 1} passed, 1 failed`),
    `detected: ${what}`, r.stdout);
}

let sql = structuredClone(clean);
sql.b_user = sql.b_user.filter((x) => x.id !== 'large');
r = compare(sql, 'missing');
ok(r.status === 1 && r.stdout.includes('mismatch b_user "large" (record)'), 'detected: missing record', r.stdout);
sql = structuredClone(clean);
sql.b_user.push({ ...row(sql, 'b_user', 'small'), id: 'ghost' });
r = compare(sql, 'extra');
ok(r.status === 1 && r.stdout.includes('mismatch b_user "ghost" (record)'), 'detected: extra record', r.stdout);
sql = structuredClone(clean);
delete row(sql, 't_scalars', 'r1').opt;
r = compare(sql, 'nocolumn');
ok(r.status === 1 && r.stdout.includes('mismatch t_scalars "r1" opt: expected "x", got no such column'), 'detected: missing column', r.stdout);
sql = structuredClone(clean);
delete sql.c_files;
r = compare(sql, 'noresource');
ok(r.status === 1 && r.stdout.includes(`${nrec - 3} passed, 3 failed`), 'detected: missing resource', r.stdout);

console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
