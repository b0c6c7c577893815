// SSPI constants with the values of the Windows SDK headers (sspi.h, winerror.h).
//
// Generated once from the MinGW-w64 copies of sspi.h and winerror.h and checked at test time against
// the values the native addon was compiled with (test/unit/constants.test.ts), so a mismatch with the
// headers fails the suite. The documentation tables are not a source: they misprint
// SEC_E_INVALID_HANDLE as 0x80100003, where winerror.h says 0x80090301.

/* eslint-disable @typescript-eslint/naming-convention */

/**
 * SECURITY_STATUS values (winerror.h SEC_E_* / SEC_I_*), as unsigned 32-bit numbers.
 * `SECURITY_STATUS[value]` gives the name.
 * @see https://learn.microsoft.com/en-us/windows/win32/secauthn/sspi-status-codes
 */
export enum SECURITY_STATUS {
  SEC_E_OK = 0x00000000,
  SEC_E_INSUFFICIENT_MEMORY = 0x80090300,
  SEC_E_INVALID_HANDLE = 0x80090301,
  SEC_E_UNSUPPORTED_FUNCTION = 0x80090302,
  SEC_E_TARGET_UNKNOWN = 0x80090303,
  SEC_E_INTERNAL_ERROR = 0x80090304,
  SEC_E_SECPKG_NOT_FOUND = 0x80090305,
  SEC_E_NOT_OWNER = 0x80090306,
  SEC_E_CANNOT_INSTALL = 0x80090307,
  SEC_E_INVALID_TOKEN = 0x80090308,
  SEC_E_CANNOT_PACK = 0x80090309,
  SEC_E_QOP_NOT_SUPPORTED = 0x8009030A,
  SEC_E_NO_IMPERSONATION = 0x8009030B,
  SEC_E_LOGON_DENIED = 0x8009030C,
  SEC_E_UNKNOWN_CREDENTIALS = 0x8009030D,
  SEC_E_NO_CREDENTIALS = 0x8009030E,
  SEC_E_MESSAGE_ALTERED = 0x8009030F,
  SEC_E_OUT_OF_SEQUENCE = 0x80090310,
  SEC_E_NO_AUTHENTICATING_AUTHORITY = 0x80090311,
  SEC_I_CONTINUE_NEEDED = 0x00090312,
  SEC_I_COMPLETE_NEEDED = 0x00090313,
  SEC_I_COMPLETE_AND_CONTINUE = 0x00090314,
  SEC_I_LOCAL_LOGON = 0x00090315,
  SEC_I_GENERIC_EXTENSION_RECEIVED = 0x00090316,
  SEC_E_BAD_PKGID = 0x80090316,
  SEC_E_CONTEXT_EXPIRED = 0x80090317,
  SEC_I_CONTEXT_EXPIRED = 0x00090317,
  SEC_E_INCOMPLETE_MESSAGE = 0x80090318,
  SEC_E_INCOMPLETE_CREDENTIALS = 0x80090320,
  SEC_E_BUFFER_TOO_SMALL = 0x80090321,
  SEC_I_INCOMPLETE_CREDENTIALS = 0x00090320,
  SEC_I_RENEGOTIATE = 0x00090321,
  SEC_E_WRONG_PRINCIPAL = 0x80090322,
  SEC_I_NO_LSA_CONTEXT = 0x00090323,
  SEC_E_TIME_SKEW = 0x80090324,
  SEC_E_UNTRUSTED_ROOT = 0x80090325,
  SEC_E_ILLEGAL_MESSAGE = 0x80090326,
  SEC_E_CERT_UNKNOWN = 0x80090327,
  SEC_E_CERT_EXPIRED = 0x80090328,
  SEC_E_ENCRYPT_FAILURE = 0x80090329,
  SEC_E_DECRYPT_FAILURE = 0x80090330,
  SEC_E_ALGORITHM_MISMATCH = 0x80090331,
  SEC_E_SECURITY_QOS_FAILED = 0x80090332,
  SEC_E_UNFINISHED_CONTEXT_DELETED = 0x80090333,
  SEC_E_NO_TGT_REPLY = 0x80090334,
  SEC_E_NO_IP_ADDRESSES = 0x80090335,
  SEC_E_WRONG_CREDENTIAL_HANDLE = 0x80090336,
  SEC_E_CRYPTO_SYSTEM_INVALID = 0x80090337,
  SEC_E_MAX_REFERRALS_EXCEEDED = 0x80090338,
  SEC_E_MUST_BE_KDC = 0x80090339,
  SEC_E_STRONG_CRYPTO_NOT_SUPPORTED = 0x8009033A,
  SEC_E_TOO_MANY_PRINCIPALS = 0x8009033B,
  SEC_E_NO_PA_DATA = 0x8009033C,
  SEC_E_PKINIT_NAME_MISMATCH = 0x8009033D,
  SEC_E_SMARTCARD_LOGON_REQUIRED = 0x8009033E,
  SEC_E_SHUTDOWN_IN_PROGRESS = 0x8009033F,
  SEC_E_KDC_INVALID_REQUEST = 0x80090340,
  SEC_E_KDC_UNABLE_TO_REFER = 0x80090341,
  SEC_E_KDC_UNKNOWN_ETYPE = 0x80090342,
  SEC_E_UNSUPPORTED_PREAUTH = 0x80090343,
  SEC_E_DELEGATION_REQUIRED = 0x80090345,
  SEC_E_BAD_BINDINGS = 0x80090346,
  SEC_E_MULTIPLE_ACCOUNTS = 0x80090347,
  SEC_E_NO_KERB_KEY = 0x80090348,
  SEC_E_CERT_WRONG_USAGE = 0x80090349,
  SEC_E_DOWNGRADE_DETECTED = 0x80090350,
  SEC_E_SMARTCARD_CERT_REVOKED = 0x80090351,
  SEC_E_ISSUING_CA_UNTRUSTED = 0x80090352,
  SEC_E_REVOCATION_OFFLINE_C = 0x80090353,
  SEC_E_PKINIT_CLIENT_FAILURE = 0x80090354,
  SEC_E_SMARTCARD_CERT_EXPIRED = 0x80090355,
  SEC_E_NO_S4U_PROT_SUPPORT = 0x80090356,
  SEC_E_CROSSREALM_DELEGATION_FAILURE = 0x80090357,
  SEC_E_REVOCATION_OFFLINE_KDC = 0x80090358,
  SEC_E_ISSUING_CA_UNTRUSTED_KDC = 0x80090359,
  SEC_E_KDC_CERT_EXPIRED = 0x8009035A,
  SEC_E_KDC_CERT_REVOKED = 0x8009035B,
  SEC_I_SIGNATURE_NEEDED = 0x0009035C,
  SEC_E_INVALID_PARAMETER = 0x8009035D,
  SEC_E_DELEGATION_POLICY = 0x8009035E,
  SEC_E_POLICY_NLTM_ONLY = 0x8009035F,
  SEC_I_NO_RENEGOTIATION = 0x00090360,
  SEC_E_NO_CONTEXT = 0x80090361,
  SEC_E_PKU2U_CERT_FAILURE = 0x80090362,
  SEC_E_MUTUAL_AUTH_FAILED = 0x80090363,
  SEC_I_MESSAGE_FRAGMENT = 0x00090364,
  SEC_E_ONLY_HTTPS_ALLOWED = 0x80090365,
  SEC_I_CONTINUE_NEEDED_MESSAGE_OK = 0x00090366,
  SEC_E_APPLICATION_PROTOCOL_MISMATCH = 0x80090367,
  SEC_I_ASYNC_CALL_PENDING = 0x00090368,
  SEC_E_INVALID_UPN_NAME = 0x80090369,
  SEC_E_EXT_BUFFER_TOO_SMALL = 0x8009036A,
  SEC_E_INSUFFICIENT_BUFFERS = 0x8009036B,
}

