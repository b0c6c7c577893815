/**
 * AcquireCredentialsHandleW, raw (src-native/credentials.cc).
 * @packageDocumentation
 */
import { native } from '../native';
import { CredHandle } from './handles';
import type { HCERTSTORE, PCCERT_CONTEXT } from './schannel';

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

/**
 * [CRYPTO_SETTINGS](https://learn.microsoft.com/en-us/windows/win32/api/schannel/ns-schannel-crypto_settings):
 * an algorithm TLS_PARAMETERS disables. cChainingModes is the array's length.
 */
export interface CRYPTO_SETTINGS {
  /** TlsParametersCngAlgUsage: KeyExchange, Signature, Cipher, Digest or CertSig. */
  eAlgorithmUsage: number;
  /** A CNG algorithm identifier ('RSA', 'AES', 'SHA1', ...); absent: every algorithm of that usage. */
  strCngAlgId?: string;
  /** CNG chaining modes ('ChainingModeGCM', ...). */
  rgstrChainingModes?: string[];
  /** Bits; 0: no minimum. */
  dwMinBitLength?: number;
  /** Bits; 0: no maximum. */
  dwMaxBitLength?: number;
}

/**
 * [TLS_PARAMETERS](https://learn.microsoft.com/en-us/windows/win32/api/schannel/ns-schannel-tls_parameters):
 * restrictions, for the listed ALPN ids or (without any) for every connection. cAlpnIds and
 * cDisabledCrypto are the arrays' lengths.
 */
export interface TLS_PARAMETERS {
  /** ALPN protocol ids these parameters apply to ('h2', 'http/1.1'); none: all. */
  rgstrAlpnIds?: string[];
  /** SP_PROT_* bits of the protocols NOT allowed (0: the system defaults). */
  grbitDisabledProtocols?: number;
  /** Algorithms not allowed. */
  pDisabledCrypto?: CRYPTO_SETTINGS[];
  /** TLS_PARAMS_OPTIONAL. */
  dwFlags?: number;
}

/**
 * [SCH_CREDENTIALS](https://learn.microsoft.com/en-us/windows/win32/api/schannel/ns-schannel-sch_credentials)
 * (dwVersion SCH_CREDENTIALS_VERSION, 5): Schannel's newer credentials, the structure that
 * enables TLS 1.3. cCreds and cTlsParameters are the arrays' lengths; mappers are not supported.
 */
export interface SCH_CREDENTIALS {
  dwVersion: 5;
  /** SCH_CRED_FORMAT.CERT_CONTEXT (0), the only format marshalled: paCred holds certificate contexts. */
  dwCredFormat?: number;
  /** The certificates (with private keys) to authenticate with: a server's, or a client's. */
  paCred?: PCCERT_CONTEXT[];
  /** Client: the store of trusted roots to use instead of the system's (servers: for client certificates). */
  hRootStore?: HCERTSTORE | null;
  /** Milliseconds a session is cached; 0: the default. */
  dwSessionLifespan?: number;
  /** SCH_CRED_* and SCH_* bits. */
  dwFlags?: number;
  pTlsParameters?: TLS_PARAMETERS[];
}

/**
 * [SCHANNEL_CRED](https://learn.microsoft.com/en-us/windows/win32/api/schannel/ns-schannel-schannel_cred)
 * (dwVersion SCHANNEL_CRED_VERSION, 4): Schannel's older credentials (no TLS 1.3 on Microsoft's
 * Schannel). cCreds and cSupportedAlgs are the arrays' lengths; mappers are not supported.
 */
export interface SCHANNEL_CRED {
  dwVersion: 4;
  paCred?: PCCERT_CONTEXT[];
  hRootStore?: HCERTSTORE | null;
  /** ALG_IDs (CALG_*) allowed; none: the defaults. */
  palgSupportedAlgs?: number[];
  /** SP_PROT_* bits of the protocols allowed (0: the system defaults). */
  grbitEnabledProtocols?: number;
  /** Bits; 0: the default. */
  dwMinimumCipherStrength?: number;
  dwMaximumCipherStrength?: number;
  dwSessionLifespan?: number;
  dwFlags?: number;
  dwCredFormat?: number;
}

