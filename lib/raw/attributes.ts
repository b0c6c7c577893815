/**
 * Raw layer: context and credential attributes, one function per SSPI call
 * ([QueryContextAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycontextattributesw),
 * [SetContextAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-setcontextattributesw),
 * [QueryCredentialsAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycredentialsattributesw),
 * [SetCredentialsAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-setcredentialsattributesw)),
 * in SSPI's argument order, each with an `...Async` form that runs on the SSPI call queue.
 *
 * Results are `{ status, buffer? }`: `status` is the SECURITY_STATUS as an unsigned 32-bit number,
 * returned for success and failure alike (never thrown); `buffer` (pBuffer) is the attribute's
 * structure with SSPI's field names, present only with SEC_E_OK. Byte fields are new Buffers the caller
 * owns; TimeStamps are bigints (100-ns intervals since 1601-01-01, local time: see lib/time.ts).
 * Everything the package allocates is copied and released inside the call, exactly once, on every
 * status (FreeContextBuffer for strings, SecPkgInfo and byte blocks; CertFreeCertificateContext for
 * certificate contexts); nothing is left for the caller to free.
 *
 * Only JavaScript misuse throws: TypeError for a wrong argument type, RangeError for an ulAttribute
 * this binding does not marshal (the message names it), Error for a deleted or busy CtxtHandle or a
 * freed CredHandle. (The Async forms reject with those instead.)
 * @packageDocumentation
 */
import { SECPKG_ATTR, SECPKG_CRED_ATTR } from '../constants';
import { native, SecPkgInfo } from '../native';
import type { CredHandle as NativeCredHandle, CtxtHandle as NativeCtxtHandle } from './handles';

// ---- structures (sspi.h / schannel.h), SSPI's field names ----

/** SecPkgContext_Sizes (bytes). */
export interface SecPkgContextSizes {
  cbMaxToken: number;
  cbMaxSignature: number;
  cbBlockSize: number;
  cbSecurityTrailer: number;
}

/** SecPkgContext_StreamSizes (bytes; cBuffers is a count). */
export interface SecPkgContextStreamSizes {
  cbHeader: number;
  cbTrailer: number;
  cbMaximumMessage: number;
  cBuffers: number;
  cbBlockSize: number;
}

/** SecPkgContext_NamesW: 'DOMAIN\\user' (or a UPN) of the client, or of the credentials' owner. */
export interface SecPkgContextNames {
  sUserName: string | null;
}

/** SecPkgContext_Lifespan: TimeStamps (100-ns intervals since 1601-01-01, local time). */
export interface SecPkgContextLifespan {
  tsStart: bigint;
  tsExpiry: bigint;
}

/** SecPkgContext_DceInfo. pPac (package-specific data of no documented size) is reported as present or not, and freed. */
export interface SecPkgContextDceInfo {
  AuthzSvc: number;
  pPac: boolean;
}

/** SecPkgContext_KeyInfoW: algorithm names, key size in bits, algorithm identifiers. */
export interface SecPkgContextKeyInfo {
  sSignatureAlgorithmName: string | null;
  sEncryptAlgorithmName: string | null;
  /** Bits. */
  KeySize: number;
  SignatureAlgorithm: number;
  EncryptAlgorithm: number;
}

/** SecPkgContext_AuthorityW: the authenticating authority (e.g. the Kerberos realm). */
export interface SecPkgContextAuthority {
  sAuthorityName: string | null;
}

/** SecPkgContext_SessionKey. A secret: the addon wipes its own copy and the package's buffer. */
export interface SecPkgContextSessionKey {
  /** Bytes. */
  SessionKeyLength: number;
  SessionKey: Buffer;
}

/** SecPkgContext_PackageInfoW. */
export interface SecPkgContextPackageInfo {
  PackageInfo: SecPkgInfo | null;
}

/** SecPkgContext_NegotiationInfoW: the package Negotiate chose, and SECPKG_NEGOTIATION_* state. */
export interface SecPkgContextNegotiationInfo {
  PackageInfo: SecPkgInfo | null;
  NegotiationState: number;
}