/**
 * Request flags of InitializeSecurityContext (fContextReq), sspi.h ISC_REQ_*.
 * @see https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-initializesecuritycontextw
 */
export enum ISC_REQ {
  DELEGATE = 0x00000001,
  MUTUAL_AUTH = 0x00000002,
  REPLAY_DETECT = 0x00000004,
  SEQUENCE_DETECT = 0x00000008,
  CONFIDENTIALITY = 0x00000010,
  USE_SESSION_KEY = 0x00000020,
  PROMPT_FOR_CREDS = 0x00000040,
  USE_SUPPLIED_CREDS = 0x00000080,
  ALLOCATE_MEMORY = 0x00000100,
  USE_DCE_STYLE = 0x00000200,
  DATAGRAM = 0x00000400,
  CONNECTION = 0x00000800,
  CALL_LEVEL = 0x00001000,
  FRAGMENT_SUPPLIED = 0x00002000,
  EXTENDED_ERROR = 0x00004000,
  STREAM = 0x00008000,
  INTEGRITY = 0x00010000,
  IDENTIFY = 0x00020000,
  NULL_SESSION = 0x00040000,
  MANUAL_CRED_VALIDATION = 0x00080000,
  RESERVED1 = 0x00100000,
  FRAGMENT_TO_FIT = 0x00200000,
  FORWARD_CREDENTIALS = 0x00400000,
  NO_INTEGRITY = 0x00800000,
  USE_HTTP_STYLE = 0x01000000,
  UNVERIFIED_TARGET_NAME = 0x20000000,
  CONFIDENTIALITY_ONLY = 0x40000000,
}

