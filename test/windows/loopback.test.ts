/**
 * Negotiate loopback as the logged-on Windows user: client and server in this process, both with
 * the default credentials of the user the process runs as, against Microsoft's secur32.
 *
 * This suite runs only in .github/workflows/windows.yml, on GitHub's hosted Windows runners. Under
 * Wine (npm test) there is no logged-on Windows user with credentials to acquire, so
 * scripts/test.sh does not run test/windows/; run here anyway, the suite fails in its `before` hook
 * saying so.
 *
 * What Microsoft documents and the assertions rely on:
 * - AcquireCredentialsHandle with no principal and no authentication data returns a handle to the
 *   credentials of the user under whose security context the process runs:
 *   https://learn.microsoft.com/en-us/windows/win32/secauthn/acquirecredentialshandle--negotiate
 * - Negotiate selects Kerberos unless Kerberos cannot be used by one of the systems involved or the
 *   caller gave too little information for it, and selects NTLM otherwise:
 *   https://learn.microsoft.com/en-us/windows/win32/secauthn/microsoft-negotiate
 *   GitHub's hosted runners belong to no domain, so there is no KDC and the runner's local account
 *   has no Kerberos credentials: Negotiate has to choose NTLM, and the server context reports the
 *   chosen package in SECPKG_ATTR_NEGOTIATION_INFO:
 *   https://learn.microsoft.com/en-us/windows/win32/api/sspi/ns-sspi-secpkgcontext_negotiationinfow
 * - On the server, SECPKG_ATTR_NAMES is the name of the user the context represents:
 *   https://learn.microsoft.com/en-us/windows/win32/api/sspi/ns-sspi-secpkgcontext_namesw
 *   Windows sets USERDOMAIN and USERNAME for the logon session; for a local account USERDOMAIN is
 *   the computer's name, the domain NTLM reports for accounts of the local SAM.
 */
import { strict as assert } from 'node:assert';

import { ClientContext, ServerContext } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { handshake } from '../../lib/handshake';
import { wineVersion } from '../support/wine';

/**
 * pszTargetName of the client: the host service of this machine, by its loopback name. It is an
 * SPN, which is what Negotiate needs to consider Kerberos at all; with no KDC (and no account that
 * holds the SPN HOST/localhost) Kerberos cannot be used, and Negotiate uses NTLM, whose
 * authentication needs no SPN.
 */
const TARGET = 'HOST/localhost';

describe('Negotiate loopback as the logged-on Windows user (Microsoft secur32)', () => {
  const domain = process.env.USERDOMAIN;
  const user = process.env.USERNAME;

  before(() => {
    assert.equal(process.platform, 'win32', 'SSPI exists only on Windows');
    assert.equal(wineVersion(), null,
      'this suite needs Microsoft secur32 and a logged-on Windows user; under Wine there is none (it runs in .github/workflows/windows.yml)');
    assert.ok(domain && user, 'USERDOMAIN and USERNAME are set by Windows for the logon session');
  });

  it(`default credentials, outbound and inbound, target ${TARGET}: SEC_E_OK on both sides through NTLM, and the server names the user`, async () => {
    using clientCred = await Credentials.acquire({ package: 'Negotiate' });
    using serverCred = await Credentials.acquire({ package: 'Negotiate', use: 'inbound' });
    using client = new ClientContext(clientCred, { targetName: TARGET });
    using server = new ServerContext(serverCred);

    const r = await handshake(client, server);
    assert.equal(r.client.code, 'SEC_E_OK');
    assert.equal(r.server.code, 'SEC_E_OK');
    assert.equal(client.complete && server.complete, true);
    // NTLM alone is NEGOTIATE, CHALLENGE, AUTHENTICATE; SPNEGO framing may add a final token.
    assert.ok(r.legs >= 3, `${r.legs} tokens exchanged`);

    const chosen = server.negotiationInfo().PackageInfo?.Name;
    assert.equal(chosen, 'NTLM', `Negotiate chose ${chosen}: with no domain (no KDC) only NTLM can authenticate ${domain}\\${user}`);

    assert.equal(server.userName().toLowerCase(), `${domain}\\${user}`.toLowerCase());
  });

  it('synchronous steps authenticate the same user', () => {
    using clientCred = Credentials.acquireSync({ package: 'Negotiate' });
    using serverCred = Credentials.acquireSync({ package: 'Negotiate', use: 'inbound' });
    using client = new ClientContext(clientCred, { targetName: TARGET });
    using server = new ServerContext(serverCred);

    let toServer = client.stepSync().token;
    for (let legs = 0; !(client.complete && server.complete); legs++) {
      assert.ok(legs < 16, 'the handshake did not finish in 16 steps');
      assert.ok(toServer, 'the client has a token for the server');
      const s = server.stepSync(toServer);
      toServer = undefined;
      if (!client.complete) {
        assert.ok(s.token, `the server (${s.code}) has a token for the client`);
        toServer = client.stepSync(s.token).token;
      }
    }
    assert.equal(server.userName().toLowerCase(), `${domain}\\${user}`.toLowerCase());
  });
});
