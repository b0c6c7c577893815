import { strict as assert } from 'node:assert';
import { ChildProcess, execFile, spawn } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { testBed } from '../support/env';
import type { ClientCase, ClientMode, ClientResult } from './adapter-client';
import { ADAPTERS, AdapterName } from './adapter-server';
import { stopGroup } from './server';

const run = promisify(execFile);
const repo = path.resolve(__dirname, '..', '..', '..');
const GSSAPI_CLIENT = path.join(repo, 'test', 'e2e', 'gssapi_client.py');
/** The adapter servers take 2 ports each from here (default policy, then Kerberos only). */
const FIRST_PORT = Number(process.env.SSPI_E2E_PORT ?? 18080) + 10;

/** What GET / answers (test/e2e/adapter-server.ts describeIdentity). */
interface IdentityBody {
  adapter: AdapterName;
  scheme: string;
  package: string;
  user: string | null;
  userNotReported?: { code: string };
  sid: string | null;
  sidNotReported?: { code: string };
  anonymous: boolean;
}

interface Reply { status: number; headers: http.IncomingHttpHeaders; wwwAuthenticate: string[]; body: string; localPort: number }

/** One request on `agent` (a keep-alive agent keeps its one connection across calls). */
async function request(port: number, agent: http.Agent | false, reqPath: string, headers: http.OutgoingHttpHeaders = {}, method = 'GET'): Promise<Reply> {
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    http.request({ host: '127.0.0.1', port, path: reqPath, agent, headers, method }, resolve).on('error', reject).end();
  });
  const localPort = res.socket.localPort!;
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { status: res.statusCode!, headers: res.headers, wwwAuthenticate: res.headersDistinct['www-authenticate'] ?? [], body: Buffer.concat(chunks).toString('utf8'), localPort };
}

interface CurlResult { status: number; finalHeaders: string; body: string }

/** Runs a node.exe script under Wine (scripts/wine-node.sh) in its own process group, for stopGroup. */
function wineNode(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<void> } {
  const child = spawn('bash', ['scripts/wine-node.sh', ...args], { cwd: repo, env: process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  // 'close', not 'exit': the output is complete only once the child's stdout and stderr have ended.
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return { child, output: () => out, exited };
}

/**
 * Waits for the first whole line `<prefix> <JSON>` the child prints (the output arrives in chunks: only
 * a line ended by its newline is complete); rejects if it exits first or takes over 60 s.
 */
function lineOf<T>(p: ReturnType<typeof wineNode>, prefix: string): Promise<T> {
  const pattern = new RegExp(`^${prefix} (.*)\r?\n`, 'm');
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => { cleanup(); reject(new Error(`no "${prefix}" line in 60 s:\n${p.output()}`)); }, 60_000);
    const check = (): void => {
      const m = pattern.exec(p.output());
      if (!m) return;
      cleanup();
      try {
        resolve(JSON.parse(m[1]) as T);
      } catch (err) {
        reject(err);
      }
    };
    const cleanup = (): void => { clearTimeout(timer); p.child.stdout!.off('data', check); };
    p.child.stdout!.on('data', check);
    void p.exited.then(() => { check(); cleanup(); reject(new Error(`exited without a "${prefix}" line:\n${p.output()}`)); });
  });
}

