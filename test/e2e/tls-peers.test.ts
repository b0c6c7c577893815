import { strict as assert } from 'node:assert';
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { promisify } from 'node:util';

import { makeCertificate, makePfx, Made } from '../support/certificates';
import { testBed } from '../support/env';
import { stopGroup } from './server';

const run = promisify(execFile);
const PORT = Number(process.env.SSPI_E2E_PORT ?? 18080) + 50; // beside the HTTP suite's port
const OPENSSL_PORT = PORT + 1;
const repo = path.resolve(__dirname, '..', '..', '..');

/** A child process and everything it printed. */
interface Child {
  child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, ms?: number): Promise<string>;
  stop(): Promise<void>;
}

function start(command: string, args: string[], options: { stdin?: boolean } = {}): Child {
  const child = spawn(command, args, { cwd: repo, env: process.env, stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => out,
    waitFor: (pattern, ms = 60_000) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => { clearInterval(poll); reject(new Error(`no ${pattern} in ${ms} ms:\n${out}`)); }, ms);
      const poll = setInterval(() => {
        const m = pattern.exec(out);
        if (m) {
          clearInterval(poll);
          clearTimeout(timer);
          resolve(m[0]);
        }
      }, 50);
    }),
    stop: () => stopGroup(child, exited),
  };
}

/** Runs the Windows side (test/e2e/tls-peer.ts) in node.exe under Wine. */
function windowsPeer(args: string[]): Child {
  return start('bash', ['scripts/wine-node.sh', 'dist/test/e2e/tls-peer.js', ...args]);
}

/** A certificate for the bed's host in a folder node.exe can read (PEM, key, PFX), and our server in node.exe using it. */
interface Fixture {
  dir: string;
  made: Made;
  peer: Child;
}

async function serveWith(mode: 'server' | 'https', port: number, host: string): Promise<Fixture> {
  // Inside the repository: node.exe runs in the bed's root, which sees it but not this /tmp.
  const dir = fs.mkdtempSync(path.join(repo, 'dist', `e2e-${mode}-`));
  const made = makeCertificate('rsa-sha256', host);
  fs.writeFileSync(path.join(dir, 'cert.pem'), made.pem);
  fs.writeFileSync(path.join(dir, 'key.pem'), made.key.export({ type: 'pkcs8', format: 'pem' }) as string);
  fs.writeFileSync(path.join(dir, 'server.pfx'), makePfx(made, 'pfx password'));
  const peer = windowsPeer([mode, String(port), path.join(dir, 'server.pfx'), 'pfx password']);
  await peer.waitFor(/listening on/);
  return { dir, made, peer };
}

async function release(f: Fixture | undefined): Promise<void> {
  if (!f) return;
  await f.peer.stop();
  fs.rmSync(f.dir, { recursive: true, force: true });
}