/** SecPkgContext_NativeNamesW: client and server principal names. */
export interface SecPkgContextNativeNames {
  sClientName: string | null;
  sServerName: string | null;
}

/** SecPkgContext_Flags: the negotiated ISC_RET_* / ASC_RET_* flags. */
export interface SecPkgContextFlags {
  Flags: number;
}

/** SecPkgContext_TargetInformation: the marshalled target information (bytes). */
export interface SecPkgContextTargetInformation {
  MarshalledTargetInfoLength: number;
  MarshalledTargetInfo: Buffer;
}

/**
 * SecPkgContext_AccessToken. The handle belongs to the context (the caller must not close it), so it
 * is not handed out: `AccessToken` says whether the package returned one. For a token handle the caller
 * owns, use QuerySecurityContextToken.
 */
export interface SecPkgContextAccessToken {
  AccessToken: boolean;
}

/**
 * SecPkgContext_Bindings: the SEC_CHANNEL_BINDINGS structure and the application data after it,
 * BindingsLength bytes in all (any length), as a Buffer.
 */
export interface SecPkgContextBindings {
  BindingsLength: number;
  Bindings: Buffer;
}

/** SecPkgContext_ClientSpecifiedTarget: the SPN the client asked for. */
export interface SecPkgContextClientSpecifiedTarget {
  sTargetName: string | null;
}

/** SecPkgContext_LastClientTokenStatus: SecPkgAttrLastClientTokenYes (0), No (1), Maybe (2). */
export interface SecPkgContextLastClientTokenStatus {
  LastClientTokenStatus: number;
}

/** SecPkgContext_ApplicationProtocol (ALPN / NPN): status, extension, protocol id bytes. */
export interface SecPkgContextApplicationProtocol {
  /** SecApplicationProtocolNegotiationStatus_None (0), _Success (1), _SelectedClientOnly (2). */
  ProtoNegoStatus: number;
  /** SecApplicationProtocolNegotiationExt_None (0), _NPN (1), _ALPN (2). */
  ProtoNegoExt: number;
  ProtocolIdSize: number;
  ProtocolId: Buffer;
}

/**
 * SECPKG_ATTR_IS_LOOPBACK (sspi.h defines the number 37 but no structure): whether the
 * authentication was to the local machine (the first ULONG of the zeroed buffer is nonzero).
 */
export interface SecPkgContextIsLoopback {
  IsLoopback: boolean;
}

/** SecPkgContext_ConnectionInfo (Schannel): SP_PROT_* protocol, ALG_IDs and strengths in bits. */
export interface SecPkgContextConnectionInfo {
  dwProtocol: number;
  aiCipher: number;
  dwCipherStrength: number;
  aiHash: number;
  dwHashStrength: number;
  aiExch: number;
  dwExchStrength: number;
}

/** SecPkgContext_CipherInfo (Schannel). */
export interface SecPkgContextCipherInfo {
  dwVersion: number;
  dwProtocol: number;
  dwCipherSuite: number;
  dwBaseCipherSuite: number;
  szCipherSuite: string;
  szCipher: string;
  dwCipherLen: number;
  dwCipherBlockLen: number;
  szHash: string;
  dwHashLen: number;
  szExchange: string;
  dwMinExchangeLen: number;
  dwMaxExchangeLen: number;
  szCertificate: string;
  dwKeyType: number;
}

/**
 * REMOTE_CERT_CONTEXT / LOCAL_CERT_CONTEXT (Schannel): the CERT_CONTEXT's DER encoding (pbCertEncoded)
 * and dwCertEncodingType; the context itself is released with CertFreeCertificateContext inside the call.
 * pbCertEncoded is null when the package returned no certificate.
 */
export interface SecPkgContextCertContext {
  dwCertEncodingType?: number;
  pbCertEncoded: Buffer | null;
}

/** SecPkgContext_IssuerListInfoEx (Schannel): DER-encoded issuer names the server accepts. */
export interface SecPkgContextIssuerListInfoEx {
  cIssuers: number;
  aIssuers: Buffer[];
}