/**
 * [CREDSSP_CRED](https://learn.microsoft.com/en-us/windows/win32/api/credssp/ns-credssp-credssp_cred):
 * CredSSP's credentials: the TLS side (Schannel) and the credentials delegated over it (SPNEGO).
 */
export interface CREDSSP_CRED {
  /** CREDSSP_SUBMIT_TYPE: CredsspPasswordCreds, CredsspSchannelCreds, CredsspSubmitBufferBoth, ... */
  Type: number;
  /** The Schannel credentials; null: Schannel's defaults. */
  pSchannelCred: SCH_CREDENTIALS | SCHANNEL_CRED | null;
  /** The identity to delegate; null: the current user's. */
  pSpnegoCred: SEC_WINNT_AUTH_IDENTITY | null;
}

/**
 * pAuthData of {@link AcquireCredentialsHandle}, by package: SCH_CREDENTIALS or SCHANNEL_CRED for
 * 'Schannel' / 'Microsoft Unified Security Protocol Provider' / 'Default TLS SSP', CREDSSP_CRED for
 * 'CredSSP' / 'TSSSP', SEC_WINNT_AUTH_IDENTITY for every other package.
 */
export type AuthData = SEC_WINNT_AUTH_IDENTITY | SCH_CREDENTIALS | SCHANNEL_CRED | CREDSSP_CRED;

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

const SCHANNEL_PACKAGES = ['schannel', 'microsoft unified security protocol provider', 'default tls ssp'];
const CREDSSP_PACKAGES = ['credssp', 'tsssp'];

/**
 * What {@link ownCopy} keeps of a value: `true` the value as it is, an object the named fields (each by
 * its own shape), an {@link ArrayOf} each element.
 */
type Shape = true | ArrayOf | { [field: string]: Shape };
class ArrayOf {
  constructor(readonly element: Shape) {}
}

/**
 * A copy of `value` made of own properties only, into objects with no prototype, following `shape`:
 * an inherited (polluted) Password, paCred or dwFlags is never read. Values of other types than the
 * shape expects are passed on as they are; the native side checks every type and names the field.
 */
function ownCopy(value: unknown, shape: Shape): unknown {
  if (shape === true || typeof value !== 'object' || value === null) return value;
  if (shape instanceof ArrayOf) {
    if (!Array.isArray(value)) return value;
    return Array.from({ length: value.length }, (_, i) => (Object.prototype.hasOwnProperty.call(value, i) ? ownCopy(value[i], shape.element) : undefined));
  }
  if (Array.isArray(value)) return value;
  const copy: Record<string, unknown> = Object.create(null);
  for (const [k, sub] of Object.entries(shape)) {
    if (Object.prototype.hasOwnProperty.call(value, k)) copy[k] = ownCopy((value as Record<string, unknown>)[k], sub);
  }
  return copy;
}

const IDENTITY: Shape = { User: true, Domain: true, Password: true, PackageList: true };
const VALUES = new ArrayOf(true);
const SCHANNEL: Shape = {
  dwVersion: true, dwCredFormat: true, paCred: VALUES, hRootStore: true, dwSessionLifespan: true, dwFlags: true,
  pTlsParameters: new ArrayOf({ rgstrAlpnIds: VALUES, grbitDisabledProtocols: true, dwFlags: true,
    pDisabledCrypto: new ArrayOf({ eAlgorithmUsage: true, strCngAlgId: true, rgstrChainingModes: VALUES, dwMinBitLength: true, dwMaxBitLength: true }) }),
  palgSupportedAlgs: VALUES, grbitEnabledProtocols: true, dwMinimumCipherStrength: true, dwMaximumCipherStrength: true,
};
const CREDSSP: Shape = { Type: true, pSchannelCred: SCHANNEL, pSpnegoCred: IDENTITY };

