/**
 * CredSSP (the Credential Security Support Provider, package "CredSSP") on the existing facade: a
 * {@link CredSspClient} that is a {@link ClientContext} with the request flags, input buffers and
 * statuses of Microsoft's page
 * [InitializeSecurityContext (CredSSP)](https://learn.microsoft.com/en-us/windows/win32/secauthn/initializesecuritycontext--credssp),
 * and a {@link CredSspServer} that is a {@link ServerContext} laid out as
 * [AcceptSecurityContext (CredSSP)](https://learn.microsoft.com/en-us/windows/win32/secauthn/acceptsecuritycontext--credssp)
 * says. CredSSP runs a TLS handshake inside its tokens, authenticates the user with SPNEGO through that
 * channel, and then sends ("delegates") the user's credentials to the server; the tokens are opaque
 * bytes to carry between the two sides like any other SSPI token.
 *
 * Credentials come from `Credentials.acquire({ package: 'CredSSP', ... })`, which marshals
 * [CREDSSP_CRED](https://learn.microsoft.com/en-us/windows/win32/api/credssp/ns-credssp-credssp_cred)
 * (lib/credentials.ts). Wine's secur32 has no CredSSP package: there AcquireCredentialsHandle answers
 * SEC_E_SECPKG_NOT_FOUND (test/unit/credssp.test.ts); the handshake itself is tested on Microsoft's
 * secur32 in .github/workflows/windows.yml (test/windows/credssp.test.ts).
 * @packageDocumentation
 */
import { ASC_REQ, ISC_REQ, SECBUFFER, SECURITY_STATUS } from './constants';
import { ClientContext, ClientContextOptions, ServerContext, ServerContextOptions, StepOptions, StepResult } from './context';
import { Credentials } from './credentials';
import { SspiError } from './errors';
import { runHandshake, RunHandshakeOptions, RunHandshakeResult, TokenExchange } from './handshake';
import { optionsObject, own } from './options';
import type { SecBuffer } from './raw/buffers';

/**
 * The package name to pass to `Credentials.acquire` (credssp.h names it `CREDSSP_NAME`, "CREDSSP";
 * SSPI compares package names without regard to case).
 */
export const CREDSSP_PACKAGE = 'CredSSP';

/**
 * Every ISC_REQ_* flag the InitializeSecurityContext (CredSSP) page lists for fContextReq:
 * ALLOCATE_MEMORY, CONNECTION, EXTENDED_ERROR, MANUAL_CRED_VALIDATION, SEQUENCE_DETECT, STREAM,
 * USE_SUPPLIED_CREDS, DELEGATE and MUTUAL_AUTH. The page says SEC_E_UNSUPPORTED_FUNCTION answers "a flag
 * that is not supported by CredSSP"; this binding does not refuse other ISC_REQ_* bits itself, because
 * Microsoft's own CredSSP clients also ask for REPLAY_DETECT and CONFIDENTIALITY (see
 * {@link DEFAULT_CREDSSP_ISC_REQ}): what CredSSP refuses is for secur32 to say.
 */
export const CREDSSP_DOCUMENTED_ISC_REQ = (ISC_REQ.ALLOCATE_MEMORY | ISC_REQ.CONNECTION | ISC_REQ.EXTENDED_ERROR
  | ISC_REQ.MANUAL_CRED_VALIDATION | ISC_REQ.SEQUENCE_DETECT | ISC_REQ.STREAM | ISC_REQ.USE_SUPPLIED_CREDS
  | ISC_REQ.DELEGATE | ISC_REQ.MUTUAL_AUTH) >>> 0;

/**
 * The client's default fContextReq: ISC_REQ_MANUAL_CRED_VALIDATION ("This flag is always set when using
 * CredSSP"), ISC_REQ_DELEGATE (delegate the user's credentials; without it "an empty set of credentials
 * is delegated", and Windows Server 2008 / Vista require it), ISC_REQ_STREAM, ISC_REQ_SEQUENCE_DETECT,
 * ISC_REQ_EXTENDED_ERROR, plus ISC_REQ_REPLAY_DETECT and ISC_REQ_CONFIDENTIALITY, the set Microsoft's
 * CredSSP client in its protocol test suites passes (microsoft/WindowsProtocolTestSuites, CredSspStream:
 * DELEGATE | REPLAY_DETECT | SEQUENCE_DETECT | CONFIDENTIALITY | ALLOCATE_MEMORY | EXTENDED_ERROR |
 * STREAM; this binding supplies its own output buffers instead of ALLOCATE_MEMORY unless asked).
 *
 * ISC_REQ_MUTUAL_AUTH is not in the default: the page's own description of it ("Indicates that server
 * authentication is not required. Delegation policies are still enforced if this flag is not
 * specified.") does not say what setting it achieves, so it is left to the caller.
 */
