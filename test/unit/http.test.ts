import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import * as net from 'node:net';

import { ASC_REQ, ISC_REQ } from '../../lib/constants';
import { ClientContext } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { runHandshake } from '../../lib/handshake';
import { AuthenticatedIdentity, IntegratedAuthenticator, IntegratedAuthOptions } from '../../lib/http/server';
import { testBed } from '../support/env';
import { AuthServer, getReply, listenAuth, Reply } from '../support/http';
import { wineVersion } from '../support/wine';

// The HTTP authenticator and runHandshake over a real transport: a Node HTTP server with
// IntegratedAuthenticator and a client driving ClientContext through Authorization headers, both
// in this Windows node.exe, over one keep-alive connection per handshake.
describe('IntegratedAuthenticator with runHandshake over HTTP', () => {
  const bed = testBed();
  let running: AuthServer;
  let auth: IntegratedAuthenticator;
  let port: number;
  let seen: AuthenticatedIdentity[];

  async function listen(options: IntegratedAuthOptions, via: 'authenticate' | 'middleware' = 'authenticate'): Promise<void> {
    seen = [];
    auth = new IntegratedAuthenticator(options);
    const handler = (res: http.ServerResponse, id: AuthenticatedIdentity): void => {
      seen.push(id);
      res.end(JSON.stringify({ scheme: id.scheme, package: id.package, user: id.user }));
    };
    const middleware = auth.middleware();
    running = await listenAuth(auth, async (req, res) => {
      if (via === 'middleware') {
        // connect/Express style: next() only once authenticated, with req.sspi set.
        await new Promise<void>((resolve, reject) => middleware(req, res, (err?: unknown) => {
          if (err) reject(err);
          else resolve(handler(res, (req as typeof req & { sspi: AuthenticatedIdentity }).sspi));
        }));
        return;
      }
      const id = await auth.authenticate(req, res);
      if (id) handler(res, id);
    });
    port = running.port;
  }

  afterEach(async () => {
    await running.close();
  });

  function get(agent: http.Agent, authorization?: string): Promise<Reply> {
    return getReply(port, agent, authorization);
  }

  /** Authenticates with `scheme` over one keep-alive connection; returns the final reply. */
  async function login(scheme: 'Negotiate' | 'NTLM', client: ClientContext, agent: http.Agent): Promise<Reply> {
    let final: Reply | undefined;
    await runHandshake(client, async (token) => {
      if (!token) return undefined; // HTTP carries whole tokens: nothing to ask for without sending one
      final = await get(agent, `${scheme} ${token.toString('base64')}`);
      const header = final.wwwAuthenticate.find((h) => h.startsWith(`${scheme} `));
      return header ? Buffer.from(header.slice(scheme.length + 1), 'base64') : undefined;
    });
    return final!;
  }

  it('NTLM: the three legs stay on one connection, and the handler sees the identity', async () => {
    await listen({});
    const user = bed.users[1];
    using cred = await Credentials.acquire({ package: 'NTLM', identity: { user: user.name, domain: bed.domain, password: user.password } });
    using client = new ClientContext(cred);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(agent);
      assert.equal(first.status, 401);
      assert.deepEqual(first.wwwAuthenticate, ['Negotiate', 'NTLM']);
      const final = await login('NTLM', client, agent);
      assert.equal(final.status, 200, final.body);
      assert.equal(JSON.parse(final.body).package, 'NTLM');
      assert.equal(seen.length, 1);
      if (wineVersion()) {
        assert.equal(seen[0].user, null);
        assert.deepEqual(seen[0].userNotReported, { code: 'SEC_E_UNSUPPORTED_FUNCTION', status: 0x80090302 });
      } else {
        assert.equal(seen[0].user?.toLowerCase(), `${bed.domain}\\${user.name}`.toLowerCase());
      }
    } finally {
      agent.destroy();
    }
  });

  it('Kerberos through Negotiate: 200 with the mutual-auth token, which the client accepts', async () => {
    await listen({ schemes: ['Negotiate'] });
    using cred = await Credentials.acquire({ package: 'Negotiate' });
    using client = new ClientContext(cred, { targetName: bed.spn });
    const agent = new http.Agent({ keepAlive: true });
    try {
      const final = await login('Negotiate', client, agent);
      assert.equal(final.status, 200, final.body);
      assert.equal(JSON.parse(final.body).package, 'Kerberos');
      assert.equal(final.wwwAuthenticate.length, 1, 'the final WWW-Authenticate: Negotiate <token>');
      assert.equal(client.complete, true, 'the client processed the server token (mutual authentication)');
    } finally {
      agent.destroy();
    }
  });

  it('middleware(): next() runs once authenticated, with req.sspi set; 401 before', async () => {
    await listen({ schemes: ['Negotiate'] }, 'middleware');
    using cred = await Credentials.acquire({ package: 'Negotiate' });
    using client = new ClientContext(cred, { targetName: bed.spn });
    const agent = new http.Agent({ keepAlive: true });
    try {
      const first = await get(agent);
      assert.equal(first.status, 401);
      assert.equal(seen.length, 0);
      const final = await login('Negotiate', client, agent);
      assert.equal(final.status, 200, final.body);
      assert.equal(seen.length, 1);
      assert.equal(seen[0].package, 'Kerberos');
      assert.equal(seen[0].scheme, 'Negotiate');
    } finally {
      agent.destroy();
    }
  });

  it('a handshake continued on another connection is refused', async () => {
    await listen({ schemes: ['NTLM'] });
    const user = bed.users[0];
    using cred = await Credentials.acquire({ package: 'NTLM', identity: { user: user.name, domain: bed.domain, password: user.password } });
    using client = new ClientContext(cred);
    const a = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const b = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const negotiate = await client.step();
      const challenge = await get(a, `NTLM ${negotiate.token!.toString('base64')}`);
      assert.equal(challenge.status, 401);
      const type2 = Buffer.from(challenge.wwwAuthenticate[0].slice(5), 'base64');
      const authenticate = await client.step(type2);
      // The AUTHENTICATE message on connection b: b has no pending handshake to continue.
      const reply = await get(b, `NTLM ${authenticate.token!.toString('base64')}`);
      assert.equal(reply.status, 401);
      assert.equal(seen.length, 0);
    } finally {
      a.destroy();
      b.destroy();
    }
  });

  it('persistOnConnection: later requests on the connection need no Authorization; other connections do', async () => {
    await listen({ schemes: ['NTLM'], persistOnConnection: true });
    const user = bed.users[0];
    using cred = await Credentials.acquire({ package: 'NTLM', identity: { user: user.name, domain: bed.domain, password: user.password } });
    using client = new ClientContext(cred);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const other = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      assert.equal((await login('NTLM', client, agent)).status, 200);
      assert.equal((await get(agent)).status, 200);
      assert.equal((await get(other)).status, 401);
    } finally {
      agent.destroy();
      other.destroy();
    }
  });

  it('many handshakes on one keep-alive connection leave one close listener on its socket', async () => {
    await listen({ schemes: ['NTLM'] });
    const user = bed.users[0];
    using cred = await Credentials.acquire({ package: 'NTLM', identity: { user: user.name, domain: bed.domain, password: user.password } });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<import('node:net').Socket>();
    running.server.on('connection', (s) => sockets.add(s));
    try {
      for (let i = 0; i < 12; i++) {
        using client = new ClientContext(cred);
        assert.equal((await login('NTLM', client, agent)).status, 200);
      }
      assert.equal(sockets.size, 1, 'all on one connection');
      const [socket] = sockets;
      // Node's own HTTP server adds its close listeners; ours must add one, not one per handshake.
      assert.ok(socket.listenerCount('close') <= 3, `close listeners: ${socket.listenerCount('close')}`);
      assert.equal(seen.length, 12);
    } finally {
      agent.destroy();
    }
  });

  it('pipelined requests continuing one handshake are answered in turn, not concurrently', async () => {
    await listen({ schemes: ['NTLM'] });
    const user = bed.users[0];
    using cred = await Credentials.acquire({ package: 'NTLM', identity: { user: user.name, domain: bed.domain, password: user.password } });
    using client = new ClientContext(cred);
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => { received += d; });
    const request = (token: Buffer): string => `GET / HTTP/1.1\r\nHost: x\r\nAuthorization: NTLM ${token.toString('base64')}\r\n\r\n`;
    const waitFor = async (count: number): Promise<string[]> => {
      for (let i = 0; i < 200; i++) {
        const statuses = [...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]);
        if (statuses.length >= count) return statuses;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(`no ${count} responses in:\n${received}`);
    };
    try {
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write(request((await client.step()).token!));
      assert.deepEqual(await waitFor(1), ['401']);
      const type2 = Buffer.from(/WWW-Authenticate: NTLM (\S+)/.exec(received)![1], 'base64');
      const type3 = (await client.step(type2)).token!;
      // Both at once: the first completes the handshake, the second finds nothing to continue.
      socket.write(request(type3) + request(type3));
      assert.deepEqual(await waitFor(3), ['401', '200', '401']);
    } finally {
      socket.destroy();
    }
  });

  it('a wrong password gets 401 with a fresh challenge', async () => {
    await listen({});
    using cred = await Credentials.acquire({ package: 'NTLM', identity: { user: bed.users[0].name, domain: bed.domain, password: 'wrong' } });
    using client = new ClientContext(cred);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const final = await login('NTLM', client, agent);
      assert.equal(final.status, 401);
      assert.deepEqual(final.wwwAuthenticate, ['Negotiate', 'NTLM']);
      assert.equal(seen.length, 0);
    } finally {
      agent.destroy();
    }
  });
});

