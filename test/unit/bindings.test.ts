/**
 * Channel bindings (lib/bindings.ts): SEC_CHANNEL_BINDINGS bytes, tls-server-end-point from
 * certificates made here with a signature algorithm each test chooses, tls-unique from real TLS
 * connections inside this process, hostile structures and certificates, and Kerberos / NTLM
 * handshakes that pass the bindings as SECBUFFER_CHANNEL_BINDINGS.
 */
import { strict as assert } from 'node:assert';
import { createHash, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';

import {
  certificateHashAlgorithm, channelBindings, fromSecPkgContextBindings, parseChannelBindings, serverChannelBindings,
  tlsServerEndPoint, tlsServerEndPointBindings, tlsUnique, tlsUniqueBindings,
} from '../../lib/bindings';
import { SECURITY_STATUS } from '../../lib/constants';
import { ClientContext, ServerContext, ServerContextOptions } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { SspiError } from '../../lib/errors';
import { handshake } from '../../lib/handshake';
import { IntegratedAuthenticator, IntegratedAuthOptions } from '../../lib/http/server';
import { keys, Kind, Made, makeCertificate } from '../support/certificates';
import { testBed } from '../support/env';
import { boundNtlmPair } from '../support/ntlm-pair';
import { wineVersion } from '../support/wine';

// Certificates are made here (test/support/certificates.ts): the test chooses the signature
// algorithm, so it knows the hash RFC 5929 section 4.1 gives independently of the code under test.

/** The expected tls-server-end-point application data, computed here from the hash the test chose. */
function expectedEndPoint(der: Buffer, hash: string): Buffer {
  return Buffer.concat([Buffer.from('tls-server-end-point:'), createHash(hash).update(der).digest()]);
}

/** A SEC_CHANNEL_BINDINGS header written field by field (sspi.h order), for hostile structures. */
function header(fields: number[], total = 32): Buffer {
  const b = Buffer.alloc(total);
  fields.forEach((v, i) => b.writeUInt32LE(v >>> 0, i * 4));
  return b;
}

function invalidBindings(e: unknown): boolean {
  return e instanceof RangeError && (e as { code?: string }).code === 'ERR_SSPI_INVALID_CHANNEL_BINDINGS';
}

function invalidCertificate(e: unknown): boolean {
  return e instanceof RangeError && (e as { code?: string }).code === 'ERR_SSPI_INVALID_CERTIFICATE';
}

function undefinedBinding(e: unknown): boolean {
  return e instanceof RangeError && (e as { code?: string }).code === 'ERR_SSPI_CHANNEL_BINDING_UNDEFINED';
}

describe('channel bindings: hostile SEC_CHANNEL_BINDINGS structures', () => {
  it('fewer than the 32 header bytes (0, 1, 31) are a RangeError', () => {
    for (const n of [0, 1, 31]) {
      assert.throws(() => parseChannelBindings(Buffer.alloc(n)), invalidBindings, `${n} bytes`);
      assert.throws(() => fromSecPkgContextBindings(Buffer.alloc(n)), invalidBindings, `${n} bytes`);
    }
  });

  it('application data whose offset or length points outside the bytes is a RangeError, never a read past them', () => {
    const cases: [string, number[], number][] = [
      ['offset past the end', [0, 0, 0, 0, 0, 0, 4, 40], 40],
      ['length past the end', [0, 0, 0, 0, 0, 0, 9, 32], 40],
      ['offset 0xFFFFFFF0 + length 0x20 (wraps to 0x10 as a 32-bit sum)', [0, 0, 0, 0, 0, 0, 0x20, 0xfffffff0], 64],
      ['length 0xFFFFFFFF', [0, 0, 0, 0, 0, 0, 0xffffffff, 32], 64],
      ['offset into the header', [0, 0, 0, 0, 0, 0, 8, 4], 64],
      ['initiator address outside', [2, 4, 100, 0, 0, 0, 0, 0], 64],
      ['acceptor address with a huge length', [0, 0, 0, 2, 0x7fffffff, 32, 0, 0], 64],
    ];
    for (const [label, fields, total] of cases) {
      assert.throws(() => parseChannelBindings(header(fields, total)), invalidBindings, label);
      assert.throws(() => fromSecPkgContextBindings(header(fields, total)), invalidBindings, label);
    }
  });

  it('a structure inside a larger view of a buffer is bounded by the view, not the ArrayBuffer behind it', () => {
    const whole = Buffer.alloc(256);
    header([0, 0, 0, 0, 0, 0, 16, 32], 32).copy(whole, 0);
    // The first 40 bytes only: the application data would end at 48.
    assert.throws(() => parseChannelBindings(whole.subarray(0, 40)), invalidBindings);
    assert.equal(parseChannelBindings(whole.subarray(0, 48)).applicationData.length, 16);
  });

  it('a BindingsLength larger than the Bindings given is a RangeError; wrong types are TypeErrors', () => {
    const ok = channelBindings('tls-unique:abc');
    assert.throws(() => fromSecPkgContextBindings({ BindingsLength: ok.length + 1, Bindings: ok }), invalidBindings);
    assert.deepEqual(fromSecPkgContextBindings({ BindingsLength: ok.length, Bindings: ok }), ok);
    for (const bad of [undefined, null, 'x', 42, [1, 2, 3], {}, { Bindings: 'x' }]) {
      assert.throws(() => fromSecPkgContextBindings(bad as never), TypeError, String(bad));
    }
    assert.throws(() => parseChannelBindings('x' as never), TypeError);
  });

  it('any length: a structure copied into a fixed 128-byte array, and one longer than 128 bytes', () => {
    const app = Buffer.concat([Buffer.from('tls-server-end-point:'), Buffer.alloc(32, 0xab)]);
    const padded = Buffer.alloc(128);
    channelBindings(app).copy(padded);
    const parsed = parseChannelBindings(fromSecPkgContextBindings(padded));
    assert.deepEqual(parsed.applicationData, app);
    assert.equal(fromSecPkgContextBindings(padded).length, 128, 'the bytes are passed on as given');

    const long = Buffer.concat([Buffer.from('tls-server-end-point:'), Buffer.alloc(200, 0xcd)]);
    const big = fromSecPkgContextBindings(channelBindings(long));
    assert.equal(big.length, 32 + long.length);
    assert.deepEqual(parseChannelBindings(big).applicationData, long);
  });
});

describe('channel bindings: the SEC_CHANNEL_BINDINGS layout (sspi.h)', () => {
  it('application data only: a 32-byte header, cbApplicationDataLength and dwApplicationDataOffset 32, the data after it', () => {
    const b = channelBindings(Buffer.from('tls-unique:0123456789ab'));
    assert.equal(b.length, 32 + 23);
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => b.readUInt32LE(i * 4)), [0, 0, 0, 0, 0, 0, 23, 32]);
    assert.equal(b.subarray(32).toString('latin1'), 'tls-unique:0123456789ab');
  });

  it('addresses: initiator, then acceptor, then application data, each offset from the structure start', () => {
    const b = channelBindings('app', { dwInitiatorAddrType: 2, initiatorAddress: Buffer.from([127, 0, 0, 1]), dwAcceptorAddrType: 2, acceptorAddress: Buffer.from([10, 0, 0, 2]) });
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => b.readUInt32LE(i * 4)), [2, 4, 32, 2, 4, 36, 3, 40]);
    assert.deepEqual(parseChannelBindings(b), {
      dwInitiatorAddrType: 2, initiatorAddress: Buffer.from([127, 0, 0, 1]),
      dwAcceptorAddrType: 2, acceptorAddress: Buffer.from([10, 0, 0, 2]), applicationData: Buffer.from('app'),
    });
  });

  it('empty application data: 32 bytes, all zero', () => {
    assert.deepEqual(channelBindings(Buffer.alloc(0)), Buffer.alloc(32));
  });

  it('wrong types are TypeErrors, address types outside a ULONG RangeErrors', () => {
    assert.throws(() => channelBindings(42 as never), TypeError);
    assert.throws(() => channelBindings('x', { initiatorAddress: 'x' as never }), TypeError);
    assert.throws(() => channelBindings('x', { dwAcceptorAddrType: -1 }), RangeError);
    assert.throws(() => channelBindings('x', { dwAcceptorAddrType: 2 ** 32 }), RangeError);
  });
});

