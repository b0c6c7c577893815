/**
 * The `sspi` command (lib/cli.ts, lib/cli/*) as a user meets it on Windows: `whoami`, `fetch` and
 * `token` in a child node.exe (test/support/cli.ts, as test/unit/cli.test.ts runs them under Wine),
 * against Microsoft's secur32 on GitHub's hosted runners (no domain: Negotiate falls back to NTLM),
 * as the runner's logged-on user and as the local users .github/workflows/windows.yml creates
 * (SSPI_TEST_CONFIG, test/support/env.ts: domain is the computer's name).
 *
 * This suite runs only in .github/workflows/windows.yml. Under Wine (npm test) its `before` hook
 * fails saying so: Wine's secur32 reports no names (SECPKG_CRED_ATTR_NAMES and SECPKG_ATTR_NAMES
 * answer SEC_E_UNSUPPORTED_FUNCTION; test/unit/cli.test.ts asserts that) and there is no
 * logged-on Windows user.
 *
 * What Microsoft documents and the assertions rely on:
 * - `sspi whoami` acquires each package's default outbound credentials (AcquireCredentialsHandle
 *   with no principal and no authentication data: the credentials of the user the process runs as,
 *   https://learn.microsoft.com/en-us/windows/win32/secauthn/acquirecredentialshandle--negotiate)
 *   and prints SECPKG_CRED_ATTR_NAMES ("the name of the user represented by the credential",
 *   https://learn.microsoft.com/en-us/windows/win32/api/sspi/ns-sspi-secpkgcredentials_namesw, via
 *   https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycredentialsattributesw).
 *   For a local account that name is the down-level logon name COMPUTER\user
 *   (https://learn.microsoft.com/en-us/windows/win32/secauthn/user-name-formats), i.e.
 *   USERDOMAIN\USERNAME of the logon session; test/windows/attributes.test.ts asserts the same of
 *   NTLM's credentials through the API. Kerberos on a machine in no domain: Microsoft documents no
 *   outcome, so the suite asserts only that whoami reports it (a name, or the failing SSPI call and
 *   its status) and still exits 0 because Negotiate named the user (lib/cli/whoami.ts).
 * - Negotiate selects NTLM when Kerberos cannot be used (no KDC here):
 *   https://learn.microsoft.com/en-us/windows/win32/secauthn/microsoft-negotiate
 *   The server's SECPKG_ATTR_NAMES is the user the context represents:
 *   https://learn.microsoft.com/en-us/windows/win32/api/sspi/ns-sspi-secpkgcontext_namesw
 * - A wrong password fails the logon at the server: AcceptSecurityContext returns SEC_E_LOGON_DENIED
 *   ("The logon failed", https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-acceptsecuritycontext;
 *   test/unit/ntlm.test.ts asserts it through the API), which IntegratedAuthenticator answers 401
 *   (with SPNEGO's reject token if Negotiate made one); the CLI documents exit code 2 for
 *   authentication failures (lib/cli/common.ts EXIT.AUTH).
 * - The NTLM messages ([MS-NLMP]): the client's NEGOTIATE_MESSAGE sets NTLMSSP_REQUEST_TARGET,
 *   NTLMSSP_NEGOTIATE_NTLM, NTLMSSP_NEGOTIATE_ALWAYS_SIGN and NTLMSSP_NEGOTIATE_UNICODE
 *   (https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-nlmp/b535636e-49c4-43af-8685-801cc381882f);
 *   the server's CHALLENGE_MESSAGE carries an 8-byte ServerChallenge
 *   (https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-nlmp/81d15e3e-3ac3-41f0-920d-846149f3a814)
 *   and TargetInfo AV pairs where MsvAvNbComputerName ("the server's NetBIOS computer name") and
 *   MsvAvNbDomainName MUST be present
 *   (https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-nlmp/83f5e789-660d-4781-8491-5f8c6641f75e);
 *   the client's AUTHENTICATE_MESSAGE sends the user name and the user's domain
 *   (https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-nlmp/8bbf686d-06d1-4511-9502-b0c071f9d6d7),
 *   with an NTLMv2 response: Windows' default LAN Manager authentication level is "Send NTLMv2
 *   response only"
 *   (https://learn.microsoft.com/en-us/previous-versions/windows/it-pro/windows-10/security/threat-protection/security-policy-settings/network-security-lan-manager-authentication-level).
 *   The messages come from a handshake with a created local user's explicit credentials: with the
 *   logged-on user's default credentials client and server on one machine may use NTLM's local
 *   authentication (NTLMSSP_NEGOTIATE_LOCAL_CALL, which [MS-NLMP] leaves undocumented), whose
 *   AUTHENTICATE_MESSAGE need not carry the user's name.
 */
