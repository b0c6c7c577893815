import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

import { fetch as undiciFetch } from 'undici';

import { NegotiateAgent, NegotiateClientError } from '../../lib/http/client';
import { AuthEvent, IntegratedAuthenticator, IntegratedAuthOptions } from '../../lib/http/server';
import { handleFigures } from '../../lib/raw';
import { testBed } from '../support/env';
import { AuthServer, listenAuth } from '../support/http';

// Request bodies over maxBodyBytes: NegotiateAgent streams them once, where the handshake cannot
// need to replay them (an authenticated connection the server keeps, or an origin known to
// challenge), and refuses them elsewhere before anything is sent. NegotiateAgent against
// IntegratedAuthenticator on node:http, both in this Windows node.exe under Wine.
describe('NegotiateAgent: request bodies over maxBodyBytes, streamed once', () => {
  const bed = testBed();
  const MAX = 64 * 1024;
  const CHUNK = 16 * 1024;
  const BIG = 4 * 1024 * 1024;
  let running: AuthServer | undefined;
  let base: string;
  let events: AuthEvent[];
  /** Every request that reached the server: its Authorization, Content-Length and the bytes of its body that the server read. */
  let seen: { method: string; authorization: string | undefined; contentLength: string | undefined }[];
  /** What the application (the handler past authentication) saw: bytes and SHA-256 of each body. */
  let app: { bytes: number; sha256: string }[];
  /** Bytes the generator had yielded when the server first read a body byte. */
  let yieldedAtFirstByte: number | undefined;
  let yielded: number;

  /** `size` bytes of a fixed pattern from an async generator, CHUNK at a time, each after a turn of the event loop (as a file read would). */
  async function* generate(size: number): AsyncGenerator<Buffer> {
    for (let at = 0; at < size; at += CHUNK) {
      await new Promise((r) => setImmediate(r));
      const b = Buffer.alloc(Math.min(CHUNK, size - at), (at / CHUNK) % 251);
      yielded += b.length;
      yield b;
    }
  }
  const expected = (size: number): string => {
    const h = crypto.createHash('sha256');
    for (let at = 0; at < size; at += CHUNK) h.update(Buffer.alloc(Math.min(CHUNK, size - at), (at / CHUNK) % 251));
    return h.digest('hex');
  };

  async function listen(options: IntegratedAuthOptions,
    before?: (req: http.IncomingMessage, res: http.ServerResponse, n: number) => boolean): Promise<void> {
    events = [];
    seen = [];
    app = [];
    yielded = 0;
    yieldedAtFirstByte = undefined;
    const auth = new IntegratedAuthenticator({ ...options, onEvent: (e) => events.push(e) });
    running = await listenAuth(auth, async (req, res) => {
      seen.push({ method: req.method!, authorization: req.headers.authorization, contentLength: req.headers['content-length'] });
      // 'readable', not 'data': it reads nothing (the handler below reads the body).
      req.once('readable', () => { yieldedAtFirstByte ??= yielded; });
      if (before?.(req, res, seen.length)) return;
      const id = await auth.authenticate(req, res);
      if (!id) return;
      // The connection ends with this authenticated response: the agent's next request goes on a new one.
      if (req.url?.endsWith('?close')) res.setHeader('connection', 'close');
      const h = crypto.createHash('sha256');
      let bytes = 0;
      for await (const chunk of req) {
        h.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
      }
      app.push({ bytes, sha256: h.digest('hex') });
      res.end(JSON.stringify({ package: id.package, bytes }));
    });
    base = `http://127.0.0.1:${running.port}`;
  }

  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  const ntlmIdentity = (password = bed.users[0].password): { user: string; domain: string; password: string } =>
    ({ user: bed.users[0].name, domain: bed.domain, password });

  /**
   * The generator is read no further: over 100 event-loop turns (it needs one per chunk) it yields
   * at most the one chunk whose read had already begun when the request ended. (fetch puts the
   * generator behind a ReadableStream of its own, which it does not cancel when the dispatcher ends
   * that stream's iterator, so the generator's `finally` is not what shows it.)
   */
  async function notReadFurther(): Promise<void> {
    const at = yielded;
    for (let i = 0; i < 100; i++) await new Promise((r) => setImmediate(r));
    assert.ok(yielded <= at + CHUNK, `the generator was read after the request ended: ${at} bytes, then ${yielded}`);
  }

  /**
   * After a request whose streamed body was cut short: the generator is read no further and was not
   * read to its end, and the agent still serves a request.
   */
  async function cutShort(agent: NegotiateAgent): Promise<void> {
    await notReadFurther();
    assert.ok(yielded < BIG, `the generator was not read to its end (${yielded} bytes)`);
    await small(agent, '/after');
  }

  /** The SSPI handles open in this process (handleFigures): contexts and credentials. */
  function handles(): { contexts: number; credentials: number } {
    const { contexts, credentials } = handleFigures();
    return { contexts, credentials };
  }

  /** A small POST that lets the agent learn the origin (and authenticate a connection). */
  async function small(agent: NegotiateAgent, path = '/small'): Promise<void> {
    const res = await undiciFetch(`${base}${path}`, { dispatcher: agent, method: 'POST', body: 'small' });
    assert.equal(res.status, 200);
    await res.text();
  }

  /** A POST of `size` generated bytes (duplex 'half', as fetch requires for a stream body). */
  function post(agent: NegotiateAgent, size: number): ReturnType<typeof undiciFetch> {
    return undiciFetch(`${base}/big`, { dispatcher: agent, method: 'POST', body: generate(size) as never, duplex: 'half' } as never);
  }

  it('a persisted NTLM connection: the 4 MiB body goes out once, directly, without Authorization, and arrives whole', async () => {
    await listen({ schemes: ['NTLM'], persistOnConnection: true });
    const agent = new NegotiateAgent({ origins: [base], identity: ntlmIdentity(), maxBodyBytes: MAX });
    try {
      await small(agent);
      const handshake = seen.length;
      const res = await post(agent, BIG);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { package: 'NTLM', bytes: BIG });
      assert.equal(seen.length, handshake + 1, 'one request on the wire');
      assert.equal(seen.at(-1)!.authorization, undefined);
      assert.deepEqual(app.at(-1), { bytes: BIG, sha256: expected(BIG) });
      assert.ok(yieldedAtFirstByte! <= MAX + 4 * CHUNK, `the agent held ${yieldedAtFirstByte} bytes before sending (maxBodyBytes ${MAX})`);
    } finally {
      await agent.close();
    }
  });

  it('a known NTLM origin on a new connection: NEGOTIATE with Content-Length 0, the body on AUTHENTICATE; the application runs once', async () => {
    await listen({ schemes: ['NTLM'] });
    const agent = new NegotiateAgent({ origins: [base], identity: ntlmIdentity(), maxBodyBytes: MAX });
    try {
      await small(agent, '/big?close'); // the upload's own path, seen challenging
      assert.equal(app.length, 1);
      const res = await post(agent, BIG);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { package: 'NTLM', bytes: BIG });
      const legs = seen.slice(3);
      assert.equal(legs.length, 2, 'NEGOTIATE and AUTHENTICATE, no unauthenticated probe');
      assert.match(legs[0].authorization!, /^NTLM TlRMTVNTUAAB/, 'an NTLM NEGOTIATE_MESSAGE');
      assert.equal(legs[0].contentLength, '0');
      assert.match(legs[1].authorization!, /^NTLM TlRMTVNTUAAD/, 'an NTLM AUTHENTICATE_MESSAGE');
      assert.equal(legs[1].contentLength, undefined, 'the streamed body goes chunked');
      assert.equal(app.length, 2, 'the application ran once for the big request');
      assert.deepEqual(app[1], { bytes: BIG, sha256: expected(BIG) });
      assert.ok(!app.some((a) => a.bytes === 0), 'the application never saw an empty request');
      assert.ok(yieldedAtFirstByte! <= MAX + 4 * CHUNK, `the agent held ${yieldedAtFirstByte} bytes before sending (maxBodyBytes ${MAX})`);
    } finally {
      await agent.close();
    }
  });

  it('hostile: NTLM to a path of a known origin that lets requests through unauthenticated: no empty request reaches it (ERR_SSPI_BODY_TOO_LARGE)', async () => {
    // /open is served without authentication. A body-less NTLM NEGOTIATE leg sent there would reach
    // the application as an empty POST: the agent sends it only to a path it has seen answer 401.
    await listen({ schemes: ['NTLM'] }, (req, res) => {
      if (!req.url?.startsWith('/open')) return false;
      let bytes = 0;
      req.on('data', (c: Buffer) => { bytes += c.length; });
      req.on('end', () => { app.push({ bytes, sha256: '' }); res.end('open'); });
      return true;
    });
    const agent = new NegotiateAgent({ origins: [base], identity: ntlmIdentity(), maxBodyBytes: MAX });
    try {
      await small(agent, '/small?close'); // the origin is known to challenge (NTLM), on another path
      const before = seen.length;
      const err = await undiciFetch(`${base}/open`, { dispatcher: agent, method: 'POST', body: generate(BIG) as never, duplex: 'half' } as never)
        .then(() => undefined, (e: Error & { cause?: unknown }) => e.cause);
      assert.ok(err instanceof NegotiateClientError && err.code === 'ERR_SSPI_BODY_TOO_LARGE', String(err));
      assert.match(err.message, /this path is not yet known/);
      assert.equal(seen.length, before, 'nothing reached the server');
      assert.ok(!app.some((a) => a.bytes === 0), 'the open path never saw an empty request');
      await notReadFurther();
    } finally {
      await agent.close();
    }
  });

  it('a known Negotiate (Kerberos) origin: one request with the token and the whole body, 200, mutual authentication verified', async () => {
    await listen({ schemes: ['Negotiate'] });
    const legs: { leg: number; mutualAuth: boolean; package: string }[] = [];
    const agent = new NegotiateAgent({
      origins: [base], spn: bed.spn, mutualAuthentication: true, maxBodyBytes: MAX,
      onLeg: (l) => legs.push({ leg: l.leg, mutualAuth: l.mutualAuth, package: l.package }),
    });
    try {
      await small(agent);
      legs.length = 0;
      const before = seen.length;
      const res = await post(agent, BIG);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { package: 'Kerberos', bytes: BIG });
      assert.equal(seen.length, before + 1, 'one request');
      assert.match(seen.at(-1)!.authorization!, /^Negotiate /);
      assert.deepEqual(app.at(-1), { bytes: BIG, sha256: expected(BIG) });
      // Leg 1: the AP-REQ, before any 401; leg 2: the server's AP-REP on the 200, verified.
      assert.deepEqual(legs.map((l) => [l.leg, l.mutualAuth]), [[1, false], [2, true]], 'the AP-REP verified');
      assert.equal(legs[1].package, 'Kerberos');
    } finally {
      await agent.close();
    }
  });

  it('an origin not yet known to challenge: ERR_SSPI_BODY_TOO_LARGE before anything reaches the server; the generator is read no further', async () => {
    await listen({ schemes: ['NTLM'] });
    const agent = new NegotiateAgent({ origins: [base], identity: ntlmIdentity(), maxBodyBytes: MAX });
    try {
      const err = await post(agent, BIG).then(() => undefined, (e: Error) => e);
      assert.ok(err?.cause instanceof NegotiateClientError, String(err?.cause ?? err));
      assert.equal(err.cause.code, 'ERR_SSPI_BODY_TOO_LARGE');
      assert.match(err.cause.message, /small request/);
      assert.equal(seen.length, 0, 'nothing reached the server');
      assert.ok(yielded <= MAX + 2 * CHUNK, `read ${yielded} bytes`);
      await notReadFurther();
      // The agent still works, and afterwards knows the origin.
      await small(agent);
    } finally {
      await agent.close();
    }
  });

  it('a body within maxBodyBytes is still buffered and replayed through the whole handshake (unknown origin)', async () => {
    await listen({ schemes: ['NTLM'] });
    const agent = new NegotiateAgent({ origins: [base], identity: ntlmIdentity(), maxBodyBytes: MAX });
    try {
      const res = await post(agent, MAX);
      assert.equal(res.status, 200);
      assert.deepEqual(app, [{ bytes: MAX, sha256: expected(MAX) }]);
      assert.equal(seen.length, 3, 'probe, NEGOTIATE, AUTHENTICATE, each with the body');
    } finally {
      await agent.close();
    }
  });

  it('hostile: the server closes the socket after part of the body: the fetch rejects, no handle left, the next request works', async () => {
    await listen({ schemes: ['NTLM'] }, (req, res, n) => {
      if (req.url !== '/big' || !req.headers.authorization?.startsWith('NTLM TlRMTVNTUAAD')) return false;
      let got = 0;
      req.on('data', (c: Buffer) => {
        got += c.length;
        if (got >= 256 * 1024) req.socket.destroy();
      });
      void res;
      void n;
      return true;
    });
    const before = handles();
    const agent = new NegotiateAgent({ origins: [base], identity: ntlmIdentity(), maxBodyBytes: MAX });
    try {
      await small(agent, '/big?close'); // the upload's path, seen challenging; the next request on a new connection
      const err = await post(agent, BIG).then(() => undefined, (e: Error) => e);
      assert.ok(err, 'the fetch rejects');
      await cutShort(agent);
    } finally {
      await agent.close();
    }
    await running!.close();
    running = undefined;
    assert.deepEqual(handles(), before, 'no context or credentials handle left');
  });

  // Through the Dispatcher's own request() API, which hands the generator to the agent as it is.
  // (undici 6.29's fetch cannot show it: once a fetch is aborted, a read of its request body already
  // under way keeps reading the caller's iterable to its end without yielding — lib/web/fetch/index.js
  // processBodyChunk returns without yielding when the fetch is cancelled — whatever the dispatcher does.)
  it('an abort (signal) while the body streams: the request rejects, the generator is read no further, the next request works', async () => {
    const controller = new AbortController();
    await listen({ schemes: ['NTLM'] }, (req) => {
      if (req.url !== '/big') return false;
      let got = 0;
      req.on('data', (c: Buffer) => {
        got += c.length;
        if (got >= 256 * 1024) controller.abort();
      });
      return true;
    });
    const agent = new NegotiateAgent({ origins: [base], identity: ntlmIdentity(), maxBodyBytes: MAX });
    try {
      await small(agent);
      const err = await agent.request({ origin: base, path: '/big', method: 'POST', body: generate(BIG) as never, signal: controller.signal })
        .then(() => undefined, (e: Error) => e);
      assert.equal(err?.name, 'AbortError', String(err));
      await cutShort(agent);
    } finally {
      await agent.close();
    }
  });

  it('hostile: a 401 after the streamed body (the server refuses the user): the 401 is the response; the generator is not read further', async () => {
    // The server refuses the AUTHENTICATE leg at once, without reading the body.
    await listen({ schemes: ['NTLM'] }, (req, res) => {
      if (req.url !== '/big' || !req.headers.authorization?.startsWith('NTLM TlRMTVNTUAAD')) return false;
      res.writeHead(401, { 'WWW-Authenticate': 'NTLM' }).end('refused');
      return true;
    });
    const agent = new NegotiateAgent({ origins: [base], identity: ntlmIdentity(), maxBodyBytes: MAX });
    try {
      await small(agent, '/big?close'); // the upload's path, seen challenging; the next request on a new connection
      const res = await post(agent, BIG);
      assert.equal(res.status, 401);
      assert.equal(await res.text(), 'refused');
      await cutShort(agent);
    } finally {
      await agent.close();
    }
  });

  it('hostile: a caller body that stalls after the server refused it: the 401 arrives, and the request still ends (its context is deleted)', async () => {
    // The server refuses the AUTHENTICATE leg after the first part of the body; the caller's body then
    // waits forever for input (a pipe nobody writes to). The read under way must not hold the request.
    await listen({ schemes: ['NTLM'] }, (req, res) => {
      if (req.url !== '/big' || !req.headers.authorization?.startsWith('NTLM TlRMTVNTUAAD')) return false;
      // Refused once the part read before the stall has arrived: the agent's next read is under way then.
      let got = 0;
      req.on('data', (c: Buffer) => {
        got += c.length;
        if (got >= MAX + CHUNK && !res.headersSent) res.writeHead(401, { 'WWW-Authenticate': 'NTLM' }).end('refused');
      });
      return true;
    });
    async function* stalling(): AsyncGenerator<Buffer> {
      yield* generate(MAX + CHUNK); // just over maxBodyBytes: read before the request goes out
      await new Promise(() => undefined); // then the next read never ends
    }
    const agent = new NegotiateAgent({ origins: [base], identity: ntlmIdentity(), maxBodyBytes: MAX });
    try {
      await small(agent, '/big?close');
      const contexts = handleFigures().contexts;
      // The Dispatcher API hands the caller's iterable to the agent as it is (fetch puts a stream of its
      // own in between, whose reads end when fetch gets the response).
      const res = await agent.request({ origin: base, path: '/big', method: 'POST', body: stalling() as never });
      assert.equal(res.statusCode, 401);
      assert.equal(await res.body.text(), 'refused');
      // The request's NTLM context is deleted when the request ends, which a read that never ends must
      // not prevent: wait for it (bounded by mocha's timeout, not timed).
      while (handleFigures().contexts > contexts) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await agent.close();
    }
  });

  it('hostile: a further Kerberos/Negotiate token after the streamed body: ERR_SSPI_BODY_NOT_REPLAYABLE', async () => {
    // A server that answers the pre-emptive token with 401 and another token (it wants another leg).
    let kerberosDone = false;
    await listen({ schemes: ['Negotiate'] }, (req, res) => {
      if (req.url !== '/big' || !kerberosDone) return false;
      res.writeHead(401, { 'WWW-Authenticate': 'Negotiate ' + Buffer.from('another leg').toString('base64') }).end();
      return true;
    });
    const agent = new NegotiateAgent({ origins: [base], spn: bed.spn, maxBodyBytes: MAX });
    try {
      await small(agent);
      kerberosDone = true;
      const err = await post(agent, BIG).then(() => undefined, (e: Error) => e);
      assert.ok(err?.cause instanceof NegotiateClientError, String(err?.cause ?? err));
      assert.equal(err.cause.code, 'ERR_SSPI_BODY_NOT_REPLAYABLE');
      assert.match(err.cause.message, /maxBodyBytes/);
      await notReadFurther();
      assert.ok(yielded < BIG, `the generator was not read to its end (${yielded} bytes)`);
    } finally {
      await agent.close();
    }
  });
  it('a proxy answering 407: a streamed body it refuses fails ERR_SSPI_BODY_NOT_REPLAYABLE; once it is known to challenge, ERR_SSPI_BODY_TOO_LARGE and nothing sent', async () => {
    // A forward proxy that challenges every request with NTLM and accepts nothing (its 407 is all it says).
    const targets: string[] = [];
    const proxy = http.createServer((req, res) => {
      targets.push(req.url!);
      res.writeHead(407, { 'Proxy-Authenticate': 'NTLM' }).end();
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    yielded = 0;
    // The origin is not one the agent authenticates to: only the proxy could need the body again.
    const agent = new NegotiateAgent({ origins: ['http://intranet.invalid'], identity: ntlmIdentity(), maxBodyBytes: MAX,
      proxy: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` });
    try {
      const upload = (): Promise<Error | undefined> => undiciFetch('http://upload.invalid/big', {
        dispatcher: agent, method: 'POST', body: generate(BIG) as never, duplex: 'half',
      } as never).then(() => undefined, (e: Error) => e);
      const first = await upload();
      assert.ok(first?.cause instanceof NegotiateClientError, String(first?.cause ?? first));
      assert.equal(first.cause.code, 'ERR_SSPI_BODY_NOT_REPLAYABLE');
      assert.deepEqual(targets, ['http://upload.invalid/big']);
      await notReadFurther();
      yielded = 0;
      const second = await upload();
      assert.ok(second?.cause instanceof NegotiateClientError, String(second?.cause ?? second));
      assert.equal(second.cause.code, 'ERR_SSPI_BODY_TOO_LARGE');
      assert.match(second.cause.message, /the proxy/);
      assert.equal(targets.length, 1, 'nothing more reached the proxy');
      assert.ok(yielded <= MAX + 2 * CHUNK, `read ${yielded} bytes`);
    } finally {
      await agent.close();
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});
