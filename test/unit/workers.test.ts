import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

import { ClientContext } from '../../lib/context';
import { Credentials } from '../../lib/credentials';

// The addon keeps its per-environment state (handle constructors) per environment, so it loads and
// works in worker threads alongside the main thread, and a worker's exit frees what it left behind.
describe('worker_threads', () => {
  it('four workers and the main thread use the addon at the same time', async () => {
    const lib = path.resolve(__dirname, '..', '..', 'lib');
    const source = `
      const { parentPort } = require('node:worker_threads');
      const { Credentials, ClientContext, enumerateSecurityPackages } = require(${JSON.stringify(lib)});
      (async () => {
        const names = enumerateSecurityPackages().map((p) => p.Name);
        const codes = [];
        for (let i = 0; i < 10; i++) {
          const cred = await Credentials.acquire({ package: 'NTLM' });
          const client = new ClientContext(cred);
          codes.push((await client.step()).code);
          client.dispose();
          cred.dispose();
        }
        // Left for the worker's teardown to free (finalizers of an exiting environment).
        new ClientContext(Credentials.acquireSync({ package: 'NTLM' })).stepSync();
        parentPort.postMessage({ hasNtlm: names.includes('NTLM'), codes: [...new Set(codes)] });
      })().catch((e) => parentPort.postMessage({ error: String(e) }));
    `;
    const run = (): Promise<unknown> => new Promise((resolve, reject) => {
      const w = new Worker(source, { eval: true });
      w.once('message', (m) => {
        w.once('exit', (code) => (code === 0 ? resolve(m) : reject(new Error(`worker exit ${code}`))));
      });
      w.once('error', reject);
    });
    const main = (async (): Promise<string> => {
      using cred = await Credentials.acquire({ package: 'NTLM' });
      using client = new ClientContext(cred);
      return (await client.step()).code;
    })();
    const results = await Promise.all([run(), run(), run(), run()]);
    for (const r of results) assert.deepEqual(r, { hasNtlm: true, codes: ['SEC_I_CONTINUE_NEEDED'] });
    assert.equal(await main, 'SEC_I_CONTINUE_NEEDED');
  });
});
