/**
 * The raw message-protection calls (lib/raw/message.ts, src-native/message.cc) against the domain's
 * Kerberos, under Wine: MakeSignature / VerifySignature, EncryptMessage / DecryptMessage, with their
 * SecBufferDescs written back in place.
 *
 * Where Wine's Kerberos (dlls/kerberos in Wine 10) answers differently from Microsoft's, the Wine
 * branch asserts Wine's exact status and names the line of Wine's source that produces it; the other
 * branch asserts what Microsoft documents. The facts, read from wine-mirror/wine:
 * - krb5_ap.c, kerberos_SpSealMessage / SpUnsealMessage / SpMakeSignature / SpVerifySignature
 *   (commit 0507f4413b9d): each looks up one SECBUFFER_DATA and one SECBUFFER_TOKEN buffer and returns
 *   SEC_E_INVALID_TOKEN when either is missing. DecryptMessage has no SECBUFFER_STREAM case there (stream
 *   mode came to Wine after 10.0), so [STREAM, DATA] is SEC_E_INVALID_TOKEN.
 * - unixlib.c, seal_message_no_vector (commit 025e9a018307): EncryptMessage runs gss_wrap over the data,
 *   then copies the first cbBuffer(DATA) bytes of the GSS token into DATA and the rest into TOKEN, and
 *   returns SEC_E_BUFFER_TOO_SMALL when TOKEN is shorter than that rest: 60 bytes for an AES
 *   (RFC 4121) token with confidentiality, where SECPKG_ATTR_SIZES says cbSecurityTrailer 49. gss_wrap
 *   has already used a sequence number by then. With SECQOP_WRAP_NO_ENCRYPT the rest is 28 bytes.
 * - unixlib.c, status_gss_to_sspi: GSS_S_BAD_SIG -> SEC_E_MESSAGE_ALTERED, GSS_S_DEFECTIVE_TOKEN ->
 *   SEC_E_INVALID_TOKEN, GSS_S_DUPLICATE_TOKEN (a replay) -> SEC_E_INVALID_TOKEN, GSS_S_GAP_TOKEN /
 *   GSS_S_UNSEQ_TOKEN (reordered) -> SEC_E_OUT_OF_SEQUENCE; a QOP other than 0 and
 *   SECQOP_WRAP_NO_ENCRYPT -> SEC_E_UNSUPPORTED_FUNCTION ("QOP not supported").
 * Microsoft: https://learn.microsoft.com/en-us/windows/win32/secauthn/encryptmessage--kerberos,
 * .../decryptmessage--kerberos, https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-verifysignature.
 */
import { strict as assert } from 'node:assert';

import { SECBUFFER, SECQOP, SECURITY_STATUS } from '../../lib/constants';
import { isSuccess, statusName } from '../../lib/errors';
import {
  DecryptMessage, DecryptMessageAsync, EncryptMessage, EncryptMessageAsync, MakeSignature, MakeSignatureAsync, newCtxtHandle,
  SecBuffer, VerifySignature, VerifySignatureAsync,
} from '../../lib/raw';
import { testBed } from '../support/env';
import { ContextPair, flipBit, kerberosPairs, MESSAGE_SIZES, pattern } from '../support/message';
import { wineVersion } from '../support/wine';

const S = SECURITY_STATUS;

/** The failures DecryptMessage (Kerberos) documents (https://learn.microsoft.com/en-us/windows/win32/secauthn/decryptmessage--kerberos). */
const DECRYPT_FAILURES = ['SEC_E_BUFFER_TOO_SMALL', 'SEC_E_CRYPTO_SYSTEM_INVALID', 'SEC_E_INCOMPLETE_MESSAGE', 'SEC_E_INVALID_HANDLE',
  'SEC_E_INVALID_TOKEN', 'SEC_E_MESSAGE_ALTERED', 'SEC_E_OUT_OF_SEQUENCE', 'SEC_E_QOP_NOT_SUPPORTED', 'SEC_E_DECRYPT_FAILURE'];

/** What Wine's Kerberos EncryptMessage needs in TOKEN for an AES token with confidentiality (see above). */
const WINE_SEAL_TRAILER = 60;

