/**
 * Message protection on an established {@link SecurityContext}, with .NET NegotiateAuthentication's
 * names beside SSPI's: {@link wrap} / {@link unwrap} (EncryptMessage / DecryptMessage) and
 * {@link computeIntegrityCheck} / {@link verifyIntegrityCheck} (MakeSignature / VerifySignature).
 * Built on the raw layer (lib/raw/message.ts); failures throw {@link SspiError}.
 *
 * ## The wrapped message's format
 * {@link wrap} calls EncryptMessage with three buffers sized from SECPKG_ATTR_SIZES, as Microsoft's
 * EncryptMessage (Kerberos / NTLM) pages describe:
 *
 *     SECBUFFER_TOKEN   cbSecurityTrailer bytes  (the security trailer)
 *     SECBUFFER_DATA    the plaintext, encrypted in place
 *     SECBUFFER_PADDING cbBlockSize bytes
 *
 * and returns TOKEN | DATA | PADDING concatenated, each at the length the package wrote back in its
 * cbBuffer (Kerberos AES: no padding). That is the layout .NET's NegotiateAuthentication.Wrap
 * produces on Windows, and for Kerberos it is an RFC 4121 wrap token (the header and trailer in
 * TOKEN, Microsoft's "right rotation count" moving the trailer in front of the data) that MIT/Heimdal
 * gss_unwrap reads as is. No length prefix is added: the peer splits it like this:
 *
 * - Kerberos (also Negotiate that chose Kerberos): the whole message goes to DecryptMessage as one
 *   SECBUFFER_STREAM with an empty SECBUFFER_DATA; the package finds the token's length itself
 *   (stream mode). Any RFC 4121 wrap token from gss_wrap is accepted the same way.
 * - NTLM (also Negotiate that chose NTLM): the first cbSecurityTrailer (16) bytes are the signature
 *   (SECBUFFER_TOKEN), the rest is SECBUFFER_DATA ([MS-NLMP] 3.4.3: the signature is 16 bytes).
 *
 * Sequence numbers are the package's own (MessageSeqNo 0: connection-oriented contexts), so each
 * side must unwrap the peer's messages in the order they were wrapped: a replayed, reordered or lost
 * message fails with SEC_E_OUT_OF_SEQUENCE. SECPKG_ATTR_SIZES and the negotiated package are queried
 * once per context, on first use after the context is complete, and cached.
 * @packageDocumentation
 */
import { SECBUFFER, SECPKG_ATTR, SECQOP } from './constants';
import type { SecurityContext } from './context';
import { check } from './errors';
import { bufferType, bytesOf, SecBuffer } from './raw/buffers';
import {
  DecryptMessage, DecryptMessageAsync, EncryptMessage, EncryptMessageAsync, MakeSignature, MakeSignatureAsync, MessageQopResult,
  VerifySignature, VerifySignatureAsync,
} from './raw/message';

/** Options of {@link wrap}. */
export interface WrapOptions {
  /**
   * True (default): confidentiality and integrity (fQOP 0). False: integrity only, the data stays
   * readable in the message (fQOP SECQOP_WRAP_NO_ENCRYPT = KERB_WRAP_NO_ENCRYPT, 0x80000001).
   */
  encrypt?: boolean;
  /** fQOP to pass as is (overrides `encrypt`): package-specific quality-of-protection bits. */
  qop?: number;
}

/** What {@link unwrap} returns. */
export interface UnwrapResult {
  /** The plaintext, a new Buffer the caller owns. */
  data: Buffer;
  /** False when the sender wrapped without encryption (pfQOP had SECQOP_WRAP_NO_ENCRYPT). */
  encrypted: boolean;
  /** pfQOP as DecryptMessage returned it. */
  qop: number;
}

/** What a context's message protection needs, queried once. */
interface Protection {
  /** SECPKG_ATTR_SIZES: cbMaxSignature, cbSecurityTrailer, cbBlockSize (bytes). */
  cbMaxSignature: number;
  cbSecurityTrailer: number;
  cbBlockSize: number;
  /** The package protecting messages is NTLM (directly or chosen by Negotiate). */
  ntlm: boolean;
}

