/**
 * Runs in Windows node.exe under Wine for test/e2e/adapters.test.ts: one HTTP server per adapter and
 * policy, all in this one process (node.exe under Wine takes seconds to start; the servers are
 * independent, each with its own IntegratedAuthenticator):
 *
 *     node adapter-server.js <first port>
 *
 * For each adapter of ADAPTERS, in order, two servers on consecutive ports from <first port>: the
 * default policy, then `packages: ['Kerberos']`; both `skip: ['/health']`. Each answers
 *   GET /          200 {adapter, scheme, package, user, userNotReported, sid, sidNotReported}: the identity as
 *                  the adapter handed it to the route (req.sspi, request.sspi, ctx.state.sspi, req.user)
 *   GET /health    200 "healthy <true when no identity was attached>"
 *   OPTIONS /      204 with X-Identity: whether an identity was attached (a CORS preflight gets none)
 * and prints one line "listening <JSON: {adapter: [defaultPort, kerberosOnlyPort]}>" once all listen.
 * The test stops it by ending its process group (test/e2e/server.ts stopGroup).
 */
import * as http from 'node:http';

import Fastify from 'fastify';
import Koa from 'koa';
import passport from 'passport';

import { sspiExpress, sspiKoa, SspiStrategy } from '../../lib/http/adapters';
import { sspiFastify } from '../../lib/http/adapters/fastify';
import { AuthenticatedIdentity, IntegratedAuthenticator, IntegratedAuthOptions } from '../../lib/http/server';

/* eslint-disable @typescript-eslint/no-require-imports */
const express5 = require('express') as typeof import('express');
// express@4, installed under the name express4 (package.json devDependencies).
const express4 = require('express4') as typeof import('express');

/** The names the test uses, in the order of the ports. */
export const ADAPTERS = ['Express 5', 'Express 4', 'Fastify', 'Koa', 'Passport'] as const;
export type AdapterName = (typeof ADAPTERS)[number];

/** What GET / answers: the identity fields a route sees (the context itself stays on the server). */
function describeIdentity(adapter: AdapterName, identity: AuthenticatedIdentity | null | undefined): string {
  if (!identity) return JSON.stringify({ adapter, identity: null });
  const { scheme, package: pkg, user, userNotReported, sid, sidNotReported, anonymous } = identity;
  return JSON.stringify({ adapter, scheme, package: pkg, user, userNotReported, sid, sidNotReported, anonymous });
}

type Listen = (auth: IntegratedAuthenticator, port: number) => Promise<void>;

function listenOn(server: http.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

/** Express 4 or 5; `install` adds the authentication, `identityOf` reads what it attached. */
function expressServer(adapter: AdapterName, express: typeof import('express'),
  install: (app: ReturnType<typeof express5>, auth: IntegratedAuthenticator) => void,
  identityOf: (req: import('express').Request) => AuthenticatedIdentity | undefined): Listen {
  return async (auth, port) => {
    const app = express();
    install(app, auth);
    app.get('/', (req, res) => { res.type('application/json').send(describeIdentity(adapter, identityOf(req))); });
    app.get('/health', (req, res) => { res.send(`healthy ${identityOf(req) === undefined}`); });
    app.options('/', (req, res) => { res.status(204).set('X-Identity', String(identityOf(req) !== undefined)).end(); });
    await listenOn(http.createServer(app), port);
  };
}

const fastifyServer: Listen = async (auth, port) => {
  const app = Fastify();
  await app.register(sspiFastify, { authenticator: auth });
  app.get('/', async (request, reply) => { reply.type('application/json'); return describeIdentity('Fastify', request.sspi); });
  app.get('/health', async (request) => `healthy ${request.sspi === null}`);
  app.options('/', async (request, reply) => { reply.code(204).header('X-Identity', String(request.sspi !== null)); return ''; });
  await app.listen({ port, host: '127.0.0.1' });
};

const koaServer: Listen = async (auth, port) => {
  const app = new Koa();
  app.use(sspiKoa(auth));
  app.use(async (ctx) => {
    const identity = ctx.state.sspi as AuthenticatedIdentity | undefined;
    if (ctx.method === 'OPTIONS') {
      ctx.status = 204;
      ctx.set('X-Identity', String(identity !== undefined));
    } else if (ctx.path === '/health') {
      ctx.body = `healthy ${identity === undefined}`;
    } else {
      ctx.type = 'application/json';
      ctx.body = describeIdentity('Koa', identity);
    }
  });
  await listenOn(http.createServer(app.callback()), port);
};

const SERVERS: Record<AdapterName, Listen> = {
  'Express 5': expressServer('Express 5', express5, (app, auth) => app.use(sspiExpress(auth)), (req) => req.sspi),
  'Express 4': expressServer('Express 4', express4, (app, auth) => app.use(sspiExpress(auth)), (req) => req.sspi),
  Fastify: fastifyServer,
  Koa: koaServer,
  Passport: expressServer('Passport', express5, (app, auth) => {
    const p = new passport.Passport();
    p.use(new SspiStrategy(auth));
    app.use(p.initialize());
    app.use(p.authenticate('sspi', { session: false }));
  }, (req) => req.user as AuthenticatedIdentity | undefined),
};

/** The two policies each adapter is served with, in port order. */
export const POLICIES: IntegratedAuthOptions[] = [{ skip: ['/health'] }, { skip: ['/health'], packages: ['Kerberos'] }];

async function main(): Promise<void> {
  const first = Number(process.argv[2]);
  if (!Number.isInteger(first) || first <= 0) throw new TypeError('usage: adapter-server.js <first port>');
  const ports: Record<string, number[]> = {};
  let port = first;
  for (const adapter of ADAPTERS) {
    ports[adapter] = [];
    for (const policy of POLICIES) {
      await SERVERS[adapter](new IntegratedAuthenticator(policy), port);
      ports[adapter].push(port++);
    }
  }
  console.log(`listening ${JSON.stringify(ports)}`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
