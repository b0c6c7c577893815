/**
 * IntegratedAuthenticator's policy options of issue 9: pass-through schemes (`passThroughSchemes`,
 * `passThroughChallenges`), `principalFormat`, `requireGroup`, and their hostile inputs. Run in
 * node.exe under Wine against the Samba domain; where Wine's secur32 cannot answer (no NAMES,
 * NATIVE_NAMES or QuerySecurityContextToken: SEC_E_UNSUPPORTED_FUNCTION, linux-rig.md "Wine 10")
 * the Wine branch asserts that exact status, and the group check's own logic is driven by contexts
 * whose accessToken() reports a given token (the same createContext seam test/unit/token.test.ts uses).
 */
import { strict as assert } from 'node:assert';
import * as http from 'node:http';

import { SECURITY_STATUS } from '../../lib/constants';
import { ClientContext, ServerContext } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { SspiError } from '../../lib/errors';
import { AuthenticatedIdentity, AuthEvent, IntegratedAuthenticator, IntegratedAuthOptions } from '../../lib/http/server';
import { AccessToken, TokenGroup } from '../../lib/token';
import { testBed } from '../support/env';
import { AuthServer, getReply, listenAuth, Reply } from '../support/http';
import { loginOver } from '../support/policy-server';
import { wineVersion } from '../support/wine';

const UNSUPPORTED = { code: 'SEC_E_UNSUPPORTED_FUNCTION', status: SECURITY_STATUS.SEC_E_UNSUPPORTED_FUNCTION };

describe('IntegratedAuthenticator policy options: construction (hostile values)', () => {
  const bad: [string, IntegratedAuthOptions | Record<string, unknown>, RegExp][] = [
    ['requireGroup garbage SID', { requireGroup: 'Administrators' }, /requireGroup/],
    ['requireGroup SID with a trailing newline', { requireGroup: 'S-1-5-32-544\n' }, /requireGroup/],
    ['requireGroup SID-looking with letters', { requireGroup: 'S-1-5-32-54x' }, /requireGroup/],
    ['requireGroup SID with no sub-authority', { requireGroup: 'S-1-5' }, /requireGroup/],
    ['requireGroup empty array', { requireGroup: [] }, /requireGroup/],
    ['requireGroup array with a number', { requireGroup: ['S-1-5-32-544', 544] }, /requireGroup/],
    ['requireGroup object', { requireGroup: { sid: 'S-1-5-32-544' } }, /requireGroup/],
    ['requireGroup DOMAIN\\Group name', { requireGroup: 'BUILTIN\\Administrators' }, /requireGroup/],
    ['passThroughSchemes unknown scheme', { passThroughSchemes: ['Digest'] }, /passThroughSchemes/],
    ['passThroughSchemes Negotiate (ours)', { passThroughSchemes: ['Negotiate'] }, /passThroughSchemes/],
    ['passThroughSchemes lower-case', { passThroughSchemes: ['bearer'] }, /passThroughSchemes/],
    ['passThroughSchemes duplicates', { passThroughSchemes: ['Bearer', 'Bearer'] }, /passThroughSchemes/],
    ['passThroughSchemes empty', { passThroughSchemes: [] }, /passThroughSchemes/],
    ['passThroughSchemes a string', { passThroughSchemes: 'Bearer' }, /passThroughSchemes/],
    ['passThroughChallenges without passThroughSchemes', { passThroughChallenges: ['Bearer realm="x"'] }, /passThroughChallenges/],
    ['passThroughChallenges for another scheme', { passThroughSchemes: ['Bearer'], passThroughChallenges: ['Basic realm="x"'] }, /passThroughChallenges/],
    ['passThroughChallenges with CRLF (header injection)', { passThroughSchemes: ['Bearer'], passThroughChallenges: ['Bearer realm="x"\r\nSet-Cookie: a=b'] }, /passThroughChallenges/],
    ['passThroughChallenges not strings', { passThroughSchemes: ['Bearer'], passThroughChallenges: [1] }, /passThroughChallenges/],
    ['principalFormat unknown', { principalFormat: 'NameCanonical' }, /principalFormat/],
    ['extendedProtection unknown', { extendedProtection: 'required' }, /extendedProtection/],
    ['extendedProtection true', { extendedProtection: true }, /extendedProtection/],
    ['extendedProtection with channelBindings', { extendedProtection: 'always', channelBindings: 'tls-server-end-point' }, /channelBindings/],
    ["'always' with ASC_REQ_ALLOW_MISSING_BINDINGS in contextReq", { extendedProtection: 'always', contextReq: 0x10000800 }, /ALLOW_MISSING_BINDINGS/],
    ['proxy a string', { proxy: 'yes' }, /proxy/],
  ];
  for (const [label, options, message] of bad) {
    it(`${label}: TypeError`, () => {
      assert.throws(() => new IntegratedAuthenticator(options as IntegratedAuthOptions), (e: unknown) => e instanceof TypeError && message.test(e.message) && !e.message.startsWith('unknown option'));
    });
  }

  it('good values construct (and old channelBindings forms still do)', async () => {
    for (const options of [
      { requireGroup: 'S-1-5-32-544' }, { requireGroup: ['s-1-5-32-544', 'S-1-5-21-1004336348-1177238915-682003330-513'] },
      { passThroughSchemes: ['Bearer', 'Basic'], passThroughChallenges: ['Bearer realm="api"', 'basic realm="x", charset="UTF-8"'] },
      { principalFormat: 'upn' }, { principalFormat: 'sid' }, { principalFormat: 'samCompatible' },
      { extendedProtection: 'off' }, { extendedProtection: 'whenSupported', contextReq: 0x10000800 }, { extendedProtection: 'always' },
      { channelBindings: false }, { channelBindings: 'tls-server-end-point' }, { proxy: true }, { proxy: false },
      // The alias with the flag in contextReq was valid before extendedProtection existed: it still is ('whenSupported').
      { channelBindings: 'tls-server-end-point', contextReq: 0x10000800 },
    ] as IntegratedAuthOptions[]) {
      await new IntegratedAuthenticator(options).close();
    }
  });
});

