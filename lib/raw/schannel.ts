/**
 * Certificate stores and certificate contexts for Schannel and CredSSP credentials, raw
 * (src-native/schannel.cc): the wincrypt.h functions under their own names.
 *
 * Handles. An {@link HCERTSTORE} or {@link PCCERT_CONTEXT} object owns one reference, released exactly
 * once: by {@link CertCloseStore} / {@link CertFreeCertificateContext} (or the objects' own close() /
 * free()), or by the object's finalizer when it is garbage-collected first (a last resort). JavaScript
 * cannot construct or forge one. An asynchronous AcquireCredentialsHandle that names certificates or a
 * root store takes references of its own for as long as it runs, so freeing these objects meanwhile is
 * safe. `handleFigures().certificateStores` / `.certificateContexts` count the references held.
 *
 * Statuses. crypt32 reports failure as FALSE / NULL plus GetLastError(); here `status` is that error as
 * an unsigned 32-bit HRESULT (a Win32 code such as ERROR_INVALID_PASSWORD (86) as HRESULT_FROM_WIN32,
 * 0x80070056; CRYPT_E_* as they are), 0 on success. Returned, never thrown; only JavaScript misuse
 * throws (TypeError / RangeError for wrong types, Error for a closed store or freed certificate).
 * @packageDocumentation
 */
import { native } from '../native';

/**
 * An HCERTSTORE ([CertOpenStore](https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-certopenstore))
 * owned by the addon.
 */
export interface HCERTSTORE {
  /** False once closed. */
  readonly valid: boolean;
  /** CertCloseStore(dwFlags, default 0): its status; 0 if already closed. */
  close(dwFlags?: number): number;
}

/**
 * A PCCERT_CONTEXT ([CERT_CONTEXT](https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/ns-wincrypt-cert_context))
 * owned by the addon: one reference to a certificate context.
 */
export interface PCCERT_CONTEXT {
  /** False once freed. */
  readonly valid: boolean;
  /** The certificate's DER encoding (a new Buffer on each read). Error once freed. */
  readonly pbCertEncoded: Buffer;
  /** X509_ASN_ENCODING | PKCS_7_ASN_ENCODING, as crypt32 set it. */
  readonly dwCertEncodingType: number;
  /** CertFreeCertificateContext: 0 (idempotent). */
  free(): number;
}

/** What {@link PFXImportCertStore} and {@link CertOpenStore} return. */
export interface CertStoreResult {
  /** 0, or the failure as an HRESULT (see the module's notes). */
  status: number;
  /** The store on success; the caller owns it ({@link CertCloseStore}). */
  store?: HCERTSTORE;
}

/** What the certificate-returning functions return. */
export interface CertContextResult {
  /** 0, or the failure as an HRESULT: CRYPT_E_NOT_FOUND (0x80092004) when there is none (more). */
  status: number;
  /** The certificate on success; the caller owns this reference ({@link CertFreeCertificateContext}). */
  certificate?: PCCERT_CONTEXT;
}

interface SchannelNative {
  HCERTSTORE: { prototype: HCERTSTORE };
  PCCERT_CONTEXT: { prototype: PCCERT_CONTEXT };
  pfxImportCertStore(pfx: Uint8Array, password: string | Uint8Array | null, flags: number, async: boolean): unknown;
  certOpenStore(provider: number, encoding: number, flags: number, para: string | null): CertStoreResult;
  certFindCertificateInStore(store: HCERTSTORE, encoding: number, findFlags: number, findType: number, para: unknown, prev: PCCERT_CONTEXT | null): CertContextResult;
  certEnumCertificatesInStore(store: HCERTSTORE, prev: PCCERT_CONTEXT | null): CertContextResult;
  certDuplicateCertificateContext(cert: PCCERT_CONTEXT): PCCERT_CONTEXT;
  certCreateCertificateContext(encoding: number, der: Uint8Array): CertContextResult;
  certAddCertificateContextToStore(store: HCERTSTORE, cert: PCCERT_CONTEXT, disposition: number): { status: number; storeContext?: PCCERT_CONTEXT };
  certDeleteCertificateFromStore(cert: PCCERT_CONTEXT): { status: number };
  certGetCertificateContextProperty(cert: PCCERT_CONTEXT, propId: number): { status: number; pvData?: Buffer };
  certificateFigures(): { certificateStores: number; certificateContexts: number };
}

function n(): SchannelNative {
  return native() as unknown as SchannelNative;
}

