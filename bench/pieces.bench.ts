/**
 * Where the time goes (`npm run bench`, a fresh node.exe under Wine, the embedded domain): the pieces
 * BENCHMARKS.md's "Where the time goes" reasons from, measured apart so they can be checked again.
 *
 * 1. One Kerberos handshake call by call: InitializeSecurityContext (AP-REQ), AcceptSecurityContext,
 *    InitializeSecurityContext (AP-REP), both DeleteSecurityContext; the C floor (floor.exe calls) and the
 *    raw layer with caller buffers, each call timed the same way (mean microseconds).
 * 2. Marshalling alone: calls that return before a package does any work (an empty CtxtHandle, a NULL
 *    credential), so what they cost is argument parsing and result building.
 * 3. One hop through the SSPI call queue (an awaited call that returns at once), beside libuv's pool
 *    (fs.promises.stat) and a bare turn of the event loop (setImmediate).
 * 4. The event loop while 50 Kerberos handshakes run at once in this fresh process, with 4 (the default),
 *    2 and 1 queue threads (configureQueue).
 *
 * Arguments (from scripts/bench.sh): <floor.exe or ""> <output folder>. Prints markdown to stdout.
 * SSPI_BENCH_SECONDS (default 2) per figure.
 */
import * as fs from 'node:fs';

import { SECBUFFER, SECURITY_DREP, SECURITY_STATUS } from '../lib/constants';
import { ClientContext, DEFAULT_ASC_REQ, DEFAULT_ISC_REQ, ServerContext } from '../lib/context';
import { Credentials } from '../lib/credentials';
import { handshake } from '../lib/handshake';
import { configureQueue, queueFigures } from '../lib/queue';
import * as raw from '../lib/raw';
import { testBed } from '../test/support/env';
import { eventLoopDelay, Floor, fmt, rate, reason, SECONDS } from './common';

const [floorExe, outDir] = process.argv.slice(2);

/** Mean microseconds of `fn` over about `seconds` (in batches of 100, so the clock is read rarely). */
function microseconds(seconds: number, fn: () => unknown): number {
  let n = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
  }
  return ((performance.now() - start) * 1000) / n;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