/**
 * Attribute flags InitializeSecurityContext returns (pfContextAttr), sspi.h ISC_RET_*.
 * @see https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-initializesecuritycontextw
 */
export enum ISC_RET {
  DELEGATE = 0x00000001,
  MUTUAL_AUTH = 0x00000002,
  REPLAY_DETECT = 0x00000004,
  SEQUENCE_DETECT = 0x00000008,
  CONFIDENTIALITY = 0x00000010,
  USE_SESSION_KEY = 0x00000020,
  USED_COLLECTED_CREDS = 0x00000040,
  USED_SUPPLIED_CREDS = 0x00000080,
  ALLOCATED_MEMORY = 0x00000100,
  USED_DCE_STYLE = 0x00000200,
  DATAGRAM = 0x00000400,
  CONNECTION = 0x00000800,
  INTERMEDIATE_RETURN = 0x00001000,
  CALL_LEVEL = 0x00002000,
  EXTENDED_ERROR = 0x00004000,
  STREAM = 0x00008000,
  INTEGRITY = 0x00010000,
  IDENTIFY = 0x00020000,
  NULL_SESSION = 0x00040000,
  MANUAL_CRED_VALIDATION = 0x00080000,
  RESERVED1 = 0x00100000,
  FRAGMENT_ONLY = 0x00200000,
  FORWARD_CREDENTIALS = 0x00400000,
  USED_HTTP_STYLE = 0x01000000,
  NO_ADDITIONAL_TOKEN = 0x02000000,
  REAUTHENTICATION = 0x08000000,
  CONFIDENTIALITY_ONLY = 0x40000000,
}

/**
 * Request flags of AcceptSecurityContext (fContextReq), sspi.h ASC_REQ_*.
 * @see https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-acceptsecuritycontext
 */
export enum ASC_REQ {
  DELEGATE = 0x00000001,
  MUTUAL_AUTH = 0x00000002,
  REPLAY_DETECT = 0x00000004,
  SEQUENCE_DETECT = 0x00000008,
  CONFIDENTIALITY = 0x00000010,
  USE_SESSION_KEY = 0x00000020,
  SESSION_TICKET = 0x00000040,
  ALLOCATE_MEMORY = 0x00000100,
  USE_DCE_STYLE = 0x00000200,
  DATAGRAM = 0x00000400,
  CONNECTION = 0x00000800,
  CALL_LEVEL = 0x00001000,
  FRAGMENT_SUPPLIED = 0x00002000,
  EXTENDED_ERROR = 0x00008000,
  STREAM = 0x00010000,
  INTEGRITY = 0x00020000,
  LICENSING = 0x00040000,
  IDENTIFY = 0x00080000,
  ALLOW_NULL_SESSION = 0x00100000,
  ALLOW_NON_USER_LOGONS = 0x00200000,
  ALLOW_CONTEXT_REPLAY = 0x00400000,
  FRAGMENT_TO_FIT = 0x00800000,
  NO_TOKEN = 0x01000000,
  PROXY_BINDINGS = 0x04000000,
  ALLOW_MISSING_BINDINGS = 0x10000000,
}

/**
 * Attribute flags AcceptSecurityContext returns (pfContextAttr), sspi.h ASC_RET_*.
 * @see https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-acceptsecuritycontext
 */
export enum ASC_RET {
  DELEGATE = 0x00000001,
  MUTUAL_AUTH = 0x00000002,
  REPLAY_DETECT = 0x00000004,
  SEQUENCE_DETECT = 0x00000008,
  CONFIDENTIALITY = 0x00000010,
  USE_SESSION_KEY = 0x00000020,
  SESSION_TICKET = 0x00000040,
  ALLOCATED_MEMORY = 0x00000100,
  USED_DCE_STYLE = 0x00000200,
  DATAGRAM = 0x00000400,
  CONNECTION = 0x00000800,
  CALL_LEVEL = 0x00002000,
  THIRD_LEG_FAILED = 0x00004000,
  EXTENDED_ERROR = 0x00008000,
  STREAM = 0x00010000,
  INTEGRITY = 0x00020000,
  LICENSING = 0x00040000,
  IDENTIFY = 0x00080000,
  NULL_SESSION = 0x00100000,
  ALLOW_NON_USER_LOGONS = 0x00200000,
  ALLOW_CONTEXT_REPLAY = 0x00400000,
  FRAGMENT_ONLY = 0x00800000,
  NO_TOKEN = 0x01000000,
  NO_ADDITIONAL_TOKEN = 0x02000000,
}

/**
 * SecBuffer.BufferType values and flag bits, sspi.h SECBUFFER_*.
 * @see https://learn.microsoft.com/en-us/windows/win32/api/sspi/ns-sspi-secbuffer
 */