describe('IntegratedAuthenticator policy options over HTTP', () => {
  const bed = testBed();
  let running: AuthServer | undefined;
  let auth: IntegratedAuthenticator;
  let events: AuthEvent[];
  let contextsMade: number;
  let seen: { sspi?: AuthenticatedIdentity; authorization?: string }[];
  const agents: http.Agent[] = [];

  interface FakeToken { sid: string; groups: TokenGroup[] }
  const group = (sid: string, enabled = true, denyOnly = false): TokenGroup => ({ sid, attributes: 0, enabled, denyOnly, logonId: false });

  /** The middleware form (what the adapters build on): next() records what reached the handler. */
  async function listen(options: IntegratedAuthOptions, token?: FakeToken | SspiError): Promise<void> {
    events = [];
    seen = [];
    contextsMade = 0;
    auth = new IntegratedAuthenticator({
      ...options,
      onEvent: (e) => events.push(e),
      createContext: (c, o) => {
        contextsMade++;
        if (!token) return new ServerContext(c, o);
        return new class extends ServerContext {
          accessToken(): AccessToken {
            if (token instanceof SspiError) throw token;
            return { user: () => ({ sid: token.sid }), groups: () => token.groups, dispose: () => undefined } as unknown as AccessToken;
          }
        }(c, o);
      },
    });
    const middleware = auth.middleware();
    running = await listenAuth(auth, (req, res) => {
      middleware(req, res, (err) => {
        if (err) {
          res.statusCode = 500;
          res.end(String(err));
          return;
        }
        const sspi = (req as { sspi?: AuthenticatedIdentity }).sspi;
        seen.push({ sspi, authorization: req.headers.authorization });
        res.end(JSON.stringify({ principal: sspi?.principal ?? null, passed: !sspi }));
      });
    });
  }

  afterEach(async () => {
    for (const a of agents.splice(0)) a.destroy();
    await running?.close();
    running = undefined;
  });

  function agent(): http.Agent {
    const a = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(a);
    return a;
  }

  const login = (scheme: 'Negotiate' | 'NTLM', client: ClientContext, via: http.Agent): Promise<Reply> => loginOver(running!.port, scheme, client, via);

  async function kerberos(via = agent()): Promise<Reply> {
    using cred = await Credentials.acquire({ package: 'Negotiate' });
    using client = new ClientContext(cred, { targetName: bed.spn });
    return await login('Negotiate', client, via);
  }

  async function ntlm(via = agent()): Promise<Reply> {
    using cred = await Credentials.acquire({ package: 'NTLM', identity: { user: bed.users[0].name, domain: bed.domain, password: bed.users[0].password } });
    using client = new ClientContext(cred);
    return await login('NTLM', client, via);
  }

  describe('passThroughSchemes', () => {
    it('Bearer and Basic are handed on: next() without req.sspi, no 401, no context made, header untouched', async () => {
      await listen({ passThroughSchemes: ['Bearer', 'Basic'] });
      const via = agent();
      for (const value of ['Bearer abc.def.ghi', 'bearer abc', 'BASIC dXNlcjpwYXNz', 'Basic dXNlcjpwYXNz']) {
        const reply = await getReply(running!.port, via, value);
        assert.equal(reply.status, 200, value);
        assert.deepEqual(JSON.parse(reply.body), { principal: null, passed: true });
        assert.equal(seen.at(-1)!.authorization, value, 'the other middleware gets the header as sent');
      }
      assert.equal(contextsMade, 0);
      assert.deepEqual(events, [], 'no challenge, and no event carrying the header');
    });

    it('malformed pass-through headers are passed on too (the other middleware judges them); a look-alike scheme is not', async () => {
      await listen({ passThroughSchemes: ['Bearer'] });
      const via = agent();
      for (const value of ['Bearer', 'Bearer ', 'Bearer !!!not base64!!!', 'Bearer a b c', 'Bearer\tx']) {
        const reply = await getReply(running!.port, via, value);
        assert.equal(reply.status, 200, JSON.stringify(value));
        assert.equal(JSON.parse(reply.body).passed, true);
      }
      for (const value of ['Bearerx abc', 'Basic dXNlcjpwYXNz', 'XBearer abc']) {
        const reply = await getReply(running!.port, via, value);
        assert.equal(reply.status, 401, value);
        assert.deepEqual(reply.wwwAuthenticate, ['Negotiate', 'NTLM']);
      }
      assert.equal(contextsMade, 0);
    });

    it('without the option Bearer gets the 401 challenge (the default is unchanged)', async () => {
      await listen({});
      const reply = await getReply(running!.port, agent(), 'Bearer abc');
      assert.equal(reply.status, 401);
      assert.deepEqual(reply.wwwAuthenticate, ['Negotiate', 'NTLM']);
      assert.deepEqual(events.map((e) => [e.type, e.reason]), [['rejected', 'scheme not offered']]);
    });

    it('passThroughChallenges are appended to every 401 challenge, after ours', async () => {
      await listen({ passThroughSchemes: ['Bearer'], passThroughChallenges: ['Bearer realm="api"'] });
      const reply = await getReply(running!.port, agent());
      assert.equal(reply.status, 401);
      assert.deepEqual(reply.wwwAuthenticate, ['Negotiate', 'NTLM', 'Bearer realm="api"']);
      const garbage = await getReply(running!.port, agent(), 'Negotiate !!!');
      assert.deepEqual(garbage.wwwAuthenticate, ['Negotiate', 'NTLM', 'Bearer realm="api"']);
    });

    it('an NTLM identity persisted on the connection is not given to a pass-through request', async () => {
      await listen({ passThroughSchemes: ['Bearer'] });
      const via = agent();
      const first = await ntlm(via);
      assert.equal(first.status, 200, JSON.stringify(events));
      assert.equal(JSON.parse(first.body).passed, false);
      const persisted = await getReply(running!.port, via);
      assert.equal(JSON.parse(persisted.body).passed, false, 'the same connection without a header: persisted NTLM');
      const bearer = await getReply(running!.port, via, 'Bearer abc');
      assert.equal(bearer.status, 200);
      assert.deepEqual(JSON.parse(bearer.body), { principal: null, passed: true });
    });

    it('a Proxy-Authorization header on a server that is not a proxy is ignored: 401 challenge, no SSPI call', async () => {
      await listen({});
      using cred = await Credentials.acquire({ package: 'Negotiate' });
      using client = new ClientContext(cred, { targetName: bed.spn });
      const token = (await client.step()).token!;
      const reply = await new Promise<Reply>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: running!.port, path: '/', agent: agent(), headers: { 'Proxy-Authorization': `Negotiate ${token.toString('base64')}` } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, wwwAuthenticate: [res.headers['www-authenticate'] ?? ''].flat(), body: '' }));
        }).on('error', reject);
      });
      assert.equal(reply.status, 401);
      assert.equal(contextsMade, 0);
      assert.deepEqual(events.map((e) => e.type), ['challenge']);
    });
  });

  describe('principalFormat', () => {
    // Kerberos from the ticket cache, each format: Wine cannot answer any of the three (its NAMES,
    // NATIVE_NAMES and QuerySecurityContextToken are SEC_E_UNSUPPORTED_FUNCTION); Microsoft's can.
    const formats: [IntegratedAuthOptions['principalFormat'], string, (id: AuthenticatedIdentity) => void][] = [
      [undefined, 'SECPKG_ATTR_NAMES', (id) => {
        assert.equal(id.principal, id.user);
        assert.match(id.principal!, /^[^\\]+\\[^\\]+$/);
      }],
      ['upn', 'SECPKG_ATTR_NATIVE_NAMES', (id) => assert.equal(id.principal?.toLowerCase(), `${bed.users[0].name}@${bed.realm}`.toLowerCase())],
      ['sid', 'QuerySecurityContextToken', (id) => {
        assert.match(id.principal!, /^S-1-5-21-/);
        assert.equal(id.principal, id.sid);
      }],
    ];
    for (const [format, source, windows] of formats) {
      it(`Kerberos, ${format ?? "default 'samCompatible'"}: from ${source}; Wine: null, SEC_E_UNSUPPORTED_FUNCTION`, async () => {
        await listen(format ? { principalFormat: format } : {});
        const reply = await kerberos();
        assert.equal(reply.status, 200, reply.body);
        const id = seen[0].sspi!;
        assert.equal(id.package, 'Kerberos');
        if (wineVersion()) {
          assert.equal(id.principal, null);
          assert.deepEqual(id.principalNotReported, { reason: source, ...UNSUPPORTED });
        } else {
          windows(id);
          assert.equal(id.principalNotReported, undefined);
        }
      });
    }

    it("NTLM 'upn': null, NTLM has no principal name (no SSPI call is blamed)", async () => {
      await listen({ principalFormat: 'upn' });
      const reply = await ntlm();
      assert.equal(reply.status, 200, reply.body);
      assert.equal(seen[0].sspi!.principal, null);
      assert.deepEqual(seen[0].sspi!.principalNotReported, { reason: 'NTLM logons have no principal name' });
    });

    it("'sid' from a token that reports one", async () => {
      await listen({ principalFormat: 'sid' }, { sid: 'S-1-5-21-1-2-3-1104', groups: [] });
      await kerberos();
      assert.equal(seen[0].sspi!.principal, 'S-1-5-21-1-2-3-1104');
      assert.equal(seen[0].sspi!.principalNotReported, undefined);
    });
  });

  describe('requireGroup', () => {
    const user = 'S-1-5-21-1-2-3-1104';

    it('a member (any one of the groups, SIDs compared case-insensitively): 200', async () => {
      await listen({ requireGroup: ['S-1-5-32-544', 's-1-5-21-1-2-3-1105'] }, { sid: user, groups: [group('S-1-5-11'), group('S-1-5-21-1-2-3-1105')] });
      const reply = await kerberos();
      assert.equal(reply.status, 200, reply.body);
      assert.equal(JSON.parse(reply.body).passed, false);
    });

    it('not a member: 403 (authenticated but forbidden), event rejected/403 with the reason, handler not run, context deleted', async () => {
      await listen({ requireGroup: 'S-1-5-32-544' }, { sid: user, groups: [group('S-1-5-11'), group('S-1-5-32-545')] });
      const reply = await kerberos();
      assert.equal(reply.status, 403);
      assert.deepEqual(reply.wwwAuthenticate, [], 'no challenge: new credentials would not help');
      assert.equal(seen.length, 0);
      const rejected = events.filter((e) => e.type === 'rejected');
      assert.deepEqual(rejected.map((e) => [e.status, e.reason]), [[403, 'not in a required group']]);
      assert.ok(!events.some((e) => e.type === 'authenticated'));
      assert.deepEqual(auth.stats(), { pendingHandshakes: 0, contexts: 0 });
    });

    it('the group only as deny-only, or disabled, does not count: 403', async () => {
      await listen({ requireGroup: 'S-1-5-32-544' }, { sid: user, groups: [group('S-1-5-32-544', true, true)] });
      assert.equal((await kerberos()).status, 403);
      await running!.close();
      await listen({ requireGroup: 'S-1-5-32-544' }, { sid: user, groups: [group('S-1-5-32-544', false)] });
      assert.equal((await kerberos()).status, 403);
    });

    it('a guest stays refused with 401 before the group check', async () => {
      await listen({ requireGroup: 'S-1-5-32-546' }, { sid: 'S-1-5-21-1-2-3-501', groups: [group('S-1-5-32-546')] });
      assert.equal((await kerberos()).status, 401);
    });

    it('the token cannot be read (any failure): fails closed with 500 "group membership not available"', async () => {
      await listen({ requireGroup: 'S-1-5-32-545' }, new SspiError(SECURITY_STATUS.SEC_E_INTERNAL_ERROR, 'QuerySecurityContextToken'));
      const reply = await kerberos();
      assert.equal(reply.status, 500);
      assert.match(reply.body, /group membership not available/);
      assert.deepEqual(events.filter((e) => e.type === 'rejected').map((e) => [e.status, e.reason]),
        [[500, 'group membership not available: SEC_E_INTERNAL_ERROR']]);
      assert.equal(seen.length, 0);
    });

    it(`the real secur32 token: ${wineVersion() ? 'Wine has none (SEC_E_UNSUPPORTED_FUNCTION): 500, never allowed' : 'a domain user is in Authenticated Users'}`, async () => {
      await listen({ requireGroup: 'S-1-5-11' });
      for (const run of [kerberos, ntlm]) {
        events = [];
        const reply = await run();
        if (wineVersion()) {
          assert.equal(reply.status, 500, run.name);
          assert.deepEqual(events.filter((e) => e.type === 'rejected').map((e) => [e.status, e.reason]),
            [[500, 'group membership not available: SEC_E_UNSUPPORTED_FUNCTION']], run.name);
        } else {
          assert.equal(reply.status, 200, run.name);
        }
      }
      assert.equal(seen.length, wineVersion() ? 0 : 2, 'the handler runs only for allowed clients');
      assert.deepEqual(auth.stats(), { pendingHandshakes: 0, contexts: 0 });
    });

    it('an NTLM connection refused by requireGroup is not persisted: the next request on it is challenged', async () => {
      await listen({ requireGroup: 'S-1-5-32-544' }, { sid: user, groups: [] });
      const via = agent();
      assert.equal((await ntlm(via)).status, 403);
      const next = await getReply(running!.port, via);
      assert.equal(next.status, 401);
      assert.equal(seen.length, 0);
    });
  });
});
