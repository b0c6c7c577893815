/**
 * MakeSignature, VerifySignature, EncryptMessage and DecryptMessage, raw (src-native/message.cc).
 *
 * Each function mirrors its SSPI call one to one with SSPI's argument order. pMessage is a
 * SecBufferDesc written back in place (see {@link SecBuffer}): the package writes the signature or
 * the security trailer into the caller's SECBUFFER_TOKEN, encrypts or decrypts the SECBUFFER_DATA
 * bytes in place, sets PADDING's cbBuffer, and, for a stream-mode DecryptMessage (a SECBUFFER_STREAM
 * holding the whole message and an empty SECBUFFER_DATA), points the DATA buffer's `pvBuffer` at the
 * plaintext inside the STREAM buffer's Uint8Array. Size the buffers from SECPKG_ATTR_SIZES
 * (cbMaxSignature, cbSecurityTrailer, cbBlockSize) or, for Schannel, SECPKG_ATTR_STREAM_SIZES.
 * None of these calls allocates memory for the caller.
 *
 * The SECURITY_STATUS is returned, never thrown; only JavaScript misuse throws (TypeError /
 * RangeError for wrong types, Error for a deleted CtxtHandle or one busy with a pending asynchronous
 * call). A CtxtHandle no InitializeSecurityContext / AcceptSecurityContext / ImportSecurityContext has
 * filled gives SEC_E_INVALID_HANDLE without reaching the package. Every `...Async` form runs on the
 * addon's SSPI call queue and rejects with an Error whose `code` is 'ERR_SSPI_QUEUE_FULL' when it is full.
 *
 * MessageSeqNo: Kerberos and NTLM keep their own sequence numbers for connection contexts and want 0
 * here; a datagram-mode (ISC_REQ_DATAGRAM) context uses the number given.
 * @packageDocumentation
 */
import { native } from '../native';
import { NativeDescResult, SecBufferDesc, snapshot, writeBack } from './buffers';
import { CtxtHandle } from './handles';

/** What VerifySignature / DecryptMessage return (pMessage is written back in place). */
export interface MessageQopResult {
  /** SECURITY_STATUS (unsigned 32-bit): SEC_E_OK, or a failure such as SEC_E_MESSAGE_ALTERED. */
  status: number;
  /**
   * pfQOP: the package's quality of protection bits for the message, e.g. SECQOP_WRAP_NO_ENCRYPT
   * (0x80000001) when DecryptMessage unwrapped a signed-only message. 0 when the package reports none.
   */
  qop: number;
}

interface NativeMessageResult {
  status: number;
  qop?: number;
  buffers: NativeDescResult | null;
}

interface MessageNative {
  makeSignature(ctx: CtxtHandle, qop: number, message: SecBufferDesc, seqNo: number, async: boolean): unknown;
  verifySignature(ctx: CtxtHandle, message: SecBufferDesc, seqNo: number, async: boolean): unknown;
  encryptMessage(ctx: CtxtHandle, qop: number, message: SecBufferDesc, seqNo: number, async: boolean): unknown;
  decryptMessage(ctx: CtxtHandle, message: SecBufferDesc, seqNo: number, async: boolean): unknown;
}

function n(): MessageNative {
  return native() as unknown as MessageNative;
}

function settle(snap: ReturnType<typeof snapshot>, r: NativeMessageResult): NativeMessageResult {
  writeBack(snap, r.buffers);
  return r;
}

function run(desc: SecBufferDesc, call: () => unknown): NativeMessageResult {
  const s = snapshot(desc);
  return settle(s, call() as NativeMessageResult);
}

async function runAsync(desc: SecBufferDesc, call: () => unknown): Promise<NativeMessageResult> {
  const s = snapshot(desc);
  return settle(s, await (call() as Promise<NativeMessageResult>));
}

const qopResult = (r: NativeMessageResult): MessageQopResult => ({ status: r.status, qop: r.qop ?? 0 });

