/**
 * IntegratedAuthenticator against clients that misbehave: anonymous logons, disconnects during a
 * step, floods of half-open handshakes, HTTP/2, pipelined re-authentication, reject tokens, and
 * tokens that cannot be tokens. Server and clients run in this Windows node.exe, over loopback.
 */
import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

import { ASC_RET } from '../../lib/constants';
import { ClientContext, ServerContext, ServerContextOptions, StepResult } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { SspiError } from '../../lib/errors';
import {
  AuthenticatedIdentity, AuthEvent, IntegratedAuthenticator, IntegratedAuthOptions, RETRY_AFTER_SECONDS,
} from '../../lib/http/server';
import { testBed } from '../support/env';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  wwwAuthenticate: string[];
  body: string;
}

/**
 * A server context whose established result carries ASC_RET_NULL_SESSION, as Microsoft's NTLM
 * reports an anonymous AUTHENTICATE_MESSAGE ([MS-NLMP] 3.2.5.1.2). Under Wine, Samba's ntlm_auth
 * refuses an anonymous logon outright (SEC_E_LOGON_DENIED), so the flag is added to a real user's
 * real handshake; the authenticator gets it through its ordinary createContext seam.
 * test/windows/anonymous.test.ts runs the real anonymous exchange on Microsoft's secur32.
 */
class NullSessionContext extends ServerContext {
  override async step(token?: Uint8Array): Promise<StepResult> {
    const r = await super.step(token);
    if (!r.complete) return r;
    this.contextAttr = (r.contextAttr | ASC_RET.NULL_SESSION) >>> 0;
    return { ...r, contextAttr: this.contextAttr };
  }
}

