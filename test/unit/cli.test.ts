import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

import { decodeToken } from '../../lib/cli/token';
import { ClientContext, ServerContext } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { IntegratedAuthenticator } from '../../lib/http/server';
import { cliRunner, FetchJson } from '../support/cli';
import { testBed } from '../support/env';
import { AuthServer, forwardRequest, listenAuth } from '../support/http';
import { wineVersion } from '../support/wine';

// `sspi fetch` and `sspi whoami` in Windows node.exe against the domain; `sspi token` on tokens our
// own contexts made. (On Linux Node, test/e2e/cli.test.ts.)
describe('the sspi command in Windows node.exe', () => {
  const bed = testBed();
  const user = bed.users[0];
  const { run, keep, cleanup } = cliRunner();
  let server: AuthServer;
  let base: string;
  /** Every request's path and Authorization header, in order. */
  const seen: { path: string; authorization: string | undefined }[] = [];

  before(async () => {
    const auth = new IntegratedAuthenticator({ schemes: ['Negotiate', 'NTLM'] });
    server = await listenAuth(auth, async (req, res) => {
      seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
      const id = await auth.authenticate(req, res);
      if (!id) return;
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      res.setHeader('X-Seen-Method', req.method ?? '');
      if (req.url === '/missing') res.statusCode = 404;
      res.end(JSON.stringify({ package: id.package, scheme: id.scheme, body: Buffer.concat(chunks).toString(), custom: req.headers['x-custom'] ?? null }));
    });
    base = `http://127.0.0.1:${server.port}`;
  });

  after(async () => {
    await server.close();
    cleanup();
  });

  it('fetch --package Kerberos --mutual --json: 200, scheme Negotiate, package Kerberos, mutual authentication verified', async () => {
    const r = await run(['fetch', '--spn', bed.spn, '--package', 'Kerberos', '--mutual', '--json', '-H', 'X-Custom: one', `${base}/k`]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as FetchJson;
    assert.equal(j.status, 200);
    assert.deepEqual(j.authentication, { scheme: 'Negotiate', package: 'Kerberos', legs: 2, complete: true, mutualAuthVerified: true });
    assert.equal(j.body?.encoding, 'utf8');
    assert.deepEqual(JSON.parse(j.body!.data), { package: 'Kerberos', scheme: 'Negotiate', body: '', custom: 'one' });
  });

  it('fetch --user DOMAIN\\user --package NTLM with the password from SSPI_PASSWORD: 200 by NTLM, -d posts, the password shown nowhere', async () => {
    const r = await run(['fetch', '--user', `${bed.domain}\\${user.name}`, '--package', 'NTLM', '-d', 'a=1', '--json', `${base}/n`],
      { SSPI_PASSWORD: user.password });
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as FetchJson;
    assert.equal(j.status, 200);
    assert.deepEqual(j.authentication, { scheme: 'NTLM', package: 'NTLM', legs: 2, complete: true, mutualAuthVerified: false });
    assert.equal(j.headers['x-seen-method'], 'POST');
    assert.deepEqual(JSON.parse(j.body!.data), { package: 'NTLM', scheme: 'NTLM', body: 'a=1', custom: null });
    assert.ok(!r.stdout.includes(user.password) && !r.stderr.includes(user.password));
  });

  it('fetch --package Kerberos --user: Kerberos, or exit 2 before any NTLM message is sent', async () => {
    const r = await run(['fetch', '--spn', bed.spn, '--package', 'Kerberos', '-u', `${bed.domain}\\${user.name}`, '--json', `${base}/ku`],
      { SSPI_PASSWORD: user.password });
    if (wineVersion()) {
      // Wine 10's Negotiate with an explicit identity starts NTLM (its NEGOTIATE_MESSAGE; measured),
      // which --package Kerberos refuses before the agent sends it: no request carried an NTLM token.
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^sspi fetch: authentication failed: --package Kerberos refuses NTLM: Negotiate chose NTLM with the server/);
      assert.equal(r.stdout, '');
      const sent = seen.filter((x) => x.path === '/ku');
      assert.equal(sent.length, 1, 'only the first, unauthenticated request');
      assert.equal(sent[0].authorization, undefined);
    } else {
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as FetchJson).authentication?.package, 'Kerberos');
    }
  });

  it('fetch with a wrong password exits 2 (the server still answers 401), the password in no output', async () => {
    const wrong = 'Wrong-Pa55word-xyzzy';
    const r = await run(['fetch', '-u', `${bed.domain}\\${user.name}`, '--package', 'NTLM', '-i', `${base}/w`], { SSPI_PASSWORD: wrong });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stdout, /^HTTP\/1\.1 401 /);
    assert.match(r.stderr, /^sspi fetch: authentication failed: the server answered 401 after 2 NTLM leg\(s\)\n$/);
    assert.ok(!(r.stdout + r.stderr).includes(wrong));
  });

  it('fetch to a closed port exits 3; bad arguments exit 1 (a curl-style user:password is refused without echoing it)', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await run(['fetch', `http://127.0.0.1:${port}/`]);
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stderr, /^sspi fetch: network error: ECONNREFUSED/);

    const colon = await run(['fetch', '-u', `${user.name}:secret-in-argv`, `${base}/`]);
    assert.equal(colon.code, 1);
    assert.match(colon.stderr, /the password is never read from the command line/);
    assert.ok(!colon.stderr.includes('secret-in-argv'));
    const noPassword = await run(['fetch', '-u', user.name, `${base}/`]);
    assert.equal(noPassword.code, 1);
    assert.match(noPassword.stderr, /set SSPI_PASSWORD \(stdin is not a terminal/);
    assert.equal((await run(['fetch', 'not a url'])).code, 1);
    assert.equal((await run(['fetch', '--package', 'Basic', `${base}/`])).code, 1);
    assert.equal((await run(['fetch', '-H', 'no colon', `${base}/`])).code, 1);
  });

  it('fetch -o writes the body to the file; --json then reports its size', async () => {
    const r = await run(['fetch', '--spn', bed.spn, '-o', 'body.json', '--json', `${base}/o`]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as FetchJson;
    const written = fs.readFileSync(path.join(r.dir, 'body.json'));
    assert.equal(j.bodyBytes, written.length);
    assert.equal(JSON.parse(written.toString()).package, 'Kerberos');
    assert.equal(j.authentication?.package, 'Kerberos'); // Negotiate chose Kerberos (the default: both schemes offered)
  });

  it('fetch -d @file sends the file\'s bytes; -f exits 22 on a 404 (without -f, 0 as curl)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sspi-cli-data-'));
    keep(dir);
    const file = path.join(dir, 'data.txt');
    fs.writeFileSync(file, 'line one\nline two\n');
    const r = await run(['fetch', '--spn', bed.spn, '-d', `@${file}`, '-H', 'Content-Type: text/plain', `${base}/missing`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).body, 'line one\nline two\n');
    const failed = await run(['fetch', '--spn', bed.spn, '-f', `${base}/missing`]);
    assert.equal(failed.code, 22, failed.stderr);
    assert.match(failed.stderr, /^sspi fetch: the server answered 404\n$/);
    const missing = await run(['fetch', '-d', `@${path.join(dir, 'nope')}`, `${base}/`]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /--data @.*nope: ENOENT/);
  });

  it('fetch -x through a forward proxy that requires Negotiate: 200 from the server, the proxy authenticated (Kerberos); its token never reaches the server', async () => {
    // The proxy: IntegratedAuthenticator in proxy mode, forwarding absolute-form requests to the server.
    const proxyAuth = new IntegratedAuthenticator({ proxy: true, schemes: ['Negotiate'] });
    const authenticated: (string | null)[] = [];
    const proxy = await listenAuth(proxyAuth, async (req, res) => {
      const id = await proxyAuth.authenticate(req, res);
      if (!id) return;
      authenticated.push(id.package);
      forwardRequest(req, res);
    });
    try {
      const before = seen.length;
      const r = await run(['fetch', '-x', `http://127.0.0.1:${proxy.port}`, '--proxy-spn', bed.spn, '--spn', bed.spn, '--json', `${base}/via-proxy`]);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout) as FetchJson;
      assert.equal(j.status, 200);
      assert.deepEqual(JSON.parse(j.body!.data).package, 'Kerberos');
      // Kerberos is not persisted on the proxy connection either: each request (the origin's 401 leg,
      // then its authenticated retry) authenticates to the proxy.
      assert.deepEqual(authenticated, ['Kerberos', 'Kerberos']);
      const atServer = seen.slice(before);
      assert.ok(atServer.length > 0 && atServer.every((x) => x.path === '/via-proxy'));
    } finally {
      await proxy.close();
    }
  });

  it('fetch -x: a proxy that refuses the token exits 2; a proxy URL with a password or --proxy-spn alone exit 1 without echoing it', async () => {
    // Answers every request with 407 Negotiate and never accepts a token.
    const refusing = http.createServer((req, res) => {
      req.resume();
      res.writeHead(407, { 'Proxy-Authenticate': 'Negotiate' }).end();
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    try {
      const port = (refusing.address() as AddressInfo).port;
      const refused = await run(['fetch', '-x', `http://127.0.0.1:${port}`, '--proxy-spn', bed.spn, `${base}/x`]);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /proxy/);
    } finally {
      refusing.closeAllConnections();
      await new Promise<void>((resolve) => refusing.close(() => resolve()));
    }
    const secret = await run(['fetch', '-x', 'http://someone:hunter2-secret@127.0.0.1:1', `${base}/x`]);
    assert.equal(secret.code, 1);
    assert.doesNotMatch(secret.stderr + secret.stdout, /hunter2/);
    const alone = await run(['fetch', '--proxy-spn', bed.spn, `${base}/x`]);
    assert.equal(alone.code, 1);
    assert.match(alone.stderr, /--proxy-spn needs --proxy/);
  });

  it('whoami: what SECPKG_CRED_ATTR_NAMES gives for each package', async () => {
    const r = await run(['whoami', '--json']);
    const j = JSON.parse(r.stdout) as { user: string | null; packages: { package: string; user: string | null; error?: { function: string; code: string } }[] };
    assert.deepEqual(j.packages.map((p) => p.package), ['Negotiate', 'Kerberos', 'NTLM']);
    if (wineVersion()) {
      // Wine 10's secur32 implements QueryCredentialsAttributesW for no attribute of these packages
      // (measured: SEC_E_UNSUPPORTED_FUNCTION for each), so whoami has no name and exits 2.
      assert.equal(r.code, 2);
      assert.equal(j.user, null);
      for (const p of j.packages) assert.deepEqual(p, { package: p.package, user: null, error: { function: 'QueryCredentialsAttributes', code: 'SEC_E_UNSUPPORTED_FUNCTION' } });
    } else {
      // Microsoft's packages return the credentials' user for SECPKG_CRED_ATTR_NAMES
      // (https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycredentialsattributesw).
      assert.equal(r.code, 0, r.stderr);
      assert.ok(j.user && j.user.length > 0);
    }
  });

  it('token decodes what our own NTLM and Kerberos contexts send: the three NTLM messages, the AP-REQ and AP-REP', async () => {
    const ntlmClient = await Credentials.acquire({ package: 'NTLM', identity: { user: user.name, domain: bed.domain, password: user.password } });
    const ntlmServer = await Credentials.acquire({ package: 'NTLM', use: 'inbound' });
    const tokens: Buffer[] = [];
    try {
      const c = new ClientContext(ntlmClient);
      const s = new ServerContext(ntlmServer);
      const t1 = (await c.step()).token!;
      const t2 = (await s.step(t1)).token!;
      const t3 = (await c.step(t2)).token!;
      await s.step(t3);
      tokens.push(t1, t2, t3);
      c.dispose();
      s.dispose();
    } finally {
      ntlmClient.dispose();
      ntlmServer.dispose();
    }
    const n1 = decodeToken(tokens[0]);
    assert.equal(n1.type, 'ntlm-negotiate');
    const n2 = decodeToken(tokens[1]);
    assert.ok(n2.type === 'ntlm-challenge');
    assert.ok(n2.flags.includes('NTLMSSP_NEGOTIATE_TARGET_INFO'));
    assert.ok(n2.targetInfo.some((p) => p.id.name === 'MsvAvNbDomainName'), JSON.stringify(n2.targetInfo));
    assert.equal(n2.serverChallenge.length, 16);
    // The AUTHENTICATE_MESSAGE through the command, as a pasted header value.
    const r = await run(['token', '--json', `NTLM ${tokens[2].toString('base64')}`]);
    assert.equal(r.code, 0, r.stderr);
    const n3 = JSON.parse(r.stdout);
    assert.equal(n3.type, 'ntlm-authenticate');
    assert.equal(n3.user, user.name);
    assert.equal(n3.domain.toUpperCase(), bed.domain.toUpperCase());
    assert.equal(n3.ntChallengeResponse.kind, 'NTLMv2');
    assert.equal(n3.anonymous, false);
    assert.ok(!r.stdout.includes(user.password));

    const kc = await Credentials.acquire({ package: 'Negotiate' });
    const ks = await Credentials.acquire({ package: 'Negotiate', use: 'inbound' });
    try {
      const c = new ClientContext(kc, { targetName: bed.spn, requirements: { mutualAuthentication: true } });
      const s = new ServerContext(ks);
      const req = (await c.step()).token!;
      const rep = (await s.step(req)).token!;
      const k1 = decodeToken(req);
      const k2 = decodeToken(rep);
      assert.ok(k1.type === 'gss-initial-context-token' && k2.type !== 'undecoded', JSON.stringify(k1));
      let apReq: ReturnType<typeof decodeToken> | undefined;
      let apRep: ReturnType<typeof decodeToken> | undefined;
      if (wineVersion()) {
        // Wine 10's Negotiate sends the Kerberos mechanism's own GSS token (RFC 4121 4.1), not wrapped
        // in SPNEGO, and its acceptor answers likewise (measured).
        assert.equal(k1.mechanism.name, 'Kerberos 5');
        apReq = k1.innerToken;
        assert.ok(k2.type === 'gss-initial-context-token', JSON.stringify(k2));
        apRep = k2.innerToken;
      } else {
        // Microsoft's Negotiate is SPNEGO ([MS-SPNG], https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-spng/):
        // a NegTokenInit with Kerberos' AP-REQ as the optimistic mechToken, a NegTokenResp with the AP-REP.
        const init = k1.innerToken;
        assert.ok(init.type === 'spnego-neg-token-init', JSON.stringify(init));
        assert.ok(init.mechTypes.some((m) => m.name.startsWith('Kerberos 5')));
        apReq = init.mechToken?.type === 'gss-initial-context-token' ? init.mechToken.innerToken : init.mechToken;
        assert.ok(k2.type === 'spnego-neg-token-resp', JSON.stringify(k2));
        assert.equal(k2.negState?.name, 'accept-completed');
        apRep = k2.responseToken?.type === 'gss-initial-context-token' ? k2.responseToken.innerToken : k2.responseToken;
      }
      assert.ok(apReq?.type === 'kerberos-ap-req', JSON.stringify(apReq));
      assert.equal(apReq.ticket.realm, bed.realm);
      assert.deepEqual(apReq.ticket.sname.nameString, bed.spn.split('/'));
      assert.ok(apReq.apOptions.includes('mutual-required'));
      assert.equal(apRep?.type, 'kerberos-ap-rep');
      c.dispose();
      s.dispose();
    } finally {
      kc.dispose();
      ks.dispose();
    }
  });
});
