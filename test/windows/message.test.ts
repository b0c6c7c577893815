/**
 * Message protection on Microsoft's secur32: the NTLM round trips Wine cannot show (its NTLM server
 * never derives the signing and sealing keys; see test/unit/message.test.ts), and the facade's
 * wrap/unwrap sized exactly from SECPKG_ATTR_SIZES. NTLM and Negotiate (which chooses NTLM here: the
 * runners belong to no domain, see loopback.test.ts) loopback as the logged-on user, client and server
 * in this process.
 *
 * This suite runs only in .github/workflows/windows.yml; under Wine it fails in its `before` hook
 * saying so (scripts/test.sh does not run test/windows/).
 *
 * What Microsoft documents and the assertions rely on:
 * - SECPKG_ATTR_SIZES gives cbMaxSignature and cbSecurityTrailer; MakeSignature writes the signature into
 *   the SECBUFFER_TOKEN, EncryptMessage the trailer:
 *   https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-makesignature,
 *   https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-encryptmessage
 * - The NTLM signature is an NTLMSSP_MESSAGE_SIGNATURE of 16 bytes, Version 0x00000001 first:
 *   [MS-NLMP] 2.2.2.9 (https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-nlmp/b1a6ceb2-f8ad-462b-b5af-f18527c48175)
 * - VerifySignature / DecryptMessage: SEC_E_MESSAGE_ALTERED "The message has been altered",
 *   SEC_E_OUT_OF_SEQUENCE "The message was not received in the correct sequence":
 *   https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-verifysignature,
 *   https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-decryptmessage
 * - SECQOP_WRAP_NO_ENCRYPT: "Produce a header or trailer but do not encrypt the message" (EncryptMessage).
 */
import { strict as assert } from 'node:assert';

import { SECBUFFER, SECQOP, SECURITY_STATUS } from '../../lib/constants';
import { Credentials } from '../../lib/credentials';
import { SspiError, statusName } from '../../lib/errors';
import { DecryptMessage, EncryptMessage, SecBuffer } from '../../lib/raw';
import { ContextPair, establishedPair, flipBit, MESSAGE_SIZES, pattern } from '../support/message';
import { wineVersion } from '../support/wine';

const TARGET = 'HOST/localhost';

function sspiCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof SspiError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('message protection on Microsoft secur32 (NTLM, Negotiate loopback)', () => {
  before(() => {
    assert.equal(process.platform, 'win32', 'SSPI exists only on Windows');
    assert.equal(wineVersion(), null,
      'this suite needs Microsoft secur32 (Wine\'s NTLM server derives no message keys); it runs in .github/workflows/windows.yml');
  });

  for (const pkg of ['NTLM', 'Negotiate'] as const) {
    describe(pkg, () => {
      let clientCred: Credentials;
      let serverCred: Credentials;

      before(async () => {
        clientCred = await Credentials.acquire({ package: pkg });
        serverCred = await Credentials.acquire({ package: pkg, use: 'inbound' });
      });

      after(() => {
        clientCred?.dispose();
        serverCred?.dispose();
      });

      const pair = (): Promise<ContextPair> => establishedPair(clientCred, serverCred, TARGET);

      for (const size of MESSAGE_SIZES) {
        it(`${size} B: wrap/unwrap (encrypted and sign-only) and integrity checks, both directions`, async () => {
          using p = await pair();
          const trailer = p.client.sizes().cbSecurityTrailer;
          assert.equal(trailer, 16, 'NTLM: a 16-byte NTLMSSP_MESSAGE_SIGNATURE');
          for (const [from, to] of [['client', 'server'], ['server', 'client']] as const) {
            const data = pattern(size, from === 'client' ? 11 : 12);
            const message = p[from].wrap(data);
            assert.equal(message.readUInt32LE(0), 1, 'NTLMSSP_MESSAGE_SIGNATURE Version');
            assert.equal(message.length, 16 + size);
            assert.ok(!message.subarray(16).equals(data), 'sealed');
            assert.deepEqual(p[to].unwrap(message), { data, encrypted: true, qop: 0 });

            const signedOnly = p[from].wrap(data, { encrypt: false });
            assert.deepEqual(signedOnly.subarray(16), data, 'sign-only: the data in clear after the signature');
            const r = p[to].unwrap(signedOnly);
            assert.deepEqual(r.data, data);
            assert.equal(r.encrypted, false);
            assert.equal(r.qop, SECQOP.WRAP_NO_ENCRYPT);

            const sig = p[from].computeIntegrityCheck(data);
            assert.equal(sig.length, 16);
            assert.equal(p[to].verifyIntegrityCheck(data, sig), true);
          }
        });
      }

      it('raw EncryptMessage/DecryptMessage with TOKEN exactly cbSecurityTrailer, written back in place', async () => {
        using p = await pair();
        const s = p.client.sizes();
        const data = pattern(1024);
        const m: SecBuffer[] = [
          { BufferType: SECBUFFER.TOKEN, pvBuffer: Buffer.alloc(s.cbSecurityTrailer) },
          { BufferType: SECBUFFER.DATA, pvBuffer: Buffer.from(data) },
          { BufferType: SECBUFFER.PADDING, pvBuffer: Buffer.alloc(s.cbBlockSize), cbBuffer: s.cbBlockSize },
        ];
        const token = m[0].pvBuffer!;
        assert.equal(statusName(EncryptMessage(p.client.handle, 0, m, 0)), 'SEC_E_OK');
        assert.equal(m[0].pvBuffer!.buffer, token.buffer, 'the signature went into the caller\'s own Uint8Array');
        const d: SecBuffer[] = [{ BufferType: SECBUFFER.TOKEN, pvBuffer: m[0].pvBuffer!.subarray(0, m[0].cbBuffer) }, { BufferType: SECBUFFER.DATA, pvBuffer: m[1].pvBuffer }];
        const r = DecryptMessage(p.server.handle, d, 0);
        assert.equal(statusName(r.status), 'SEC_E_OK');
        assert.deepEqual(Buffer.from(d[1].pvBuffer!), data);
      });

      it('tampering, replay and reordering are reported', async () => {
        using p = await pair();
        const data = pattern(1024);
        assert.equal(sspiCode(() => p.server.unwrap(flipBit(p.client.wrap(data), -1))), 'SEC_E_MESSAGE_ALTERED', 'flipped bit in the data');
        using q = await pair();
        assert.equal(sspiCode(() => q.server.verifyIntegrityCheck(data, flipBit(q.client.computeIntegrityCheck(data), 5))), 'SEC_E_MESSAGE_ALTERED',
          'flipped bit in the checksum');
        using r = await pair();
        const message = r.client.wrap(data);
        assert.deepEqual(r.server.unwrap(message).data, data);
        assert.equal(sspiCode(() => r.server.unwrap(message)), SECURITY_STATUS[SECURITY_STATUS.SEC_E_OUT_OF_SEQUENCE], 'replayed');
        using t = await pair();
        const first = t.client.computeIntegrityCheck(data);
        const second = t.client.computeIntegrityCheck(data);
        assert.equal(sspiCode(() => t.server.verifyIntegrityCheck(data, second)), 'SEC_E_OUT_OF_SEQUENCE', 'second before first');
      });
    });
  }
});
