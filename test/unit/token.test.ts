/**
 * lib/token.ts (AccessToken), SecurityContext.accessToken() / impersonate(fn), and the guest/anonymous
 * check wired into IntegratedAuthenticator, in node.exe under Wine against the domain.
 *
 * Wine's secur32 gives no context token (QuerySecurityContextToken and ImpersonateSecurityContext answer
 * SEC_E_UNSUPPORTED_FUNCTION: see raw-tokens.test.ts for why), so AccessToken is tested on this
 * process's token, whose calls Wine implements, and the context methods for Wine's exact failure. The
 * client-token behaviour on Microsoft's secur32 is in test/windows/token.test.ts.
 */
import { strict as assert } from 'node:assert';
import * as http from 'node:http';

import { SECURITY_STATUS } from '../../lib/constants';
import { ClientContext, ServerContext } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { SspiError } from '../../lib/errors';
import { handshake, runHandshake } from '../../lib/handshake';
import { AuthenticatedIdentity, AuthEvent, IntegratedAuthenticator, IntegratedAuthOptions } from '../../lib/http/server';
import { tokenHandleCount } from '../../lib/raw/tokens';
import { AccessToken, guestOrAnonymous, TokenGroup } from '../../lib/token';
import { testBed } from '../support/env';
import { AuthServer, getReply, listenAuth, Reply } from '../support/http';
import { wineVersion } from '../support/wine';

const group = (sid: string, enabled = true, denyOnly = false): TokenGroup =>
  ({ sid, attributes: enabled ? 7 : 0, enabled, denyOnly, logonId: false });

describe('AccessToken of this process', () => {
  let token: AccessToken;
  before(() => {
    token = AccessToken.ofProcess();
  });
  after(() => token?.dispose());

  it('user(), groups() with their SE_GROUP_* meaning, tokenType(), impersonationLevel()', () => {
    assert.match(token.user().sid, /^S-1-5-21-\d+-\d+-\d+-\d+$/);
    const groups = token.groups();
    for (const sid of ['S-1-1-0', 'S-1-5-11', 'S-1-5-32-545']) {
      assert.ok(groups.some((g) => g.sid === sid && g.enabled && !g.denyOnly), `${sid} in ${JSON.stringify(groups)}`);
    }
    assert.equal(groups.filter((g) => g.logonId).length, 1);
    assert.equal(token.tokenType(), 'impersonation', 'ofProcess() makes an impersonation-level copy');
    assert.equal(token.impersonationLevel(), 'impersonation');
    assert.equal(token.guestOrAnonymous(), undefined);
  });

  it('isMemberOf(sid), and a malformed SID is a TypeError', () => {
    assert.equal(token.isMemberOf('S-1-5-32-545'), true);
    assert.equal(token.isMemberOf('S-1-5-11'), true);
    assert.equal(token.isMemberOf('S-1-5-7'), false);
    assert.equal(token.isMemberOf('S-1-5-32-546'), false);
    assert.throws(() => token.isMemberOf('Users'), TypeError);
  });

  it('lookupNames(): the user, BUILTIN\\Users, and null names for the logon SID (ERROR_NONE_MAPPED)', async () => {
    const { user, groups } = await token.lookupNames();
    assert.equal(user.sid, token.user().sid);
    assert.ok(user.name && user.domain, JSON.stringify(user));
    assert.deepEqual(groups.find((g) => g.sid === 'S-1-5-32-545'), { sid: 'S-1-5-32-545', name: 'Users', domain: 'BUILTIN', use: 4 });
    const logon = token.groups().find((g) => g.logonId)!;
    assert.deepEqual(groups.find((g) => g.sid === logon.sid), { sid: logon.sid, name: null, domain: null, use: null });
  });

  it('dispose(): idempotent, `using`, the handle closed, later use throws Error', () => {
    const before = tokenHandleCount();
    {
      using t = AccessToken.ofProcess();
      assert.equal(tokenHandleCount(), before + 1, 'the primary token was closed, its copy is held');
      t.dispose();
      t.dispose();
      assert.throws(() => t.user(), { name: 'Error', message: 'TokenHandle has been closed (CloseHandle)' });
      assert.throws(() => t.isMemberOf('S-1-1-0'), Error);
    }
    assert.equal(tokenHandleCount(), before);
  });

  it('ofThread(): null outside impersonation, the token\'s user inside impersonate(fn)', () => {
    assert.equal(AccessToken.ofThread(), null);
    const sid = token.impersonate(() => {
      using inside = AccessToken.ofThread();
      assert.ok(inside);
      return inside.user().sid;
    });
    assert.equal(sid, token.user().sid);
    assert.equal(AccessToken.ofThread(), null);
  });
});

