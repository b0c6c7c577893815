import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { testBed } from '../support/env';
import { packAndInstall } from './pack';

const run = promisify(execFile);
const repo = path.resolve(__dirname, '..', '..', '..');
const lines = (JSON.parse(fs.readFileSync(path.join(repo, 'scripts', 'node-lines.json'), 'utf8')) as { unit: string; compat: string[] });
const bin = (name: string): string => path.join(repo, 'node_modules', '.bin', name);

/** Runs a script in Windows node.exe (the given line) under Wine, in `cwd`; its output. */
async function wineNode(line: string, cwd: string, ...args: string[]): Promise<string> {
  const { stdout, stderr } = await run('bash', [path.join(repo, 'scripts', 'wine-node.sh'), ...args],
    { cwd, env: { ...process.env, SSPI_NODE: line }, timeout: 120_000 });
  return stdout + stderr;
}

/** The JSON a script printed after `prefix ` on a line of its own. */
function printed<T>(output: string, prefix: string): T {
  const m = new RegExp(`^${prefix} (.*)$`, 'm').exec(output);
  assert.ok(m, `no "${prefix}" line in:\n${output}`);
  return JSON.parse(m[1]) as T;
}

// The package as npm users install it (issue 10, "Packaging"): what the packed tarball holds, that
// installing it runs nothing, that its types and exports pass @arethetypeswrong/cli and publint, what
// an unsupported platform or architecture gets, and an esbuild bundle of an app that uses it.
describe('the published package: install, metadata, bundlers', function () {
  const bed = testBed();
  const dir = path.join(bed.stateDir, 'compat-package', createHash('sha256').update(repo).digest('hex').slice(0, 8));
  const app = path.join(dir, 'app');
  let tarball: string;
  let files: string[];
  let manifest: Record<string, unknown> & { scripts?: Record<string, string> };

  before(async () => {
    ({ tarball, files } = await packAndInstall(repo, dir, app, 'package-app'));
    manifest = JSON.parse(fs.readFileSync(path.join(app, 'node_modules', 'sspi', 'package.json'), 'utf8'));
  });

  it('installing it runs no script: no install hooks, gypfile false and no binding.gyp that npm, pnpm or yarn would build', () => {
    // npm's own verdict, which counts the `node-gyp rebuild` npm adds for a binding.gyp in the root.
    const lock = JSON.parse(fs.readFileSync(path.join(app, 'package-lock.json'), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };
    assert.equal(lock.packages['node_modules/sspi'].hasInstallScript, undefined, 'npm recorded an install script for sspi');
    for (const hook of ['preinstall', 'install', 'postinstall']) assert.equal(manifest.scripts?.[hook], undefined, `scripts.${hook}`);
    // npm honours "gypfile": false; pnpm and yarn look for binding.gyp alone, so none is shipped in the root.
    assert.equal(manifest.gypfile, false);
    assert.ok(!files.includes('binding.gyp'), 'binding.gyp in the package root: pnpm and yarn would run node-gyp rebuild');
    assert.ok(!fs.existsSync(path.join(app, 'node_modules', 'sspi', 'build')), 'something compiled into node_modules/sspi/build');
  });

  it('ships a LICENSE matching "license", CMakeLists.txt with its toolchain file, and the sources its source maps point at', () => {
    assert.equal(manifest.license, 'MIT');
    assert.equal(manifest.type, 'commonjs');
    assert.match(fs.readFileSync(path.join(app, 'node_modules', 'sspi', 'LICENSE'), 'utf8'), /^MIT License\n/);
    assert.ok(files.includes('CMakeLists.txt') && files.includes('cmake/mingw-w64.cmake'), 'CMakeLists.txt without cmake/mingw-w64.cmake');
    assert.ok(files.includes('src-native/addon.cc'));
    assert.ok(!files.includes('scripts/install.js'));
    const maps = files.filter((f) => f.endsWith('.map'));
    assert.ok(maps.length > 10, `only ${maps.length} source maps`);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources } = JSON.parse(fs.readFileSync(path.join(app, 'node_modules', 'sspi', map), 'utf8')) as { sources: string[] };
      for (const s of sources) {
        const target = path.posix.join(path.posix.dirname(map), s);
        if (!files.includes(target)) missing.push(`${map} -> ${target}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  it('declares @types/node as an optional peer, as its declarations import node: modules', () => {
    const dts = files.filter((f) => f.endsWith('.d.ts')).map((f) => fs.readFileSync(path.join(app, 'node_modules', 'sspi', f), 'utf8'));
    assert.ok(dts.some((t) => /from 'node:http'/.test(t)));
    assert.equal((manifest.peerDependencies as Record<string, string>)['@types/node'], '>=18');
    assert.deepEqual((manifest.peerDependenciesMeta as Record<string, unknown>)['@types/node'], { optional: true });
  });

  // Profile node16: node10 resolution (TypeScript's moduleResolution "node") ignores "exports", so the
  // subpaths 'sspi/raw' and 'sspi/fastify' cannot resolve there; every Node line we support has "exports".
  it('@arethetypeswrong/cli (profile node16) finds no problem in the tarball', async () => {
    const { stdout } = await run(bin('attw'), [tarball, '--profile', 'node16', '--format', 'json'], { maxBuffer: 64 << 20 })
      .catch((e: { stdout?: string }) => ({ stdout: String(e.stdout) }));
    const result = JSON.parse(stdout) as { analysis: { problems: unknown[]; entrypoints: Record<string, unknown> } };
    assert.deepEqual(Object.keys(result.analysis.entrypoints).sort(), ['.', './fastify', './package.json', './raw']);
    const node16 = result.analysis.problems.filter((p) => (p as { resolutionKind?: string }).resolutionKind !== 'node10');
    assert.deepEqual(node16, []);
  });

  it('publint --strict finds no error, warning or suggestion in the tarball', async () => {
    const { stdout, stderr } = await run(bin('publint'), ['run', tarball, '--strict', '--level', 'suggestion'])
      .catch((e: { stdout?: string; stderr?: string }) => assert.fail(`publint failed:\n${e.stdout}${e.stderr}`));
    assert.match(stdout + stderr, /All good!/);
  });

  // On Windows there is no bash and no MinGW: `npm pack` must not build the addons. Here its PATH holds
  // only node and npm (no bash, cmake, compilers); npm runs scripts with `sh -c` on Linux, so the script
  // shell is given as /bin/sh (dash here, as cmd.exe is on Windows: no bash features either).
  // It runs in a copy of the repository (its node_modules linked), so the suites' own dist/ is not rebuilt under them.
  it('npm pack runs a prepack that needs neither bash nor a compiler: tsc, the ES module faces, the prebuild check', async () => {
    const tools = path.join(dir, 'tools');
    fs.mkdirSync(tools, { recursive: true });
    for (const tool of ['node', 'npm']) fs.symlinkSync(fs.realpathSync(path.join(path.dirname(process.execPath), tool)), path.join(tools, tool));
    // Outside the repository: the state folder is inside it by default (a fresh clone's .state), and a
    // copy into a subdirectory of itself is refused (ERR_FS_CP_EINVAL).
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'sspi-pack-'));
    try {
      const skip = new Set(['node_modules', 'dist', 'build', '.git', '.state'].map((d) => path.join(repo, d)));
      fs.cpSync(repo, copy, { recursive: true, filter: (src) => !skip.has(src) });
      fs.symlinkSync(path.join(repo, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
      const env = { ...process.env, PATH: tools, npm_config_script_shell: '/bin/sh' };
      const { stdout, stderr } = await run(path.join(tools, 'npm'), ['pack', '--dry-run', '--json', '--foreground-scripts'], { cwd: copy, env, maxBuffer: 64 << 20 })
        .catch((e: { stdout?: string; stderr?: string }) => assert.fail(`npm pack failed without bash or a compiler:\n${e.stdout}${e.stderr}`));
      assert.match(stdout + stderr, /prebuilds\/win32-x64\/node\.napi\.node: machine 0x8664, DLL/);
      assert.match(stdout + stderr, /prebuilds\/win32-ia32\/node\.napi\.node: machine 0x14c, DLL/);
      const packed = JSON.parse(stdout.slice(stdout.indexOf('[\n'))) as { files: { path: string }[] }[];
      assert.ok(packed[0].files.some((f) => f.path === 'dist/lib/index.d.mts'));
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });

  it('on Linux, require works and the first SSPI call says SSPI exists only on Windows', async () => {
    const { stdout } = await run(process.execPath, ['-e', [
      "const sspi = require('sspi');",
      'try { sspi.enumerateSecurityPackages(); console.log("loaded"); } catch (e) { console.log(e.message); }',
    ].join('\n')], { cwd: app });
    assert.equal(stdout.trim(), 'sspi: SSPI (Secur32.dll) exists only on Windows; this is linux');
  });

  it('on a Windows architecture without a prebuild (ia32 with prebuilds/win32-ia32 removed), the first call names platform and architecture', async () => {
    const other = path.join(dir, 'noarch');
    fs.cpSync(path.join(app, 'node_modules'), path.join(other, 'node_modules'), { recursive: true });
    // A package scope of its own: without it the nearest package.json up the tree may be this repository's
    // (a clone's state folder is inside it), and require('sspi') would resolve to it by self-reference.
    fs.writeFileSync(path.join(other, 'package.json'), JSON.stringify({ name: 'noarch', private: true }));
    fs.rmSync(path.join(other, 'node_modules', 'sspi', 'prebuilds', 'win32-ia32'), { recursive: true });
    fs.writeFileSync(path.join(other, 'load.js'), [
      "const sspi = require('sspi');",
      'try { sspi.enumerateSecurityPackages(); console.log("result loaded"); }',
      'catch (e) { console.log("result " + JSON.stringify(e.message)); }',
    ].join('\n'));
    const x86 = lines.compat.find((l) => l.startsWith('win-x86@'))!;
    const message = printed<string>(await wineNode(x86, other, 'load.js'), 'result');
    // Ours, naming the architecture and how to build, then node-gyp-build's: it looked in prebuilds/
    // (and build/) and found nothing for this target.
    assert.match(message, /^sspi: no addon for win32-ia32 \(the package ships .*\); build one in .* with `npx cmake-js rebuild` .*: No native build was found for platform=win32 arch=ia32 runtime=node abi=\d+ uv=\d+ libc=glibc node=22\./);
  });

  // A bundle of an app that marks sspi external (its `require('sspi')` stays a runtime require of the
  // installed package, whose loader finds prebuilds/ beside it): the app's own modules are inlined.
  it('an esbuild bundle with sspi external runs in Windows node.exe, loading the installed package', async () => {
    const src = path.join(dir, 'bundle-src');
    fs.mkdirSync(src, { recursive: true });
    fs.writeFileSync(path.join(src, 'names.js'), 'module.exports = (list) => list.map((p) => p.Name).join(",");\n');
    fs.writeFileSync(path.join(src, 'main.js'), [
      "const sspi = require('sspi');",
      "const { bytesOf } = require('sspi/raw');",
      "const names = require('./names');",
      'console.log("bundle " + JSON.stringify({ arch: process.arch, names: names(sspi.enumerateSecurityPackages()), raw: typeof bytesOf }));',
    ].join('\n'));
    const outfile = path.join(app, 'out', 'bundle.js');
    await run(bin('esbuild'), [path.join(src, 'main.js'), '--bundle', '--platform=node', '--target=node18', '--format=cjs',
      '--external:sspi', '--external:sspi/*', `--outfile=${outfile}`, '--log-level=warning']);
    const text = fs.readFileSync(outfile, 'utf8');
    assert.match(text, /require\("sspi"\)/);
    assert.match(text, /\.map\(\(p\) => p\.Name\)/, 'names.js was not inlined');
    fs.rmSync(src, { recursive: true });
    const out = printed<{ arch: string; names: string; raw: string }>(await wineNode(lines.unit, app, path.join('out', 'bundle.js')), 'bundle');
    assert.equal(out.arch, 'x64');
    assert.equal(out.raw, 'function');
    for (const want of ['Negotiate', 'Kerberos', 'NTLM']) assert.ok(out.names.split(',').includes(want), `${want} not in ${out.names}`);
  });
});
