/**
 * IntegratedAuthenticator's policies on Microsoft's secur32, where Wine cannot show them: NTLM over
 * HTTPS as a local user the Windows workflow created (SSPI_TEST_CONFIG: users with `sid`, as
 * test/windows/token.test.ts uses them), client (NegotiateAgent) and server in this process.
 *
 * This suite runs only in .github/workflows/windows.yml. Under Wine it fails in its `before` hook
 * saying so: Wine ignores channel bindings and has no context tokens
 * (test/unit/http-policy-bindings.test.ts and http-policy-options.test.ts assert Wine's behaviour).
 *
 * What Microsoft documents and the assertions rely on:
 * - extendedProtection 'always' passes the bindings without ASC_REQ_ALLOW_MISSING_BINDINGS, so a
 *   client without bindings is refused (SEC_CHANNEL_BINDINGS_RESULT_NOTVALID_MISSING, "missing
 *   channel bindings are not allowed for this client"); 'whenSupported' adds the flag
 *   (SEC_CHANNEL_BINDINGS_RESULT_VALID_MISSING, "the client is permitted to have missing bindings, as
 *   allowed by the ASC_REQ_ALLOW_MISSING_BINDINGS flag"):
 *   https://learn.microsoft.com/en-us/windows-hardware/drivers/ddi/ntifs/ns-ntifs-sec_channel_bindings_result
 *   The refusal is AcceptSecurityContext's SEC_E_BAD_BINDINGS (winerror.h 0x80090346), answered 401.
 * - .NET's equivalent policy: https://learn.microsoft.com/en-us/dotnet/api/system.security.authentication.extendedprotection.policyenforcement
 *   ("Always: Clients that don't support extended protection will fail to authenticate").
 * - a local user added to BUILTIN\Users (S-1-5-32-545, as the workflow does) has it in its network
 *   logon token, and is not in BUILTIN\Administrators (S-1-5-32-544):
 *   https://learn.microsoft.com/en-us/windows/win32/secauthz/well-known-sids
 * - SECPKG_ATTR_NAMES gives 'DOMAIN\user' (the computer's name for a local account):
 *   https://learn.microsoft.com/en-us/windows/win32/api/sspi/ns-sspi-secpkgcontext_namesw
 */
import { strict as assert } from 'node:assert';

import { testBed } from '../support/env';
import { getThrough, listenPolicy, PolicyServer } from '../support/policy-server';
import { wineVersion } from '../support/wine';

describe('IntegratedAuthenticator policies over NTLM as a created local user (Microsoft secur32)', () => {
  let users: { name: string; password: string; sid: string }[];
  let domain: string;
  let server: PolicyServer | undefined;

  before(() => {
    assert.equal(process.platform, 'win32', 'SSPI exists only on Windows');
    assert.equal(wineVersion(), null,
      'this suite needs Microsoft secur32 (Wine ignores channel bindings and has no context tokens); it runs in .github/workflows/windows.yml');
    const bed = testBed();
    users = bed.users as typeof users;
    domain = bed.domain;
    for (const u of users) assert.match(u.sid ?? '', /^S-1-5-21-\d+-\d+-\d+-\d+$/, `the workflow wrote ${u.name}'s SID into the config`);
  });

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const client = (channelBindings?: false) => ({
    identity: { user: users[0].name, domain, password: users[0].password },
    schemes: ['NTLM' as const],
    ...(channelBindings === false ? { channelBindings } : {}),
  });

  it("extendedProtection 'always': with bindings 200, without bindings 401 (SEC_E_BAD_BINDINGS)", async () => {
    server = await listenPolicy({ extendedProtection: 'always' });
    assert.equal(await getThrough(server, client()), 200);
    assert.equal(await getThrough(server, client(false)), 401);
    const rejected = server.events.filter((e) => e.type === 'rejected');
    assert.deepEqual(rejected.map((e) => e.reason), ['SEC_E_BAD_BINDINGS'], JSON.stringify(server.events));
  });

  it("extendedProtection 'whenSupported': with and without bindings 200", async () => {
    server = await listenPolicy({ extendedProtection: 'whenSupported' });
    assert.equal(await getThrough(server, client()), 200);
    assert.equal(await getThrough(server, client(false)), 200);
  });

  it("extendedProtection 'off': both 200", async () => {
    server = await listenPolicy({ extendedProtection: 'off' });
    assert.equal(await getThrough(server, client()), 200);
    assert.equal(await getThrough(server, client(false)), 200);
  });

  it('requireGroup BUILTIN\\Users: 200; BUILTIN\\Administrators: 403 (authenticated, not a member)', async () => {
    server = await listenPolicy({ requireGroup: 'S-1-5-32-545' });
    assert.equal(await getThrough(server, client()), 200);
    await server.close();
    server = await listenPolicy({ requireGroup: ['S-1-5-32-544'] });
    assert.equal(await getThrough(server, client()), 403);
    assert.deepEqual(server.events.filter((e) => e.type === 'rejected').map((e) => [e.status, e.reason]), [[403, 'not in a required group']]);
  });

  for (const [format, expected] of [
    ['samCompatible', () => `${domain}\\${users[0].name}`.toLowerCase()],
    ['sid', () => users[0].sid.toLowerCase()],
    ['upn', () => null],
  ] as const) {
    it(`principalFormat '${format}'`, async () => {
      server = await listenPolicy({ principalFormat: format });
      assert.equal(await getThrough(server, client()), 200);
      const id = server.events.find((e) => e.type === 'authenticated')!.identity!;
      assert.equal(id.principal?.toLowerCase() ?? null, expected());
      if (format === 'upn') assert.deepEqual(id.principalNotReported, { reason: 'NTLM logons have no principal name' });
    });
  }
});
