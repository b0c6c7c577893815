import { SECURITY_STATUS } from './constants';
import { native } from './native';
import type { SecBuffer } from './raw/buffers';

/** The name of a SECURITY_STATUS value (`SEC_E_LOGON_DENIED`), or its hex form if the headers have none. */
export function statusName(status: number): string {
  const name = SECURITY_STATUS[status >>> 0];
  return name ?? `0x${hex(status)}`;
}

/** True for SEC_E_OK and the SEC_I_* informational statuses, false for failures (high bit set). */
export function isSuccess(status: number): boolean {
  return (status >>> 0) < 0x80000000;
}

function hex(status: number): string {
  return (status >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

/**
 * A failed SSPI call. Carries the numeric SECURITY_STATUS, its name from winerror.h and the SSPI
 * function that returned it. The message never contains secrets (passwords, tokens).
 *
 * ```ts
 * try { await server.step(token); }
 * catch (e) { if (e instanceof SspiError && e.code === 'SEC_E_LOGON_DENIED') ... }
 * ```
 */
export class SspiError extends Error {
  /** The SECURITY_STATUS as an unsigned 32-bit number, e.g. 0x8009030C. */
  readonly status: number;
  /** Its name in winerror.h, e.g. 'SEC_E_LOGON_DENIED'. */
  readonly code: string;
  /** The SSPI function that failed, e.g. 'AcceptSecurityContext'. */
  readonly function: string;
  /** The security package involved, when known ('Negotiate', 'Kerberos', 'NTLM', ...). */
  readonly package: string | undefined;
  /**
   * With SEC_E_INCOMPLETE_MESSAGE: how many more input bytes the package asked for in its
   * SECBUFFER_MISSING buffer (a hint; SSPI says it is not always exact).
   */
  readonly missingBytes: number | undefined;
  /**
   * From InitializeSecurityContext / AcceptSecurityContext: the output token the package produced
   * together with the failure (a Kerberos KRB-ERROR, a SPNEGO reject, a TLS alert), which belongs to
   * the peer; undefined when it produced none. A new Buffer the caller owns.
   */
  readonly token: Buffer | undefined;
  /** From InitializeSecurityContext / AcceptSecurityContext: the pfContextAttr bits the failing call returned. */
  readonly contextAttr: number | undefined;
  /** SECBUFFER_EXTRA: input bytes the failing call did not consume, when it said so. */
  readonly extraBytes: number | undefined;
  /** SECBUFFER_ALERT: an alert message the failing call produced for the peer (Schannel). */
  readonly alert: Buffer | undefined;
  /** ptsExpiry the failing ISC/ASC call returned (100-ns intervals since 1601-01-01). */
  readonly expiryTimeStamp: bigint | undefined;
  /** The input SecBufferDesc as SSPI left it (ISC/ASC): every buffer, with EXTRA / MISSING. */
  readonly input: SecBuffer[] | undefined;
  /** The output SecBufferDesc as SSPI left it (ISC/ASC): the token buffer first. */
  readonly output: SecBuffer[] | undefined;

  /**
   * Makes the error (the library does from a failed call; you catch it). The message carries the
   * system's text for the status from
   * [FormatMessageW](https://learn.microsoft.com/en-us/windows/win32/api/winbase/nf-winbase-formatmessagew)
   * (FORMAT_MESSAGE_FROM_SYSTEM) when Windows has one; never throws.
   * @param status - the SECURITY_STATUS (unsigned 32-bit).
   * @param fn - the SSPI function that returned it.
   * @param options - what else the call left: the fields of the same names.
   */
  constructor(status: number, fn: string, options: {
    package?: string; detail?: string; missingBytes?: number; token?: Buffer; contextAttr?: number;
    extraBytes?: number; alert?: Buffer; expiryTimeStamp?: bigint; input?: SecBuffer[]; output?: SecBuffer[];
  } = {}) {
    const code = statusName(status);
    let text = '';
    try {
      text = native().formatMessage(status >>> 0);
    } catch {
      // Off Windows there is no system message table; the code says enough.
    }
    const where = options.package ? `${fn} (${options.package})` : fn;
    const detail = options.detail ? ` while ${options.detail}` : '';
    super(`${where} failed${detail}: ${code} (0x${hex(status)})${text ? `: ${text}` : ''}`);
    this.name = 'SspiError';
    this.status = status >>> 0;
    this.code = code;
    this.function = fn;
    this.package = options.package;
    this.missingBytes = options.missingBytes;
    this.token = options.token;
    this.contextAttr = options.contextAttr;
    this.extraBytes = options.extraBytes;
    this.alert = options.alert;
    this.expiryTimeStamp = options.expiryTimeStamp;
    // Whole buffer arrays (up to cbMaxToken bytes each): kept off the enumerable properties so that
    // logging an SspiError (util.inspect, JSON) stays short; read them as e.input / e.output.
    Object.defineProperty(this, 'input', { value: options.input, enumerable: false });
    Object.defineProperty(this, 'output', { value: options.output, enumerable: false });
  }
}

/**
 * A context that completed (SEC_E_OK) short of what its `requirements` option asked for (.NET
 * NegotiateAuthentication's checks): no mutual authentication, no integrity / confidentiality, too low
 * an impersonation level, or a package outside `allowedPackages` (Negotiate's fallback to NTLM). The
 * context is disposed before this is thrown; `token` is the output token of the completing step, if
 * any (a server's final token, which the peer may still expect).
 */
export class RequirementError extends Error {
  /** Which requirement failed. */
  readonly code: 'ERR_SSPI_MUTUAL_AUTH_REQUIRED' | 'ERR_SSPI_PROTECTION_REQUIRED' | 'ERR_SSPI_IMPERSONATION_LEVEL' | 'ERR_SSPI_PACKAGE_NOT_ALLOWED';
  /** The package the context was created for. */
  readonly package: string | undefined;
  /** pfContextAttr of the completing step. */
  readonly contextAttr: number;
  /** The completing step's output token, if any. */
  readonly token: Buffer | undefined;

  /**
   * Makes the error (a completing step does; you catch it).
   * @param code - which requirement failed.
   * @param message - which attribute was missing.
   * @param options - the fields of the same names.
   */
  constructor(code: RequirementError['code'], message: string, options: { package?: string; contextAttr: number; token?: Buffer }) {
    super(`security context requirement not met: ${message}`);
    this.name = 'RequirementError';
    this.code = code;
    this.package = options.package;
    this.contextAttr = options.contextAttr;
    this.token = options.token;
  }
}

/** Throws an {@link SspiError} unless `status` is a success status; returns it otherwise. */
export function check(status: number, fn: string, options?: { package?: string; detail?: string }): number {
  if (!isSuccess(status)) throw new SspiError(status, fn, options);
  return status >>> 0;
}
