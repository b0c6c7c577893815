/**
 * ExportSecurityContext / ImportSecurityContext on Microsoft's secur32 (issue 7), NTLM loopback as a
 * local user the Windows workflow creates. Under Wine both answer SEC_E_UNSUPPORTED_FUNCTION
 * (test/unit/raw-contexts.test.ts), so the real behaviour is shown here only.
 *
 * What Microsoft documents and the assertions rely on:
 * - "SSP/APs must implement the SpExportSecurityContext function" and SpImportSecurityContext
 *   (https://learn.microsoft.com/en-us/windows/desktop/api/Ntsecpkg/nc-ntsecpkg-spexportsecuritycontextfn),
 *   so Microsoft's NTLM exports; ExportSecurityContext returns SEC_E_OK and a SECBUFFER_EMPTY-typed
 *   packed context the caller frees with FreeContextBuffer (the addon does), and ImportSecurityContext
 *   makes "a new security context created from pPackedContext"
 *   (https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-exportsecuritycontext,
 *   https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-importsecuritycontextw).
 * - The imported server context keeps the session's keys: a signature the client makes verifies on it
 *   (VerifySignature SEC_E_OK), and a tampered one does not (SEC_E_MESSAGE_ALTERED, winerror.h).
 */
import { strict as assert } from 'node:assert';

import { SECBUFFER, SECURITY_STATUS } from '../../lib/constants';
import { handshake } from '../../lib/handshake';
import * as raw from '../../lib/raw';
import { ntlmPair } from '../support/ntlm-pair';
import { wineVersion } from '../support/wine';

describe('ExportSecurityContext / ImportSecurityContext on Microsoft secur32 (NTLM loopback, a local user)', () => {
  before(() => {
    assert.equal(process.platform, 'win32', 'SSPI exists only on Windows');
    assert.equal(wineVersion(), null, 'Wine answers SEC_E_UNSUPPORTED_FUNCTION (test/unit/raw-contexts.test.ts); this suite runs in .github/workflows/windows.yml');
  });

  it('the server context exported and imported again verifies the client\'s signatures', async () => {
    using p = await ntlmPair();
    await handshake(p.client, p.server);
    const before = raw.handleFigures().contextBuffersFreed;
    const exported = await raw.ExportSecurityContextAsync(p.server.handle, 0);
    assert.equal(exported.status, SECURITY_STATUS.SEC_E_OK, `0x${exported.status.toString(16)}`);
    assert.ok(exported.packedContext && exported.packedContext.length > 0);
    assert.equal(raw.handleFigures().contextBuffersFreed - before, 1, 'the package\'s packed-context buffer was freed');

    const imported = raw.newCtxtHandle();
    try {
      assert.equal(raw.ImportSecurityContext('NTLM', exported.packedContext, imported), SECURITY_STATUS.SEC_E_OK);
      assert.ok(imported.valid);
      exported.packedContext.fill(0);
      const sizes = p.client.sizes();
      const data = Buffer.from('signed by the client');
      const message: raw.SecBufferDesc = [{ BufferType: SECBUFFER.DATA, pvBuffer: Buffer.from(data) }, { BufferType: SECBUFFER.TOKEN, cbBuffer: sizes.cbMaxSignature }];
      assert.equal(raw.MakeSignature(p.client.handle, 0, message, 0), SECURITY_STATUS.SEC_E_OK);
      const signature = Buffer.from(raw.bytesOf(message[1]));
      const verify = (bytes: Buffer): number => raw.VerifySignature(imported, [
        { BufferType: SECBUFFER.DATA, pvBuffer: Buffer.from(bytes) }, { BufferType: SECBUFFER.TOKEN, pvBuffer: Buffer.from(signature) },
      ], 0).status;
      assert.equal(verify(data), SECURITY_STATUS.SEC_E_OK);
      const tampered = Buffer.from(data);
      tampered[0] ^= 1;
      assert.equal(verify(tampered), SECURITY_STATUS.SEC_E_MESSAGE_ALTERED);
    } finally {
      raw.DeleteSecurityContext(imported);
    }
  });

  it('SECPKG_CONTEXT_EXPORT_DELETE_OLD deletes the exported context', async () => {
    using p = await ntlmPair();
    await handshake(p.client, p.server);
    const exported = raw.ExportSecurityContext(p.server.handle, 2 /* SECPKG_CONTEXT_EXPORT_DELETE_OLD */);
    assert.equal(exported.status, SECURITY_STATUS.SEC_E_OK);
    const imported = raw.newCtxtHandle();
    assert.equal(raw.ImportSecurityContext('NTLM', exported.packedContext!, imported), SECURITY_STATUS.SEC_E_OK);
    raw.DeleteSecurityContext(imported);
  });
});
