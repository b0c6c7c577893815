/**
 * IntegratedAuthenticator in proxy mode (`proxy: true`): a small forward proxy on node:http in
 * node.exe under Wine, authenticating with `Proxy-Authorization` / `407 Proxy-Authenticate`
 * (RFC 7235 sections 3.2, 4.3, 4.4; RFC 4559 for the Negotiate tokens), for requests in
 * absolute-form (the 'request' event, through the middleware) and CONNECT (the 'connect' event,
 * through authenticateConnect), driven by raw ClientContexts over node:http and node:net (the
 * NegotiateAgent's own 407 support is tested with it, in test/unit/http-client*.test.ts).
 */
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

import { ClientContext, ServerContext } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { AuthenticatedIdentity, AuthEvent, IntegratedAuthenticator, IntegratedAuthOptions } from '../../lib/http/server';
import { testBed } from '../support/env';
import { forwardRequest } from '../support/http';

/** A response as read off a raw socket: status, header fields (lower-case names, all values), body. */
interface RawReply {
  status: number;
  headers: Map<string, string[]>;
  body: string;
}

/** The next bytes `socket` has (paused mode: nothing is lost between reads). */
async function nextBytes(socket: net.Socket): Promise<Buffer> {
  for (;;) {
    const chunk = socket.read() as Buffer | null;
    if (chunk) return chunk;
    if (socket.readableEnded || socket.destroyed) throw new Error('connection closed');
    await Promise.race([once(socket, 'readable'), once(socket, 'close')]);
  }
}

/** Reads one HTTP/1.1 response head (and a Content-Length body) from `socket`; leftover bytes are unshifted. */
async function readReply(socket: net.Socket): Promise<RawReply> {
  let buffered = Buffer.alloc(0);
  for (;;) {
    const end = buffered.indexOf('\r\n\r\n');
    if (end >= 0) {
      const lines = buffered.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])![1]);
      const headers = new Map<string, string[]>();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim().toLowerCase();
        headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
      }
      let rest = buffered.subarray(end + 4);
      const length = Number(headers.get('content-length')?.[0] ?? 0);
      while (rest.length < length) rest = Buffer.concat([rest, await nextBytes(socket)]);
      if (rest.length > length) socket.unshift(rest.subarray(length));
      return { status, headers, body: rest.subarray(0, length).toString('utf8') };
    }
    buffered = Buffer.concat([buffered, await nextBytes(socket)]);
  }
}

const tokenOf = (reply: { headers: Map<string, string[]> } | http.IncomingMessage, scheme: string): Buffer | undefined => {
  const values = reply instanceof http.IncomingMessage
    ? [reply.headers['proxy-authenticate'] ?? []].flat()
    : reply.headers.get('proxy-authenticate') ?? [];
  const v = values.find((h) => h.startsWith(`${scheme} `));
  return v ? Buffer.from(v.slice(scheme.length + 1), 'base64') : undefined;
};

