/**
 * lib/http/framing.ts: real first and later tokens of this test bed pass with the shape they have;
 * bytes that cannot be a token are refused. (MIT's SPNEGO token and a server's NegTokenResp are
 * checked in test/e2e/http.test.ts, where MIT GSSAPI runs.)
 */
import { strict as assert } from 'node:assert';

import { ClientContext, ServerContext } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { fitsScheme, inspectToken, MECHANISM_OID } from '../../lib/http/framing';
import { testBed } from '../support/env';

/** A small deterministic generator (mulberry32), so a failing case can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('framing of authentication tokens (lib/http/framing.ts)', () => {
  const bed = testBed();
  let ntlm: { negotiate: Buffer; authenticate: Buffer };
  let negotiateKerberos: Buffer;
  let kerberos: Buffer;

  before(async () => {
    const user = bed.users[0];
    using clientCred = await Credentials.acquire({ package: 'NTLM', identity: { user: user.name, domain: bed.domain, password: user.password } });
    using serverCred = await Credentials.acquire({ package: 'NTLM', use: 'inbound' });
    using client = new ClientContext(clientCred);
    using server = new ServerContext(serverCred);
    const negotiate = (await client.step()).token!;
    const challenge = (await server.step(negotiate)).token!;
    const authenticate = (await client.step(challenge)).token!;
    ntlm = { negotiate, authenticate };
    using cred = await Credentials.acquire({ package: 'Negotiate' });
    using c1 = new ClientContext(cred, { targetName: bed.spn });
    negotiateKerberos = (await c1.step()).token!;
    using kcred = await Credentials.acquire({ package: 'Kerberos' });
    using c2 = new ClientContext(kcred, { targetName: bed.spn });
    kerberos = (await c2.step()).token!;
  });

  it('NTLM NEGOTIATE_MESSAGE and AUTHENTICATE_MESSAGE from the NTLM client', () => {
    assert.deepEqual(inspectToken(ntlm.negotiate), { shape: 'ntlm-negotiate', initial: true });
    assert.deepEqual(inspectToken(ntlm.authenticate), { shape: 'ntlm-authenticate', initial: false });
    assert.equal(fitsScheme(inspectToken(ntlm.negotiate)!, 'NTLM'), true);
    assert.equal(fitsScheme(inspectToken(ntlm.negotiate)!, 'Negotiate'), true);
  });

  it('Kerberos first tokens from the Negotiate and Kerberos clients are GSS InitialContextTokens', () => {
    for (const token of [negotiateKerberos, kerberos]) {
      const f = inspectToken(token);
      assert.equal(f?.shape, 'gss-initial', token.subarray(0, 16).toString('hex'));
      assert.equal(f.initial, true);
      assert.ok(([MECHANISM_OID.KERBEROS_V5, MECHANISM_OID.SPNEGO] as string[]).includes(f.mechanism!), f.mechanism);
      assert.equal(fitsScheme(f, 'NTLM'), false, 'not under the NTLM scheme');
      assert.equal(fitsScheme(f, 'Negotiate'), true);
    }
  });

  it('truncated, extended or re-lengthed GSS tokens are refused', () => {
    const t = negotiateKerberos;
    assert.equal(inspectToken(t.subarray(0, t.length - 1)), undefined, 'one byte short');
    assert.equal(inspectToken(Buffer.concat([t, Buffer.from([0])])), undefined, 'one byte more');
    assert.equal(inspectToken(t.subarray(0, 2)), undefined);
    assert.equal(inspectToken(Buffer.from([0x60, 0x80, 0x06, 0x01, 0x2a, 0x00, 0x00])), undefined, 'indefinite length (BER, not DER)');
    assert.equal(inspectToken(Buffer.from([0x60, 0x85, 1, 0, 0, 0, 0])), undefined, 'five length bytes');
    assert.equal(inspectToken(Buffer.from([0x60, 0x03, 0x05, 0x01, 0x00])), undefined, 'no OID (a NULL instead)');
    assert.equal(inspectToken(Buffer.from([0x60, 0x02, 0x06, 0x00])), undefined, 'empty OID');
    assert.equal(inspectToken(Buffer.from([0x60, 0x04, 0x06, 0x02, 0x2b, 0x86])), undefined, 'OID ends inside an arc');
    assert.equal(inspectToken(Buffer.from([0x60, 0x04, 0x06, 0x02, 0x80, 0x01])), undefined, 'OID arc with a leading 0x80');
    assert.equal(inspectToken(Buffer.from([0x60, 0x04, 0x06, 0x05, 0x2b, 0x06])), undefined, 'OID longer than the token');
    assert.deepEqual(inspectToken(Buffer.from([0x60, 0x08, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02])),
      { shape: 'gss-initial', initial: true, mechanism: MECHANISM_OID.SPNEGO });
  });

  it('NegTokenResp framing: [1] { SEQUENCE } with exact lengths', () => {
    const reject = Buffer.from([0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x02]);
    assert.deepEqual(inspectToken(reject), { shape: 'spnego-response', initial: false });
    assert.equal(fitsScheme(inspectToken(reject)!, 'NTLM'), false);
    assert.equal(inspectToken(reject.subarray(0, 8)), undefined);
    assert.equal(inspectToken(Buffer.from([0xa1, 0x07, 0x31, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x02])), undefined, 'a SET, not a SEQUENCE');
    assert.equal(inspectToken(Buffer.from([0xa1, 0x07, 0x30, 0x04, 0xa0, 0x03, 0x0a, 0x01, 0x02])), undefined, 'inner length short');
  });

  it('NTLM messages with a wrong signature, type or field bounds are refused', () => {
    const { negotiate, authenticate } = ntlm;
    const withType = (b: Buffer, type: number): Buffer => { const c = Buffer.from(b); c.writeUInt32LE(type, 8); return c; };
    assert.equal(inspectToken(withType(negotiate, 2)), undefined, 'CHALLENGE_MESSAGE: never sent to a server');
    assert.equal(inspectToken(withType(negotiate, 4)), undefined);
    const sig = Buffer.from(negotiate);
    sig[7] = 0x20;
    assert.equal(inspectToken(sig), undefined, 'NTLMSSP without its NUL');
    assert.equal(inspectToken(negotiate.subarray(0, 15)), undefined, 'shorter than Signature + MessageType + NegotiateFlags');
    assert.equal(inspectToken(authenticate.subarray(0, 51)), undefined, 'AUTHENTICATE_MESSAGE shorter than its field descriptors');
    for (const at of [12, 20, 28, 36, 44]) {
      const c = Buffer.from(authenticate);
      c.writeUInt16LE(0x100, at); // Len
      c.writeUInt32LE(c.length - 0x10, at + 4); // BufferOffset: Len bytes would run past the end
      assert.equal(inspectToken(c), undefined, `field at ${at} past the end`);
    }
    const truncated = authenticate.subarray(0, authenticate.length - 8);
    assert.equal(inspectToken(truncated), undefined, 'payload cut short');
    // A NEGOTIATE_MESSAGE whose flags say a domain is supplied must point inside the message.
    const domain = Buffer.alloc(32);
    Buffer.from('NTLMSSP\0', 'latin1').copy(domain);
    domain.writeUInt32LE(1, 8);
    domain.writeUInt32LE(0x00001000, 12);
    domain.writeUInt16LE(4, 16);
    domain.writeUInt32LE(40, 20);
    assert.equal(inspectToken(domain), undefined);
    domain.writeUInt32LE(28, 20);
    assert.deepEqual(inspectToken(domain), { shape: 'ntlm-negotiate', initial: true });
  });

  it('random bytes: never throws, and refuses almost all (seeded)', () => {
    const next = random(0x5eed);
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const b = Buffer.alloc(1 + Math.floor(next() * 300));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(next() * 256);
      if (inspectToken(b)) accepted++;
    }
    assert.ok(accepted < 20, `${accepted} random buffers passed the framing`);
  });

  it('bit flips and truncations of real tokens: never throws', () => {
    const next = random(42);
    for (const token of [ntlm.negotiate, ntlm.authenticate, negotiateKerberos, kerberos]) {
      for (let i = 0; i < 2000; i++) {
        const c = Buffer.from(token.subarray(0, 1 + Math.floor(next() * token.length)));
        c[Math.floor(next() * c.length)] ^= 1 << Math.floor(next() * 8);
        inspectToken(c); // a result or undefined, never an exception
      }
    }
  });

  it('rejects a token that is not bytes with TypeError', () => {
    assert.throws(() => inspectToken('TlRMTVNTUAAB' as never), TypeError);
  });
});