describe('channel bindings: tls-server-end-point (RFC 5929 section 4) from certificates made here', () => {
  const cases: [Kind, string, string][] = [
    ['rsa-sha256', 'sha256', 'sha256WithRSAEncryption: SHA-256'],
    ['ecdsa-sha384', 'sha384', 'ecdsa-with-SHA384: SHA-384'],
    ['ecdsa-sha512', 'sha512', 'ecdsa-with-SHA512: SHA-512'],
    ['rsa-sha1', 'sha256', 'sha1WithRSAEncryption: SHA-1 becomes SHA-256'],
    ['rsa-md5', 'sha256', 'md5WithRSAEncryption: MD5 becomes SHA-256'],
    ['rsa-pss-sha512', 'sha512', 'RSASSA-PSS with SHA-512 (and MGF1-SHA-512): its hashAlgorithm'],
    ['rsa-pss-default', 'sha256', 'RSASSA-PSS with default parameters: SHA-1, so SHA-256'],
  ];
  for (const [kind, hash, label] of cases) {
    it(`${label}: the same bytes from DER, PEM and X509Certificate`, () => {
      const c = makeCertificate(kind);
      const expected = expectedEndPoint(c.der, hash);
      assert.equal(certificateHashAlgorithm(c.der), hash);
      for (const input of [c.der, new Uint8Array(c.der), c.pem, new X509Certificate(c.der)]) {
        assert.deepEqual(tlsServerEndPoint(input), expected);
      }
      const b = tlsServerEndPointBindings(c.der);
      assert.deepEqual([6, 7].map((i) => b.readUInt32LE(i * 4)), [expected.length, 32]);
      assert.deepEqual(b.subarray(32), expected);
      assert.deepEqual(b.subarray(0, 24), Buffer.alloc(24), 'no addresses');
    });
  }

  it('Ed25519 (no separate hash function) and RSASSA-PSS hashing with two functions are refused as undefined, not guessed', () => {
    for (const kind of ['ed25519', 'rsa-pss-mixed'] as const) {
      const c = makeCertificate(kind);
      assert.throws(() => tlsServerEndPoint(c.der), undefinedBinding, kind);
      assert.throws(() => certificateHashAlgorithm(c.pem), undefinedBinding, kind);
    }
  });

  it('hostile certificates: truncated DER, non-certificate bytes, empty input, PEM garbage are RangeErrors; wrong types TypeErrors', () => {
    const c = makeCertificate('rsa-sha256');
    const spki = keys('rsa').publicKey.export({ type: 'spki', format: 'der' });
    const bad: [string, Uint8Array | string][] = [
      ['truncated to 100 bytes', c.der.subarray(0, 100)],
      ['missing its last byte', c.der.subarray(0, c.der.length - 1)],
      ['random bytes', Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff))],
      ['a SubjectPublicKeyInfo, not a certificate', spki],
      ['empty', Buffer.alloc(0)],
      ['a SEQUENCE claiming 4 GiB', Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x30, 0x00])],
      ['PEM with a broken body', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'],
      ['not PEM at all', 'hello'],
    ];
    for (const [label, input] of bad) {
      assert.throws(() => tlsServerEndPoint(input), invalidCertificate, label);
      assert.throws(() => tlsServerEndPointBindings(input), invalidCertificate, label);
    }
    for (const wrong of [undefined, null, 42, {}, [1]]) {
      assert.throws(() => tlsServerEndPoint(wrong as never), TypeError, String(wrong));
    }
    assert.throws(() => tlsServerEndPointBindings(c.der, 'server'), TypeError, 'side applies to sockets only');
  });
});

