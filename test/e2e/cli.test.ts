import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = path.resolve(__dirname, '..', '..', '..');

// The `sspi` command in Windows node.exe (its serve command is exercised by http.test.ts).
describe('the sspi command', () => {
  it('`sspi packages --json` lists what EnumerateSecurityPackages returns', async () => {
    const { stdout } = await run('bash', ['scripts/wine-node.sh', 'dist/lib/cli.js', 'packages', '--json'], { cwd: repo });
    const packages = JSON.parse(stdout) as { Name: string; cbMaxToken: number }[];
    const byName = new Map(packages.map((p) => [p.Name, p.cbMaxToken]));
    for (const name of ['Negotiate', 'Kerberos', 'NTLM']) assert.ok((byName.get(name) ?? 0) > 0, `${name} in ${stdout}`);
  });

  it('a bad option value exits 1 with a message naming it', async () => {
    await assert.rejects(run('bash', ['scripts/wine-node.sh', 'dist/lib/cli.js', 'serve', '--port', '99999'], { cwd: repo }), (e: unknown) => {
      const err = e as { code: number; stderr: string };
      assert.equal(err.code, 1);
      assert.match(err.stderr, /option '--port <port>' argument '99999' is invalid/);
      return true;
    });
    await assert.rejects(run('bash', ['scripts/wine-node.sh', 'dist/lib/cli.js', 'serve', '--schemes', 'Basic'], { cwd: repo }), /argument 'Basic' is invalid/);
  });
});