export const DEFAULT_CREDSSP_ISC_REQ = (ISC_REQ.MANUAL_CRED_VALIDATION | ISC_REQ.DELEGATE | ISC_REQ.STREAM
  | ISC_REQ.SEQUENCE_DETECT | ISC_REQ.EXTENDED_ERROR | ISC_REQ.REPLAY_DETECT | ISC_REQ.CONFIDENTIALITY) >>> 0;

/**
 * The server's default fContextReq: ASC_REQ_DELEGATE ("Allows the server to impersonate the client"),
 * ASC_REQ_REPLAY_DETECT, ASC_REQ_SEQUENCE_DETECT, ASC_REQ_EXTENDED_ERROR (flags the
 * AcceptSecurityContext (CredSSP) page lists), ASC_REQ_CONFIDENTIALITY and ASC_REQ_STREAM (the set
 * Microsoft's CredSSP server in microsoft/WindowsProtocolTestSuites passes, without ALLOCATE_MEMORY).
 */
export const DEFAULT_CREDSSP_ASC_REQ = (ASC_REQ.DELEGATE | ASC_REQ.REPLAY_DETECT | ASC_REQ.SEQUENCE_DETECT
  | ASC_REQ.EXTENDED_ERROR | ASC_REQ.CONFIDENTIALITY | ASC_REQ.STREAM) >>> 0;

/** At most this many SEC_I_INCOMPLETE_CREDENTIALS retries with new credentials per step. */
const MAX_CREDENTIAL_RETRIES = 3;

/** True when `name` is the CredSSP package's name (case-insensitive, as SSPI compares names). */
export function isCredSspPackage(name: string): boolean {
  return typeof name === 'string' && name.toLowerCase() === CREDSSP_PACKAGE.toLowerCase();
}

/**
 * The fContextReq a {@link CredSspClient} passes: `contextReq` (default {@link DEFAULT_CREDSSP_ISC_REQ})
 * with ISC_REQ_MANUAL_CRED_VALIDATION always added (the page: "This flag is always set when using
 * CredSSP"), and ISC_REQ_USE_SUPPLIED_CREDS added when package parameters are given.
 * @param contextReq - ISC_REQ_* bits, or undefined for the default. Other bits are checked by
 *   {@link ClientContext} (RangeError for bits sspi.h defines no ISC_REQ_* flag for).
 * @param packageParameters - whether SECBUFFER_PKG_PARAMS bytes go with every step.
 * @throws TypeError when `contextReq` asks for ISC_REQ_USE_SUPPLIED_CREDS without package parameters:
 *   "If the ISC_REQ_USE_SUPPLIED_CREDS flag is set, the security package must look for a
 *   SECBUFFER_PKG_PARAMS buffer type in the pInput input buffer."
 */
export function credSspContextReq(contextReq: number | undefined, packageParameters: boolean): number {
  if (contextReq !== undefined && typeof contextReq !== 'number') throw new TypeError('options.contextReq must be a number of ISC_REQ_* bits');
  let req = contextReq ?? DEFAULT_CREDSSP_ISC_REQ;
  if (Number.isInteger(req) && req >= 0 && req <= 0xffffffff && (req & ISC_REQ.USE_SUPPLIED_CREDS) && !packageParameters) {
    throw new TypeError('ISC_REQ_USE_SUPPLIED_CREDS makes CredSSP look for a SECBUFFER_PKG_PARAMS input buffer: give options.packageParameters');
  }
  if (packageParameters) req |= ISC_REQ.USE_SUPPLIED_CREDS;
  // Only well-formed numbers get the forced bits: anything else goes to ClientContext unchanged, so
  // that it reports the RangeError for the value the caller gave.
  return Number.isInteger(req) && req >= 0 && req <= 0xffffffff ? (req | ISC_REQ.MANUAL_CRED_VALIDATION) >>> 0 : req;
}

