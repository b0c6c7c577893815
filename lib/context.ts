import { ASC_REQ, ASC_RET, ISC_REQ, ISC_RET, SECBUFFER, SECPKG_ATTR, SECURITY_DREP, SECURITY_STATUS } from './constants';
import { Credentials } from './credentials';
import { disposeSymbol } from './disposable';
import { check, isSuccess, RequirementError, SspiError, statusName } from './errors';
import { ContextAttributeMap, queryContextAttribute, SecPkgContextNegotiationInfo, SecPkgContextSizes, SupportedContextAttribute } from './attributes';
import * as message from './message';
import { flags, maskOf, optionalBoolean, optionalString, optionsObject, own } from './options';
import { bufferType, bytesOf, SecBuffer } from './raw/buffers';
import {
  AcceptSecurityContext, AcceptSecurityContextAsync, CompleteAuthToken, CompleteAuthTokenAsync,
  InitializeSecurityContext, InitializeSecurityContextAsync, SecurityContextResult,
} from './raw/contexts';
import { QueryContextAttributes } from './raw/attributes';
import { CtxtHandle, DeleteSecurityContext, newCtxtHandle } from './raw/handles';
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
  /** ptsExpiry of this call as SSPI returned it (100-ns intervals since 1601-01-01; provisional before completion). */
  expiryTimeStamp: bigint;
  /**
   * The input SecBufferDesc after the call: the token, the extra input buffers and channel bindings
   * given, as SSPI left them (SECBUFFER_EXTRA / SECBUFFER_MISSING counts appear here).
   */
  input: SecBuffer[];
  /** The output SecBufferDesc after the call: the token buffer first, then the extra output buffers asked for. */
  output: SecBuffer[];
  /**
   * SECBUFFER_EXTRA: how many bytes at the end of the input were not consumed (Schannel: the start of
   * the next record, to pass to the next call); undefined when there is no such buffer.
   */
  extraBytes: number | undefined;
  /** SECBUFFER_MISSING: how many more input bytes the package asked for; undefined when none. */
  missingBytes: number | undefined;
  /** SECBUFFER_ALERT: the alert message to send to the peer (Schannel), when an ALERT output buffer was asked for and filled. */
  alert: Buffer | undefined;
}

/**
 * Extra SecBuffers and channel bindings for one step ({@link SecurityContext.step}), beside the token.
 */
export interface StepOptions {
  /**
   * Input SecBuffers after the token: e.g. `{ BufferType: SECBUFFER.EMPTY }` to receive Schannel's
   * SECBUFFER_EXTRA, SECBUFFER_PKG_PARAMS, SECBUFFER_APPLICATION_PROTOCOLS. Your objects are left as
   * they are; what SSPI wrote into them comes back in {@link StepResult.input} (or SspiError.input).
   */
  inputBuffers?: SecBuffer[];
  /**
   * Output SecBuffers after the token buffer: e.g. `{ BufferType: SECBUFFER.ALERT, cbBuffer: 1024 }`.
   * Returned in {@link StepResult.output}.
   */
  outputBuffers?: SecBuffer[];
  /**
   * SEC_CHANNEL_BINDINGS bytes for this step (RFC 5929, see channelBindings in bindings.ts), passed as
   * a SECBUFFER_CHANNEL_BINDINGS input buffer; overrides the context's `channelBindings` option.
   * `null` sends none on this step.
   */
  channelBindings?: Uint8Array | null;
}

// The attribute structures live in attributes.ts (shared with the raw layer); re-exported here so
// existing imports keep working.
export type {
  ContextAttributeMap, SupportedContextAttribute, SecPkgContextSizes, SecPkgContextNegotiationInfo,
  SecPkgContextKeyInfo, SecPkgContextLifespan, SecPkgContextNativeNames, SecPkgContextStreamSizes,
} from './attributes';

/**
 * What a context must have achieved once complete (.NET NegotiateAuthentication's options). A
 * context that completes short of them fails with a {@link RequirementError} and is disposed, instead
 * of reporting `complete: true`.
 */