export enum SECBUFFER {
  EMPTY = 0,
  DATA = 1,
  TOKEN = 2,
  PKG_PARAMS = 3,
  MISSING = 4,
  EXTRA = 5,
  STREAM_TRAILER = 6,
  STREAM_HEADER = 7,
  NEGOTIATION_INFO = 8,
  PADDING = 9,
  STREAM = 10,
  MECHLIST = 11,
  MECHLIST_SIGNATURE = 12,
  TARGET = 13,
  CHANNEL_BINDINGS = 14,
  CHANGE_PASS_RESPONSE = 15,
  TARGET_HOST = 16,
  ALERT = 17,
  APPLICATION_PROTOCOLS = 18,
  SRTP_PROTECTION_PROFILES = 19,
  SRTP_MASTER_KEY_IDENTIFIER = 20,
  TOKEN_BINDING = 21,
  PRESHARED_KEY = 22,
  PRESHARED_KEY_IDENTITY = 23,
  DTLS_MTU = 24,
  SEND_GENERIC_TLS_EXTENSION = 25,
  SUBSCRIBE_GENERIC_TLS_EXTENSION = 26,
  FLAGS = 27,
  TRAFFIC_SECRETS = 28,
  ATTRMASK = 0xF0000000,
  READONLY = 0x80000000,
  READONLY_WITH_CHECKSUM = 0x10000000,
  RESERVED = 0x60000000,
}

/**
 * QueryContextAttributes ulAttribute values, sspi.h SECPKG_ATTR_*.
 * @see https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycontextattributesw
 */
export enum SECPKG_ATTR {
  SIZES = 0,
  NAMES = 1,
  LIFESPAN = 2,
  DCE_INFO = 3,
  STREAM_SIZES = 4,
  KEY_INFO = 5,
  AUTHORITY = 6,
  PROTO_INFO = 7,
  PASSWORD_EXPIRY = 8,
  SESSION_KEY = 9,
  PACKAGE_INFO = 10,
  USER_FLAGS = 11,
  NEGOTIATION_INFO = 12,
  NATIVE_NAMES = 13,
  FLAGS = 14,
  USE_VALIDATED = 15,
  CREDENTIAL_NAME = 16,
  TARGET_INFORMATION = 17,
  ACCESS_TOKEN = 18,
  TARGET = 19,
  AUTHENTICATION_ID = 20,
  LOGOFF_TIME = 21,
  NEGO_KEYS = 22,
  PROMPTING_NEEDED = 24,
  UNIQUE_BINDINGS = 25,
  ENDPOINT_BINDINGS = 26,
  CLIENT_SPECIFIED_TARGET = 27,
  LAST_CLIENT_TOKEN_STATUS = 30,
  NEGO_PKG_INFO = 31,
  NEGO_STATUS = 32,
  CONTEXT_DELETED = 33,
  DTLS_MTU = 34,
  SUBJECT_SECURITY_ATTRIBUTES = 128,
  APPLICATION_PROTOCOL = 35,
  NEGOTIATED_TLS_EXTENSIONS = 36,
  IS_LOOPBACK = 37,
  // Schannel's attributes (schannel.h); QueryContextAttributes (Schannel):
  // https://learn.microsoft.com/en-us/windows/win32/secauthn/querycontextattributes--schannel
  ISSUER_LIST = 0x50,
  REMOTE_CRED = 0x51,
  LOCAL_CRED = 0x52,
  REMOTE_CERT_CONTEXT = 0x53,
  LOCAL_CERT_CONTEXT = 0x54,
  ROOT_STORE = 0x55,
  SUPPORTED_ALGS = 0x56,
  CIPHER_STRENGTHS = 0x57,
  SUPPORTED_PROTOCOLS = 0x58,
  ISSUER_LIST_EX = 0x59,
  CONNECTION_INFO = 0x5a,
  EAP_KEY_BLOCK = 0x5b,
  MAPPED_CRED_ATTR = 0x5c,
  SESSION_INFO = 0x5d,
  APP_DATA = 0x5e,
  REMOTE_CERTIFICATES = 0x5f,
  CLIENT_CERT_POLICY = 0x60,
  CC_POLICY_RESULT = 0x61,
  USE_NCRYPT = 0x62,
  LOCAL_CERT_INFO = 0x63,
  CIPHER_INFO = 0x64,
  EAP_PRF_INFO = 0x65,
  SUPPORTED_SIGNATURES = 0x66,
  REMOTE_CERT_CHAIN = 0x67,
  UI_INFO = 0x68,
  EARLY_START = 0x69,
  KEYING_MATERIAL_INFO = 0x6a,
  KEYING_MATERIAL = 0x6b,
  SRTP_PARAMETERS = 0x6c,
  TOKEN_BINDING = 0x6d,
  CONNECTION_INFO_EX = 0x6e,
  KEYING_MATERIAL_TOKEN_BINDING = 0x6f,
  KEYING_MATERIAL_INPROC = 0x70,
}

