import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

import Fastify from 'fastify';
import Koa from 'koa';
import passport from 'passport';

import { ClientContext } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { runHandshake } from '../../lib/handshake';
import { sspiExpress, sspiKoa, SspiStrategy } from '../../lib/http/adapters';
import { sspiFastify } from '../../lib/http/adapters/fastify';
import { AuthenticatedIdentity, IntegratedAuthenticator } from '../../lib/http/server';
import { testBed } from '../support/env';

// The adapters with the real packages (Express 5 and 4, Fastify 5, Koa 3, Passport 0.7), in this
// Windows node.exe: the client is a ClientContext driven through Authorization headers over one
// keep-alive connection; Kerberos from the ticket cache, NTLM with the test bed's explicit credentials.

/* eslint-disable @typescript-eslint/no-require-imports */
const express5 = require('express') as typeof import('express');
// express@4 installed under the name express4 (package.json devDependencies); same API surface used here.
const express4 = require('express4') as typeof import('express');

interface Running {
  server: http.Server;
  /** Requests the route handlers saw, with the identity they were given. */
  seen: { path: string; identity: AuthenticatedIdentity }[];
  /** Only for Fastify: how many onResponse hooks ran (they must run for the core's 401s too). */
  responses?: number;
  close(): Promise<void>;
}

type Start = (auth: IntegratedAuthenticator) => Promise<Running>;

function identityBody(identity: AuthenticatedIdentity): string {
  return JSON.stringify({ scheme: identity.scheme, package: identity.package });
}

function listening(server: http.Server): Promise<void> {
  return new Promise((resolve) => server.once('listening', () => resolve()));
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

type ExpressApp = ReturnType<typeof express5>;

/**
 * An Express app: `install` adds the authentication (sspiExpress, or Passport's), `identityOf`
 * reads what it left on the request (undefined when the request passed unauthenticated).
 */
function expressApp(express: typeof import('express'), install: (app: ExpressApp, auth: IntegratedAuthenticator) => void,
  identityOf: (req: import('express').Request) => AuthenticatedIdentity | undefined): Start {
  return async (auth) => {
    const seen: Running['seen'] = [];
    const app = express();
    install(app, auth);
    app.get('/', (req, res) => {
      const identity = identityOf(req)!;
      seen.push({ path: '/', identity });
      res.type('application/json').send(identityBody(identity));
    });
    app.get('/boom', (req) => {
      seen.push({ path: '/boom', identity: identityOf(req)! });
      throw new Error('boom');
    });
    app.get('/health', (req, res) => { res.send(`healthy ${identityOf(req) === undefined}`); });
    app.options('/', (req, res) => { res.status(204).set('X-Identity', String(identityOf(req) !== undefined)).end(); });
    app.use((err: Error, _req: import('express').Request, res: import('express').Response, _next: import('express').NextFunction) => {
      res.status(500).send(`handled: ${err.message}`);
    });
    const server = app.listen(0, '127.0.0.1') as http.Server;
    await listening(server);
    return { server, seen, close: () => closeServer(server) };
  };
}

const withSspiExpress = (app: ExpressApp, auth: IntegratedAuthenticator): void => { app.use(sspiExpress(auth)); };
// Typed by the module augmentation in lib/http/adapters/express.ts: no cast.
const sspiOf = (req: import('express').Request): AuthenticatedIdentity | undefined => req.sspi;

const fastifyApp: Start = async (auth) => {
  const seen: Running['seen'] = [];
  const app = Fastify();
  const running: Running = { server: app.server, seen, responses: 0, close: () => app.close() };
  await app.register(sspiFastify, { authenticator: auth });
  app.addHook('onResponse', async () => { running.responses!++; });
  app.get('/', async (request, reply) => {
    seen.push({ path: '/', identity: request.sspi! });
    reply.type('application/json');
    return identityBody(request.sspi!);
  });
  app.get('/boom', async (request) => {
    seen.push({ path: '/boom', identity: request.sspi! });
    throw new Error('boom');
  });
  app.get('/health', async (request) => `healthy ${request.sspi === null}`);
  app.options('/', async (request, reply) => { reply.code(204).header('X-Identity', String(request.sspi !== null)); return ''; });
  app.setErrorHandler(async (err: Error, _request, reply) => {
    reply.code(500);
    return `handled: ${err.message}`;
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return running;
};

const koaApp: Start = async (auth) => {
  const seen: Running['seen'] = [];
  const app = new Koa();
  app.silent = true;
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      ctx.status = 500;
      ctx.body = `handled: ${(err as Error).message}`;
    }
  });
  app.use(sspiKoa(auth));
  app.use(async (ctx, next) => {
    if (ctx.path === '/health') ctx.body = `healthy ${ctx.state.sspi === undefined}`;
    else if (ctx.method === 'OPTIONS') { ctx.status = 204; ctx.set('X-Identity', String(ctx.state.sspi !== undefined)); }
    else await next();
  });
  app.use(async (ctx) => {
    const identity = ctx.state.sspi as AuthenticatedIdentity;
    seen.push({ path: ctx.path, identity });
    if (ctx.path === '/boom') throw new Error('boom');
    ctx.type = 'application/json';
    ctx.body = identityBody(identity);
  });
  const server = app.listen(0, '127.0.0.1');
  await listening(server);
  return { server, seen, close: () => closeServer(server) };
};