export interface ContextRequirements {
  /** Client: the server must have proven its identity (ISC_RET_MUTUAL_AUTH). */
  mutualAuthentication?: boolean;
  /**
   * 'sign': message integrity (ISC_RET_INTEGRITY / ASC_RET_INTEGRITY); 'encryptAndSign': also
   * confidentiality (ISC_RET_CONFIDENTIALITY / ASC_RET_CONFIDENTIALITY). The request flags are added
   * to fContextReq.
   */
  protectionLevel?: 'none' | 'sign' | 'encryptAndSign';
  /**
   * Server: the lowest impersonation level the client must have granted: 'identify' accepts any;
   * 'impersonate' refuses a context with ASC_RET_IDENTIFY (identification only); 'delegate' requires
   * ASC_RET_DELEGATE.
   */
  impersonationLevel?: 'identify' | 'impersonate' | 'delegate';
  /**
   * The packages the context may end up using (case-insensitive), e.g. ['Kerberos'] to refuse
   * Negotiate's fallback to NTLM. Checked with SECPKG_ATTR_NEGOTIATION_INFO (Negotiate) or
   * SECPKG_ATTR_PACKAGE_INFO; a package that cannot say fails the requirement.
   */
  allowedPackages?: string[];
}

interface ContextCommon {
  /** TargetDataRep: SECURITY_DREP.NATIVE (default) or NETWORK; any other number is a RangeError. */
  targetDataRep?: SECURITY_DREP;
  /**
   * Let the package allocate output tokens (ISC_REQ_ALLOCATE_MEMORY / ASC_REQ_ALLOCATE_MEMORY; the
   * addon copies and FreeContextBuffer()s them). Default false: the addon supplies a buffer of the
   * package's cbMaxToken bytes, which every package accepts.
   *
   * The default is the same for every package (Negotiate, Kerberos, NTLM, Schannel): caller buffers.
   * They cost one allocation of cbMaxToken per step (12,000 B for Kerberos and Negotiate, 1,904 B
   * for NTLM as Wine reports them), need no FreeContextBuffer, and work under every SSPI this library
   * is tested on; with `allocateMemory`, Wine 10's NTLM server faults and its Kerberos server answers
   * SEC_E_BUFFER_TOO_SMALL (RELIABILITY.md, test/unit/raw-contexts.test.ts).
   */
  allocateMemory?: boolean;
  /**
   * Size in bytes of the output token buffer the addon supplies (caller-buffer mode); default the
   * package's cbMaxToken. When SSPI answers SEC_E_BUFFER_TOO_SMALL or SEC_E_INSUFFICIENT_MEMORY, the
   * step is retried with a buffer twice as large, up to 4 times and at most 1 MiB.
   */
  outputBufferSize?: number;
  /**
   * SEC_CHANNEL_BINDINGS bytes (RFC 5929; build them with channelBindings in bindings.ts) passed as a
   * SECBUFFER_CHANNEL_BINDINGS input buffer on every step.
   */
  channelBindings?: Uint8Array;
  /** What the context must have achieved once complete; see {@link ContextRequirements}. */
  requirements?: ContextRequirements;
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
  outputBufferSize: number | undefined;
  channelBindings: Uint8Array | undefined;
  requirements: ContextRequirements;
}

/** Largest output token buffer a retry grows to (bytes). */
const MAX_OUTPUT_BUFFER = 1 << 20;
/** Retries after SEC_E_BUFFER_TOO_SMALL / SEC_E_INSUFFICIENT_MEMORY. */
const MAX_BUFFER_RETRIES = 4;

/**
 * Validates a {@link ContextRequirements} object for one side (TypeError naming the field when wrong).
 * @internal exported for IntegratedAuthenticator, which checks its options when it is constructed.
 */
