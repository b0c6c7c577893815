/**
 * Running the `sspi` command (lib/cli.ts) in a child of this very node.exe, as the Windows-side CLI
 * suites do (test/unit/cli.test.ts under Wine, test/windows/cli.test.ts on Microsoft's secur32).
 *
 * The command is dist/lib/cli.js next to these compiled tests: in the repository
 * (dist/test/support -> dist/lib) and in the Windows workflow's installed package alike
 * (node_modules/sspi/dist/test/support -> node_modules/sspi/dist/lib, the package's `bin`).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The `sspi` command's script (package.json `bin.sspi`: dist/lib/cli.js). */
export const CLI = path.resolve(__dirname, '..', '..', 'lib', 'cli.js');

/** One run of the command: its exit code, what it wrote, and the folder it ran in (its cwd). */
export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  dir: string;
}

/** `sspi fetch --json`'s output (lib/cli/fetch.ts). */
export interface FetchJson {
  status: number;
  headers: Record<string, string>;
  authentication: { scheme: string; package: string; legs: number; complete: boolean; mutualAuthVerified: boolean } | null;
  body?: { encoding: string; data: string };
  output?: string;
  bodyBytes?: number;
}

/**
 * The `sspi` command in a child node.exe (process.execPath), asynchronously so this process's
 * server answers it, in a new temporary folder (its cwd, returned as `dir`). Its stdout and stderr
 * go to files: node.exe under Wine cannot write to a pipe. `env` entries set to undefined are
 * removed from the child's environment. The child is killed after 50 s.
 */
export async function sspi(args: string[], env: Record<string, string | undefined> = {}): Promise<Ran> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sspi-cli-'));
  const out = fs.openSync(path.join(dir, 'stdout'), 'w');
  const err = fs.openSync(path.join(dir, 'stderr'), 'w');
  try {
    const childEnv: NodeJS.ProcessEnv = { ...process.env };
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete childEnv[k];
      else childEnv[k] = v;
    }
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', out, err], env: childEnv, cwd: dir });
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => child.kill(), 50_000);
      child.on('error', reject);
      child.on('exit', (c) => { clearTimeout(timer); resolve(c); });
    });
    // node.exe's OpenSSL under Wine warns that it cannot load the Linux CA bundle: not the CLI's output.
    const stderr = fs.readFileSync(path.join(dir, 'stderr'), 'utf8').replace(/^Warning: Ignoring extra certs from .*\r?\n/m, '');
    return { code, stdout: fs.readFileSync(path.join(dir, 'stdout'), 'utf8'), stderr, dir };
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
  }
}

/**
 * {@link sspi} for a suite: `run` removes SSPI_PASSWORD from the child's environment unless `env`
 * sets it (so no run sees a password by accident) and remembers each run's folder; `cleanup`
 * (in `after`) removes those folders and any added with `keep`.
 */
export function cliRunner(): {
  run: (args: string[], env?: Record<string, string | undefined>) => Promise<Ran>;
  keep: (dir: string) => void;
  cleanup: () => void;
} {
  const dirs: string[] = [];
  return {
    run: async (args, env = {}) => {
      const r = await sspi(args, { SSPI_PASSWORD: undefined, ...env });
      dirs.push(r.dir);
      return r;
    },
    keep: (dir) => { dirs.push(dir); },
    cleanup: () => {
      for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
    },
  };
}
