/**
 * InitializeSecurityContextW, AcceptSecurityContext, CompleteAuthToken, ApplyControlToken,
 * ExportSecurityContext and ImportSecurityContextW, raw (src-native/contexts.cc).
 *
 * Each function mirrors its SSPI call one to one, with SSPI's argument order, minus the Reserved
 * arguments; phContext (in) and phNewContext (out) are one {@link CtxtHandle} object, empty before the
 * first call. SecBufferDescs are written back in place (see {@link SecBuffer}). The SECURITY_STATUS is
 * returned, never thrown, success or failure; only JavaScript misuse throws (TypeError / RangeError
 * for wrong types, Error for a deleted CtxtHandle or one busy with a pending asynchronous call).
 * Every `...Async` form runs on the addon's SSPI call queue (configureQueue) and rejects with an
 * Error whose `code` is 'ERR_SSPI_QUEUE_FULL' when it is full.
 * @packageDocumentation
 */
import { native } from '../native';
import { NativeDescResult, SecBufferDesc, snapshot, writeBack } from './buffers';
import { CredHandle, CtxtHandle } from './handles';

/** What InitializeSecurityContext / AcceptSecurityContext return (the buffers are written back in place). */
export interface SecurityContextResult {
  /** SECURITY_STATUS (unsigned 32-bit): SEC_E_OK, SEC_I_CONTINUE_NEEDED, SEC_I_COMPLETE_NEEDED, ..., or a failure. */
  status: number;
  /** pfContextAttr: ISC_RET_* (client) or ASC_RET_* (server) bits. */
  contextAttr: number;
  /**
   * ptsExpiry: 100-ns intervals since 1601-01-01 (local time for Microsoft's Kerberos). Packages may
   * report a provisional value before the last call.
   */
  expiry: bigint;
}

interface NativeStepResult extends SecurityContextResult {
  input: NativeDescResult | null;
  output: NativeDescResult | null;
}

interface ContextsNative {
  initializeSecurityContext(cred: CredHandle | null, ctx: CtxtHandle, target: string | null, req: number, rep: number,
    input: SecBufferDesc | null, output: SecBufferDesc | null, async: boolean): unknown;
  acceptSecurityContext(cred: CredHandle, ctx: CtxtHandle, input: SecBufferDesc | null, req: number, rep: number,
    output: SecBufferDesc | null, async: boolean): unknown;
  completeAuthToken(ctx: CtxtHandle, token: SecBufferDesc, async: boolean): unknown;
  applyControlToken(ctx: CtxtHandle, input: SecBufferDesc, async: boolean): unknown;
  exportSecurityContext(ctx: CtxtHandle, flags: number, async: boolean): unknown;
  importSecurityContext(pkg: string, packed: Uint8Array, ctx: CtxtHandle, async: boolean): unknown;
}

function n(): ContextsNative {
  return native() as unknown as ContextsNative;
}

function stepResult(r: NativeStepResult, input: ReturnType<typeof snapshot>, output: ReturnType<typeof snapshot>): SecurityContextResult {
  writeBack(input, r.input);
  writeBack(output, r.output);
  return { status: r.status, contextAttr: r.contextAttr, expiry: r.expiry };
}

/**
 * [InitializeSecurityContextW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-initializesecuritycontextw)
 * on the calling thread (Kerberos may wait for the KDC: prefer the Async form on a server).
 * @param phCredential - outbound credentials, or null where the package allows (Schannel continuations).
 * @param phContext - an empty CtxtHandle on the first call, the same object on later ones.
 * @param pszTargetName - the SPN ('HTTP/host.example.com'), a host name for Schannel, or null.
 * @param fContextReq - ISC_REQ_* bits. With ISC_REQ_ALLOCATE_MEMORY, output buffers given with no
 *   pvBuffer and cbBuffer 0 are allocated by the package; the addon copies them into new Buffers and
 *   frees them with FreeContextBuffer inside the call, also after a failure.
 * @param TargetDataRep - SECURITY_NATIVE_DREP (0x10) or SECURITY_NETWORK_DREP (0).
 * @param pInput - input SecBuffers (the server's token, SECBUFFER_CHANNEL_BINDINGS, an EMPTY buffer for
 *   Schannel's EXTRA, ...), or null on the first call. SECBUFFER_EXTRA / SECBUFFER_MISSING come back here.
 * @param pOutput - output SecBuffers (a SECBUFFER_TOKEN of cbMaxToken bytes, SECBUFFER_ALERT, ...), or null.
 *   The token and any alert come back here, after a failure too.
 * @returns `{ status, contextAttr, expiry }`; statuses as Microsoft documents them for the package:
 *   SEC_E_OK, SEC_I_CONTINUE_NEEDED, SEC_I_COMPLETE_NEEDED, SEC_I_COMPLETE_AND_CONTINUE,
 *   SEC_I_INCOMPLETE_CREDENTIALS, SEC_E_INCOMPLETE_MESSAGE, SEC_E_INVALID_TOKEN, SEC_E_LOGON_DENIED,
 *   SEC_E_TARGET_UNKNOWN, SEC_E_NO_CREDENTIALS, SEC_E_BUFFER_TOO_SMALL, SEC_E_INSUFFICIENT_MEMORY, ...
 */