describe('channel bindings over real TLS connections in this process', () => {
  /** A TLS server with the certificate; connect() makes one connection and returns both ends after the handshake. */
  async function listen(made: Made, tlsOptions: tls.ConnectionOptions = {}) {
    const server = tls.createServer({ cert: made.pem, key: made.key.export({ type: 'pkcs8', format: 'pem' }) as string, ...tlsOptions as tls.TlsOptions });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const sockets: tls.TLSSocket[] = [];
    return {
      async connect(session?: Buffer) {
        const accepted = once(server, 'secureConnection') as Promise<[tls.TLSSocket]>;
        const client = tls.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, ca: made.pem, servername: 'localhost', session, ...tlsOptions });
        await once(client, 'secureConnect');
        const [serverSide] = await accepted;
        sockets.push(client, serverSide);
        return { client, serverSide };
      },
      async close() {
        for (const s of sockets) s.destroy();
        await new Promise((r) => server.close(r));
      },
    };
  }

  /** One connection to a new server. */
  async function connect(made: Made, tlsOptions: tls.ConnectionOptions = {}) {
    const l = await listen(made, tlsOptions);
    return { ...(await l.connect()), close: () => l.close() };
  }

  it('tls-server-end-point: the client (peer certificate) and the server (own certificate) compute the same bytes', async () => {
    const made = makeCertificate('ecdsa-sha384');
    const c = await connect(made);
    try {
      const expected = channelBindings(expectedEndPoint(made.der, 'sha384'));
      assert.deepEqual(tlsServerEndPointBindings(c.client, 'client'), expected);
      assert.deepEqual(tlsServerEndPointBindings(c.serverSide, 'server'), expected);
      assert.deepEqual(serverChannelBindings(c.serverSide), expected, 'the HTTPS server helper (req.socket)');
      assert.throws(() => tlsServerEndPointBindings(c.client as never), TypeError, 'a socket needs its side');
      // The client has no certificate of its own: asking for the server side there says so.
      assert.throws(() => tlsServerEndPointBindings(c.client, 'server'), (e: unknown) => (e as { code?: string }).code === 'ERR_SSPI_NO_TLS_CERTIFICATE');
    } finally {
      await c.close();
    }
  });

  it('serverChannelBindings of a plain TCP socket is undefined (no TLS channel to bind to)', async () => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const accepted = once(server, 'connection') as Promise<[net.Socket]>;
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    const [socket] = await accepted;
    try {
      assert.equal(serverChannelBindings(socket), undefined);
      assert.equal(serverChannelBindings(undefined), undefined);
    } finally {
      client.destroy();
      socket.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it('tls-unique over TLS 1.2, full handshake: both ends give tls-unique: + the client\'s Finished', async () => {
    const c = await connect(makeCertificate('rsa-sha256'), { maxVersion: 'TLSv1.2' });
    try {
      assert.equal(c.client.getProtocol(), 'TLSv1.2');
      assert.equal(c.client.isSessionReused(), false);
      const expected = Buffer.concat([Buffer.from('tls-unique:'), c.client.getFinished()!]);
      assert.deepEqual(c.serverSide.getPeerFinished(), c.client.getFinished());
      assert.deepEqual(tlsUnique(c.client, 'client'), expected);
      assert.deepEqual(tlsUnique(c.serverSide, 'server'), expected);
      assert.deepEqual(tlsUniqueBindings(c.serverSide, 'server'), channelBindings(expected));
      assert.notDeepEqual(c.client.getFinished(), c.client.getPeerFinished(), 'the two Finished messages differ, so the choice matters');
    } finally {
      await c.close();
    }
  });

  it('tls-unique over a resumed TLS 1.2 session: both ends give the server\'s Finished (sent first in an abbreviated handshake)', async () => {
    const l = await listen(makeCertificate('rsa-sha256'), { maxVersion: 'TLSv1.2' });
    try {
      const first = await l.connect();
      const session = first.client.getSession();
      assert.ok(session, 'a TLS 1.2 session to resume');
      const c = await l.connect(session);
      assert.equal(c.client.isSessionReused(), true, 'the session was resumed');
      const expected = Buffer.concat([Buffer.from('tls-unique:'), c.serverSide.getFinished()!]);
      assert.deepEqual(c.client.getPeerFinished(), c.serverSide.getFinished());
      assert.deepEqual(tlsUnique(c.client, 'client'), expected);
      assert.deepEqual(tlsUnique(c.serverSide, 'server'), expected);
      assert.notDeepEqual(tlsUnique(c.client, 'client'), tlsUnique(first.client, 'client'), 'each connection has its own');
    } finally {
      await l.close();
    }
  });

  it('tls-unique over TLS 1.3 is refused (RFC 8446 section C.5: not defined); tls-server-end-point still works', async () => {
    const made = makeCertificate('rsa-sha256');
    const c = await connect(made, { minVersion: 'TLSv1.3' });
    try {
      assert.equal(c.client.getProtocol(), 'TLSv1.3');
      for (const [s, side] of [[c.client, 'client'], [c.serverSide, 'server']] as const) {
        assert.throws(() => tlsUnique(s, side), (e: unknown) => e instanceof Error && (e as { code?: string }).code === 'ERR_SSPI_TLS_UNIQUE_UNAVAILABLE' && /TLS 1\.3/.test(e.message));
      }
      assert.deepEqual(tlsServerEndPointBindings(c.client, 'client'), tlsServerEndPointBindings(made.der));
    } finally {
      await c.close();
    }
  });

  it('wrong arguments: TypeErrors', () => {
    assert.throws(() => tlsUnique({} as never, 'client'), TypeError);
    assert.throws(() => tlsUnique(new tls.TLSSocket(new net.Socket()), 'both' as never), TypeError);
  });
});

