// The S3 server's raw request rate, the ceiling for every S3 workload: plain
// PUT, HEAD, GET, LIST (1,000-key pages) and DELETE of record-sized objects
// with 16 and with 48 requests in flight over keep-alive connections, unsigned (s3rver
// accepts anonymous requests), from a minimal node http client.  LIST, HEAD
// and GET run against a resource the benchmark loaded (PREFIX, its data/
// folder), since s3rver's LIST cost grows with the folder it lists.
//
//   node bench/raw.mjs http://127.0.0.1:PORT/BUCKET PREFIX [COUNT]
//
// Prints one JSON object: requests per second by kind.
import http from 'node:http';

const base = new URL(process.argv[2]);
const prefix = process.argv[3];
const count = Number(process.argv[4] || 1000);
// 16 in flight, and 48 (s3db_fdw's default max_inflight), twice each: the
// best is the ceiling (on a shared machine single measurements vary 2-3x)
const WIDTHS = [16, 48, 16, 48];
const agent = new http.Agent({ keepAlive: true, maxSockets: 48 });
const bucket = base.pathname.replace(/\/$/, '');

// what an s3db.js record looks like on the wire: fields in user metadata,
// an empty body
const meta = {
  'x-amz-meta-_v': '1', 'x-amz-meta-0': 'Benchmark Person 1234 Müller of the load test',
  'x-amz-meta-1': 'person1234@bench.example.com', 'x-amz-meta-2': '1q', 'x-amz-meta-3': '5.25',
  'x-amz-meta-4': '1', 'x-amz-meta-5': 'tag2|group4|benchmark', 'x-amz-meta-6': 'Berlin',
  'x-amz-meta-7': '2024-01-01T20:34:00.000Z',
};
for (const k of Object.keys(meta)) meta[k] = encodeURIComponent(meta[k]);

function request(method, path, headers = {}, body = null) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: base.hostname, port: base.port, method, path, agent,
      headers: { ...headers, 'content-length': body ? Buffer.byteLength(body) : 0 } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode >= 300) reject(new Error(`${method} ${path}: ${res.statusCode}`));
        else resolve(Buffer.concat(chunks).toString());
      });
    });
    req.on('error', reject);
    req.end(body || undefined);
  });
}

async function rate(n, fn) {
  let best = 0;
  for (const width of WIDTHS) {
    let next = 0;
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: width }, async () => {
      while (next < n) { const j = next++; await fn(j); }
    }));
    best = Math.max(best, n / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  return best;
}

// the records of a loaded resource: LIST its data prefix, HEAD and GET its
// records; then PUT and DELETE as many new record-sized objects
const listUrl = (token) => `${bucket}?list-type=2&prefix=${encodeURIComponent(prefix)}&max-keys=1000` +
  (token ? `&continuation-token=${encodeURIComponent(token)}` : '');
const out = {};
const keys = [];
{
  const t0 = process.hrtime.bigint();
  let pages = 0, token = null;
  do {
    const xml = await request('GET', listUrl(token));
    pages++;
    for (const m of xml.matchAll(/<Key>([^<]*)<\/Key>/g)) keys.push(m[1].replace(/&amp;/g, '&'));
    const m = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml);
    token = /<IsTruncated>true<\/IsTruncated>/.test(xml) && m ? m[1] : null;
  } while (token);
  out.LIST = pages / (Number(process.hrtime.bigint() - t0) / 1e9);
}
const path = (k) => `${bucket}/${k.split('/').map(encodeURIComponent).join('/')}`;
const n = Math.min(keys.length, count);
out.HEAD = await rate(n, (j) => request('HEAD', path(keys[j])));
out.GET = await rate(n, (j) => request('GET', path(keys[j])));
const key = (j) => `${bucket}/raw/resource=r/data/id=k${String(j).padStart(7, '0')}`;
// s3rver answers some concurrent DELETEs with 500 (it races removing empty
// directories); they count, as they cost the server the same
out.PUT = 0; out.DELETE = 0;
for (const width of WIDTHS) {
  const one = async (method) => {
    let next = 0;
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: width }, async () => {
      while (next < count) {
        const j = next++;
        await (method === 'PUT' ? request('PUT', key(j), meta) : request('DELETE', key(j)).catch(() => {}));
      }
    }));
    return count / (Number(process.hrtime.bigint() - t0) / 1e9);
  };
  out.PUT = Math.max(out.PUT, await one('PUT'));
  out.DELETE = Math.max(out.DELETE, await one('DELETE'));
}
out.keys = keys.length;
console.log(JSON.stringify(out));
agent.destroy();
