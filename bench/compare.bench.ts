/**
 * Side by side (`npm run bench`, inside Windows node.exe under Wine, the embedded domain): in-process
 * Kerberos handshakes (AP-REQ, AP-REP verified, both contexts deleted) per second, interleaved in rounds
 * so drift hits every contender alike; medians printed with ratios and the targets of issue 10.
 *
 * Contenders:
 * - floor: bench/floor.c, secur32 called directly from one C thread (built by scripts/bench.sh);
 * - node-expose-sspi 0.1.60 (from the npm registry, installed by scripts/bench.sh outside this package;
 *   its own synchronous API; its tarball ships the x64 binary);
 * - this library: the facade's stepSync, the raw layer (lib/raw, caller buffers), and the facade's
 *   asynchronous step with 1, 8 and 50 handshakes in flight (the SSPI call queue).
 * Then the event loop's delay (monitorEventLoopDelay, p50/p99/max) while 50 Kerberos handshakes run
 * at once: ours (asynchronous) and node-expose-sspi's (synchronous, so they block it).
 *
 * Arguments (from scripts/bench.sh): <floor.exe> <node-expose-sspi folder or ""> <output folder>.
 * SSPI_BENCH_SECONDS (default 2) per contender per round, SSPI_BENCH_ROUNDS (default 3).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';

import { SECBUFFER, SECURITY_DREP, SECURITY_STATUS } from '../lib/constants';
import { ClientContext, DEFAULT_ASC_REQ, DEFAULT_ISC_REQ, ServerContext } from '../lib/context';
import { Credentials } from '../lib/credentials';
import { handshake } from '../lib/handshake';
import * as raw from '../lib/raw';
import { testBed } from '../test/support/env';

const [floorExe, nesDir, outDir] = process.argv.slice(2);
const SECONDS = Number(process.env.SSPI_BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.SSPI_BENCH_ROUNDS ?? 3);

interface NesSspi {
  AcquireCredentialsHandle(input: { packageName: string; credentialUse?: string }): { credential: unknown };
  InitializeSecurityContext(input: { credential: unknown; targetName: string; cbMaxToken?: number; contextHandle?: unknown;
    SecBufferDesc?: { ulVersion: number; buffers: ArrayBuffer[] }; contextReq?: string[] }): { SECURITY_STATUS: string; contextHandle: unknown;
    SecBufferDesc: { ulVersion: number; buffers: ArrayBuffer[] } };
  AcceptSecurityContext(input: { credential: unknown; SecBufferDesc: { ulVersion: number; buffers: ArrayBuffer[] }; contextReq?: string[] }):
    { SECURITY_STATUS: string; contextHandle: unknown; SecBufferDesc: { ulVersion: number; buffers: ArrayBuffer[] } };
  DeleteSecurityContext(h: unknown): void;
}

/** Runs `fn` for `seconds` (or until it has run `parallel` workers that long); handshakes per second. */
async function rate(seconds: number, fn: () => Promise<void> | void, parallel = 1): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (performance.now() < end) {
      await fn();
      n++;
    }
  }));
  return n / ((performance.now() - start) / 1000);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const bed = testBed();
  const spn = bed.spn;
  const kc = await Credentials.acquire({ package: 'Kerberos' });
  const ks = await Credentials.acquire({ package: 'Kerberos', use: 'inbound' });
  const rc = raw.AcquireCredentialsHandle(null, 'Kerberos', 2 /* SECPKG_CRED_OUTBOUND */, null, null).credential!;
  const rs = raw.AcquireCredentialsHandle(null, 'Kerberos', 1 /* SECPKG_CRED_INBOUND */, null, null).credential!;

  let nes: NesSspi | undefined;
  if (nesDir) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    nes = (require(path.join(nesDir, 'lib', 'api.js')) as { sspi: NesSspi }).sspi;
  }
  const nesClient = nes?.AcquireCredentialsHandle({ packageName: 'Kerberos', credentialUse: 'SECPKG_CRED_OUTBOUND' }).credential;
  const nesServer = nes?.AcquireCredentialsHandle({ packageName: 'Kerberos', credentialUse: 'SECPKG_CRED_INBOUND' }).credential;
  // The same request flags as ours (DEFAULT_ISC_REQ / DEFAULT_ASC_REQ), by node-expose-sspi's names.
  const nesIsc = ['ISC_REQ_MUTUAL_AUTH', 'ISC_REQ_REPLAY_DETECT', 'ISC_REQ_SEQUENCE_DETECT', 'ISC_REQ_CONFIDENTIALITY', 'ISC_REQ_INTEGRITY', 'ISC_REQ_CONNECTION'];
  const nesAsc = ['ASC_REQ_REPLAY_DETECT', 'ASC_REQ_SEQUENCE_DETECT', 'ASC_REQ_CONFIDENTIALITY', 'ASC_REQ_INTEGRITY', 'ASC_REQ_CONNECTION'];
  const nesHandshake = (): void => {
    const c = nes!.InitializeSecurityContext({ credential: nesClient, targetName: spn, cbMaxToken: 12000, contextReq: nesIsc });
    const s = nes!.AcceptSecurityContext({ credential: nesServer, SecBufferDesc: c.SecBufferDesc, contextReq: nesAsc });
    const done = nes!.InitializeSecurityContext({ credential: nesClient, targetName: spn, cbMaxToken: 12000, contextHandle: c.contextHandle,
      SecBufferDesc: s.SecBufferDesc, contextReq: nesIsc });
    if (done.SECURITY_STATUS !== 'SEC_E_OK') throw new Error(`node-expose-sspi: ${done.SECURITY_STATUS}`);
    nes!.DeleteSecurityContext(c.contextHandle);
    nes!.DeleteSecurityContext(s.contextHandle);
  };

  const stepSync = (): void => {
    using c = new ClientContext(kc, { targetName: spn });
    using s = new ServerContext(ks);
    const t1 = c.stepSync();
    const t2 = s.stepSync(t1.token);
    if (!c.stepSync(t2.token).complete) throw new Error('not complete');
  };
  const rawMemory = [Buffer.alloc(12000), Buffer.alloc(12000), Buffer.alloc(12000)];
  const rawHandshake = (): void => {
    const c = raw.newCtxtHandle();
    const s = raw.newCtxtHandle();
    const out: raw.SecBufferDesc = [{ BufferType: SECBUFFER.TOKEN, cbBuffer: 12000, pvBuffer: rawMemory[0] }];
    raw.InitializeSecurityContext(rc, c, spn, DEFAULT_ISC_REQ, SECURITY_DREP.NATIVE, null, out);
    const reply: raw.SecBufferDesc = [{ BufferType: SECBUFFER.TOKEN, cbBuffer: 12000, pvBuffer: rawMemory[1] }];
    raw.AcceptSecurityContext(rs, s, [{ BufferType: SECBUFFER.TOKEN, pvBuffer: raw.bytesOf(out[0]) }], DEFAULT_ASC_REQ, SECURITY_DREP.NATIVE, reply);
    const last: raw.SecBufferDesc = [{ BufferType: SECBUFFER.TOKEN, cbBuffer: 12000, pvBuffer: rawMemory[2] }];
    const done = raw.InitializeSecurityContext(rc, c, spn, DEFAULT_ISC_REQ, SECURITY_DREP.NATIVE, [{ BufferType: SECBUFFER.TOKEN, pvBuffer: raw.bytesOf(reply[0]) }], last);
    if (done.status !== SECURITY_STATUS.SEC_E_OK) throw new Error(`raw: 0x${done.status.toString(16)}`);
    raw.DeleteSecurityContext(c);
    raw.DeleteSecurityContext(s);
  };
  const asyncHandshake = async (): Promise<void> => {
    using c = new ClientContext(kc, { targetName: spn });
    using s = new ServerContext(ks);
    await handshake(c, s);
  };
  const floor = (): number => {
    const out = path.join(outDir, 'floor.out');
    execFileSync(floorExe, [spn, String(SECONDS), out], { stdio: 'ignore' });
    const [n, elapsed] = fs.readFileSync(out, 'utf8').trim().split(' ').map(Number);
    return n / elapsed;
  };

  const contenders: [string, () => Promise<number> | number][] = [
    ['C floor (secur32 directly, one thread)', floor],
    ...(nes ? [['node-expose-sspi 0.1.60 (sync)', () => rate(SECONDS, nesHandshake)]] as [string, () => Promise<number>][] : []),
    ['ours: stepSync', () => rate(SECONDS, stepSync)],
    ['ours: raw layer (sync, caller buffers)', () => rate(SECONDS, rawHandshake)],
    ['ours: async, 1 in flight', () => rate(SECONDS, asyncHandshake, 1)],
    ['ours: async, 8 in flight', () => rate(SECONDS, asyncHandshake, 8)],
    ['ours: async, 50 in flight', () => rate(SECONDS, asyncHandshake, 50)],
  ];
  // Warm-up: one short pass of each (tickets cached, code paths compiled).
  for (const [, run] of contenders) await run();
  const figures = new Map<string, number[]>(contenders.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of contenders) figures.get(name)!.push(await run());
  }

  const floorRate = median(figures.get(contenders[0][0])!);
  const nesRate = nes ? median(figures.get('node-expose-sspi 0.1.60 (sync)')!) : undefined;
  const targets: Record<string, string> = {
    'ours: async, 8 in flight': '>= 1.0x floor, >= 1.7x node-expose-sspi',
    'ours: stepSync': '>= 0.95x floor, >= 1.7x node-expose-sspi',
    'ours: raw layer (sync, caller buffers)': '>= 0.95x floor, >= 1.7x node-expose-sspi',
  };
  const rows: string[] = [];
  rows.push(`Kerberos in-process handshakes per second, median of ${ROUNDS} interleaved rounds of ${SECONDS} s`);
  rows.push('');
  rows.push('| contender | handshakes/s | x floor | x node-expose-sspi | target |');
  rows.push('|---|---:|---:|---:|---|');
  for (const [name] of contenders) {
    const r = median(figures.get(name)!);
    rows.push(`| ${name} | ${r.toFixed(0)} | ${(r / floorRate).toFixed(2)} | ${nesRate ? (r / nesRate).toFixed(2) : '-'} | ${targets[name] ?? ''} |`);
  }

  // The event loop while 50 Kerberos handshakes run at once.
  const delay = async (label: string, work: () => Promise<void>): Promise<string> => {
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const ticker = setInterval(() => undefined, 1);
    const until = performance.now() + SECONDS * 1000;
    while (performance.now() < until) await work();
    clearInterval(ticker);
    h.disable();
    const ms = (ns: number): string => (ns / 1e6).toFixed(1);
    return `| ${label} | ${ms(h.percentile(50))} | ${ms(h.percentile(99))} | ${ms(h.max)} | p99 < 10 ms, max < 20 ms |`;
  };
  rows.push('');
  rows.push('Event-loop delay (monitorEventLoopDelay, ms) while batches of 50 Kerberos handshakes run');
  rows.push('');
  rows.push('| contender | p50 | p99 | max | target |');
  rows.push('|---|---:|---:|---:|---|');
  rows.push(await delay('ours: 50 asynchronous handshakes at once', async () => {
    await Promise.all(Array.from({ length: 50 }, asyncHandshake));
  }));
  if (nes) {
    rows.push(await delay('node-expose-sspi: 50 handshakes (synchronous)', async () => {
      for (let i = 0; i < 50; i++) nesHandshake();
      await new Promise((r) => setImmediate(r));
    }));
  }
  const text = `${rows.join('\n')}\n`;
  fs.writeFileSync(path.join(outDir, 'compare.md'), text);
  kc.dispose();
  ks.dispose();
  raw.FreeCredentialsHandle(rc);
  raw.FreeCredentialsHandle(rs);
}

main().catch((e: unknown) => {
  fs.writeFileSync(path.join(outDir, 'compare.md'), `failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