/** The structure each SECPKG_ATTR_* value of QueryContextAttributes returns. */
export interface ContextAttributeMap {
  [SECPKG_ATTR.SIZES]: SecPkgContextSizes;
  [SECPKG_ATTR.NAMES]: SecPkgContextNames;
  [SECPKG_ATTR.LIFESPAN]: SecPkgContextLifespan;
  [SECPKG_ATTR.DCE_INFO]: SecPkgContextDceInfo;
  [SECPKG_ATTR.STREAM_SIZES]: SecPkgContextStreamSizes;
  [SECPKG_ATTR.KEY_INFO]: SecPkgContextKeyInfo;
  [SECPKG_ATTR.AUTHORITY]: SecPkgContextAuthority;
  [SECPKG_ATTR.SESSION_KEY]: SecPkgContextSessionKey;
  [SECPKG_ATTR.PACKAGE_INFO]: SecPkgContextPackageInfo;
  [SECPKG_ATTR.NEGOTIATION_INFO]: SecPkgContextNegotiationInfo;
  [SECPKG_ATTR.NATIVE_NAMES]: SecPkgContextNativeNames;
  [SECPKG_ATTR.FLAGS]: SecPkgContextFlags;
  [SECPKG_ATTR.TARGET_INFORMATION]: SecPkgContextTargetInformation;
  [SECPKG_ATTR.ACCESS_TOKEN]: SecPkgContextAccessToken;
  [SECPKG_ATTR.UNIQUE_BINDINGS]: SecPkgContextBindings;
  [SECPKG_ATTR.ENDPOINT_BINDINGS]: SecPkgContextBindings;
  [SECPKG_ATTR.CLIENT_SPECIFIED_TARGET]: SecPkgContextClientSpecifiedTarget;
  [SECPKG_ATTR.LAST_CLIENT_TOKEN_STATUS]: SecPkgContextLastClientTokenStatus;
  [SECPKG_ATTR.APPLICATION_PROTOCOL]: SecPkgContextApplicationProtocol;
  [SECPKG_ATTR.IS_LOOPBACK]: SecPkgContextIsLoopback;
  [SECPKG_ATTR.CONNECTION_INFO]: SecPkgContextConnectionInfo;
  [SECPKG_ATTR.CIPHER_INFO]: SecPkgContextCipherInfo;
  [SECPKG_ATTR.REMOTE_CERT_CONTEXT]: SecPkgContextCertContext;
  [SECPKG_ATTR.LOCAL_CERT_CONTEXT]: SecPkgContextCertContext;
  [SECPKG_ATTR.ISSUER_LIST_EX]: SecPkgContextIssuerListInfoEx;
}

/** The ulAttribute values {@link QueryContextAttributes} marshals. */
export type SupportedContextAttribute = keyof ContextAttributeMap;

/** Every ulAttribute {@link QueryContextAttributes} marshals. */
export const CONTEXT_ATTRIBUTES: readonly SupportedContextAttribute[] = [
  SECPKG_ATTR.SIZES, SECPKG_ATTR.NAMES, SECPKG_ATTR.LIFESPAN, SECPKG_ATTR.DCE_INFO, SECPKG_ATTR.STREAM_SIZES,
  SECPKG_ATTR.KEY_INFO, SECPKG_ATTR.AUTHORITY, SECPKG_ATTR.SESSION_KEY, SECPKG_ATTR.PACKAGE_INFO,
  SECPKG_ATTR.NEGOTIATION_INFO, SECPKG_ATTR.NATIVE_NAMES, SECPKG_ATTR.FLAGS, SECPKG_ATTR.TARGET_INFORMATION,
  SECPKG_ATTR.ACCESS_TOKEN, SECPKG_ATTR.UNIQUE_BINDINGS, SECPKG_ATTR.ENDPOINT_BINDINGS,
  SECPKG_ATTR.CLIENT_SPECIFIED_TARGET, SECPKG_ATTR.LAST_CLIENT_TOKEN_STATUS, SECPKG_ATTR.APPLICATION_PROTOCOL,
  SECPKG_ATTR.IS_LOOPBACK, SECPKG_ATTR.REMOTE_CERT_CONTEXT, SECPKG_ATTR.LOCAL_CERT_CONTEXT,
  SECPKG_ATTR.ISSUER_LIST_EX, SECPKG_ATTR.CONNECTION_INFO, SECPKG_ATTR.CIPHER_INFO,
];