function authData(pszPackage: unknown, pAuthData: AuthData | null | undefined): unknown {
  if (pAuthData === null || pAuthData === undefined) return null;
  const pkg = typeof pszPackage === 'string' ? pszPackage.toLowerCase() : '';
  if (SCHANNEL_PACKAGES.includes(pkg)) return ownCopy(pAuthData, SCHANNEL);
  if (CREDSSP_PACKAGES.includes(pkg)) return ownCopy(pAuthData, CREDSSP);
  if (typeof pAuthData !== 'object') throw new TypeError('pAuthData must be an object { User?, Domain?, Password?, PackageList? } or null');
  return ownCopy(pAuthData, IDENTITY);
}

/**
 * [AcquireCredentialsHandleW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-acquirecredentialshandlew)
 * on the calling thread.
 * @param pszPrincipal - the principal, or null (usually).
 * @param pszPackage - 'Negotiate', 'Kerberos', 'NTLM', ...
 * @param fCredentialUse - SECPKG_CRED_INBOUND (1), SECPKG_CRED_OUTBOUND (2) or SECPKG_CRED_BOTH (3).
 * @param pvLogonId - the LUID of another logon session (bigint: HighPart << 32 | LowPart), or null for
 *   the caller's; Microsoft: "requires SeTcbPrivilege" for another session than the caller's.
 * @param pAuthData - by package ({@link AuthData}): an explicit identity, or null for the current logon
 *   session; for Schannel SCH_CREDENTIALS / SCHANNEL_CRED (chosen by dwVersion), for CredSSP CREDSSP_CRED.
 *   Everything is copied into native memory for the call: passwords are wiped when it returns, and the
 *   certificate contexts and root store it names are held (their own references) until it ends, so the
 *   caller may free its objects at any time.
 * @returns `{ status, credential?, expiry? }`; failures are returned, not thrown: SEC_E_SECPKG_NOT_FOUND,
 *   SEC_E_NO_CREDENTIALS, SEC_E_NOT_OWNER, SEC_E_INTERNAL_ERROR, SEC_E_INSUFFICIENT_MEMORY.
 * @throws TypeError / RangeError for arguments of the wrong type (a string with a NUL character included;
 *   the message names the field, e.g. 'pAuthData.paCred[0] must be a PCCERT_CONTEXT'); Error for a freed
 *   certificate or closed store in pAuthData.
 */
export function AcquireCredentialsHandle(pszPrincipal: string | null, pszPackage: string, fCredentialUse: number,
  pvLogonId: bigint | null, pAuthData: AuthData | null): AcquireCredentialsHandleResult {
  const n = native() as unknown as CredentialsNative;
  return n.acquireCredentialsHandle(pszPrincipal, pszPackage, fCredentialUse, pvLogonId, authData(pszPackage, pAuthData), false) as AcquireCredentialsHandleResult;
}

/**
 * {@link AcquireCredentialsHandle} on the addon's SSPI call queue (configureQueue). Same arguments and
 * result; wrong argument types throw synchronously; a full queue rejects with an Error whose `code` is
 * 'ERR_SSPI_QUEUE_FULL'.
 */
export function AcquireCredentialsHandleAsync(pszPrincipal: string | null, pszPackage: string, fCredentialUse: number,
  pvLogonId: bigint | null, pAuthData: AuthData | null): Promise<AcquireCredentialsHandleResult> {
  const n = native() as unknown as CredentialsNative;
  return n.acquireCredentialsHandle(pszPrincipal, pszPackage, fCredentialUse, pvLogonId, authData(pszPackage, pAuthData), true) as Promise<AcquireCredentialsHandleResult>;
}
