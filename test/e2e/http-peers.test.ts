import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { makeCertificate } from '../support/certificates';
import { testBed } from '../support/env';
import { LinuxPeer, startApache, startSquid } from './linux-peers';

const execFileP = promisify(execFile);
const BASE = Number(process.env.SSPI_E2E_PORT ?? 18080) + 60; // beside the TLS suite's ports (+50..+52)
const APACHE_PORT = BASE;
const SQUID_PORT = BASE + 1;
const BACKEND_PORT = BASE + 2;
const TLS_BACKEND_PORT = BASE + 3;
const RELAY_PORT = BASE + 4;
const repo = path.resolve(__dirname, '..', '..', '..');

interface Outcome {
  result?: { status: number; body: string; headers: Record<string, string> };
  error?: { code: string; message: string };
}

/** Runs our client (test/e2e/http-peer.ts) in Windows node.exe under Wine: one fetch, its outcome. */
async function ourClient(url: string, agent: Record<string, unknown>): Promise<Outcome> {
  const { stdout } = await execFileP('bash', ['scripts/wine-node.sh', 'dist/test/e2e/http-peer.js', JSON.stringify({ url, agent })],
    { cwd: repo, env: process.env, timeout: 90_000 });
  const line = stdout.split('\n').find((l) => /^(result|error) /.test(l));
  assert.ok(line, `no outcome from node.exe:\n${stdout}`);
  const [kind, ...rest] = line.split(' ');
  return { [kind]: JSON.parse(rest.join(' ')) } as Outcome;
}

