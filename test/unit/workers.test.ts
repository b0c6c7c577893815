import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

import { ClientContext, ServerContext } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { handshake } from '../../lib/handshake';
import { native } from '../../lib/native';
import { testBed } from '../support/env';

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

// Defect 1 (issue 6): ending a worker while its asynchronous SSPI calls are pending used to kill the
// whole process (the completion callback threw out of Node's async-work callback). A stopping
// environment's pending calls must end quietly, and the handles those calls acquired (a CredHandle
// from AcquireCredentialsHandle, the CtxtHandle a first InitializeSecurityContext /
// AcceptSecurityContext created) are freed by the addon, since no JavaScript object will ever own them.
describe('worker_threads ending with SSPI calls pending', () => {
  const bed = testBed();
  const lib = path.resolve(__dirname, '..', '..', 'lib');
  // Starts many calls of every kind that returns a handle (ACH; a first ISC for Kerberos and NTLM; a
  // first ASC for NTLM), none awaited, then tells the parent and ends as `how` says.
  const source = (how: 'terminate' | 'exit'): string => `
    const { parentPort } = require('node:worker_threads');
    const { Credentials, ClientContext, ServerContext } = require(${JSON.stringify(lib)});
    const bed = ${JSON.stringify({ spn: bed.spn, domain: bed.domain, user: bed.users[0] })};
    const ignore = () => {};
    const kc = Credentials.acquireSync({ package: 'Kerberos' });
    const nc = Credentials.acquireSync({ package: 'NTLM', identity: { user: bed.user.name, domain: bed.domain, password: bed.user.password } });
    const ns = Credentials.acquireSync({ package: 'NTLM', use: 'inbound' });
    const negotiate = new ClientContext(nc).stepSync().token;
    for (let i = 0; i < 16; i++) {
      Credentials.acquire({ package: i % 2 ? 'NTLM' : 'Kerberos' }).then(ignore, ignore);
      Credentials.acquire({ package: 'NTLM', identity: { user: bed.user.name, domain: bed.domain, password: bed.user.password } }).then(ignore, ignore);
      new ClientContext(kc, { targetName: bed.spn }).step().then(ignore, ignore);
      new ClientContext(nc).step().then(ignore, ignore);
      new ServerContext(ns).step(negotiate).then(ignore, ignore);
    }
    parentPort.postMessage('pending');
    ${how === 'exit' ? 'process.exit(3);' : ''}
  `;
  const runOnce = (how: 'terminate' | 'exit'): Promise<number> => new Promise((resolve, reject) => {
    const w = new Worker(source(how), { eval: true });
    w.once('error', reject);
    w.once('exit', resolve);
    w.once('message', () => {
      if (how === 'terminate') void w.terminate();
    });
  });

  for (const how of ['terminate', 'exit'] as const) {
    it(`${how === 'terminate' ? 'worker.terminate()' : 'process.exit() in the worker'} with Kerberos, NTLM and ACH calls pending: the process lives on`, async () => {
      const n = native();
      for (let round = 0; round < 5; round++) {
        const held = (): { credentials: number; contexts: number } => {
          const { credentials, contexts } = n.handleFigures();
          return { credentials, contexts };
        };
        const before = held();
        const code = await runOnce(how);
        assert.equal(code, how === 'terminate' ? 1 : 3, `round ${round}: the worker's exit code`);
        // Every handle the worker had (its CredHandle and CtxtHandle objects, finalized by its teardown;
        // the ones its cut-off calls acquired, freed by the addon) is released once the calls still on
        // the queue's threads end.
        while (n.queueFigures().queued + n.queueFigures().running > 0) await new Promise((resolve) => setTimeout(resolve, 5));
        assert.deepEqual(held(), before, `round ${round}: SSPI handles held by the addon`);
        // The main thread still works: a full Kerberos handshake, asynchronous.
        using kc = await Credentials.acquire({ package: 'Kerberos' });
        using ks = await Credentials.acquire({ package: 'Kerberos', use: 'inbound' });
        using client = new ClientContext(kc, { targetName: bed.spn });
        using server = new ServerContext(ks);
        const r = await handshake(client, server);
        assert.equal(r.server.code, 'SEC_E_OK');
      }
    });
  }
});