export function parseRequirements(value: unknown, side: 'ISC_REQ' | 'ASC_REQ'): ContextRequirements {
  if (value === undefined) return {};
  const o = optionsObject(value, 'options.requirements');
  const r: ContextRequirements = {};
  const mutual = optionalBoolean(o, 'mutualAuthentication', 'options.requirements.mutualAuthentication');
  if (mutual !== undefined) {
    if (side === 'ASC_REQ' && mutual) throw new TypeError('options.requirements.mutualAuthentication applies to clients (ISC_RET_MUTUAL_AUTH)');
    r.mutualAuthentication = mutual;
  }
  const level = own(o, 'protectionLevel');
  if (level !== undefined) {
    if (level !== 'none' && level !== 'sign' && level !== 'encryptAndSign') {
      throw new TypeError("options.requirements.protectionLevel must be 'none', 'sign' or 'encryptAndSign'");
    }
    r.protectionLevel = level;
  }
  const imp = own(o, 'impersonationLevel');
  if (imp !== undefined) {
    if (side === 'ISC_REQ') throw new TypeError('options.requirements.impersonationLevel applies to servers (ASC_RET_*)');
    if (imp !== 'identify' && imp !== 'impersonate' && imp !== 'delegate') {
      throw new TypeError("options.requirements.impersonationLevel must be 'identify', 'impersonate' or 'delegate'");
    }
    r.impersonationLevel = imp;
  }
  const allowed = own(o, 'allowedPackages');
  if (allowed !== undefined) {
    if (!Array.isArray(allowed) || allowed.length === 0 || !allowed.every((p) => typeof p === 'string' && p !== '')) {
      throw new TypeError("options.requirements.allowedPackages must be a non-empty array of package names, e.g. ['Kerberos']");
    }
    r.allowedPackages = [...allowed];
  }
  return r;
}

/** fContextReq bits a requirement implies. */
function requestedBy(r: ContextRequirements, side: 'ISC_REQ' | 'ASC_REQ'): number {
  let bits = 0;
  const req = side === 'ISC_REQ' ? ISC_REQ : ASC_REQ;
  if (r.mutualAuthentication) bits |= ISC_REQ.MUTUAL_AUTH;
  if (r.protectionLevel === 'sign' || r.protectionLevel === 'encryptAndSign') bits |= req.INTEGRITY;
  if (r.protectionLevel === 'encryptAndSign') bits |= req.CONFIDENTIALITY;
  return bits;
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
  const size = own(options, 'outputBufferSize');
  if (size !== undefined && (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > MAX_OUTPUT_BUFFER)) {
    throw new RangeError(`options.outputBufferSize must be an integer number of bytes from 1 to ${MAX_OUTPUT_BUFFER}`);
  }
  const bindings = own(options, 'channelBindings');
  if (bindings !== undefined && !(bindings instanceof Uint8Array)) {
    throw new TypeError('options.channelBindings must be a Buffer or Uint8Array (SEC_CHANNEL_BINDINGS bytes)');
  }
  const requirements = parseRequirements(own(options, 'requirements'), side);
  return {
    contextReq: (contextReq | requestedBy(requirements, side)) >>> 0, targetDataRep, allocateMemory,
    outputBufferSize: size as number | undefined, channelBindings: bindings as Uint8Array | undefined, requirements,
  };
}

function checkToken(token: unknown): Uint8Array | undefined {
  if (token === undefined || token === null) return undefined;
  if (!(token instanceof Uint8Array)) throw new TypeError('token must be a Buffer or Uint8Array');
  return token;
}

function checkBuffers(value: unknown, what: string): SecBuffer[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((b) => typeof b === 'object' && b !== null && typeof b.BufferType === 'number')) {
    throw new TypeError(`${what} must be an array of SecBuffers { BufferType, cbBuffer?, pvBuffer? }`);
  }
  return value as SecBuffer[];
}

/** One step's buffers, as passed to SSPI (and written back by the raw layer). */
interface StepPlan {
  input: SecBuffer[] | null;
  output: SecBuffer[];
  /** cbBuffer of each output buffer as supplied (0: the package allocates). */
  supplied: number[];
  size: number;
  retries: number;
}

function findBuffer(list: SecBuffer[], type: number): SecBuffer | undefined {
  return list.find((b) => bufferType(b.BufferType) === type);
}

/**
 * A security context (CtxtHandle) being established or established: the common part of
 * {@link ClientContext} and {@link ServerContext}.
 *
 * One call at a time: a second step() while one is pending throws. Free with
 * {@link SecurityContext.dispose} or `using`; the finalizer calls DeleteSecurityContext otherwise.
 * Its {@link SecurityContext.handle} is the raw layer's CtxtHandle (`sspi/raw`), usable with any raw call.
 */
