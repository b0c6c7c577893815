import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { inspectToken, MECHANISM_OID } from '../../lib/http/framing';
import { RETRY_AFTER_SECONDS } from '../../lib/http/server';
import { testBed } from '../support/env';
import { RunningServer, startServer } from './server';

const run = promisify(execFile);
const PORT = Number(process.env.SSPI_E2E_PORT ?? 18080);
const GSSAPI_CLIENT = path.resolve(__dirname, '..', '..', '..', 'test', 'e2e', 'gssapi_client.py');
/** `sspi serve --max-pending-per-address`: small, so the cap test below reaches it with a few connections. */
const PER_ADDRESS = 4;

/** A minimal NTLM NEGOTIATE_MESSAGE ([MS-NLMP] 2.2.1.1): Unicode, NTLM, request target, always sign. */
function ntlmNegotiateMessage(): Buffer {
  const b = Buffer.alloc(32);
  b.write('NTLMSSP\0', 0, 'latin1');
  b.writeUInt32LE(1, 8);
  b.writeUInt32LE(0x00000001 | 0x00000004 | 0x00000200 | 0x00008000, 12);
  return b;
}

interface CurlResult {
  status: number;
  headers: string;
  body: string;
}

// The integrated-auth server runs in Windows node.exe under Wine; real Linux clients talk to it
// over loopback: curl (GSSAPI / NTLM) and MIT GSSAPI from Python.
describe('HTTP integrated authentication, end to end', function () {
  const bed = testBed();
  const url = `http://${bed.host}:${PORT}/`;
  let server: RunningServer;

  async function curl(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CurlResult> {
    // --resolve: the SPN names the service host (HTTP/www.sspi.test), which lives on 127.0.0.1.
    const { stdout } = await run('curl', ['-sS', '--resolve', `${bed.host}:${PORT}:127.0.0.1`, '-D', '-',
      '-w', '\n%{http_code}', ...args, url], { env, timeout: 60_000 });
    const lines = stdout.trimEnd().split('\n');
    const status = Number(lines.pop());
    const text = lines.join('\n');
    const split = text.lastIndexOf('\r\n\r\n');
    return { status, headers: text.slice(0, split), body: text.slice(split + 4) };
  }

  /** One GET on a fresh connection with the given headers; resolves with the response. */
  function get(headers: http.OutgoingHttpHeaders = {}): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: PORT, path: '/', agent: false, headers }, (res) => {
        res.resume();
        resolve(res);
      }).on('error', reject);
    });
  }

  function finalHeaders(r: CurlResult): string {
    // curl -D prints every response of the handshake; the last block belongs to the final one.
    const blocks = r.headers.split(/\r\n\r\n/);
    return blocks[blocks.length - 1];
  }

  before(async () => {
    server = await startServer(PORT, ['--max-pending-per-address', String(PER_ADDRESS), '--handshake-timeout', '60000']);
  });

  after(async () => {
    await server?.stop();
  });

  it('no Authorization header: 401 with WWW-Authenticate: Negotiate (and NTLM)', async () => {
    const res = await get();
    assert.equal(res.statusCode, 401);
    const challenges = res.rawHeaders.filter((_, i, all) => i % 2 === 1 && all[i - 1].toLowerCase() === 'www-authenticate');
    assert.deepEqual(challenges, ['Negotiate', 'NTLM']);
  });

  it('curl --negotiate with a Kerberos ticket gets 200, and the mutual-auth token', async () => {
    const r = await curl(['--negotiate', '-u', ':']);
    assert.equal(r.status, 200, r.headers + r.body);
    const body = JSON.parse(r.body);
    assert.equal(body.authenticated, true);
    assert.equal(body.scheme, 'Negotiate');
    assert.equal(body.package, 'Kerberos');
    // The server runs on Wine's secur32, which cannot name the client (SECPKG_ATTR_NAMES): the
    // identity says so explicitly instead of inventing a name.
    assert.equal(body.user, null);
    assert.equal(body.userNotReported, 'SEC_E_UNSUPPORTED_FUNCTION');
    assert.match(finalHeaders(r), /^WWW-Authenticate: Negotiate [A-Za-z0-9+/]+=*\r?$/m);
  });

  it('curl --negotiate with the non-ASCII user\'s ticket gets 200', async () => {
    // kinit the second user into a cache of its own. (curl's NTLM is not used for this user: curl
    // widens the password's UTF-8 bytes one by one instead of converting to UTF-16, so its NT hash
    // of a non-ASCII password is wrong whatever the server. The in-process NTLM suites cover it.)
    const ccache = `FILE:${bed.stateDir}/domain/ccache-e2e-user2`;
    const env = { ...process.env, KRB5CCNAME: ccache };
    await run('bash', ['scripts/domain.sh', 'kinit', bed.users[1].name], { cwd: bed.repoDir, env });
    const r = await curl(['--negotiate', '-u', ':'], env);
    assert.equal(r.status, 200, r.headers + r.body);
    assert.equal(JSON.parse(r.body).package, 'Kerberos');
  });

  it(`curl --ntlm with the domain user's password gets 200`, async () => {
    const user = bed.users[0];
    const r = await curl(['--ntlm', '-u', `${bed.domain}\\${user.name}:${user.password}`]);
    assert.equal(r.status, 200, r.headers + r.body);
    const body = JSON.parse(r.body);
    assert.equal(body.scheme, 'NTLM');
    assert.equal(body.package, 'NTLM');
  });

  it('curl --ntlm with a wrong password gets 401', async () => {
    const r = await curl(['--ntlm', '-u', `${bed.domain}\\${bed.users[0].name}:wrong-password`]);
    assert.equal(r.status, 401);
    assert.match(finalHeaders(r), /^WWW-Authenticate: Negotiate\r?$/m);
  });

  it('MIT GSSAPI (SPNEGO) authenticates and verifies the server\'s mutual-auth token', async () => {
    const { stdout } = await run('/usr/bin/python3', [GSSAPI_CLIENT, 'roundtrip', `HTTP@${bed.host}`, `http://127.0.0.1:${PORT}/`], { env: process.env });
    const report = JSON.parse(stdout);
    assert.equal(report.status, 200, stdout);
    assert.equal(report.mutual, true);
    assert.equal(report.complete, true);
    assert.equal(JSON.parse(report.body).package, 'Kerberos');
  });

  it('a replayed SPNEGO token is refused (401) on a new connection', async () => {
    const { stdout } = await run('/usr/bin/python3', [GSSAPI_CLIENT, 'token', `HTTP@${bed.host}`], { env: process.env });
    const token = stdout.trim();
    const send = async (): Promise<number | undefined> => (await get({ Authorization: `Negotiate ${token}` })).statusCode;
    assert.equal(await send(), 200);
    assert.equal(await send(), 401);
  });

  it("MIT's SPNEGO first token and the server's NegTokenResp pass the framing check (lib/http/framing.ts)", async () => {
    const { stdout } = await run('/usr/bin/python3', [GSSAPI_CLIENT, 'token', `HTTP@${bed.host}`], { env: process.env });
    assert.deepEqual(inspectToken(Buffer.from(stdout.trim(), 'base64')), { shape: 'gss-initial', initial: true, mechanism: MECHANISM_OID.SPNEGO });
    const r = await curl(['--negotiate', '-u', ':']);
    const reply = /^WWW-Authenticate: Negotiate ([A-Za-z0-9+/]+=*)\r?$/m.exec(finalHeaders(r));
    assert.ok(reply, r.headers);
    assert.deepEqual(inspectToken(Buffer.from(reply[1], 'base64')), { shape: 'spnego-response', initial: false });
  });

  it(`sspi serve --max-pending-per-address ${PER_ADDRESS}: more half-open NTLM handshakes from one address get 503 with Retry-After`, async () => {
    const header = `NTLM ${ntlmNegotiateMessage().toString('base64')}`;
    const agents = Array.from({ length: PER_ADDRESS + 2 }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
    try {
      const replies: http.IncomingMessage[] = [];
      for (const agent of agents) {
        replies.push(await new Promise<http.IncomingMessage>((resolve, reject) => {
          http.get({ host: '127.0.0.1', port: PORT, path: '/', agent, headers: { Authorization: header } }, (res) => {
            res.resume();
            resolve(res);
          }).on('error', reject);
        }));
      }
      assert.deepEqual(replies.map((r) => r.statusCode), [...Array(PER_ADDRESS).fill(401), 503, 503]);
      assert.match(String(replies[0].headers['www-authenticate']), /^NTLM [A-Za-z0-9+/]+=*$/, 'a CHALLENGE_MESSAGE');
      assert.equal(replies[PER_ADDRESS].headers['retry-after'], String(RETRY_AFTER_SECONDS));
      assert.match(server.output(), /503 NTLM refused from [^:]*: pending handshakes/);
      // With this address's allowance taken, a Kerberos handshake (one leg, never held) still gets 200.
      assert.equal((await curl(['--negotiate', '-u', ':'])).status, 200);
    } finally {
      for (const agent of agents) agent.destroy();
    }
  });

  it('garbage and malformed Authorization headers get 401, and the server keeps serving', async () => {
    for (const value of ['Negotiate AAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'Negotiate not*base64', 'NTLM TlRMTVNTUAADAAAA', 'Basic dXNlcjpwYXNz', 'Negotiate']) {
      assert.equal((await get({ Authorization: value })).statusCode, 401, value);
    }
    const r = await curl(['--negotiate', '-u', ':']);
    assert.equal(r.status, 200);
  });
});
