import { ASC_REQ, ISC_REQ, SECBUFFER, SECPKG_ATTR, SECURITY_DREP, SECURITY_STATUS } from './constants';
import { Credentials } from './credentials';
import { disposeSymbol } from './disposable';
import { check, isSuccess, SspiError, statusName } from './errors';
import { native, NativeContextResult, NativeCtxtHandle, SecBufferIn, SecBufferOut, SecBufferOutSpec, SecPkgInfo } from './native';
import { flags, maskOf, optionalBoolean, optionalString, optionsObject, own } from './options';
import { timeStampToDate } from './time';
import { AccessToken, impersonateContext } from './token';

/** What one handshake step produced. */
export interface StepResult {
  /** The SECURITY_STATUS, after CompleteAuthToken where the package asked for it. */
  status: number;
  /** Its name: 'SEC_E_OK', 'SEC_I_CONTINUE_NEEDED', ... */
  code: string;
  /** The output token to send to the peer, if the package produced one. */
  token: Buffer | undefined;
  /** True when the context is established (SEC_E_OK) on this side. */
  complete: boolean;
  /** pfContextAttr: ISC_RET_* (client) or ASC_RET_* (server) bits. Some packages report 0 until complete. */
  contextAttr: number;
}

/** SecPkgContext_Sizes (bytes). */
export interface SecPkgContextSizes {
  cbMaxToken: number;
  cbMaxSignature: number;
  cbBlockSize: number;
  cbSecurityTrailer: number;
}

/** SecPkgContext_NegotiationInfoW: the package Negotiate chose, and the negotiation state. */
export interface SecPkgContextNegotiationInfo {
  PackageInfo: SecPkgInfo | null;
  /** SECPKG_NEGOTIATION_* */
  NegotiationState: number;
}

/** SecPkgContext_KeyInfoW. */
export interface SecPkgContextKeyInfo {
  sSignatureAlgorithmName: string | null;
  sEncryptAlgorithmName: string | null;
  KeySize: number;
  SignatureAlgorithm: number;
  EncryptAlgorithm: number;
}

/** SecPkgContext_Lifespan: TimeStamps (100-ns intervals since 1601-01-01). */
export interface SecPkgContextLifespan {
  tsStart: bigint;
  tsExpiry: bigint;
}

/** SecPkgContext_NativeNamesW. */
export interface SecPkgContextNativeNames {
  sClientName: string | null;
  sServerName: string | null;
}

/** SecPkgContext_StreamSizes (bytes). */
export interface SecPkgContextStreamSizes {
  cbHeader: number;
  cbTrailer: number;
  cbMaximumMessage: number;
  cBuffers: number;
  cbBlockSize: number;
}

/** The structure each SECPKG_ATTR_* query returns (only those this binding supports so far). */
export interface ContextAttributeMap {
  [SECPKG_ATTR.SIZES]: SecPkgContextSizes;
  [SECPKG_ATTR.NAMES]: { sUserName: string | null };
  [SECPKG_ATTR.LIFESPAN]: SecPkgContextLifespan;
  [SECPKG_ATTR.STREAM_SIZES]: SecPkgContextStreamSizes;
  [SECPKG_ATTR.KEY_INFO]: SecPkgContextKeyInfo;
  [SECPKG_ATTR.AUTHORITY]: { sAuthorityName: string | null };
  [SECPKG_ATTR.PACKAGE_INFO]: { PackageInfo: SecPkgInfo | null };
  [SECPKG_ATTR.NEGOTIATION_INFO]: SecPkgContextNegotiationInfo;
  [SECPKG_ATTR.NATIVE_NAMES]: SecPkgContextNativeNames;
  [SECPKG_ATTR.FLAGS]: { Flags: number };
}

export type SupportedContextAttribute = keyof ContextAttributeMap;

interface ContextCommon {
  /** TargetDataRep: SECURITY_DREP.NATIVE (default) or NETWORK; any other number is a RangeError. */
  targetDataRep?: SECURITY_DREP;
  /**
   * Let the package allocate output tokens (ISC_REQ_ALLOCATE_MEMORY / ASC_REQ_ALLOCATE_MEMORY; the
   * addon copies and FreeContextBuffer()s them). Default false: the addon supplies a buffer of the
   * package's cbMaxToken bytes, which every package accepts.
   */
  allocateMemory?: boolean;
}