const cache = new WeakMap<SecurityContext, Protection>();

function protection(context: SecurityContext, fn: string): Protection {
  if (context.disposed) throw new Error(`${fn}: the context has been disposed`);
  if (!context.complete) throw new Error(`${fn}: the context is not established yet (no step has returned SEC_E_OK)`);
  let p = cache.get(context);
  if (!p) {
    const s = context.sizes();
    let pkg = context.package;
    if (/^negotiate$/i.test(pkg)) pkg = context.queryAttribute(SECPKG_ATTR.NEGOTIATION_INFO).PackageInfo?.Name ?? pkg;
    p = { cbMaxSignature: s.cbMaxSignature, cbSecurityTrailer: s.cbSecurityTrailer, cbBlockSize: s.cbBlockSize, ntlm: /^ntlm$/i.test(pkg) };
    cache.set(context, p);
  }
  return p;
}

function bytesArg(value: unknown, what: string, fn: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${fn}: ${what} must be a Buffer or Uint8Array`);
  return value;
}

function wrapQop(options: unknown): number {
  if (options === undefined) return 0;
  if (typeof options !== 'object' || options === null) throw new TypeError('wrap: options must be an object');
  const { encrypt, qop } = options as WrapOptions;
  if (encrypt !== undefined && typeof encrypt !== 'boolean') throw new TypeError('wrap: options.encrypt must be a boolean');
  if (qop !== undefined) {
    if (typeof qop !== 'number' || !Number.isInteger(qop) || qop < 0 || qop > 0xffffffff) {
      throw new TypeError('wrap: options.qop must be an integer from 0 to 0xFFFFFFFF');
    }
    return qop;
  }
  return encrypt === false ? SECQOP.WRAP_NO_ENCRYPT : 0;
}

// ---- wrap ----

function wrapBuffers(context: SecurityContext, data: unknown, options: unknown): { message: SecBuffer[]; qop: number; out: Buffer } {
  const bytes = bytesArg(data, 'data', 'wrap');
  const qop = wrapQop(options);
  const p = protection(context, 'EncryptMessage');
  // One allocation holds TOKEN | DATA | PADDING as the package may fill them: the data are copied in once
  // (EncryptMessage seals DATA in place), and wrapped() closes the gaps the package leaves in place.
  const out = Buffer.alloc(p.cbSecurityTrailer + bytes.length + p.cbBlockSize);
  out.set(bytes, p.cbSecurityTrailer);
  const message: SecBuffer[] = [
    { BufferType: SECBUFFER.TOKEN, pvBuffer: out.subarray(0, p.cbSecurityTrailer) },
    { BufferType: SECBUFFER.DATA, pvBuffer: out.subarray(p.cbSecurityTrailer, p.cbSecurityTrailer + bytes.length) },
    { BufferType: SECBUFFER.PADDING, pvBuffer: out.subarray(p.cbSecurityTrailer + bytes.length) },
  ];
  return { message, qop, out };
}

/**
 * TOKEN | DATA | PADDING as the package wrote them (each SecBuffer's cbBuffer may shrink), moved together
 * inside the memory wrapBuffers allocated: each lies at or after where it goes, and TypedArray set() copies
 * overlapping ranges as memmove does.
 */
function wrapped(context: SecurityContext, status: number, message: SecBuffer[], out: Buffer): Buffer {
  check(status, 'EncryptMessage', { package: context.package });
  let at = 0;
  for (const b of message) {
    const bytes = bytesOf(b);
    out.set(bytes, at);
    at += bytes.length;
  }
  return out.subarray(0, at);
}

/**
 * .NET's Wrap: protects `data` for the peer's {@link unwrap} with
 * [EncryptMessage](https://learn.microsoft.com/en-us/windows/win32/secauthn/encryptmessage--kerberos)
 * (TOKEN sized cbSecurityTrailer, DATA, PADDING sized cbBlockSize, from SECPKG_ATTR_SIZES; the
 * format is described in this module's documentation).
 * @param context - an established context (client or server).
 * @param data - the plaintext (copied; not modified).
 * @param options - `encrypt: false` for integrity only (SECQOP_WRAP_NO_ENCRYPT), or an explicit `qop`.
 * @returns a new Buffer: TOKEN | DATA | PADDING as the package wrote them.
 * @throws TypeError for wrong argument types; Error for a disposed or not yet established context;
 *   SspiError (`function: 'EncryptMessage'`, or 'QueryContextAttributes' for the sizes):
 *   SEC_E_BUFFER_TOO_SMALL, SEC_E_QOP_NOT_SUPPORTED, SEC_E_CONTEXT_EXPIRED, SEC_E_INVALID_HANDLE,
 *   SEC_E_UNSUPPORTED_FUNCTION (a context negotiated without confidentiality, where the package refuses).
 */
export function wrap(context: SecurityContext, data: Uint8Array, options?: WrapOptions): Buffer {
  const { message, qop, out } = wrapBuffers(context, data, options);
  return wrapped(context, EncryptMessage(context.handle, qop, message, 0), message, out);
}

/** {@link wrap} with EncryptMessage on the SSPI call queue. */
export async function wrapAsync(context: SecurityContext, data: Uint8Array, options?: WrapOptions): Promise<Buffer> {
  const { message, qop, out } = wrapBuffers(context, data, options);
  return wrapped(context, await EncryptMessageAsync(context.handle, qop, message, 0), message, out);
}

// ---- unwrap ----

function unwrapBuffers(context: SecurityContext, message: unknown): SecBuffer[] {
  const bytes = bytesArg(message, 'message', 'unwrap');
  const p = protection(context, 'DecryptMessage');
  const copy = Buffer.from(bytes);
  if (p.ntlm) {
    const n = Math.min(p.cbSecurityTrailer, copy.length);
    return [
      { BufferType: SECBUFFER.TOKEN, pvBuffer: copy.subarray(0, n) },
      { BufferType: SECBUFFER.DATA, pvBuffer: copy.subarray(n) },
    ];
  }
  return [{ BufferType: SECBUFFER.STREAM, pvBuffer: copy }, { BufferType: SECBUFFER.DATA }];
}

function unwrapped(context: SecurityContext, r: MessageQopResult, message: SecBuffer[]): UnwrapResult {
  check(r.status, 'DecryptMessage', { package: context.package });
  const data = message.find((b) => bufferType(b.BufferType) === SECBUFFER.DATA);
  const qop = r.qop >>> 0;
  // DATA points into unwrapBuffers' own copy of the message (decrypted in place): handed out, not copied.
  return { data: bytesOf(data), encrypted: (qop & SECQOP.WRAP_NO_ENCRYPT) !== SECQOP.WRAP_NO_ENCRYPT, qop };
}

/**
 * .NET's Unwrap: reads a message the peer's {@link wrap} (or EncryptMessage, or gss_wrap for
 * Kerberos) made, with [DecryptMessage](https://learn.microsoft.com/en-us/windows/win32/secauthn/decryptmessage--kerberos):
 * Kerberos as SECBUFFER_STREAM + SECBUFFER_DATA, NTLM as TOKEN (first cbSecurityTrailer bytes) + DATA.
 * Messages must be unwrapped in the order they were wrapped.
 * @param context - an established context.
 * @param message - the wrapped message (copied; not modified).
 * @returns `{ data, encrypted, qop }`; `data` is a Buffer over the library's own copy of the message
 *   (decrypted in place there), which nothing else holds.
 * @throws TypeError for wrong argument types; Error for a disposed or not yet established context;
 *   SspiError (`function: 'DecryptMessage'`): SEC_E_MESSAGE_ALTERED (tampered), SEC_E_OUT_OF_SEQUENCE
 *   (replayed, reordered or lost), SEC_E_INVALID_TOKEN (not a message of this package),
 *   SEC_E_INCOMPLETE_MESSAGE, SEC_E_DECRYPT_FAILURE, SEC_E_QOP_NOT_SUPPORTED, SEC_E_INVALID_HANDLE.
 */
export function unwrap(context: SecurityContext, message: Uint8Array): UnwrapResult {
  const buffers = unwrapBuffers(context, message);
  return unwrapped(context, DecryptMessage(context.handle, buffers, 0), buffers);
}

/** {@link unwrap} with DecryptMessage on the SSPI call queue. */
export async function unwrapAsync(context: SecurityContext, message: Uint8Array): Promise<UnwrapResult> {
  const buffers = unwrapBuffers(context, message);
  return unwrapped(context, await DecryptMessageAsync(context.handle, buffers, 0), buffers);
}

// ---- integrity checks ----

function signBuffers(context: SecurityContext, data: unknown): SecBuffer[] {
  const bytes = bytesArg(data, 'data', 'computeIntegrityCheck');
  const p = protection(context, 'MakeSignature');
  // MakeSignature only reads DATA: no copy (the synchronous call lends it to SSPI in place, the
  // asynchronous one copies it in the addon before it is queued; lib/raw/buffers.ts).
  return [{ BufferType: SECBUFFER.DATA, pvBuffer: bytes }, { BufferType: SECBUFFER.TOKEN, cbBuffer: p.cbMaxSignature }];
}

function signature(context: SecurityContext, status: number, message: SecBuffer[]): Buffer {
  check(status, 'MakeSignature', { package: context.package });
  return Buffer.from(bytesOf(message[1]));
}

/**
 * .NET's ComputeIntegrityCheck: a signature (MIC) over `data` with
 * [MakeSignature](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-makesignature)
 * (DATA, then a TOKEN of cbMaxSignature bytes). Send `data` and the signature; the peer checks them
 * with {@link verifyIntegrityCheck}, in the same order as they were signed.
 * @returns the signature, a new Buffer (Kerberos: 28 bytes for AES, NTLM: 16).
 * @throws TypeError, Error (disposed / not established), SspiError (`function: 'MakeSignature'`):
 *   SEC_E_QOP_NOT_SUPPORTED, SEC_E_CONTEXT_EXPIRED, SEC_E_INVALID_HANDLE.
 */
export function computeIntegrityCheck(context: SecurityContext, data: Uint8Array): Buffer {
  const message = signBuffers(context, data);
  return signature(context, MakeSignature(context.handle, 0, message, 0), message);
}

/** {@link computeIntegrityCheck} with MakeSignature on the SSPI call queue. */
export async function computeIntegrityCheckAsync(context: SecurityContext, data: Uint8Array): Promise<Buffer> {
  const message = signBuffers(context, data);
  return signature(context, await MakeSignatureAsync(context.handle, 0, message, 0), message);
}

function verifyBuffers(context: SecurityContext, data: unknown, sig: unknown): SecBuffer[] {
  const bytes = bytesArg(data, 'data', 'verifyIntegrityCheck');
  const s = bytesArg(sig, 'signature', 'verifyIntegrityCheck');
  protection(context, 'VerifySignature');
  // VerifySignature only reads both: no copies (see signBuffers).
  return [{ BufferType: SECBUFFER.DATA, pvBuffer: bytes }, { BufferType: SECBUFFER.TOKEN, pvBuffer: s }];
}

function verified(context: SecurityContext, r: MessageQopResult): true {
  check(r.status, 'VerifySignature', { package: context.package });
  return true;
}

/**
 * .NET's VerifyIntegrityCheck: checks the peer's {@link computeIntegrityCheck} signature over `data`
 * with [VerifySignature](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-verifysignature).
 * @returns true.
 * @throws TypeError, Error (disposed / not established), SspiError (`function: 'VerifySignature'`):
 *   SEC_E_MESSAGE_ALTERED (data or signature changed), SEC_E_OUT_OF_SEQUENCE (replayed, reordered or
 *   lost), SEC_E_INVALID_TOKEN, SEC_E_QOP_NOT_SUPPORTED, SEC_E_INVALID_HANDLE.
 */
export function verifyIntegrityCheck(context: SecurityContext, data: Uint8Array, signature: Uint8Array): true {
  return verified(context, VerifySignature(context.handle, verifyBuffers(context, data, signature), 0));
}

/** {@link verifyIntegrityCheck} with VerifySignature on the SSPI call queue. */
export async function verifyIntegrityCheckAsync(context: SecurityContext, data: Uint8Array, signature: Uint8Array): Promise<true> {
  return verified(context, await VerifySignatureAsync(context.handle, verifyBuffers(context, data, signature), 0));
}
