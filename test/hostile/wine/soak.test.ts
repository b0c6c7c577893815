import { strict as assert } from 'node:assert';

import { ClientContext, ServerContext } from '../../../lib/context';
import { Credentials } from '../../../lib/credentials';
import { handshake } from '../../../lib/handshake';
import { handleFigures } from '../../../lib/raw';
import { testBed } from '../../support/env';

// Soak (issue 6, "The hostile-input suite"): many Kerberos handshakes in this process, and many contexts
// dropped without dispose() for the garbage collector's finalizers, with RSS held to a bound. Kerberos
// because it runs in-process under Wine (NTLM starts a Samba ntlm_auth process per context, ~100 ms).
// Sizes: 20,000 handshakes in npm test, 100,000 with SSPI_HOSTILE=full; 10,000 abandoned contexts of each
// kind. Needs --expose-gc (npm test passes it).
//
// The bounds are on RSS growth after a warm-up, measured with gc() before each reading. Measured under
// Wine 10 with node.exe 22 (2026-11-21, see RELIABILITY.md): after the warm-up RSS grew 1.1 MiB over
// 20,000 handshakes, 1.7 MiB over 10,000 abandoned context pairs, 4-55 MiB over 10,000 abandoned
// credentials after a 1,000 warm-up (V8's heap grows in steps: 4 MiB alone, up to 55 MiB after the other tests;
// flat after the step). What a leak costs, measured the same way: 10,000 client+server context pairs
// kept referenced +108 MiB (their memory is not returned to the system after dispose, only reused), 10,000
// credentials kept +90 MiB. So each bound (64 MiB) sits well above the noise and well below what leaking
// the contexts or credentials of the run would add (20,000 handshakes: ~200 MiB).
const FULL = process.env.SSPI_HOSTILE === 'full';
const HANDSHAKES = FULL ? 100_000 : 20_000;
const ABANDONED = 10_000;
const MiB = 2 ** 20;

declare const gc: (() => void) | undefined;

/** RSS after garbage collection, with the event loop turned between collections so that finalizers
 * Node-API defers to it run (and their DeleteSecurityContext / FreeCredentialsHandle with them). */
async function settledRss(): Promise<number> {
  for (let k = 0; k < 3; k++) {
    gc!();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().rss;
}

function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

describe('soak: Kerberos handshakes and abandoned contexts keep RSS bounded', function () {
  this.timeout(FULL ? 3_600_000 : 600_000);
  const bed = testBed();
  let clientCred: Credentials;
  let serverCred: Credentials;

  before(async function () {
    if (typeof gc !== 'function') throw new Error('the soak needs node --expose-gc (npm test passes it)');
    clientCred = await Credentials.acquire({ package: 'Kerberos' });
    serverCred = await Credentials.acquire({ package: 'Kerberos', use: 'inbound' });
  });

  after(() => {
    clientCred?.dispose();
    serverCred?.dispose();
  });

  async function oneHandshake(): Promise<void> {
    using client = new ClientContext(clientCred, { targetName: bed.spn });
    using server = new ServerContext(serverCred);
    const r = await handshake(client, server);
    assert.equal(r.server.code, 'SEC_E_OK');
  }

  it(`${HANDSHAKES} Kerberos handshakes (AP-REQ, AP-REP, both contexts disposed): RSS grows by less than 64 MiB after a warm-up`, async () => {
    for (let i = 0; i < 1000; i++) await oneHandshake();
    const warm = await settledRss();
    let peak = warm;
    for (let i = 0; i < HANDSHAKES; i++) {
      await oneHandshake();
      if (i % 2000 === 1999) peak = Math.max(peak, await settledRss());
    }
    const end = await settledRss();
    console.log(`      RSS after the warm-up ${mib(warm)}, highest ${mib(peak)}, at the end ${mib(end)} (growth ${mib(end - warm)})`);
    assert.ok(end - warm < 64 * MiB, `RSS grew by ${mib(end - warm)}`);
    assert.ok(peak - warm < 96 * MiB, `RSS peaked ${mib(peak - warm)} above the warm-up`);
  });

  it(`${ABANDONED} client contexts after their first step and ${ABANDONED} established server contexts, never disposed: the finalizers free them (RSS growth under 64 MiB)`, async () => {
    // Warm-up: the same work, so allocator pools and caches exist before the first reading.
    const abandonBatch = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const client = new ClientContext(clientCred, { targetName: bed.spn });
        const server = new ServerContext(serverCred);
        const apReq = (await client.step()).token;
        await server.step(apReq); // established; the client is left half-way (it never sees the AP-REP)
        // Both dropped here without dispose(): their CtxtHandles must be deleted by the finalizers.
      }
    };
    await abandonBatch(1000);
    const warm = await settledRss();
    let peak = warm;
    for (let done = 0; done < ABANDONED; done += 1000) {
      await abandonBatch(1000);
      peak = Math.max(peak, await settledRss());
    }
    const end = await settledRss();
    console.log(`      RSS after the warm-up ${mib(warm)}, highest ${mib(peak)}, at the end ${mib(end)} (growth ${mib(end - warm)})`);
    assert.ok(end - warm < 64 * MiB, `RSS grew by ${mib(end - warm)}`);
  });

  it(`${ABANDONED} credentials handles never disposed: the finalizers free them (RSS growth under 64 MiB)`, async () => {
    const batch = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) await Credentials.acquire({ package: 'Kerberos' });
    };
    // Warm-up of 5,000: V8's heap takes its steps within the first few thousand abandoned objects (measured
    // 2026-11-22: flat within 1.3 MiB from 5,000 to 40,000 abandoned credentials; a 1,000 warm-up left
    // 14-55 MiB of that step in the reading).
    await batch(5000);
    const warm = await settledRss();
    const live = handleFigures().credentials;
    for (let done = 0; done < ABANDONED; done += 1000) await batch(1000);
    const end = await settledRss();
    console.log(`      RSS after the warm-up ${mib(warm)}, at the end ${mib(end)} (growth ${mib(end - warm)})`);
    // Exactly: every handle the finalizers were given was freed (the count of live CredHandles is back).
    assert.ok(handleFigures().credentials <= live, `live credentials handles ${live} -> ${handleFigures().credentials}`);
    assert.ok(end - warm < 64 * MiB, `RSS grew by ${mib(end - warm)}`);
  });
});