/** Options of {@link ClientContext}. */
export interface ClientContextOptions extends ContextCommon {
  /**
   * pszTargetName: the service principal name, e.g. 'HTTP/www.example.com'. Required for Kerberos
   * and for Negotiate to choose Kerberos; NTLM ignores it.
   */
  targetName?: string;
  /**
   * fContextReq: ISC_REQ_* bits, an integer 0..0xFFFFFFFF (RangeError for other numbers or for bits
   * sspi.h defines no ISC_REQ_* flag for). Default {@link DEFAULT_ISC_REQ}.
   */
  contextReq?: number;
}

/** Options of {@link ServerContext}. */
export interface ServerContextOptions extends ContextCommon {
  /**
   * fContextReq: ASC_REQ_* bits, an integer 0..0xFFFFFFFF (RangeError for other numbers or for bits
   * sspi.h defines no ASC_REQ_* flag for). Default {@link DEFAULT_ASC_REQ}.
   */
  contextReq?: number;
}

/** Default client request: mutual authentication, replay and sequence detection, integrity, confidentiality. */
export const DEFAULT_ISC_REQ =
  ISC_REQ.MUTUAL_AUTH | ISC_REQ.REPLAY_DETECT | ISC_REQ.SEQUENCE_DETECT | ISC_REQ.CONFIDENTIALITY | ISC_REQ.INTEGRITY | ISC_REQ.CONNECTION;

/** Default server request: replay and sequence detection, integrity, confidentiality, connection semantics. */
export const DEFAULT_ASC_REQ =
  ASC_REQ.REPLAY_DETECT | ASC_REQ.SEQUENCE_DETECT | ASC_REQ.CONFIDENTIALITY | ASC_REQ.INTEGRITY | ASC_REQ.CONNECTION;

const ALLOCATE_MEMORY = ISC_REQ.ALLOCATE_MEMORY; // == ASC_REQ.ALLOCATE_MEMORY (0x100)

/** Every ISC_REQ_* bit sspi.h defines (lib/constants.ts, checked against the header). */
const ISC_REQ_MASK = maskOf(ISC_REQ as unknown as Record<string, number>);
/** Every ASC_REQ_* bit sspi.h defines. */
const ASC_REQ_MASK = maskOf(ASC_REQ as unknown as Record<string, number>);

/** The options both sides share, checked (own properties only). */
interface CommonParsed {
  contextReq: number;
  targetDataRep: number;
  allocateMemory: boolean;
}

function parseCommon(options: Record<string, unknown>, side: 'ISC_REQ' | 'ASC_REQ', defaultReq: number): CommonParsed {
  const req = own(options, 'contextReq');
  const contextReq = req === undefined ? defaultReq : flags(req, side === 'ISC_REQ' ? ISC_REQ_MASK : ASC_REQ_MASK, 'options.contextReq', `${side}_*`);
  const rep = own(options, 'targetDataRep');
  let targetDataRep: number = SECURITY_DREP.NATIVE;
  if (rep !== undefined) {
    if (typeof rep !== 'number') throw new TypeError('options.targetDataRep must be SECURITY_DREP.NATIVE or SECURITY_DREP.NETWORK');
    if (rep !== SECURITY_DREP.NATIVE && rep !== SECURITY_DREP.NETWORK) {
      throw new RangeError(`options.targetDataRep must be SECURITY_DREP.NATIVE (0x10) or SECURITY_DREP.NETWORK (0), not ${rep}`);
    }
    targetDataRep = rep;
  }
  const allocateMemory = optionalBoolean(options, 'allocateMemory', 'options.allocateMemory') ?? false;
  return { contextReq, targetDataRep, allocateMemory };
}

function checkToken(token: unknown): Uint8Array | undefined {
  if (token === undefined || token === null) return undefined;
  if (!(token instanceof Uint8Array)) throw new TypeError('token must be a Buffer or Uint8Array');
  return token;
}

/**
 * A security context (CtxtHandle) being established or established: the common part of
 * {@link ClientContext} and {@link ServerContext}.
 *
 * One call at a time: a second step() while one is pending throws. Free with
 * {@link SecurityContext.dispose} or `using`; the finalizer calls DeleteSecurityContext otherwise.
 */