export abstract class SecurityContext {
  /** The CtxtHandle (`sspi/raw`); empty until the first step creates the context. */
  readonly handle: CtxtHandle;
  /** The credentials the next step uses: those the context was created with, or {@link SecurityContext.useCredentials}'. */
  get credentials(): Credentials {
    return this.creds;
  }
  private creds: Credentials;
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
  /** fContextReq as passed to every step (ISC_REQ_* or ASC_REQ_* bits, with those the requirements imply). */
  readonly contextReq: number;
  /** TargetDataRep (SECURITY_DREP). */
  readonly targetDataRep: number;
  /** What the context must achieve once complete. */
  readonly requirements: Readonly<ContextRequirements>;
  private readonly fn: string;
  private readonly outputBufferSize: number | undefined;
  private readonly channelBindings: Uint8Array | undefined;
  private disposedFlag = false;

  /** @internal the subclasses' constructors parse the options. */
  protected constructor(credentials: Credentials, fn: string, common: CommonParsed) {
    if (!(credentials instanceof Credentials)) throw new TypeError('credentials must be a Credentials object');
    this.creds = credentials;
    this.fn = fn;
    this.contextReq = (common.allocateMemory ? common.contextReq | ALLOCATE_MEMORY : common.contextReq) >>> 0;
    this.targetDataRep = common.targetDataRep;
    this.outputBufferSize = common.outputBufferSize;
    this.channelBindings = common.channelBindings;
    this.requirements = Object.freeze({ ...common.requirements });
    this.handle = newCtxtHandle();
  }

  /**
   * Gives the next step other credentials of the same package: a Schannel client answering
   * SEC_I_INCOMPLETE_CREDENTIALS with credentials that hold a client certificate, as
   * [InitializeSecurityContext (Schannel)](https://learn.microsoft.com/en-us/windows/win32/secauthn/initializesecuritycontext--schannel)
   * allows. The caller still owns (and disposes) both credentials.
   * @throws TypeError if `credentials` is not a Credentials object or is for another package.
   */
  useCredentials(credentials: Credentials): void {
    if (!(credentials instanceof Credentials)) throw new TypeError('credentials must be a Credentials object');
    if (credentials.package.toLowerCase() !== this.package.toLowerCase()) {
      throw new TypeError(`credentials are for ${credentials.package}, the context for ${this.package}`);
    }
    this.creds = credentials;
  }

  /**
   * Lets an established context take handshake steps again, for what Schannel does after the
   * handshake through InitializeSecurityContext / AcceptSecurityContext: renegotiation (DecryptMessage
   * returned SEC_I_RENEGOTIATE: the next step gets the SECBUFFER_EXTRA bytes), and the shutdown or
   * alert message of a control token applied with
   * [ApplyControlToken](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-applycontroltoken)
   * (SCHANNEL_SHUTDOWN, SCHANNEL_ALERT: the next step, without input, returns the record to send;
   * see https://learn.microsoft.com/en-us/windows/win32/secauthn/shutting-down-an-schannel-connection).
   * @throws Error if the context is disposed or not established.
   */
  reopen(): void {
    if (this.disposedFlag) throw new Error(`${this.fn}: the context has been disposed`);
    if (!this.complete) throw new Error(`${this.fn}: the context is not established; nothing to reopen`);
    this.complete = false;
  }

  /** The package name the credentials were acquired for. */
  get package(): string {
    return this.credentials.package;
  }

  /** True once disposed. */
  get disposed(): boolean {
    return this.disposedFlag;
  }

  /** The SSPI call itself (raw layer), buffers written back in place: a promise when `async`. */
  protected abstract invoke(input: SecBuffer[] | null, output: SecBuffer[], async: boolean): SecurityContextResult | Promise<SecurityContextResult>;

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