import { strict as assert } from 'node:assert';

import { AuthenticatedIdentity, IntegratedAuthenticator } from '../../lib/http/server';
import { cliRunner, FetchJson } from '../support/cli';
import { testBed } from '../support/env';
import { AuthServer, listenAuth } from '../support/http';
import { ntlmPair } from '../support/ntlm-pair';
import { wineVersion } from '../support/wine';

interface WhoamiJson {
  user: string | null;
  packages: { package: string; user: string | null; error?: { function: string; code: string } }[];
}

describe('the sspi command on Microsoft secur32 (whoami, fetch, token)', () => {
  const domain = process.env.USERDOMAIN;
  const user = process.env.USERNAME;
  const runner = `${domain}\\${user}`.toLowerCase();
  const { run, cleanup } = cliRunner();
  let users: { name: string; password: string }[];
  let computer: string;
  let server: AuthServer | undefined;
  let base: string;
  /** Each authenticated request's path and identity, in order. */
  const seen: { path: string; id: AuthenticatedIdentity }[] = [];

  before(async () => {
    assert.equal(process.platform, 'win32', 'SSPI exists only on Windows');
    assert.equal(wineVersion(), null,
      'this suite needs Microsoft secur32 and a logged-on Windows user; under Wine there is none (it runs in .github/workflows/windows.yml)');
    assert.ok(domain && user, 'USERDOMAIN and USERNAME are set by Windows for the logon session');
    const bed = testBed();
    users = bed.users;
    computer = bed.domain;
    assert.ok(users.length >= 1 && computer, 'the workflow wrote the local users and the computer name into SSPI_TEST_CONFIG');
    const auth = new IntegratedAuthenticator({ schemes: ['Negotiate', 'NTLM'] });
    server = await listenAuth(auth, async (req, res) => {
      const id = await auth.authenticate(req, res);
      if (!id) return;
      seen.push({ path: req.url ?? '', id });
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.end(JSON.stringify({ scheme: id.scheme, package: id.package, user: id.user, principal: id.principal }));
    });
    base = `http://127.0.0.1:${server.port}`;
  });

  after(async () => {
    await server?.close();
    cleanup();
  });

  it('whoami names USERDOMAIN\\USERNAME for Negotiate and NTLM and exits 0', async () => {
    const r = await run(['whoami']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const lines = r.stdout.split(/\r?\n/).filter(Boolean);
    assert.equal(lines[0].toLowerCase(), runner, r.stdout);
    const byPackage = new Map(lines.slice(1).map((l) => /^ {2}(\S+)\s+(.*)$/.exec(l)).filter((m) => m !== null).map((m) => [m[1], m[2]]));
    assert.deepEqual([...byPackage.keys()], ['Negotiate', 'Kerberos', 'NTLM'], r.stdout);
    assert.equal(byPackage.get('Negotiate')?.toLowerCase(), runner);
    assert.equal(byPackage.get('NTLM')?.toLowerCase(), runner);
  });

  it('whoami --json: the same names; Kerberos (no KDC) is reported, a name or the failing call, without failing the command', async () => {
    const r = await run(['whoami', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as WhoamiJson;
    assert.deepEqual(j.packages.map((p) => p.package), ['Negotiate', 'Kerberos', 'NTLM']);
    const [negotiate, kerberos, ntlm] = j.packages;
    for (const p of [negotiate, ntlm]) {
      assert.equal(p.user?.toLowerCase(), runner, JSON.stringify(p));
      assert.equal(p.error, undefined);
    }
    assert.equal(j.user, negotiate.user, 'the first package that named the user');
    if (kerberos.user !== null) {
      assert.ok(kerberos.user.toLowerCase().includes(user!.toLowerCase()), JSON.stringify(kerberos));
    } else {
      assert.ok(kerberos.error && ['AcquireCredentialsHandle', 'QueryCredentialsAttributes'].includes(kerberos.error.function), JSON.stringify(kerberos));
      assert.match(kerberos.error.code, /^(SEC_E_\w+|0x[0-9A-F]{8})$/);
    }
  });

  it('fetch --json with the default credentials: 200, scheme Negotiate, package NTLM, the server saw the runner', async () => {
    const r = await run(['fetch', '--json', `${base}/default`]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as FetchJson;
    assert.equal(j.status, 200);
    assert.equal(j.authentication?.scheme, 'Negotiate', JSON.stringify(j.authentication));
    assert.equal(j.authentication?.package, 'NTLM', JSON.stringify(j.authentication));
    const body = JSON.parse(j.body!.data) as { scheme: string; package: string; user: string | null; principal: string | null };
    assert.equal(body.scheme, 'Negotiate');
    assert.equal(body.package, 'NTLM');
    assert.equal(body.user?.toLowerCase(), runner);
    assert.equal(body.principal?.toLowerCase(), runner, 'principalFormat samCompatible (the default) is SECPKG_ATTR_NAMES');
    assert.deepEqual(seen.filter((s) => s.path === '/default').map((s) => s.id.user?.toLowerCase()), [runner]);
  });

  it('fetch --user COMPUTER\\user with the password from SSPI_PASSWORD, for each created local user: 200 as that user, the password in no output', async () => {
    for (const [i, u] of users.entries()) {
      const r = await run(['fetch', '--user', `${computer}\\${u.name}`, '--json', `${base}/local-${i}`], { SSPI_PASSWORD: u.password });
      assert.equal(r.code, 0, `${u.name}: ${r.stderr}`);
      const j = JSON.parse(r.stdout) as FetchJson;
      assert.equal(j.status, 200);
      assert.equal(j.authentication?.scheme, 'Negotiate', JSON.stringify(j.authentication));
      assert.equal(j.authentication?.package, 'NTLM', JSON.stringify(j.authentication));
      const ids = seen.filter((s) => s.path === `/local-${i}`).map((s) => s.id);
      assert.equal(ids.length, 1);
      assert.equal(ids[0].user?.toLowerCase(), `${computer}\\${u.name}`.toLowerCase());
      assert.equal(ids[0].package, 'NTLM');
      assert.ok(!(r.stdout + r.stderr).includes(u.password), 'the password appears in the output');
    }
  });

  it('fetch --user with a wrong password exits 2 (authentication failed), Negotiate and NTLM alike; the password in no output', async () => {
    const wrong = `Wrong-${Date.now()}-Pa55word`;
    const target = `${computer}\\${users[0].name}`;
    // Negotiate (the default): how the refusal reaches the client (a 401 with no further token, or a
    // SPNEGO reject token that the client's next InitializeSecurityContext fails on) is the
    // package's; either way the CLI's documented exit code for an authentication failure.
    const negotiate = await run(['fetch', '--user', target, `${base}/wrong-negotiate`], { SSPI_PASSWORD: wrong });
    assert.equal(negotiate.code, 2, negotiate.stderr);
    assert.match(negotiate.stderr, /^sspi fetch: authentication failed: /);
    // NTLM: AcceptSecurityContext's SEC_E_LOGON_DENIED is the server's 401, handed back as the response.
    const ntlm = await run(['fetch', '--user', target, '--package', 'NTLM', '-i', `${base}/wrong-ntlm`], { SSPI_PASSWORD: wrong });
    assert.equal(ntlm.code, 2, ntlm.stderr);
    assert.match(ntlm.stdout, /^HTTP\/1\.1 401 /);
    assert.match(ntlm.stderr, /^sspi fetch: authentication failed: the server answered 401 after 2 NTLM leg\(s\)\r?\n$/);
    for (const r of [negotiate, ntlm]) assert.ok(!(r.stdout + r.stderr).includes(wrong), 'the password appears in the output');
    assert.equal(seen.filter((s) => s.path.startsWith('/wrong')).length, 0, 'the server authenticated nobody');
  });

  it('token decodes the NTLM messages of a handshake as a created local user: NEGOTIATE, CHALLENGE, AUTHENTICATE with that user and domain', async () => {
    const u = users[0];
    const tokens: Buffer[] = [];
    {
      // The test bed's first user's explicit credentials (test/support/ntlm-pair.ts), NTLM on both sides.
      using pair = await ntlmPair();
      const t1 = (await pair.client.step()).token!;
      const t2 = (await pair.server.step(t1)).token!;
      const t3 = (await pair.client.step(t2)).token!;
      assert.equal((await pair.server.step(t3)).code, 'SEC_E_OK');
      assert.equal(pair.server.userName().toLowerCase(), `${computer}\\${u.name}`.toLowerCase());
      tokens.push(t1, t2, t3);
    }
    // As a user pastes them: bare base64, and header values with their scheme.
    const [r1, r2, r3] = [
      await run(['token', '--json', tokens[0].toString('base64')]),
      await run(['token', '--json', `NTLM ${tokens[1].toString('base64')}`]),
      await run(['token', '--json', `NTLM ${tokens[2].toString('base64')}`]),
    ];
    for (const r of [r1, r2, r3]) assert.equal(r.code, 0, r.stderr);

    const negotiate = JSON.parse(r1.stdout) as { type: string; flags: string[] };
    assert.equal(negotiate.type, 'ntlm-negotiate');
    for (const f of ['NTLMSSP_REQUEST_TARGET', 'NTLMSSP_NEGOTIATE_NTLM', 'NTLMSSP_NEGOTIATE_ALWAYS_SIGN', 'NTLMSSP_NEGOTIATE_UNICODE']) {
      assert.ok(negotiate.flags.includes(f), `${f} in ${negotiate.flags.join(' ')}`);
    }

    const challenge = JSON.parse(r2.stdout) as { type: string; flags: string[]; serverChallenge: string; targetInfo: { id: { name: string }; value: unknown }[] };
    assert.equal(challenge.type, 'ntlm-challenge');
    assert.match(challenge.serverChallenge, /^[0-9a-f]{16}$/);
    assert.ok(challenge.flags.includes('NTLMSSP_NEGOTIATE_TARGET_INFO'), challenge.flags.join(' '));
    const av = new Map(challenge.targetInfo.map((p) => [p.id.name, p.value]));
    assert.ok(av.has('MsvAvNbDomainName'), JSON.stringify(challenge.targetInfo));
    assert.equal(String(av.get('MsvAvNbComputerName')).toLowerCase(), (process.env.COMPUTERNAME ?? computer).toLowerCase());

    const authenticate = JSON.parse(r3.stdout) as { type: string; user: string; domain: string; anonymous: boolean; ntChallengeResponse: { kind: string } };
    assert.equal(authenticate.type, 'ntlm-authenticate');
    assert.equal(authenticate.user.toLowerCase(), u.name.toLowerCase());
    assert.equal(authenticate.domain.toLowerCase(), computer.toLowerCase());
    assert.equal(authenticate.anonymous, false);
    assert.equal(authenticate.ntChallengeResponse.kind, 'NTLMv2');
    for (const r of [r1, r2, r3]) assert.ok(!(r.stdout + r.stderr).includes(u.password));
  });
});