// Wine's Kerberos (dlls/kerberos/unixlib.c, every version from 7 to 10) calls MIT's
// gss_init_sec_context and gss_accept_sec_context with GSS_C_NO_CHANNEL_BINDINGS and never looks at a
// SECBUFFER_CHANNEL_BINDINGS input buffer: the client's authenticator carries no bindings hash and the
// acceptor checks none, so under Wine a mismatch is accepted. Microsoft's Kerberos puts the bindings'
// MD5 into the authenticator checksum (RFC 4121 section 4.1.1.2) and its acceptor refuses a mismatch
// with SEC_E_BAD_BINDINGS (winerror.h 0x80090346, "The client's supplied SSPI channel bindings were
// incorrect"); the NTLM form of that check runs on the Windows workflow (test/windows/bindings.test.ts).
describe('channel bindings in Kerberos and NTLM handshakes against the domain', () => {
  const bed = testBed();
  let clientCred: Credentials;
  let serverCred: Credentials;
  const A = channelBindings(expectedEndPoint(Buffer.from('certificate A'), 'sha256'));
  const B = channelBindings(expectedEndPoint(Buffer.from('certificate B'), 'sha256'));

  before(async () => {
    [clientCred, serverCred] = await Promise.all([Credentials.acquire({ package: 'Kerberos' }), Credentials.acquire({ package: 'Kerberos', use: 'inbound' })]);
  });
  after(() => [clientCred, serverCred].forEach((c) => c?.dispose()));

  it('Kerberos, the same bindings on both sides (context option): SEC_E_OK on both, and the buffer reached ISC and ASC', async () => {
    using client = new ClientContext(clientCred, { targetName: bed.spn, channelBindings: A });
    using server = new ServerContext(serverCred, { channelBindings: A });
    const r = await handshake(client, server);
    assert.equal(r.client.code, 'SEC_E_OK');
    assert.equal(r.server.code, 'SEC_E_OK');
    // The input descriptor as SSPI left it: the bindings were passed as SECBUFFER_CHANNEL_BINDINGS (14).
    assert.ok(r.server.input.some((b) => (b.BufferType & 0xfff) === 14 && b.cbBuffer === A.length), 'ASC got the bindings buffer');
  });

  it('Kerberos, the same bindings per step (step option), tls-server-end-point of a certificate made here', async () => {
    const cb = tlsServerEndPointBindings(makeCertificate('ecdsa-sha384').der);
    using client = new ClientContext(clientCred, { targetName: bed.spn });
    using server = new ServerContext(serverCred);
    const first = await client.step(undefined, { channelBindings: cb });
    const reply = await server.step(first.token, { channelBindings: cb });
    assert.equal(reply.code, 'SEC_E_OK');
    const done = await client.step(reply.token, { channelBindings: cb });
    assert.equal(done.code, 'SEC_E_OK');
  });

  const mismatches: [string, Buffer | undefined, Buffer | undefined][] = [
    ['client A, server B', A, B],
    ['client none, server A', undefined, A],
    ['client A, server none', A, undefined],
  ];
  for (const [label, clientCb, serverCb] of mismatches) {
    it(`Kerberos, mismatched bindings (${label}): ${wineVersion() ? 'accepted under Wine, which passes no bindings to MIT krb5' : 'Microsoft secur32: see each branch'}`, async () => {
      using client = new ClientContext(clientCred, { targetName: bed.spn, ...(clientCb ? { channelBindings: clientCb } : {}) });
      using server = new ServerContext(serverCred, serverCb ? { channelBindings: serverCb } : {});
      const first = await client.step();
      if (wineVersion()) {
        // Measured under Wine 10: SEC_E_OK. Wine's unixlib.c hands GSS_C_NO_CHANNEL_BINDINGS to MIT's
        // gss_accept_sec_context, which then checks nothing.
        const r = await server.step(first.token);
        assert.equal(r.code, 'SEC_E_OK');
        assert.equal((await client.step(r.token)).code, 'SEC_E_OK');
      } else if (serverCb && clientCb) {
        // Microsoft's Kerberos compares the authenticator's bindings hash (RFC 4121 4.1.1.2) with the
        // server's: SEC_E_BAD_BINDINGS (winerror.h 0x80090346, "The client's supplied SSPI channel
        // bindings were incorrect").
        await assert.rejects(server.step(first.token), (e: unknown) => e instanceof SspiError && e.status === SECURITY_STATUS.SEC_E_BAD_BINDINGS);
      } else if (clientCb) {
        // A server given no bindings checks none.
        assert.equal((await server.step(first.token)).code, 'SEC_E_OK');
      } else {
        // Absent client bindings against a server with some: the machine's extended-protection policy
        // decides (SEC_CHANNEL_BINDINGS_RESULT_ABSENT / _NOTVALID_MISSING,
        // https://learn.microsoft.com/en-us/windows-hardware/drivers/ddi/ntifs/ns-ntifs-sec_channel_bindings_result):
        // accepted, or refused as SEC_E_BAD_BINDINGS, nothing else.
        const status = await server.step(first.token).then((r) => r.status, (e: unknown) => (e instanceof SspiError ? e.status : -1));
        assert.ok(status === SECURITY_STATUS.SEC_E_OK || status === SECURITY_STATUS.SEC_E_BAD_BINDINGS, `0x${status.toString(16)}`);
      }
    });
  }

  describe('NTLM with explicit domain credentials', () => {
    it(`bindings on the client's first step (the NEGOTIATE_MESSAGE): ${wineVersion() ? 'Wine answers SEC_E_INVALID_TOKEN' : 'SEC_I_CONTINUE_NEEDED'}`, async () => {
      using p = await boundNtlmPair(A, undefined);
      if (wineVersion()) {
        // Measured under Wine 10. Wine's msv1_0 (dlls/msv1_0/main.c, ntlm_SpInitLsaModeContext) takes
        // the first-call path only when there is neither a context nor an input descriptor; an input
        // descriptor holding just the SECBUFFER_CHANNEL_BINDINGS buffer sends it down the second-call
        // path, which finds no SECBUFFER_TOKEN and returns SEC_E_INVALID_TOKEN. Microsoft's packages take
        // the bindings on the first call (.NET's NegotiateAuthentication passes them on every call).
        await assert.rejects(p.client.step(), (e: unknown) => e instanceof SspiError && e.code === 'SEC_E_INVALID_TOKEN' && e.function === 'InitializeSecurityContext');
      } else {
        assert.equal((await p.client.step()).code, 'SEC_I_CONTINUE_NEEDED');
      }
    });

    it(`client A (per step, from the AUTHENTICATE_MESSAGE on), server B: ${wineVersion() ? 'SEC_E_OK under Wine, whose NTLM checks no bindings' : 'SEC_E_BAD_BINDINGS'}`, async () => {
      using p = await boundNtlmPair(undefined, B);
      const negotiate = await p.client.step();
      const challenge = await p.server.step(negotiate.token);
      assert.equal(challenge.code, 'SEC_I_CONTINUE_NEEDED');
      const authenticate = await p.client.step(challenge.token, { channelBindings: A });
      assert.equal(authenticate.code, 'SEC_E_OK');
      if (wineVersion()) {
        // Measured under Wine 10: Wine's NTLM client asks Samba's ntlm_auth for the AUTHENTICATE_MESSAGE
        // without any bindings, and its server (ntlm_SpAcceptLsaModeContext) ignores the
        // SECBUFFER_CHANNEL_BINDINGS buffer: a mismatch is accepted.
        assert.equal((await p.server.step(authenticate.token)).code, 'SEC_E_OK');
      } else {
        // [MS-NLMP] 3.2.5.1.2: a server given channel bindings compares them with the client's
        // MsvAvChannelBindings; a mismatch fails with SEC_E_BAD_BINDINGS (winerror.h 0x80090346).
        await assert.rejects(p.server.step(authenticate.token), (e: unknown) => e instanceof SspiError && e.status === SECURITY_STATUS.SEC_E_BAD_BINDINGS);
      }
    });
  });
});