// Our Schannel TLS (Wine 10's, on GnuTLS) in Windows node.exe against outside peers on Linux:
// OpenSSL's s_server and s_client, Linux Node's tls, and curl (--negotiate) over HTTPS below.
describe('TLS on Schannel, end to end against OpenSSL, Node and curl', function () {
  const bed = testBed();
  let fixture: Fixture;
  let dir: string;
  let made: Made;
  let server: Child;

  before(async () => {
    fixture = await serveWith('server', PORT, bed.host);
    ({ dir, made, peer: server } = fixture);
  });

  after(() => release(fixture));

  it('our server against openssl s_client: verified handshake, data echoed', async () => {
    const { stdout } = await run('bash', ['-c',
      `(printf 'hello openssl\\n'; sleep 1) | openssl s_client -connect 127.0.0.1:${PORT} -servername ${bed.host} -CAfile ${dir}/cert.pem -verify_return_error -verify_hostname ${bed.host} -quiet -no_ign_eof 2>&1`],
    { timeout: 30_000 });
    assert.match(stdout, /hello openssl/);
  });

  it('our server against openssl s_client without our certificate as trusted: openssl refuses it and alerts us', async () => {
    const r = await run('bash', ['-c', `openssl s_client -connect 127.0.0.1:${PORT} -servername ${bed.host} -verify_return_error < /dev/null 2>&1; true`], { timeout: 30_000 });
    assert.match(r.stdout, /self[- ]signed certificate/i);
    await server.waitFor(/tlsClientError .*(SEC_E_|alert|closed|nothing more)/i, 10_000);
  });

  it('our server against Linux Node tls.connect: 1 MiB echoed', async () => {
    const c = tls.connect({ port: PORT, host: '127.0.0.1', servername: bed.host, ca: made.pem });
    await once(c, 'secureConnect');
    assert.equal(c.authorized, true);
    assert.equal(c.getProtocol(), 'TLSv1.2');
    const payload = Buffer.alloc(1 << 20, 'x');
    const chunks: Buffer[] = [];
    c.on('data', (d: Buffer) => chunks.push(d));
    c.write(payload);
    while (Buffer.concat(chunks).length < payload.length) await once(c, 'data');
    assert.ok(Buffer.concat(chunks).equals(payload));
    c.end();
  });

  it('our client against openssl s_server: handshake and data both ways (-rev answers the line reversed)', async () => {
    const s = start('openssl', ['s_server', '-accept', String(OPENSSL_PORT), '-cert', `${dir}/cert.pem`, '-key', `${dir}/key.pem`, '-rev', '-naccept', '1']);
    try {
      await s.waitFor(/ACCEPT/);
      const c = windowsPeer(['client', String(OPENSSL_PORT), bed.host, `${dir}/cert.pem`, 'hello from schannel']);
      await c.waitFor(/received: .*/);
      assert.match(c.output(), /secure TLSv1\.2 TLS_/);
      assert.match(c.output(), /received: lennahcs morf olleh/);
      await c.stop();
    } finally {
      await s.stop();
    }
  });

  it('our client refuses an untrusted certificate and the ALERT reaches openssl s_server, which prints it', async () => {
    const other = makeCertificate('ecdsa-sha384', 'other.example');
    fs.writeFileSync(path.join(dir, 'other.pem'), other.pem);
    // stdin kept open: at its end s_server would close the connection at once.
    const s = start('openssl', ['s_server', '-accept', String(OPENSSL_PORT), '-cert', `${dir}/cert.pem`, '-key', `${dir}/key.pem`, '-naccept', '1'], { stdin: true });
    try {
      await s.waitFor(/ACCEPT/);
      // Microsoft's Schannel refuses an untrusted root itself (SEC_E_UNTRUSTED_ROOT) and sends the alert;
      // Wine 10's does not validate certificates, so the socket's `ca` check refuses it and sends
      // unknown_ca through ApplyControlToken(SCHANNEL_ALERT).
      const c = windowsPeer(['client', String(OPENSSL_PORT), bed.host, `${dir}/other.pem`, 'never sent']);
      await c.waitFor(/error \S+/);
      assert.match(c.output(), /error (ERR_TLS_CERT_UNTRUSTED|SEC_E_UNTRUSTED_ROOT)/);
      await s.waitFor(/alert unknown ca|SSL alert number 48/i, 10_000);
      await c.stop();
    } finally {
      await s.stop();
    }
  });
});

// HTTPS served on our TlsSocket (http.Server fed TlsSockets through 'connection') with the
// IntegratedAuthenticator taking the channel bindings from the TlsSocket (SECPKG_ATTR_ENDPOINT_BINDINGS).
//
// Channel bindings from curl: curl sends tls-server-end-point bindings through GSS-API only from curl
// 8.10.0 on (curl PR #13098, OpenSSL backend, needs MIT krb5 >= 1.19); this bed's curl is Debian 12's
// 7.88.1, which sends none (its Kerberos AP-REQ carries an empty checksum binding). So this asserts that
// authentication succeeds with our server passing its bindings; that a mismatch would be refused is
// Windows' policy (SEC_E_BAD_BINDINGS) and untestable here: Wine's Kerberos ignores bindings (linux-rig.md).
describe('HTTPS on our TlsSocket with Negotiate and channel bindings, end to end', function () {
  const bed = testBed();
  const HTTPS_PORT = PORT + 2;
  let fixture: Fixture;
  let dir: string;
  let https: Child;

  before(async () => {
    fixture = await serveWith('https', HTTPS_PORT, bed.host);
    ({ dir, peer: https } = fixture);
  });

  after(() => release(fixture));

  it('curl --negotiate over HTTPS authenticates against the Samba domain', async () => {
    const { stdout } = await run('curl', ['-sS', '--negotiate', '-u', ':', '--cacert', `${dir}/cert.pem`,
      '--resolve', `${bed.host}:${HTTPS_PORT}:127.0.0.1`, '-w', '\n%{http_code}', `https://${bed.host}:${HTTPS_PORT}/`], { timeout: 60_000 });
    const lines = stdout.trimEnd().split('\n');
    assert.equal(lines.pop(), '200', stdout + https.output());
    const body = JSON.parse(lines.join('\n')) as { authenticated: boolean; package: string; encrypted: boolean };
    assert.equal(body.authenticated, true);
    assert.equal(body.encrypted, true, 'the request came over our TlsSocket');
    assert.equal(body.package, 'Kerberos');
  });

  it('without a ticket: 401 Negotiate over HTTPS', async () => {
    const env = { ...process.env, KRB5CCNAME: `FILE:${dir}/no-such-ccache` };
    const { stdout } = await run('curl', ['-sS', '--cacert', `${dir}/cert.pem`, '--resolve', `${bed.host}:${HTTPS_PORT}:127.0.0.1`,
      '-o', '/dev/null', '-w', '%{http_code}', `https://${bed.host}:${HTTPS_PORT}/`], { env, timeout: 60_000 });
    assert.equal(stdout, '401');
  });
});