describe('IntegratedAuthenticator under hostile clients', () => {
  const bed = testBed();
  let server: http.Server;
  let auth: IntegratedAuthenticator;
  let port: number;
  let seen: AuthenticatedIdentity[];
  let events: AuthEvent[];
  let made: number;
  let running: Promise<unknown>[];
  /** The server's open connections. */
  let open: Set<net.Socket>;
  let ntlmCred: Credentials;
  let kerberosCred: Credentials;

  before(async () => {
    const user = bed.users[0];
    ntlmCred = await Credentials.acquire({ package: 'NTLM', identity: { user: user.name, domain: bed.domain, password: user.password } });
    kerberosCred = await Credentials.acquire({ package: 'Negotiate' });
  });

  after(() => {
    ntlmCred.dispose();
    kerberosCred.dispose();
  });

  type Handler = (req: http.IncomingMessage, res: http.ServerResponse, id: AuthenticatedIdentity) => void | Promise<void>;

  async function listen(options: IntegratedAuthOptions, handler?: Handler): Promise<void> {
    seen = [];
    events = [];
    made = 0;
    running = [];
    const factory = options.createContext ?? ((c: Credentials, o: ServerContextOptions) => new ServerContext(c, o));
    auth = new IntegratedAuthenticator({
      ...options,
      createContext: (c, o, s) => {
        made++;
        return factory(c, o, s);
      },
      onEvent: (e) => events.push(e),
    });
    server = http.createServer((req, res) => {
      const p = auth.authenticate(req, res).then(async (id) => {
        if (!id) return;
        seen.push(id);
        if (handler) await handler(req, res, id);
        else res.end(JSON.stringify({ scheme: id.scheme, package: id.package, anonymous: id.anonymous }));
      }, (err) => {
        res.statusCode = 500;
        res.end(String(err));
      });
      running.push(p);
    });
    open = new Set();
    server.on('connection', (socket: net.Socket) => {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
    });
    // Idle connections stay open (Node closes them after 5 s by default): what frees the contexts of
    // half-open handshakes here is the authenticator's handshake timeout, or the client's reset.
    server.keepAliveTimeout = 0;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  }

  afterEach(async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      if (typeof server.closeAllConnections === 'function') server.closeAllConnections(); // not on an http2 server
    });
    await auth.close();
  });

  function get(agent: http.Agent | false, authorization?: string, localAddress?: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const headers = authorization ? { Authorization: authorization } : {};
      http.get({ host: '127.0.0.1', port, path: '/', agent, headers, localAddress }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => { body += d; });
        res.on('end', () => {
          const wwwAuthenticate = res.rawHeaders.filter((_, i, all) => i % 2 === 1 && all[i - 1].toLowerCase() === 'www-authenticate');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, wwwAuthenticate, body });
        });
      }).on('error', reject);
    });
  }

  /** The whole NTLM or Negotiate handshake over one keep-alive connection; the last reply. */
  async function login(scheme: 'Negotiate' | 'NTLM', client: ClientContext, agent: http.Agent): Promise<Reply> {
    let token = (await client.step()).token!;
    for (;;) {
      const reply = await get(agent, `${scheme} ${token.toString('base64')}`);
      const header = reply.wwwAuthenticate.find((h) => h.startsWith(`${scheme} `));
      if (reply.status !== 401 || !header || client.complete) return reply;
      const next = await client.step(Buffer.from(header.slice(scheme.length + 1), 'base64'));
      if (!next.token) return reply;
      token = next.token;
    }
  }

  async function ntlmNegotiateMessage(): Promise<Buffer> {
    using client = new ClientContext(ntlmCred);
    return (await client.step()).token!;
  }

  async function kerberosToken(): Promise<Buffer> {
    using client = new ClientContext(kerberosCred, { targetName: bed.spn });
    return (await client.step()).token!;
  }

  const request = (authorization?: string, path = '/'): string =>
    `GET ${path} HTTP/1.1\r\nHost: x\r\n${authorization ? `Authorization: ${authorization}\r\n` : ''}\r\n`;

  /** Waits until `count` requests reached the server's handler (its authenticate() calls started). */
  async function requestsSeen(count: number): Promise<void> {
    while (running.length < count) await new Promise((resolve) => setImmediate(resolve));
  }

  /** Waits for the next event matching `match`. */
  async function eventSeen(match: (e: AuthEvent) => boolean, from = 0): Promise<AuthEvent> {
    for (let i = 0; i < 3000; i++) {
      const e = events.slice(from).find(match);
      if (e) return e;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`no such event in ${JSON.stringify(events.slice(from))}`);
  }

  describe('anonymous logons (ASC_RET_NULL_SESSION)', () => {
    it('are refused with 401 by default, and the context is deleted', async () => {
      await listen({ schemes: ['NTLM'], createContext: (c, o) => new NullSessionContext(c, o) });
      using client = new ClientContext(ntlmCred);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const final = await login('NTLM', client, agent);
        assert.equal(final.status, 401);
        assert.deepEqual(final.wwwAuthenticate, ['NTLM']);
        assert.equal(seen.length, 0);
        assert.ok(events.some((e) => e.type === 'rejected' && e.reason === 'ASC_RET_NULL_SESSION'), JSON.stringify(events));
        assert.deepEqual(auth.stats(), { pendingHandshakes: 0, contexts: 0 });
      } finally {
        agent.destroy();
      }
    });

    it('are let in with allowAnonymous, marked anonymous', async () => {
      await listen({ schemes: ['NTLM'], allowAnonymous: true, createContext: (c, o) => new NullSessionContext(c, o) });
      using client = new ClientContext(ntlmCred);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const final = await login('NTLM', client, agent);
        assert.equal(final.status, 200, final.body);
        assert.equal(JSON.parse(final.body).anonymous, true);
        assert.equal(seen[0].contextAttr & ASC_RET.NULL_SESSION, ASC_RET.NULL_SESSION);
      } finally {
        agent.destroy();
      }
    });

    it('a real user\'s logon is not anonymous', async () => {
      await listen({ schemes: ['NTLM'] });
      using client = new ClientContext(ntlmCred);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const final = await login('NTLM', client, agent);
        assert.equal(final.status, 200, final.body);
        assert.equal(JSON.parse(final.body).anonymous, false);
      } finally {
        agent.destroy();
      }
    });
  });

  describe('a connection reset during AcceptSecurityContext', () => {
    async function resetDuringSteps(options: IntegratedAuthOptions, count: number, token: () => Promise<Buffer>, scheme: string): Promise<void> {
      await listen(options);
      for (let i = 0; i < count; i++) {
        const t = await token();
        const socket = net.connect(port, '127.0.0.1');
        socket.on('error', () => { /* the reset */ });
        await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
        socket.write(request(`${scheme} ${t.toString('base64')}`));
        await requestsSeen(i + 1); // the server's authenticate() has begun: its step is under way
        socket.resetAndDestroy();
      }
      await Promise.all(running);
      // The server has seen every reset (its sockets closed), and every authenticate() has returned.
      for (let i = 0; open.size > 0; i++) {
        assert.ok(i < 3000, `${open.size} server sockets still open`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.deepEqual(auth.stats(), { pendingHandshakes: 0, contexts: 0 });
      // Most requests reached AcceptSecurityContext (one whose reset the server saw first makes no context).
      assert.ok(made >= count / 2, `${made} of ${count} requests reached AcceptSecurityContext`);
    }

    it('NTLM NEGOTIATE_MESSAGEs: no context is left behind', async () => {
      await resetDuringSteps({ schemes: ['NTLM'] }, 40, ntlmNegotiateMessage, 'NTLM');
    });

    it('NTLM NEGOTIATE_MESSAGEs with persistOnConnection: no context is left behind', async () => {
      await resetDuringSteps({ schemes: ['NTLM'], persistOnConnection: true }, 40, ntlmNegotiateMessage, 'NTLM');
    });

    it('Kerberos (complete in one step) with persistOnConnection: no context is left behind', async () => {
      await resetDuringSteps({ schemes: ['Negotiate'], persistOnConnection: true }, 100, kerberosToken, 'Negotiate');
    });
  });

  describe('limits on unfinished handshakes', () => {
    /** `count` connections from `localAddress`, each sending an NTLM NEGOTIATE_MESSAGE, then idling. */
    async function flood(count: number, localAddress: string): Promise<{ sockets: net.Socket[]; statuses: string[] }> {
      const type1 = (await ntlmNegotiateMessage()).toString('base64');
      const sockets: net.Socket[] = [];
      const replies: Promise<string>[] = [];
      for (let i = 0; i < count; i++) {
        const socket = net.connect({ port, host: '127.0.0.1', localAddress });
        socket.on('error', () => { /* closed at the end */ });
        sockets.push(socket);
        replies.push(new Promise((resolve) => {
          let text = '';
          socket.setEncoding('latin1');
          socket.on('data', (d: string) => {
            text += d;
            const status = /^HTTP\/1\.1 (\d{3}) [^]*?\r\n\r\n/.exec(text);
            if (status) resolve(`${status[1]}${/\r\nRetry-After: (\d+)\r\n/i.exec(text) ? ` retry-after ${/\r\nRetry-After: (\d+)\r\n/i.exec(text)![1]}` : ''}`);
          });
        }));
        socket.write(request(`NTLM ${type1}`));
      }
      return { sockets, statuses: await Promise.all(replies) };
    }

    function tally(statuses: string[]): Record<string, number> {
      const t: Record<string, number> = {};
      for (const s of statuses) t[s] = (t[s] ?? 0) + 1;
      return t;
    }

    it('300 half-open NTLM handshakes from one address stay within its cap; Kerberos and NTLM from another still get 200', async () => {
      await listen({ maxPendingHandshakes: 16, maxPendingHandshakesPerAddress: 8 });
      const { sockets, statuses } = await flood(300, '127.0.0.2');
      try {
        assert.deepEqual(tally(statuses), { 401: 8, [`503 retry-after ${RETRY_AFTER_SECONDS}`]: 292 });
        assert.equal(made, 8, 'AcceptSecurityContext ran for the held handshakes only');
        assert.deepEqual(auth.stats(), { pendingHandshakes: 8, contexts: 8 });
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        try {
          using kerberos = new ClientContext(kerberosCred, { targetName: bed.spn });
          assert.equal((await login('Negotiate', kerberos, agent)).status, 200);
          using ntlm = new ClientContext(ntlmCred);
          assert.equal((await login('NTLM', ntlm, agent)).status, 200);
        } finally {
          agent.destroy();
        }
      } finally {
        for (const s of sockets) s.destroy();
      }
    });

    it('with the server-wide cap reached: Kerberos still 200, NTLM 503 with Retry-After until the timeout frees a slot', async () => {
      await listen({ maxPendingHandshakes: 6, maxPendingHandshakesPerAddress: 4, handshakeTimeout: 10_000 });
      const a = await flood(50, '127.0.0.2');
      const b = await flood(50, '127.0.0.3');
      try {
        assert.deepEqual(tally([...a.statuses, ...b.statuses]), { 401: 6, [`503 retry-after ${RETRY_AFTER_SECONDS}`]: 94 });
        assert.equal(auth.stats().pendingHandshakes, 6);
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        try {
          using kerberos = new ClientContext(kerberosCred, { targetName: bed.spn });
          assert.equal((await login('Negotiate', kerberos, agent)).status, 200, 'a one-leg handshake is never held');
          using ntlm = new ClientContext(ntlmCred);
          const refused = await get(agent, `NTLM ${(await ntlm.step()).token!.toString('base64')}`);
          assert.equal(refused.status, 503);
          assert.equal(refused.headers['retry-after'], String(RETRY_AFTER_SECONDS));
          // The flood's contexts time out (handshakeTimeout) and are deleted: then NTLM gets through.
          for (let i = 0; auth.stats().pendingHandshakes > 0; i++) {
            if (i > 6000) throw new Error(`still pending: ${JSON.stringify(auth.stats())}; events ${JSON.stringify(events.map((e) => e.type))}`);
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          assert.equal(events.filter((e) => e.type === 'expired').length, 6);
          assert.equal(auth.stats().contexts, 0);
          using again = new ClientContext(ntlmCred);
          assert.equal((await login('NTLM', again, agent)).status, 200);
        } finally {
          agent.destroy();
        }
      } finally {
        for (const s of [...a.sockets, ...b.sockets]) s.destroy();
      }
    });

    it('the handshake timeout deletes an idle half-open context; its late AUTHENTICATE_MESSAGE gets 401', async () => {
      await listen({ schemes: ['NTLM'], handshakeTimeout: 300 });
      using client = new ClientContext(ntlmCred);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const challenge = await get(agent, `NTLM ${(await client.step()).token!.toString('base64')}`);
        assert.equal(challenge.status, 401);
        assert.equal(challenge.wwwAuthenticate.length, 1, 'a CHALLENGE_MESSAGE: the handshake was pending');
        await eventSeen((e) => e.type === 'expired');
        assert.deepEqual(auth.stats(), { pendingHandshakes: 0, contexts: 0 });
        const type3 = (await client.step(Buffer.from(challenge.wwwAuthenticate[0].slice(5), 'base64'))).token!;
        const late = await get(agent, `NTLM ${type3.toString('base64')}`);
        assert.equal(late.status, 401);
        assert.equal(seen.length, 0);
      } finally {
        agent.destroy();
      }
    });

    it("the SSPI call queue's ERR_SSPI_QUEUE_FULL gets 503 with Retry-After", async () => {
      class QueueFull extends ServerContext {
        override step(): Promise<StepResult> {
          return Promise.reject(Object.assign(new Error('the SSPI call queue is full'), { code: 'ERR_SSPI_QUEUE_FULL' }));
        }
      }
      await listen({ schemes: ['Negotiate'], createContext: (c, o) => new QueueFull(c, o) });
      const reply = await get(false, `Negotiate ${(await kerberosToken()).toString('base64')}`);
      assert.equal(reply.status, 503);
      assert.equal(reply.headers['retry-after'], String(RETRY_AFTER_SECONDS));
      assert.deepEqual(auth.stats(), { pendingHandshakes: 0, contexts: 0 });
    });
  });

  describe('HTTP/2', () => {
    it('NTLM, Negotiate and no Authorization: the stream is reset with HTTP_1_1_REQUIRED, no SSPI call, nobody authenticated', async () => {
      seen = [];
      events = [];
      made = 0;
      auth = new IntegratedAuthenticator({ createContext: (c, o) => { made++; return new ServerContext(c, o); }, onEvent: (e) => events.push(e) });
      const h2 = http2.createServer((req, res) => {
        auth.authenticate(req, res).then((id) => {
          if (!id) return;
          seen.push(id);
          res.end('in');
        }, () => res.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
      });
      server = h2 as unknown as http.Server; // afterEach closes it
      await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
      const session = http2.connect(`http://127.0.0.1:${(h2.address() as AddressInfo).port}`);
      try {
        const headers = [
          { Authorization: `NTLM ${(await ntlmNegotiateMessage()).toString('base64')}` },
          { Authorization: `Negotiate ${(await kerberosToken()).toString('base64')}` },
          {},
        ];
        for (const extra of headers) {
          const stream = session.request({ ':path': '/', ...extra });
          let status: number | undefined;
          stream.on('response', (h) => { status = Number(h[':status']); });
          stream.on('error', () => { /* the reset */ });
          stream.resume();
          const code = await new Promise<number>((resolve) => stream.on('close', () => resolve(stream.rstCode)));
          assert.equal(code, http2.constants.NGHTTP2_HTTP_1_1_REQUIRED, JSON.stringify(extra));
          assert.equal(status, undefined, 'no response headers');
        }
        assert.equal(made, 0);
        assert.equal(seen.length, 0);
        assert.deepEqual(events.map((e) => e.reason), ['HTTP_1_1_REQUIRED', 'HTTP_1_1_REQUIRED', 'HTTP_1_1_REQUIRED']);
      } finally {
        session.destroy();
      }
    });
  });

  describe('persistOnConnection and pipelining', () => {
    it("a pipelined re-authentication does not delete the context of an earlier request whose handler still runs", async () => {
      let reauthenticated!: () => void;
      const reauth = new Promise<void>((resolve) => { reauthenticated = resolve; });
      await listen({ schemes: ['NTLM'], persistOnConnection: true }, async (req, res, id) => {
        if (req.url === '/hold') {
          await reauth; // the next request on the connection has started a new handshake meanwhile
          let sizes = 'ok';
          try {
            id.context.sizes();
          } catch (e) {
            sizes = String(e);
          }
          res.end(JSON.stringify({ disposed: id.context.disposed, sizes }));
          return;
        }
        res.end('ok');
      });
      using client = new ClientContext(ntlmCred);
      const socket = net.connect(port, '127.0.0.1');
      let received = '';
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => { received += d; });
      /** The responses received so far as 'status body', once there are `count`. */
      const responses = async (count: number): Promise<string[]> => {
        for (let i = 0; i < 1000; i++) {
          const all = received.split(/(?=HTTP\/1\.1 \d{3} )/).filter(Boolean)
            .map((r) => `${r.slice(9, 12)} ${r.slice(r.indexOf('\r\n\r\n') + 4).trim()}`);
          if (all.length >= count) return all;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        throw new Error(`no ${count} responses in:\n${received}`);
      };
      try {
        await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
        socket.write(request(`NTLM ${(await client.step()).token!.toString('base64')}`));
        await responses(1);
        const type2 = Buffer.from(/WWW-Authenticate: NTLM (\S+)/.exec(received)![1], 'base64');
        socket.write(request(`NTLM ${(await client.step(type2)).token!.toString('base64')}`));
        assert.match((await responses(2))[1], /^200 /);
        const firstContext = seen[0].context;
        // /hold uses the persisted identity; the second request starts a new handshake behind it.
        const from = events.length;
        socket.write(request(undefined, '/hold') + request(`NTLM ${(await ntlmNegotiateMessage()).toString('base64')}`));
        await eventSeen((e) => e.type === 'continue', from);
        reauthenticated();
        const all = await responses(4);
        assert.equal(all[2], `200 ${JSON.stringify({ disposed: false, sizes: 'ok' })}`);
        assert.match(all[3], /^401 /);
        assert.equal(firstContext.disposed, true, 'deleted once /hold had ended');
        assert.deepEqual(auth.stats(), { pendingHandshakes: 1, contexts: 1 }, 'only the new handshake remains');
      } finally {
        socket.destroy();
      }
    });
  });

  describe('output tokens of a failed step, and tokens that cannot be tokens', () => {
    it('a reject token that came with the failure goes back in WWW-Authenticate (RFC 4559)', async () => {
      const rejectToken = Buffer.from([0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x02]); // NegTokenResp { negState: reject }
      class Rejecting extends ServerContext {
        override step(): Promise<StepResult> {
          return Promise.reject(new SspiError(0x8009030c, 'AcceptSecurityContext', { package: 'Negotiate', token: rejectToken }));
        }
      }
      await listen({ createContext: (c, o) => new Rejecting(c, o) });
      const reply = await get(false, `Negotiate ${(await kerberosToken()).toString('base64')}`);
      assert.equal(reply.status, 401);
      assert.deepEqual(reply.wwwAuthenticate, [`Negotiate ${rejectToken.toString('base64')}`, 'NTLM']);
      assert.ok(events.some((e) => e.type === 'rejected' && e.reason === 'SEC_E_LOGON_DENIED'));
      assert.deepEqual(auth.stats(), { pendingHandshakes: 0, contexts: 0 });
    });

    it('a failure without a token (a replayed Kerberos token) gets the plain challenge', async () => {
      await listen({});
      const token = `Negotiate ${(await kerberosToken()).toString('base64')}`;
      assert.equal((await get(false, token)).status, 200);
      const replayed = await get(false, token);
      assert.equal(replayed.status, 401);
      assert.deepEqual(replayed.wwwAuthenticate, ['Negotiate', 'NTLM']);
      assert.deepEqual(auth.stats(), { pendingHandshakes: 0, contexts: 0 });
    });

    it('tokens whose framing cannot be a token get 401 without any SSPI call', async () => {
      await listen({});
      const type1 = await ntlmNegotiateMessage();
      const kerberos = await kerberosToken();
      const bad = [
        `Negotiate ${Buffer.from('hello, world').toString('base64')}`,
        `Negotiate ${Buffer.concat([kerberos.subarray(0, 1), Buffer.from([0x84, 0xff, 0xff, 0xff, 0xff]), kerberos.subarray(2)]).toString('base64')}`,
        `Negotiate ${kerberos.subarray(0, kerberos.length - 1).toString('base64')}`,
        `NTLM ${kerberos.toString('base64')}`, // a GSS token under the NTLM scheme
        `NTLM ${Buffer.concat([type1.subarray(0, 8), Buffer.from([2, 0, 0, 0]), type1.subarray(12)]).toString('base64')}`, // CHALLENGE type
        `NTLM ${Buffer.alloc(64, 0x41).toString('base64')}`,
      ];
      for (const value of bad) {
        const reply = await get(false, value);
        assert.equal(reply.status, 401, value);
        assert.deepEqual(reply.wwwAuthenticate, ['Negotiate', 'NTLM']);
      }
      assert.equal(made, 0, 'AcceptSecurityContext was never called');
      assert.equal(events.filter((e) => e.reason === 'malformed token').length, bad.length);
    });
  });
});