// IntegratedAuthenticator's `channelBindings: 'tls-server-end-point'`: an HTTPS server in this
// node.exe hands every ServerContext it makes the bindings of its own certificate on the request's
// connection; the client binds to the certificate it received. (Under Wine the bindings are not
// checked; the test asserts what reaches AcceptSecurityContext.)
describe('IntegratedAuthenticator channelBindings option', () => {
  const bed = testBed();

  async function serve(made: Made | undefined, options: IntegratedAuthOptions) {
    const seen: ServerContextOptions[] = [];
    const auth = new IntegratedAuthenticator({
      schemes: ['Negotiate'], ...options,
      createContext: (cred, opts) => {
        seen.push(opts);
        return new ServerContext(cred, opts);
      },
    });
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      auth.authenticate(req, res).then((id) => {
        if (id) res.end(JSON.stringify({ package: id.package }));
      }, (e: unknown) => res.writeHead(500).end(String(e)));
    };
    const server = made
      ? https.createServer({ cert: made.pem, key: made.key.export({ type: 'pkcs8', format: 'pem' }) as string }, handler)
      : http.createServer(handler);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return {
      seen, port: (server.address() as net.AddressInfo).port,
      async close() {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
        await auth.close();
      },
    };
  }

  /** One GET with a Negotiate token made with `bindings`; the status and the client's TLS socket. */
  function get(port: number, secure: Made | undefined, token: Buffer): Promise<{ status: number; socket: net.Socket }> {
    return new Promise((resolve, reject) => {
      const options = { host: '127.0.0.1', port, path: '/', agent: false as const, headers: { Authorization: `Negotiate ${token.toString('base64')}` } };
      const req = secure ? https.get({ ...options, ca: secure.pem, servername: 'localhost' }) : http.get(options);
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, socket: req.socket! }));
      });
      req.on('error', reject);
    });
  }

  it("'tls-server-end-point' over HTTPS: each ServerContext gets the tls-server-end-point of the server certificate, the client's view of it, and the request is authenticated", async () => {
    const made = makeCertificate('ecdsa-sha384');
    const s = await serve(made, { channelBindings: 'tls-server-end-point' });
    try {
      const expected = tlsServerEndPointBindings(made.der);
      using cred = await Credentials.acquire({ package: 'Negotiate' });
      using client = new ClientContext(cred, { targetName: bed.spn, channelBindings: expected });
      const first = await client.step();
      const r = await get(s.port, made, first.token!);
      assert.equal(r.status, 200);
      assert.equal(s.seen.length, 1);
      assert.deepEqual(s.seen[0].channelBindings, expected);
      assert.deepEqual(tlsServerEndPointBindings(r.socket as tls.TLSSocket, 'client'), expected, 'what the client sees on its connection');
    } finally {
      await s.close();
    }
  });

  it('over plain HTTP, and by default, no bindings reach the ServerContext', async () => {
    for (const [made, options] of [[undefined, { channelBindings: 'tls-server-end-point' }], [makeCertificate('rsa-sha256'), {}], [undefined, { channelBindings: false }]] as const) {
      const s = await serve(made, options as IntegratedAuthOptions);
      try {
        using cred = await Credentials.acquire({ package: 'Negotiate' });
        using client = new ClientContext(cred, { targetName: bed.spn });
        const r = await get(s.port, made, (await client.step()).token!);
        assert.equal(r.status, 200);
        assert.equal(s.seen.length, 1);
        assert.equal(Object.prototype.hasOwnProperty.call(s.seen[0], 'channelBindings'), false);
      } finally {
        await s.close();
      }
    }
  });

  it('other values are TypeErrors', () => {
    for (const bad of [true, 'tls-unique', 'yes', 1, null, {}]) {
      assert.throws(() => new IntegratedAuthenticator({ channelBindings: bad as never }), TypeError, String(bad));
    }
  });
});