// Issue 9's acceptance, per adapter: each adapter (Express 5 and 4, Fastify, Koa, Passport on Express 5)
// serves in Windows node.exe under Wine (all of them in one node.exe: test/e2e/adapter-server.ts), and
// Linux clients (curl, MIT GSSAPI from Python) and our own client (in one more node.exe:
// test/e2e/adapter-client.ts) authenticate to it. Every adapter runs the same cases.
describe('HTTP adapters end to end: Linux clients and our client against each adapter in node.exe', function () {
  const bed = testBed();
  let server: ReturnType<typeof wineNode>;
  let ports: Record<AdapterName, [number, number]>;
  /** Our client's results, keyed `${adapter}/${policy}/${mode}`, from one node.exe run in before(). */
  const ours = new Map<string, ClientResult>();
  const OUR_CASES: ['default' | 'kerberosOnly', ClientMode][] = [['default', 'kerberos'], ['default', 'ntlm'], ['default', 'negotiate-ntlm'], ['kerberosOnly', 'negotiate-ntlm']];

  before(async () => {
    server = wineNode(['dist/test/e2e/adapter-server.js', String(FIRST_PORT)]);
    ports = await lineOf(server, 'listening');
    const cases: ClientCase[] = [];
    const keys: string[] = [];
    for (const adapter of ADAPTERS) {
      for (const [policy, mode] of OUR_CASES) {
        cases.push({ url: `http://127.0.0.1:${ports[adapter][policy === 'default' ? 0 : 1]}/`, mode });
        keys.push(`${adapter}/${policy}/${mode}`);
      }
    }
    const client = wineNode(['dist/test/e2e/adapter-client.js', JSON.stringify(cases)]);
    const results = await lineOf<ClientResult[]>(client, 'results');
    await client.exited;
    results.forEach((r, i) => ours.set(keys[i], r));
  });

  after(async () => {
    if (server) await stopGroup(server.child, server.exited);
  });

  async function curl(port: number, args: string[], reqPath = '/'): Promise<CurlResult> {
    // --resolve: the SPN names the service host (HTTP/www.sspi.test), which lives on 127.0.0.1.
    const { stdout } = await run('curl', ['-sS', '--resolve', `${bed.host}:${port}:127.0.0.1`, '-D', '-',
      '-w', '\n%{http_code}', ...args, `http://${bed.host}:${port}${reqPath}`], { timeout: 60_000 });
    const lines = stdout.trimEnd().split('\n');
    const status = Number(lines.pop());
    const text = lines.join('\n');
    const split = text.lastIndexOf('\r\n\r\n');
    // curl -D prints every response of the handshake; the last block belongs to the final one.
    const blocks = text.slice(0, split).split('\r\n\r\n');
    return { status, finalHeaders: blocks[blocks.length - 1], body: text.slice(split + 4) };
  }

  /** A fresh MIT GSSAPI SPNEGO initial token for the test bed's service (test/e2e/gssapi_client.py). */
  async function gssapiToken(): Promise<string> {
    const { stdout } = await run('/usr/bin/python3', [GSSAPI_CLIENT, 'token', `HTTP@${bed.host}`]);
    return stdout.trim();
  }

  /**
   * The identity the adapter handed to the route. The server runs on Wine's secur32, which names
   * neither the user (SECPKG_ATTR_NAMES) nor its SID (QuerySecurityContextToken): both are null and
   * say why, SEC_E_UNSUPPORTED_FUNCTION (test/unit/http.test.ts shows the same on the core).
   */
  function identity(body: string, adapter: AdapterName, scheme: string, pkg: string): IdentityBody {
    const id = JSON.parse(body) as IdentityBody;
    assert.equal(id.adapter, adapter);
    assert.equal(id.scheme, scheme);
    assert.equal(id.package, pkg);
    assert.equal(id.anonymous, false);
    assert.equal(id.user, null);
    assert.equal(id.userNotReported?.code, 'SEC_E_UNSUPPORTED_FUNCTION');
    assert.equal(id.sid, null);
    assert.equal(id.sidNotReported?.code, 'SEC_E_UNSUPPORTED_FUNCTION');
    return id;
  }

  function ok(r: ClientResult | undefined): { status: number; body: string; wwwAuthenticate: string | null } {
    assert.ok(r && !('error' in r), `our client failed: ${JSON.stringify(r)}`);
    return r;
  }

  const garbage = ['Negotiate AAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'Negotiate not*base64', 'NTLM TlRMTVNTUAADAAAA', 'Negotiate', 'Basic dXNlcjpwYXNz'];

  for (const adapter of ADAPTERS) {
    describe(adapter, () => {
      const port = (): number => ports[adapter][0];
      const kerberosOnly = (): number => ports[adapter][1];

      it('curl --negotiate (Kerberos ticket): 200 with the identity, and the mutual-auth token', async () => {
        const r = await curl(port(), ['--negotiate', '-u', ':']);
        assert.equal(r.status, 200, r.finalHeaders + r.body);
        identity(r.body, adapter, 'Negotiate', 'Kerberos');
        assert.match(r.finalHeaders, /^WWW-Authenticate: Negotiate [A-Za-z0-9+/]+=*\r?$/m);
      });

      it("curl --ntlm with the domain user's password: 200 with the identity", async () => {
        const user = bed.users[0];
        const r = await curl(port(), ['--ntlm', '-u', `${bed.domain}\\${user.name}:${user.password}`]);
        assert.equal(r.status, 200, r.finalHeaders + r.body);
        identity(r.body, adapter, 'NTLM', 'NTLM');
      });

      it("MIT GSSAPI SPNEGO (python3-gssapi): 200 with the identity, the server's mutual-auth token verified", async () => {
        const { stdout } = await run('/usr/bin/python3', [GSSAPI_CLIENT, 'roundtrip', `HTTP@${bed.host}`, `http://127.0.0.1:${port()}/`]);
        const report = JSON.parse(stdout) as { status: number; body: string; mutual: boolean; complete: boolean };
        assert.equal(report.status, 200, stdout);
        assert.equal(report.mutual, true);
        assert.equal(report.complete, true);
        identity(report.body, adapter, 'Negotiate', 'Kerberos');
      });

      it('our client in node.exe: sspiFetch by Kerberos (mutual auth required) and fetch + NegotiateAgent by NTLM', () => {
        const kerberos = ok(ours.get(`${adapter}/default/kerberos`));
        assert.equal(kerberos.status, 200, kerberos.body);
        identity(kerberos.body, adapter, 'Negotiate', 'Kerberos');
        assert.match(String(kerberos.wwwAuthenticate), /^Negotiate [A-Za-z0-9+/]+=*$/, 'the AP-REP our client verified');
        const ntlm = ok(ours.get(`${adapter}/default/ntlm`));
        assert.equal(ntlm.status, 200, ntlm.body);
        identity(ntlm.body, adapter, 'NTLM', 'NTLM');
      });

      it('a wrong password (curl --ntlm): 401, and nothing reaches the route', async () => {
        const r = await curl(port(), ['--ntlm', '-u', `${bed.domain}\\${bed.users[0].name}:wrong-password`]);
        assert.equal(r.status, 401);
        assert.doesNotMatch(r.body, /adapter/);
        assert.match(r.finalHeaders, /^WWW-Authenticate: Negotiate\r?$/m);
      });

      it('garbage Authorization headers: 401 each, then the same connection and other clients authenticate', async () => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        try {
          const replies: Reply[] = [];
          for (const value of garbage) replies.push(await request(port(), agent, '/', { Authorization: value }));
          assert.deepEqual(replies.map((r) => r.status), garbage.map(() => 401));
          for (const r of replies) assert.deepEqual(r.wwwAuthenticate, ['Negotiate', 'NTLM']);
          const after = await request(port(), agent, '/', { Authorization: `Negotiate ${await gssapiToken()}` });
          assert.equal(after.status, 200, after.body);
          identity(after.body, adapter, 'Negotiate', 'Kerberos');
          assert.deepEqual(new Set([...replies, after].map((r) => r.localPort)).size, 1, 'one keep-alive connection throughout');
        } finally {
          agent.destroy();
        }
        assert.equal((await curl(port(), ['--negotiate', '-u', ':'])).status, 200, 'another client');
      });

      it("packages: ['Kerberos'] refuses curl --ntlm and Negotiate-wrapped NTLM; the default policy serves the latter as NTLM", async () => {
        const user = bed.users[0];
        const r = await curl(kerberosOnly(), ['--ntlm', '-u', `${bed.domain}\\${user.name}:${user.password}`]);
        assert.equal(r.status, 401);
        assert.match(r.finalHeaders, /^WWW-Authenticate: Negotiate\r?$/m);
        assert.doesNotMatch(r.finalHeaders, /^WWW-Authenticate: NTLM/m, 'NTLM is not offered');
        const refused = ok(ours.get(`${adapter}/kerberosOnly/negotiate-ntlm`));
        assert.equal(refused.status, 401, refused.body);
        assert.equal(refused.wwwAuthenticate, 'Negotiate');
        const served = ok(ours.get(`${adapter}/default/negotiate-ntlm`));
        assert.equal(served.status, 200, served.body);
        identity(served.body, adapter, 'Negotiate', 'NTLM');
        const kerberos = await curl(kerberosOnly(), ['--negotiate', '-u', ':']);
        assert.equal(kerberos.status, 200, kerberos.body);
        identity(kerberos.body, adapter, 'Negotiate', 'Kerberos');
      });

      it('a CORS preflight passes unauthenticated (no identity); a plain OPTIONS needs authentication', async () => {
        const preflight = await request(port(), false, '/', { Origin: 'http://app.example', 'Access-Control-Request-Method': 'GET' }, 'OPTIONS');
        assert.equal(preflight.status, 204);
        assert.deepEqual(preflight.wwwAuthenticate, []);
        assert.equal(preflight.headers['x-identity'], 'false');
        assert.equal((await request(port(), false, '/', {}, 'OPTIONS')).status, 401);
      });

      it('a skipped path (/health) needs no authentication; other paths still do', async () => {
        const health = await request(port(), false, '/health');
        assert.equal(health.status, 200);
        assert.equal(health.body, 'healthy true');
        const other = await request(port(), false, '/');
        assert.equal(other.status, 401);
        assert.deepEqual(other.wwwAuthenticate, ['Negotiate', 'NTLM']);
      });
    });
  }
});
