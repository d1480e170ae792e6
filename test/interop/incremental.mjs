/*
 * incremental.mjs - the s3db.js side of incremental.sh.
 *
 *   incremental.mjs run CONNSTR N DIR        declares the resource inc_ids
 *                                            (idGenerator 'incremental'),
 *                                            creates DIR/ready, waits for
 *                                            DIR/go, then inserts N records
 *                                            one by one (who 'js', k 1..N)
 *                                            and prints the ids s3db.js
 *                                            handed out, one a line
 *   incremental.mjs list CONNSTR             prints {"rows": [[id, who, k]],
 *                                            "counter": the sequence value
 *                                            object, "lock": whether the lock
 *                                            object is still there}
 *   incremental.mjs check CONNSTR DIR NJS NSQL file|s3
 *                                            checks the outcome: DIR holds
 *                                            W.ids, W.rc and W.retries for
 *                                            the writers W = js, sql1, sql2
 *                                            and sql.json (SELECT of the
 *                                            table); prints failures, notes
 *                                            and "N passed, M failed"
 *
 * Writers retry an insert that failed for one of two reasons, and log it
 * to W.retries as "lock: ..." or "collision: ...":
 *   lock       the sequence lock stayed busy for the protocol's 5 s (spec
 *              10.4): a writer inserting in a tight loop holds the lock most
 *              of the time, and the backoff of the others can keep missing
 *              the gaps; s3db.js and the FDW alike give up then;
 *   collision  the record's data PUT found the id taken.  On S3 that must
 *              not happen (the lock PUT is conditional); on file:// s3db.js
 *              checks If-None-Match by a separate existence test, not
 *              atomically with its write, so two processes can both take
 *              the lock (spec 10.4) and be handed the same id.
 * Neither leaves a gap: a failed lock allocates nothing, and colliding
 * holders both advance the counter from the same value.
 *
 * The declaring process is the one that inserts: s3db.json records only
 * "idGenerator": "incremental", and a process that loads the resource from
 * it (even re-declaring it with createResource and the same attributes)
 * hands out random ids.
 */
import fs from 'node:fs';
import { openDb, withTimeout } from './lib.mjs';

export const RESOURCE = {
  name: 'inc_ids',
  idGenerator: 'incremental',
  attributes: { who: 'string', k: 'number|integer:true' },
};

const [cmd, connstr] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function list(db) {
  const resource = db.resources[RESOURCE.name];
  if (!resource) throw new Error(`no resource ${RESOURCE.name}`);
  const rows = [];
  for (const id of await resource.listIds()) {
    const r = await resource.get(id);
    rows.push([id, r.who, r.k]);
  }
  const counter = await readJson(db, `resource=${RESOURCE.name}/sequence=id/value`);
  const lock = await db.client.exists(`resource=${RESOURCE.name}/sequence=id/lock`);
  return { rows, counter, lock };
}

function check(dir, njs, nsql, label, js) {
  let passed = 0;
  let failed = 0;
  const ok = (cond, what) => {
    if (cond) passed++;
    else { failed++; console.log(`failed: ${what}`); }
  };
  const read = (f) => (fs.existsSync(`${dir}/${f}`) ? fs.readFileSync(`${dir}/${f}`, 'utf8').trim() : '');
  const lines = (f) => read(f).split('\n').filter(Boolean);
  const total = njs + 2 * nsql;
  const writers = [['js', njs], ['sql1', nsql], ['sql2', nsql]];
  const returned = {};
  for (const [w, n] of writers) {
    ok(read(`${w}.rc`) === '0', `${w}: writer exited with ${read(`${w}.rc`) || 'nothing'} (see ${dir}/${w}.err)`);
    returned[w] = lines(`${w}.ids`);
    ok(returned[w].length === n, `${w}: ${returned[w].length} ids handed out, expected ${n}`);
  }
  let sql = [];
  try { sql = JSON.parse(read('sql.json') || 'null') || []; } catch { /* counted below */ }
  const ids = (rows) => rows.map((r) => String(r[0]));
  const sorted = (a) => [...a].sort((x, y) => Number(x) - Number(y) || (x < y ? -1 : x > y ? 1 : 0));
  const want = Array.from({ length: total }, (_, i) => String(i + 1));
  const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  const short = (a) => JSON.stringify(a.length > 20 ? [...a.slice(0, 20), '...'] : a);

  ok(sql.length === total, `SQL: ${sql.length} rows, expected ${total}`);
  ok(new Set(ids(sql)).size === sql.length, `SQL: ids not distinct: ${short(sorted(ids(sql)))}`);
  ok(js.rows.length === total, `s3db.js: ${js.rows.length} records, expected ${total}`);
  ok(new Set(ids(js.rows)).size === js.rows.length, 's3db.js: ids not distinct');
  ok(same(sorted(ids(sql)), sorted(ids(js.rows))), `SQL and s3db.js list different ids: ${short(sorted(ids(sql)))} vs ${short(sorted(ids(js.rows)))}`);
  ok(same(sorted(ids(js.rows)), want), `ids are not 1..${total}: ${short(sorted(ids(js.rows)))}`);
  for (const [w, n] of writers) {
    const mine = js.rows.filter((r) => r[1] === w);
    ok(same(sorted(ids(mine)), sorted(returned[w])), `${w}: the records of this writer have ids ${short(sorted(ids(mine)))}, it was handed ${short(returned[w])}`);
    ok(same(mine.map((r) => r[2]).sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i + 1)), `${w}: k values are not 1..${n}`);
    ok(returned[w].every((x, i) => i === 0 || Number(x) > Number(returned[w][i - 1])), `${w}: ids handed out not increasing: ${short(returned[w])}`);
  }
  // retried inserts: lock timeouts are notes, collisions fail on S3
  let collisions = 0;
  for (const [w] of writers) {
    const retries = lines(`${w}.retries`);
    const lock = retries.filter((l) => l.startsWith('lock:')).length;
    const coll = retries.filter((l) => l.startsWith('collision:'));
    collisions += coll.length;
    if (lock) console.log(`note: ${w}: ${lock} insert(s) retried after the sequence lock stayed busy for 5 s`);
    for (const l of coll) console.log(`note: ${w}: retried after an id collision: ${l.slice(11)}`);
  }
  ok(label === 'file' || collisions === 0, `${collisions} id collision(s) on S3, where the conditional lock PUT must prevent them`);
  // how much the writers overlapped (information: the lock decides who runs when)
  const range = (w) => (returned[w].length ? `${Math.min(...returned[w].map(Number))}-${Math.max(...returned[w].map(Number))}` : 'none');
  console.log(`note: id ranges: js ${range('js')}, sql1 ${range('sql1')}, sql2 ${range('sql2')}`);
  ok(js.counter && js.counter.value === total + 1 && js.counter.name === 'id', `sequence value object ${JSON.stringify(js.counter)}, expected value ${total + 1}`);
  ok(js.lock === false, 'the sequence lock object was left behind');
  console.log(`${passed} passed, ${failed} failed`);
  return failed;
}