export abstract class SecurityContext {
  /** The native CtxtHandle; empty until the first step creates the context. */
  readonly handle: NativeCtxtHandle;
  /** The credentials the context was created with. */
  readonly credentials: Credentials;
  /** True once a step returned SEC_E_OK. */
  complete = false;
  /** pfContextAttr of the last step. */
  contextAttr = 0;
  /**
   * ptsExpiry of the step that established the context (SEC_E_OK), as SSPI returned it: 100-ns
   * intervals since 1601-01-01, local time; 0n before.
   */
  expiryTimeStamp = 0n;
  /**
   * ptsExpiry of the step that established the context, as an instant (converted from local time
   * when the step returned; see {@link timeStampToDate}); null before, for "never", or when the
   * package does not report it (Wine's NTLM).
   */
  expiry: Date | null = null;
  /** fContextReq as passed to every step (ISC_REQ_* or ASC_REQ_* bits). */
  readonly contextReq: number;
  /** TargetDataRep (SECURITY_DREP). */
  readonly targetDataRep: number;
  private readonly fn: string;
  private disposedFlag = false;

  protected constructor(credentials: Credentials, fn: string, common: CommonParsed) {
    if (!(credentials instanceof Credentials)) throw new TypeError('credentials must be a Credentials object');
    this.credentials = credentials;
    this.fn = fn;
    this.contextReq = (common.allocateMemory ? common.contextReq | ALLOCATE_MEMORY : common.contextReq) >>> 0;
    this.targetDataRep = common.targetDataRep;
    this.handle = new (native().CtxtHandle)();
  }

  /** The package name the credentials were acquired for. */
  get package(): string {
    return this.credentials.package;
  }

  /** True once disposed. */
  get disposed(): boolean {
    return this.disposedFlag;
  }

  /** The SSPI call itself: a promise when `async`, the result otherwise. */
  protected abstract invoke(input: SecBufferIn[] | null, output: SecBufferOutSpec[], async: boolean): NativeContextResult | Promise<NativeContextResult>;

  /**
   * What JSON.stringify shows: package, side, target name, state, pfContextAttr and expiry (ISO 8601
   * or null); never the handle or any token.
   */
  toJSON(): Record<string, unknown> {
    return {
      package: this.package,
      function: this.fn,
      complete: this.complete,
      contextAttr: this.contextAttr,
      expiry: this.expiry?.toISOString() ?? null,
      disposed: this.disposedFlag,
    };
  }

  private prepare(token: unknown): [SecBufferIn[] | null, SecBufferOutSpec[]] {
    if (this.disposedFlag) throw new Error(`${this.fn}: the context has been disposed`);
    if (this.complete) throw new Error(`${this.fn}: the context is already established; nothing more to exchange`);
    const bytes = checkToken(token);
    const input = bytes ? [{ type: SECBUFFER.TOKEN, buffer: bytes }] : null;
    return [input, [{ type: SECBUFFER.TOKEN, size: this.outputSize() }]];
  }

  /** cbBuffer of the output token buffer supplied to each step: cbMaxToken, or 0 when the package allocates. */
  private outputSize(): number {
    return this.contextReq & ALLOCATE_MEMORY ? 0 : this.credentials.maxTokenSize;
  }

  private finish(r: NativeContextResult): StepResult {
    let status = r.status >>> 0;
    // The output descriptor is the one SECBUFFER_TOKEN buffer prepare() supplied; its bytes are the
    // token whatever BufferType the package leaves on it (Wine's NTLM server relabels it
    // SECBUFFER_DATA), as in the C callers that read back the SecBuffer they passed.
    const out = r.output[0];
    if (status === SECURITY_STATUS.SEC_I_COMPLETE_NEEDED || status === SECURITY_STATUS.SEC_I_COMPLETE_AND_CONTINUE) {
      // The package wants CompleteAuthToken on the output token before it is sent (DCE-style / Digest).
      const token = [{ type: out.type, buffer: out.buffer ?? Buffer.alloc(0) }];
      check(native().completeAuthToken(this.handle, token), 'CompleteAuthToken', { package: this.package });
      status = status === SECURITY_STATUS.SEC_I_COMPLETE_NEEDED ? SECURITY_STATUS.SEC_E_OK : SECURITY_STATUS.SEC_I_CONTINUE_NEEDED;
    }
    if (!isSuccess(status)) {
      throw stepError(status, this.fn, this.package, r, this.outputSize());
    }
    this.contextAttr = r.contextAttr >>> 0;
    this.complete = status === SECURITY_STATUS.SEC_E_OK;
    if (this.complete) {
      // Only the final call's ptsExpiry counts: "Until the last call of the authentication process,
      // the expiration time for the context can be incorrect because more information will be
      // provided during later stages of the negotiation"
      // (https://learn.microsoft.com/en-us/windows/win32/secauthn/acceptsecuritycontext--kerberos).
      this.expiryTimeStamp = r.expiry;
      this.expiry = timeStampToDate(r.expiry, { at: new Date() });
    }
    const token = out.buffer && out.buffer.length > 0 ? out.buffer : undefined;
    return { status, code: statusName(status), token, complete: this.complete, contextAttr: this.contextAttr };
  }