/**
 * [PFXImportCertStore](https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-pfximportcertstore)
 * on the calling thread: opens a temporary store holding the PFX's certificates, and imports their
 * private keys into a key container (CSP / KSP) as dwFlags says.
 * @param pPFX - the PFX (PKCS#12) bytes. Copied; the copy is wiped after the call.
 * @param szPassword - the password: a string, or its UTF-8 bytes (a Buffer the caller can wipe with
 *   `fill(0)` as soon as this returns), or null (no password; '' is a different password to PKCS#12).
 *   The addon converts it to UTF-16 in a buffer of its own that it wipes (SecureZeroMemory) right after
 *   the call. A JavaScript string cannot be wiped: V8 owns it and may have copied it; pass a Buffer to
 *   keep the only copies under your control.
 * @param dwFlags - CRYPT_EXPORTABLE, CRYPT_USER_KEYSET, CRYPT_MACHINE_KEYSET, PKCS12_NO_PERSIST_KEY, ... (0: the
 *   key is persisted in the current user's key store, where it stays: closing the store does not delete it).
 * @returns `{ status, store? }`: ERROR_INVALID_PASSWORD as 0x80070056 for a wrong password (what Microsoft's
 *   crypt32 reports); other HRESULTs for bytes that are not a PFX (CRYPT_E_BAD_ENCODE, CRYPT_E_ASN1_*, ...).
 *   The store belongs to the caller ({@link CertCloseStore}).
 * @throws TypeError for a pPFX that is not a Uint8Array, a password of another type, invalid UTF-8 or a
 *   NUL in the password.
 */
export function PFXImportCertStore(pPFX: Uint8Array, szPassword: string | Uint8Array | null, dwFlags: number): CertStoreResult {
  return n().pfxImportCertStore(pPFX, szPassword, dwFlags, false) as CertStoreResult;
}

/**
 * {@link PFXImportCertStore} on the addon's SSPI call queue (importing a key can take a while and, on
 * Windows, talks to the key isolation service). Same arguments and result; wrong types throw
 * synchronously; the PFX and password are copied before this returns.
 */
export function PFXImportCertStoreAsync(pPFX: Uint8Array, szPassword: string | Uint8Array | null, dwFlags: number): Promise<CertStoreResult> {
  return n().pfxImportCertStore(pPFX, szPassword, dwFlags, true) as Promise<CertStoreResult>;
}

/**
 * [CertOpenStore](https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-certopenstore)
 * with hCryptProv NULL.
 * @param lpszStoreProvider - CERT_STORE_PROV.MEMORY, FILENAME_W, SYSTEM_W, SYSTEM_REGISTRY_W or PHYSICAL_W.
 * @param dwEncodingType - X509_ASN_ENCODING | PKCS_7_ASN_ENCODING, or 0 for the system stores.
 * @param dwFlags - a CERT_SYSTEM_STORE location (CURRENT_USER, LOCAL_MACHINE, ...) ORed with CERT_STORE_*_FLAG bits.
 * @param pvPara - the store name ('MY', 'Root', 'CA', ...) or file name; null for MEMORY.
 * @returns `{ status, store? }` (the caller closes the store).
 * @throws RangeError for another provider; TypeError for wrong types.
 */
export function CertOpenStore(lpszStoreProvider: number, dwEncodingType: number, dwFlags: number, pvPara: string | null): CertStoreResult {
  return n().certOpenStore(lpszStoreProvider, dwEncodingType, dwFlags, pvPara);
}

/**
 * [CertCloseStore](https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-certclosestore).
 * Certificates found in the store stay valid after it is closed (crypt32 keeps the store alive for them).
 * @returns 0, CRYPT_E_PENDING_CLOSE's value with CERT_CLOSE_STORE.CHECK_FLAG while contexts from the store
 *   are held, or 0 when already closed.
 * @throws TypeError when hCertStore is not an HCERTSTORE.
 */
export function CertCloseStore(hCertStore: HCERTSTORE, dwFlags = 0): number {
  return n().HCERTSTORE.prototype.close.call(hCertStore, dwFlags);
}

/**
 * [CertFindCertificateInStore](https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-certfindcertificateinstore).
 * @param dwFindType - CERT_FIND.ANY (pvFindPara null), SHA1_HASH / HASH (pvFindPara: the 20-byte SHA-1
 *   thumbprint), SUBJECT_STR_W / ISSUER_STR_W (pvFindPara: a string the name must contain, case-insensitive).
 * @param pPrevCertContext - null for the first match, else the previous match to continue after. Unlike C,
 *   it is not freed: the object keeps its reference (free it yourself).
 * @returns `{ status, certificate? }`; CRYPT_E_NOT_FOUND (0x80092004) when nothing (more) matches.
 * @throws RangeError for another dwFindType; TypeError / Error for a wrong, closed or freed handle.
 */
export function CertFindCertificateInStore(hCertStore: HCERTSTORE, dwCertEncodingType: number, dwFindFlags: number,
  dwFindType: number, pvFindPara: Uint8Array | string | null, pPrevCertContext: PCCERT_CONTEXT | null): CertContextResult {
  return n().certFindCertificateInStore(hCertStore, dwCertEncodingType, dwFindFlags, dwFindType, pvFindPara, pPrevCertContext);
}

/**
 * [CertEnumCertificatesInStore](https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-certenumcertificatesinstore).
 * @param pPrevCertContext - null for the first, else the previous one (not freed, unlike C).
 * @returns `{ status, certificate? }`; CRYPT_E_NOT_FOUND past the last one.
 */