/**
 * The step options a CredSSP step passes to {@link SecurityContext.step}: after the token,
 * "The second buffer has type SECBUFFER_EMPTY" (both pages), then SECBUFFER_PKG_PARAMS when given, then
 * the caller's own input buffers; output buffers and channel bindings as the caller gave them. The
 * EMPTY buffer is where SSPI reports SECBUFFER_EXTRA / SECBUFFER_MISSING (StepResult.extraBytes /
 * missingBytes).
 * @param token - the peer's token, or undefined on a client's first step (then no EMPTY buffer: "the
 *   value of this parameter must be NULL on the first call").
 * @param packageParameters - SECBUFFER_PKG_PARAMS bytes, or undefined.
 * @param options - the caller's step options; returned unchanged when not an object or when its
 *   inputBuffers is not an array, so that the step reports the TypeError.
 */
export function credSspStepOptions(token: Uint8Array | undefined | null, packageParameters: Uint8Array | undefined,
  options: StepOptions | undefined): StepOptions | undefined {
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) return options;
  const o = (options ?? {}) as Record<string, unknown>;
  const extra = own(o, 'inputBuffers');
  if (extra !== undefined && !Array.isArray(extra)) return options;
  const buffers: SecBuffer[] = [];
  if (token !== undefined && token !== null) buffers.push({ BufferType: SECBUFFER.EMPTY });
  if (packageParameters) buffers.push({ BufferType: SECBUFFER.PKG_PARAMS, pvBuffer: packageParameters });
  buffers.push(...((extra as SecBuffer[] | undefined) ?? []));
  const result: StepOptions = { inputBuffers: buffers };
  const output = own(o, 'outputBuffers');
  if (output !== undefined) result.outputBuffers = output as SecBuffer[];
  const bindings = own(o, 'channelBindings');
  if (bindings !== undefined) result.channelBindings = bindings as Uint8Array | null;
  return result;
}

/** Throws a TypeError unless `credentials` is a live Credentials object of the CredSSP package. */
function checkCredSspCredentials(credentials: unknown, what: string): Credentials {
  if (!(credentials instanceof Credentials)) throw new TypeError(`${what} must be a Credentials object`);
  if (!isCredSspPackage(credentials.package)) {
    throw new TypeError(`${what} must be acquired for the CredSSP package (Credentials.acquire({ package: 'CredSSP', ... })), not ${credentials.package}`);
  }
  if (credentials.disposed) throw new TypeError(`${what} have been disposed`);
  return credentials;
}

/**
 * Called when InitializeSecurityContext (CredSSP) returns SEC_I_INCOMPLETE_CREDENTIALS: "The server has
 * requested client authentication, but either the supplied credentials do not include a certificate,
 * or the certificate was not issued by a certification authority that the server trusts." Return new
 * CredSSP credentials holding a client certificate the server trusts (`Credentials.acquire({ package:
 * 'CredSSP', ... })`); the step is then run again with them, as the page says ("calling
 * InitializeSecurityContext (CredSSP) again, specifying the new credential in the phCredential
 * parameter"). The caller keeps owning (and disposes) both the old and the new credentials.
 */
export type IncompleteCredentialsHandler = (client: CredSspClient, result: StepResult) => Credentials | Promise<Credentials>;

/** Options of {@link CredSspClient}. */
export interface CredSspClientOptions extends Omit<ClientContextOptions, 'contextReq' | 'channelBindings'> {
  /**
   * pszTargetName: the SPN of the server, e.g. 'TERMSRV/host.example.com'. The inner SPNEGO logon uses
   * it, Schannel uses it "to verify the server certificate" (not done under
   * ISC_REQ_MANUAL_CRED_VALIDATION) and to find cached TLS sessions, and the machine's credential
   * delegation policy (Computer Configuration > System > Credentials Delegation, "Allow delegating fresh
   * credentials", ...) is matched against it.
   */
  targetName?: string;
  /**
   * fContextReq: ISC_REQ_* bits, default {@link DEFAULT_CREDSSP_ISC_REQ}; ISC_REQ_MANUAL_CRED_VALIDATION
   * is always added ({@link credSspContextReq}).
   */
  contextReq?: number;
  /**
   * SECBUFFER_PKG_PARAMS bytes, passed as an input buffer on every step with ISC_REQ_USE_SUPPLIED_CREDS
   * ("CredSSP must not attempt to supply credentials for the client automatically"). Microsoft does not
   * document their format ("While this is not a generic solution, it allows a strong pairing of security
   * package and application when appropriate"): they are passed as given.
   */
  packageParameters?: Uint8Array;
  /** What to do on SEC_I_INCOMPLETE_CREDENTIALS; without it the step rejects with an SspiError. */
  onIncompleteCredentials?: IncompleteCredentialsHandler;
}

