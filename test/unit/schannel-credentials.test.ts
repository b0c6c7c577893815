import { strict as assert } from 'node:assert';
import { release } from 'node:os';

import { Certificate } from '../../lib/certificates';
import { ASC_REQ, CREDSSP_SUBMIT_TYPE, ISC_REQ, SCH, SCH_CRED, SCHANNEL, SECBUFFER, SECPKG_ATTR, SP_PROT } from '../../lib/constants';
import { ClientContext, ServerContext } from '../../lib/context';
import { Credentials, defaultSchannelCredVersion, schannelAuthData } from '../../lib/credentials';
import { SspiError } from '../../lib/errors';
import { handleFigures, SCH_CREDENTIALS, SCHANNEL_CRED } from '../../lib/raw';
import { keyPair, makeCertificate, makePfx } from '../support/certificates';
import { RSA_2048_WINE_CANNOT_SIGN } from '../support/keys';
import { wineVersion } from '../support/wine';

const ISC = ISC_REQ.STREAM | ISC_REQ.REPLAY_DETECT | ISC_REQ.SEQUENCE_DETECT | ISC_REQ.CONFIDENTIALITY | ISC_REQ.EXTENDED_ERROR
  | ISC_REQ.MANUAL_CRED_VALIDATION;
const ASC = ASC_REQ.STREAM | ASC_REQ.REPLAY_DETECT | ASC_REQ.SEQUENCE_DETECT | ASC_REQ.CONFIDENTIALITY | ASC_REQ.EXTENDED_ERROR;

/**
 * ISC <-> ASC in one process through the facade, each step with an EMPTY input buffer for Schannel's
 * SECBUFFER_EXTRA, until both sides are complete. Returns the statuses seen (client first) and the
 * protocol the client's context negotiated (SecPkgContext_ConnectionInfo.dwProtocol).
 */
async function handshake(server: Credentials, client: Credentials): Promise<{ seen: string[]; protocol: number }> {
  using c = new ClientContext(client, { targetName: 'localhost', contextReq: ISC });
  using s = new ServerContext(server, { contextReq: ASC });
  const seen: string[] = [];
  const extra = { inputBuffers: [{ BufferType: SECBUFFER.EMPTY }] };
  let r = await c.step(undefined, extra);
  seen.push(`c:${r.code}`);
  for (let i = 0; i < 6 && r.token && r.token.length > 0; i++) {
    const a = await s.step(r.token, extra);
    seen.push(`s:${a.code}`);
    if (r.complete || !a.token || a.token.length === 0) break;
    r = await c.step(a.token, extra);
    seen.push(`c:${r.code}`);
    if (r.complete && a.complete) break;
  }
  return { seen, protocol: c.queryAttribute(SECPKG_ATTR.CONNECTION_INFO).dwProtocol };
}

