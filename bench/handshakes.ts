/**
 * In-process handshakes per second for one package (Kerberos, Negotiate, NTLM), side by side:
 * the C floor, node-expose-sspi 0.1.60, and ours (stepSync, raw layer, async with N in flight).
 * One handshake: client InitializeSecurityContext and server AcceptSecurityContext in turn until both
 * say SEC_E_OK (Kerberos: AP-REQ, AP-REP verified; NTLM: NEGOTIATE, CHALLENGE, AUTHENTICATE), then
 * both contexts deleted.
 */

import { SECBUFFER, SECURITY_DREP, SECURITY_STATUS } from '../lib/constants';
import { ClientContext, DEFAULT_ASC_REQ, DEFAULT_ISC_REQ, ServerContext } from '../lib/context';
import { Credentials } from '../lib/credentials';
import { handshake } from '../lib/handshake';
import * as raw from '../lib/raw';
import { Contender, eventLoopDelay, Floor, fmt, interleave, LoopDelay, median, NesPeer, ratio, Rate, rate, ROUNDS } from './common';

/** What one package's table measures. */
export interface HandshakeSetup {
  package: 'Kerberos' | 'Negotiate' | 'NTLM';
  /** The SPN (Kerberos, Negotiate) or undefined (NTLM: no target, as the library's NTLM client). */
  target?: string;
  /** An explicit client identity (NTLM); else the logon's (the ticket cache). */
  identity?: { user: string; domain: string; password: string };
  /** Seconds per contender per round. */
  seconds: number;
  /** At most this many handshakes per contender per round (ours and node-expose-sspi's). */
  maxCount?: number;
  /** Async handshakes in flight to measure. */
  inFlight: number[];
  /** Target text by contender name. */
  targets: Record<string, string>;
  /** Lines printed under the title. */
  notes: string[];
}

/** The pair of credentials a table uses, and its handshake functions (also for the event-loop and RSS parts). */
export interface HandshakeKit {
  client: Credentials;
  server: Credentials;
  /** One handshake through the facade's async steps. */
  asyncHandshake: () => Promise<void>;
  dispose(): void;
}

const TOKEN = 12000;

/** A floor run's figures: its median and slowest handshake in ms (medians of rounds / slowest of all). */
type FloorRate = Rate & { floorMs?: [number, number] };

export async function handshakeKit(setup: HandshakeSetup): Promise<HandshakeKit> {
  const client = await Credentials.acquire({ package: setup.package, ...(setup.identity ? { identity: setup.identity } : {}) });
  const server = await Credentials.acquire({ package: setup.package, use: 'inbound' });
  const options = setup.target === undefined ? {} : { targetName: setup.target };
  return {
    client,
    server,
    asyncHandshake: async (): Promise<void> => {
      using c = new ClientContext(client, options);
      using s = new ServerContext(server);
      await handshake(c, s);
    },
    dispose(): void {
      client.dispose();
      server.dispose();
    },
  };
}

