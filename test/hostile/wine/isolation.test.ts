import { strict as assert } from 'node:assert';
import * as http from 'node:http';

import { ClientContext } from '../../../lib/context';
import { Credentials } from '../../../lib/credentials';
import { runHandshake } from '../../../lib/handshake';
import { AuthenticatedIdentity, IntegratedAuthenticator, IntegratedAuthOptions } from '../../../lib/http/server';
import { testBed } from '../../support/env';
import { AuthServer, getReply, listenAuth } from '../../support/http';
import { wineVersion } from '../../support/wine';

interface Reply {
  status: number;
  /** The token of `WWW-Authenticate: <scheme> <token>`, if the reply carried one. */
  token?: Buffer;
  /** What the handler answered (200): the serial of the server context that authenticated the request. */
  serial?: number;
  user?: string | null;
}

// HTTP isolation (issue 6, "The hostile-input suite"): what one connection does never authenticates
// another, and a failed login never authenticates anything. IntegratedAuthenticator in a Node HTTP
// server in this node.exe, clients driving ClientContext over their own keep-alive connections.
//
// Under Wine the server cannot name the user (SECPKG_ATTR_NAMES: SEC_E_UNSUPPORTED_FUNCTION; see
// linux-rig.md). So the handler answers with a serial number it gives each server context the first
// time it sees it: the test knows which login produced which serial (the request that completed it),
// and checks that every later request on a connection is served by the context of that connection's
// own login. On Microsoft's secur32 the user names are checked too.
describe('HTTP isolation between connections and users', () => {
  const bed = testBed();
  let running: AuthServer;
  let auth: IntegratedAuthenticator;
  let authenticated: number;
  const serials = new WeakMap<object, number>();
  let nextSerial = 0;

  async function listen(options: IntegratedAuthOptions): Promise<void> {
    authenticated = 0;
    auth = new IntegratedAuthenticator(options);
    running = await listenAuth(auth, async (req, res) => {
      const id: AuthenticatedIdentity | undefined = await auth.authenticate(req, res);
      if (!id) return;
      authenticated++;
      if (!serials.has(id.context)) serials.set(id.context, ++nextSerial);
      res.end(JSON.stringify({ serial: serials.get(id.context), user: id.user }));
    });
  }

  afterEach(async () => {
    await running.close();
  });

  async function get(agent: http.Agent, authorization?: string): Promise<Reply> {
    const r = await getReply(running.port, agent, authorization);
    const m = /^(?:Negotiate|NTLM) (\S+)$/.exec(r.wwwAuthenticate.join(', '));
    const reply: Reply = { status: r.status, token: m ? Buffer.from(m[1], 'base64') : undefined };
    if (reply.status === 200) Object.assign(reply, JSON.parse(r.body) as { serial: number; user: string | null });
    return reply;
  }

  function agent(): http.Agent {
    return new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  async function ntlmCredentials(index: 0 | 1, password?: string): Promise<Credentials> {
    const u = bed.users[index];
    return Credentials.acquire({ package: 'NTLM', identity: { user: u.name, domain: bed.domain, password: password ?? u.password } });
  }

  /** A whole NTLM login over `via`; the last reply. */
  async function login(client: ClientContext, via: http.Agent): Promise<Reply> {
    let last: Reply | undefined;
    await runHandshake(client, async (token) => {
      if (!token) return undefined; // HTTP carries whole tokens: nothing to ask for without sending one
      last = await get(via, `NTLM ${token.toString('base64')}`);
      return last.token;
    }).catch(() => undefined); // a refused login ends with a 401 and no token: the reply says so
    return last!;
  }

  /** users[0] (alice) and users[1] (jürgen) as NTLM clients, each with its own keep-alive connection. */
  async function twoUsers(): Promise<{ alice: ClientContext; jurgen: ClientContext; a: http.Agent; b: http.Agent } & Disposable> {
    const creds = [await ntlmCredentials(0), await ntlmCredentials(1)];
    const alice = new ClientContext(creds[0]);
    const jurgen = new ClientContext(creds[1]);
    const a = agent();
    const b = agent();
    return {
      alice, jurgen, a, b,
      [Symbol.dispose]() {
        a.destroy();
        b.destroy();
        for (const d of [alice, jurgen, ...creds]) d.dispose();
      },
    };
  }

  function expectUser(reply: Reply, index: 0 | 1): void {
    if (wineVersion()) {
      assert.equal(reply.user, null, 'Wine cannot name the user (SECPKG_ATTR_NAMES unsupported)');
    } else {
      assert.equal(reply.user?.toLowerCase(), `${bed.domain}\\${bed.users[index].name}`.toLowerCase());
    }
  }

  it('an NTLM handshake begun on one connection cannot be completed on another, nor crossed with another\'s', async () => {
    await listen({ schemes: ['NTLM'] });
    using users = await twoUsers();
    const { alice, jurgen, a, b } = users;
    // Both handshakes pending at once, each on its own connection.
    const challengeA = await get(a, `NTLM ${(await alice.step()).token!.toString('base64')}`);
    const challengeB = await get(b, `NTLM ${(await jurgen.step()).token!.toString('base64')}`);
    assert.equal(challengeA.status, 401);
    assert.equal(challengeB.status, 401);
    const authA = (await alice.step(challengeA.token)).token!;
    const authB = (await jurgen.step(challengeB.token)).token!;
    // Each AUTHENTICATE on the other's connection: it answers the other connection's challenge.
    assert.equal((await get(b, `NTLM ${authA.toString('base64')}`)).status, 401);
    assert.equal((await get(a, `NTLM ${authB.toString('base64')}`)).status, 401);
    assert.equal(authenticated, 0);
    // A third connection with no handshake at all.
    const c = agent();
    try {
      assert.equal((await get(c, `NTLM ${authA.toString('base64')}`)).status, 401);
    } finally {
      c.destroy();
    }
    assert.equal(authenticated, 0, 'no AUTHENTICATE_MESSAGE authenticated anyone away from its own connection');
  });

  it('a replayed Kerberos token is refused, on another connection and on the same one', async () => {
    await listen({ schemes: ['Negotiate'] });
    using cred = await Credentials.acquire({ package: 'Negotiate' });
    using client = new ClientContext(cred, { targetName: bed.spn });
    const apReq = (await client.step()).token!;
    const a = agent();
    const b = agent();
    try {
      const first = await get(a, `Negotiate ${apReq.toString('base64')}`);
      assert.equal(first.status, 200, 'the first use of the AP-REQ authenticates');
      assert.equal((await get(b, `Negotiate ${apReq.toString('base64')}`)).status, 401, 'replayed on another connection');
      assert.equal((await get(a, `Negotiate ${apReq.toString('base64')}`)).status, 401, 'replayed on the same connection');
      assert.equal(authenticated, 1);
    } finally {
      a.destroy();
      b.destroy();
    }
  });

  it('two users on two connections (persistOnConnection) each stay served by their own login', async () => {
    await listen({ schemes: ['NTLM'], persistOnConnection: true });
    using users = await twoUsers();
    const { alice, jurgen, a, b } = users;
    const loginA = await login(alice, a);
    const loginB = await login(jurgen, b);
    assert.equal(loginA.status, 200);
    assert.equal(loginB.status, 200);
    assert.notEqual(loginA.serial, loginB.serial, 'two logins, two server contexts');
    expectUser(loginA, 0);
    expectUser(loginB, 1);
    // Interleaved requests without Authorization: each connection is served by its own login's context.
    for (let k = 0; k < 5; k++) {
      const ra = await get(a);
      const rb = await get(b);
      assert.equal(ra.status, 200);
      assert.equal(rb.status, 200);
      assert.equal(ra.serial, loginA.serial, `request ${k} on alice's connection`);
      assert.equal(rb.serial, loginB.serial, `request ${k} on jürgen's connection`);
      expectUser(ra, 0);
      expectUser(rb, 1);
    }
    // A fresh connection is nobody.
    const c = agent();
    try {
      assert.equal((await get(c)).status, 401);
    } finally {
      c.destroy();
    }
  });

  it('a failed login never marks the connection authenticated (express-ntlm\'s bug)', async () => {
    await listen({ schemes: ['NTLM'], persistOnConnection: true });
    using wrongCred = await ntlmCredentials(0, 'not-the-password');
    using wrong = new ClientContext(wrongCred);
    const a = agent();
    try {
      const failed = await login(wrong, a);
      assert.equal(failed.status, 401, 'the wrong password is refused');
      for (let k = 0; k < 3; k++) assert.equal((await get(a)).status, 401, `request ${k} without Authorization after the failed login`);
      assert.equal(authenticated, 0);
    } finally {
      a.destroy();
    }
  });

  it('a failed re-login on an authenticated connection never authenticates the new user', async () => {
    await listen({ schemes: ['NTLM'], persistOnConnection: true });
    using aliceCred = await ntlmCredentials(0);
    using wrongCred = await ntlmCredentials(1, 'not-the-password');
    using alice = new ClientContext(aliceCred);
    using wrong = new ClientContext(wrongCred);
    const a = agent();
    try {
      const ok = await login(alice, a);
      assert.equal(ok.status, 200);
      assert.equal((await login(wrong, a)).status, 401, 'jürgen with a wrong password');
      // Whatever the policy for the earlier login (dropped, or kept), the failed one never counts:
      // a request without Authorization is refused or served by alice's own context, never a new one.
      const after = await get(a);
      assert.ok(after.status === 401 || (after.status === 200 && after.serial === ok.serial), JSON.stringify(after));
      if (after.status === 200) expectUser(after, 0);
    } finally {
      a.destroy();
    }
  });
});