/**
 * QueryCredentialsAttributes / SetCredentialsAttributes ulAttribute values, sspi.h SECPKG_CRED_ATTR_*.
 * (Schannel credentials also take SECPKG_ATTR.SUPPORTED_ALGS, CIPHER_STRENGTHS and SUPPORTED_PROTOCOLS.)
 * @see https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycredentialsattributesw
 * @see https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-setcredentialsattributesw
 */
export enum SECPKG_CRED_ATTR {
  NAMES = 1,
  SSI_PROVIDER = 2,
  KDC_PROXY_SETTINGS = 3,
  CERT = 4,
  PAC_BYPASS = 5,
}

/**
 * SecPkgCredentials_KdcProxySettingsW Version and Flags values, sspi.h KDC_PROXY_SETTINGS_*.
 * @see https://learn.microsoft.com/en-us/windows/win32/api/sspi/ns-sspi-secpkgcredentials_kdcproxysettingsw
 */
export enum KDC_PROXY_SETTINGS {
  V1 = 1,
  FLAGS_FORCEPROXY = 0x1,
}

/**
 * AcquireCredentialsHandle fCredentialUse values, sspi.h SECPKG_CRED_*.
 * @see https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-acquirecredentialshandlew
 */
export enum SECPKG_CRED {
  INBOUND = 0x00000001,
  OUTBOUND = 0x00000002,
  BOTH = 0x00000003,
  DEFAULT = 0x00000004,
  RESERVED = 0xF0000000,
  AUTOLOGON_RESTRICTED = 0x00000010,
  PROCESS_POLICY_ONLY = 0x00000020,
}

/**
 * SecPkgInfo.fCapabilities bits, sspi.h SECPKG_FLAG_*.
 * @see https://learn.microsoft.com/en-us/windows/win32/api/sspi/ns-sspi-secpkginfow
 */
export enum SECPKG_FLAG {
  INTEGRITY = 0x00000001,
  PRIVACY = 0x00000002,
  TOKEN_ONLY = 0x00000004,
  DATAGRAM = 0x00000008,
  CONNECTION = 0x00000010,
  MULTI_REQUIRED = 0x00000020,
  CLIENT_ONLY = 0x00000040,
  EXTENDED_ERROR = 0x00000080,
  IMPERSONATION = 0x00000100,
  ACCEPT_WIN32_NAME = 0x00000200,
  STREAM = 0x00000400,
  NEGOTIABLE = 0x00000800,
  GSS_COMPATIBLE = 0x00001000,
  LOGON = 0x00002000,
  ASCII_BUFFERS = 0x00004000,
  FRAGMENT = 0x00008000,
  MUTUAL_AUTH = 0x00010000,
  DELEGATION = 0x00020000,
  READONLY_WITH_CHECKSUM = 0x00040000,
  RESTRICTED_TOKENS = 0x00080000,
  NEGO_EXTENDER = 0x00100000,
  NEGOTIABLE2 = 0x00200000,
  APPCONTAINER_PASSTHROUGH = 0x00400000,
  APPCONTAINER_CHECKS = 0x00800000,
  CREDENTIAL_ISOLATION_ENABLED = 0x01000000,
  APPLY_LOOPBACK = 0x02000000,
}

/**
 * SecPkgContext_NegotiationInfo.NegotiationState values, sspi.h SECPKG_NEGOTIATION_*.
 * @see https://learn.microsoft.com/en-us/windows/win32/api/sspi/ns-sspi-secpkgcontext_negotiationinfow
 */
export enum SECPKG_NEGOTIATION {
  COMPLETE = 0,
  OPTIMISTIC = 1,
  IN_PROGRESS = 2,
  DIRECT = 3,
  TRY_MULTICRED = 4,
}

/** TargetDataRep values of InitializeSecurityContext / AcceptSecurityContext (sspi.h). */
export enum SECURITY_DREP {
  NATIVE = 0x00000010,
  NETWORK = 0x00000000,
}

/**
 * fQOP / pfQOP values of MakeSignature, EncryptMessage, VerifySignature and DecryptMessage (sspi.h
 * SECQOP_*). Kerberos's KERB_WRAP_NO_ENCRYPT (ntsecapi.h) is the same bit as WRAP_NO_ENCRYPT
 * (src-native/message.cc asserts it at compile time).
 * @see https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-encryptmessage
 */
export enum SECQOP {
  /** EncryptMessage: sign (checksum) only, do not encrypt; DecryptMessage reports it in pfQOP. */
  WRAP_NO_ENCRYPT = 0x80000001,
  /** Out-of-band data (Schannel TLS 1.3); reported by DecryptMessage. */
  WRAP_OOB_DATA = 0x40000000,
}