describe('IntegratedAuthenticator options', () => {
  it('rejects unknown or no schemes with TypeError', () => {
    assert.throws(() => new IntegratedAuthenticator({ schemes: ['Basic' as never] }), TypeError);
    assert.throws(() => new IntegratedAuthenticator({ schemes: [] }), TypeError);
  });

  it('scheme names inherited from Object.prototype are not schemes (TypeError, not a 500 later)', () => {
    for (const name of ['toString', '__proto__', 'constructor', 'hasOwnProperty']) {
      assert.throws(() => new IntegratedAuthenticator({ schemes: [name as never] }), TypeError, name);
    }
    assert.throws(() => new IntegratedAuthenticator({ schemes: ['NTLM', 'NTLM'] }), TypeError, 'duplicates');
    assert.throws(() => new IntegratedAuthenticator({ schemes: 'NTLM' as never }), TypeError);
  });

  it('options must be an object of known, own names', () => {
    assert.throws(() => new IntegratedAuthenticator(null as never), TypeError);
    assert.throws(() => new IntegratedAuthenticator('x' as never), TypeError);
    assert.throws(() => new IntegratedAuthenticator([] as never), TypeError);
    assert.throws(() => new IntegratedAuthenticator({ allowAnonymus: true } as never), TypeError, 'a misspelt option');
    // Inherited values are not read: this prototype's maxTokenBytes would be a RangeError if it were.
    const inherited = Object.create({ maxTokenBytes: -1, schemes: ['toString'] }) as IntegratedAuthOptions;
    assert.doesNotThrow(() => new IntegratedAuthenticator(inherited));
  });

  it('numbers: TypeError for another type, RangeError out of range (maxTokenBytes: "x" no longer removes the limit)', () => {
    const numeric = ['contextReq', 'maxTokenBytes', 'maxPendingHandshakes', 'maxPendingHandshakesPerAddress', 'handshakeTimeout'] as const;
    for (const key of numeric) {
      assert.throws(() => new IntegratedAuthenticator({ [key]: 'x' }), TypeError, key);
      assert.throws(() => new IntegratedAuthenticator({ [key]: 10n as never }), TypeError, key);
      assert.throws(() => new IntegratedAuthenticator({ [key]: NaN }), RangeError, key);
      assert.throws(() => new IntegratedAuthenticator({ [key]: 1.5 }), RangeError, key);
      assert.throws(() => new IntegratedAuthenticator({ [key]: -1 }), RangeError, key);
    }
    for (const key of ['maxTokenBytes', 'maxPendingHandshakes', 'maxPendingHandshakesPerAddress', 'handshakeTimeout'] as const) {
      assert.throws(() => new IntegratedAuthenticator({ [key]: 0 }), RangeError, key);
    }
    assert.throws(() => new IntegratedAuthenticator({ contextReq: 2 ** 32 }), RangeError);
    assert.throws(() => new IntegratedAuthenticator({ maxTokenBytes: Infinity }), RangeError);
    assert.throws(() => new IntegratedAuthenticator({ handshakeTimeout: 2 ** 31 }), RangeError, "beyond setTimeout's limit");
    assert.doesNotThrow(() => new IntegratedAuthenticator({ maxPendingHandshakes: Infinity, maxPendingHandshakesPerAddress: Infinity }));
    // contextReq is checked against the ASC_REQ_* bits when the authenticator is made, as ServerContext
    // checks it, rather than failing every request with a 500 later. (ISC_REQ_USE_SUPPLIED_CREDS, 0x80,
    // is a client bit that ASC_REQ_* does not define.)
    assert.throws(() => new IntegratedAuthenticator({ contextReq: ASC_REQ.CONNECTION | ISC_REQ.USE_SUPPLIED_CREDS }),
      { name: 'RangeError', message: /ASC_REQ_\*/ });
    assert.doesNotThrow(() => new IntegratedAuthenticator({ contextReq: ASC_REQ.CONNECTION | ASC_REQ.INTEGRITY, maxTokenBytes: 1, handshakeTimeout: 1 }));
  });

  it('booleans and functions are checked', () => {
    for (const key of ['persistOnConnection', 'allowAnonymous'] as const) {
      assert.throws(() => new IntegratedAuthenticator({ [key]: 'yes' as never }), TypeError, key);
      assert.throws(() => new IntegratedAuthenticator({ [key]: 1 as never }), TypeError, key);
    }
    for (const key of ['onEvent', 'createContext'] as const) {
      assert.throws(() => new IntegratedAuthenticator({ [key]: 'console.log' as never }), TypeError, key);
      assert.throws(() => new IntegratedAuthenticator({ [key]: {} as never }), TypeError, key);
    }
  });

  it('credentials: an object of Credentials per offered scheme name', () => {
    assert.throws(() => new IntegratedAuthenticator({ credentials: 'x' as never }), TypeError);
    assert.throws(() => new IntegratedAuthenticator({ credentials: { NTLM: {} as never } }), TypeError);
    assert.throws(() => new IntegratedAuthenticator({ credentials: { toString: {} } as never }), TypeError);
    assert.throws(() => new IntegratedAuthenticator({ credentials: { Kerberos: {} } as never }), TypeError);
    assert.doesNotThrow(() => new IntegratedAuthenticator({ credentials: { NTLM: undefined } }));
  });
});