const passportApp: Start = expressApp(express5, (app, auth) => {
  const authenticator = new passport.Passport();
  authenticator.use(new SspiStrategy(auth));
  app.use(authenticator.initialize());
  app.use(authenticator.authenticate('sspi', { session: false }));
}, (req) => req.user as AuthenticatedIdentity | undefined);

interface Reply { status: number; wwwAuthenticate: string[]; body: string }

/** One request on `agent`; every `WWW-Authenticate` value in order (headersDistinct keeps them apart). */
async function request(port: number, agent: http.Agent, path: string, authorization?: string, method = 'GET', extra: Record<string, string> = {}): Promise<Reply> {
  const headers = { ...extra, ...(authorization ? { Authorization: authorization } : {}) };
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    http.request({ host: '127.0.0.1', port, path, agent, headers, method }, resolve).on('error', reject).end();
  });
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { status: res.statusCode ?? 0, wwwAuthenticate: res.headersDistinct['www-authenticate'] ?? [], body: Buffer.concat(chunks).toString('utf8') };
}

/** Resolves once `check()` holds, polling between event-loop turns (ordering, not timing). */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`never happened: ${what}`);
}

const FRAMEWORKS: [string, Start][] = [
  ['Express 5', expressApp(express5, withSspiExpress, sspiOf)],
  ['Express 4', expressApp(express4, withSspiExpress, sspiOf)],
  ['Fastify', fastifyApp],
  ['Koa', koaApp],
  ['Passport (on Express 5)', passportApp],
];

