import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import * as https from 'node:https';
import * as dns from 'node:dns';
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

import { fetch as undiciFetch } from 'undici';

import { tlsServerEndPointBindings } from '../../lib/bindings';
import { ClientContext, ServerContext, ServerContextOptions, StepOptions } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { RequirementError } from '../../lib/errors';
import { NegotiateAgent, NegotiateClientError, sspiFetch } from '../../lib/http/client';
import { AuthEvent, IntegratedAuthenticator, IntegratedAuthOptions } from '../../lib/http/server';
import { handleFigures } from '../../lib/raw';
import { testBed } from '../support/env';
import { makeCertificate } from '../support/certificates';
import { AuthServer, listenAuth } from '../support/http';

// The Negotiate/NTLM fetch client (an undici Dispatcher) against our own IntegratedAuthenticator on
// node:http, both in this Windows node.exe under Wine.
describe('NegotiateAgent: fetch with Negotiate/NTLM against IntegratedAuthenticator', () => {
  const bed = testBed();
  let running: AuthServer | undefined;
  let events: AuthEvent[];
  let authorizations: (string | undefined)[];
  let connections: number;
  let base: string;
  const extra: http.Server[] = [];

  async function listen(options: IntegratedAuthOptions): Promise<void> {
    events = [];
    authorizations = [];
    connections = 0;
    const auth = new IntegratedAuthenticator({ ...options, onEvent: (e) => events.push(e) });
    running = await listenAuth(auth, async (req, res) => {
      authorizations.push(req.headers.authorization);
      const id = await auth.authenticate(req, res);
      if (id) res.end(JSON.stringify({ package: id.package, scheme: id.scheme }));
    });
    running.server.on('connection', () => connections++);
    base = `http://127.0.0.1:${running.port}`;
  }

  /** A plain server on 127.0.0.1 (closed after the test). */
  async function plain(handler: http.RequestListener): Promise<string> {
    const server = http.createServer(handler);
    extra.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  afterEach(async () => {
    await running?.close();
    running = undefined;
    for (const s of extra.splice(0)) {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
  });

  const ntlmIdentity = (i = 0): { user: string; domain: string; password: string } =>
    ({ user: bed.users[i].name, domain: bed.domain, password: bed.users[i].password });

  it('Kerberos through Negotiate with Node\'s global fetch: 200, and the mutual-auth token verified', async () => {
    await listen({ schemes: ['Negotiate'] });
    const agent = new NegotiateAgent({ origins: [base], spn: bed.spn, mutualAuthentication: true });
    try {
      const res = await fetch(`${base}/x`, { dispatcher: agent } as RequestInit);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { package: 'Kerberos', scheme: 'Negotiate' });
    } finally {
      await agent.close();
    }
  });

  it('NTLM with explicit credentials through sspiFetch (undici 6\'s fetch), a POST body replayed', async () => {
    await listen({ schemes: ['NTLM'] });
    const res = await sspiFetch(`${base}/post`, { method: 'POST', body: 'hello', sspi: { identity: ntlmIdentity() } });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { package: 'NTLM', scheme: 'NTLM' });
    assert.equal(authorizations.length, 3, 'probe, NEGOTIATE, AUTHENTICATE');
    assert.equal(connections, 1, 'the NTLM handshake on one connection');
  });

  it('a wrong password: the server\'s 401 is the response; the password appears nowhere', async () => {
    await listen({ schemes: ['NTLM'] });
    const wrong = 'Wr0ng-' + 'pässword-xyz';
    const agent = new NegotiateAgent({ origins: [base], identity: { ...ntlmIdentity(), password: wrong } });
    try {
      const res = await undiciFetch(`${base}/`, { dispatcher: agent });
      assert.equal(res.status, 401);
      const text = await res.text();
      assert.ok(!text.includes(wrong));
      assert.equal(events.at(-1)?.type, 'rejected');
      assert.ok(!JSON.stringify(events.map(({ type, reason }) => ({ type, reason }))).includes(wrong));
    } finally {
      await agent.close();
    }
  });

  it('100 keep-alive requests on one NTLM-authenticated connection with one handshake (server persists)', async () => {
    await listen({ schemes: ['NTLM'], persistOnConnection: true });
    const agent = new NegotiateAgent({ origins: [base], identity: ntlmIdentity() });
    try {
      for (let i = 0; i < 100; i++) {
        const res = await undiciFetch(`${base}/${i}`, { dispatcher: agent });
        assert.equal(res.status, 200);
        await res.text();
      }
      assert.equal(connections, 1);
      assert.equal(authorizations.filter((a) => a !== undefined).length, 2, 'one NEGOTIATE and one AUTHENTICATE');
      assert.equal(authorizations.length, 102);
    } finally {
      await agent.close();
    }
  });

  it('100 Kerberos requests, each authenticated (the server does not persist Kerberos)', async () => {
    await listen({ schemes: ['Negotiate'] });
    const agent = new NegotiateAgent({ origins: [base], spn: bed.spn, mutualAuthentication: true });
    try {
      for (let i = 0; i < 100; i++) {
        const res = await undiciFetch(`${base}/${i}`, { dispatcher: agent });
        assert.equal(res.status, 200);
        await res.text();
      }
      assert.equal(events.filter((e) => e.type === 'authenticated').length, 100);
    } finally {
      await agent.close();
    }
  });

  /** Fetches `url` through `agent` (then closes it); the fetch must reject with a NegotiateClientError cause, returned. */
  async function failure(url: string, agent: NegotiateAgent): Promise<NegotiateClientError> {
    try {
      const err = await undiciFetch(url, { dispatcher: agent }).then(() => undefined, (e: Error) => e);
      assert.ok(err, 'the fetch must reject');
      const cause = (err as Error & { cause?: unknown }).cause;
      assert.ok(cause instanceof NegotiateClientError, String(cause));
      return cause;
    } finally {
      await agent.close();
    }
  }

  /** A server that accepts Kerberos with its own ServerContext and returns `final(token)` as its last token. */
  async function forging(final: (token: Buffer) => Buffer | undefined): Promise<{ url: string; bodies: number }> {
    const credentials = await Credentials.acquire({ package: 'Negotiate', use: 'inbound' });
    const state = { bodies: 0, url: '' };
    state.url = await plain((req, res) => {
      const header = req.headers.authorization;
      if (!header) {
        res.writeHead(401, { 'WWW-Authenticate': 'Negotiate' }).end();
        return;
      }
      const server = new ServerContext(credentials);
      server.step(Buffer.from(header.slice('Negotiate '.length), 'base64')).then((r) => {
        const token = r.token ? final(r.token) : undefined;
        state.bodies++;
        res.writeHead(200, token ? { 'WWW-Authenticate': `Negotiate ${token.toString('base64')}` } : {}).end('secret body');
      }, (e: Error) => res.writeHead(500).end(e.message)).finally(() => server.dispose());
    });
    extra.at(-1)!.on('close', () => credentials.dispose());
    return state;
  }

  it('a server whose final token is forged (one byte changed) is rejected, its body not handed out', async () => {
    const server = await forging((t) => {
      const f = Buffer.from(t);
      f[f.length - 5] ^= 0x55;
      return f;
    });
    const cause = await failure(`${server.url}/`, new NegotiateAgent({ origins: [server.url], spn: bed.spn }));
    assert.equal(cause.code, 'ERR_SSPI_MUTUAL_AUTH_FAILED');
    assert.equal(server.bodies, 1);
  });

  it('mutualAuthentication: a server that sends no final token is rejected', async () => {
    const server = await forging(() => undefined);
    const cause = await failure(`${server.url}/`, new NegotiateAgent({ origins: [server.url], spn: bed.spn, mutualAuthentication: true }));
    assert.equal(cause.code, 'ERR_SSPI_MUTUAL_AUTH_REQUIRED');
  });

  it('mutualAuthentication over NTLM, which never proves the server: ERR_SSPI_MUTUAL_AUTH_REQUIRED, as for a missing final token', async () => {
    // NTLM has no mutual authentication: its client context completes on the AUTHENTICATE message without
    // ISC_RET_MUTUAL_AUTH, so the context's requirement fails there (RequirementError inside), and the
    // agent reports it with the code it uses when a Kerberos server sends no final token.
    await listen({ schemes: ['NTLM'] });
    const cause = await failure(`${base}/`, new NegotiateAgent({ origins: [base], identity: ntlmIdentity(), mutualAuthentication: true }));
    assert.equal(cause.code, 'ERR_SSPI_MUTUAL_AUTH_REQUIRED');
    assert.ok(cause.cause instanceof RequirementError && cause.cause.code === 'ERR_SSPI_MUTUAL_AUTH_REQUIRED', String(cause.cause));
    assert.match(cause.message, /server/);
  });

  it('a redirect to another origin is followed without a token, even when that origin challenges', async () => {
    await listen({ schemes: ['Negotiate'] });
    const seenElsewhere: (string | undefined)[] = [];
    const other = await plain((req, res) => {
      seenElsewhere.push(req.headers.authorization);
      res.writeHead(401, { 'WWW-Authenticate': 'Negotiate' }).end();
    });
    const redirector = await plain((req, res) => res.writeHead(302, { Location: `${other}/landing` }).end());
    const agent = new NegotiateAgent({ origins: [base, redirector], spn: bed.spn });
    try {
      const res = await fetch(`${redirector}/go`, { dispatcher: agent } as RequestInit);
      assert.equal(res.status, 401);
      assert.equal(res.url, `${other}/landing`);
      assert.deepEqual(seenElsewhere, [undefined]);
    } finally {
      await agent.close();
    }
  });

  it('the server closing the connection in the middle of the NTLM handshake fails the request clearly', async () => {
    const auth = new IntegratedAuthenticator({ schemes: ['NTLM'] });
    running = await listenAuth(auth, async (req, res) => {
      if (req.headers.authorization) res.shouldKeepAlive = false; // the CHALLENGE goes with Connection: close
      const id = await auth.authenticate(req, res);
      if (id) res.end('ok');
    });
    const url = `http://127.0.0.1:${running.port}`;
    const cause = await failure(`${url}/`, new NegotiateAgent({ origins: [url], identity: ntlmIdentity() }));
    assert.equal(cause.code, 'ERR_SSPI_CONNECTION_CHANGED');
  });

  it('the README fetch-client snippet runs as written (the example host swapped for this server)', async () => {
    await listen({ schemes: ['Negotiate'] });
    const readme = fs.readFileSync(path.join(bed.repoDir, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Integrated Windows authentication for HTTP clients'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)![1]
      .replace(/^import \{ ([^}]+) \} from 'sspi';$/m, (_, names: string) => `const { ${names} } = require(${JSON.stringify(path.resolve(__dirname, '..', '..', 'lib'))});`)
      .replaceAll('http://intranet.example.com', base).replaceAll('HTTP/intranet.example.com', bed.spn);
    const printed: unknown[][] = [];
    const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
    await new AsyncFunction('require', 'console', code)(require, { log: (...a: unknown[]) => printed.push(a) });
    assert.deepEqual(printed, [[200, '{"package":"Kerberos","scheme":"Negotiate"}'], [200, '{"package":"Kerberos","scheme":"Negotiate"}']]);
  });

  it('the SPN: HTTP/<host of the URL> by default, `spn` as given, CNAMEs followed with canonicalizeHostname', async () => {
    await listen({ schemes: ['NTLM'] }); // NTLM ignores the target name, so any SPN authenticates
    const targets: (string | undefined)[] = [];
    const originalStep = ClientContext.prototype.step;
    const originalCname = dns.promises.resolveCname;
    ClientContext.prototype.step = function (this: ClientContext, token?: Uint8Array, options?: StepOptions) {
      targets.push(this.targetName);
      return originalStep.call(this, token, options);
    };
    const cnames: Record<string, string> = { '127.0.0.1': 'alias.example.com', 'alias.example.com': 'web01.example.com' };
    dns.promises.resolveCname = (async (name: string) => {
      if (cnames[name]) return [cnames[name]];
      throw Object.assign(new Error('no CNAME'), { code: 'ENODATA' });
    }) as typeof dns.promises.resolveCname;
    try {
      for (const extraOptions of [{}, { spn: 'HTTP/explicit.example.com' }, { canonicalizeHostname: true }]) {
        const agent = new NegotiateAgent({ origins: [base], identity: ntlmIdentity(), ...extraOptions });
        const res = await undiciFetch(`${base}/`, { dispatcher: agent });
        assert.equal(res.status, 200);
        await res.text();
        await agent.close();
      }
    } finally {
      ClientContext.prototype.step = originalStep;
      dns.promises.resolveCname = originalCname;
    }
    assert.deepEqual(targets, [
      'HTTP/127.0.0.1', 'HTTP/127.0.0.1', 'HTTP/explicit.example.com', 'HTTP/explicit.example.com', 'HTTP/web01.example.com', 'HTTP/web01.example.com',
    ]);
  });

  it('an abort while the authenticated body streams ends the request; the next request works', async () => {
    const auth = new IntegratedAuthenticator({ schemes: ['NTLM'] });
    let stalled = 0;
    running = await listenAuth(auth, async (req, res) => {
      const id = await auth.authenticate(req, res);
      if (!id) return;
      if (req.url === '/stall') {
        stalled++;
        res.write('first chunk'); // and never the rest
        return;
      }
      res.end('done');
    });
    const url = `http://127.0.0.1:${running.port}`;
    const agent = new NegotiateAgent({ origins: [url], identity: ntlmIdentity() });
    try {
      const controller = new AbortController();
      const res = await undiciFetch(`${url}/stall`, { dispatcher: agent, signal: controller.signal });
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      assert.equal(Buffer.from((await reader.read()).value!).toString(), 'first chunk');
      const pending = reader.read();
      controller.abort();
      await assert.rejects(pending, (e: Error) => e.name === 'AbortError');
      assert.equal(stalled, 1);
      const next = await undiciFetch(`${url}/`, { dispatcher: agent });
      assert.equal(await next.text(), 'done');
    } finally {
      await agent.destroy();
    }
  });

  // Hostile servers whose tokens never reach SSPI as random bytes (those: http-client-hostile.test.ts).
  async function cause(url: string, agent: NegotiateAgent): Promise<unknown> {
    try {
      const res = await undiciFetch(`${url}/`, { dispatcher: agent });
      await res.text();
      return res.status;
    } catch (e) {
      return (e as { cause?: unknown }).cause;
    } finally {
      await agent.close();
    }
  }

  it('a token that is not base64: ERR_SSPI_BAD_TOKEN before any SSPI call', async () => {
    const url = await plain((req, res) => {
      res.writeHead(401, { 'WWW-Authenticate': req.headers.authorization ? 'Negotiate **not-base64**' : 'Negotiate' }).end();
    });
    const c = await cause(url, new NegotiateAgent({ origins: [url], spn: bed.spn }));
    assert.ok(c instanceof NegotiateClientError, String(c));
    assert.equal(c.code, 'ERR_SSPI_BAD_TOKEN');
  });

  it('a server answering 401 with a fresh NTLM CHALLENGE forever: bounded (maxLegs, or the completed context)', async () => {
    const credentials = await Credentials.acquire({ package: 'NTLM', use: 'inbound' });
    let requests = 0;
    const url = await plain((req, res) => {
      requests++;
      const header = req.headers.authorization;
      if (!header) {
        res.writeHead(401, { 'WWW-Authenticate': 'NTLM' }).end();
        return;
      }
      // Every token, whatever it is, gets a new server context's CHALLENGE: the handshake never ends.
      const server = new ServerContext(credentials);
      const negotiate = header.startsWith('NTLM TlRMTVNTUAAB') ? Buffer.from(header.slice(5), 'base64') : undefined;
      const step = negotiate ? server.step(negotiate) : Promise.resolve(undefined);
      step.then((r) => res.writeHead(401, { 'WWW-Authenticate': r?.token ? `NTLM ${r.token.toString('base64')}` : 'NTLM' }).end(),
        () => res.writeHead(401, { 'WWW-Authenticate': 'NTLM' }).end()).finally(() => server.dispose());
    });
    const user = bed.users[0];
    const identity = { user: user.name, domain: bed.domain, password: user.password };
    try {
      const before = handleFigures();
      // maxLegs 1: the second 401 with a token is one leg too many.
      const c = await cause(url, new NegotiateAgent({ origins: [url], identity, maxLegs: 1 }));
      assert.ok(c instanceof NegotiateClientError, String(c));
      assert.equal(c.code, 'ERR_SSPI_TOO_MANY_LEGS');
      // Default maxLegs: the client context completes (AUTHENTICATE sent); the next 401 is the response.
      requests = 0;
      assert.equal(await cause(url, new NegotiateAgent({ origins: [url], identity })), 401);
      assert.equal(requests, 3, 'probe, NEGOTIATE, AUTHENTICATE: no more');
      const after = handleFigures();
      assert.equal(after.contexts, before.contexts);
    } finally {
      credentials.dispose();
    }
  });

  it('the server closing every connection on its first 401: the handshake starts on the new connection and the 401 loops are bounded', async () => {
    let requests = 0;
    const url = await plain((req, res) => {
      requests++;
      res.shouldKeepAlive = false;
      res.writeHead(401, { 'WWW-Authenticate': 'Negotiate' }).end();
    });
    const status = await cause(url, new NegotiateAgent({ origins: [url], spn: bed.spn }));
    assert.equal(status, 401, 'a 401 without a token after the first leg is the server refusing: handed back');
    assert.equal(requests, 2);
  });

  it('credentials given: their package picks the scheme; a package that is no HTTP scheme is a TypeError', async () => {
    await listen({ schemes: ['Negotiate', 'NTLM'] });
    using ntlm = await Credentials.acquire({ package: 'NTLM', identity: ntlmIdentity() });
    using kerberos = await Credentials.acquire({ package: 'Kerberos' });
    assert.throws(() => new NegotiateAgent({ origins: [base], credentials: kerberos }), TypeError);
    const agent = new NegotiateAgent({ origins: [base], credentials: ntlm });
    try {
      const res = await undiciFetch(`${base}/`, { dispatcher: agent });
      assert.deepEqual(await res.json(), { package: 'NTLM', scheme: 'NTLM' });
    } finally {
      await agent.close();
    }
    assert.equal(ntlm.disposed, false, 'the caller\'s credentials stay the caller\'s');
  });

  it('options of the wrong shape are TypeErrors; no origins means no agent', () => {
    assert.throws(() => new NegotiateAgent(undefined as never), TypeError);
    assert.throws(() => new NegotiateAgent({} as never), TypeError);
    assert.throws(() => new NegotiateAgent({ origins: ['http://x'], schemes: ['Basic' as never] }), TypeError);
    assert.throws(() => new NegotiateAgent({ origins: ['http://x'], maxLegs: 0 }), RangeError);
  });

  it('leaves no context or credentials handle behind', async () => {
    await listen({ schemes: ['Negotiate', 'NTLM'] });
    const before = handleFigures();
    for (const identity of [undefined, ntlmIdentity()]) {
      const agent = new NegotiateAgent({ origins: [base], spn: bed.spn, ...(identity ? { identity, schemes: ['NTLM' as const] } : {}) });
      const res = await undiciFetch(`${base}/`, { dispatcher: agent });
      assert.equal(res.status, 200);
      await res.text();
      await agent.close();
    }
    await running!.close();
    running = undefined;
    const after = handleFigures();
    assert.equal(after.contexts, before.contexts);
    assert.equal(after.credentials, before.credentials);
  });
});

// Channel bindings over HTTPS: our client passes the tls-server-end-point of the server certificate
// it sees to InitializeSecurityContext, and IntegratedAuthenticator with channelBindings:
// 'tls-server-end-point' passes the same bytes (its own certificate) to AcceptSecurityContext.
// Wine's Kerberos and NTLM ignore the buffer (test/unit/bindings.test.ts measures it), so here the
// bytes each side hands to SSPI are compared; Microsoft's secur32 compares them itself and fails a
// mismatch with SEC_E_BAD_BINDINGS (winerror.h 0x80090346).
describe('NegotiateAgent over HTTPS: tls-server-end-point channel bindings', () => {
  const bed = testBed();
  const made = makeCertificate('rsa-sha256', 'localhost');
  let server: https.Server;
  let auth: IntegratedAuthenticator;
  let url: string;
  let serverBindings: (Uint8Array | undefined)[];
  let clientBindings: (Uint8Array | null | undefined)[];
  const originalStep = ClientContext.prototype.step;

  async function listen(schemes: ('Negotiate' | 'NTLM')[]): Promise<void> {
    serverBindings = [];
    clientBindings = [];
    auth = new IntegratedAuthenticator({
      schemes, channelBindings: 'tls-server-end-point',
      createContext: (credentials: Credentials, options: ServerContextOptions) => {
        serverBindings.push(options.channelBindings);
        return new ServerContext(credentials, options);
      },
    });
    server = https.createServer({ cert: made.pem, key: made.key.export({ type: 'pkcs8', format: 'pem' }) as string }, (req, res) => {
      auth.authenticate(req, res).then((id) => {
        if (id) res.end(JSON.stringify({ package: id.package }));
      }, (e: Error) => res.writeHead(500).end(e.message));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Records the bindings each ISC gets: the context's own option, or the step's.
    ClientContext.prototype.step = function (this: ClientContext, token?: Uint8Array, options?: StepOptions) {
      const own = (this as unknown as { channelBindings?: Uint8Array }).channelBindings;
      clientBindings.push(options && 'channelBindings' in options ? options.channelBindings : own);
      return originalStep.call(this, token, options);
    };
  }

  afterEach(async () => {
    ClientContext.prototype.step = originalStep;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await auth.close();
  });

  const connect = { ca: made.pem, servername: 'localhost' };

  it('Kerberos through Negotiate: the client\'s bindings on every step are the server\'s', async () => {
    await listen(['Negotiate']);
    const agent = new NegotiateAgent({ origins: [url], spn: bed.spn, mutualAuthentication: true, connect });
    try {
      const res = await fetch(`${url}/`, { dispatcher: agent } as RequestInit);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { package: 'Kerberos' });
      const expected = tlsServerEndPointBindings(made.der);
      assert.equal(serverBindings.length, 1);
      assert.deepEqual(Buffer.from(serverBindings[0]!), expected);
      assert.equal(clientBindings.length, 2, 'the AP-REQ step and the AP-REP step');
      for (const b of clientBindings) assert.deepEqual(Buffer.from(b!), expected);
    } finally {
      await agent.close();
    }
  });

  it('NTLM: the bindings go with the AUTHENTICATE_MESSAGE step', async () => {
    await listen(['NTLM']);
    const user = bed.users[0];
    const agent = new NegotiateAgent({ origins: [url], identity: { user: user.name, domain: bed.domain, password: user.password }, connect });
    try {
      const res = await undiciFetch(`${url}/`, { dispatcher: agent });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { package: 'NTLM' });
      const expected = tlsServerEndPointBindings(made.der);
      assert.deepEqual(Buffer.from(serverBindings[0]!), expected);
      assert.equal(clientBindings.length, 2);
      assert.equal(clientBindings[0], undefined, 'none on the NEGOTIATE_MESSAGE step');
      assert.deepEqual(Buffer.from(clientBindings[1]!), expected);
    } finally {
      await agent.close();
    }
  });

  it("channelBindings: false sends none", async () => {
    await listen(['Negotiate']);
    const agent = new NegotiateAgent({ origins: [url], spn: bed.spn, channelBindings: false, connect });
    try {
      const res = await undiciFetch(`${url}/`, { dispatcher: agent });
      assert.equal(res.status, 200);
      await res.text();
      assert.ok(clientBindings.length > 0 && clientBindings.every((b) => b === undefined));
    } finally {
      await agent.close();
    }
  });
});
