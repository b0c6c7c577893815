/**
 * What every part of bench/compare.bench.ts shares: the settings, the timed loop, medians and ratios,
 * the C floor (bench/floor.c) as a child process, node-expose-sspi's API shape, and the table writer.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';

import type { PeerRequest } from './peer';

/** Seconds per contender per round (SSPI_BENCH_SECONDS, default 2). */
export const SECONDS = Number(process.env.SSPI_BENCH_SECONDS ?? 2);
/** Interleaved rounds (SSPI_BENCH_ROUNDS, default 3). */
export const ROUNDS = Number(process.env.SSPI_BENCH_ROUNDS ?? 3);

/** What one timed run measured. */
export interface Rate {
  /** Operations per second. */
  perSecond: number;
  /** Operations done. */
  count: number;
  /** With `latency`: each operation's milliseconds, in the order they ended. */
  latencies?: number[];
}

/**
 * Runs `fn` in `parallel` workers until `seconds` have passed (each worker finishes the operation it
 * started) or, with `maxCount`, until that many operations have been started; operations per second,
 * and with `latency` each operation's duration.
 */
export async function rate(seconds: number, fn: () => Promise<void> | void, parallel = 1, maxCount = Infinity, latency = false): Promise<Rate> {
  const end = performance.now() + seconds * 1000;
  let started = 0;
  let n = 0;
  const latencies: number[] | undefined = latency ? [] : undefined;
  const start = performance.now();
  await Promise.all(Array.from({ length: parallel }, async () => {
    let t = performance.now();
    while (t < end && started < maxCount) {
      started++;
      await fn();
      n++;
      const now = performance.now();
      latencies?.push(now - t);
      t = now;
    }
  }));
  return { perSecond: n / ((performance.now() - start) / 1000), count: n, ...(latencies ? { latencies } : {}) };
}

/** The event loop's delay while `work` runs again and again for about `seconds`. */
export interface LoopDelay {
  /** monitorEventLoopDelay's percentiles and maximum (1 ms resolution), in ms. */
  p50: number;
  p99: number;
  max: number;
  /** How many times `work` ran, and in how many seconds. */
  runs: number;
  elapsed: number;
}

/**
 * Runs `work` again and again for about `seconds` with monitorEventLoopDelay enabled (and a 1 ms
 * interval, so the loop is sampled even while idle); throws what `work` throws.
 */
export async function eventLoopDelay(seconds: number, work: () => Promise<void>): Promise<LoopDelay> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const ticker = setInterval(() => undefined, 1);
  const start = performance.now();
  let runs = 0;
  try {
    while (performance.now() < start + seconds * 1000) {
      await work();
      runs++;
    }
  } finally {
    clearInterval(ticker);
    h.disable();
  }
  return { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6, runs, elapsed: (performance.now() - start) / 1000 };
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A figure with digits that suit its size. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return '-';
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** A ratio, or '-' when either side is missing. */
export function ratio(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined || !(b > 0) ? '-' : (a / b).toFixed(2);
}

/** The message of a failure, on one line (for a table cell). */
export function reason(e: unknown): string {
  const text = e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e);
  return text.replace(/\s+/g, ' ').replace(/\|/g, '/').slice(0, 300);
}

/**
 * A contender of one table: `run` measures it once (one round). A contender whose run throws is
 * marked failed with the reason and not run again; the others go on.
 */
export interface Contender<T> {
  name: string;
  run: () => Promise<T> | T;
  /** Run once before the rounds (tickets cached, code paths compiled); none: no warm-up. */
  warm?: () => Promise<unknown> | unknown;
}

/**
 * Runs every contender once per round, in the same order each round (after each one's warm-up),
 * so drift hits all alike; returns each contender's figures or its failure.
 */