  /**
   * One handshake step, off the JavaScript thread: feeds the peer's token (none on a client's first
   * step) and returns the token to send back.
   *
   * Calls [InitializeSecurityContextW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-initializesecuritycontextw) (client) or
   * [AcceptSecurityContext](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-acceptsecuritycontext) (server) on the
   * addon's SSPI call queue ({@link configureQueue}), then [CompleteAuthToken](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-completeauthtoken) when the package returns
   * SEC_I_COMPLETE_NEEDED / SEC_I_COMPLETE_AND_CONTINUE.
   * The output token is a new Buffer the caller owns; package memory is freed inside the call.
   * @param token - the peer's token (bytes), or undefined.
   * @rejects TypeError for a token that is not a Buffer/Uint8Array; Error if the context is disposed,
   *   already complete, or busy with another call (the promise rejects; nothing is thrown synchronously).
   * @rejects Error with `code` 'ERR_SSPI_QUEUE_FULL' ({@link isQueueFull}) when the SSPI call queue is
   *   full: no SSPI call was made and the context is unchanged, so the step may be retried.
   * @rejects SspiError (`function` 'InitializeSecurityContext' / 'AcceptSecurityContext'); its
   *   `token` holds the output token the package produced with the failure (a KRB-ERROR, a SPNEGO
   *   reject, a TLS alert), which belongs to the peer, and `contextAttr` the pfContextAttr returned:
   *   SEC_E_LOGON_DENIED (bad user or password), SEC_E_INVALID_TOKEN, SEC_E_TARGET_UNKNOWN
   *   (no such SPN), SEC_E_NO_CREDENTIALS, SEC_E_WRONG_PRINCIPAL, SEC_E_TIME_SKEW,
   *   SEC_E_INTERNAL_ERROR, SEC_E_NO_AUTHENTICATING_AUTHORITY, SEC_E_INCOMPLETE_MESSAGE, ...
   */
  async step(token?: Uint8Array): Promise<StepResult> {
    const [input, output] = this.prepare(token);
    return this.finish(await this.invoke(input, output, true));
  }

  /**
   * {@link SecurityContext.step} on the calling thread: same SSPI calls, arguments, ownership and
   * errors (thrown synchronously: TypeError, Error, SspiError with its `token`), but it blocks the
   * event loop while Kerberos talks to the KDC.
   */
  stepSync(token?: Uint8Array): StepResult {
    const [input, output] = this.prepare(token);
    return this.finish(this.invoke(input, output, false) as NativeContextResult);
  }

  /**
   * Queries one context attribute.
   *
   * Calls [QueryContextAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycontextattributesw);
   * strings and structures the package allocates are copied and freed with FreeContextBuffer inside.
   * @param attribute - a supported SECPKG_ATTR_* value; the result type follows it.
   * @throws RangeError for an attribute this binding does not marshal yet.
   * @throws SspiError (`function: 'QueryContextAttributes'`): SEC_E_INVALID_HANDLE before the first
   *   step, SEC_E_UNSUPPORTED_FUNCTION when the package does not provide the attribute.
   */
  queryAttribute<A extends SupportedContextAttribute>(attribute: A): ContextAttributeMap[A] {
    if (this.disposedFlag) throw new Error('QueryContextAttributes: the context has been disposed');
    const r = native().queryContextAttributes(this.handle, attribute);
    check(r.status, 'QueryContextAttributes', { package: this.package, detail: `querying SECPKG_ATTR_${SECPKG_ATTR[attribute]}` });
    return r.value as unknown as ContextAttributeMap[A];
  }