  private prepare(token: unknown, options: unknown): StepPlan {
    if (this.disposedFlag) throw new Error(`${this.fn}: the context has been disposed`);
    if (this.complete) throw new Error(`${this.fn}: the context is already established; nothing more to exchange`);
    const bytes = checkToken(token);
    const o = options === undefined ? {} : optionsObject(options, 'options');
    const extraIn = checkBuffers(own(o, 'inputBuffers'), 'options.inputBuffers');
    const extraOut = checkBuffers(own(o, 'outputBuffers'), 'options.outputBuffers');
    const cb = own(o, 'channelBindings');
    if (cb !== undefined && cb !== null && !(cb instanceof Uint8Array)) {
      throw new TypeError('options.channelBindings must be a Buffer, a Uint8Array or null');
    }
    const bindings = cb === undefined ? this.channelBindings : (cb as Uint8Array | null) ?? undefined;
    const input: SecBuffer[] = [];
    if (bytes) input.push({ BufferType: SECBUFFER.TOKEN, pvBuffer: bytes });
    input.push(...extraIn.map((b) => ({ ...b }))); // copies: a retry must start from the caller's buffers
    if (bindings) input.push({ BufferType: SECBUFFER.CHANNEL_BINDINGS, pvBuffer: bindings });
    const size = this.contextReq & ALLOCATE_MEMORY ? 0 : this.outputBufferSize ?? this.credentials.maxTokenSize;
    const output: SecBuffer[] = [{ BufferType: SECBUFFER.TOKEN, cbBuffer: size }, ...extraOut.map((b) => ({ ...b }))];
    const supplied = output.map((b) => b.cbBuffer ?? b.pvBuffer?.byteLength ?? 0);
    return { input: input.length > 0 ? input : null, output, supplied, size, retries: 0 };
  }

  /**
   * After a call: true when the step must run again with a larger output token buffer (caller-buffer
   * mode, SEC_E_BUFFER_TOO_SMALL / SEC_E_INSUFFICIENT_MEMORY). Resets the plan's buffers for the retry.
   */
  private retry(plan: StepPlan, r: SecurityContextResult, token: unknown, options: unknown): StepPlan | undefined {
    const status = r.status >>> 0;
    if (status !== SECURITY_STATUS.SEC_E_BUFFER_TOO_SMALL && status !== SECURITY_STATUS.SEC_E_INSUFFICIENT_MEMORY) return undefined;
    if (plan.size === 0 || plan.retries >= MAX_BUFFER_RETRIES || plan.size >= MAX_OUTPUT_BUFFER) return undefined;
    const next = this.prepare(token, options);
    next.size = Math.min(MAX_OUTPUT_BUFFER, plan.size * 2);
    next.output[0].cbBuffer = next.size;
    next.supplied[0] = next.size;
    next.retries = plan.retries + 1;
    return next;
  }

  /** Whether the package asked for CompleteAuthToken on this step's output. */
  private static needsCompletion(status: number): boolean {
    return status === SECURITY_STATUS.SEC_I_COMPLETE_NEEDED || status === SECURITY_STATUS.SEC_I_COMPLETE_AND_CONTINUE;
  }

  private finish(plan: StepPlan, r: SecurityContextResult, completeStatus: number | undefined): StepResult {
    let status = r.status >>> 0;
    const input = plan.input ?? [];
    const output = plan.output;
    if (completeStatus !== undefined) {
      if (!isSuccess(completeStatus)) throw this.error(completeStatus, 'CompleteAuthToken', plan, r);
      status = status === SECURITY_STATUS.SEC_I_COMPLETE_NEEDED ? SECURITY_STATUS.SEC_E_OK : SECURITY_STATUS.SEC_I_CONTINUE_NEEDED;
    }
    if (!isSuccess(status)) throw this.error(status, this.fn, plan, r);
    this.contextAttr = r.contextAttr >>> 0;
    const complete = status === SECURITY_STATUS.SEC_E_OK;
    // The output descriptor's first buffer is the token whatever BufferType the package leaves on it
    // (Wine's NTLM server relabels it SECBUFFER_DATA), as C callers read back the SecBuffer they passed.
    const tokenBytes = bytesOf(output[0]);
    const token = tokenBytes.length > 0 ? Buffer.from(tokenBytes) : undefined;
    if (complete) {
      // Only the final call's ptsExpiry counts: "Until the last call of the authentication process,
      // the expiration time for the context can be incorrect because more information will be
      // provided during later stages of the negotiation"
      // (https://learn.microsoft.com/en-us/windows/win32/secauthn/acceptsecuritycontext--kerberos).
      this.expiryTimeStamp = r.expiry;
      this.expiry = timeStampToDate(r.expiry, { at: new Date() });
      const shortfall = this.unmetRequirement();
      if (shortfall) {
        const error = new RequirementError(shortfall.code, shortfall.message, { package: this.package, contextAttr: this.contextAttr, token });
        this.dispose();
        throw error;
      }
    }
    this.complete = complete;
    return {
      status, code: statusName(status), token, complete, contextAttr: this.contextAttr, expiryTimeStamp: r.expiry, input, output,
      extraBytes: findBuffer(input, SECBUFFER.EXTRA)?.cbBuffer,
      missingBytes: findBuffer(input, SECBUFFER.MISSING)?.cbBuffer,
      alert: alertOf(plan),
    };
  }