function expectStatus(actual: number, expected: number, what: string): void {
  assert.equal(statusName(actual), statusName(expected), what);
}

/** TOKEN (sized), DATA (a copy of `data`), PADDING: EncryptMessage's Kerberos layout. */
function sealBuffers(data: Uint8Array, trailer: number, blockSize: number): SecBuffer[] {
  return [
    { BufferType: SECBUFFER.TOKEN, cbBuffer: trailer },
    { BufferType: SECBUFFER.DATA, pvBuffer: Buffer.from(data) },
    { BufferType: SECBUFFER.PADDING, cbBuffer: blockSize },
  ];
}

/** What the sender hands over: the token and the (encrypted) data as EncryptMessage left them. */
function sealed(m: SecBuffer[]): { token: Buffer; data: Buffer } {
  const token = Buffer.from(m[0].pvBuffer!.subarray(0, m[0].cbBuffer));
  const data = m[1].pvBuffer ? Buffer.from(m[1].pvBuffer.subarray(0, m[1].cbBuffer)) : Buffer.alloc(0);
  return { token, data };
}

function unsealBuffers(token: Uint8Array, data: Uint8Array): SecBuffer[] {
  return [{ BufferType: SECBUFFER.TOKEN, pvBuffer: Buffer.from(token) }, { BufferType: SECBUFFER.DATA, pvBuffer: Buffer.from(data) }];
}

function signBuffers(data: Uint8Array, cbMaxSignature: number): SecBuffer[] {
  return [{ BufferType: SECBUFFER.DATA, pvBuffer: Buffer.from(data) }, { BufferType: SECBUFFER.TOKEN, cbBuffer: cbMaxSignature }];
}