/** SecPkgContext_SessionAppData (Schannel) to set: dwFlags (default 0) and the application data. */
export interface SecPkgContextSessionAppData {
  dwFlags?: number;
  pbAppData: Uint8Array;
}

/** SecPkgContext_EapPrfInfo (Schannel) to set. */
export interface SecPkgContextEapPrfInfo {
  dwVersion?: number;
  pbPrfData: Uint8Array;
}

/** SecPkgContext_EarlyStart (Schannel, False Start) to set. */
export interface SecPkgContextEarlyStart {
  dwEarlyStartFlags: number;
}

/** The structure each settable SECPKG_ATTR_* of SetContextAttributes takes. */
export interface SetContextAttributeMap {
  [SECPKG_ATTR.APP_DATA]: SecPkgContextSessionAppData;
  [SECPKG_ATTR.EAP_PRF_INFO]: SecPkgContextEapPrfInfo;
  [SECPKG_ATTR.EARLY_START]: SecPkgContextEarlyStart;
}

/** SecPkgCredentials_NamesW. */
export interface SecPkgCredentialsNames {
  sUserName: string | null;
}

/** SecPkgCred_SupportedAlgs (Schannel): ALG_IDs. */
export interface SecPkgCredSupportedAlgs {
  cSupportedAlgs: number;
  palgSupportedAlgs: number[];
}

/** SecPkgCred_CipherStrengths (Schannel), bits. */
export interface SecPkgCredCipherStrengths {
  dwMinimumCipherStrength: number;
  dwMaximumCipherStrength: number;
}

/** SecPkgCred_SupportedProtocols (Schannel): SP_PROT_* bits. */
export interface SecPkgCredSupportedProtocols {
  grbitProtocol: number;
}

/** The structure each ulAttribute of QueryCredentialsAttributes returns. */
export interface CredentialsAttributeMap {
  [SECPKG_CRED_ATTR.NAMES]: SecPkgCredentialsNames;
  [SECPKG_ATTR.SUPPORTED_ALGS]: SecPkgCredSupportedAlgs;
  [SECPKG_ATTR.CIPHER_STRENGTHS]: SecPkgCredCipherStrengths;
  [SECPKG_ATTR.SUPPORTED_PROTOCOLS]: SecPkgCredSupportedProtocols;
}

/**
 * SecPkgCredentials_KdcProxySettingsW to set (Kerberos): Version is KDC_PROXY_SETTINGS_V1; the
 * strings are placed after the structure at the offsets it names (lengths in bytes).
 */
export interface SecPkgCredentialsKdcProxySettings {
  /** KDC_PROXY_SETTINGS_FLAGS_*; default 0. */
  Flags?: number;
  /** The KDC proxy server; omit for none. */
  ProxyServer?: string;
  /** The client TLS credential; omit for none. */
  ClientTlsCred?: string;
}

/** The structure each settable ulAttribute of SetCredentialsAttributes takes. */
export interface SetCredentialsAttributeMap {
  [SECPKG_CRED_ATTR.NAMES]: { sUserName: string };
  [SECPKG_CRED_ATTR.KDC_PROXY_SETTINGS]: SecPkgCredentialsKdcProxySettings;
  [SECPKG_ATTR.SUPPORTED_ALGS]: { palgSupportedAlgs: number[] };
  [SECPKG_ATTR.CIPHER_STRENGTHS]: SecPkgCredCipherStrengths;
  [SECPKG_ATTR.SUPPORTED_PROTOCOLS]: SecPkgCredSupportedProtocols;
}

