// s3db.js 21.6.2 against a resource that SQL created (s3db_create_resource):
//   node created.mjs CONNSTR check   -- read what SQL wrote, insert one record
//   node created.mjs CONNSTR check2  -- after SQL added an attribute (v2)
// Prints one "ok"/"not ok" line per check and "N passed, M failed".
const { S3db } = await import(new URL('./node_modules/s3db.js/dist/index.js', import.meta.url));
const [url, step] = process.argv.slice(2);
let passed = 0, failed = 0;
const check = (ok, what, extra) => {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'ok' : 'not ok'} - ${what}${ok || extra === undefined ? '' : ' ' + JSON.stringify(extra)}`);
};
const db = new S3db({ connectionString: url, logLevel: 'silent', security: { passphrase: 'created-pass' } });
await db.connect();
const r = db.resources.gadgets;
check(!!r, 's3db.js sees the resource created from SQL');
if (r) {
  if (step === 'check') {
    const a = await r.get('g1');
    check(a.name === 'Widget' && a.qty === 3 && JSON.stringify(a.tags) === '["x","y|z"]' &&
          a.loc?.city === 'Berlin' && a.price === 9.5, 'record g1 reads back', a);
    const b = await r.get('g2');
    check(b.name === 'Ünïcödé' && b.qty === undefined && b.loc?.city === 'Rio', 'record g2 reads back', b);
    const ids = await r.listPartition({ partition: 'byCity', partitionValues: { 'loc.city': 'Berlin' } });
    check(Array.isArray(ids) && ids.length === 1 && (ids[0].id ?? ids[0]) === 'g1', 'partition listing by s3db.js', ids);
    await r.insert({ id: 'js1', name: 'from js', qty: 7, tags: ['q'], loc: { city: 'Oslo' } });
    check(true, 's3db.js inserts into the SQL-created resource');
  } else {
    const meta = JSON.parse(JSON.stringify(db.savedMetadata ?? {}));
    const v = meta.resources?.gadgets?.currentVersion;
    check(v === 'v2', 'the added attribute made version v2', v);
    const a = await r.get('g1');
    check(a.name === 'WIDGET' && a.color === 'red', 'record written under v2 reads back', a);
    const old = await r.get('g2');
    check(old.name === 'Ünïcödé', 'record written under v1 still reads back', old);
    await r.insert({ id: 'js2', name: 'v2 from js', color: 'blue', loc: { city: 'Oslo' } });
    check(true, 's3db.js inserts with the new attribute');
  }
}
await db.disconnect();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