describe('raw message protection: MakeSignature, VerifySignature, EncryptMessage, DecryptMessage', () => {
  const { pair: kerberos, credentials } = kerberosPairs(() => testBed().spn);

  /** The trailer EncryptMessage can use on this secur32: SECPKG_ATTR_SIZES, or what Wine needs. */
  function trailerFor(p: ContextPair): number {
    return wineVersion() ? WINE_SEAL_TRAILER : p.client.sizes().cbSecurityTrailer;
  }

  /** Signs `data` on `from` (raw MakeSignature) and returns the signature. */
  function sign(from: ContextPair['client'] | ContextPair['server'], data: Uint8Array): Buffer {
    const m = signBuffers(data, from.sizes().cbMaxSignature);
    expectStatus(MakeSignature(from.handle, 0, m, 0), S.SEC_E_OK, 'MakeSignature');
    return Buffer.from(m[1].pvBuffer!.subarray(0, m[1].cbBuffer));
  }

  function verify(to: ContextPair['client'] | ContextPair['server'], data: Uint8Array, signature: Uint8Array): number {
    return VerifySignature(to.handle, [{ BufferType: SECBUFFER.DATA, pvBuffer: Buffer.from(data) }, { BufferType: SECBUFFER.TOKEN, pvBuffer: Buffer.from(signature) }], 0).status;
  }

  function seal(p: ContextPair, from: 'client' | 'server', data: Uint8Array, qop = 0): { token: Buffer; data: Buffer } {
    const m = sealBuffers(data, trailerFor(p), p[from].sizes().cbBlockSize);
    expectStatus(EncryptMessage(p[from].handle, qop, m, 0), S.SEC_E_OK, 'EncryptMessage');
    return sealed(m);
  }

  describe('hostile input', () => {
    it('wrong JavaScript types throw TypeError / RangeError before anything reaches SSPI, and leave the context usable', async () => {
      using p = await kerberos();
      const h = p.client.handle;
      const data = [{ BufferType: SECBUFFER.DATA, pvBuffer: Buffer.alloc(4) }, { BufferType: SECBUFFER.TOKEN, cbBuffer: 64 }];
      const bad: [string, () => unknown, new (...a: never[]) => Error][] = [
        ['phContext a string', () => MakeSignature('ctx' as never, 0, data, 0), TypeError],
        ['phContext a CredHandle', () => MakeSignature(credentials()[0].handle as never, 0, data, 0), TypeError],
        ['fQOP a string', () => MakeSignature(h, '0' as never, data, 0), TypeError],
        ['fQOP negative', () => EncryptMessage(h, -1, data, 0), RangeError],
        ['fQOP beyond 32 bits', () => EncryptMessage(h, 2 ** 32, data, 0), RangeError],
        ['pMessage null', () => DecryptMessage(h, null as never, 0), TypeError],
        ['pMessage an object', () => VerifySignature(h, {} as never, 0), TypeError],
        ['a SecBuffer that is a number', () => DecryptMessage(h, [1 as never], 0), TypeError],
        ['BufferType missing', () => MakeSignature(h, 0, [{ cbBuffer: 4 } as never], 0), TypeError],
        ['pvBuffer a string', () => MakeSignature(h, 0, [{ BufferType: SECBUFFER.DATA, pvBuffer: 'abc' as never }], 0), TypeError],
        ['pvBuffer an Int16Array', () => MakeSignature(h, 0, [{ BufferType: SECBUFFER.DATA, pvBuffer: new Int16Array(2) as never }], 0), TypeError],
        ['cbBuffer larger than pvBuffer', () => MakeSignature(h, 0, [{ BufferType: SECBUFFER.DATA, cbBuffer: 9, pvBuffer: Buffer.alloc(4) }], 0), RangeError],
        ['cbBuffer over the 64 MiB limit', () => EncryptMessage(h, 0, [{ BufferType: SECBUFFER.DATA, cbBuffer: 2 ** 26 + 1 }], 0), RangeError],
        ['17 buffers', () => DecryptMessage(h, Array.from({ length: 17 }, () => ({ BufferType: SECBUFFER.EMPTY })), 0), RangeError],
        ['MessageSeqNo missing', () => VerifySignature(h, data, undefined as never), TypeError],
        ['MessageSeqNo fractional', () => DecryptMessage(h, data, 1.5), RangeError],
      ];
      for (const [what, call, type] of bad) assert.throws(call, type, what);
      // Nothing was left marked busy: a real call works.
      const sig = sign(p.client, Buffer.from('after the misuse'));
      expectStatus(verify(p.server, Buffer.from('after the misuse'), sig), S.SEC_E_OK, 'VerifySignature after the misuse');
    });

    it('a SharedArrayBuffer view (copied for SSPI even in a synchronous call): sealed in the caller\'s memory, unsealed again', async () => {
      using p = await kerberos();
      const plain = pattern(1024, 9);
      for (const form of ['sync', 'async'] as const) {
        const shared = new Uint8Array(new SharedArrayBuffer(plain.length));
        shared.set(plain);
        const m: SecBuffer[] = [
          { BufferType: SECBUFFER.TOKEN, cbBuffer: trailerFor(p) },
          { BufferType: SECBUFFER.DATA, pvBuffer: shared },
          { BufferType: SECBUFFER.PADDING, cbBuffer: p.client.sizes().cbBlockSize },
        ];
        const status = form === 'sync' ? EncryptMessage(p.client.handle, 0, m, 0) : await EncryptMessageAsync(p.client.handle, 0, m, 0);
        expectStatus(status, S.SEC_E_OK, `${form} EncryptMessage`);
        assert.equal(m[1].pvBuffer!.buffer, shared.buffer, `${form}: DATA is still a view of the caller's SharedArrayBuffer`);
        assert.notDeepEqual(Buffer.from(shared), plain, `${form}: the ciphertext was written back into it`);
        const u = unsealBuffers(sealed(m).token, sealed(m).data);
        expectStatus(DecryptMessage(p.server.handle, u, 0).status, S.SEC_E_OK, `${form} DecryptMessage`);
        assert.deepEqual(Buffer.from(u[1].pvBuffer!.subarray(0, u[1].cbBuffer)), plain, `${form}: the plaintext again`);
      }
    });

    it('a getter that detaches a buffer already read (sync: lent to SSPI in place; async: copied) gets a RangeError, never freed memory', async () => {
      using p = await kerberos();
      for (const form of ['sync', 'async'] as const) {
        // DATA comes first; TOKEN's BufferType getter then transfers DATA's ArrayBuffer away (detaching it).
        // The addon reads every property before it takes any memory, so it sees a 0-byte DATA buffer.
        const memory = new ArrayBuffer(1024);
        const data = new Uint8Array(memory);
        const token = { cbBuffer: p.client.sizes().cbMaxSignature, get BufferType(): number { structuredClone(memory, { transfer: [memory] }); return SECBUFFER.TOKEN; } };
        const message = [{ BufferType: SECBUFFER.DATA, cbBuffer: 1024, pvBuffer: data }, token as SecBuffer];
        const expected = { name: 'RangeError', message: /pMessage\[0\]\.cbBuffer \(1024\) is larger than its pvBuffer \(0 bytes\)/ };
        if (form === 'sync') assert.throws(() => MakeSignature(p.client.handle, 0, message, 0), expected, form);
        else await assert.rejects(MakeSignatureAsync(p.client.handle, 0, message, 0), expected, form);
        assert.equal(memory.byteLength, 0, `${form}: the getter did detach DATA`);
      }
      // The context was not left busy.
      const sig = sign(p.client, Buffer.from('after the detach'));
      expectStatus(verify(p.server, Buffer.from('after the detach'), sig), S.SEC_E_OK, 'VerifySignature after the detach');
    });

    it('a CtxtHandle no handshake filled: SEC_E_INVALID_HANDLE from all four, sync and async, without calling a package', async () => {
      const empty = newCtxtHandle();
      const m = (): SecBuffer[] => [{ BufferType: SECBUFFER.TOKEN, cbBuffer: 64 }, { BufferType: SECBUFFER.DATA, pvBuffer: Buffer.alloc(8) }];
      expectStatus(MakeSignature(empty, 0, m(), 0), S.SEC_E_INVALID_HANDLE, 'MakeSignature');
      expectStatus(VerifySignature(empty, m(), 0).status, S.SEC_E_INVALID_HANDLE, 'VerifySignature');
      expectStatus(EncryptMessage(empty, 0, m(), 0), S.SEC_E_INVALID_HANDLE, 'EncryptMessage');
      expectStatus(DecryptMessage(empty, m(), 0).status, S.SEC_E_INVALID_HANDLE, 'DecryptMessage');
      expectStatus(await MakeSignatureAsync(empty, 0, m(), 0), S.SEC_E_INVALID_HANDLE, 'MakeSignatureAsync');
      expectStatus((await VerifySignatureAsync(empty, m(), 0)).status, S.SEC_E_INVALID_HANDLE, 'VerifySignatureAsync');
      expectStatus(await EncryptMessageAsync(empty, 0, m(), 0), S.SEC_E_INVALID_HANDLE, 'EncryptMessageAsync');
      expectStatus((await DecryptMessageAsync(empty, m(), 0)).status, S.SEC_E_INVALID_HANDLE, 'DecryptMessageAsync');
      assert.equal(empty.valid, false);
    });

    it('a deleted context throws Error (sync) and rejects (async); nothing reaches SSPI', async () => {
      const p = await kerberos();
      p.client.dispose();
      const m = signBuffers(Buffer.alloc(8), 64);
      assert.throws(() => MakeSignature(p.client.handle, 0, m, 0), /MakeSignature: the CtxtHandle has been deleted/);
      assert.throws(() => DecryptMessage(p.client.handle, m, 0), /DecryptMessage: the CtxtHandle has been deleted/);
      await assert.rejects(EncryptMessageAsync(p.client.handle, 0, m, 0), /EncryptMessage: the CtxtHandle has been deleted/);
      p.server.dispose();
    });

    it('a busy context: a second call during a pending asynchronous one throws; a delete meanwhile waits for it', async () => {
      using p = await kerberos();
      const data = pattern(1024);
      const m = signBuffers(data, p.client.sizes().cbMaxSignature);
      const pending = MakeSignatureAsync(p.client.handle, 0, m, 0);
      assert.throws(() => MakeSignature(p.client.handle, 0, signBuffers(data, 64), 0), /in use by a pending asynchronous call/);
      await assert.rejects(VerifySignatureAsync(p.client.handle, signBuffers(data, 64), 0), /in use by a pending asynchronous call/);
      expectStatus(await pending, S.SEC_E_OK, 'the pending MakeSignature');
      expectStatus(verify(p.server, data, bytesOfToken(m)), S.SEC_E_OK, 'its signature verifies');

      // Delete during a pending call: deferred (undefined), done when the call ends.
      const m2 = signBuffers(data, p.server.sizes().cbMaxSignature);
      const pending2 = MakeSignatureAsync(p.server.handle, 0, m2, 0);
      assert.equal(p.server.handle.delete(), undefined);
      assert.equal(p.server.handle.valid, false);
      expectStatus(await pending2, S.SEC_E_OK, 'the call that was pending when delete() came');
      assert.throws(() => MakeSignature(p.server.handle, 0, m2, 0), /deleted/);
    });

    it('buffers of the wrong types: no TOKEN, no DATA -> SEC_E_INVALID_TOKEN; an unknown QOP', async () => {
      using p = await kerberos();
      const h = p.client.handle;
      const data = (): SecBuffer => ({ BufferType: SECBUFFER.DATA, pvBuffer: pattern(64) });
      const token = (): SecBuffer => ({ BufferType: SECBUFFER.TOKEN, cbBuffer: 64 });
      // EncryptMessage (Kerberos): "SEC_E_INVALID_TOKEN: No SECBUFFER_DATA type buffer was found."
      // (https://learn.microsoft.com/en-us/windows/win32/secauthn/encryptmessage--kerberos); Wine:
      // krb5_ap.c's get_buffer_index for DATA and TOKEN (see the top of this file).
      expectStatus(EncryptMessage(h, 0, [token()], 0), S.SEC_E_INVALID_TOKEN, 'EncryptMessage without DATA');
      const missing: [string, number][] = [
        ['MakeSignature without DATA', MakeSignature(h, 0, [token()], 0)],
        ['MakeSignature without TOKEN', MakeSignature(h, 0, [data()], 0)],
        ['VerifySignature without TOKEN', VerifySignature(p.server.handle, [data()], 0).status],
        ['DecryptMessage without TOKEN or STREAM', DecryptMessage(p.server.handle, [data()], 0).status],
        ['EncryptMessage without TOKEN', EncryptMessage(h, 0, [data()], 0)],
      ];
      const badQop = EncryptMessage(h, 5, [token(), data()], 0);
      if (wineVersion()) {
        for (const [what, status] of missing) expectStatus(status, S.SEC_E_INVALID_TOKEN, `Wine: ${what}`);
        // unixlib.c seal_message_no_vector: "QOP %#x not supported" -> SEC_E_UNSUPPORTED_FUNCTION.
        expectStatus(badQop, S.SEC_E_UNSUPPORTED_FUNCTION, 'Wine: EncryptMessage with fQOP 5');
      } else {
        // Microsoft documents no one status per missing buffer; each must fail.
        for (const [what, status] of missing) assert.ok(!isSuccess(status), `${what}: ${statusName(status)}`);
        expectStatus(badQop, S.SEC_E_QOP_NOT_SUPPORTED, 'EncryptMessage with fQOP 5');
      }
      // Garbage where a token should be: the checks above used no sequence number on the server.
      expectStatus(VerifySignature(p.server.handle, [data(), { BufferType: SECBUFFER.TOKEN, pvBuffer: Buffer.alloc(28, 1) }], 0).status,
        S.SEC_E_INVALID_TOKEN, 'VerifySignature of 28 bytes of 0x01');
      expectStatus(DecryptMessage(p.server.handle, unsealBuffers(Buffer.alloc(60, 1), pattern(64)), 0).status,
        S.SEC_E_INVALID_TOKEN, 'DecryptMessage of a token of 0x01 bytes');
    });

    it('empty buffers to DecryptMessage', async () => {
      using p = await kerberos();
      const r = DecryptMessage(p.server.handle, [{ BufferType: SECBUFFER.TOKEN, cbBuffer: 0 }, { BufferType: SECBUFFER.DATA, cbBuffer: 0 }], 0);
      if (wineVersion()) {
        // gss_unwrap of a 0-byte token: GSS_S_FAILURE, which Wine's status_gss_to_sspi maps to SEC_E_INTERNAL_ERROR.
        expectStatus(r.status, S.SEC_E_INTERNAL_ERROR, 'Wine: DecryptMessage of nothing');
      } else {
        // Microsoft documents no single status for this; any documented failure will do.
        assert.ok(DECRYPT_FAILURES.includes(statusName(r.status)), statusName(r.status));
      }
    });

    it('a 0-byte message: signed and verified, sealed and unsealed (DATA with cbBuffer 0, pvBuffer NULL)', async () => {
      using p = await kerberos();
      const empty = Buffer.alloc(0);
      const sig = sign(p.client, empty);
      expectStatus(verify(p.server, empty, sig), S.SEC_E_OK, 'VerifySignature of 0 bytes');
      const s = seal(p, 'server', empty);
      assert.equal(s.data.length, 0);
      const m = unsealBuffers(s.token, s.data);
      expectStatus(DecryptMessage(p.client.handle, m, 0).status, S.SEC_E_OK, 'DecryptMessage of 0 bytes');
      assert.equal(m[1].cbBuffer, 0);
    });
  });

  describe('Kerberos round trips between two contexts', () => {
    for (const size of MESSAGE_SIZES) {
      it(`${size} B: MakeSignature/VerifySignature and EncryptMessage/DecryptMessage, client->server and server->client`, async () => {
        using p = await kerberos();
        for (const [from, to] of [['client', 'server'], ['server', 'client']] as const) {
          const data = pattern(size, from === 'client' ? 1 : 2);
          const sig = sign(p[from], data);
          assert.ok(sig.length > 0 && sig.length <= p[from].sizes().cbMaxSignature, `signature of ${sig.length} B`);
          expectStatus(verify(p[to], data, sig), S.SEC_E_OK, `${from}->${to} VerifySignature`);

          const s = seal(p, from, data);
          assert.notDeepEqual(s.data, data, 'the data were encrypted in place');
          const m = unsealBuffers(s.token, s.data);
          const r = DecryptMessage(p[to].handle, m, 0);
          expectStatus(r.status, S.SEC_E_OK, `${from}->${to} DecryptMessage`);
          assert.equal(r.qop, 0, 'encrypted: pfQOP 0');
          assert.deepEqual(Buffer.from(m[1].pvBuffer!.subarray(0, m[1].cbBuffer)), data, 'DATA holds the plaintext again, in place');
        }
      });
    }

    it('the same with the Async forms', async () => {
      using p = await kerberos();
      const data = pattern(1024, 7);
      const sm = signBuffers(data, p.client.sizes().cbMaxSignature);
      expectStatus(await MakeSignatureAsync(p.client.handle, 0, sm, 0), S.SEC_E_OK, 'MakeSignatureAsync');
      const v = await VerifySignatureAsync(p.server.handle, [{ BufferType: SECBUFFER.DATA, pvBuffer: data }, { BufferType: SECBUFFER.TOKEN, pvBuffer: bytesOfToken(sm) }], 0);
      expectStatus(v.status, S.SEC_E_OK, 'VerifySignatureAsync');
      const em = sealBuffers(data, trailerFor(p), p.server.sizes().cbBlockSize);
      expectStatus(await EncryptMessageAsync(p.server.handle, 0, em, 0), S.SEC_E_OK, 'EncryptMessageAsync');
      const s = sealed(em);
      const dm = unsealBuffers(s.token, s.data);
      expectStatus((await DecryptMessageAsync(p.client.handle, dm, 0)).status, S.SEC_E_OK, 'DecryptMessageAsync');
      assert.deepEqual(Buffer.from(dm[1].pvBuffer!), data);
    });

    it('EncryptMessage with TOKEN sized exactly cbSecurityTrailer (SECPKG_ATTR_SIZES)', async () => {
      using p = await kerberos();
      const sizes = p.client.sizes();
      const data = pattern(64);
      const m = sealBuffers(data, sizes.cbSecurityTrailer, sizes.cbBlockSize);
      const status = EncryptMessage(p.client.handle, 0, m, 0);
      if (wineVersion()) {
        // Wine 10 says cbSecurityTrailer 49 but its gss_wrap token leaves 60 bytes for TOKEN
        // (unixlib.c seal_message_no_vector, see the top of this file): SEC_E_BUFFER_TOO_SMALL,
        // after gss_wrap used the next sequence number. So the next message the server sees is one
        // ahead of what it expects: SEC_E_OUT_OF_SEQUENCE (GSS_S_GAP_TOKEN).
        assert.equal(sizes.cbSecurityTrailer, 49);
        expectStatus(status, S.SEC_E_BUFFER_TOO_SMALL, 'Wine: EncryptMessage with a 49-byte TOKEN');
        const next = seal(p, 'client', data);
        expectStatus(DecryptMessage(p.server.handle, unsealBuffers(next.token, next.data), 0).status, S.SEC_E_OUT_OF_SEQUENCE,
          'Wine: the message after the failed EncryptMessage');
        const after = seal(p, 'client', data);
        expectStatus(DecryptMessage(p.server.handle, unsealBuffers(after.token, after.data), 0).status, S.SEC_E_OK,
          'Wine: the one after that is in sequence again');
      } else {
        // Microsoft: the trailer buffer is sized from cbSecurityTrailer
        // (https://learn.microsoft.com/en-us/windows/win32/secauthn/encryptmessage--kerberos).
        expectStatus(status, S.SEC_E_OK, 'EncryptMessage');
        assert.ok(m[0].cbBuffer! <= sizes.cbSecurityTrailer);
        const s = sealed(m);
        expectStatus(DecryptMessage(p.server.handle, unsealBuffers(s.token, s.data), 0).status, S.SEC_E_OK, 'DecryptMessage');
      }
    });

    it('tampering: a flipped bit in the data, in the signature or in the trailer', async () => {
      using p = await kerberos();
      const data = pattern(1024);
      // Each check on a fresh message (a failed check uses no sequence number, but keep them independent).
      expectStatus(verify(p.server, flipBit(data, 100), sign(p.client, data)), S.SEC_E_MESSAGE_ALTERED, 'data changed under a signature');
      using p2 = await kerberos();
      expectStatus(verify(p2.server, data, flipBit(sign(p2.client, data), -1)), S.SEC_E_MESSAGE_ALTERED, 'last byte (checksum) of the signature');
      using p3 = await kerberos();
      const sig = sign(p3.client, data);
      // The first bytes are the RFC 4121 MIC token's header (TOK_ID 04 04): a changed header is not a MIC token.
      assert.deepEqual([...sig.subarray(0, 2)], [0x04, 0x04]);
      expectStatus(verify(p3.server, data, flipBit(sig, 0)), S.SEC_E_INVALID_TOKEN, 'token ID of the signature');

      using p4 = await kerberos();
      const s = seal(p4, 'client', data);
      expectStatus(DecryptMessage(p4.server.handle, unsealBuffers(flipBit(s.token, -1), s.data), 0).status, S.SEC_E_MESSAGE_ALTERED, 'last byte of the trailer');
      using p5 = await kerberos();
      const s5 = seal(p5, 'client', data);
      expectStatus(DecryptMessage(p5.server.handle, unsealBuffers(s5.token, flipBit(s5.data, -1)), 0).status, S.SEC_E_MESSAGE_ALTERED, 'last byte of the ciphertext');
    });

    it('replayed and reordered messages are reported', async () => {
      using p = await kerberos();
      const data = pattern(64);
      const sig = sign(p.client, data);
      expectStatus(verify(p.server, data, sig), S.SEC_E_OK, 'first delivery');
      const replay = verify(p.server, data, sig);
      const s = seal(p, 'client', data);
      expectStatus(DecryptMessage(p.server.handle, unsealBuffers(s.token, s.data), 0).status, S.SEC_E_OK, 'first delivery of a sealed message');
      const replaySealed = DecryptMessage(p.server.handle, unsealBuffers(s.token, s.data), 0).status;
      if (wineVersion()) {
        // MIT reports GSS_S_DUPLICATE_TOKEN; Wine's status_gss_to_sspi maps it to SEC_E_INVALID_TOKEN.
        expectStatus(replay, S.SEC_E_INVALID_TOKEN, 'Wine: replayed signature');
        expectStatus(replaySealed, S.SEC_E_INVALID_TOKEN, 'Wine: replayed sealed message');
      } else {
        // VerifySignature / DecryptMessage: "SEC_E_OUT_OF_SEQUENCE: The message was not received in the correct sequence."
        expectStatus(replay, S.SEC_E_OUT_OF_SEQUENCE, 'replayed signature');
        expectStatus(replaySealed, S.SEC_E_OUT_OF_SEQUENCE, 'replayed sealed message');
      }

      using q = await kerberos();
      const first = sign(q.client, data);
      const second = sign(q.client, data);
      expectStatus(verify(q.server, data, second), S.SEC_E_OUT_OF_SEQUENCE, 'the second message before the first');
      expectStatus(verify(q.server, data, first), S.SEC_E_OUT_OF_SEQUENCE, 'then the first');
      using r = await kerberos();
      const a = seal(r, 'server', data);
      const b = seal(r, 'server', data);
      expectStatus(DecryptMessage(r.client.handle, unsealBuffers(b.token, b.data), 0).status, S.SEC_E_OUT_OF_SEQUENCE, 'sealed: second before first');
      expectStatus(DecryptMessage(r.client.handle, unsealBuffers(a.token, a.data), 0).status, S.SEC_E_OUT_OF_SEQUENCE, 'sealed: then the first');
    });

    it('QOP: SECQOP_WRAP_NO_ENCRYPT (KERB_WRAP_NO_ENCRYPT) signs only, and DecryptMessage reports it in pfQOP', async () => {
      using p = await kerberos();
      const data = pattern(1024);
      const m = sealBuffers(data, p.client.sizes().cbSecurityTrailer, p.client.sizes().cbBlockSize);
      // Sign-only fits cbSecurityTrailer on Wine too: its token leaves 28 bytes for TOKEN.
      expectStatus(EncryptMessage(p.client.handle, SECQOP.WRAP_NO_ENCRYPT, m, 0), S.SEC_E_OK, 'EncryptMessage(SECQOP_WRAP_NO_ENCRYPT)');
      const s = sealed(m);
      if (!wineVersion()) assert.deepEqual(s.data, data, 'the data stay readable');
      // (Wine puts the GSS token's first bytes, its header, into DATA: see unixlib.c above.)
      const dm = unsealBuffers(s.token, s.data);
      const r = DecryptMessage(p.server.handle, dm, 0);
      expectStatus(r.status, S.SEC_E_OK, 'DecryptMessage');
      assert.equal(r.qop, SECQOP.WRAP_NO_ENCRYPT, 'pfQOP');
      assert.deepEqual(Buffer.from(dm[1].pvBuffer!.subarray(0, dm[1].cbBuffer)), data);
    });

    it('SECBUFFER_STREAM unwrap: the whole message in a STREAM buffer, DATA comes back as a view into it', async () => {
      using p = await kerberos();
      const data = pattern(1024);
      const s = seal(p, 'client', data);
      // Microsoft's layout on the wire is TOKEN | DATA (EncryptMessage's order); Wine's is DATA | TOKEN.
      const wire = wineVersion() ? Buffer.concat([s.data, s.token]) : Buffer.concat([s.token, s.data]);
      const stream = Buffer.from(wire);
      const m: SecBuffer[] = [{ BufferType: SECBUFFER.STREAM, pvBuffer: stream }, { BufferType: SECBUFFER.DATA }];
      const r = DecryptMessage(p.server.handle, m, 0);
      if (wineVersion()) {
        // Wine 10's kerberos_SpUnsealMessage needs a SECBUFFER_TOKEN (no stream mode): SEC_E_INVALID_TOKEN.
        expectStatus(r.status, S.SEC_E_INVALID_TOKEN, 'Wine: DecryptMessage([STREAM, DATA])');
        assert.equal(m[1].pvBuffer, null, 'DATA untouched');
      } else {
        expectStatus(r.status, S.SEC_E_OK, 'DecryptMessage([STREAM, DATA])');
        const view = m[1].pvBuffer!;
        assert.equal(view.buffer, stream.buffer, 'DATA points into the STREAM buffer the caller passed');
        assert.deepEqual(Buffer.from(view.subarray(0, m[1].cbBuffer)), data);
      }
    });
  });
});

function bytesOfToken(m: SecBuffer[]): Buffer {
  const t = m.find((b) => b.BufferType === SECBUFFER.TOKEN)!;
  return Buffer.from(t.pvBuffer!.subarray(0, t.cbBuffer));
}