export function CertEnumCertificatesInStore(hCertStore: HCERTSTORE, pPrevCertContext: PCCERT_CONTEXT | null): CertContextResult {
  return n().certEnumCertificatesInStore(hCertStore, pPrevCertContext);
}

/**
 * [CertCreateCertificateContext](https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-certcreatecertificatecontext):
 * a certificate context from its encoded bytes (copied by crypt32), in no store and without a private
 * key: for a trust store (CertAddCertificateContextToStore into a CERT_STORE_PROV.MEMORY store, then
 * SCH_CREDENTIALS.hRootStore) or to read a peer's certificate.
 * @param dwCertEncodingType - X509_ASN_ENCODING (| PKCS_7_ASN_ENCODING).
 * @returns `{ status, certificate? }`: CRYPT_E_ASN1_* / CRYPT_E_BAD_ENCODE-class HRESULTs for bytes that are
 *   not a certificate. The caller frees the certificate.
 * @throws TypeError when pbCertEncoded is not a Uint8Array.
 */
export function CertCreateCertificateContext(dwCertEncodingType: number, pbCertEncoded: Uint8Array): CertContextResult {
  return n().certCreateCertificateContext(dwCertEncodingType, pbCertEncoded);
}

/**
 * [CertDuplicateCertificateContext](https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-certduplicatecertificatecontext):
 * a second reference to the same context, as a new object the caller frees.
 * @throws TypeError / Error for a wrong or freed handle.
 */
export function CertDuplicateCertificateContext(pCertContext: PCCERT_CONTEXT): PCCERT_CONTEXT {
  return n().certDuplicateCertificateContext(pCertContext);
}

/**
 * [CertFreeCertificateContext](https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-certfreecertificatecontext)
 * of the object's reference. Idempotent.
 * @returns 0.
 * @throws TypeError when pCertContext is not a PCCERT_CONTEXT.
 */
export function CertFreeCertificateContext(pCertContext: PCCERT_CONTEXT): number {
  return n().PCCERT_CONTEXT.prototype.free.call(pCertContext);
}

/**
 * [CertAddCertificateContextToStore](https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-certaddcertificatecontexttostore):
 * copies the certificate and its properties (its private key's link included) into the store.
 * @param dwAddDisposition - CERT_STORE_ADD.NEW, USE_EXISTING, REPLACE_EXISTING, ALWAYS, ...
 * @returns `{ status, storeContext? }`: the copy in the store (the caller frees it); CRYPT_E_EXISTS for
 *   CERT_STORE_ADD.NEW when it is there already.
 */
export function CertAddCertificateContextToStore(hCertStore: HCERTSTORE, pCertContext: PCCERT_CONTEXT, dwAddDisposition: number):
  { status: number; storeContext?: PCCERT_CONTEXT } {
  return n().certAddCertificateContextToStore(hCertStore, pCertContext, dwAddDisposition);
}

/**
 * [CertDeleteCertificateFromStore](https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-certdeletecertificatefromstore):
 * deletes the certificate from the store it came from (a certificate found in CurrentUser\MY is removed
 * from CurrentUser\MY). The object keeps its reference (unlike C, where the call frees it).
 * @returns `{ status }`.
 */
export function CertDeleteCertificateFromStore(pCertContext: PCCERT_CONTEXT): { status: number } {
  return n().certDeleteCertificateFromStore(pCertContext);
}

/**
 * [CertGetCertificateContextProperty](https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-certgetcertificatecontextproperty).
 * @param dwPropId - CERT.SHA1_HASH_PROP_ID, KEY_PROV_INFO_PROP_ID, ...
 * @returns `{ status, pvData? }`: the property's bytes as crypt32 returns them (for structures that hold
 *   pointers, such as CRYPT_KEY_PROV_INFO, only their presence means something here); CRYPT_E_NOT_FOUND
 *   when the certificate has no such property.
 */
export function CertGetCertificateContextProperty(pCertContext: PCCERT_CONTEXT, dwPropId: number): { status: number; pvData?: Buffer } {
  return n().certGetCertificateContextProperty(pCertContext, dwPropId);
}

/** References to certificate stores and contexts the addon holds now (objects and calls in flight). */
export function certificateFigures(): { certificateStores: number; certificateContexts: number } {
  return n().certificateFigures();
}

/** True when `value` is a PCCERT_CONTEXT object of the addon (it may be freed). */
export function isCertContext(value: unknown): value is PCCERT_CONTEXT {
  return typeof value === 'object' && value !== null && value instanceof (n().PCCERT_CONTEXT as unknown as new () => object);
}

/** True when `value` is an HCERTSTORE object of the addon (it may be closed). */
export function isCertStore(value: unknown): value is HCERTSTORE {
  return typeof value === 'object' && value !== null && value instanceof (n().HCERTSTORE as unknown as new () => object);
}