  private error(status: number, fn: string, plan: StepPlan, r: SecurityContextResult): SspiError {
    const input = plan.input ?? [];
    return new SspiError(status, fn, {
      package: this.package,
      detail: fn === 'CompleteAuthToken' ? 'completing the output token' : 'processing the security token',
      missingBytes: findBuffer(input, SECBUFFER.MISSING)?.cbBuffer,
      extraBytes: findBuffer(input, SECBUFFER.EXTRA)?.cbBuffer,
      token: failureToken(plan.output[0], plan.size),
      alert: alertOf(plan),
      contextAttr: r.contextAttr >>> 0,
      expiryTimeStamp: r.expiry,
      input,
      output: plan.output,
    });
  }

  /** The first requirement the completed context falls short of, if any. */
  private unmetRequirement(): { code: RequirementError['code']; message: string } | undefined {
    const r = this.requirements;
    const attr = this.contextAttr;
    const client = this.fn === 'InitializeSecurityContext';
    const RET = client ? ISC_RET : ASC_RET;
    if (r.mutualAuthentication && client && !(attr & ISC_RET.MUTUAL_AUTH)) {
      return { code: 'ERR_SSPI_MUTUAL_AUTH_REQUIRED', message: 'the server did not prove its identity (no ISC_RET_MUTUAL_AUTH)' };
    }
    if ((r.protectionLevel === 'sign' || r.protectionLevel === 'encryptAndSign') && !(attr & RET.INTEGRITY)) {
      return { code: 'ERR_SSPI_PROTECTION_REQUIRED', message: `the context offers no message integrity (no ${client ? 'ISC' : 'ASC'}_RET_INTEGRITY)` };
    }
    if (r.protectionLevel === 'encryptAndSign' && !(attr & RET.CONFIDENTIALITY)) {
      return { code: 'ERR_SSPI_PROTECTION_REQUIRED', message: `the context offers no confidentiality (no ${client ? 'ISC' : 'ASC'}_RET_CONFIDENTIALITY)` };
    }
    if (!client && r.impersonationLevel === 'impersonate' && (attr & ASC_RET.IDENTIFY)) {
      return { code: 'ERR_SSPI_IMPERSONATION_LEVEL', message: 'the client allowed identification only (ASC_RET_IDENTIFY)' };
    }
    if (!client && r.impersonationLevel === 'delegate' && !(attr & ASC_RET.DELEGATE)) {
      return { code: 'ERR_SSPI_IMPERSONATION_LEVEL', message: 'the client did not allow delegation (no ASC_RET_DELEGATE)' };
    }
    if (r.allowedPackages) {
      const used = this.negotiatedPackage();
      if (used === undefined || !r.allowedPackages.some((p) => p.toLowerCase() === used.toLowerCase())) {
        return {
          code: 'ERR_SSPI_PACKAGE_NOT_ALLOWED',
          message: used === undefined
            ? `the package used cannot be determined, and only ${r.allowedPackages.join(', ')} may be`
            : `the context uses ${used}; only ${r.allowedPackages.join(', ')} may be used`,
        };
      }
    }
    return undefined;
  }

  /** The package a completed context uses: Negotiate's choice, or the context's own package; undefined if SSPI cannot say. */
  private negotiatedPackage(): string | undefined {
    const n = QueryContextAttributes(this.handle, SECPKG_ATTR.NEGOTIATION_INFO);
    const negotiated = n.buffer?.PackageInfo?.Name;
    if (isSuccess(n.status) && negotiated) return negotiated;
    const p = QueryContextAttributes(this.handle, SECPKG_ATTR.PACKAGE_INFO);
    const name = p.buffer?.PackageInfo?.Name;
    return isSuccess(p.status) && name ? name : undefined;
  }