// ---- Schannel, CredSSP and certificate stores (issue 8) ----

/**
 * dwFlags bits of SCH_CREDENTIALS and SCHANNEL_CRED (schannel.h SCH_CRED_*).
 * @see https://learn.microsoft.com/en-us/windows/win32/api/schannel/ns-schannel-sch_credentials
 */
export enum SCH_CRED {
  NO_SYSTEM_MAPPER = 2,
  /** Client: do not compare the server's certificate name with pszTargetName. */
  NO_SERVERNAME_CHECK = 4,
  /** Client: do not validate the server's certificate; the caller does (SECPKG_ATTR_REMOTE_CERT_CONTEXT). */
  MANUAL_CRED_VALIDATION = 8,
  /** Client: never pick a client certificate by itself (then SEC_I_INCOMPLETE_CREDENTIALS). */
  NO_DEFAULT_CREDS = 0x10,
  /** Client: validate the server's certificate (the default of SCH_CREDENTIALS). */
  AUTO_CRED_VALIDATION = 0x20,
  /** Client: pick a client certificate by itself. */
  USE_DEFAULT_CREDS = 0x40,
  DISABLE_RECONNECTS = 0x80,
  REVOCATION_CHECK_END_CERT = 0x100,
  REVOCATION_CHECK_CHAIN = 0x200,
  REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT = 0x400,
  IGNORE_NO_REVOCATION_CHECK = 0x800,
  IGNORE_REVOCATION_OFFLINE = 0x1000,
  RESTRICTED_ROOTS = 0x2000,
  REVOCATION_CHECK_CACHE_ONLY = 0x4000,
  CACHE_ONLY_URL_RETRIEVAL = 0x8000,
  MEMORY_STORE_CERT = 0x10000,
  CACHE_ONLY_URL_RETRIEVAL_ON_CREATE = 0x20000,
  SNI_CREDENTIAL = 0x80000,
  SNI_ENABLE_OCSP = 0x100000,
}

/**
 * The other dwFlags bits of SCH_CREDENTIALS / SCHANNEL_CRED (schannel.h SCH_*), and SCH_CREDENTIALS_VERSION, the dwVersion of SCH_CREDENTIALS (the one structure that enables TLS 1.3 on Microsoft's Schannel).
 * @see https://learn.microsoft.com/en-us/windows/win32/api/schannel/ns-schannel-sch_credentials
 */
export enum SCH {
  /** SCH_CREDENTIALS_VERSION: dwVersion of SCH_CREDENTIALS. */
  CREDENTIALS_VERSION = 5,
  SEND_ROOT_CERT = 0x40000,
  SEND_AUX_RECORD = 0x200000,
  /** Disable known weak cipher suites. */
  USE_STRONG_CRYPTO = 0x400000,
  USE_PRESHAREDKEY_ONLY = 0x800000,
  USE_DTLS_ONLY = 0x1000000,
  ALLOW_NULL_ENCRYPTION = 0x2000000,
}

/**
 * SCHANNEL_CRED_VERSION (dwVersion of the older SCHANNEL_CRED) and the dwTokenType values of ApplyControlToken's SCHANNEL_* tokens (schannel.h).
 * @see https://learn.microsoft.com/en-us/windows/win32/api/schannel/ns-schannel-schannel_cred
 */
export enum SCHANNEL {
  RENEGOTIATE = 0,
  /** SCHANNEL_SHUTDOWN: ApplyControlToken's token for close_notify. */
  SHUTDOWN = 1,
  ALERT = 2,
  SESSION = 3,
  /** SCHANNEL_CRED_VERSION: dwVersion of SCHANNEL_CRED. */
  CRED_VERSION = 4,
}

/**
 * dwCredFormat of SCH_CREDENTIALS / SCHANNEL_CRED (schannel.h).
 * @see https://learn.microsoft.com/en-us/windows/win32/api/schannel/ns-schannel-sch_credentials
 */
export enum SCH_CRED_FORMAT {
  CERT_CONTEXT = 0,
  CERT_HASH = 1,
  CERT_HASH_STORE = 2,
}

/**
 * dwFlags of TLS_PARAMETERS (schannel.h).
 * @see https://learn.microsoft.com/en-us/windows/win32/api/schannel/ns-schannel-tls_parameters
 */
export enum TLS_PARAMS {
  OPTIONAL = 1,
}

/**
 * Protocol bits (schannel.h SP_PROT_*): SCHANNEL_CRED.grbitEnabledProtocols (what is allowed), TLS_PARAMETERS.grbitDisabledProtocols (what is not), SecPkgContext_ConnectionInfo.dwProtocol.
 * @see https://learn.microsoft.com/en-us/windows/win32/api/schannel/ns-schannel-tls_parameters
 */