/**
 * [MakeSignature](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-makesignature):
 * computes a signature (MIC) over the message's DATA buffers into its SECBUFFER_TOKEN buffer.
 * @param phContext - an established context.
 * @param fQOP - package-specific quality of protection; 0 for Kerberos, NTLM and Negotiate.
 * @param pMessage - `[{ BufferType: SECBUFFER.DATA, pvBuffer: data }, { BufferType: SECBUFFER.TOKEN,
 *   cbBuffer: sizes.cbMaxSignature }]` (DATA buffers may carry SECBUFFER_READONLY_WITH_CHECKSUM). The
 *   TOKEN buffer's cbBuffer comes back as the signature's length, its pvBuffer as the signature.
 * @param MessageSeqNo - 0 for connection contexts; the sequence number for datagram contexts.
 * @returns the SECURITY_STATUS: SEC_E_OK; SEC_E_INVALID_HANDLE, SEC_E_INVALID_TOKEN (no TOKEN buffer or
 *   one too small), SEC_E_QOP_NOT_SUPPORTED, SEC_E_NO_AUTHENTICATING_AUTHORITY (no security context),
 *   SEC_E_CONTEXT_EXPIRED, SEC_I_RENEGOTIATE.
 */
export function MakeSignature(phContext: CtxtHandle, fQOP: number, pMessage: SecBufferDesc, MessageSeqNo: number): number {
  return run(pMessage, () => n().makeSignature(phContext, fQOP, pMessage, MessageSeqNo, false)).status;
}

/** {@link MakeSignature} on the SSPI call queue; pMessage is written back when it resolves. */
export async function MakeSignatureAsync(phContext: CtxtHandle, fQOP: number, pMessage: SecBufferDesc, MessageSeqNo: number): Promise<number> {
  return (await runAsync(pMessage, () => n().makeSignature(phContext, fQOP, pMessage, MessageSeqNo, true))).status;
}

/**
 * [VerifySignature](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-verifysignature):
 * checks a signature made by the peer's {@link MakeSignature}.
 * @param pMessage - the DATA buffers as signed and a SECBUFFER_TOKEN holding the signature.
 * @param MessageSeqNo - 0 for connection contexts; the sequence number for datagram contexts.
 * @returns `{ status, qop }`: SEC_E_OK; SEC_E_MESSAGE_ALTERED (data or signature changed),
 *   SEC_E_OUT_OF_SEQUENCE (replayed, reordered or lost message), SEC_E_INVALID_TOKEN,
 *   SEC_E_INVALID_HANDLE, SEC_E_QOP_NOT_SUPPORTED, SEC_E_CONTEXT_EXPIRED.
 */
export function VerifySignature(phContext: CtxtHandle, pMessage: SecBufferDesc, MessageSeqNo: number): MessageQopResult {
  return qopResult(run(pMessage, () => n().verifySignature(phContext, pMessage, MessageSeqNo, false)));
}

/** {@link VerifySignature} on the SSPI call queue; pMessage is written back when it resolves. */
export async function VerifySignatureAsync(phContext: CtxtHandle, pMessage: SecBufferDesc, MessageSeqNo: number): Promise<MessageQopResult> {
  return qopResult(await runAsync(pMessage, () => n().verifySignature(phContext, pMessage, MessageSeqNo, true)));
}

