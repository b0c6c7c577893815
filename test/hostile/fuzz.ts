/**
 * Runs the seeded token fuzz (fuzz-child.ts) from Linux: batches of cases in child node.exe processes
 * under Wine (scripts/wine-node.sh), restarted after a crash at the case after the one that crashed,
 * each crash classified from Wine's trace (crash.ts). Used by fuzz.test.ts.
 */
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { classifyCrash, CrashReport, WINEDEBUG_CRASH } from './crash';
import type { ResultLine, Spec } from './fuzz-child';

export const repo = path.resolve(__dirname, '..', '..', '..');

/** One target of the fuzz and how many cases it runs. */
export interface Target {
  target: Spec['target'];
  package: Spec['package'];
  cases: number;
  /** Cases per child process (a crash restarts the batch after the crashed case). */
  batch: number;
}

export interface Crash extends CrashReport {
  /** The case index that was in flight, from the marker file (-1 if none was). */
  index: number;
  mutation: string;
  /** A file holding the exact token of the case. */
  tokenFile: string | null;
  exitStatus: number | null;
  /** The command lines that rerun the case: the exact bytes, and the same (seed, index) on a fresh corpus. */
  rerun: string[];
}

export interface FuzzReport {
  target: Spec['target'];
  package: Spec['package'];
  seed: number;
  cases: number;
  /** Cases that returned (not crashed), by outcome ('error:SEC_E_INVALID_TOKEN', 'continue', 'status:401', ...). */
  outcomes: Record<string, number>;
  /** Returned cases whose outcome the test refuses, with the case (at most 20 kept). */
  unexpected: { i: number; mutation: string; length: number; outcome: string }[];
  crashes: Crash[];
  /** The valid handshake each finished batch ran after its cases: 'SEC_E_OK in 2 legs', 'HTTP 200'. */
  valid: string[];
  /** Failures of a batch other than a crash in a case (a JavaScript error, no marker, no result). */
  errors: string[];
  /** The largest RSS a batch reported at its end (MiB). */
  maxRssMB: number;
  seconds: number;
}

/** The folder for result files, markers and crash tokens: under the shared state folder, per clone. */
export function workDir(): string {
  const state = process.env.SSPI_STATE_DIR ?? path.join(repo, '.state');
  const dir = path.join(state, `hostile-${crypto.createHash('sha256').update(repo).digest('hex').slice(0, 8)}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, "'\\''")}'`;
}

function rerunCommand(spec: Spec): string {
  const env = ['SSPI_STATE_DIR', 'KRB5CCNAME', 'SSPI_TEST_CONFIG'].map((k) => `${k}=${shellQuote(process.env[k] ?? '')}`).join(' ');
  return `cd ${shellQuote(repo)} && eval "$(bash scripts/domain.sh env)" && ${env} WINEDEBUG=${WINEDEBUG_CRASH} bash scripts/wine-node.sh dist/test/hostile/fuzz-child.js ${shellQuote(JSON.stringify(spec))}`;
}

/** Runs one child; resolves with its exit status and its Wine trace (stderr). */
function runChild(spec: Spec): Promise<{ status: number | null; trace: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['scripts/wine-node.sh', 'dist/test/hostile/fuzz-child.js', JSON.stringify(spec)], {
      cwd: repo,
      env: { ...process.env, WINEDEBUG: WINEDEBUG_CRASH },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    // Only the trace of the last exceptions matters; keep the module list (loaded early) and the tail.
    let head = '';
    let tail = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      if (head.length < 256 * 1024) head += d;
      else {
        tail += d;
        if (tail.length > 4 * 1024 * 1024) tail = tail.slice(-2 * 1024 * 1024);
      }
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, trace: head + tail }));
  });
}

function readLines(file: string): (ResultLine | { kind: 'fatal'; error: string })[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as ResultLine);
}

