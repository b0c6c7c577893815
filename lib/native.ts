/**
 * The native addon (src-native/), loaded once, with its shapes typed.
 *
 * This is the raw layer: one function per SSPI call, every SECURITY_STATUS returned as a number,
 * nothing thrown for SSPI failures (only TypeError/RangeError for wrong JavaScript types and Error
 * for a deleted or busy handle). The public classes in credentials.ts and context.ts turn failures
 * into {@link SspiError}s.
 *
 * Calls made with `async: true` run on the addon's own SSPI call queue (src-native/queue.cc, public
 * face in queue.ts), not on libuv's thread pool; when that queue is full their promise rejects at once
 * with an Error whose `code` is `'ERR_SSPI_QUEUE_FULL'`.
 * @packageDocumentation
 */
import * as path from 'node:path';

/** A CredHandle owned by the addon; FreeCredentialsHandle runs on free() or in its finalizer. */
export interface NativeCredHandle {
  /** False once freed (or once a free waits for pending calls). */
  readonly valid: boolean;
  /** FreeCredentialsHandle; returns its status, 0 if already freed, undefined if deferred. */
  free(): number | undefined;
}

/** A CtxtHandle owned by the addon; DeleteSecurityContext runs on delete() or in its finalizer. */
export interface NativeCtxtHandle {
  /** True once a first ISC/ASC call created the context, until it is deleted. */
  readonly valid: boolean;
  /** DeleteSecurityContext; returns its status, 0 if nothing to delete, undefined if deferred. */
  delete(): number | undefined;
}

/** SecPkgInfoW, with SSPI's field names. */
export interface SecPkgInfo {
  fCapabilities: number;
  wVersion: number;
  wRPCID: number;
  /** Largest token the package produces, in bytes. */
  cbMaxToken: number;
  Name: string;
  Comment: string;
}

/** One SecBuffer going in: its BufferType (SECBUFFER_*, may include SECBUFFER_READONLY) and bytes. */
export interface SecBufferIn {
  type: number;
  buffer?: Uint8Array | null;
}

/** One SecBuffer to fill: BufferType and a caller-supplied size in bytes (0: the package allocates). */
export interface SecBufferOutSpec {
  type: number;
  size: number;
}

/** A SecBuffer after the call: BufferType, cbBuffer and (for output buffers) a copy of the bytes. */
export interface SecBufferOut {
  type: number;
  size: number;
  buffer?: Buffer;
}

/**
 * Authentication identity for AcquireCredentialsHandle: SEC_WINNT_AUTH_IDENTITY_W (Unicode), or
 * SEC_WINNT_AUTH_IDENTITY_EXW when `packageList` is given.
 */
export interface NativeAuthData {
  user?: string;
  domain?: string;
  password?: string;
  packageList?: string;
}

export interface NativeAcquireResult {
  status: number;
  credential?: NativeCredHandle;
  /** TimeStamp: 100-ns intervals since 1601-01-01. */
  expiry?: bigint;
}

export interface NativeContextResult {
  status: number;
  /** pfContextAttr: ISC_RET_* or ASC_RET_* bits. */
  contextAttr: number;
  /** ptsExpiry: 100-ns intervals since 1601-01-01. */
  expiry: bigint;
  output: SecBufferOut[];
  input: SecBufferOut[];
}

/** The SSPI call queue's settings (process-wide); see configureQueue in queue.ts. */
export interface NativeQueueOptions {
  /** Queue threads, 1 to 256. */
  threads?: number;
  /** Calls that may wait for a thread, 0 to 1,000,000; beyond: ERR_SSPI_QUEUE_FULL. */
  maxQueue?: number;
}