/**
 * [EncryptMessage (General)](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-encryptmessage)
 * ([Kerberos](https://learn.microsoft.com/en-us/windows/win32/secauthn/encryptmessage--kerberos)):
 * encrypts the DATA buffers in place and writes the security trailer into the TOKEN buffer.
 * @param fQOP - 0, or SECQOP_WRAP_NO_ENCRYPT / KERB_WRAP_NO_ENCRYPT (0x80000001): checksum only, the
 *   data stays readable (Kerberos, NTLM).
 * @param pMessage - Kerberos/NTLM: `[{ TOKEN, cbBuffer: sizes.cbSecurityTrailer }, { DATA, pvBuffer },
 *   { PADDING, cbBuffer: sizes.cbBlockSize }]`; Schannel: STREAM_HEADER, DATA, STREAM_TRAILER, EMPTY
 *   sized from SECPKG_ATTR_STREAM_SIZES. cbBuffer of TOKEN and PADDING come back as what was written.
 * @param MessageSeqNo - 0 for connection contexts; the sequence number for datagram contexts.
 * @returns the SECURITY_STATUS: SEC_E_OK; SEC_E_BUFFER_TOO_SMALL, SEC_E_INVALID_TOKEN (no DATA buffer),
 *   SEC_E_INVALID_HANDLE, SEC_E_QOP_NOT_SUPPORTED, SEC_E_CONTEXT_EXPIRED, SEC_E_INSUFFICIENT_MEMORY,
 *   SEC_E_CRYPTO_SYSTEM_INVALID.
 */
export function EncryptMessage(phContext: CtxtHandle, fQOP: number, pMessage: SecBufferDesc, MessageSeqNo: number): number {
  return run(pMessage, () => n().encryptMessage(phContext, fQOP, pMessage, MessageSeqNo, false)).status;
}

/** {@link EncryptMessage} on the SSPI call queue; pMessage is written back when it resolves. */
export async function EncryptMessageAsync(phContext: CtxtHandle, fQOP: number, pMessage: SecBufferDesc, MessageSeqNo: number): Promise<number> {
  return (await runAsync(pMessage, () => n().encryptMessage(phContext, fQOP, pMessage, MessageSeqNo, true))).status;
}

/**
 * [DecryptMessage (General)](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-decryptmessage)
 * ([Kerberos](https://learn.microsoft.com/en-us/windows/win32/secauthn/decryptmessage--kerberos)):
 * decrypts and verifies a message made by the peer's {@link EncryptMessage}, in place.
 * @param pMessage - either the pieces as the sender laid them out (`[{ TOKEN: trailer }, { DATA:
 *   ciphertext }]`), or stream mode: `[{ BufferType: SECBUFFER.STREAM, pvBuffer: wholeMessage },
 *   { BufferType: SECBUFFER.DATA }]`, after which the DATA buffer's pvBuffer is a view of the plaintext
 *   inside the STREAM Uint8Array (Kerberos finds the token's length itself). Schannel: a DATA buffer
 *   with the record and three EMPTY buffers that become STREAM_HEADER, DATA, STREAM_TRAILER or EXTRA.
 * @returns `{ status, qop }` (qop SECQOP_WRAP_NO_ENCRYPT for a message that was only signed):
 *   SEC_E_OK; SEC_E_MESSAGE_ALTERED, SEC_E_OUT_OF_SEQUENCE, SEC_E_INCOMPLETE_MESSAGE (Schannel: more
 *   bytes needed, a SECBUFFER_MISSING count comes back), SEC_E_DECRYPT_FAILURE, SEC_E_INVALID_TOKEN,
 *   SEC_E_INVALID_HANDLE, SEC_E_QOP_NOT_SUPPORTED, SEC_I_CONTEXT_EXPIRED, SEC_I_RENEGOTIATE.
 */
export function DecryptMessage(phContext: CtxtHandle, pMessage: SecBufferDesc, MessageSeqNo: number): MessageQopResult {
  return qopResult(run(pMessage, () => n().decryptMessage(phContext, pMessage, MessageSeqNo, false)));
}

/** {@link DecryptMessage} on the SSPI call queue; pMessage is written back when it resolves. */
export async function DecryptMessageAsync(phContext: CtxtHandle, pMessage: SecBufferDesc, MessageSeqNo: number): Promise<MessageQopResult> {
  return qopResult(await runAsync(pMessage, () => n().decryptMessage(phContext, pMessage, MessageSeqNo, true)));
}
