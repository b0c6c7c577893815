/**
 * Channel bindings with a real peer: MIT GSSAPI (python3-gssapi, test/e2e/bindings_client.py) as the
 * Kerberos initiator with gssapi.raw.ChannelBindings, against a Kerberos ServerContext in Windows
 * node.exe under Wine that passes SEC_CHANNEL_BINDINGS (lib/bindings.ts) to AcceptSecurityContext.
 *
 * The certificates are made here by Linux `openssl`; the client computes tls-server-end-point from
 * the PEM with Python's hashlib, the server with lib/bindings.ts, and the test compares the two.
 *
 * This file is also the server: run by node.exe as `bindings.test.js --serve PORT` it answers
 * POST {token, bindings?: base64 SEC_CHANNEL_BINDINGS, certificate?: PEM} with
 * {code, token?, applicationData?} from ServerContext('Kerberos').step(token, { channelBindings }).
 */
import { strict as assert } from 'node:assert';
import { ChildProcess, execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { channelBindings, parseChannelBindings, tlsServerEndPointBindings } from '../../lib/bindings';
import { ServerContext } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { SspiError } from '../../lib/errors';
import { testBed } from '../support/env';

const run = promisify(execFile);
const repo = path.resolve(__dirname, '..', '..', '..');
const CLIENT = path.join(repo, 'test', 'e2e', 'bindings_client.py');
/** Beside the HTTP suite's server (SSPI_E2E_PORT), never on it. */
const PORT = Number(process.env.SSPI_E2E_PORT ?? 18080) + 3;

/** The server, in node.exe. */
async function serve(port: number): Promise<void> {
  const cred = await Credentials.acquire({ package: 'Kerberos', use: 'inbound' });
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => { body += d; });
    req.on('end', () => {
      void (async () => {
        const answer: Record<string, unknown> = {};
        try {
          const q = JSON.parse(body) as { token: string; bindings?: string; certificate?: string };
          let bindings: Buffer | undefined;
          if (q.bindings) bindings = Buffer.from(q.bindings, 'base64');
          if (q.certificate) bindings = tlsServerEndPointBindings(q.certificate);
          if (bindings) answer.applicationData = parseChannelBindings(bindings).applicationData.toString('base64');
          using context = new ServerContext(cred, bindings ? { channelBindings: bindings } : {});
          const r = await context.step(Buffer.from(q.token, 'base64'));
          Object.assign(answer, { code: r.code, token: r.token?.toString('base64') });
        } catch (e) {
          Object.assign(answer, e instanceof SspiError ? { code: e.code } : { error: String(e) });
        }
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer));
      })();
    });
  });
  server.listen(port, '127.0.0.1', () => console.log(`bindings server listening on ${port}`));
}