export async function interleave<T>(contenders: Contender<T>[], rounds: number):
  Promise<Map<string, { figures: T[]; failed?: string }>> {
  const results = new Map<string, { figures: T[]; failed?: string }>(contenders.map((c) => [c.name, { figures: [] }]));
  const attempt = async (c: Contender<T>, fn: () => Promise<unknown> | unknown, keep: boolean): Promise<void> => {
    const r = results.get(c.name)!;
    if (r.failed) return;
    try {
      const v = await fn();
      if (keep) r.figures.push(v as T);
    } catch (e) {
      r.failed = reason(e);
    }
  };
  for (const c of contenders) if (c.warm) await attempt(c, c.warm, false);
  for (let round = 0; round < rounds; round++) {
    for (const c of contenders) await attempt(c, c.run, true);
  }
  return results;
}

/** The bench's output file (compare.md): each part appends its table as soon as it is done. */
export class Report {
  constructor(private readonly file: string) {
    fs.writeFileSync(file, '');
  }

  /** Appends `lines` (a table, its title and notes) and a blank line. */
  add(lines: string[]): void {
    fs.appendFileSync(this.file, `${lines.join('\n')}\n\n`);
  }
}

/**
 * Runs a part of the bench; when it throws, its title and "failed: <reason>" go in the report and the
 * next part runs.
 */
export async function part(report: Report, title: string, fn: () => Promise<string[]>): Promise<void> {
  const start = performance.now();
  try {
    report.add(await fn());
  } catch (e) {
    report.add([title, '', `failed: ${reason(e)}`]);
  }
  console.log(`bench: ${title.split('\n')[0].slice(0, 70)} (${((performance.now() - start) / 1000).toFixed(0)} s)`);
}

/** The C floor (bench/floor.c), run as a child process that writes its figures to a file. */
export class Floor {
  constructor(readonly exe: string, private readonly dir: string) {}

  /** Runs floor.exe with the arguments `args(output file)` (environment `env` added); the lines it wrote. */
  run(args: (out: string) => string[], env: Record<string, string> = {}): string[] {
    const out = path.join(this.dir, `floor-${process.pid}.out`);
    fs.rmSync(out, { force: true });
    const argv = args(out);
    try {
      execFileSync(this.exe, argv, { stdio: 'ignore', env: { ...process.env, ...env } });
    } catch (e) {
      const status = (e as { status?: number | null }).status;
      throw new Error(`floor.exe ${argv[0]} failed (${typeof status === 'number' ? `exit ${status}` : reason(e)}; run it by hand for its stderr)`);
    }
    const lines = fs.readFileSync(out, 'utf8').trim().split(/\r?\n/);
    fs.rmSync(out, { force: true });
    return lines;
  }

  /** Handshakes of `pkg` for `seconds` (floor.exe handshake); `target` '-' for none. */
  handshakes(pkg: string, seconds: number, target: string, env: Record<string, string> = {}): Rate & { medianMs: number; slowestMs: number } {
    const [n, elapsed, medianMs, slowestMs] = this.run((out) => ['handshake', pkg, String(seconds), out, target], env)[0].split(' ').map(Number);
    return { perSecond: n / elapsed, count: n, medianMs, slowestMs };
  }
}

/** The part of node-expose-sspi 0.1.60's API the bench uses (its lib/sspi.d.ts). */
export interface NesSecBufferDesc {
  ulVersion: number;
  buffers: ArrayBuffer[];
}
export interface NesContextResult {
  SECURITY_STATUS: string;
  contextHandle: unknown;
  SecBufferDesc: NesSecBufferDesc;
}
export interface NesSspi {
  AcquireCredentialsHandle(input: { packageName: string; credentialUse?: string; authData?: { user: string; password: string; domain: string } }):
    { credential: unknown };
  InitializeSecurityContext(input: { credential: unknown; targetName: string; cbMaxToken?: number; contextHandle?: unknown;
    SecBufferDesc?: NesSecBufferDesc; contextReq?: string[] }): NesContextResult;
  AcceptSecurityContext(input: { credential: unknown; SecBufferDesc: NesSecBufferDesc; contextHandle?: unknown; contextReq?: string[] }): NesContextResult;
  DeleteSecurityContext(h: unknown): void;
  FreeCredentialsHandle(h: unknown): void;
}