/**
 * The client side of CredSSP: a {@link ClientContext} whose steps follow
 * [InitializeSecurityContext (CredSSP)](https://learn.microsoft.com/en-us/windows/win32/secauthn/initializesecuritycontext--credssp).
 *
 * - fContextReq: {@link DEFAULT_CREDSSP_ISC_REQ} unless given; ISC_REQ_MANUAL_CRED_VALIDATION always.
 * - Input: none on the first call; then the server's token as SECBUFFER_TOKEN and a SECBUFFER_EMPTY
 *   buffer ("On calls to this function after the initial call, there must be two buffers"), plus
 *   SECBUFFER_PKG_PARAMS with `packageParameters`.
 * - SEC_I_CONTINUE_NEEDED: send the token (the page: "The output token can be empty") and pass the reply
 *   to the next step. SEC_I_COMPLETE_NEEDED / SEC_I_COMPLETE_AND_CONTINUE: the step calls
 *   [CompleteAuthToken](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-completeauthtoken)
 *   on the output itself and reports SEC_E_OK / SEC_I_CONTINUE_NEEDED (as every {@link ClientContext}).
 *   SEC_E_OK: established; "If the function returns an output token ... that token must be sent to the
 *   server" (CredSSP's last token carries the delegated credentials). SEC_E_INCOMPLETE_MESSAGE: read
 *   more (SECBUFFER_MISSING says how much) and step again; {@link CredSspClient.authenticate} does.
 *   SEC_I_INCOMPLETE_CREDENTIALS: `onIncompleteCredentials`.
 *
 * ```ts
 * using cred = await Credentials.acquire({ package: 'CredSSP', ... });   // CREDSSP_CRED
 * using client = new CredSspClient(cred, { targetName: 'TERMSRV/host.example.com' });
 * await client.authenticate(async (token, final) => sendAndReceive(token, final));
 * ```
 * The context and the credentials stay the caller's to dispose.
 */
export class CredSspClient extends ClientContext {
  /** SECBUFFER_PKG_PARAMS bytes sent with every step (a copy of the option), if any. */
  readonly packageParameters: Uint8Array | undefined;
  private readonly onIncompleteCredentials: IncompleteCredentialsHandler | undefined;

  /**
   * @param credentials - outbound credentials of the CredSSP package.
   * @param options - target SPN, flags, package parameters, the SEC_I_INCOMPLETE_CREDENTIALS handler,
   *   and ClientContext's targetDataRep / allocateMemory / outputBufferSize / requirements; read as own
   *   properties only.
   * @throws TypeError for credentials that are not CredSSP credentials (or are disposed), options of
   *   the wrong type, `channelBindings` (CredSSP binds its SPNEGO exchange to its own TLS channel, with
   *   the server's public key), or ISC_REQ_USE_SUPPLIED_CREDS without `packageParameters`.
   * @throws RangeError as {@link ClientContext} does for fContextReq / targetDataRep values.
   */
  constructor(credentials: Credentials, options: CredSspClientOptions = {}) {
    checkCredSspCredentials(credentials, 'credentials');
    const o = optionsObject(options, 'options');
    if (own(o, 'channelBindings') !== undefined) {
      throw new TypeError('options.channelBindings: CredSSP binds its logon to its own TLS channel (the server public key); it takes no SEC_CHANNEL_BINDINGS');
    }
    const params = own(o, 'packageParameters');
    if (params !== undefined && !(params instanceof Uint8Array)) throw new TypeError('options.packageParameters must be a Buffer or Uint8Array');
    const handler = own(o, 'onIncompleteCredentials');
    if (handler !== undefined && typeof handler !== 'function') throw new TypeError('options.onIncompleteCredentials must be a function');
    const base: Record<string, unknown> = {};
    for (const key of ['targetName', 'targetDataRep', 'allocateMemory', 'outputBufferSize', 'requirements']) {
      if (own(o, key) !== undefined) base[key] = own(o, key);
    }
    base.contextReq = credSspContextReq(own(o, 'contextReq') as number | undefined, params !== undefined);
    super(credentials, base as ClientContextOptions);
    this.packageParameters = params === undefined ? undefined : Uint8Array.from(params as Uint8Array);
    this.onIncompleteCredentials = handler as IncompleteCredentialsHandler | undefined;
  }