if (require.main === module) {
  const i = process.argv.indexOf('--serve');
  void serve(Number(process.argv[i + 1]));
} else {
  describe('channel bindings end to end: MIT GSSAPI initiator, Kerberos AcceptSecurityContext in node.exe', function () {
    let child: ChildProcess;
    let out = '';
    let dir: string;
    const certs: Record<string, string> = {};
    const bed = testBed();

    before(async function () {
      this.timeout(120_000);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sspi-bindings-'));
      // RSA with SHA-256 and ECDSA P-384 with SHA-384: the two hashes RFC 5929 section 4.1 gives them.
      for (const [name, args] of [['rsa-sha256', ['-newkey', 'rsa:2048', '-sha256']], ['ecdsa-sha384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-sha384']]] as const) {
        certs[name] = path.join(dir, `${name}.pem`);
        await run('openssl', ['req', '-x509', ...args, '-nodes', '-keyout', path.join(dir, `${name}.key`), '-out', certs[name], '-subj', '/CN=localhost', '-days', '1']);
      }
      child = spawn('bash', ['scripts/wine-node.sh', 'dist/test/e2e/bindings.test.js', '--serve', String(PORT)], {
        cwd: repo, env: process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
      });
      child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
      child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
      for (let waited = 0; !/listening on/.test(out); waited += 100) {
        if (child.exitCode !== null || waited > 60_000) throw new Error(`the bindings server did not start:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    });

    after(async () => {
      if (child?.pid && child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
        await exited;
      }
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    /** What the server in node.exe answered (code, token, applicationData: what it bound to), and what the client bound to. */
    interface Report { code?: string; error?: string; token?: string; applicationData?: string; mutual: boolean; clientApplicationData: string | null }

    async function client(spec: string, request: Record<string, unknown>): Promise<Report> {
      const { stdout } = await run('/usr/bin/python3', [CLIENT, `http://127.0.0.1:${PORT}/`, `HTTP@${bed.host}`, spec, JSON.stringify(request)], { env: process.env });
      return JSON.parse(stdout) as Report;
    }

    for (const name of ['rsa-sha256', 'ecdsa-sha384']) {
      it(`tls-server-end-point of an openssl ${name} certificate: Python's and lib/bindings.ts's application data agree, and AcceptSecurityContext completes`, async () => {
        const pem = fs.readFileSync(certs[name], 'utf8');
        const r = await client(`cert:${certs[name]}`, { certificate: pem });
        assert.equal(r.error, undefined, r.error);
        assert.ok(r.clientApplicationData && r.clientApplicationData.length > 0);
        assert.equal(r.applicationData, r.clientApplicationData, 'the client (Python hashlib) and the server (lib/bindings.ts in node.exe) bind to the same data');
        const linux = parseChannelBindings(tlsServerEndPointBindings(pem)).applicationData.toString('base64');
        assert.equal(linux, r.clientApplicationData, 'and so does lib/bindings.ts on Linux Node');
        assert.equal(r.code, 'SEC_E_OK');
        assert.equal(r.mutual, true, 'the MIT client verified the AP-REP');
      });
    }

    it('mismatched bindings (client A, server B): SEC_E_OK under Wine, which hands GSS_C_NO_CHANNEL_BINDINGS to MIT\'s gss_accept_sec_context', async () => {
      const a = Buffer.from('tls-server-end-point:' + 'A'.repeat(32));
      const b = channelBindings(Buffer.from('tls-server-end-point:' + 'B'.repeat(32)));
      const r = await client(`data:${a.toString('base64')}`, { bindings: b.toString('base64') });
      // Wine's dlls/kerberos/unixlib.c (accept_context) passes GSS_C_NO_CHANNEL_BINDINGS whatever the
      // SecBufferDesc holds, and MIT's acceptor then checks nothing. Microsoft's Kerberos would answer
      // SEC_E_BAD_BINDINGS (winerror.h 0x80090346); this suite runs under Wine only.
      assert.equal(r.code, 'SEC_E_OK');
      assert.equal(r.mutual, true);
    });

    it('client with bindings, server without; client without, server with: SEC_E_OK under Wine (same reason)', async () => {
      const a = Buffer.from('tls-server-end-point:' + 'A'.repeat(32));
      assert.equal((await client(`data:${a.toString('base64')}`, {})).code, 'SEC_E_OK');
      assert.equal((await client('-', { bindings: channelBindings(a).toString('base64') })).code, 'SEC_E_OK');
    });

    it('a hostile SEC_CHANNEL_BINDINGS sent to the server is refused by parseChannelBindings before any SSPI call', async () => {
      const hostile = Buffer.alloc(32);
      hostile.writeUInt32LE(0xffffffff, 24); // cbApplicationDataLength
      hostile.writeUInt32LE(32, 28);
      const r = await client('-', { bindings: hostile.toString('base64') });
      assert.match(r.error ?? '', /RangeError: not a valid SEC_CHANNEL_BINDINGS structure/);
      assert.equal(r.code, undefined);
    });
  });
}