/** The SSPI call queue's settings and current figures (counts of calls and threads). */
export interface NativeQueueFigures {
  /** Threads the queue may run (the setting). */
  threads: number;
  /** Calls that may wait for a thread (the setting). */
  maxQueue: number;
  /** Threads started and not ended (they start as calls arrive, up to `threads`). */
  liveThreads: number;
  /** Calls waiting for a thread now. */
  queued: number;
  /** Calls taken by a queue thread and not yet handed back to their JavaScript thread. */
  running: number;
  /** Calls refused with ERR_SSPI_QUEUE_FULL since the process started. */
  rejected: number;
  /** Calls that left the queue since the process started (ran, or dropped because their worker ended). */
  completed: number;
}

export interface NativeBinding {
  CredHandle: new (...args: never[]) => NativeCredHandle;
  CtxtHandle: new () => NativeCtxtHandle;
  enumerateSecurityPackages(): { status: number; packages: SecPkgInfo[] };
  querySecurityPackageInfo(name: string): { status: number; info?: SecPkgInfo };
  formatMessage(status: number): string;
  hostInfo(): { wine: string | null };
  acquireCredentialsHandle(principal: string | null, pkg: string, fCredentialUse: number,
    authData: NativeAuthData | null, async: false): NativeAcquireResult;
  acquireCredentialsHandle(principal: string | null, pkg: string, fCredentialUse: number,
    authData: NativeAuthData | null, async: true): Promise<NativeAcquireResult>;
  initializeSecurityContext(credential: NativeCredHandle | null, context: NativeCtxtHandle, targetName: string | null,
    fContextReq: number, targetDataRep: number, input: SecBufferIn[] | null, output: SecBufferOutSpec[],
    async: false): NativeContextResult;
  initializeSecurityContext(credential: NativeCredHandle | null, context: NativeCtxtHandle, targetName: string | null,
    fContextReq: number, targetDataRep: number, input: SecBufferIn[] | null, output: SecBufferOutSpec[],
    async: true): Promise<NativeContextResult>;
  acceptSecurityContext(credential: NativeCredHandle, context: NativeCtxtHandle, input: SecBufferIn[] | null,
    fContextReq: number, targetDataRep: number, output: SecBufferOutSpec[], async: false): NativeContextResult;
  acceptSecurityContext(credential: NativeCredHandle, context: NativeCtxtHandle, input: SecBufferIn[] | null,
    fContextReq: number, targetDataRep: number, output: SecBufferOutSpec[], async: true): Promise<NativeContextResult>;
  completeAuthToken(context: NativeCtxtHandle, token: SecBufferIn[]): number;
  queryContextAttributes(context: NativeCtxtHandle, ulAttribute: number): { status: number; value?: Record<string, unknown> };
  /**
   * SSPI handles the addon holds now, process-wide (every environment, and calls in flight or cut
   * off by a worker's end): credentials from AcquireCredentialsHandle not yet freed, contexts a first
   * ISC/ASC created not yet deleted. A diagnostic for leak tests.
   */
  handleFigures(): { credentials: number; contexts: number };
  /** Sets the process-wide SSPI call queue's settings (absent fields unchanged); returns the figures. */
  configureQueue(options: NativeQueueOptions): NativeQueueFigures;
  /** The SSPI call queue's settings and current figures. */
  queueFigures(): NativeQueueFigures;
  /** Every constant of lib/constants.ts as the addon's compiler saw it in sspi.h / winerror.h. */
  headerConstants: Record<string, number>;
}

let cached: NativeBinding | undefined;

/**
 * The addon for this process: the prebuilt binary from prebuilds/ (or a local build) found by
 * node-gyp-build.
 * @throws Error on other platforms than Windows, where SSPI (Secur32.dll) does not exist.
 */
export function native(): NativeBinding {
  if (cached) return cached;
  if (process.platform !== 'win32') {
    throw new Error(`sspi: SSPI (Secur32.dll) exists only on Windows; this is ${process.platform}`);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = require('node-gyp-build') as (dir: string) => NativeBinding;
  cached = load(path.join(__dirname, '..', '..'));
  return cached;
}
