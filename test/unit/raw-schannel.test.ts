import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import * as path from 'node:path';

import {
  CERT, CERT_FIND, CERT_STORE_ADD, CERT_STORE_PROV, CERT_SYSTEM_STORE, CRYPT_E, PKCS_7, X509,
} from '../../lib/constants';
import { native } from '../../lib/native';
import {
  AcquireCredentialsHandle, AcquireCredentialsHandleAsync, CertAddCertificateContextToStore, CertCloseStore,
  CertDeleteCertificateFromStore, CertDuplicateCertificateContext, CertEnumCertificatesInStore, CertFindCertificateInStore,
  CertFreeCertificateContext, CertGetCertificateContextProperty, CertOpenStore, FreeCredentialsHandle, handleFigures,
  HCERTSTORE, PCCERT_CONTEXT, PFXImportCertStore, PFXImportCertStoreAsync, SECPKG_CRED, SECURITY_STATUS,
} from '../../lib/raw';
import { makeCertificate, makePfx } from '../support/certificates';
import { wineVersion } from '../support/wine';

const ENCODING = X509.ASN_ENCODING | PKCS_7.ASN_ENCODING;
const E_FAIL = 0x80004005;
// winerror.h: ERROR_INVALID_PASSWORD (86) as HRESULT_FROM_WIN32.
const HRESULT_ERROR_INVALID_PASSWORD = 0x80070056;

function figures(): { stores: number; certificates: number } {
  const f = handleFigures();
  return { stores: f.certificateStores, certificates: f.certificateContexts };
}

/** The first certificate of a store (the caller frees it). */
function first(store: HCERTSTORE): PCCERT_CONTEXT {
  const r = CertEnumCertificatesInStore(store, null);
  assert.equal(r.status, 0, `0x${r.status.toString(16)}`);
  return r.certificate as PCCERT_CONTEXT;
}

/**
 * Runs `code` in a child node.exe (--expose-gc) that has `raw` (lib/raw) and `support`
 * (test/support/certificates) in scope; resolves to its exit status. A crash of the addon ends the child,
 * not this suite. The child writes nothing: node.exe under Wine cannot write to a pipe.
 */
function inChild(code: string): number | null {
  const dist = path.resolve(__dirname, '..', '..');
  const script = `const raw = require(${JSON.stringify(path.join(dist, 'lib', 'raw'))});
    const support = require(${JSON.stringify(path.join(dist, 'test', 'support', 'certificates'))});
    (async () => { ${code} })().then(() => process.exit(0), () => process.exit(3));`;
  return spawnSync(process.execPath, ['--expose-gc', '-e', script], { stdio: 'ignore', timeout: 60000 }).status;
}

