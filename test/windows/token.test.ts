/**
 * Who the client is, on Microsoft's secur32: NTLM loopback as a local user the Windows workflow
 * created (its SID known from New-LocalUser), the server reading the client's token and impersonating.
 *
 * This suite runs only in .github/workflows/windows.yml, after the step that creates the local users
 * and writes $SSPI_TEST_CONFIG with each user's `sid` (Get-LocalUser's SID). Under Wine it fails in its
 * `before` hook saying so: Wine's secur32 has no context tokens (test/unit/raw-tokens.test.ts).
 *
 * What Microsoft documents and the assertions rely on:
 * - QuerySecurityContextToken returns the access token of the client of a server context:
 *   https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querysecuritycontexttoken
 * - ImpersonateSecurityContext lets the server impersonate the client; RevertSecurityContext ends it:
 *   https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-impersonatesecuritycontext
 *   https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-revertsecuritycontext
 * - OpenThreadToken fails with ERROR_NO_TOKEN when the thread is not impersonating:
 *   https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-openthreadtoken
 * - Every account authenticated over the network gets Authenticated Users (S-1-5-11) in its token, a
 *   local user made with New-LocalUser and added to BUILTIN\Users (S-1-5-32-545, as the workflow does)
 *   has that alias too: https://learn.microsoft.com/en-us/windows/win32/secauthz/well-known-sids
 * - LookupAccountSid names a local account with the computer's name as its domain:
 *   https://learn.microsoft.com/en-us/windows/win32/api/winbase/nf-winbase-lookupaccountsidw
 */
import { strict as assert } from 'node:assert';

import { ClientContext, ServerContext } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { handshake } from '../../lib/handshake';
import * as raw from '../../lib/raw/tokens';
import { AccessToken } from '../../lib/token';
import { testBed } from '../support/env';
import { wineVersion } from '../support/wine';

describe('client tokens and impersonation over NTLM loopback as a created local user (Microsoft secur32)', () => {
  let users: { name: string; password: string; sid: string }[];
  let domain: string;

  before(() => {
    assert.equal(process.platform, 'win32', 'SSPI exists only on Windows');
    assert.equal(wineVersion(), null,
      'this suite needs Microsoft secur32 (Wine has no context tokens); it runs in .github/workflows/windows.yml');
    const bed = testBed();
    users = bed.users as typeof users;
    domain = bed.domain;
    for (const u of users) assert.match(u.sid ?? '', /^S-1-5-21-\d+-\d+-\d+-\d+$/, `the workflow wrote ${u.name}'s SID into the config`);
  });

  async function established(index: number): Promise<{ server: ServerContext } & Disposable> {
    const user = users[index];
    const clientCred = await Credentials.acquire({ package: 'NTLM', identity: { user: user.name, domain, password: user.password } });
    const serverCred = await Credentials.acquire({ package: 'NTLM', use: 'inbound' });
    const client = new ClientContext(clientCred);
    const server = new ServerContext(serverCred);
    const r = await handshake(client, server);
    assert.equal(r.server.code, 'SEC_E_OK');
    return {
      server,
      [Symbol.dispose]() {
        for (const d of [client, server, clientCred, serverCred]) d.dispose();
      },
    };
  }

  for (const index of [0, 1]) {
    it(`user ${index}: accessToken() is the client's: its SID, Users and Authenticated Users, names on request`, async () => {
      const user = users[index];
      using p = await established(index);
      using token = p.server.accessToken();
      assert.equal(token.user().sid, user.sid);
      assert.equal(token.tokenType(), 'impersonation');
      assert.ok(['identification', 'impersonation', 'delegation'].includes(token.impersonationLevel()), token.impersonationLevel());
      const groups = token.groups();
      for (const sid of ['S-1-5-32-545', 'S-1-5-11']) {
        assert.ok(groups.some((g) => g.sid === sid && g.enabled), `${sid} in ${JSON.stringify(groups)}`);
        assert.equal(token.isMemberOf(sid), true, sid);
      }
      assert.equal(token.isMemberOf('S-1-5-32-546'), false, 'not a guest');
      assert.equal(token.guestOrAnonymous(), undefined);
      using me = AccessToken.ofProcess();
      assert.notEqual(me.user().sid, user.sid, 'the token is not the service\'s own');
      const names = await token.lookupNames();
      assert.equal(names.user.name?.toLowerCase(), user.name.toLowerCase());
      assert.equal(names.user.domain?.toLowerCase(), domain.toLowerCase());
      assert.ok(names.groups.some((g) => g.sid === 'S-1-5-32-545' && g.domain === 'BUILTIN'), JSON.stringify(names.groups));
    });
  }

  it('impersonate(fn): fn runs as the client, the thread is back to the service identity after', async () => {
    using p = await established(0);
    assert.equal(AccessToken.ofThread(), null, 'not impersonating before');
    const seen = p.server.impersonate(() => {
      const t = raw.OpenThreadToken(raw.TOKEN_ACCESS.QUERY, true);
      assert.equal(t.status, 0);
      const sid = raw.GetTokenInformation(t.tokenHandle!, raw.TOKEN_INFORMATION_CLASS.TokenUser).tokenInformation!.User.Sid;
      t.tokenHandle!.close();
      return sid;
    });
    assert.equal(seen, users[0].sid);
    assert.deepEqual(raw.OpenThreadToken(raw.TOKEN_ACCESS.QUERY, true), { status: raw.HRESULT_FROM_WIN32(raw.WIN32_ERROR.ERROR_NO_TOKEN) });
  });

  it('impersonate(fn) reverts when fn throws or returns a promise', async () => {
    using p = await established(0);
    const e = new Error('inside');
    assert.throws(() => p.server.impersonate(() => {
      throw e;
    }), (x: unknown) => x === e);
    assert.equal(AccessToken.ofThread(), null);
    assert.throws(() => p.server.impersonate(async () => undefined), TypeError);
    assert.equal(AccessToken.ofThread(), null);
    assert.throws(() => p.server.impersonate(() => p.server.impersonate(() => 1)), /nested scopes are refused/);
    assert.equal(AccessToken.ofThread(), null);
  });

  it('raw ImpersonateSecurityContext / RevertSecurityContext act on the calling thread', async () => {
    using p = await established(1);
    assert.equal(raw.ImpersonateSecurityContext(p.server.handle), 0);
    let sid: string | undefined;
    try {
      using t = AccessToken.ofThread();
      sid = t?.user().sid;
    } finally {
      assert.equal(raw.RevertSecurityContext(p.server.handle), 0);
    }
    assert.equal(sid, users[1].sid);
    assert.equal(AccessToken.ofThread(), null);
  });
});
