import { strict as assert } from 'node:assert';
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { testBed } from '../support/env';
import { packAndInstall } from './pack';

const run = promisify(execFile);
const repo = path.resolve(__dirname, '..', '..', '..');
const lines = (JSON.parse(fs.readFileSync(path.join(repo, 'scripts', 'node-lines.json'), 'utf8')) as { compat: string[] }).compat;
const PORT = Number(process.env.SSPI_COMPAT_PORT ?? 18180);

interface Check<T> {
  ok?: T;
  error?: string;
  code?: string;
}

interface Handshake {
  client: string;
  server: string;
  legs: number;
}

/** What test/compat/probe.js printed after its `report ` prefix. */
interface Report {
  version: string;
  arch: string;
  packageDir: string;
  addon: string;
  packages: Check<string[]>;
  kerberos: Check<Handshake>;
  ntlm: Check<Handshake>;
  fetchKerberos: Check<FetchResult>;
  fetchNtlm: Check<FetchResult>;
}

/** A global-fetch POST through NegotiateAgent, as the probe's server answered it. */
interface FetchResult {
  status: number;
  body: { scheme: string; package: string; node: string; arch: string; body?: string };
}

/** The value of a probe check, or an assertion error that carries the probe's own error. */
function ok<T>(c: Check<T>, what: string): T {
  assert.equal(c.error, undefined, `${what}: ${c.error} (${c.code ?? 'no SSPI status'})`);
  return c.ok as T;
}