/** The table of one package: handshakes/s, x floor, x node-expose-sspi, target. */
export async function handshakeTable(setup: HandshakeSetup, floor: Floor | undefined, nes: NesPeer | undefined, kit: HandshakeKit): Promise<string[]> {
  const { client, server } = kit;
  const options = setup.target === undefined ? {} : { targetName: setup.target };
  const target = setup.target ?? null;
  const stepSync = (): void => {
    using c = new ClientContext(client, options);
    using s = new ServerContext(server);
    let r = c.stepSync();
    for (let leg = 0; r.token && leg < 10; leg++) {
      const sr = s.stepSync(r.token);
      if (!sr.token) break;
      r = c.stepSync(sr.token);
    }
    if (!c.complete || !s.complete) throw new Error('stepSync: not complete');
  };
  const memory = [Buffer.alloc(TOKEN), Buffer.alloc(TOKEN)];
  const rawHandshake = (): void => {
    const c = raw.newCtxtHandle();
    const s = raw.newCtxtHandle();
    try {
      let input: raw.SecBufferDesc | null = null;
      let cs = 0;
      let ss = 0;
      for (let leg = 0; leg < 10; leg++) {
        const out: raw.SecBufferDesc = [{ BufferType: SECBUFFER.TOKEN, cbBuffer: TOKEN, pvBuffer: memory[0] }];
        cs = raw.InitializeSecurityContext(client.handle, c, target, DEFAULT_ISC_REQ, SECURITY_DREP.NATIVE, input, out).status;
        if (cs !== SECURITY_STATUS.SEC_E_OK && cs !== SECURITY_STATUS.SEC_I_CONTINUE_NEEDED) throw new Error(`raw ISC: 0x${cs.toString(16)}`);
        if (!out[0].cbBuffer) break;
        const reply: raw.SecBufferDesc = [{ BufferType: SECBUFFER.TOKEN, cbBuffer: TOKEN, pvBuffer: memory[1] }];
        ss = raw.AcceptSecurityContext(server.handle, s, [{ BufferType: SECBUFFER.TOKEN, pvBuffer: raw.bytesOf(out[0]) }], DEFAULT_ASC_REQ,
          SECURITY_DREP.NATIVE, reply).status;
        if (ss !== SECURITY_STATUS.SEC_E_OK && ss !== SECURITY_STATUS.SEC_I_CONTINUE_NEEDED) throw new Error(`raw ASC: 0x${ss.toString(16)}`);
        if (!reply[0].cbBuffer) break;
        input = [{ BufferType: SECBUFFER.TOKEN, pvBuffer: raw.bytesOf(reply[0]) }];
      }
      if (cs !== SECURITY_STATUS.SEC_E_OK || ss !== SECURITY_STATUS.SEC_E_OK) throw new Error('raw: not complete');
    } finally {
      raw.DeleteSecurityContext(c);
      raw.DeleteSecurityContext(s);
    }
  };

  const floorEnv: Record<string, string> = setup.identity
    ? { SSPI_FLOOR_USER: setup.identity.user, SSPI_FLOOR_DOMAIN: setup.identity.domain, SSPI_FLOOR_PASSWORD: setup.identity.password }
    : {};
  const { seconds, maxCount } = setup;
  const timed = (fn: () => Promise<void> | void, parallel = 1) => async (): Promise<Rate> => rate(seconds, fn, parallel, maxCount, true);
  const contenders: Contender<FloorRate>[] = [];
  const FLOOR = 'C floor (secur32 directly, one thread)';
  const NES = 'node-expose-sspi 0.1.60 (sync)';
  // The floor reports its median and slowest handshake itself: kept as a two-value latency list.
  if (floor) {
    contenders.push({ name: FLOOR, run: () => {
      const f = floor.handshakes(setup.package, seconds, setup.target ?? '-', floorEnv);
      return { perSecond: f.perSecond, count: f.count, floorMs: [f.medianMs, f.slowestMs] };
    } });
  }
  // Warm-up: up to 0.5 s each (tickets cached, code paths compiled); the floor's runs are whole processes.
  const warm = (fn: () => Promise<void> | void, parallel = 1) => (): Promise<Rate> => rate(Math.min(0.5, seconds), fn, parallel, maxCount);
  // node-expose-sspi: a fresh node.exe per round (bench/peer.ts), which warms itself up.
  if (nes) contenders.push({ name: NES, run: () => nes.handshakes(setup.package, setup.target, seconds, Math.min(0.5, seconds), maxCount, setup.identity) });
  contenders.push({ name: 'ours: stepSync', run: timed(stepSync), warm: warm(stepSync) });
  contenders.push({ name: 'ours: raw layer (sync, caller buffers)', run: timed(rawHandshake), warm: warm(rawHandshake) });
  for (const n of setup.inFlight) {
    contenders.push({ name: `ours: async, ${n} in flight`, run: timed(kit.asyncHandshake, n), warm: warm(kit.asyncHandshake, n) });
  }

  const results = await interleave(contenders, ROUNDS);
  const med = (name: string): number | undefined => {
    const r = results.get(name);
    return r && !r.failed && r.figures.length ? median(r.figures.map((f) => f.perSecond)) : undefined;
  };
  const floorRate = med(FLOOR);
  const nesRate = med(NES);
  const lines = [
    `### ${setup.package} in-process handshakes per second`,
    '',
    ...setup.notes,
    '',
    '| contender | handshakes/s | x floor | x node-expose-sspi | handshakes per round | ms per handshake: median / slowest | target |',
    '|---|---:|---:|---:|---:|---:|---|',
  ];
  if (!floor) lines.push(`| ${FLOOR} | failed: floor.exe not built |  |  |  |  |  |`);
  if (!nes) lines.push(`| ${NES} | not installed |  |  |  |  |  |`);
  for (const c of contenders) {
    const r = results.get(c.name)!;
    if (r.failed) {
      lines.push(`| ${c.name} | failed: ${r.failed} |  |  |  |  | ${setup.targets[c.name] ?? ''} |`);
      continue;
    }
    const v = med(c.name)!;
    const counts = r.figures.map((f) => f.count).filter((n) => Number.isFinite(n));
    const latencies = r.figures.flatMap((f) => f.latencies ?? []);
    const floorMs = r.figures.map((f) => (f as FloorRate).floorMs).filter((x) => x !== undefined);
    const ms = latencies.length ? `${fmt(median(latencies))} / ${fmt(latencies.reduce((a, b) => Math.max(a, b), 0))}`
      : floorMs.length ? `${fmt(median(floorMs.map((x) => x[0])))} / ${fmt(Math.max(...floorMs.map((x) => x[1])))}` : '-';
    lines.push(`| ${c.name} | ${fmt(v)} | ${ratio(v, floorRate)} | ${ratio(v, nesRate)} | ${counts.length ? median(counts) : '-'} | ${ms} | ${setup.targets[c.name] ?? ''} |`);
  }
  return lines;
}

/** The event loop's delay (monitorEventLoopDelay, ms) while batches of 50 Kerberos handshakes run. */
export async function eventLoopTable(seconds: number, kit: HandshakeKit, nes: NesPeer | undefined, target: string): Promise<string[]> {
  const delay = async (label: string, measure: () => Promise<LoopDelay> | LoopDelay): Promise<string> => {
    try {
      const d = await measure();
      const ms = (x: number): string => x.toFixed(1);
      return `| ${label} | ${ms(d.p50)} | ${ms(d.p99)} | ${ms(d.max)} | p99 < 10 ms, max < 20 ms |`;
    } catch (e) {
      return `| ${label} | failed: ${(e as Error).message} |  |  |  |`;
    }
  };
  const lines = [
    '### Event-loop delay (monitorEventLoopDelay, ms) while batches of 50 Kerberos handshakes run',
    '',
    `${seconds} s each: ours asynchronous, 50 in flight; node-expose-sspi synchronous, 50 in a row, then one turn of the loop ` +
      '(in a node.exe of its own, after a warm-up there: bench/peer.ts).',
    '',
    '| contender | p50 | p99 | max | target |',
    '|---|---:|---:|---:|---|',
  ];
  lines.push(await delay('ours: 50 asynchronous handshakes at once', () => eventLoopDelay(seconds, async () => {
    await Promise.all(Array.from({ length: 50 }, kit.asyncHandshake));
  })));
  if (nes) lines.push(await delay('node-expose-sspi: 50 handshakes (synchronous)', () => nes.eventLoop(target, seconds, Math.min(0.5, seconds))));
  return lines;
}