export enum SP_PROT {
  NONE = 0,
  PCT1_SERVER = 1,
  PCT1_CLIENT = 2,
  SSL2_SERVER = 4,
  SSL2_CLIENT = 8,
  SSL3_SERVER = 0x10,
  SSL3_CLIENT = 0x20,
  TLS1_0_SERVER = 0x40,
  TLS1_0_CLIENT = 0x80,
  TLS1_0 = 0xC0,
  TLS1_1_SERVER = 0x100,
  TLS1_1_CLIENT = 0x200,
  TLS1_1 = 0x300,
  TLS1_2_SERVER = 0x400,
  TLS1_2_CLIENT = 0x800,
  TLS1_2 = 0xC00,
  TLS1_3_SERVER = 0x1000,
  TLS1_3_CLIENT = 0x2000,
  TLS1_3 = 0x3000,
  DTLS1_0_SERVER = 0x10000,
  DTLS1_0_CLIENT = 0x20000,
  DTLS1_2_SERVER = 0x40000,
  DTLS1_2_CLIENT = 0x80000,
  TLS1_X_SERVER = 0x1540,
  TLS1_X_CLIENT = 0x2A80,
}

/**
 * dwFlags bits of PFXImportCertStore (wincrypt.h PKCS12_*; see also {@link CRYPT}).
 * @see https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-pfximportcertstore
 */
export enum PKCS12 {
  INCLUDE_EXTENDED_PROPERTIES = 0x10,
  IMPORT_SILENT = 0x40,
  PREFER_CNG_KSP = 0x100,
  ALWAYS_CNG_KSP = 0x200,
  ALLOW_OVERWRITE_KEY = 0x4000,
  /** Keep the private key in memory only (not usable by Microsoft's Schannel server credentials, which run in LSASS). */
  NO_PERSIST_KEY = 0x8000,
  VIRTUAL_ISOLATION_KEY = 0x10000,
}

/**
 * Key-set bits of PFXImportCertStore's dwFlags (wincrypt.h CRYPT_*).
 * @see https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-pfximportcertstore
 */
export enum CRYPT {
  EXPORTABLE = 1,
  USER_PROTECTED = 2,
  MACHINE_KEYSET = 0x20,
  USER_KEYSET = 0x1000,
}

/**
 * crypt32 failures (winerror.h CRYPT_E_*), as the certificate functions of `sspi/raw` return them in `status`.
 * @see https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-certfindcertificateinstore
 */
export enum CRYPT_E {
  BAD_ENCODE = 0x80092002,
  NOT_FOUND = 0x80092004,
  EXISTS = 0x80092005,
  SELF_SIGNED = 0x80092007,
  NO_MATCH = 0x80092009,
  PENDING_CLOSE = 0x8009200F,
  ASN1_BADTAG = 0x8009310B,
}

/**
 * lpszStoreProvider of CertOpenStore (wincrypt.h CERT_STORE_PROV_*; the predefined providers whose pvPara is a wide string or nothing).
 * @see https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-certopenstore
 */
export enum CERT_STORE_PROV {
  MEMORY = 2,
  FILENAME_W = 8,
  SYSTEM_W = 0xA,
  SYSTEM_REGISTRY_W = 0xD,
  PHYSICAL_W = 0xE,
}

/**
 * Store locations for CertOpenStore's dwFlags (wincrypt.h CERT_SYSTEM_STORE_*).
 * @see https://learn.microsoft.com/en-us/windows/win32/seccrypto/system-store-locations
 */
export enum CERT_SYSTEM_STORE {
  CURRENT_USER = 0x10000,
  LOCAL_MACHINE = 0x20000,
  CURRENT_SERVICE = 0x40000,
  SERVICES = 0x50000,
  USERS = 0x60000,
  CURRENT_USER_GROUP_POLICY = 0x70000,
  LOCAL_MACHINE_GROUP_POLICY = 0x80000,
  LOCAL_MACHINE_ENTERPRISE = 0x90000,
}

/**
 * Open flags of CertOpenStore (wincrypt.h CERT_STORE_*_FLAG).
 * @see https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-certopenstore
 */
export enum CERT_STORE {
  NO_CRYPT_RELEASE_FLAG = 1,
  DEFER_CLOSE_UNTIL_LAST_FREE_FLAG = 4,
  DELETE_FLAG = 0x10,
  MAXIMUM_ALLOWED_FLAG = 0x1000,
  CREATE_NEW_FLAG = 0x2000,
  OPEN_EXISTING_FLAG = 0x4000,
  READONLY_FLAG = 0x8000,
}

/**
 * dwAddDisposition of CertAddCertificateContextToStore (wincrypt.h).
 * @see https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-certaddcertificatecontexttostore
 */
