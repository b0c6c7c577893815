/**
 * Handshake throughput (`npm run bench`, inside Windows node.exe): figures and ratios, no pass/fail.
 *
 * - Kerberos in-process handshakes (ticket cache + keytab), synchronous steps vs asynchronous steps
 *   (the addon's SSPI call queue), and asynchronous with 4 handshakes in flight;
 * - NTLM handshakes with explicit credentials (under Wine each one runs Samba's ntlm_auth helpers);
 * - the marshalling floor: QueryContextAttributes(SECPKG_ATTR_SIZES) calls per second;
 * - libuv's pool while the SSPI call queue is saturated: fs.promises.readFile latency with 32 slow
 *   NTLM steps waiting (before the queue, these reads waited behind every SSPI call).
 */
import * as fs from 'node:fs';

import { ClientContext, ServerContext } from '../lib/context';
import { Credentials } from '../lib/credentials';
import { handshake } from '../lib/handshake';
import { testBed } from '../test/support/env';

async function rate(label: string, seconds: number, run: () => Promise<void> | void, parallel = 1): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      await run();
      n++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: parallel }, worker));
  const perSecond = n / ((performance.now() - start) / 1000);
  console.log(`${label.padEnd(58)} ${perSecond.toFixed(1).padStart(10)} /s  (${n} in ${seconds} s)`);
  return perSecond;
}

/** Mean milliseconds of `n` sequential fs.promises.readFile calls (each several libuv-pool requests). */
async function readLatency(n: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < n; i++) await fs.promises.readFile(__filename);
  return (performance.now() - start) / n;
}

async function main(): Promise<void> {
  const bed = testBed();
  const kc = await Credentials.acquire({ package: 'Kerberos' });
  const ks = await Credentials.acquire({ package: 'Kerberos', use: 'inbound' });

  const syncKerberos = (): void => {
    using c = new ClientContext(kc, { targetName: bed.spn });
    using s = new ServerContext(ks);
    const t1 = c.stepSync();
    const t2 = s.stepSync(t1.token);
    c.stepSync(t2.token);
  };
  const asyncKerberos = async (): Promise<void> => {
    using c = new ClientContext(kc, { targetName: bed.spn });
    using s = new ServerContext(ks);
    await handshake(c, s);
  };
  const user = bed.users[0];
  const nc = await Credentials.acquire({ package: 'NTLM', identity: { user: user.name, domain: bed.domain, password: user.password } });
  const ns = await Credentials.acquire({ package: 'NTLM', use: 'inbound' });
  const asyncNtlm = async (): Promise<void> => {
    using c = new ClientContext(nc);
    using s = new ServerContext(ns);
    await handshake(c, s);
  };

  const seconds = Number(process.env.SSPI_BENCH_SECONDS ?? 3);
  console.log(`sspi bench: ${seconds} s per figure, ${process.platform} node ${process.version}`);
  const ks1 = await rate('Kerberos handshake, sync steps', seconds, syncKerberos);
  const ka1 = await rate('Kerberos handshake, async steps', seconds, asyncKerberos);
  const ka4 = await rate('Kerberos handshake, async steps, 4 in flight', seconds, asyncKerberos, 4);
  const na1 = await rate('NTLM handshake (explicit credentials), async steps', seconds, asyncNtlm);

  using established = new ClientContext(kc, { targetName: bed.spn });
  using server = new ServerContext(ks);
  await handshake(established, server);
  const q = await rate('QueryContextAttributes(SECPKG_ATTR_SIZES)', seconds, () => { established.sizes(); });

  // libuv's pool stays free while SSPI calls wait on their own queue.
  const negotiate = (() => {
    using c = new ClientContext(nc);
    return c.stepSync().token!;
  })();
  const idleRead = await readLatency(20);
  const slow = Array.from({ length: 32 }, async () => {
    using s = new ServerContext(ns);
    await s.step(negotiate);
  });
  const busyRead = await readLatency(20);
  await Promise.all(slow);
  console.log(`${'fs.promises.readFile, idle / 32 NTLM steps queued (ms)'.padEnd(58)} ${idleRead.toFixed(2).padStart(10)} / ${busyRead.toFixed(2)}`);

  console.log('ratios:');
  console.log(`  async / sync Kerberos handshakes             ${(ka1 / ks1).toFixed(2)}`);
  console.log(`  4 in flight / 1 in flight (async Kerberos)   ${(ka4 / ka1).toFixed(2)}`);
  console.log(`  Kerberos / NTLM handshakes (async)           ${(ka1 / na1).toFixed(2)}`);
  console.log(`  attribute queries per Kerberos handshake     ${(q / ks1).toFixed(0)}`);
  for (const c of [kc, ks, nc, ns]) c.dispose();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
