import { SECURITY_STATUS } from './constants';
import { native } from './native';

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

  constructor(status: number, fn: string, options: {
    package?: string; detail?: string; missingBytes?: number; token?: Buffer; contextAttr?: number;
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
  }
}

/** Throws an {@link SspiError} unless `status` is a success status; returns it otherwise. */
export function check(status: number, fn: string, options?: { package?: string; detail?: string }): number {
  if (!isSuccess(status)) throw new SspiError(status, fn, options);
  return status >>> 0;
}