  /**
   * SECPKG_ATTR_SIZES: cbMaxToken, cbMaxSignature, cbBlockSize, cbSecurityTrailer (bytes), via
   * [QueryContextAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycontextattributesw).
   * @throws SspiError SEC_E_INVALID_HANDLE before the first step; SEC_E_UNSUPPORTED_FUNCTION.
   */
  sizes(): SecPkgContextSizes {
    return this.queryAttribute(SECPKG_ATTR.SIZES);
  }

  /**
   * SECPKG_ATTR_NAMES via [QueryContextAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycontextattributesw): on a server, the
   * authenticated client ('DOMAIN\\user'); on a client, the user the credentials belong to. The
   * string the package allocates is copied and freed with FreeContextBuffer inside the call.
   * @throws SspiError SEC_E_UNSUPPORTED_FUNCTION where the package cannot say (Wine's secur32 never can).
   */
  userName(): string {
    return this.queryAttribute(SECPKG_ATTR.NAMES).sUserName ?? '';
  }

  /**
   * SECPKG_ATTR_NEGOTIATION_INFO via [QueryContextAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycontextattributesw): for
   * Negotiate, the package it chose ('Kerberos' or 'NTLM') and the SECPKG_NEGOTIATION_* state. The
   * SecPkgInfo the package allocates is copied and freed inside the call.
   * @throws SspiError SEC_E_INVALID_HANDLE before the first step; SEC_E_UNSUPPORTED_FUNCTION.
   */
  negotiationInfo(): SecPkgContextNegotiationInfo {
    return this.queryAttribute(SECPKG_ATTR.NEGOTIATION_INFO);
  }

  /**
   * Deletes the context ([DeleteSecurityContext](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-deletesecuritycontext)).
   * Idempotent; during a pending step the delete happens when the step ends.
   * @throws SspiError if DeleteSecurityContext fails (SEC_E_INVALID_HANDLE).
   */
  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    const status = this.handle.delete();
    if (status !== undefined) check(status, 'DeleteSecurityContext', { package: this.package });
  }

  [disposeSymbol](): void {
    this.dispose();
  }

  /**
   * The client's access token of an established server context (QuerySecurityContextToken); see
   * {@link AccessToken}. The caller disposes it.
   * @throws SspiError SEC_E_UNSUPPORTED_FUNCTION (Wine's secur32), SEC_E_INVALID_HANDLE; Error once disposed.
   */
  accessToken(): AccessToken {
    return AccessToken.ofContext(this.handle, this.package);
  }

  /**
   * Runs `fn` synchronously as the client of this server context and reverts in every case
   * (ImpersonateSecurityContext / RevertSecurityContext in one native call); see {@link impersonateContext}.
   * @throws TypeError if fn returns a promise; SspiError SEC_E_UNSUPPORTED_FUNCTION (Wine's secur32).
   */
  impersonate<T>(fn: () => T): T {
    return impersonateContext(this.handle, fn, this.package);
  }
}

/**
 * The output token a failing ISC/ASC produced, if any. The AcceptSecurityContext pages say of pOutput
 * "Any buffer generated must be sent back to the client application"
 * (https://learn.microsoft.com/en-us/windows/win32/secauthn/acceptsecuritycontext--general), and
 * ISC_REQ_EXTENDED_ERROR / ASC_REQ_EXTENDED_ERROR exist so that "When errors occur, the remote party
 * will be notified" — by such a token (Kerberos KRB-ERROR, SPNEGO reject, TLS alert).
 *
 * With a caller-supplied buffer (the default) a package that produced nothing may leave cbBuffer as
 * supplied: measured, Wine's Kerberos returns SEC_E_INVALID_TOKEN with cbBuffer still 12000 and the
 * bytes untouched. Those are not a token. A token is what the package wrote: 0 < cbBuffer < the size
 * supplied (no package's token fills its whole cbMaxToken), or any non-empty buffer the package
 * allocated (ISC_REQ_ALLOCATE_MEMORY / ASC_REQ_ALLOCATE_MEMORY, supplied size 0).
 */