  /**
   * One CredSSP step off the JavaScript thread: {@link SecurityContext.step} with the CredSSP input
   * buffers ({@link credSspStepOptions}), and SEC_I_INCOMPLETE_CREDENTIALS handled by
   * `onIncompleteCredentials` (the step runs again, with the same server token, on the credentials it
   * returns; at most 3 times). Calls
   * [InitializeSecurityContextW](https://learn.microsoft.com/en-us/windows/win32/secauthn/initializesecuritycontext--credssp)
   * through the raw layer, and CompleteAuthToken where the package asks for it.
   * @param token - the server's token, undefined on the first step.
   * @param options - extra input / output SecBuffers (after the CredSSP ones).
   * @rejects everything {@link SecurityContext.step} rejects with: SspiError (`function`
   *   'InitializeSecurityContext') with the page's failures: SEC_E_LOGON_DENIED, SEC_E_INVALID_TOKEN,
   *   SEC_E_NO_CREDENTIALS, SEC_E_TARGET_UNKNOWN, SEC_E_UNSUPPORTED_FUNCTION (fContextReq refused),
   *   SEC_E_WRONG_PRINCIPAL, SEC_E_DELEGATION_POLICY ("The policy does not support delegation of
   *   credentials to the target server"), SEC_E_POLICY_NLTM_ONLY, SEC_E_MUTUAL_AUTH_FAILED,
   *   SEC_E_NO_AUTHENTICATING_AUTHORITY, SEC_E_INCOMPLETE_MESSAGE, SEC_E_INTERNAL_ERROR, ...
   * @rejects SspiError with status SEC_I_INCOMPLETE_CREDENTIALS (0x00090320) when there is no
   *   `onIncompleteCredentials`, or it keeps returning credentials the server does not take.
   * @rejects TypeError when `onIncompleteCredentials` returns something other than live CredSSP credentials.
   */
  override async step(token?: Uint8Array, options?: StepOptions): Promise<StepResult> {
    for (let retries = 0; ; retries++) {
      const r = await super.step(token, credSspStepOptions(token, this.packageParameters, options));
      if (r.status !== SECURITY_STATUS.SEC_I_INCOMPLETE_CREDENTIALS) return r;
      this.useCredentials(checkCredSspCredentials(await this.newCredentials(r, retries), 'onIncompleteCredentials\'s result'));
    }
  }

  /**
   * {@link CredSspClient.step} on the calling thread (blocks the event loop while the package works);
   * `onIncompleteCredentials` must then return Credentials, not a promise (TypeError).
   */
  override stepSync(token?: Uint8Array, options?: StepOptions): StepResult {
    for (let retries = 0; ; retries++) {
      const r = super.stepSync(token, credSspStepOptions(token, this.packageParameters, options));
      if (r.status !== SECURITY_STATUS.SEC_I_INCOMPLETE_CREDENTIALS) return r;
      const next = this.newCredentials(r, retries);
      if (next instanceof Promise) throw new TypeError('onIncompleteCredentials returned a promise to stepSync(); use step()');
      this.useCredentials(checkCredSspCredentials(next, 'onIncompleteCredentials\'s result'));
    }
  }

  /**
   * Runs the whole client side over a transport, with {@link runHandshake} in stream mode (CredSSP's
   * tokens are TLS records, and the page lists SEC_E_INCOMPLETE_MESSAGE / SECBUFFER_MISSING): each token
   * goes to `exchange`, whose answer is the server's next token; on SEC_E_INCOMPLETE_MESSAGE
   * `exchange(undefined, false)` is asked for more bytes; SECBUFFER_EXTRA is fed to the next step; the
   * final token (the delegated credentials) is delivered with `final` true.
   * @param exchange - sends a token to the server and resolves with its reply (see {@link TokenExchange}).
   * @param options - per-step buffers ({@link RunHandshakeOptions.stepOptions}); `stream` is always true.
   * @returns the completing step, with any unconsumed `extra` input bytes.
   * @rejects as {@link CredSspClient.step} and {@link runHandshake} do.
   */
  authenticate(exchange: TokenExchange, options: Omit<RunHandshakeOptions, 'stream'> = {}): Promise<RunHandshakeResult> {
    return runHandshake(this, exchange, undefined, { ...optionsObject(options, 'options'), stream: true });
  }