/**
 * node-expose-sspi, each figure measured in a node.exe of its own (bench/peer.ts, which says why: in a
 * shared process it fragments Wine's heap and slows everything measured after it). Runs are synchronous
 * child processes, like the floor's.
 */
export class NesPeer {
  /** @param dir - node-expose-sspi's folder; @param outDir - where the request and result files go. */
  constructor(readonly dir: string, private readonly outDir: string) {
    if (!fs.existsSync(path.join(dir, 'lib', 'api.js'))) throw new Error(`no node-expose-sspi in ${dir}`);
  }

  private run<T>(request: PeerRequest, identity?: { user: string; domain: string; password: string }): T {
    const requestFile = path.join(this.outDir, `peer-${process.pid}.json`);
    const resultFile = path.join(this.outDir, `peer-${process.pid}.out`);
    fs.writeFileSync(requestFile, JSON.stringify(request));
    fs.rmSync(resultFile, { force: true });
    const env = identity ? { SSPI_PEER_USER: identity.user, SSPI_PEER_DOMAIN: identity.domain, SSPI_PEER_PASSWORD: identity.password } : {};
    try {
      execFileSync(process.execPath, [path.join(__dirname, 'peer.js'), this.dir, requestFile, resultFile], { stdio: 'ignore', env: { ...process.env, ...env } });
    } catch {
      // The result file says why (an error entry), or its absence does.
    }
    let result: T & { error?: string };
    try {
      result = JSON.parse(fs.readFileSync(resultFile, 'utf8')) as T & { error?: string };
    } catch {
      throw new Error('the node-expose-sspi process wrote no result');
    } finally {
      fs.rmSync(requestFile, { force: true });
      fs.rmSync(resultFile, { force: true });
    }
    if (result.error !== undefined) throw new Error(result.error);
    return result;
  }

  /** Handshakes per second (with each one's ms) in a fresh process, after `warm` seconds there. */
  handshakes(pkg: PeerRequest['package'], target: string | undefined, seconds: number, warm: number, maxCount?: number,
    identity?: { user: string; domain: string; password: string }): Rate {
    return this.run<Rate>({ mode: 'handshakes', package: pkg, target: target ?? '', seconds, warm, ...(maxCount !== undefined ? { maxCount } : {}) }, identity);
  }

  /** The event loop's delay while batches of 50 synchronous Kerberos handshakes run, in a fresh process. */
  eventLoop(target: string, seconds: number, warm: number): LoopDelay {
    return this.run<LoopDelay>({ mode: 'eventloop', package: 'Kerberos', target, seconds, warm });
  }
}

/** node-expose-sspi's sspi object from its folder (scripts/bench.sh installs it), or undefined: only bench/peer.ts loads it. */
export function loadNes(dir: string | undefined): NesSspi | undefined {
  if (!dir) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(path.join(dir, 'lib', 'api.js')) as { sspi: NesSspi }).sspi;
}

/** The library's DEFAULT_ISC_REQ / DEFAULT_ASC_REQ by node-expose-sspi's names. */
export const NES_ISC = ['ISC_REQ_MUTUAL_AUTH', 'ISC_REQ_REPLAY_DETECT', 'ISC_REQ_SEQUENCE_DETECT', 'ISC_REQ_CONFIDENTIALITY', 'ISC_REQ_INTEGRITY',
  'ISC_REQ_CONNECTION'];
export const NES_ASC = ['ASC_REQ_REPLAY_DETECT', 'ASC_REQ_SEQUENCE_DETECT', 'ASC_REQ_CONFIDENTIALITY', 'ASC_REQ_INTEGRITY', 'ASC_REQ_CONNECTION'];