describe('AccessToken.impersonate(fn): hostile fns', () => {
  let token: AccessToken;
  before(() => {
    token = AccessToken.ofProcess();
  });
  after(() => token?.dispose());

  const impersonating = (): boolean => {
    const t = AccessToken.ofThread();
    t?.dispose();
    return t !== null;
  };

  it('returns fn\'s value; fn ran impersonating', () => {
    assert.deepEqual(token.impersonate(() => ({ inside: impersonating() })), { inside: true });
    assert.equal(impersonating(), false);
  });

  it('fn throws: the same error, and the thread is reverted', () => {
    const e = new Error('boom');
    assert.throws(() => token.impersonate(() => {
      throw e;
    }), (x: unknown) => x === e);
    assert.equal(impersonating(), false);
  });

  it('fn returns a promise (an async fn, a rejecting promise, a thenable): TypeError, already reverted, no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (r: unknown): void => {
      unhandled.push(r);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      let afterAwait: boolean | undefined;
      const fns: (() => unknown)[] = [
        async () => {
          await null;
          afterAwait = impersonating();
        },
        () => Promise.reject(new Error('rejected inside')),
        () => ({ then: (): void => undefined }),
      ];
      for (const fn of fns) {
        assert.throws(() => token.impersonate(fn), { name: 'TypeError', message: /fn returned a promise; impersonation was reverted when fn returned/ });
        assert.equal(impersonating(), false);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(afterAwait, false, 'the async fn\'s continuation ran as the process, not impersonating');
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('nested impersonate: Error, the outer scope still runs impersonating and reverts', () => {
    const result = token.impersonate(() => {
      assert.throws(() => token.impersonate(() => 1), { name: 'Error', message: /nested scopes are refused/ });
      return impersonating();
    });
    assert.equal(result, true);
    assert.equal(impersonating(), false);
  });

  it('fn that is not a function: TypeError', () => {
    for (const bad of [undefined, null, 'x', 1]) assert.throws(() => token.impersonate(bad as never), TypeError);
  });
});

describe('SecurityContext.accessToken() and impersonate(fn) (QuerySecurityContextToken, ImpersonateSecurityContext)', () => {
  const bed = testBed();

  for (const pkg of ['Kerberos', 'NTLM']) {
    it(`${pkg} server context: Wine answers SEC_E_UNSUPPORTED_FUNCTION, fn never runs; not before the handshake; not after dispose`, async () => {
      const user = bed.users[0];
      using cc = await Credentials.acquire(pkg === 'NTLM'
        ? { package: pkg, identity: { user: user.name, domain: bed.domain, password: user.password } } : { package: pkg });
      using sc = await Credentials.acquire({ package: pkg, use: 'inbound' });
      using client = new ClientContext(cc, { targetName: bed.spn });
      const server = new ServerContext(sc);
      assert.throws(() => server.accessToken(), (e: unknown) => e instanceof SspiError && e.code === 'SEC_E_INVALID_HANDLE' && e.function === 'QuerySecurityContextToken');
      await handshake(client, server);
      let ran = false;
      if (wineVersion()) {
        assert.throws(() => server.accessToken(), (e: unknown) => e instanceof SspiError && e.status === SECURITY_STATUS.SEC_E_UNSUPPORTED_FUNCTION
          && e.function === 'QuerySecurityContextToken' && e.package === pkg);
        assert.throws(() => server.impersonate(() => {
          ran = true;
        }), (e: unknown) => e instanceof SspiError && e.code === 'SEC_E_UNSUPPORTED_FUNCTION' && e.function === 'ImpersonateSecurityContext');
        assert.equal(ran, false);
      } else {
        using token = server.accessToken();
        assert.match(token.user().sid, /^S-1-5-/);
      }
      server.dispose();
      assert.throws(() => server.accessToken(), { name: 'Error', message: /has been deleted/ });
      assert.throws(() => server.impersonate(() => assert.fail('fn ran')), { name: 'Error', message: /has been deleted/ });
    });
  }
});

describe('guestOrAnonymous(user, groups)', () => {
  const user = 'S-1-5-21-1004336348-1177238915-682003330-1104';
  it('names each refused kind, and lets ordinary users through', () => {
    assert.equal(guestOrAnonymous(user, [group('S-1-5-11'), group('S-1-5-32-545')]), undefined);
    assert.equal(guestOrAnonymous('S-1-5-7', []), 'ANONYMOUS LOGON');
    assert.equal(guestOrAnonymous('S-1-5-7', [], { allowAnonymous: true }), undefined);
    assert.equal(guestOrAnonymous(user, [group('S-1-5-7')]), 'ANONYMOUS LOGON');
    assert.equal(guestOrAnonymous('S-1-5-21-1004336348-1177238915-682003330-501', []), 'Guest account');
    assert.equal(guestOrAnonymous('S-1-5-21-1004336348-1177238915-682003330-501', [], { allowAnonymous: true }), 'Guest account');
    assert.equal(guestOrAnonymous(user, [group('S-1-5-32-546')]), 'Guests group');
    assert.equal(guestOrAnonymous(user, [group('s-1-5-32-546')]), 'Guests group', 'SID strings compare case-insensitively');
    assert.equal(guestOrAnonymous(user, [group('S-1-5-21-1004336348-1177238915-682003330-514')]), 'Guests group');
  });

  it('RID 501 only as the user of a machine/domain SID; deny-only and disabled groups do not count', () => {
    assert.equal(guestOrAnonymous('S-1-5-21-1-2-3-5010', []), undefined);
    assert.equal(guestOrAnonymous('S-1-5-32-501', []), undefined);
    assert.equal(guestOrAnonymous(user, [group('S-1-5-21-1-2-3-501')]), undefined);
    assert.equal(guestOrAnonymous(user, [group('S-1-5-32-546', false)]), undefined);
    assert.equal(guestOrAnonymous(user, [group('S-1-5-32-546', true, true)]), undefined);
  });
});

describe('IntegratedAuthenticator: the client token\'s SID check', () => {
  const bed = testBed();
  let servers: AuthServer[] = [];
  let cred: Credentials;
  before(async () => {
    cred = await Credentials.acquire({ package: 'Negotiate' });
  });
  after(() => cred?.dispose());
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.close()));
    servers = [];
  });

  interface FakeToken { sid: string; groups?: TokenGroup[]; disposed?: number }

  /** A server whose contexts report `token` (or throw `fail`) from accessToken(); null: the real one. */
  async function login(token: FakeToken | SspiError | null, options: IntegratedAuthOptions = {}):
    Promise<{ reply: Reply; identity?: AuthenticatedIdentity; events: AuthEvent[] }> {
    const events: AuthEvent[] = [];
    let identity: AuthenticatedIdentity | undefined;
    const auth = new IntegratedAuthenticator({
      schemes: ['Negotiate'],
      ...options,
      onEvent: (e) => events.push(e),
      createContext: token === null ? undefined : (c, o) => new class extends ServerContext {
        accessToken(): AccessToken {
          if (token instanceof SspiError) throw token;
          return {
            user: () => ({ sid: token.sid }),
            groups: () => token.groups ?? [],
            dispose: () => {
              token.disposed = (token.disposed ?? 0) + 1;
            },
          } as unknown as AccessToken;
        }
      }(c, o),
    });
    const running = await listenAuth(auth, async (req, res) => {
      const id = await auth.authenticate(req, res);
      if (id) {
        identity = id;
        res.end('ok');
      }
    });
    servers.push(running);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    using client = new ClientContext(cred, { targetName: bed.spn });
    let reply: Reply | undefined;
    try {
      // A refused logon ends in a 401 without a token, which runHandshake reports as an Error.
      await runHandshake(client, async (t) => {
        reply = await getReply(running.port, agent, `Negotiate ${t?.toString('base64') ?? ''}`.trim());
        const header = reply.wwwAuthenticate.find((h) => h.startsWith('Negotiate '));
        return reply.status === 200 && header ? Buffer.from(header.slice(10), 'base64') : undefined;
      }).catch((e: unknown) => {
        if (reply?.status !== 401) throw e;
      });
    } finally {
      agent.destroy();
    }
    return { reply: reply!, identity, events };
  }

  it('Wine: no token, so no SID check is possible; the logon succeeds and says why there is no SID', async () => {
    const { reply, identity } = await login(null);
    assert.equal(reply.status, 200, reply.body);
    if (wineVersion()) {
      assert.equal(identity!.sid, null);
      assert.deepEqual(identity!.sidNotReported, { code: 'SEC_E_UNSUPPORTED_FUNCTION', status: 0x80090302 });
    } else {
      assert.match(identity!.sid!, /^S-1-5-/);
    }
  });

  it('an ordinary user: 200, the identity carries the SID, the token is disposed', async () => {
    const token: FakeToken = { sid: 'S-1-5-21-1-2-3-1104', groups: [group('S-1-5-11')] };
    const { reply, identity } = await login(token);
    assert.equal(reply.status, 200, reply.body);
    assert.equal(identity!.sid, token.sid);
    assert.equal(identity!.sidNotReported, undefined);
    assert.equal(token.disposed, 1);
  });

  const refused: [string, FakeToken, string][] = [
    ['the Guest account (RID 501)', { sid: 'S-1-5-21-1-2-3-501' }, 'Guest account'],
    ['a member of BUILTIN\\Guests', { sid: 'S-1-5-21-1-2-3-1104', groups: [group('S-1-5-32-546')] }, 'Guests group'],
    ['ANONYMOUS LOGON', { sid: 'S-1-5-7' }, 'ANONYMOUS LOGON'],
  ];
  for (const [label, token, reason] of refused) {
    it(`${label}: 401, event reason '${reason}', the token disposed`, async () => {
      const { reply, identity, events } = await login(token);
      assert.equal(reply.status, 401);
      assert.equal(identity, undefined);
      assert.ok(events.some((e) => e.type === 'rejected' && e.reason === reason), JSON.stringify(events));
      assert.ok(!events.some((e) => e.type === 'authenticated'));
      assert.equal(token.disposed, 1);
    });
  }

  it('ANONYMOUS LOGON with allowAnonymous: 200 and marked anonymous; Guest stays refused', async () => {
    const a = await login({ sid: 'S-1-5-7' }, { allowAnonymous: true });
    assert.equal(a.reply.status, 200);
    assert.equal(a.identity!.anonymous, true);
    const g = await login({ sid: 'S-1-5-21-1-2-3-501' }, { allowAnonymous: true });
    assert.equal(g.reply.status, 401);
  });

  it('a token that fails otherwise than SEC_E_UNSUPPORTED_FUNCTION: refused (fail closed)', async () => {
    const { reply, events } = await login(new SspiError(SECURITY_STATUS.SEC_E_INTERNAL_ERROR, 'QuerySecurityContextToken'));
    assert.equal(reply.status, 401);
    assert.ok(events.some((e) => e.type === 'rejected' && e.reason === 'QuerySecurityContextToken: SEC_E_INTERNAL_ERROR'), JSON.stringify(events));
  });
});
