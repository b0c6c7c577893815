/**
 * AcquireCredentialsHandleW, raw (src-native/credentials.cc).
 * @packageDocumentation
 */
import { native } from '../native';
import { CredHandle } from './handles';

/**
 * pAuthData of {@link AcquireCredentialsHandle}: an explicit identity, marshalled as
 * [SEC_WINNT_AUTH_IDENTITY_W](https://learn.microsoft.com/en-us/windows/win32/api/sspi/ns-sspi-sec_winnt_auth_identity_w)
 * (Flags SEC_WINNT_AUTH_IDENTITY_UNICODE), or as
 * [SEC_WINNT_AUTH_IDENTITY_EXW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/ns-sspi-sec_winnt_auth_identity_exw)
 * when `PackageList` is given (Negotiate: e.g. '!NTLM', 'Kerberos'). The password is copied into
 * native memory that is wiped when the call returns; it is never echoed back or put in an error.
 */
export interface SEC_WINNT_AUTH_IDENTITY {
  User?: string;
  Domain?: string;
  Password?: string;
  PackageList?: string;
}

/** What AcquireCredentialsHandle returns. */
export interface AcquireCredentialsHandleResult {
  /** SECURITY_STATUS (unsigned 32-bit). */
  status: number;
  /** phCredential: on SEC_E_OK, the new handle; the caller owns it ({@link FreeCredentialsHandle}). */
  credential?: CredHandle;
  /** ptsExpiry: 100-ns intervals since 1601-01-01 (local time for Microsoft's Kerberos; see timeStampToDate). */
  expiry?: bigint;
}

interface CredentialsNative {
  acquireCredentialsHandle(principal: string | null, pkg: string, use: number, logonId: bigint | null, authData: unknown, async: boolean): unknown;
}

function authData(pAuthData: SEC_WINNT_AUTH_IDENTITY | null | undefined): unknown {
  if (pAuthData === null || pAuthData === undefined) return null;
  if (typeof pAuthData !== 'object') throw new TypeError('pAuthData must be an object { User?, Domain?, Password?, PackageList? } or null');
  // Own properties only, into an object with no prototype: an inherited (polluted) Password or
  // PackageList is never read.
  const copy: Record<string, unknown> = Object.create(null);
  for (const k of ['User', 'Domain', 'Password', 'PackageList']) {
    if (Object.prototype.hasOwnProperty.call(pAuthData, k)) copy[k] = (pAuthData as unknown as Record<string, unknown>)[k];
  }
  return copy;
}

/**
 * [AcquireCredentialsHandleW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-acquirecredentialshandlew)
 * on the calling thread.
 * @param pszPrincipal - the principal, or null (usually).
 * @param pszPackage - 'Negotiate', 'Kerberos', 'NTLM', ...
 * @param fCredentialUse - SECPKG_CRED_INBOUND (1), SECPKG_CRED_OUTBOUND (2) or SECPKG_CRED_BOTH (3).
 * @param pvLogonId - the LUID of another logon session (bigint: HighPart << 32 | LowPart), or null for
 *   the caller's; Microsoft: "requires SeTcbPrivilege" for another session than the caller's.
 * @param pAuthData - an explicit identity, or null for the current logon session.
 * @returns `{ status, credential?, expiry? }`; failures are returned, not thrown: SEC_E_SECPKG_NOT_FOUND,
 *   SEC_E_NO_CREDENTIALS, SEC_E_NOT_OWNER, SEC_E_INTERNAL_ERROR, SEC_E_INSUFFICIENT_MEMORY.
 * @throws TypeError / RangeError for arguments of the wrong type (a string with a NUL character included).
 */
export function AcquireCredentialsHandle(pszPrincipal: string | null, pszPackage: string, fCredentialUse: number,
  pvLogonId: bigint | null, pAuthData: SEC_WINNT_AUTH_IDENTITY | null): AcquireCredentialsHandleResult {
  const n = native() as unknown as CredentialsNative;
  return n.acquireCredentialsHandle(pszPrincipal, pszPackage, fCredentialUse, pvLogonId, authData(pAuthData), false) as AcquireCredentialsHandleResult;
}

/**
 * {@link AcquireCredentialsHandle} on the addon's SSPI call queue (configureQueue). Same arguments and
 * result; wrong argument types throw synchronously; a full queue rejects with an Error whose `code` is
 * 'ERR_SSPI_QUEUE_FULL'.
 */
export function AcquireCredentialsHandleAsync(pszPrincipal: string | null, pszPackage: string, fCredentialUse: number,
  pvLogonId: bigint | null, pAuthData: SEC_WINNT_AUTH_IDENTITY | null): Promise<AcquireCredentialsHandleResult> {
  const n = native() as unknown as CredentialsNative;
  return n.acquireCredentialsHandle(pszPrincipal, pszPackage, fCredentialUse, pvLogonId, authData(pAuthData), true) as Promise<AcquireCredentialsHandleResult>;
}