  /**
   * One handshake step, off the JavaScript thread: feeds the peer's token (none on a client's first
   * step) and returns the token to send back, with everything else SSPI wrote.
   *
   * Calls [InitializeSecurityContextW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-initializesecuritycontextw) (client) or
   * [AcceptSecurityContext](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-acceptsecuritycontext) (server) on the
   * addon's SSPI call queue ({@link configureQueue}) through the raw layer, then
   * [CompleteAuthToken](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-completeauthtoken) on the output buffers
   * themselves when the package returns SEC_I_COMPLETE_NEEDED / SEC_I_COMPLETE_AND_CONTINUE, so the
   * completed bytes are the token sent. Input: [TOKEN, ...inputBuffers, CHANNEL_BINDINGS]; output:
   * [TOKEN (cbMaxToken bytes, or package-allocated with allocateMemory), ...outputBuffers]. A
   * SEC_E_BUFFER_TOO_SMALL / SEC_E_INSUFFICIENT_MEMORY in caller-buffer mode is retried with a larger
   * buffer (see outputBufferSize). The token is a new Buffer the caller owns; package memory is freed
   * inside the call.
   * @param token - the peer's token (bytes), or undefined.
   * @param options - extra input/output SecBuffers and channel bindings for this step.
   * @rejects TypeError for a token that is not a Buffer/Uint8Array or options of the wrong shape; Error
   *   if the context is disposed, already complete, or busy with another call (the promise rejects;
   *   nothing is thrown synchronously).
   * @rejects Error with `code` 'ERR_SSPI_QUEUE_FULL' ({@link isQueueFull}) when the SSPI call queue is
   *   full: no SSPI call was made and the context is unchanged, so the step may be retried.
   * @rejects RequirementError when the context completed short of its `requirements` (it is disposed).
   * @rejects SspiError (`function` 'InitializeSecurityContext' / 'AcceptSecurityContext' /
   *   'CompleteAuthToken'); its `token` holds the output token the package produced with the failure
   *   (a KRB-ERROR, a SPNEGO reject, a TLS alert), which belongs to the peer, `alert`, `extraBytes`,
   *   `missingBytes`, `contextAttr`, `expiryTimeStamp` and the `input`/`output` buffers as SSPI left
   *   them: SEC_E_LOGON_DENIED (bad user or password), SEC_E_INVALID_TOKEN, SEC_E_TARGET_UNKNOWN (no
   *   such SPN), SEC_E_NO_CREDENTIALS, SEC_E_WRONG_PRINCIPAL, SEC_E_TIME_SKEW, SEC_E_BAD_BINDINGS,
   *   SEC_E_INTERNAL_ERROR, SEC_E_NO_AUTHENTICATING_AUTHORITY, SEC_E_INCOMPLETE_MESSAGE, ...
   */
  async step(token?: Uint8Array, options?: StepOptions): Promise<StepResult> {
    let plan = this.prepare(token, options);
    for (;;) {
      const r = await this.invoke(plan.input, plan.output, true);
      const again = this.retry(plan, r, token, options);
      if (again) {
        plan = again;
        continue;
      }
      const status = r.status >>> 0;
      const completed = SecurityContext.needsCompletion(status) ? await CompleteAuthTokenAsync(this.handle, plan.output) : undefined;
      return this.finish(plan, r, completed);
    }
  }

  /**
   * {@link SecurityContext.step} on the calling thread: same SSPI calls, arguments, ownership and
   * errors (thrown synchronously: TypeError, Error, RequirementError, SspiError with its `token`), but
   * it blocks the event loop while Kerberos talks to the KDC.
   */
  stepSync(token?: Uint8Array, options?: StepOptions): StepResult {
    let plan = this.prepare(token, options);
    for (;;) {
      const r = this.invoke(plan.input, plan.output, false) as SecurityContextResult;
      const again = this.retry(plan, r, token, options);
      if (again) {
        plan = again;
        continue;
      }
      const status = r.status >>> 0;
      const completed = SecurityContext.needsCompletion(status) ? CompleteAuthToken(this.handle, plan.output) : undefined;
      return this.finish(plan, r, completed);
    }
  }