/* the object key an s3db.js error is about, when it says */
function errorKey(e) {
  for (let x = e; x; x = x.original || x.cause) {
    const k = x.key || x.Key || x.data?.key;
    if (k) return String(k);
  }
  const m = String(e.stack || e.message).match(/resource=[^"\s]*/);
  return m ? m[0] : null;
}

/*
 * Why an s3db.js insert failed, if it is one of the retried reasons: the
 * lock not acquired in time ("Failed to acquire lock"), a 412 on the lock
 * PUT that s3db.js did not recognise as "busy" (its S3 client sometimes
 * raises it as a plain error, which its lock code then throws), or a taken
 * id (the data PUT's If-None-Match).
 */
function retryReason(e) {
  if (/Failed to acquire lock/.test(e.message)) return 'lock';
  if (!/already exists|Precondition failed/.test(e.message)) return null;
  const key = errorKey(e);
  if (key && key.includes('/sequence=')) return 'lock';
  return 'collision';
}

async function readJson(db, key) {
  try {
    const o = await db.client.getObject(key);
    return JSON.parse(await o.Body.transformToString());
  } catch (e) {
    if (e?.name === 'NoSuchKey' || e?.code === 'NoSuchKey' || e?.statusCode === 404) return null;
    throw e;
  }
}

try {
  const db = await openDb(connstr);
  if (cmd === 'run') {
    const [, , n, dir] = process.argv.slice(2);
    const go = `${dir}/go`;
    const resource = await db.createResource(RESOURCE);
    fs.writeFileSync(`${dir}/ready`, '');
    const deadline = Date.now() + 60000;
    while (!fs.existsSync(go)) {
      if (Date.now() > deadline) throw new Error(`no ${go} after 60 s`);
      await sleep(5);
    }
    for (let k = 1; k <= Number(n); k++) {
      for (let attempt = 1; ; attempt++) {
        try {
          const got = await withTimeout(resource.insert({ who: 'js', k }), 30000, `insert ${k}`);
          console.log(got.id);
          break;
        } catch (e) {
          const why = retryReason(e);
          if (!why || attempt >= 6) throw e;
          fs.appendFileSync(`${dir}/js.retries`, `${why}: k=${k}: ${e.message.split('\n')[0]} (${errorKey(e) || 'no key'})\n`);
        }
      }
    }
  } else if (cmd === 'list') {
    console.log(JSON.stringify(await list(db)));
  } else if (cmd === 'check') {
    const [, , dir, njs, nsql, label] = process.argv.slice(2);
    const failures = check(dir, Number(njs), Number(nsql), label, await list(db));
    await db.disconnect();
    process.exit(failures ? 1 : 0);
  } else {
    console.error('usage: incremental.mjs run CONNSTR N DIR | list CONNSTR | check CONNSTR DIR NJS NSQL file|s3');
    process.exit(2);
  }
  await db.disconnect();
  process.exit(0);
} catch (e) {
  console.error(`incremental.mjs ${cmd}: ${e.stack || e.message}`);
  process.exit(1);
}
