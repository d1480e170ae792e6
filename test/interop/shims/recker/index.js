/*
 * recker 1.0.56 wraps every HTTP reply in `new Response(body, {status})`.
 * The fetch standard forbids a body for the statuses 101/204/205/304, so
 * that constructor throws for S3's "204 No Content" DeleteObject replies
 * and s3db.js retries each delete for seconds before failing.  Installing
 * this module makes the global Response constructor drop the (empty) body
 * for those statuses; everything else is recker 1.0.56 unchanged.
 */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);
const MARK = Symbol.for('s3db-fdw-interop.null-body-response');

if (typeof globalThis.Response === 'function' && !globalThis.Response[MARK]) {
  const Original = globalThis.Response;
  const patched = new Proxy(Original, {
    construct(target, args, newTarget) {
      const init = args[1];
      if (args[0] != null && init && NULL_BODY_STATUSES.has(Number(init.status))) {
        // drain (never destroy: undici reports that as an aborted request)
        const body = args[0];
        if (typeof body.resume === 'function') body.resume();
        else if (typeof body.cancel === 'function') body.cancel().catch(() => {});
        args = [null, ...args.slice(1)];
      }
      return Reflect.construct(target, args, newTarget === patched ? target : newTarget);
    },
    get(target, prop, receiver) {
      if (prop === MARK) return true;
      return Reflect.get(target, prop, receiver);
    },
  });
  globalThis.Response = patched;
}

export * from 'recker-upstream';

// s3db.js 21.6.2 also imports this name (for its reddb:// backend, which
// the tests never use); recker 1.0.56 predates it
export function createRedDbClient() {
  throw new Error('createRedDbClient is not available in recker 1.0.56');
}