async function main(): Promise<void> {
  const spn = testBed().spn;
  const rc = raw.AcquireCredentialsHandle(null, 'Kerberos', 2 /* SECPKG_CRED_OUTBOUND */, null, null).credential!;
  const rs = raw.AcquireCredentialsHandle(null, 'Kerberos', 1 /* SECPKG_CRED_INBOUND */, null, null).credential!;
  const out: string[] = ['### Where the time goes (bench/pieces.bench.ts, a fresh node.exe)', ''];

  // 1. Call by call.
  const memory = [Buffer.alloc(12000), Buffer.alloc(12000), Buffer.alloc(12000)];
  const spent = [0, 0, 0, 0];
  let handshakes = 0;
  const timedHandshake = (): void => {
    const c = raw.newCtxtHandle();
    const s = raw.newCtxtHandle();
    const t0 = performance.now();
    const first: raw.SecBufferDesc = [{ BufferType: SECBUFFER.TOKEN, cbBuffer: 12000, pvBuffer: memory[0] }];
    raw.InitializeSecurityContext(rc, c, spn, DEFAULT_ISC_REQ, SECURITY_DREP.NATIVE, null, first);
    const t1 = performance.now();
    const reply: raw.SecBufferDesc = [{ BufferType: SECBUFFER.TOKEN, cbBuffer: 12000, pvBuffer: memory[1] }];
    raw.AcceptSecurityContext(rs, s, [{ BufferType: SECBUFFER.TOKEN, pvBuffer: raw.bytesOf(first[0]) }], DEFAULT_ASC_REQ, SECURITY_DREP.NATIVE, reply);
    const t2 = performance.now();
    const last: raw.SecBufferDesc = [{ BufferType: SECBUFFER.TOKEN, cbBuffer: 12000, pvBuffer: memory[2] }];
    const done = raw.InitializeSecurityContext(rc, c, spn, DEFAULT_ISC_REQ, SECURITY_DREP.NATIVE, [{ BufferType: SECBUFFER.TOKEN, pvBuffer: raw.bytesOf(reply[0]) }], last);
    const t3 = performance.now();
    if (done.status !== SECURITY_STATUS.SEC_E_OK) throw new Error(`InitializeSecurityContext (AP-REP): 0x${done.status.toString(16)}`);
    raw.DeleteSecurityContext(c);
    raw.DeleteSecurityContext(s);
    const t4 = performance.now();
    spent[0] += t1 - t0;
    spent[1] += t2 - t1;
    spent[2] += t3 - t2;
    spent[3] += t4 - t3;
    handshakes++;
  };
  // Warm up, then a run that yields now and then (Node-API finalizers wait for a turn of the loop).
  for (let i = 0; i < 500; i++) timedHandshake();
  spent.fill(0);
  handshakes = 0;
  const until = performance.now() + SECONDS * 1000;
  while (performance.now() < until) {
    for (let i = 0; i < 200; i++) timedHandshake();
    await tick();
  }
  const ours = spent.map((ms) => (ms * 1000) / handshakes);
  let floorCalls: number[] | undefined;
  let floorNote = '';
  if (floorExe && fs.existsSync(floorExe)) {
    try {
      floorCalls = new Floor(floorExe, outDir).run((file) => ['calls', String(SECONDS), file, spn])[0].split(' ').map(Number).slice(1);
    } catch (e) {
      floorNote = ` (floor failed: ${reason(e)})`;
    }
  }
  const names = ['InitializeSecurityContext (AP-REQ)', 'AcceptSecurityContext', 'InitializeSecurityContext (AP-REP)', '2 x DeleteSecurityContext'];
  out.push(`One Kerberos handshake call by call, mean µs per call (${SECONDS} s each; the raw layer with caller buffers, ` +
    `timed around each call with performance.now())${floorNote}:`, '');
  out.push('| call | C floor | raw layer | difference |', '|---|---:|---:|---:|');
  names.forEach((name, i) => {
    const f = floorCalls?.[i];
    out.push(`| ${name} | ${f === undefined ? '-' : fmt(f)} | ${fmt(ours[i])} | ${f === undefined ? '-' : `+${fmt(ours[i] - f)}`} |`);
  });
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  out.push(`| handshake | ${floorCalls ? fmt(sum(floorCalls)) : '-'} | ${fmt(sum(ours))} | ${floorCalls ? `+${fmt(sum(ours) - sum(floorCalls))}` : '-'} |`, '');

  // 2. Marshalling alone.
  const empty = raw.newCtxtHandle();
  const token = Buffer.alloc(1500, 1);
  const output = Buffer.alloc(12000);
  const data = Buffer.alloc(64, 7);
  const signature = Buffer.alloc(64);
  const marshalling: [string, () => unknown][] = [
    ['QueryContextAttributes(SECPKG_ATTR_SIZES), an empty CtxtHandle', () => raw.QueryContextAttributes(empty, 0)],
    ['newCtxtHandle()', () => raw.newCtxtHandle()],
    ['InitializeSecurityContext, NULL credential, no buffers (incl. a newCtxtHandle)',
      () => raw.InitializeSecurityContext(null, raw.newCtxtHandle(), spn, DEFAULT_ISC_REQ, SECURITY_DREP.NATIVE, null, null)],
    ['... with a 1,500 B input token and a 12,000 B output buffer',
      () => raw.InitializeSecurityContext(null, raw.newCtxtHandle(), spn, DEFAULT_ISC_REQ, SECURITY_DREP.NATIVE,
        [{ BufferType: SECBUFFER.TOKEN, pvBuffer: token }], [{ BufferType: SECBUFFER.TOKEN, cbBuffer: 12000, pvBuffer: output }])],
    ['MakeSignature, DATA 64 B + TOKEN, an empty CtxtHandle',
      () => raw.MakeSignature(empty, 0, [{ BufferType: SECBUFFER.DATA, pvBuffer: data }, { BufferType: SECBUFFER.TOKEN, pvBuffer: signature }], 0)],
  ];
  out.push(`Marshalling alone: calls that return before any package work (mean µs per call, ${SECONDS} s each):`, '');
  out.push('| call | µs |', '|---|---:|');
  for (const [name, fn] of marshalling) {
    out.push(`| ${name} | ${fmt(microseconds(SECONDS, fn))} |`);
    await tick();
  }
  out.push('');

  // 3. One hop.
  const hops: [string, () => Promise<unknown>][] = [
    ['QueryContextAttributesAsync on an empty CtxtHandle (the SSPI call queue)', () => raw.QueryContextAttributesAsync(empty, 0)],
    ['fs.promises.stat (libuv\'s pool)', () => fs.promises.stat(__filename)],
    ['setImmediate (a turn of the event loop)', tick],
  ];
  out.push(`One hop, awaited one at a time (mean µs, ${SECONDS} s each):`, '');
  out.push('| hop | µs |', '|---|---:|');
  for (const [name, fn] of hops) out.push(`| ${name} | ${fmt(1e6 / (await rate(SECONDS, async () => { await fn(); })).perSecond)} |`);
  out.push('');

  // 4. The event loop with 50 handshakes at once, by queue threads.
  const kc = await Credentials.acquire({ package: 'Kerberos' });
  const ks = await Credentials.acquire({ package: 'Kerberos', use: 'inbound' });
  const one = async (): Promise<void> => {
    using c = new ClientContext(kc, { targetName: spn });
    using s = new ServerContext(ks);
    await handshake(c, s);
  };
  const threadsBefore = queueFigures().threads;
  out.push(`The event loop while batches of 50 Kerberos handshakes run at once (monitorEventLoopDelay, ms; ${SECONDS} s each), ` +
    'by the SSPI call queue\'s threads:', '');
  out.push('| queue threads | p50 | p99 | max | handshakes/s | target |', '|---:|---:|---:|---:|---:|---|');
  for (const threads of [4, 2, 1]) {
    configureQueue({ threads });
    await Promise.all(Array.from({ length: 50 }, one)); // warm-up with this thread count
    const d = await eventLoopDelay(SECONDS, async () => {
      await Promise.all(Array.from({ length: 50 }, one));
    });
    out.push(`| ${threads}${threads === threadsBefore ? ' (default)' : ''} | ${fmt(d.p50)} | ${fmt(d.p99)} | ${fmt(d.max)} | ${fmt((d.runs * 50) / d.elapsed)} | p99 < 10 ms, max < 20 ms |`);
  }
  configureQueue({ threads: threadsBefore });
  kc.dispose();
  ks.dispose();
  raw.FreeCredentialsHandle(rc);
  raw.FreeCredentialsHandle(rs);
  console.log(out.join('\n'));
}

main().catch((e: unknown) => {
  console.log(`### Where the time goes\n\nfailed: ${reason(e)}`);
  process.exitCode = 1;
});