/** A plain Linux Node server on 127.0.0.1:`port` recording each request's line and auth headers. */
async function backend(server: http.Server, port: number, seen: { url: string; proxyAuthorization?: string; authorization?: string }[]): Promise<void> {
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    seen.push({ url: req.url!, proxyAuthorization: req.headers['proxy-authorization'], authorization: req.headers.authorization });
    res.end(`backend saw ${req.method} ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
}

async function closeServer(server: http.Server | undefined): Promise<void> {
  if (!server?.listening) return;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

// Our client (NegotiateAgent in Windows node.exe under Wine, Kerberos from the Samba domain) against
// real HTTP peers on Linux: Apache httpd + mod_auth_gssapi (MIT GSSAPI's acceptor) and Squid with
// negotiate_kerberos_auth. The SPN is the bed's HTTP/www.sspi.test (the keytab's): the client
// connects to 127.0.0.1 and is given the SPN (options `spn` and `proxy.spn`).
describe('our HTTP client against Apache mod_auth_gssapi and Squid, end to end', function () {
  const bed = testBed();
  let apache: LinuxPeer | undefined;
  let squid: LinuxPeer | undefined;
  let plain: http.Server | undefined;
  let secure: https.Server | undefined;
  let relay: http.Server | undefined;
  let dir: string;
  const seen: { url: string; proxyAuthorization?: string; authorization?: string }[] = [];
  const apacheUrl = `http://127.0.0.1:${APACHE_PORT}`;

  before(async () => {
    // Files node.exe reads live inside the repository: node.exe runs in the bed's root, which sees it but not /tmp.
    dir = fs.mkdtempSync(path.join(repo, 'dist', 'e2e-http-peers-'));
    const made = makeCertificate('rsa-sha256', 'localhost');
    fs.writeFileSync(path.join(dir, 'ca.pem'), made.pem);
    [apache, squid] = await Promise.all([
      startApache(bed, APACHE_PORT, { 'index.html': 'hello from apache\n' }),
      startSquid(bed, SQUID_PORT),
    ]);
    plain = http.createServer();
    secure = https.createServer({ cert: made.pem, key: made.key.export({ type: 'pkcs8', format: 'pem' }) as string });
    await backend(plain, BACKEND_PORT, seen);
    await backend(secure, TLS_BACKEND_PORT, seen);
  });

  after(async () => {
    await Promise.all([apache?.stop(), squid?.stop(), closeServer(plain), closeServer(secure), closeServer(relay)]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => { seen.length = 0; });

  it('Apache + mod_auth_gssapi: Kerberos, and Apache\'s mutual-auth token verified (mutualAuthentication: true)', async () => {
    const out = await ourClient(`${apacheUrl}/index.html`, { origins: [apacheUrl], spn: bed.spn, mutualAuthentication: true });
    assert.ok(out.result, JSON.stringify(out) + apache!.logs());
    assert.equal(out.result.status, 200);
    assert.equal(out.result.body, 'hello from apache\n');
    assert.equal(out.result.headers['x-remote-user'], `${bed.users[0].name}@${bed.realm}`);
  });

  it('Apache by name (http://www.sspi.test:port, resolved as curl --resolve does): the SPN derived from the URL', async () => {
    const url = `http://${bed.host}:${APACHE_PORT}`;
    const out = await ourClient(`${url}/index.html`, { origins: [url], mutualAuthentication: true, hosts: { [bed.host]: '127.0.0.1' } });
    assert.ok(out.result, JSON.stringify(out) + apache!.logs());
    assert.equal(out.result.status, 200);
    assert.equal(out.result.headers['x-remote-user'], `${bed.users[0].name}@${bed.realm}`);
  });

  it('Apache\'s final token altered on the way (one byte, by a relay): our client rejects the response', async () => {
    // mod_auth_gssapi cannot be made to forge; a relay in front of it flips one byte of the real AP-REP.
    relay = http.createServer((req, res) => {
      const up = http.request({ host: '127.0.0.1', port: APACHE_PORT, path: req.url, method: req.method, headers: req.headers }, (r) => {
        const headers = { ...r.headers };
        const final = /^Negotiate (\S+)$/.exec(String(headers['www-authenticate'] ?? ''));
        if (r.statusCode === 200 && final) {
          const token = Buffer.from(final[1], 'base64');
          token[token.length - 5] ^= 0x55;
          headers['www-authenticate'] = `Negotiate ${token.toString('base64')}`;
        }
        res.writeHead(r.statusCode!, headers);
        r.pipe(res);
      });
      req.pipe(up);
    });
    await new Promise<void>((resolve) => relay!.listen(RELAY_PORT, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;
    const out = await ourClient(`${url}/index.html`, { origins: [url], spn: bed.spn });
    assert.deepEqual(out.error?.code, 'ERR_SSPI_MUTUAL_AUTH_FAILED', JSON.stringify(out));
  });

  it('Squid (negotiate_kerberos_auth): plain HTTP through the proxy, its 407 answered by Kerberos', async () => {
    const url = `http://127.0.0.1:${BACKEND_PORT}/via-squid?x=1`;
    const out = await ourClient(url, { proxy: { uri: `http://127.0.0.1:${SQUID_PORT}`, spn: bed.spn } });
    assert.ok(out.result, JSON.stringify(out) + squid!.logs());
    assert.equal(out.result.status, 200);
    assert.equal(out.result.body, 'backend saw GET /via-squid?x=1');
    assert.deepEqual(seen.map((s) => s.proxyAuthorization), [undefined]);
    // Squid logs the URL without its query (strip_query_terms), and the Kerberos user it authenticated.
    assert.match(fs.readFileSync(path.join(squid!.dir, 'access.log'), 'utf8'),
      new RegExp(`TCP_DENIED/407 .* GET http://127\\.0\\.0\\.1:${BACKEND_PORT}/via-squid\\? - [^]*TCP_MISS/200 .* GET http://127\\.0\\.0\\.1:${BACKEND_PORT}/via-squid\\? ${bed.users[0].name}@${bed.realm}`));
  });

  it('Squid: HTTPS through CONNECT, the CONNECT answered with Proxy-Authorization: Negotiate', async () => {
    const url = `https://127.0.0.1:${TLS_BACKEND_PORT}/tunnelled`;
    const out = await ourClient(url, { proxy: { uri: `http://127.0.0.1:${SQUID_PORT}`, spn: bed.spn }, ca: path.join(dir, 'ca.pem') });
    assert.ok(out.result, JSON.stringify(out) + squid!.logs());
    assert.equal(out.result.status, 200);
    assert.equal(out.result.body, 'backend saw GET /tunnelled');
    assert.deepEqual(seen.map((s) => s.proxyAuthorization), [undefined]);
    assert.match(fs.readFileSync(path.join(squid!.dir, 'access.log'), 'utf8'), new RegExp(`CONNECT 127\\.0\\.0\\.1:${TLS_BACKEND_PORT} ${bed.users[0].name}@${bed.realm}`));
  });

  it('Squid by name (http://www.sspi.test:port): the proxy\'s SPN derived from its URL, HTTP/www.sspi.test', async () => {
    const out = await ourClient(`http://127.0.0.1:${BACKEND_PORT}/by-name`, { proxy: { uri: `http://${bed.host}:${SQUID_PORT}` }, hosts: { [bed.host]: '127.0.0.1' } });
    assert.ok(out.result, JSON.stringify(out) + squid!.logs());
    assert.equal(out.result.status, 200);
    assert.equal(out.result.body, 'backend saw GET /by-name');
  });

  it('Squid in front of Apache: the proxy\'s 407, then the origin\'s 401, both Kerberos', async () => {
    const out = await ourClient(`${apacheUrl}/index.html`, {
      origins: [apacheUrl], spn: bed.spn, mutualAuthentication: true, proxy: { uri: `http://127.0.0.1:${SQUID_PORT}`, spn: bed.spn },
    });
    assert.ok(out.result, JSON.stringify(out) + squid!.logs() + apache!.logs());
    assert.equal(out.result.status, 200);
    assert.equal(out.result.headers['x-remote-user'], `${bed.users[0].name}@${bed.realm}`);
  });

  it('Squid without a ticket for our client: a clear error, not a hang (Wine\'s Negotiate falls back to NTLM, which Squid\'s Kerberos helper refuses)', async () => {
    const env = process.env.KRB5CCNAME;
    process.env.KRB5CCNAME = `FILE:${dir}/no-such-ccache`;
    try {
      const out = await ourClient(`http://127.0.0.1:${BACKEND_PORT}/`, { proxy: { uri: `http://127.0.0.1:${SQUID_PORT}`, spn: bed.spn }, schemes: ['Negotiate'] });
      assert.ok(out.error, JSON.stringify(out));
      assert.match(out.error.code, /^(ERR_SSPI_PROXY_AUTH_FAILED|SEC_E_\w+)$/, JSON.stringify(out));
      assert.equal(seen.length, 0);
    } finally {
      process.env.KRB5CCNAME = env;
    }
  });
});
