import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = path.resolve(__dirname, '..', '..', '..');
const addon = path.join(repo, 'prebuilds', 'win32-x64', 'node.napi.node');

// The shipped binary itself: what Windows needs to load it, and that it loads in a Node host whose
// executable is not called node.exe.
describe('the prebuilt addon', () => {
  it('is a PE32+ DLL for x86-64 under prebuildify\'s Node-API name', async () => {
    const { stdout } = await run('x86_64-w64-mingw32-objdump', ['-p', addon]);
    assert.match(stdout, /file format pei-x86-64/);
    assert.match(stdout, /^Magic\s+020b\s+\(PE32\+\)/m);
    assert.match(stdout, /^Characteristics 0x[0-9a-f]+\n(?:\t.*\n)*\tDLL$/m, 'IMAGE_FILE_DLL');
  });

  it('imports only Windows system DLLs: no MinGW runtime (libstdc++, libgcc, libwinpthread)', async () => {
    const { stdout } = await run('x86_64-w64-mingw32-objdump', ['-p', addon]);
    const dlls = [...stdout.matchAll(/^\s*DLL Name: (\S+)/gm)].map((m) => m[1].toLowerCase()).sort();
    assert.deepEqual(dlls, ['kernel32.dll', 'msvcrt.dll', 'secur32.dll']);
    // Node-API comes from the host through the delay-load import library, not a static import.
    assert.ok(!dlls.includes('node.exe'));
  });

  it('loads in a renamed node.exe (the delay-load hook resolves Node-API from the host)', async () => {
    const { stdout: nodeExe } = await run('bash', ['scripts/wine-node.sh', '--path'], { cwd: repo });
    // Alone in its folder: no node.exe anywhere on the DLL search path for Windows to load instead.
    const dir = path.join(path.dirname(path.dirname(nodeExe.trim())), 'renamed-host');
    const renamed = path.join(dir, 'renamed-host.exe');
    if (!fs.existsSync(renamed)) {
      fs.mkdirSync(dir, { recursive: true });
      fs.copyFileSync(nodeExe.trim(), renamed);
    }
    const { stdout } = await run('bash', ['scripts/wine-node.sh', '-e',
      "const s = require('./dist/lib'); console.log(process.execPath.split(/[\\\\/]/).pop(), s.enumerateSecurityPackages().some((p) => p.Name === 'Negotiate'))"],
    { cwd: repo, env: { ...process.env, SSPI_WINE_EXE: renamed }, timeout: 120_000 });
    assert.equal(stdout.trim(), 'renamed-host.exe true');
  });
});