describe('Schannel credentials (Credentials.acquire with a Certificate)', () => {
  const made = makeCertificate('rsa-sha256', 'localhost');
  const pfx = makePfx(made, 'pfx password');
  let certificate: Certificate;
  let client: Credentials;
  before(async () => {
    certificate = await Certificate.fromPfx(pfx, 'pfx password');
    client = await Credentials.acquire({ package: 'Schannel', use: 'outbound', manualValidation: true });
  });
  after(() => {
    client.dispose();
    certificate.dispose();
  });

  it('inbound SCH_CREDENTIALS with a PFX certificate: an in-process TLS handshake reaches SEC_E_OK on both sides', async () => {
    using server = await Credentials.acquire({ package: 'Schannel', use: 'inbound', certificate });
    const { seen, protocol } = await handshake(server, client);
    assert.deepEqual(seen.filter((x) => x.endsWith('SEC_E_OK')).sort(), ['c:SEC_E_OK', 's:SEC_E_OK'], seen.join(' '));
    assert.ok(protocol & (SP_PROT.TLS1_2_CLIENT | SP_PROT.TLS1_3_CLIENT), `dwProtocol 0x${protocol.toString(16)}`);
  });

  it('SCHANNEL_CRED on request (acquireSync): the same handshake', async () => {
    using server = Credentials.acquireSync({ package: 'Schannel', use: 'inbound', certificate, schannelCredVersion: 'SCHANNEL_CRED' });
    const { seen } = await handshake(server, client);
    assert.deepEqual(seen.filter((x) => x.endsWith('SEC_E_OK')).sort(), ['c:SEC_E_OK', 's:SEC_E_OK'], seen.join(' '));
  });

  it('protocols restricted with SCHANNEL_CRED: grbitEnabledProtocols, as QueryCredentialsAttributes reports it', async () => {
    using server = await Credentials.acquire({ package: 'Schannel', use: 'inbound', certificate, protocols: ['TLSv1.2'], schannelCredVersion: 'SCHANNEL_CRED' });
    assert.equal(server.queryAttribute(SECPKG_ATTR.SUPPORTED_PROTOCOLS).grbitProtocol, SP_PROT.TLS1_2_SERVER);
    const { seen, protocol } = await handshake(server, client);
    assert.ok(seen.includes('s:SEC_E_OK'), seen.join(' '));
    assert.equal(protocol, SP_PROT.TLS1_2_CLIENT);
  });

  it('protocols as SCH_CREDENTIALS: TLS_PARAMETERS.grbitDisabledProtocols is the complement of what is allowed', () => {
    const server = schannelAuthData({ certificate, protocols: ['TLSv1.2', 'TLSv1.3'] }, 'inbound') as SCH_CREDENTIALS;
    assert.equal(server.dwVersion, SCH.CREDENTIALS_VERSION);
    assert.deepEqual(server.paCred, [certificate.context]);
    assert.equal(server.pTlsParameters?.length, 1);
    assert.equal(server.pTlsParameters?.[0].grbitDisabledProtocols,
      SP_PROT.SSL2_SERVER | SP_PROT.SSL3_SERVER | SP_PROT.TLS1_0_SERVER | SP_PROT.TLS1_1_SERVER);
    const outbound = schannelAuthData({ protocols: ['TLSv1.3'] }) as SCH_CREDENTIALS;
    assert.equal(outbound.pTlsParameters?.[0].grbitDisabledProtocols,
      SP_PROT.SSL2_CLIENT | SP_PROT.SSL3_CLIENT | SP_PROT.TLS1_0_CLIENT | SP_PROT.TLS1_1_CLIENT | SP_PROT.TLS1_2_CLIENT);
    assert.equal(outbound.dwFlags, SCH_CRED.AUTO_CRED_VALIDATION, 'a client validates the server by default');
    const legacy = schannelAuthData({ protocols: ['TLSv1.2'], manualValidation: true, strongCrypto: true, revocation: 'chain' }, 'both') as SCHANNEL_CRED;
    // Not asked: the structure this Windows has (Wine 10 reports 10.0.19043, after SCH_CREDENTIALS came in).
    assert.equal(legacy.dwVersion, defaultSchannelCredVersion() === 'SCH_CREDENTIALS' ? SCH.CREDENTIALS_VERSION : SCHANNEL.CRED_VERSION);
    const old = schannelAuthData({ protocols: ['TLSv1.2'], schannelCredVersion: 'SCHANNEL_CRED', manualValidation: true, strongCrypto: true, revocation: 'chain' }, 'both') as SCHANNEL_CRED;
    assert.equal(old.grbitEnabledProtocols, SP_PROT.TLS1_2);
    assert.equal(old.dwFlags, SCH_CRED.MANUAL_CRED_VALIDATION | SCH.USE_STRONG_CRYPTO | SCH_CRED.REVOCATION_CHECK_CHAIN);
    assert.equal(schannelAuthData({}).hasOwnProperty('pTlsParameters'), false, 'no restriction: the system defaults');
  });

  it('sends SCH_CREDENTIALS from Windows 10 1809 / Server 2019 (build 17763) on, SCHANNEL_CRED before', () => {
    // SCH_CREDENTIALS' Requirements: "Windows 10 1809" / "Windows Server 1809"
    // (https://learn.microsoft.com/en-us/windows/win32/api/schannel/ns-schannel-sch_credentials); older
    // Schannel knows only SCHANNEL_CRED. os.release() gives 'major.minor.build'.
    const cases: [string, string][] = [
      ['10.0.17763', 'SCH_CREDENTIALS'], // Windows 10 1809, Windows Server 2019
      ['10.0.20348', 'SCH_CREDENTIALS'], // Windows Server 2022
      ['10.0.26100', 'SCH_CREDENTIALS'], // Windows 11 24H2, Windows Server 2025
      ['10.0.17134', 'SCHANNEL_CRED'], // Windows 10 1803
      ['10.0.14393', 'SCHANNEL_CRED'], // Windows Server 2016
      ['6.3.9600', 'SCHANNEL_CRED'], // Windows 8.1, Windows Server 2012 R2
      ['11.0.0', 'SCH_CREDENTIALS'],
      ['', 'SCH_CREDENTIALS'], // unparsable: the current structure
      ['Windows', 'SCH_CREDENTIALS'],
    ];
    for (const [version, expected] of cases) assert.equal(defaultSchannelCredVersion(version), expected, version);
    assert.equal(defaultSchannelCredVersion(), defaultSchannelCredVersion(release()));
    const chosen = schannelAuthData({}, 'inbound');
    assert.equal(chosen.dwVersion, defaultSchannelCredVersion() === 'SCH_CREDENTIALS' ? SCH.CREDENTIALS_VERSION : SCHANNEL.CRED_VERSION);
    // disabledCrypto exists only in SCH_CREDENTIALS: asking for it asks for that structure on any Windows.
    assert.equal(schannelAuthData({ disabledCrypto: [] }).dwVersion, SCH.CREDENTIALS_VERSION);
    assert.equal(schannelAuthData({ schannelCredVersion: 'SCHANNEL_CRED' }).dwVersion, SCHANNEL.CRED_VERSION);
    assert.equal(schannelAuthData({ schannelCredVersion: 'SCH_CREDENTIALS' }).dwVersion, SCH.CREDENTIALS_VERSION);
  });

  it('TLS 1.3 only', async () => {
    // SCH_CREDENTIALS is what enables TLS 1.3 on Microsoft's Schannel; SCHANNEL_CRED is deprecated in its
    // favour (https://learn.microsoft.com/en-us/windows/win32/api/schannel/ns-schannel-sch_credentials,
    // https://learn.microsoft.com/en-us/windows/win32/api/schannel/ns-schannel-schannel_cred).
    if (wineVersion()) {
      // Wine 10's Schannel (GnuTLS) does not offer TLS 1.3: with SCHANNEL_CRED asking for it alone no
      // protocol is left, and AcquireCredentialsHandle fails with SEC_E_ALGORITHM_MISMATCH on both sides.
      for (const use of ['inbound', 'outbound'] as const) {
        await assert.rejects(Credentials.acquire({ package: 'Schannel', use, certificate, protocols: ['TLSv1.3'], schannelCredVersion: 'SCHANNEL_CRED' }),
          (e: SspiError) => e instanceof SspiError && e.code === 'SEC_E_ALGORITHM_MISMATCH' && e.function === 'AcquireCredentialsHandle');
      }
      // With SCH_CREDENTIALS, Wine 10 reads the certificates but ignores TLS_PARAMETERS (its schannel.c:
      // "FIXME: handle TLS parameters") and keeps its default protocols: the restriction is not applied and
      // the handshake settles on TLS 1.2.
      using server = await Credentials.acquire({ package: 'Schannel', use: 'inbound', certificate, protocols: ['TLSv1.3'] });
      using only13 = await Credentials.acquire({ package: 'Schannel', use: 'outbound', manualValidation: true, protocols: ['TLSv1.3'] });
      const { seen, protocol } = await handshake(server, only13);
      assert.ok(seen.includes('s:SEC_E_OK'), seen.join(' '));
      assert.equal(protocol, SP_PROT.TLS1_2_CLIENT);
    } else {
      // Microsoft's Schannel (Windows 11 / Server 2022 and later) negotiates TLS 1.3 with SCH_CREDENTIALS.
      using server = await Credentials.acquire({ package: 'Schannel', use: 'inbound', certificate, protocols: ['TLSv1.3'] });
      using only13 = await Credentials.acquire({ package: 'Schannel', use: 'outbound', manualValidation: true, protocols: ['TLSv1.3'] });
      const { seen, protocol } = await handshake(server, only13);
      assert.ok(seen.includes('s:SEC_E_OK'), seen.join(' '));
      assert.equal(protocol, SP_PROT.TLS1_3_CLIENT);
    }
  });

  it('an RSA key Wine\'s Schannel cannot sign with (test/support/keys.ts): Wine SEC_E_INTERNAL_ERROR, Windows SEC_E_OK', async () => {
    const odd = makeCertificate('rsa-sha256', 'localhost', keyPair(RSA_2048_WINE_CANNOT_SIGN));
    using oddCertificate = await Certificate.fromPfx(makePfx(odd, 'pfx password'), 'pfx password');
    using server = await Credentials.acquire({ package: 'Schannel', use: 'inbound', certificate: oddCertificate });
    if (wineVersion()) {
      // Wine 10: GnuTLS prints "Public key signing has failed" while the server signs its key exchange,
      // and AcceptSecurityContext answers SEC_E_INTERNAL_ERROR, for this key every time (a valid key:
      // Node's crypto signs and verifies with it, and Microsoft's Schannel accepts any valid RSA key).
      await assert.rejects(handshake(server, client), (e: SspiError) => {
        assert.ok(e instanceof SspiError, String(e));
        assert.equal(e.function, 'AcceptSecurityContext');
        assert.equal(e.code, 'SEC_E_INTERNAL_ERROR');
        return true;
      });
    } else {
      const { seen } = await handshake(server, client);
      assert.deepEqual(seen.filter((x) => x.endsWith('SEC_E_OK')).sort(), ['c:SEC_E_OK', 's:SEC_E_OK'], seen.join(' '));
    }
  });

  it('a certificate without a private key: AcquireCredentialsHandle refuses it', async () => {
    using keyless = Certificate.fromDer(made.der);
    await assert.rejects(Credentials.acquire({ package: 'Schannel', use: 'inbound', certificate: keyless }), (e: SspiError) => {
      assert.ok(e instanceof SspiError && e.function === 'AcquireCredentialsHandle', String(e));
      // Wine 10: CryptAcquireCertificatePrivateKey fails, and its schannel.c answers SEC_E_UNKNOWN_CREDENTIALS.
      // Microsoft's Schannel fails too (the certificate "contains a private key to be used", SCHANNEL_CRED's
      // paCred: https://learn.microsoft.com/en-us/windows/win32/api/schannel/ns-schannel-schannel_cred);
      // its exact status is not documented.
      if (wineVersion()) assert.equal(e.code, 'SEC_E_UNKNOWN_CREDENTIALS');
      return true;
    });
  });

  it('a disposed certificate: an Error before any call', async () => {
    const disposed = Certificate.fromPfxSync(pfx, 'pfx password');
    disposed.dispose();
    await assert.rejects(Credentials.acquire({ package: 'Schannel', use: 'inbound', certificate: disposed }), { name: 'Error', message: /options.certificate has been disposed/ });
  });

  it('the certificate disposed while the asynchronous acquire is in flight: the call keeps its own reference', async () => {
    const before = handleFigures();
    const transient = Certificate.fromPfxSync(pfx, 'pfx password');
    const pending = Credentials.acquire({ package: 'Schannel', use: 'inbound', certificate: transient });
    transient.dispose();
    using server = await pending;
    const { seen } = await handshake(server, client);
    assert.ok(seen.includes('s:SEC_E_OK'), seen.join(' '));
    server.dispose();
    const after = handleFigures();
    assert.equal(after.certificateContexts, before.certificateContexts);
    assert.equal(after.certificateStores, before.certificateStores);
    assert.equal(after.credentials, before.credentials);
  });

  it('wrong option shapes: TypeError naming the option, no call', async () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ certificate: made.der }, /options.certificate must be a Certificate/],
      [{ protocols: 'TLSv1.2' }, /options.protocols must be a non-empty array/],
      [{ protocols: [] }, /options.protocols must be a non-empty array/],
      [{ protocols: ['SSLv3'] }, /options.protocols\[\] must be one of/],
      [{ manualValidation: 'yes' }, /options.manualValidation must be true or false/],
      [{ revocation: 'strict' }, /options.revocation must be one of/],
      [{ schannelCredVersion: 'SCHANNEL_CRED_V3' }, /options.schannelCredVersion/],
      [{ rootStore: {} }, /options.rootStore must be an HCERTSTORE/],
      [{ sessionLifespan: -1 }, /options.sessionLifespan/],
      [{ disabledCrypto: {} }, /options.disabledCrypto must be an array/],
      [{ schannelCredVersion: 'SCHANNEL_CRED', disabledCrypto: [] }, /disabledCrypto needs SCH_CREDENTIALS/],
    ];
    for (const [options, message] of bad) {
      await assert.rejects(Credentials.acquire({ package: 'Schannel', use: 'inbound', ...options } as never), (e: Error) => {
        assert.ok(e instanceof TypeError || e instanceof RangeError, `${e.name}: ${e.message}`);
        assert.match(e.message, message);
        return true;
      });
    }
  });

  it('CredSSP: a CREDSSP_CRED with inner Schannel credentials and an identity; Wine has no CredSSP package', async () => {
    const pending = Credentials.acquire({
      package: 'CredSSP', use: 'outbound', schannel: { manualValidation: true },
      identity: { user: 'alice', domain: 'EXAMPLE', password: 'not sent anywhere' },
    });
    if (wineVersion()) {
      await assert.rejects(pending, (e: SspiError) => e instanceof SspiError && e.code === 'SEC_E_SECPKG_NOT_FOUND' && !e.message.includes('not sent anywhere'));
    } else {
      // https://learn.microsoft.com/en-us/windows/win32/api/credssp/ns-credssp-credssp_cred
      (await pending).dispose();
    }
    await assert.rejects(Credentials.acquire({ package: 'CredSSP', schannel: 'tls' } as never), { name: 'TypeError', message: /options.schannel must be an object/ });
    await assert.rejects(Credentials.acquire({ package: 'CredSSP', submitType: CREDSSP_SUBMIT_TYPE.CredsspPasswordCreds, identity: { user: 'a' } } as never),
      { name: 'TypeError', message: /options.identity.password must be a string/ });
  });
});
