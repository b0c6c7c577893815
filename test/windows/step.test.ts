/**
 * The facade's step against Microsoft's secur32 (issue 7): requirements checked after completion and
 * caller buffers retried when too small, on Negotiate loopback as the runner's logged-on user.
 *
 * This suite runs only in .github/workflows/windows.yml (no logged-on Windows user under Wine).
 *
 * What Microsoft documents and the assertions rely on:
 * - GitHub's hosted runners belong to no domain: Negotiate must choose NTLM
 *   (https://learn.microsoft.com/en-us/windows/win32/secauthn/microsoft-negotiate), and the context
 *   reports the chosen package in SECPKG_ATTR_NEGOTIATION_INFO
 *   (https://learn.microsoft.com/en-us/windows/win32/api/sspi/ns-sspi-secpkgcontext_negotiationinfow).
 *   So a client allowing only Kerberos must refuse the completed context (.NET's
 *   NegotiateAuthentication refuses the same way when RequiredProtectionLevel / packages are unmet).
 * - SEC_E_BUFFER_TOO_SMALL / SEC_E_INSUFFICIENT_MEMORY for an output buffer below the token
 *   (winerror.h); the facade retries with a doubled buffer, so a 16-byte start still ends with a token.
 */
import { strict as assert } from 'node:assert';

import { ClientContext, ServerContext } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { RequirementError } from '../../lib/errors';
import { handshake } from '../../lib/handshake';
import { CountingClient } from '../support/counting';
import { wineVersion } from '../support/wine';

const TARGET = 'HOST/localhost';


describe('facade step on Microsoft secur32: requirements and buffer retries (Negotiate loopback)', () => {
  before(() => {
    assert.equal(process.platform, 'win32', 'SSPI exists only on Windows');
    assert.equal(wineVersion(), null, 'this suite needs Microsoft secur32 and a logged-on Windows user (it runs in .github/workflows/windows.yml)');
  });

  it('allowedPackages: a client allowing only Kerberos refuses the NTLM context Negotiate falls back to', async () => {
    using cc = await Credentials.acquire({ package: 'Negotiate' });
    using sc = await Credentials.acquire({ package: 'Negotiate', use: 'inbound' });
    using client = new ClientContext(cc, { targetName: TARGET, requirements: { allowedPackages: ['Kerberos'] } });
    using server = new ServerContext(sc, { requirements: { allowedPackages: ['NTLM', 'Kerberos'] } });
    const e = await handshake(client, server).then(() => assert.fail('an NTLM context was allowed'), (x: unknown) => x);
    assert.ok(e instanceof RequirementError, String(e));
    assert.equal(e.code, 'ERR_SSPI_PACKAGE_NOT_ALLOWED');
    assert.match(e.message, /uses NTLM; only Kerberos may be used/);
    assert.equal(client.disposed, true);
  });

  it('the same loopback with NTLM allowed completes, and the server requirement holds', async () => {
    using cc = await Credentials.acquire({ package: 'Negotiate' });
    using sc = await Credentials.acquire({ package: 'Negotiate', use: 'inbound' });
    using client = new ClientContext(cc, { targetName: TARGET, requirements: { allowedPackages: ['ntlm'], protectionLevel: 'sign' } });
    using server = new ServerContext(sc, { requirements: { allowedPackages: ['NTLM'], protectionLevel: 'sign' } });
    const r = await handshake(client, server);
    assert.equal(r.server.code, 'SEC_E_OK');
    assert.equal(server.negotiationInfo().PackageInfo?.Name, 'NTLM');
  });

  it('an output buffer of 16 bytes is retried with doubled sizes until the token fits', async () => {
    using cc = await Credentials.acquire({ package: 'NTLM' });
    using client = new CountingClient(cc, { outputBufferSize: 16 });
    const r = await client.step();
    assert.equal(r.code, 'SEC_I_CONTINUE_NEEDED');
    assert.equal(r.token!.subarray(0, 8).toString('latin1'), 'NTLMSSP\0');
    assert.equal(client.suppliedSizes[0], 16);
    assert.ok(client.suppliedSizes.length > 1, `retried: ${client.suppliedSizes.join(', ')}`);
    client.suppliedSizes.forEach((size, i) => i > 0 && assert.equal(size, client.suppliedSizes[i - 1] * 2));
    assert.ok(client.suppliedSizes[client.suppliedSizes.length - 1] >= r.token!.length);
  });
});
