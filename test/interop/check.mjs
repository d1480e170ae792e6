/*
 * check.mjs CONNSTR - smoke test of s3db.js 21.6.2 on one connection
 * string: insert, get, duplicate insert rejected, update, delete.  For an
 * http:// (S3) connection string it also uses the plain AWS SDK client on
 * the same bucket: PutObject, HeadObject and DeleteObject (the 204 reply
 * that the unpatched recker 1.0.56 cannot handle).  TAP output.
 */
import { S3Client, PutObjectCommand, HeadObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { openDb, withTimeout } from './lib.mjs';

const connstr = process.argv[2];
let n = 0;
let failed = 0;
function ok(cond, name) {
  n++;
  if (!cond) failed++;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`);
}
const scheme = connstr.split(':')[0];
const T = 15000;

const db = await openDb(connstr);
const r = await db.createResource({ name: 'smoke', attributes: { name: 'string', n: 'number', s: 'secret' } });
const id = 'a b é 日本';
await withTimeout(r.insert({ id, name: 'x', n: 1.5, s: 'psst' }), T, 'insert');
const got = await r.get(id);
ok(got.name === 'x' && got.n === 1.5 && got.s === 'psst', `${scheme}: insert and get`);
let dup = null;
try {
  await withTimeout(r.insert({ id, name: 'dup', n: 2, s: 'x' }), T, 'duplicate insert');
} catch (e) {
  dup = e;
}
// FileSystem/Memory say "already exists", the S3 client "Precondition failed"
ok(dup && /already exists|Precondition failed/.test(dup.message), `${scheme}: duplicate insert rejected`);
ok((await r.get(id)).name === 'x', `${scheme}: duplicate insert changed nothing`);
await withTimeout(r.update(id, { n: -2 }), T, 'update');
ok((await r.get(id)).n === -2, `${scheme}: update`);
const t0 = Date.now();
await withTimeout(r.delete(id), T, 'delete');
const took = Date.now() - t0;
ok(took < 3000, `${scheme}: delete without retries (${took} ms)`);
ok(!(await r.exists(id)), `${scheme}: deleted record is gone`);
await db.disconnect();

if (scheme === 'http' || scheme === 'https') {
  const u = new URL(connstr);
  const bucket = u.pathname.split('/')[1];
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: u.origin,
    forcePathStyle: true,
    credentials: { accessKeyId: decodeURIComponent(u.username), secretAccessKey: decodeURIComponent(u.password) },
  });
  const Key = 'smoke/plain sdk=é';
  await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x', Metadata: { a: 'b' } }));
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key }));
  ok(head.Metadata.a === 'b', 'aws sdk: PutObject and HeadObject');
  const del = await client.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
  ok(del.$metadata.httpStatusCode === 204, 'aws sdk: DeleteObject answers 204');
  let gone = false;
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key }));
  } catch (e) {
    gone = e.$metadata?.httpStatusCode === 404;
  }
  ok(gone, 'aws sdk: deleted object is gone');
  client.destroy();
}
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