export enum CERT_STORE_ADD {
  NEW = 1,
  USE_EXISTING = 2,
  REPLACE_EXISTING = 3,
  ALWAYS = 4,
  REPLACE_EXISTING_INHERIT_PROPERTIES = 5,
  NEWER = 6,
  NEWER_INHERIT_PROPERTIES = 7,
}

/**
 * dwFlags of CertCloseStore (wincrypt.h).
 * @see https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-certclosestore
 */
export enum CERT_CLOSE_STORE {
  FORCE_FLAG = 1,
  CHECK_FLAG = 2,
}

/**
 * dwFindType of CertFindCertificateInStore (wincrypt.h; the ones `sspi/raw` marshals).
 * @see https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-certfindcertificateinstore
 */
export enum CERT_FIND {
  ANY = 0,
  SHA1_HASH = 0x10000,
  HASH = 0x10000,
  SUBJECT_STR_W = 0x80007,
  ISSUER_STR_W = 0x80004,
}

/**
 * Certificate property ids for CertGetCertificateContextProperty (wincrypt.h CERT_*_PROP_ID).
 * @see https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-certgetcertificatecontextproperty
 */
export enum CERT {
  KEY_PROV_HANDLE_PROP_ID = 1,
  KEY_PROV_INFO_PROP_ID = 2,
  SHA1_HASH_PROP_ID = 3,
  KEY_CONTEXT_PROP_ID = 5,
  FRIENDLY_NAME_PROP_ID = 0xB,
  NCRYPT_KEY_HANDLE_PROP_ID = 0x4E,
}

/**
 * X509_ASN_ENCODING (wincrypt.h): the certificate encoding type.
 * @see https://learn.microsoft.com/en-us/windows/win32/seccrypto/certificate-and-message-encoding-types
 */
export enum X509 {
  ASN_ENCODING = 1,
}

/**
 * PKCS_7_ASN_ENCODING (wincrypt.h): the message encoding type.
 * @see https://learn.microsoft.com/en-us/windows/win32/seccrypto/certificate-and-message-encoding-types
 */
export enum PKCS_7 {
  ASN_ENCODING = 0x10000,
}

/**
 * CRYPTO_SETTINGS.eAlgorithmUsage (schannel.h eTlsAlgorithmUsage).
 * @see https://learn.microsoft.com/en-us/windows/win32/api/schannel/ns-schannel-crypto_settings
 */
export enum TlsParametersCngAlgUsage {
  KeyExchange = 0,
  Signature = 1,
  Cipher = 2,
  Digest = 3,
  CertSig = 4,
}

/**
 * CREDSSP_CRED.Type (credssp.h CREDSSP_SUBMIT_TYPE; MinGW spells the typedef CREDSPP_SUBMIT_TYPE).
 * @see https://learn.microsoft.com/en-us/windows/win32/api/credssp/ne-credssp-credssp_submit_type
 */
export enum CREDSSP_SUBMIT_TYPE {
  CredsspPasswordCreds = 2,
  CredsspSchannelCreds = 4,
  CredsspCertificateCreds = 13,
  CredsspSubmitBufferBoth = 50,
  CredsspSubmitBufferBothOld = 51,
}

/**
 * TLS1_ALERT_* (schannel.h): SCHANNEL_ALERT_TOKEN's dwAlertType (WARNING, FATAL) and dwAlertNumber
 * (the TLS alert descriptions of RFC 5246 section 7.2, spelt as schannel.h spells them).
 * @see https://learn.microsoft.com/en-us/windows/win32/api/schannel/ns-schannel-schannel_alert_token
 */
export enum TLS1_ALERT {
  WARNING = 1,
  FATAL = 2,
  CLOSE_NOTIFY = 0,
  UNEXPECTED_MESSAGE = 10,
  BAD_RECORD_MAC = 20,
  DECRYPTION_FAILED = 21,
  RECORD_OVERFLOW = 22,
  DECOMPRESSION_FAIL = 30,
  HANDSHAKE_FAILURE = 40,
  BAD_CERTIFICATE = 42,
  UNSUPPORTED_CERT = 43,
  CERTIFICATE_REVOKED = 44,
  CERTIFICATE_EXPIRED = 45,
  CERTIFICATE_UNKNOWN = 46,
  ILLEGAL_PARAMETER = 47,
  UNKNOWN_CA = 48,
  ACCESS_DENIED = 49,
  DECODE_ERROR = 50,
  DECRYPT_ERROR = 51,
  EXPORT_RESTRICTION = 60,
  PROTOCOL_VERSION = 70,
  INSUFFIENT_SECURITY = 71,
  INTERNAL_ERROR = 80,
  USER_CANCELED = 90,
  NO_RENEGOTIATION = 100,
  UNSUPPORTED_EXT = 110,
  UNKNOWN_PSK_IDENTITY = 115,
  NO_APP_PROTOCOL = 120,
}