describe('IntegratedAuthenticator proxy: true (a Node forward proxy)', () => {
  const bed = testBed();
  let origin: http.Server;
  let originPort: number;
  let proxy: http.Server | undefined;
  let proxyPort: number;
  let auth: IntegratedAuthenticator;
  let events: AuthEvent[];
  let identities: AuthenticatedIdentity[];
  let contextsMade: number;
  const sockets: net.Socket[] = [];
  const agents: http.Agent[] = [];

  before(async () => {
    // The origin echoes what reached it: the request target and the two authorization headers.
    origin = http.createServer((req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ url: req.url, authorization: req.headers.authorization ?? null, proxyAuthorization: req.headers['proxy-authorization'] ?? null }));
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    originPort = (origin.address() as AddressInfo).port;
  });
  after(async () => {
    origin.closeAllConnections();
    await new Promise((resolve) => origin.close(resolve));
  });

  async function listenProxy(options: IntegratedAuthOptions = {}): Promise<void> {
    events = [];
    identities = [];
    contextsMade = 0;
    auth = new IntegratedAuthenticator({
      proxy: true,
      ...options,
      onEvent: (e) => {
        events.push(e);
        if (e.identity) identities.push(e.identity);
      },
      createContext: (c, o) => {
        contextsMade++;
        return new ServerContext(c, o);
      },
    });
    const middleware = auth.middleware();
    proxy = http.createServer((req, res) => {
      middleware(req, res, (err) => {
        if (err) {
          res.writeHead(500).end(String(err));
          return;
        }
        // Forward the absolute-form request, without the proxy's own credentials (hop-by-hop); the
        // response keeps the final Proxy-Authenticate the authenticator set on it.
        const final = res.getHeader('Proxy-Authenticate');
        forwardRequest(req, res, { agent: false, headers: final ? { 'Proxy-Authenticate': final } : {} });
      });
    });
    proxy.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      auth.authenticateConnect(req, socket, head).then((result) => {
        if (!result) return;
        const [host, port] = req.url!.split(':');
        const upstream = net.connect(Number(port), host, () => {
          const extra = Object.entries(result.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
          socket.write(`HTTP/1.1 200 Connection Established\r\n${extra}\r\n`);
          if (head.length) upstream.write(head);
          upstream.pipe(socket).pipe(upstream);
        });
        upstream.on('error', () => socket.destroy());
        socket.on('error', () => upstream.destroy());
      }, () => socket.destroy());
    });
    await new Promise<void>((resolve) => proxy!.listen(0, '127.0.0.1', resolve));
    proxyPort = (proxy.address() as AddressInfo).port;
  }

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    for (const a of agents.splice(0)) a.destroy();
    if (proxy) {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy!.close(resolve));
      proxy = undefined;
    }
    await auth.close();
  });

  function agent(): http.Agent {
    const a = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(a);
    return a;
  }

  /** One GET of http://127.0.0.1:<origin>/x through the proxy (absolute-form), with `headers`. */
  function viaProxy(via: http.Agent, headers: Record<string, string>): Promise<{ res: http.IncomingMessage; body: string }> {
    return new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: proxyPort, path: `http://127.0.0.1:${originPort}/x?y=1`, agent: via, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => { body += d; });
        res.on('end', () => resolve({ res, body }));
      }).on('error', reject);
    });
  }

  async function rawConnect(): Promise<net.Socket> {
    const s = net.connect(proxyPort, '127.0.0.1');
    sockets.push(s);
    await once(s, 'connect');
    return s;
  }

  const connectRequest = (proxyAuthorization?: string): string =>
    `CONNECT 127.0.0.1:${originPort} HTTP/1.1\r\nHost: 127.0.0.1:${originPort}\r\n${proxyAuthorization ? `Proxy-Authorization: ${proxyAuthorization}\r\n` : ''}\r\n`;

  it('no Proxy-Authorization: 407 with Proxy-Authenticate Negotiate, NTLM (no WWW-Authenticate), the origin not reached', async () => {
    await listenProxy();
    const { res } = await viaProxy(agent(), {});
    assert.equal(res.statusCode, 407);
    assert.deepEqual(res.headersDistinct['proxy-authenticate'], ['Negotiate', 'NTLM']);
    assert.equal(res.headers['www-authenticate'], undefined);
    assert.deepEqual(events.map((e) => e.type), ['challenge']);
  });

  it("the origin's Authorization header is not read by the proxy: Negotiate in Authorization alone gets 407, no SSPI call", async () => {
    await listenProxy();
    using cred = await Credentials.acquire({ package: 'Negotiate' });
    using client = new ClientContext(cred, { targetName: bed.spn });
    const token = (await client.step()).token!;
    const { res } = await viaProxy(agent(), { Authorization: `Negotiate ${token.toString('base64')}` });
    assert.equal(res.statusCode, 407);
    assert.equal(contextsMade, 0);
  });

  it('Kerberos in absolute-form: 200 from the origin, the final token in Proxy-Authenticate verifies; Authorization goes through untouched', async () => {
    await listenProxy();
    using cred = await Credentials.acquire({ package: 'Negotiate' });
    using client = new ClientContext(cred, { targetName: bed.spn, contextReq: 0x2 | 0x800 }); // ISC_REQ_MUTUAL_AUTH | ISC_REQ_CONNECTION
    const first = await client.step();
    const { res, body } = await viaProxy(agent(), { 'Proxy-Authorization': `Negotiate ${first.token!.toString('base64')}`, Authorization: 'Bearer origin-token' });
    assert.equal(res.statusCode, 200, body);
    assert.deepEqual(JSON.parse(body), { url: '/x?y=1', authorization: 'Bearer origin-token', proxyAuthorization: null });
    const final = tokenOf(res, 'Negotiate');
    assert.ok(final, 'the AP-REP in Proxy-Authenticate');
    const done = await client.step(final);
    assert.equal(done.complete, true);
    assert.equal(identities[0].package, 'Kerberos');
  });

  it('NTLM in absolute-form: the legs on one connection (407, 407 with the CHALLENGE), then 200; persisted on that connection', async () => {
    await listenProxy();
    const user = bed.users[0];
    using cred = await Credentials.acquire({ package: 'NTLM', identity: { user: user.name, domain: bed.domain, password: user.password } });
    using client = new ClientContext(cred);
    const via = agent();
    const negotiate = await client.step();
    const challenge = await viaProxy(via, { 'Proxy-Authorization': `NTLM ${negotiate.token!.toString('base64')}` });
    assert.equal(challenge.res.statusCode, 407);
    const authenticate = await client.step(tokenOf(challenge.res, 'NTLM'));
    const ok = await viaProxy(via, { 'Proxy-Authorization': `NTLM ${authenticate.token!.toString('base64')}` });
    assert.equal(ok.res.statusCode, 200, ok.body);
    assert.equal(identities[0].package, 'NTLM');
    const again = await viaProxy(via, {});
    assert.equal(again.res.statusCode, 200, 'persisted NTLM on the client connection');
    const other = await viaProxy(agent(), {});
    assert.equal(other.res.statusCode, 407, 'another connection is not');
  });

  it('CONNECT with Kerberos: 200 Connection Established with the final token, then the tunnel reaches the origin', async () => {
    await listenProxy();
    using cred = await Credentials.acquire({ package: 'Negotiate' });
    using client = new ClientContext(cred, { targetName: bed.spn });
    const first = await client.step();
    const s = await rawConnect();
    s.write(connectRequest(`Negotiate ${first.token!.toString('base64')}`));
    const established = await readReply(s);
    assert.equal(established.status, 200);
    assert.equal((await client.step(tokenOf(established, 'Negotiate'))).complete, true);
    s.write(`GET /through HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    const tunneled = await readReply(s);
    assert.equal(tunneled.status, 200);
    assert.equal(JSON.parse(tunneled.body).url, '/through');
  });

  it('CONNECT with NTLM: 407 without credentials, then the two legs on the same connection, then the tunnel', async () => {
    await listenProxy();
    const user = bed.users[0];
    using cred = await Credentials.acquire({ package: 'NTLM', identity: { user: user.name, domain: bed.domain, password: user.password } });
    using client = new ClientContext(cred);
    const s = await rawConnect();
    s.write(connectRequest());
    const challenge0 = await readReply(s);
    assert.equal(challenge0.status, 407);
    assert.deepEqual(challenge0.headers.get('proxy-authenticate'), ['Negotiate', 'NTLM']);
    const negotiate = await client.step();
    s.write(connectRequest(`NTLM ${negotiate.token!.toString('base64')}`));
    const challenge = await readReply(s);
    assert.equal(challenge.status, 407);
    const authenticate = await client.step(tokenOf(challenge, 'NTLM'));
    s.write(connectRequest(`NTLM ${authenticate.token!.toString('base64')}`));
    const established = await readReply(s);
    assert.equal(established.status, 200, JSON.stringify(events));
    s.write(`GET /ntlm HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    const tunneled = await readReply(s);
    assert.equal(JSON.parse(tunneled.body).url, '/ntlm');
    assert.equal(identities.length, 1);
    s.destroy();
    await once(s, 'close');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(auth.stats(), { pendingHandshakes: 0, contexts: 0 }, 'the tunnel closed: its context deleted');
  });

  it('CONNECT with a garbage token: 407, the connection still usable for a good one', async () => {
    await listenProxy();
    const s = await rawConnect();
    s.write(connectRequest('Negotiate AAAA'));
    assert.equal((await readReply(s)).status, 407);
    s.write(connectRequest('Bearer x'));
    assert.equal((await readReply(s)).status, 407);
    assert.equal(contextsMade, 0);
    using cred = await Credentials.acquire({ package: 'Negotiate' });
    using client = new ClientContext(cred, { targetName: bed.spn });
    s.write(connectRequest(`Negotiate ${(await client.step()).token!.toString('base64')}`));
    assert.equal((await readReply(s)).status, 200);
  });

  it('authenticateConnect refuses what is not a CONNECT request with TypeError', async () => {
    await listenProxy();
    const req = new http.IncomingMessage(new net.Socket());
    req.method = 'GET';
    await assert.rejects(auth.authenticateConnect(req, req.socket), TypeError);
    req.method = 'CONNECT';
    await assert.rejects(auth.authenticateConnect(req, new net.Socket()), TypeError);
    await assert.rejects(auth.authenticateConnect(req, req.socket, 'head' as unknown as Buffer), TypeError);
  });
});