/** `{ status, buffer? }`: pBuffer's structure, present with SEC_E_OK only. */
export interface QueryAttributesResult<T> {
  status: number;
  buffer?: T;
}

/** `{ status }` of a Set*Attributes call. */
export interface SetAttributesResult {
  status: number;
}

/** The native functions of src-native/attributes.cc. */
interface AttributesNative {
  QueryContextAttributes(phContext: NativeCtxtHandle, ulAttribute: number, async: boolean): unknown;
  SetContextAttributes(phContext: NativeCtxtHandle, ulAttribute: number, value: unknown, async: boolean): unknown;
  QueryCredentialsAttributes(phCredential: NativeCredHandle, ulAttribute: number, async: boolean): unknown;
  SetCredentialsAttributes(phCredential: NativeCredHandle, ulAttribute: number, value: unknown, async: boolean): unknown;
}

function binding(): AttributesNative {
  return native() as unknown as AttributesNative;
}

/**
 * [QueryContextAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycontextattributesw):
 * one attribute of a security context, typed by `ulAttribute` ({@link ContextAttributeMap}).
 * Which attributes a package answers: QueryContextAttributes (Kerberos / NTLM / Negotiate / Schannel)
 * on https://learn.microsoft.com/en-us/windows/win32/secauthn/querycontextattributes--general.
 * @param phContext - a CtxtHandle (filled by a first InitializeSecurityContext / AcceptSecurityContext).
 * @param ulAttribute - one of {@link CONTEXT_ATTRIBUTES}.
 * @returns `{ status, buffer? }`: SEC_E_OK with the structure; SEC_E_INVALID_HANDLE before the first
 *   step (no SSPI call is made); SEC_E_UNSUPPORTED_FUNCTION when the package does not provide the
 *   attribute; SEC_E_INSUFFICIENT_MEMORY. Package memory is freed inside; `buffer` belongs to the caller.
 * @throws TypeError if phContext is not a CtxtHandle or ulAttribute not a number; RangeError for an
 *   ulAttribute this binding does not marshal; Error if the context is deleted or busy with another call.
 */
export function QueryContextAttributes<A extends SupportedContextAttribute>(phContext: NativeCtxtHandle, ulAttribute: A): QueryAttributesResult<ContextAttributeMap[A]> {
  return binding().QueryContextAttributes(phContext, ulAttribute, false) as QueryAttributesResult<ContextAttributeMap[A]>;
}

/**
 * {@link QueryContextAttributes} on the SSPI call queue: same arguments and result; misuse rejects
 * (TypeError, RangeError, Error) instead of throwing; ERR_SSPI_QUEUE_FULL when the queue is full.
 */
export async function QueryContextAttributesAsync<A extends SupportedContextAttribute>(phContext: NativeCtxtHandle, ulAttribute: A): Promise<QueryAttributesResult<ContextAttributeMap[A]>> {
  return (await binding().QueryContextAttributes(phContext, ulAttribute, true)) as QueryAttributesResult<ContextAttributeMap[A]>;
}

/**
 * [SetContextAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-setcontextattributesw):
 * sets an attribute of a security context. Microsoft documents it for Schannel only:
 * SECPKG_ATTR_APP_DATA ({@link SecPkgContextSessionAppData}), SECPKG_ATTR_EAP_PRF_INFO, SECPKG_ATTR_EARLY_START.
 * The value is copied before the call; nothing is kept.
 * @returns `{ status }`: SEC_E_OK; SEC_E_INVALID_HANDLE before the first step; SEC_E_UNSUPPORTED_FUNCTION
 *   where the package does not take the attribute (every package but Schannel).
 * Under Wine (10.0) the call may crash the process: Wine's secur32 leaves the provider's
 * SetContextAttributesW slot uninitialized (dlls/secur32/secur32.c: _makeFnTableW copies a version-1
 * function table only up to that slot, into malloc'd memory).
 * @throws TypeError for a value of the wrong shape; RangeError for another ulAttribute; Error if the
 *   context is deleted or busy.
 */
