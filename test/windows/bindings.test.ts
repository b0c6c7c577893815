/**
 * Channel bindings checked by Microsoft's NTLM: loopback with the explicit credentials of a local
 * user created by the Windows workflow (the users and SSPI_TEST_CONFIG of test/unit/ntlm.test.ts),
 * client and server in this process, SEC_CHANNEL_BINDINGS from lib/bindings.ts passed as
 * SECBUFFER_CHANNEL_BINDINGS to InitializeSecurityContext and AcceptSecurityContext.
 *
 * This suite runs only in .github/workflows/windows.yml. Under Wine neither NTLM nor Kerberos looks
 * at the bindings (test/unit/bindings.test.ts asserts what Wine does), so a mismatch cannot be shown
 * there; run under Wine anyway, this suite fails in its `before` hook saying so.
 *
 * What Microsoft documents and the assertions rely on:
 * - [MS-NLMP] 3.1.5.1.2 / 3.2.5.1.2: the client puts MD5(gss_channel_bindings_struct) into the
 *   MsvAvChannelBindings AV pair of its AUTHENTICATE_MESSAGE; a server given channel bindings
 *   compares them (https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-nlmp/).
 * - A mismatch fails AcceptSecurityContext with SEC_E_BAD_BINDINGS (winerror.h 0x80090346, "The
 *   client's supplied SSPI channel bindings were incorrect").
 * - A server that passes no bindings checks none.
 * - Whether a server with bindings accepts a client that sent none is the machine's extended
 *   protection policy (SEC_CHANNEL_BINDINGS_RESULT_ABSENT / _NOTVALID_MISSING,
 *   https://learn.microsoft.com/en-us/windows-hardware/drivers/ddi/ntifs/ns-ntifs-sec_channel_bindings_result),
 *   not a fixed answer: not asserted here.
 */
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';

import { channelBindings, tlsServerEndPointBindings, tlsUniqueBindings } from '../../lib/bindings';
import { SECURITY_STATUS } from '../../lib/constants';
import { SspiError } from '../../lib/errors';
import { handshake } from '../../lib/handshake';
import { makeCertificate } from '../support/certificates';
import { boundNtlmPair } from '../support/ntlm-pair';
import { wineVersion } from '../support/wine';

describe('channel bindings checked by Microsoft\'s NTLM (local user loopback)', () => {
  const A = channelBindings(Buffer.concat([Buffer.from('tls-server-end-point:'), Buffer.alloc(32, 0xaa)]));
  const B = channelBindings(Buffer.concat([Buffer.from('tls-server-end-point:'), Buffer.alloc(32, 0xbb)]));

  before(() => {
    assert.equal(process.platform, 'win32', 'SSPI exists only on Windows');
    assert.equal(wineVersion(), null,
      'this suite needs Microsoft secur32: Wine\'s NTLM and Kerberos ignore channel bindings (it runs in .github/workflows/windows.yml)');
  });

  it('the same bindings on both sides (every step): SEC_E_OK on both', async () => {
    using p = await boundNtlmPair(A, A);
    const r = await handshake(p.client, p.server);
    assert.equal(r.client.code, 'SEC_E_OK');
    assert.equal(r.server.code, 'SEC_E_OK');
  });

  it('client A, server B: AcceptSecurityContext fails with SEC_E_BAD_BINDINGS on the AUTHENTICATE_MESSAGE', async () => {
    using p = await boundNtlmPair(A, B);
    const negotiate = await p.client.step();
    const challenge = await p.server.step(negotiate.token);
    assert.equal(challenge.code, 'SEC_I_CONTINUE_NEEDED');
    const authenticate = await p.client.step(challenge.token);
    assert.equal(authenticate.code, 'SEC_E_OK');
    await assert.rejects(p.server.step(authenticate.token), (e: unknown) =>
      e instanceof SspiError && e.status === SECURITY_STATUS.SEC_E_BAD_BINDINGS && e.function === 'AcceptSecurityContext');
  });

  it('client A, server without bindings: SEC_E_OK (a server given no bindings checks none)', async () => {
    using p = await boundNtlmPair(A, undefined);
    const r = await handshake(p.client, p.server);
    assert.equal(r.server.code, 'SEC_E_OK');
  });

  it('tls-server-end-point and tls-unique from both ends of a real TLS 1.2 connection bind the same channel', async () => {
    const made = makeCertificate('rsa-sha256');
    const server = tls.createServer({ cert: made.pem, key: made.key.export({ type: 'pkcs8', format: 'pem' }) as string, maxVersion: 'TLSv1.2' });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const accepted = once(server, 'secureConnection') as Promise<[tls.TLSSocket]>;
    const clientSocket = tls.connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, ca: made.pem, servername: 'localhost', maxVersion: 'TLSv1.2' });
    try {
      await once(clientSocket, 'secureConnect');
      const [serverSocket] = await accepted;
      for (const [label, clientCb, serverCb] of [
        ['tls-server-end-point', tlsServerEndPointBindings(clientSocket, 'client'), tlsServerEndPointBindings(serverSocket, 'server')],
        ['tls-unique', tlsUniqueBindings(clientSocket, 'client'), tlsUniqueBindings(serverSocket, 'server')],
      ] as const) {
        using p = await boundNtlmPair(clientCb, serverCb);
        const r = await handshake(p.client, p.server);
        assert.equal(r.server.code, 'SEC_E_OK', label);
      }
      serverSocket.destroy();
    } finally {
      clientSocket.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
