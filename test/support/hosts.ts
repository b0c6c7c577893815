/**
 * Preloaded (`node --require`) into the README snippets' node.exe processes by test/unit/readme.test.ts:
 * the test bed has no DNS for its service host (`www.sspi.test`, which lives on 127.0.0.1; the Linux
 * clients use `curl --resolve` for the same reason), so this answers `dns.lookup` for that one name
 * as a hosts-file entry would, and passes every other name to the real lookup. With it a snippet's
 * URL can name the service host, and the SPN the client derives from the URL (`HTTP/<host>`) is the
 * domain's, exactly as on a machine whose DNS knows the host.
 *
 * The name comes from SSPI_TEST_HOST (set by the runner).
 */
import type { LookupOptions } from 'node:dns';

// The module object itself (net.connect reads its `lookup` at each call), not an import copy.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dns = require('node:dns') as typeof import('node:dns');

const host = process.env.SSPI_TEST_HOST?.toLowerCase();
const real = dns.lookup;

function lookup(hostname: string, options: unknown, callback?: unknown): void {
  const cb = (typeof options === 'function' ? options : callback) as (err: Error | null, address: unknown, family?: number) => void;
  const opts = (typeof options === 'object' && options !== null ? options : typeof options === 'number' ? { family: options } : {}) as LookupOptions;
  if (host && hostname.toLowerCase() === host) {
    if (opts.all) process.nextTick(cb, null, [{ address: '127.0.0.1', family: 4 }]);
    else process.nextTick(cb, null, '127.0.0.1', 4);
    return;
  }
  (real as (h: string, o: unknown, c: unknown) => void)(hostname, opts, cb);
}

(dns as { lookup: typeof dns.lookup }).lookup = lookup as typeof dns.lookup;