export function SetContextAttributes<A extends keyof SetContextAttributeMap>(phContext: NativeCtxtHandle, ulAttribute: A, value: SetContextAttributeMap[A]): SetAttributesResult {
  return binding().SetContextAttributes(phContext, ulAttribute, value, false) as SetAttributesResult;
}

/** {@link SetContextAttributes} on the SSPI call queue; misuse rejects instead of throwing. */
export async function SetContextAttributesAsync<A extends keyof SetContextAttributeMap>(phContext: NativeCtxtHandle, ulAttribute: A, value: SetContextAttributeMap[A]): Promise<SetAttributesResult> {
  return (await binding().SetContextAttributes(phContext, ulAttribute, value, true)) as SetAttributesResult;
}

/**
 * [QueryCredentialsAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycredentialsattributesw):
 * SECPKG_CRED_ATTR_NAMES (the credentials' user), and for Schannel SECPKG_ATTR_SUPPORTED_ALGS,
 * CIPHER_STRENGTHS, SUPPORTED_PROTOCOLS. Package memory (the name, the ALG_ID array) is freed inside.
 * @returns `{ status, buffer? }`: SEC_E_OK with the structure; SEC_E_UNSUPPORTED_FUNCTION where the
 *   package does not provide it; SEC_E_INVALID_HANDLE; SEC_E_INSUFFICIENT_MEMORY.
 * @throws TypeError if phCredential is not a CredHandle; RangeError for another ulAttribute; Error if
 *   the credentials were freed.
 */
export function QueryCredentialsAttributes<A extends keyof CredentialsAttributeMap>(phCredential: NativeCredHandle, ulAttribute: A): QueryAttributesResult<CredentialsAttributeMap[A]> {
  return binding().QueryCredentialsAttributes(phCredential, ulAttribute, false) as QueryAttributesResult<CredentialsAttributeMap[A]>;
}

/** {@link QueryCredentialsAttributes} on the SSPI call queue; misuse rejects instead of throwing. */
export async function QueryCredentialsAttributesAsync<A extends keyof CredentialsAttributeMap>(phCredential: NativeCredHandle, ulAttribute: A): Promise<QueryAttributesResult<CredentialsAttributeMap[A]>> {
  return (await binding().QueryCredentialsAttributes(phCredential, ulAttribute, true)) as QueryAttributesResult<CredentialsAttributeMap[A]>;
}

/**
 * [SetCredentialsAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-setcredentialsattributesw):
 * SECPKG_CRED_ATTR_NAMES, SECPKG_CRED_ATTR_KDC_PROXY_SETTINGS (Kerberos only), and for Schannel
 * SECPKG_ATTR_SUPPORTED_ALGS, CIPHER_STRENGTHS, SUPPORTED_PROTOCOLS. The value is copied before the call.
 * @returns `{ status }`: SEC_E_OK; SEC_E_UNSUPPORTED_FUNCTION where the package does not take it;
 *   SEC_E_INVALID_HANDLE.
 * @throws TypeError for a value of the wrong shape; RangeError for another ulAttribute (or KDC proxy
 *   strings over 65535 bytes); Error if the credentials were freed.
 */
export function SetCredentialsAttributes<A extends keyof SetCredentialsAttributeMap>(phCredential: NativeCredHandle, ulAttribute: A, value: SetCredentialsAttributeMap[A]): SetAttributesResult {
  return binding().SetCredentialsAttributes(phCredential, ulAttribute, value, false) as SetAttributesResult;
}

/** {@link SetCredentialsAttributes} on the SSPI call queue; misuse rejects instead of throwing. */
export async function SetCredentialsAttributesAsync<A extends keyof SetCredentialsAttributeMap>(phCredential: NativeCredHandle, ulAttribute: A, value: SetCredentialsAttributeMap[A]): Promise<SetAttributesResult> {
  return (await binding().SetCredentialsAttributes(phCredential, ulAttribute, value, true)) as SetAttributesResult;
}
