/**
 * Starts `sspi serve` in Windows node.exe under Wine (scripts/wine-node.sh) for the end-to-end
 * suite, and stops it.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';

export interface RunningServer {
  port: number;
  /** Everything the server printed so far. */
  output(): string;
  stop(): Promise<void>;
}

const repo = path.resolve(__dirname, '..', '..', '..');

export async function startServer(port: number, extraArgs: string[] = []): Promise<RunningServer> {
  const child: ChildProcess = spawn('bash', ['scripts/wine-node.sh', 'dist/lib/cli.js', 'serve', '--host', '127.0.0.1', '--port', String(port), ...extraArgs], {
    cwd: repo,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so stop() reaches wine and node.exe too
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s:\n${out}`)), 60_000);
    const poll = setInterval(() => {
      if (/listening on/.test(out)) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve();
      }
    }, 100);
    void exited.then(() => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`server exited:\n${out}`));
    });
  });

  return {
    port,
    output: () => out,
    stop: () => stopGroup(child, exited),
  };
}

/**
 * Ends a child started with `detached: true` together with its whole process group (wine-node.sh and
 * the node.exe it runs), then waits for `exited`. Nothing happens to a child that has already exited.
 */
export async function stopGroup(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode === null && child.pid) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  await exited;
}
