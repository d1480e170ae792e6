/*
 * readback.mjs CONNSTR RESOURCE... - prints, as JSON, what s3db.js 21.6.2
 * reads from a store for the given resources: {"<resource>": {"<id>":
 * get() view}} with the conventions of expected.json (lib.mjs): Dates as
 * ISO strings, Buffers as {"$bytes": base64}, s3db.js's "_" bookkeeping
 * members left out.  For checking stores written by other writers.
 */
import { openDb, recordView } from './lib.mjs';

const [connstr, ...names] = process.argv.slice(2);
if (!connstr || names.length === 0) {
  console.error('usage: readback.mjs CONNSTR RESOURCE...');
  process.exit(2);
}
const db = await openDb(connstr);
const out = {};
let status = 0;
for (const name of names) {
  const resource = db.resources[name];
  if (!resource) {
    console.error(`readback: no resource ${name}`);
    status = 1;
    continue;
  }
  out[name] = {};
  for (const id of [...await resource.listIds()].sort()) {
    out[name][id] = recordView(await resource.get(id));
  }
}
await db.disconnect();
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
process.exit(status);