  /**
   * Queries one context attribute, typed by the attribute ({@link ContextAttributeMap}).
   *
   * Calls [QueryContextAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycontextattributesw)
   * (raw: QueryContextAttributes in lib/raw/attributes.ts); what the package allocates is copied and
   * freed inside (FreeContextBuffer / CertFreeCertificateContext). TimeStamps come as bigints; byte
   * fields as new Buffers the caller owns.
   * @param attribute - a SECPKG_ATTR_* value of {@link ContextAttributeMap}; the result type follows it.
   * @throws RangeError for an attribute this binding does not marshal; Error if the context is disposed.
   * @throws SspiError (`function: 'QueryContextAttributes'`): SEC_E_INVALID_HANDLE before the first
   *   step, SEC_E_UNSUPPORTED_FUNCTION when the package does not provide the attribute.
   */
  queryAttribute<A extends SupportedContextAttribute>(attribute: A): ContextAttributeMap[A] {
    if (this.disposedFlag) throw new Error('QueryContextAttributes: the context has been disposed');
    return queryContextAttribute(this.handle, attribute, this.package);
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
    const status = DeleteSecurityContext(this.handle);
    if (status !== undefined) check(status, 'DeleteSecurityContext', { package: this.package });
  }

  /** `using` support: the same as {@link SecurityContext.dispose | dispose()}. */
  [disposeSymbol](): void {
    this.dispose();
  }

  /** EncryptMessage: {@link message.wrap} on this context (TOKEN | DATA | PADDING; see lib/message.ts). */
  wrap(data: Uint8Array, options?: message.WrapOptions): Buffer {
    return message.wrap(this, data, options);
  }

  /** DecryptMessage: {@link message.unwrap} on this context. */
  unwrap(wrapped: Uint8Array): message.UnwrapResult {
    return message.unwrap(this, wrapped);
  }

  /** MakeSignature: {@link message.computeIntegrityCheck} on this context. */
  computeIntegrityCheck(data: Uint8Array): Buffer {
    return message.computeIntegrityCheck(this, data);
  }

  /** VerifySignature: {@link message.verifyIntegrityCheck} on this context; throws SspiError SEC_E_MESSAGE_ALTERED. */
  verifyIntegrityCheck(data: Uint8Array, signature: Uint8Array): true {
    return message.verifyIntegrityCheck(this, data, signature);
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
   * (ImpersonateSecurityContext / RevertSecurityContext in one native call).
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
 * @param output - the output token SecBuffer as the raw layer wrote it back.
 * @param supplied - the cbBuffer supplied (0: the package allocated).
 */
export function failureToken(output: SecBuffer | undefined, supplied: number): Buffer | undefined {
  if (!output || !output.pvBuffer || !output.cbBuffer) return undefined;
  if (supplied > 0 && output.cbBuffer >= supplied) return undefined;
  return Buffer.from(bytesOf(output));
}

/** The bytes of a SECBUFFER_ALERT output buffer the package filled (by the rule of {@link failureToken}). */
function alertOf(plan: StepPlan): Buffer | undefined {
  const i = plan.output.findIndex((b, k) => k > 0 && bufferType(b.BufferType) === SECBUFFER.ALERT);
  return i < 0 ? undefined : failureToken(plan.output[i], plan.supplied[i]);
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

  protected invoke(input: SecBuffer[] | null, output: SecBuffer[], async: boolean): SecurityContextResult | Promise<SecurityContextResult> {
    const target = this.targetName ?? null;
    return (async ? InitializeSecurityContextAsync : InitializeSecurityContext)(
      this.credentials.handle, this.handle, target, this.contextReq, this.targetDataRep, input, output);
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

  protected invoke(input: SecBuffer[] | null, output: SecBuffer[], async: boolean): SecurityContextResult | Promise<SecurityContextResult> {
    return (async ? AcceptSecurityContextAsync : AcceptSecurityContext)(
      this.credentials.handle, this.handle, input, this.contextReq, this.targetDataRep, output);
  }
}