export function InitializeSecurityContext(phCredential: CredHandle | null, phContext: CtxtHandle, pszTargetName: string | null,
  fContextReq: number, TargetDataRep: number, pInput: SecBufferDesc | null, pOutput: SecBufferDesc | null): SecurityContextResult {
  const i = snapshot(pInput), o = snapshot(pOutput);
  const r = n().initializeSecurityContext(phCredential, phContext, pszTargetName, fContextReq, TargetDataRep, pInput, pOutput, false);
  return stepResult(r as NativeStepResult, i, o);
}

/** {@link InitializeSecurityContext} on the SSPI call queue; the buffers are written back when it resolves. */
export async function InitializeSecurityContextAsync(phCredential: CredHandle | null, phContext: CtxtHandle, pszTargetName: string | null,
  fContextReq: number, TargetDataRep: number, pInput: SecBufferDesc | null, pOutput: SecBufferDesc | null): Promise<SecurityContextResult> {
  const i = snapshot(pInput), o = snapshot(pOutput);
  const r = await (n().initializeSecurityContext(phCredential, phContext, pszTargetName, fContextReq, TargetDataRep, pInput, pOutput, true) as Promise<NativeStepResult>);
  return stepResult(r, i, o);
}

/**
 * [AcceptSecurityContext](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-acceptsecuritycontext)
 * on the calling thread (prefer the Async form on a server).
 * @param phCredential - inbound credentials.
 * @param phContext - an empty CtxtHandle on the first call, the same object on later ones.
 * @param pInput - the client's token (SECBUFFER_TOKEN) and any other input buffers
 *   (SECBUFFER_CHANNEL_BINDINGS, SECBUFFER_EMPTY for Schannel's EXTRA), or null.
 * @param fContextReq - ASC_REQ_* bits (ASC_REQ_ALLOCATE_MEMORY as for ISC).
 * @param TargetDataRep - SECURITY_NATIVE_DREP (0x10) or SECURITY_NETWORK_DREP (0).
 * @param pOutput - output SecBuffers, or null.
 * @returns `{ status, contextAttr, expiry }`: SEC_E_OK, SEC_I_CONTINUE_NEEDED, SEC_I_COMPLETE_NEEDED,
 *   SEC_I_COMPLETE_AND_CONTINUE, SEC_E_INCOMPLETE_MESSAGE, SEC_E_INVALID_TOKEN, SEC_E_LOGON_DENIED,
 *   SEC_E_NO_AUTHENTICATING_AUTHORITY, SEC_E_BAD_BINDINGS, SEC_E_BUFFER_TOO_SMALL, ...
 */
export function AcceptSecurityContext(phCredential: CredHandle, phContext: CtxtHandle, pInput: SecBufferDesc | null,
  fContextReq: number, TargetDataRep: number, pOutput: SecBufferDesc | null): SecurityContextResult {
  const i = snapshot(pInput), o = snapshot(pOutput);
  const r = n().acceptSecurityContext(phCredential, phContext, pInput, fContextReq, TargetDataRep, pOutput, false);
  return stepResult(r as NativeStepResult, i, o);
}

/** {@link AcceptSecurityContext} on the SSPI call queue; the buffers are written back when it resolves. */
export async function AcceptSecurityContextAsync(phCredential: CredHandle, phContext: CtxtHandle, pInput: SecBufferDesc | null,
  fContextReq: number, TargetDataRep: number, pOutput: SecBufferDesc | null): Promise<SecurityContextResult> {
  const i = snapshot(pInput), o = snapshot(pOutput);
  const r = await (n().acceptSecurityContext(phCredential, phContext, pInput, fContextReq, TargetDataRep, pOutput, true) as Promise<NativeStepResult>);
  return stepResult(r, i, o);
}

interface NativeBuffersResult {
  status: number;
  buffers: NativeDescResult | null;
}

function buffersCall(desc: SecBufferDesc, call: () => unknown): number {
  const s = snapshot(desc);
  const r = call() as NativeBuffersResult;
  writeBack(s, r.buffers);
  return r.status;
}

async function buffersCallAsync(desc: SecBufferDesc, call: () => unknown): Promise<number> {
  const s = snapshot(desc);
  const r = await (call() as Promise<NativeBuffersResult>);
  writeBack(s, r.buffers);
  return r.status;
}

