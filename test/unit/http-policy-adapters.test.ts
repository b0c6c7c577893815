/**
 * The new policies through each adapter (Express 5 and 4, Fastify, Koa, Passport): the adapters
 * only forward to the core, so what matters is that a pass-through request reaches the route
 * without an identity, and that requireGroup's answer (403 / 500, not a 401 challenge) is the one
 * the client gets, the route not run: under Wine the real token is unavailable
 * (QuerySecurityContextToken: SEC_E_UNSUPPORTED_FUNCTION), so requireGroup fails closed with 500.
 */
import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

import Fastify from 'fastify';
import Koa from 'koa';
import passport from 'passport';

import { ClientContext } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { sspiExpress, sspiKoa, SspiStrategy } from '../../lib/http/adapters';
import { sspiFastify } from '../../lib/http/adapters/fastify';
import { IntegratedAuthenticator } from '../../lib/http/server';
import { testBed } from '../support/env';
import { getReply } from '../support/http';
import { loginOver } from '../support/policy-server';
import { wineVersion } from '../support/wine';

/* eslint-disable @typescript-eslint/no-require-imports */
const express5 = require('express') as typeof import('express');
const express4 = require('express4') as typeof import('express');

/** A server whose single route answers whether it saw an identity; `routed` counts route runs. */
interface App {
  server: http.Server;
  routed: number;
}

type Build = (auth: IntegratedAuthenticator, app: App) => Promise<http.Server>;

const expressBuild = (express: typeof import('express'), withPassport: boolean): Build => async (auth, app) => {
  const e = express();
  if (withPassport) {
    passport.use(new SspiStrategy(auth));
    e.use(passport.initialize());
    e.use(passport.authenticate('sspi', { session: false }));
  } else {
    e.use(sspiExpress(auth));
  }
  e.get('/', (req, res) => {
    app.routed++;
    res.json({ identity: (withPassport ? req.user : req.sspi) !== undefined });
  });
  return e.listen(0, '127.0.0.1') as http.Server;
};

const builds: Record<string, Build> = {
  'Express 5': expressBuild(express5, false),
  'Express 4': expressBuild(express4, false),
  'Passport (Express 5)': expressBuild(express5, true),
  Fastify: async (auth, app) => {
    const f = Fastify();
    await f.register(sspiFastify, { authenticator: auth });
    f.get('/', async (request) => {
      app.routed++;
      return { identity: request.sspi !== null };
    });
    await f.listen({ port: 0, host: '127.0.0.1' });
    return f.server;
  },
  Koa: async (auth, app) => {
    const k = new Koa();
    k.use(sspiKoa(auth));
    k.use((ctx) => {
      app.routed++;
      ctx.body = { identity: ctx.state.sspi !== undefined };
    });
    return k.listen(0, '127.0.0.1');
  },
};

describe('passThroughSchemes and requireGroup through the adapters', () => {
  const bed = testBed();
  for (const [name, build] of Object.entries(builds)) {
    it(`${name}: Bearer reaches the route without an identity; requireGroup ${wineVersion() ? 'fails closed (500)' : 'lets a domain user in'}; no header: 401`, async () => {
      const auth = new IntegratedAuthenticator({ passThroughSchemes: ['Bearer'], requireGroup: 'S-1-5-11' });
      const app: App = { server: undefined as unknown as http.Server, routed: 0 };
      app.server = await build(auth, app);
      if (!app.server.listening) await new Promise((resolve) => app.server.once('listening', resolve));
      const port = (app.server.address() as AddressInfo).port;
      const via = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const bearer = await getReply(port, via, 'Bearer some.jwt.value');
        assert.equal(bearer.status, 200, bearer.body);
        assert.deepEqual(JSON.parse(bearer.body), { identity: false });
        assert.equal(app.routed, 1);

        const none = await getReply(port, via);
        assert.equal(none.status, 401);
        assert.deepEqual(none.wwwAuthenticate, ['Negotiate', 'NTLM']);

        using cred = await Credentials.acquire({ package: 'Negotiate' });
        using client = new ClientContext(cred, { targetName: bed.spn });
        const reply = await loginOver(port, 'Negotiate', client, via);
        if (wineVersion()) {
          assert.equal(reply.status, 500, reply.body);
          assert.match(reply.body, /group membership not available/);
          assert.equal(app.routed, 1, 'the route did not run');
        } else {
          assert.equal(reply.status, 200, reply.body);
          assert.deepEqual(JSON.parse(reply.body), { identity: true });
        }
      } finally {
        via.destroy();
        app.server.closeAllConnections();
        await new Promise((resolve) => app.server.close(resolve));
        await auth.close();
      }
    });
  }
});
