import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The packed tarball and the paths it holds (relative to its package/ folder). */
export interface Packed {
  tarball: string;
  files: string[];
}

/**
 * The package as users get it: `npm pack` of the repository into `dir` (emptied first), then
 * `npm install <tarball>` into the empty folder `app` (inside `dir`) as the project `name`.
 * --ignore-scripts: `npm test` built everything already (prepack would compile the TypeScript again).
 */
export async function packAndInstall(repo: string, dir: string, app: string, name: string): Promise<Packed> {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(app, { recursive: true });
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: repo });
  const packed = (JSON.parse(stdout) as { filename: string; files: { path: string }[] }[])[0];
  const tarball = path.join(dir, packed.filename);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name, private: true }));
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: app });
  return { tarball, files: packed.files.map((f) => f.path) };
}