for (const [name, start] of FRAMEWORKS) {
  describe(`HTTP adapters: ${name}`, () => {
    const bed = testBed();
    before(() => {
      // The two Express lines really are different packages.
      assert.match(require('express/package.json').version, /^5\./);
      assert.match(require('express4/package.json').version, /^4\./);
    });
    let auth: IntegratedAuthenticator;
    let running: Running;
    let port: number;
    let connections: number;
    const agents: http.Agent[] = [];

    beforeEach(async () => {
      auth = new IntegratedAuthenticator({ skip: ['/health'] });
      running = await start(auth);
      port = (running.server.address() as AddressInfo).port;
      connections = 0;
      running.server.on('connection', () => { connections++; });
    });

    afterEach(async () => {
      for (const a of agents.splice(0)) a.destroy();
      await running.close();
      await auth.close();
    });

    function agent(): http.Agent {
      const a = new http.Agent({ keepAlive: true, maxSockets: 1 });
      agents.push(a);
      return a;
    }

    async function login(scheme: 'Negotiate' | 'NTLM', client: ClientContext, via: http.Agent, path = '/'): Promise<Reply> {
      let final: Reply | undefined;
      await runHandshake(client, async (token) => {
        if (!token) return undefined;
        final = await request(port, via, path, `${scheme} ${token.toString('base64')}`);
        const header = final.wwwAuthenticate.find((h) => h.startsWith(`${scheme} `));
        return header ? Buffer.from(header.slice(scheme.length + 1), 'base64') : undefined;
      });
      return final!;
    }

    async function kerberos(via: http.Agent, path = '/'): Promise<Reply> {
      using cred = await Credentials.acquire({ package: 'Negotiate' });
      using client = new ClientContext(cred, { targetName: bed.spn });
      const reply = await login('Negotiate', client, via, path);
      if (reply.status === 200 || reply.status === 500) assert.equal(client.complete, true, 'the client accepted the mutual-auth token');
      return reply;
    }

    async function ntlmCredentials(password = bed.users[0].password): Promise<Credentials> {
      return Credentials.acquire({ package: 'NTLM', identity: { user: bed.users[0].name, domain: bed.domain, password } });
    }

    it('no Authorization: 401 with both schemes from the core, the handler does not run', async () => {
      const reply = await request(port, agent(), '/');
      assert.equal(reply.status, 401);
      assert.deepEqual(reply.wwwAuthenticate, ['Negotiate', 'NTLM']);
      assert.equal(running.seen.length, 0);
      if (running.responses !== undefined) assert.equal(running.responses, 1, 'Fastify onResponse ran for the hijacked 401');
    });

    it('Kerberos (Negotiate, from the ticket cache): the handler sees the identity and the mutual-auth token arrives', async () => {
      const reply = await kerberos(agent());
      assert.equal(reply.status, 200, reply.body);
      assert.deepEqual(JSON.parse(reply.body), { scheme: 'Negotiate', package: 'Kerberos' });
      assert.equal(reply.wwwAuthenticate.length, 1);
      assert.equal(running.seen.length, 1);
      assert.equal(running.seen[0].identity.package, 'Kerberos');
    });

    it('NTLM with explicit credentials: three legs on one connection, then the handler', async () => {
      using cred = await ntlmCredentials();
      using client = new ClientContext(cred);
      const reply = await login('NTLM', client, agent());
      assert.equal(reply.status, 200, reply.body);
      assert.deepEqual(JSON.parse(reply.body), { scheme: 'NTLM', package: 'NTLM' });
      assert.equal(connections, 1);
      assert.equal(running.seen.length, 1);
    });

    it('a wrong password: 401 with a fresh challenge, the handler does not run', async () => {
      using cred = await ntlmCredentials('wrong-password');
      using client = new ClientContext(cred);
      const reply = await login('NTLM', client, agent());
      assert.equal(reply.status, 401);
      assert.deepEqual(reply.wwwAuthenticate, ['Negotiate', 'NTLM']);
      assert.equal(running.seen.length, 0);
      assert.deepEqual(auth.stats(), { pendingHandshakes: 0, contexts: 0 });
    });

    it('garbage tokens: 401, and the same connection then authenticates', async () => {
      const via = agent();
      for (const header of ['Negotiate AAAA', 'Negotiate !!notbase64', 'NTLM TlRMTVNTUAADAAAA', 'Basic dXNlcjpwYXNz']) {
        const reply = await request(port, via, '/', header);
        assert.equal(reply.status, 401, header);
        assert.deepEqual(reply.wwwAuthenticate, ['Negotiate', 'NTLM'], header);
      }
      const reply = await kerberos(via);
      assert.equal(reply.status, 200, reply.body);
      assert.equal(connections, 1, 'one keep-alive connection throughout');
      assert.equal(running.seen.length, 1);
    });

    it("an error thrown after authentication reaches the framework's error handler", async () => {
      const reply = await kerberos(agent(), '/boom');
      assert.equal(reply.status, 500);
      assert.equal(reply.body, 'handled: boom');
      assert.equal(running.seen.length, 1);
      assert.equal(running.seen[0].identity.package, 'Kerberos');
    });

    it('a skipped path passes without authentication (no identity); other paths still need it', async () => {
      const via = agent();
      const health = await request(port, via, '/health?probe=1');
      assert.equal(health.status, 200);
      assert.equal(health.body, 'healthy true');
      assert.equal((await request(port, via, '/healthz')).status, 401);
      assert.equal((await request(port, via, '/')).status, 401);
      assert.deepEqual(auth.stats(), { pendingHandshakes: 0, contexts: 0 });
    });

    it('a CORS preflight passes unauthenticated; a plain OPTIONS does not', async () => {
      const via = agent();
      const preflight = await request(port, via, '/', undefined, 'OPTIONS', { Origin: 'http://app.example', 'Access-Control-Request-Method': 'GET' });
      assert.equal(preflight.status, 204);
      assert.deepEqual(preflight.wwwAuthenticate, []);
      const plain = await request(port, via, '/', undefined, 'OPTIONS');
      assert.equal(plain.status, 401);
    });

    it('a client that disconnects mid-handshake leaves no context', async () => {
      using cred = await ntlmCredentials();
      using client = new ClientContext(cred);
      const via = agent();
      const negotiate = await client.step();
      const challenge = await request(port, via, '/', `NTLM ${negotiate.token!.toString('base64')}`);
      assert.equal(challenge.status, 401);
      assert.match(challenge.wwwAuthenticate[0], /^NTLM [A-Za-z0-9+/]+=*$/);
      assert.deepEqual(auth.stats(), { pendingHandshakes: 1, contexts: 1 });
      via.destroy();
      await until(() => auth.stats().contexts === 0, 'the context is deleted once the connection closed');
      assert.deepEqual(auth.stats(), { pendingHandshakes: 0, contexts: 0 });
      assert.equal(running.seen.length, 0);
    });
  });
}

describe('HTTP adapters: arguments', () => {
  it('each adapter refuses something other than an IntegratedAuthenticator with TypeError', async () => {
    assert.throws(() => sspiExpress({} as IntegratedAuthenticator), TypeError);
    assert.throws(() => sspiKoa(undefined as unknown as IntegratedAuthenticator), TypeError);
    assert.throws(() => new SspiStrategy(null as unknown as IntegratedAuthenticator), TypeError);
    const auth = new IntegratedAuthenticator();
    assert.throws(() => new SspiStrategy(auth, 'x' as never), TypeError);
    const app = Fastify();
    await assert.rejects(async () => { await app.register(sspiFastify, { authenticator: {} as IntegratedAuthenticator }).ready(); }, TypeError);
    await app.close().catch(() => undefined);
    await auth.close();
  });
});