// The package as users get it: `npm pack` (both prebuilds), installed with `npm install <tarball>` into an
// empty folder, then loaded by `require('sspi')` in each Windows Node line of scripts/node-lines.json
// (official node.exe builds from the npm registry, x64 and ia32) under Wine 10, against the domain.
describe('compatibility: the packed tarball on every Windows Node line', function () {
  const bed = testBed();
  // One folder per clone: several clones may share a state folder (SSPI_STATE_DIR).
  const dir = path.join(bed.stateDir, 'compat', createHash('sha256').update(repo).digest('hex').slice(0, 8));
  const app = path.join(dir, 'app');
  let tarball: string;
  let files: string[];

  before(async () => {
    ({ tarball, files } = await packAndInstall(repo, dir, app, 'compat-app'));
    fs.copyFileSync(path.join(repo, 'test', 'compat', 'probe.js'), path.join(app, 'probe.js'));
  });

  it('npm pack ships the win32-x64 and win32-ia32 prebuilds, the compiled library, and no tests', () => {
    for (const f of ['prebuilds/win32-x64/node.napi.node', 'prebuilds/win32-ia32/node.napi.node', 'dist/lib/index.js', 'dist/lib/index.d.ts']) {
      assert.ok(files.includes(f), `${f} missing from ${path.basename(tarball)}`);
    }
    assert.deepEqual(files.filter((f) => f.startsWith('dist/test/') || f.startsWith('test/')), []);
  });

  // Issue 7: "The generated type declarations compile under `tsc --strict` in a consumer project".
  // The installed tarball, both entry points ('sspi', 'sspi/raw'), from CommonJS and from an ES module,
  // compiled by the repository's TypeScript with --strict; then the ES module entry points loaded by
  // Linux Node (loading does not touch the native addon) to check that the named exports exist.
  it('a TypeScript consumer compiles against the declarations under --strict (CommonJS and ESM), and ESM named imports load', async () => {
    const consumer = path.join(dir, 'consumer');
    fs.rmSync(consumer, { recursive: true, force: true });
    fs.mkdirSync(consumer, { recursive: true });
    fs.symlinkSync(path.join(app, 'node_modules'), path.join(consumer, 'node_modules'), 'dir');
    fs.writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    fs.writeFileSync(path.join(consumer, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module: 'node16', moduleResolution: 'node16', lib: ['ES2022', 'ESNext.Disposable'], types: ['node'], typeRoots: [path.join(repo, 'node_modules', '@types')] },
      files: ['cjs.ts', 'esm.mts'],
    }));
    const body = [
      'async function main(): Promise<void> {',
      "  const options: AcquireCredentialsOptions = { package: 'Negotiate', use: 'outbound' };",
      '  using cred = await Credentials.acquire(options);',
      "  using client = new ClientContext(cred, { targetName: 'HTTP/host.example.com', requirements: { mutualAuthentication: true, protectionLevel: 'sign' } });",
      '  const r: StepResult = await client.step(undefined, { outputBuffers: [{ BufferType: SECBUFFER.ALERT, cbBuffer: 1024 }] });',
      '  const extra: number | undefined = r.extraBytes;',
      '  const out: raw.SecBufferDesc = [{ BufferType: SECBUFFER.TOKEN, cbBuffer: 12000 }];',
      "  const res: raw.SecurityContextResult = raw.InitializeSecurityContext(cred.handle, client.handle, null, ISC_REQ.CONNECTION, SECURITY_DREP.NATIVE, null, out);",
      '  const status: number = res.status;',
      '  report(undefined, extra, status);',
      '}',
      'function report(e: unknown, extra: number | undefined, status: number): void {',
      "  if (e instanceof SspiError && e.code === 'SEC_E_LOGON_DENIED') console.log(e.missingBytes, e.output?.length, extra, status);",
      "  if (e instanceof RequirementError && e.code === 'ERR_SSPI_PACKAGE_NOT_ALLOWED') console.log(e.contextAttr);",
      '}',
      'void main();',
    ];
    fs.writeFileSync(path.join(consumer, 'cjs.ts'), [
      "import { AcquireCredentialsOptions, ClientContext, Credentials, ISC_REQ, RequirementError, SECBUFFER, SECURITY_DREP, SspiError, StepResult } from 'sspi';",
      "import * as raw from 'sspi/raw';",
      ...body,
    ].join('\n'));
    fs.writeFileSync(path.join(consumer, 'esm.mts'), [
      "import { ClientContext, Credentials, ISC_REQ, RequirementError, SECBUFFER, SECURITY_DREP, SspiError } from 'sspi';",
      "import type { AcquireCredentialsOptions, StepResult } from 'sspi';",
      "import * as raw from 'sspi/raw';",
      ...body,
    ].join('\n'));
    const tsc = path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '-p', consumer]).catch((e: { stdout?: string }) => assert.fail(`tsc --strict failed:\n${e.stdout}`));
    // A type error must fail this check: the same consumer with one wrong argument.
    fs.writeFileSync(path.join(consumer, 'cjs.ts'), "import * as raw from 'sspi/raw';\nraw.InitializeSecurityContext(null, raw.newCtxtHandle(), 5, 0, 0, null, null);\n");
    const failed = await run(process.execPath, [tsc, '-p', consumer]).then(() => assert.fail('a wrong argument type compiled'), (e: { stdout?: string }) => e);
    assert.match(String(failed.stdout), /error TS2345/);
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', [
      "import { Credentials, ClientContext, SECBUFFER } from 'sspi';",
      "import { InitializeSecurityContextAsync, AcceptSecurityContext, bytesOf } from 'sspi/raw';",
      "import sspi from 'sspi';",
      'console.log([Credentials, ClientContext, InitializeSecurityContextAsync, AcceptSecurityContext, bytesOf].map((f) => typeof f).join(), SECBUFFER.TOKEN, sspi.Credentials === Credentials);',
    ].join('\n')], { cwd: consumer });
    assert.equal(stdout.trim(), 'function,function,function,function,function 2 true');
  });

  for (const [i, line] of lines.entries()) {
    const [, arch, version] = /^win-(x64|x86)@(.+)$/.exec(line)!;
    const nodeArch = arch === 'x86' ? 'ia32' : 'x64';

    describe(`Windows node.exe ${version} ${nodeArch} (node-win-${arch}@${version})`, () => {
      const port = PORT + i;
      let child: ChildProcess;
      let output = '';
      let report: Report;

      before(async () => {
        child = spawn('bash', [path.join(repo, 'scripts', 'wine-node.sh'), 'probe.js'], {
          cwd: app,
          env: { ...process.env, SSPI_NODE: line, SSPI_COMPAT_PORT: String(port) },
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true, // its own process group, so after() reaches wine and node.exe too
        });
        child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
        child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
        const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`probe exited (${code}):\n${output}`))));
        const listening = new Promise<void>((resolve) => {
          const poll = setInterval(() => {
            if (/listening on \d+/.test(output)) {
              clearInterval(poll);
              resolve();
            }
          }, 100);
          child.once('exit', () => clearInterval(poll));
        });
        await Promise.race([listening, exited]);
        exited.catch(() => undefined); // after() ends it on purpose
        const printed = /^report (.*)$/m.exec(output);
        assert.ok(printed, `the probe printed no report:\n${output}`);
        report = JSON.parse(printed[1]) as Report;
      });

      after(async () => {
        if (child?.exitCode === null && child.pid) {
          const gone = new Promise((resolve) => child.once('exit', resolve));
          process.kill(-child.pid, 'SIGTERM');
          await gone;
        }
      });

      it(`runs node ${version} (${nodeArch}) and loads prebuilds/win32-${nodeArch} from the installed package`, () => {
        assert.equal(report.version, `v${version}`);
        assert.equal(report.arch, nodeArch);
        assert.equal(report.addon, `prebuilds/win32-${nodeArch}/node.napi.node`);
        // Wine shows the Linux path on drive Z:.
        assert.equal(report.packageDir.replace(/\\/g, '/').replace(/^[A-Z]:/, ''), path.join(app, 'node_modules', 'sspi'));
      });

      it('lists Negotiate, Kerberos and NTLM (EnumerateSecurityPackages)', () => {
        const names = ok(report.packages, 'enumerateSecurityPackages');
        for (const want of ['Negotiate', 'Kerberos', 'NTLM']) assert.ok(names.includes(want), `${want} not in ${names.join(', ')}`);
      });

      it('Kerberos: AP-REQ and AP-REP reach SEC_E_OK on both sides', () => {
        assert.deepEqual(ok(report.kerberos, 'Kerberos handshake'), { client: 'SEC_E_OK', server: 'SEC_E_OK', legs: 2 });
      });

      it('NTLM as the non-ASCII user: three legs reach SEC_E_OK on both sides', () => {
        assert.deepEqual(ok(report.ntlm, 'NTLM handshake'), { client: 'SEC_E_OK', server: 'SEC_E_OK', legs: 3 });
      });

      it('Node\'s global fetch with a NegotiateAgent dispatcher: a POST by Kerberos (Negotiate) and by NTLM, body replayed', () => {
        // Each line's fetch is its own bundled undici: 6 (Node 20, 22), 7 (Node 24), 8 (Node 26: the
        // controller handler shape, lib/http/handler.ts).
        const expected = (scheme: string, pkg: string): FetchResult =>
          ({ status: 200, body: { scheme, package: pkg, node: `v${version}`, arch: nodeArch, body: 'probe body' } });
        assert.deepEqual(ok(report.fetchKerberos, 'global fetch, Negotiate'), expected('Negotiate', 'Kerberos'));
        assert.deepEqual(ok(report.fetchNtlm, 'global fetch, NTLM'), expected('NTLM', 'NTLM'));
      });

      it('curl --negotiate (Kerberos) gets 200 from its IntegratedAuthenticator', async () => {
        const { stdout } = await run('curl', ['-sS', '--negotiate', '-u', ':', '--resolve', `${bed.host}:${port}:127.0.0.1`,
          '-w', '\n%{http_code}', `http://${bed.host}:${port}/`], { timeout: 60_000 });
        const [body, status] = stdout.trimEnd().split('\n');
        assert.equal(status, '200', stdout);
        assert.deepEqual(JSON.parse(body), { scheme: 'Negotiate', package: 'Kerberos', node: `v${version}`, arch: nodeArch });
      });
    });
  }
});