describe('raw Schannel certificates (PFXImportCertStore and the store functions)', () => {
  const made = makeCertificate('rsa-sha256', 'localhost');
  const pfx = makePfx(made, 'pfx password');
  const thumbprint = createHash('sha1').update(made.der).digest();

  it('PFXImportCertStore: the certificate of a PFX made like `openssl pkcs12 -export`, with its private key', () => {
    const before = figures();
    const r = PFXImportCertStore(pfx, 'pfx password', 0);
    assert.equal(r.status, 0, `0x${r.status.toString(16)}`);
    const store = r.store as HCERTSTORE;
    assert.equal(store.valid, true);
    const cert = first(store);
    assert.deepEqual(cert.pbCertEncoded, made.der);
    assert.equal(cert.dwCertEncodingType & X509.ASN_ENCODING, X509.ASN_ENCODING);
    const key = CertGetCertificateContextProperty(cert, CERT.KEY_PROV_INFO_PROP_ID);
    assert.equal(key.status, 0, 'the private key is linked (CRYPT_KEY_PROV_INFO)');
    const sha1 = CertGetCertificateContextProperty(cert, CERT.SHA1_HASH_PROP_ID);
    assert.deepEqual(sha1.pvData, thumbprint);
    assert.deepEqual(figures(), { stores: before.stores + 1, certificates: before.certificates + 1 });
    assert.equal(CertFreeCertificateContext(cert), 0);
    assert.equal(CertFreeCertificateContext(cert), 0, 'idempotent');
    assert.equal(CertCloseStore(store), 0);
    assert.equal(CertCloseStore(store), 0, 'idempotent');
    assert.deepEqual(figures(), before);
  });

  it('PFXImportCertStoreAsync; the password as UTF-8 bytes the caller can wipe at once', async () => {
    const password = Buffer.from('pfx password', 'utf8');
    const pending = PFXImportCertStoreAsync(pfx, password, 0);
    password.fill(0); // the addon copied it before returning
    const r = await pending;
    assert.equal(r.status, 0, `0x${r.status.toString(16)}`);
    const cert = first(r.store as HCERTSTORE);
    assert.deepEqual(cert.pbCertEncoded, made.der);
    cert.free();
    (r.store as HCERTSTORE).close();
  });

  it('a wrong password: the import fails with no store', () => {
    const before = figures();
    const r = PFXImportCertStore(pfx, 'not the password', 0);
    assert.equal(r.store, undefined);
    if (wineVersion()) {
      // Wine 10's crypt32 (GnuTLS's PKCS#12 parser: "Decryption has failed") returns NULL without setting
      // a last error; the addon clears it before the call, so E_FAIL is reported rather than a leftover.
      assert.equal(r.status, E_FAIL, `0x${r.status.toString(16)}`);
    } else {
      // Microsoft's crypt32: ERROR_INVALID_PASSWORD ("The specified network password is not correct").
      // PFXImportCertStore's page (https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-pfximportcertstore)
      // only says "call GetLastError"; the code is the one Windows reports.
      assert.equal(r.status, HRESULT_ERROR_INVALID_PASSWORD, `0x${r.status.toString(16)}`);
    }
    assert.deepEqual(figures(), before);
  });

  it('garbage bytes, an empty PFX, empty and huge passwords fail cleanly', () => {
    const before = figures();
    for (const [bytes, password] of [
      [Buffer.from('this is not a PFX'), 'x'], [Buffer.alloc(0), 'x'], [Buffer.alloc(5000, 0x30), ''],
      [pfx, ''], [pfx, null], [pfx, 'p'.repeat(1 << 20)], [pfx.subarray(0, pfx.length - 40), 'pfx password'],
    ] as [Buffer, string | null][]) {
      const r = PFXImportCertStore(bytes, password, 0);
      assert.equal(r.store, undefined);
      assert.notEqual(r.status, 0);
      assert.ok(r.status >= 0x80000000, `an HRESULT failure: 0x${r.status.toString(16)}`);
    }
    assert.deepEqual(figures(), before);
  });

  it('an empty password is a password ("" and null differ to PKCS#12)', () => {
    const empty = makePfx(made, '');
    const r = PFXImportCertStore(empty, '', 0);
    assert.equal(r.status, 0, `0x${r.status.toString(16)}`);
    (r.store as HCERTSTORE).close();
  });

  it('wrong JavaScript types are TypeErrors naming the argument; nothing is imported', () => {
    const before = figures();
    assert.throws(() => PFXImportCertStore('pfx' as unknown as Uint8Array, 'x', 0), { name: 'TypeError', message: /pPFX must be a Buffer/ });
    assert.throws(() => PFXImportCertStore(pfx, 42 as unknown as string, 0), { name: 'TypeError', message: /szPassword must be a string, a Buffer/ });
    assert.throws(() => PFXImportCertStore(pfx, 'a\0b', 0), { name: 'TypeError', message: /szPassword must not contain NUL/ });
    assert.throws(() => PFXImportCertStore(pfx, Buffer.from([0xff, 0xfe]), 0), { name: 'TypeError', message: /szPassword must be UTF-8/ });
    assert.throws(() => PFXImportCertStore(pfx, 'x', -1), { name: 'RangeError', message: /dwFlags/ });
    assert.throws(() => PFXImportCertStoreAsync(pfx, 'x', 'no' as unknown as number), { name: 'TypeError', message: /dwFlags must be a number/ });
    assert.deepEqual(figures(), before);
  });

  it('CurrentUser\\MY: add the PFX certificate, find it by SHA-1 thumbprint and by subject, enumerate, delete', () => {
    const before = figures();
    const imported = PFXImportCertStore(pfx, 'pfx password', 0);
    const cert = first(imported.store as HCERTSTORE);
    const my = CertOpenStore(CERT_STORE_PROV.SYSTEM_W, 0, CERT_SYSTEM_STORE.CURRENT_USER, 'MY');
    assert.equal(my.status, 0, `0x${my.status.toString(16)}`);
    const store = my.store as HCERTSTORE;
    const added = CertAddCertificateContextToStore(store, cert, CERT_STORE_ADD.REPLACE_EXISTING);
    assert.equal(added.status, 0, `0x${added.status.toString(16)}`);
    const again = CertAddCertificateContextToStore(store, cert, CERT_STORE_ADD.NEW);
    assert.equal(again.status, CRYPT_E.EXISTS, `0x${again.status.toString(16)}`);

    const found = CertFindCertificateInStore(store, ENCODING, 0, CERT_FIND.SHA1_HASH, thumbprint, null);
    assert.equal(found.status, 0, `0x${found.status.toString(16)}`);
    const inMy = found.certificate as PCCERT_CONTEXT;
    assert.deepEqual(inMy.pbCertEncoded, made.der);
    assert.equal(CertGetCertificateContextProperty(inMy, CERT.KEY_PROV_INFO_PROP_ID).status, 0, 'the key link came along');

    const bySubject = CertFindCertificateInStore(store, ENCODING, 0, CERT_FIND.SUBJECT_STR_W, 'LOCALHOST', null);
    assert.equal(bySubject.status, 0, 'CERT_FIND_SUBJECT_STR_W is case-insensitive');
    // Continuing after a match does not free the previous object (unlike C): it stays usable.
    const next = CertFindCertificateInStore(store, ENCODING, 0, CERT_FIND.SHA1_HASH, thumbprint, inMy);
    assert.equal(next.status, CRYPT_E.NOT_FOUND);
    assert.equal(inMy.valid, true);
    assert.deepEqual(inMy.pbCertEncoded, made.der);

    let seen = 0;
    let prev: PCCERT_CONTEXT | null = null;
    for (;;) {
      const r: { status: number; certificate?: PCCERT_CONTEXT } = CertEnumCertificatesInStore(store, prev);
      prev?.free();
      if (!r.certificate) {
        assert.equal(r.status, CRYPT_E.NOT_FOUND);
        break;
      }
      if (r.certificate.pbCertEncoded.equals(made.der)) seen++;
      prev = r.certificate;
    }
    assert.equal(seen, 1);

    const copy = CertDuplicateCertificateContext(inMy);
    assert.equal(CertDeleteCertificateFromStore(copy).status, 0);
    assert.equal(copy.valid, true, 'the object keeps its reference');
    assert.equal(CertFindCertificateInStore(store, ENCODING, 0, CERT_FIND.SHA1_HASH, thumbprint, null).status, CRYPT_E.NOT_FOUND);
    for (const c of [copy, inMy, bySubject.certificate as PCCERT_CONTEXT, added.storeContext as PCCERT_CONTEXT, cert]) c.free();
    store.close();
    (imported.store as HCERTSTORE).close();
    assert.deepEqual(figures(), before);
  });

  it('CertFindCertificateInStore: find parameters of the wrong shape are refused before any call', () => {
    const store = CertOpenStore(CERT_STORE_PROV.MEMORY, 0, 0, null).store as HCERTSTORE;
    assert.throws(() => CertFindCertificateInStore(store, ENCODING, 0, CERT_FIND.SHA1_HASH, Buffer.alloc(19), null), { name: 'TypeError', message: /20-byte/ });
    assert.throws(() => CertFindCertificateInStore(store, ENCODING, 0, CERT_FIND.SUBJECT_STR_W, null, null), { name: 'TypeError', message: /pvFindPara must be a string/ });
    assert.throws(() => CertFindCertificateInStore(store, ENCODING, 0, CERT_FIND.ANY, 'x', null), { name: 'TypeError', message: /null for CERT_FIND_ANY/ });
    assert.throws(() => CertFindCertificateInStore(store, ENCODING, 0, 0x12345, null, null), { name: 'RangeError', message: /dwFindType/ });
    assert.throws(() => CertOpenStore(3, 0, 0, null), { name: 'RangeError', message: /lpszStoreProvider/ });
    assert.throws(() => CertOpenStore(CERT_STORE_PROV.SYSTEM_W, 0, CERT_SYSTEM_STORE.CURRENT_USER, null), { name: 'TypeError', message: /pvPara must be a string/ });
    assert.equal(CertFindCertificateInStore(store, ENCODING, 0, CERT_FIND.ANY, null, null).status, CRYPT_E.NOT_FOUND);
    store.close();
    assert.throws(() => CertFindCertificateInStore(store, ENCODING, 0, CERT_FIND.ANY, null, null), { name: 'Error', message: /hCertStore has been closed/ });
  });

  it('handles cannot be forged or confused: type tags on arguments and on `this`', () => {
    const n = native() as unknown as { HCERTSTORE: new (...a: unknown[]) => object; PCCERT_CONTEXT: new (...a: unknown[]) => object; CredHandle: { prototype: object } };
    assert.throws(() => new n.HCERTSTORE(), { name: 'TypeError', message: /cannot be constructed/ });
    assert.throws(() => new n.PCCERT_CONTEXT({}), { name: 'TypeError', message: /cannot be constructed/ });
    const store = CertOpenStore(CERT_STORE_PROV.MEMORY, 0, 0, null).store as HCERTSTORE;
    const fake = Object.create((n.PCCERT_CONTEXT as unknown as { prototype: object }).prototype) as PCCERT_CONTEXT;
    assert.throws(() => CertFreeCertificateContext(fake), { name: 'TypeError' });
    assert.throws(() => fake.pbCertEncoded, { name: 'TypeError' });
    assert.throws(() => CertFreeCertificateContext(store as unknown as PCCERT_CONTEXT), { name: 'TypeError', message: /PCCERT_CONTEXT/ });
    assert.throws(() => CertCloseStore({} as HCERTSTORE), { name: 'TypeError', message: /HCERTSTORE/ });
    assert.throws(() => CertEnumCertificatesInStore(fake as unknown as HCERTSTORE, null), { name: 'TypeError', message: /hCertStore must be a HCERTSTORE/ });
    assert.throws(() => CertEnumCertificatesInStore(store, store as unknown as PCCERT_CONTEXT), { name: 'TypeError', message: /pPrevCertContext must be a PCCERT_CONTEXT/ });
    store.close();
  });

  it('the prototype members outlive garbage collection (their callback data belongs to the addon, not to a collectable object)', () => {
    // Each member used to be made with a temporary object holding its callback data: once that object
    // was collected, calling free()/valid/pbCertEncoded read freed memory and node.exe crashed.
    const status = inChild(`
      const made = support.makeCertificate('rsa-sha256');
      const r = raw.PFXImportCertStore(support.makePfx(made, 'x'), 'x', 0);
      const cert = raw.CertEnumCertificatesInStore(r.store, null).certificate;
      for (let round = 0; round < 20; round++) {
        global.gc();
        await new Promise((resolve) => setImmediate(resolve));
        const junk = [];
        for (let i = 0; i < 2000; i++) junk.push(raw.CertDuplicateCertificateContext(cert));
        for (const j of junk) { j.valid; j.pbCertEncoded; j.free(); }
        r.store.valid; cert.dwCertEncodingType;
      }
      cert.free(); r.store.close();`);
    assert.equal(status, 0);
  });

  it('store and certificate objects that are never freed are released when collected', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    assert.ok(gc, 'run with --expose-gc');
    const before = figures();
    (() => {
      for (let i = 0; i < 20; i++) {
        const r = PFXImportCertStore(pfx, 'pfx password', 0);
        const c = first(r.store as HCERTSTORE);
        CertDuplicateCertificateContext(c);
      }
    })();
    assert.deepEqual(figures(), { stores: before.stores + 20, certificates: before.certificates + 40 });
    for (let i = 0; i < 10 && (figures().stores !== before.stores || figures().certificates !== before.certificates); i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual(figures(), before);
  });

  describe('AcquireCredentialsHandle pAuthData for Schannel and CredSSP', () => {
    let store: HCERTSTORE;
    let cert: PCCERT_CONTEXT;
    before(() => {
      store = PFXImportCertStore(pfx, 'pfx password', 0).store as HCERTSTORE;
      cert = first(store);
    });
    after(() => {
      cert.free();
      store.close();
    });

    it('SCH_CREDENTIALS and SCHANNEL_CRED with the certificate: inbound credentials', () => {
      const before = figures();
      for (const authData of [{ dwVersion: 5 as const, paCred: [cert] }, { dwVersion: 4 as const, paCred: [cert] }]) {
        const r = AcquireCredentialsHandle(null, 'Schannel', SECPKG_CRED.INBOUND, null, authData);
        assert.equal(r.status, 0, `dwVersion ${authData.dwVersion}: 0x${r.status.toString(16)}`);
        assert.equal(FreeCredentialsHandle(r.credential as never), 0);
      }
      const unisp = AcquireCredentialsHandle(null, 'Microsoft Unified Security Protocol Provider', SECPKG_CRED.INBOUND, null, { dwVersion: 5, paCred: [cert] });
      assert.equal(unisp.status, 0, 'the package is matched by name, case-insensitively');
      FreeCredentialsHandle(unisp.credential as never);
      assert.deepEqual(figures(), before, 'the call released the references it took');
    });

    it('wrong shapes: TypeError / RangeError naming the field, nothing acquired', () => {
      const before = handleFigures();
      const bad: [unknown, RegExp][] = [
        [{ dwVersion: 3 }, /pAuthData.dwVersion must be SCH_CREDENTIALS_VERSION \(5\) or SCHANNEL_CRED_VERSION \(4\)/],
        [{}, /pAuthData.dwVersion/],
        ['SCH_CREDENTIALS', /pAuthData must be an object/],
        [{ dwVersion: 5, paCred: cert }, /pAuthData.paCred must be an array/],
        [{ dwVersion: 5, paCred: [{}] }, /pAuthData.paCred\[0\] must be a PCCERT_CONTEXT/],
        [{ dwVersion: 5, paCred: [cert, store] }, /pAuthData.paCred\[1\] must be a PCCERT_CONTEXT/],
        [{ dwVersion: 5, hRootStore: cert }, /pAuthData.hRootStore must be a HCERTSTORE/],
        [{ dwVersion: 5, dwFlags: -1 }, /pAuthData.dwFlags must be an integer/],
        [{ dwVersion: 5, grbitEnabledProtocols: 0x800 }, /pAuthData.grbitEnabledProtocols is a SCHANNEL_CRED field/],
        [{ dwVersion: 4, pTlsParameters: [] }, /pAuthData.pTlsParameters is a SCH_CREDENTIALS field/],
        [{ dwVersion: 5, pTlsParameters: [{ rgstrAlpnIds: ['h2', 7] }] }, /pAuthData.pTlsParameters\[0\].rgstrAlpnIds\[1\] must be a string/],
        [{ dwVersion: 5, pTlsParameters: [{ pDisabledCrypto: [{ eAlgorithmUsage: 9 }] }] }, /pAuthData.pTlsParameters\[0\].pDisabledCrypto\[0\].eAlgorithmUsage/],
        [{ dwVersion: 5, pTlsParameters: Array(17).fill({}) }, /pAuthData.pTlsParameters has more than 16 entries/],
        [{ dwVersion: 4, palgSupportedAlgs: ['AES'] }, /pAuthData.palgSupportedAlgs\[0\] must be a number/],
        [{ dwVersion: 5, dwCredFormat: 1, paCred: [cert] }, /pAuthData.dwCredFormat must be SCH_CRED_FORMAT_CERT_CONTEXT/],
      ];
      for (const [authData, message] of bad) {
        assert.throws(() => AcquireCredentialsHandle(null, 'Schannel', SECPKG_CRED.INBOUND, null, authData as never), (e: Error) => {
          assert.ok(e instanceof TypeError || e instanceof RangeError, `${e.name}: ${e.message}`);
          assert.match(e.message, message);
          return true;
        }, JSON.stringify(authData));
      }
      assert.throws(() => AcquireCredentialsHandle(null, 'CredSSP', SECPKG_CRED.OUTBOUND, null, { Type: 'two' } as never), { name: 'TypeError', message: /pAuthData.Type must be a number/ });
      assert.throws(() => AcquireCredentialsHandle(null, 'CredSSP', SECPKG_CRED.OUTBOUND, null, { Type: 2, pSchannelCred: { dwVersion: 1 }, pSpnegoCred: null } as never), { name: 'TypeError', message: /pAuthData.pSchannelCred.dwVersion/ });
      assert.throws(() => AcquireCredentialsHandle(null, 'CredSSP', SECPKG_CRED.OUTBOUND, null, { Type: 2, pSchannelCred: null, pSpnegoCred: { User: 5 } } as never), { name: 'TypeError', message: /pAuthData.pSpnegoCred.User must be a string/ });
      assert.deepEqual(handleFigures(), before);
    });

    it('a freed certificate or closed store in pAuthData: an Error, no call', () => {
      const dup = CertDuplicateCertificateContext(cert);
      dup.free();
      assert.throws(() => AcquireCredentialsHandle(null, 'Schannel', SECPKG_CRED.INBOUND, null, { dwVersion: 5, paCred: [dup] }), { name: 'Error', message: /pAuthData.paCred\[0\] has been freed/ });
      const closed = CertOpenStore(CERT_STORE_PROV.MEMORY, 0, 0, null).store as HCERTSTORE;
      closed.close();
      assert.throws(() => AcquireCredentialsHandle(null, 'Schannel', SECPKG_CRED.OUTBOUND, null, { dwVersion: 5, hRootStore: closed }), { name: 'Error', message: /pAuthData.hRootStore has been closed/ });
    });

    it('the certificate freed while an asynchronous acquire is in flight: the call holds its own reference', async () => {
      const before = figures();
      const dup = CertDuplicateCertificateContext(cert);
      const pending = AcquireCredentialsHandleAsync(null, 'Schannel', SECPKG_CRED.INBOUND, null, { dwVersion: 5, paCred: [dup] });
      dup.free();
      const r = await pending;
      assert.equal(r.status, 0, `0x${r.status.toString(16)}`);
      FreeCredentialsHandle(r.credential as never);
      assert.deepEqual(figures(), before);
    });

    it('a polluted Object.prototype is never read as pAuthData', () => {
      const proto = Object.prototype as Record<string, unknown>;
      proto.dwVersion = 5;
      proto.paCred = [{}];
      try {
        // An inherited dwVersion would make {} a SCH_CREDENTIALS, an inherited paCred a TypeError about
        // paCred[0]; only own properties are read, so {} has no dwVersion...
        assert.throws(() => AcquireCredentialsHandle(null, 'Schannel', SECPKG_CRED.INBOUND, null, {} as never), { name: 'TypeError', message: /pAuthData.dwVersion must be/ });
        // ...and a SCH_CREDENTIALS of its own has no paCred: the call is made (whatever it answers).
        const r = AcquireCredentialsHandle(null, 'Schannel', SECPKG_CRED.OUTBOUND, null, { dwVersion: 5 });
        if (r.status === 0) FreeCredentialsHandle(r.credential as never);
      } finally {
        delete proto.dwVersion;
        delete proto.paCred;
      }
    });

    it('CredSSP: CREDSSP_CRED marshals; Wine has no CredSSP package', () => {
      const r = AcquireCredentialsHandle(null, 'CredSSP', SECPKG_CRED.OUTBOUND, null, {
        Type: 50, pSchannelCred: { dwVersion: 5, dwFlags: 0x8 }, pSpnegoCred: { User: 'alice', Domain: 'EXAMPLE', Password: 'secret' },
      });
      if (wineVersion()) {
        // Wine 10 registers no CredSSP package (linux-rig.md): the name is not found.
        assert.equal(r.status, SECURITY_STATUS.SEC_E_SECPKG_NOT_FOUND, `0x${r.status.toString(16)}`);
      } else {
        // Microsoft's CredSSP takes the structure for an outbound credential
        // (https://learn.microsoft.com/en-us/windows/win32/api/credssp/ns-credssp-credssp_cred).
        assert.equal(r.status, SECURITY_STATUS.SEC_E_OK, `0x${r.status.toString(16)}`);
        FreeCredentialsHandle(r.credential as never);
      }
    });
  });

  it('certificates made by test/support are parsed the same by OpenSSL', () => {
    // The fixture check: node's X509Certificate (OpenSSL) reads the DER the PFX carries.
    assert.equal(new X509Certificate(made.der).subject, 'CN=localhost');
  });
});