export function failureToken(output: SecBufferOut | undefined, supplied: number): Buffer | undefined {
  if (!output || !output.buffer || output.size === 0) return undefined;
  if (supplied > 0 && output.size >= supplied) return undefined;
  return output.buffer.length === output.size ? output.buffer : output.buffer.subarray(0, output.size);
}

function stepError(status: number, fn: string, pkg: string, r: NativeContextResult, supplied: number): SspiError {
  // On SEC_E_INCOMPLETE_MESSAGE, SSPI says in a SECBUFFER_MISSING how many more bytes it needs.
  const missing = r.input.find((b) => (b.type & 0x0fffffff) === SECBUFFER.MISSING);
  return new SspiError(status, fn, {
    package: pkg,
    detail: 'processing the security token',
    missingBytes: missing?.size,
    token: failureToken(r.output[0], supplied),
    contextAttr: r.contextAttr >>> 0,
  });
}

/**
 * The client side of a handshake (InitializeSecurityContext).
 *
 * ```ts
 * using cred = await Credentials.acquire({ package: 'Negotiate' });
 * using client = new ClientContext(cred, { targetName: 'HTTP/www.example.com' });
 * const first = await client.step();           // token for the server
 * ```
 */
export class ClientContext extends SecurityContext {
  /** pszTargetName, as given. */
  readonly targetName: string | undefined;

  /**
   * @param credentials - outbound credentials ({@link Credentials.acquire} with use 'outbound' or 'both').
   * @param options - target SPN, ISC_REQ_* flags, data representation, allocation mode; read as
   *   own properties only.
   * @throws TypeError for arguments of the wrong type (a targetName with a NUL character included).
   * @throws RangeError for a contextReq that is not an integer 0..0xFFFFFFFF of ISC_REQ_* bits, or a
   *   targetDataRep other than SECURITY_DREP.NATIVE / NETWORK.
   */
  constructor(credentials: Credentials, options: ClientContextOptions = {}) {
    const o = optionsObject(options, 'options');
    const common = parseCommon(o, 'ISC_REQ', DEFAULT_ISC_REQ);
    const targetName = optionalString(o, 'targetName', 'options.targetName (an SPN such as HTTP/host.example.com)', true);
    super(credentials, 'InitializeSecurityContext', common);
    this.targetName = targetName;
  }

  protected invoke(input: SecBufferIn[] | null, output: SecBufferOutSpec[], async: boolean): NativeContextResult | Promise<NativeContextResult> {
    const n = native();
    const target = this.targetName ?? null;
    return async
      ? n.initializeSecurityContext(this.credentials.handle, this.handle, target, this.contextReq, this.targetDataRep, input, output, true)
      : n.initializeSecurityContext(this.credentials.handle, this.handle, target, this.contextReq, this.targetDataRep, input, output, false);
  }
}

/**
 * The server side of a handshake (AcceptSecurityContext).
 *
 * ```ts
 * using cred = await Credentials.acquire({ package: 'Negotiate', use: 'inbound' });
 * using server = new ServerContext(cred);
 * const r = await server.step(clientToken);    // r.token goes back to the client
 * ```
 */
export class ServerContext extends SecurityContext {
  /**
   * @param credentials - inbound credentials ({@link Credentials.acquire} with use 'inbound' or 'both').
   * @param options - ASC_REQ_* flags, data representation, allocation mode; read as own properties only.
   * @throws TypeError for arguments of the wrong type.
   * @throws RangeError for a contextReq that is not an integer 0..0xFFFFFFFF of ASC_REQ_* bits, or a
   *   targetDataRep other than SECURITY_DREP.NATIVE / NETWORK.
   */
  constructor(credentials: Credentials, options: ServerContextOptions = {}) {
    super(credentials, 'AcceptSecurityContext', parseCommon(optionsObject(options, 'options'), 'ASC_REQ', DEFAULT_ASC_REQ));
  }

  protected invoke(input: SecBufferIn[] | null, output: SecBufferOutSpec[], async: boolean): NativeContextResult | Promise<NativeContextResult> {
    const n = native();
    return async
      ? n.acceptSecurityContext(this.credentials.handle, this.handle, input, this.contextReq, this.targetDataRep, output, true)
      : n.acceptSecurityContext(this.credentials.handle, this.handle, input, this.contextReq, this.targetDataRep, output, false);
  }
}