/**
 * [CompleteAuthToken](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-completeauthtoken):
 * after SEC_I_COMPLETE_NEEDED / SEC_I_COMPLETE_AND_CONTINUE, completes the output buffers the last
 * InitializeSecurityContext / AcceptSecurityContext produced, in place: pass that same pOutput array,
 * and send its token afterwards.
 * @returns the SECURITY_STATUS: SEC_E_OK; SEC_E_INVALID_HANDLE (also for a CtxtHandle no call has
 *   filled), SEC_E_INVALID_TOKEN, SEC_E_UNSUPPORTED_FUNCTION (packages that never ask for it).
 */
export function CompleteAuthToken(phContext: CtxtHandle, pToken: SecBufferDesc): number {
  return buffersCall(pToken, () => n().completeAuthToken(phContext, pToken, false));
}

/** {@link CompleteAuthToken} on the SSPI call queue. */
export function CompleteAuthTokenAsync(phContext: CtxtHandle, pToken: SecBufferDesc): Promise<number> {
  return buffersCallAsync(pToken, () => n().completeAuthToken(phContext, pToken, true));
}

/**
 * [ApplyControlToken](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-applycontroltoken):
 * gives the context a control token (Schannel: SCHANNEL_SHUTDOWN in a SECBUFFER_TOKEN before the close
 * notify, SCHANNEL_ALERT_TOKEN, SCHANNEL_SESSION_TOKEN). The buffers are written back in place.
 * @returns the SECURITY_STATUS: SEC_E_OK; SEC_E_INVALID_HANDLE, SEC_E_INVALID_TOKEN,
 *   SEC_E_UNSUPPORTED_FUNCTION (Kerberos, NTLM: they take no control tokens).
 */
export function ApplyControlToken(phContext: CtxtHandle, pInput: SecBufferDesc): number {
  return buffersCall(pInput, () => n().applyControlToken(phContext, pInput, false));
}

/** {@link ApplyControlToken} on the SSPI call queue. */
export function ApplyControlTokenAsync(phContext: CtxtHandle, pInput: SecBufferDesc): Promise<number> {
  return buffersCallAsync(pInput, () => n().applyControlToken(phContext, pInput, true));
}

/** What ExportSecurityContext returns. */
export interface ExportSecurityContextResult {
  status: number;
  /**
   * pPackedContext on SEC_E_OK: the serialized context, a new Buffer the caller owns. It holds the
   * context's session keys: keep it secret and wipe it (`fill(0)`) after {@link ImportSecurityContext}.
   * The addon's copy and the package's buffer (FreeContextBuffer) are wiped and freed inside the call.
   */
  packedContext?: Buffer;
}

/**
 * [ExportSecurityContext](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-exportsecuritycontext):
 * serializes a context for {@link ImportSecurityContext} in another process. pToken is not requested
 * (NULL): the raw layer does not hand out the context's token handle here.
 * @param fFlags - SECPKG_CONTEXT_EXPORT_RESET_NEW (1), SECPKG_CONTEXT_EXPORT_DELETE_OLD (2), or 0.
 * @returns `{ status, packedContext? }`: SEC_E_OK; SEC_E_INVALID_HANDLE (also for an empty CtxtHandle),
 *   SEC_E_UNSUPPORTED_FUNCTION, SEC_E_INSUFFICIENT_MEMORY.
 */
export function ExportSecurityContext(phContext: CtxtHandle, fFlags: number): ExportSecurityContextResult {
  return n().exportSecurityContext(phContext, fFlags, false) as ExportSecurityContextResult;
}

/** {@link ExportSecurityContext} on the SSPI call queue. */
export function ExportSecurityContextAsync(phContext: CtxtHandle, fFlags: number): Promise<ExportSecurityContextResult> {
  return n().exportSecurityContext(phContext, fFlags, true) as Promise<ExportSecurityContextResult>;
}

/**
 * [ImportSecurityContextW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-importsecuritycontextw):
 * makes a context from {@link ExportSecurityContext}'s packed bytes. The Token argument is NULL.
 * @param pszPackage - the package that exported the context.
 * @param pPackedContext - the packed context (copied in; the addon's copy is wiped after the call).
 * @param phContext - a new, empty CtxtHandle; on SEC_E_OK it holds the imported context.
 * @returns the SECURITY_STATUS: SEC_E_OK; SEC_E_UNKNOWN_CREDENTIALS, SEC_E_INVALID_TOKEN,
 *   SEC_E_UNSUPPORTED_FUNCTION, SEC_E_INSUFFICIENT_MEMORY.
 * @throws Error when phContext already holds a context.
 */
export function ImportSecurityContext(pszPackage: string, pPackedContext: Uint8Array, phContext: CtxtHandle): number {
  return (n().importSecurityContext(pszPackage, pPackedContext, phContext, false) as { status: number }).status;
}

/** {@link ImportSecurityContext} on the SSPI call queue. */
export async function ImportSecurityContextAsync(pszPackage: string, pPackedContext: Uint8Array, phContext: CtxtHandle): Promise<number> {
  return (await (n().importSecurityContext(pszPackage, pPackedContext, phContext, true) as Promise<{ status: number }>)).status;
}