/**
 * Runs `t.cases` cases of one target with `seed`. `accept` says whether a returned case's outcome is
 * acceptable (the test's rule for the target).
 */
export async function fuzz(t: Target, seed: number, accept: (outcome: string, length: number) => boolean): Promise<FuzzReport> {
  const started = Date.now();
  const dir = workDir();
  const name = `${t.target}-${t.package}`;
  const report: FuzzReport = {
    target: t.target, package: t.package, seed, cases: 0, outcomes: {}, unexpected: [], crashes: [], valid: [], errors: [], maxRssMB: 0, seconds: 0,
  };
  let from = 0;
  let lastDone = false;
  // The last batch always runs, even empty: it ends with the valid handshake after everything before.
  while (from < t.cases || !lastDone) {
    const to = Math.min(t.cases, from + t.batch);
    lastDone = false;
    // Named by seed and by this process too: runs of several sizes may share the folder at once.
    const out = path.join(dir, `${name}-s${seed}-p${process.pid}-${from}.jsonl`);
    const spec: Spec = { target: t.target, package: t.package, seed, from, to, out };
    const { status, trace } = await runChild(spec);
    const lines = readLines(out);
    let marker: { i: number; mutation: string; token: string } | undefined;
    try {
      marker = JSON.parse(fs.readFileSync(`${out}.marker`, 'utf8')) as typeof marker;
    } catch {
      marker = undefined;
    }
    // What matters is now in memory (and in the report); crash tokens are kept below.
    fs.rmSync(out, { force: true });
    fs.rmSync(`${out}.marker`, { force: true });
    let last = from - 1;
    let done = false;
    for (const line of lines) {
      if (line.kind === 'case') {
        report.cases++;
        last = line.i;
        report.outcomes[line.outcome] = (report.outcomes[line.outcome] ?? 0) + 1;
        if (!accept(line.outcome, line.length) && report.unexpected.length < 20) report.unexpected.push(line);
      } else if (line.kind === 'done') {
        done = true;
        report.valid.push(line.valid);
        report.maxRssMB = Math.max(report.maxRssMB, line.rssMB);
      } else if (line.kind === 'fatal') {
        report.errors.push(`cases ${from}-${to}: ${line.error}`);
      }
    }
    if (done && status === 0) {
      lastDone = true;
      from = to;
      continue;
    }
    // The child died (or failed). Which case was in flight (the marker), and where did it fault?
    if (!marker || marker.i <= last) {
      report.errors.push(`cases ${from}-${to}: the child exited with status ${status} outside a case (after case ${last}); ` +
        `trace tail:\n${trace.split('\n').filter((l) => !/:trace:/.test(l)).slice(-15).join('\n')}`);
      if (from >= t.cases) break; // the closing batch itself failed: reported, not retried
      from = last + 1 > from ? last + 1 : to; // never loop on the same failure
      continue;
    }
    const tokenFile = path.join(dir, `crash-${name}-${seed}-${marker.i}.bin`);
    fs.writeFileSync(tokenFile, Buffer.from(marker.token, 'base64'));
    const verdict = classifyCrash(trace);
    report.crashes.push({
      ...verdict,
      index: marker.i,
      mutation: marker.mutation,
      tokenFile,
      exitStatus: status,
      rerun: [
        rerunCommand({ target: t.target, package: t.package, seed, from: marker.i, to: marker.i + 1, out: path.join(dir, 'rerun.jsonl'), tokenFile }),
        rerunCommand({ target: t.target, package: t.package, seed, from: marker.i, to: marker.i + 1, out: path.join(dir, 'rerun.jsonl') }),
      ],
    });
    from = marker.i + 1;
  }
  report.seconds = Math.round((Date.now() - started) / 1000);
  return report;
}

/** Runs `jobs` at a time, in order of the list. */
export async function pool<T>(jobs: (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, async () => {
    while (next < jobs.length) {
      const k = next++;
      results[k] = await jobs[k]();
    }
  }));
  return results;
}