  private newCredentials(result: StepResult, retries: number): Credentials | Promise<Credentials> {
    if (!this.onIncompleteCredentials || retries >= MAX_CREDENTIAL_RETRIES) {
      throw new SspiError(SECURITY_STATUS.SEC_I_INCOMPLETE_CREDENTIALS, 'InitializeSecurityContext', {
        package: this.package,
        detail: this.onIncompleteCredentials
          ? `asking for a client certificate ${retries} times; the credentials given were not taken`
          : 'asking for a client certificate the credentials do not hold (options.onIncompleteCredentials can supply new ones)',
        contextAttr: result.contextAttr,
        input: result.input,
        output: result.output,
      });
    }
    return this.onIncompleteCredentials(this, result);
  }
}

/** Options of {@link CredSspServer}: those of {@link ServerContext}, fContextReq default {@link DEFAULT_CREDSSP_ASC_REQ}. */
export type CredSspServerOptions = Omit<ServerContextOptions, 'channelBindings'>;

/**
 * The server side of CredSSP: a {@link ServerContext} whose steps follow
 * [AcceptSecurityContext (CredSSP)](https://learn.microsoft.com/en-us/windows/win32/secauthn/acceptsecuritycontext--credssp):
 * "The first buffer must be of type SECBUFFER_TOKEN and contain the security token received from the
 * client. The second buffer should be of type SECBUFFER_EMPTY." Its credentials are inbound CredSSP
 * credentials holding the server's certificate (CREDSSP_CRED with Schannel credentials).
 */
export class CredSspServer extends ServerContext {
  /**
   * @param credentials - inbound credentials of the CredSSP package.
   * @param options - ASC_REQ_* flags (default {@link DEFAULT_CREDSSP_ASC_REQ}) and ServerContext's other
   *   options; read as own properties only.
   * @throws TypeError for credentials that are not CredSSP credentials, options of the wrong type, or
   *   `channelBindings`; RangeError as {@link ServerContext} does.
   */
  constructor(credentials: Credentials, options: CredSspServerOptions = {}) {
    checkCredSspCredentials(credentials, 'credentials');
    const o = optionsObject(options, 'options');
    if (own(o, 'channelBindings') !== undefined) {
      throw new TypeError('options.channelBindings: CredSSP binds its logon to its own TLS channel (the server public key); it takes no SEC_CHANNEL_BINDINGS');
    }
    super(credentials, own(o, 'contextReq') === undefined ? { ...o, contextReq: DEFAULT_CREDSSP_ASC_REQ } : o);
  }

  /**
   * One step: {@link SecurityContext.step} with [TOKEN, EMPTY, ...inputBuffers], calling
   * [AcceptSecurityContext](https://learn.microsoft.com/en-us/windows/win32/secauthn/acceptsecuritycontext--credssp).
   * @rejects as {@link SecurityContext.step}: SspiError (`function` 'AcceptSecurityContext'), e.g.
   *   SEC_E_LOGON_DENIED when the user's logon fails, SEC_E_INVALID_TOKEN, SEC_E_INCOMPLETE_MESSAGE.
   */
  override step(token?: Uint8Array, options?: StepOptions): Promise<StepResult> {
    return super.step(token, credSspStepOptions(token, undefined, options));
  }

  /** {@link CredSspServer.step} on the calling thread. */
  override stepSync(token?: Uint8Array, options?: StepOptions): StepResult {
    return super.stepSync(token, credSspStepOptions(token, undefined, options));
  }

  /**
   * Runs the whole server side from the client's first token with {@link runHandshake} in stream mode.
   * @param initialToken - the client's first token (its TLS ClientHello).
   * @param exchange - sends a token to the client and resolves with its reply.
   * @param options - per-step buffers ({@link RunHandshakeOptions.stepOptions}); `stream` is always true.
   * @returns the completing step (after the client's credentials arrived), with any unconsumed `extra` bytes.
   * @rejects as {@link CredSspServer.step} and {@link runHandshake} do.
   */
  authenticate(initialToken: Uint8Array, exchange: TokenExchange, options: Omit<RunHandshakeOptions, 'stream'> = {}): Promise<RunHandshakeResult> {
    return runHandshake(this, exchange, initialToken, { ...optionsObject(options, 'options'), stream: true });
  }
}
