/**
 * X.509 certificates for Schannel and CredSSP credentials: {@link Certificate}, a disposable owner of one
 * certificate context (PCCERT_CONTEXT), loaded from a PFX or found in a Windows certificate store.
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';

import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate as X509, Name } from '@peculiar/asn1-x509';

import { CERT, CERT_FIND, CERT_STORE, CERT_STORE_PROV, CERT_SYSTEM_STORE, CRYPT_E, PKCS_7, X509 as X509_ENCODING } from './constants';
import { disposeSymbol } from './disposable';
import { check, SspiError } from './errors';
import { optionalString, optionsObject, own } from './options';
import {
  CertCloseStore, CertContextResult, CertCreateCertificateContext, CertDuplicateCertificateContext, CertEnumCertificatesInStore, CertFindCertificateInStore, CertFreeCertificateContext,
  CertGetCertificateContextProperty, CertOpenStore, CertStoreResult, HCERTSTORE, isCertContext, PCCERT_CONTEXT,
  PFXImportCertStore, PFXImportCertStoreAsync,
} from './raw/schannel';

/** Options of {@link Certificate.fromPfx}. */
export interface PfxOptions {
  /**
   * dwFlags of PFXImportCertStore (PKCS12.* and CRYPT.* bits). Default 0: the private key is imported into
   * the current user's key store, where it stays after dispose() (crypt32 does not remove it);
   * PKCS12.NO_PERSIST_KEY keeps it in memory only (Wine 10's Schannel accepts such a certificate for
   * inbound credentials; whether a given Windows version's Schannel, which runs in LSASS, can use an
   * in-memory key is for the caller to check).
   */
  flags?: number;
  /** Which certificate of the PFX (SHA-1 thumbprint, hex); default: the first one with a private key. */
  thumbprint?: string;
}

/** Where {@link Certificate.fromStore} looks. */
export interface StoreQuery {
  /** The system store's name: 'MY' (default: the personal store), 'Root', 'CA', 'TrustedPeople', ... */
  storeName?: string;
  /** 'CurrentUser' (default) or 'LocalMachine'. */
  location?: 'CurrentUser' | 'LocalMachine';
  /** SHA-1 thumbprint, hex (spaces and colons ignored). */
  thumbprint?: string;
  /** A substring of the subject name, as CertFindCertificateInStore's CERT_FIND_SUBJECT_STR_W compares it (case-insensitive). */
  subject?: string;
}

const LOCATIONS = { CurrentUser: CERT_SYSTEM_STORE.CURRENT_USER, LocalMachine: CERT_SYSTEM_STORE.LOCAL_MACHINE };
const ENCODING = X509_ENCODING.ASN_ENCODING | PKCS_7.ASN_ENCODING;

// Short names of the attribute types a distinguished name usually holds (RFC 4514 section 3, plus E).
const SHORT_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.9': 'STREET', '2.5.4.10': 'O', '2.5.4.11': 'OU',
  '0.9.2342.19200300.100.1.25': 'DC', '0.9.2342.19200300.100.1.1': 'UID', '1.2.840.113549.1.9.1': 'E', '2.5.4.5': 'SERIALNUMBER',
};

/** A Name as 'CN=localhost, O=Example' (the order of the certificate, as Windows displays it). */
function nameString(name: Name): string {
  return name.map((rdn) => rdn.map((atv) => `${SHORT_NAMES[atv.type] ?? atv.type}=${atv.value.toString()}`).join(' + ')).join(', ');
}

function thumbprintBytes(value: unknown, what: string): Buffer {
  if (typeof value !== 'string') throw new TypeError(`${what} must be a string of 40 hex digits`);
  const hex = value.replace(/[\s:]/g, '');
  if (!/^[0-9a-fA-F]{40}$/.test(hex)) throw new TypeError(`${what} must be a SHA-1 thumbprint: 40 hex digits`);
  return Buffer.from(hex, 'hex');
}

function hasKey(context: PCCERT_CONTEXT): boolean {
  return [CERT.KEY_PROV_INFO_PROP_ID, CERT.KEY_CONTEXT_PROP_ID, CERT.NCRYPT_KEY_HANDLE_PROP_ID, CERT.KEY_PROV_HANDLE_PROP_ID]
    .some((id) => CertGetCertificateContextProperty(context, id).status === 0);
}

/**
 * One X.509 certificate as Windows holds it (a certificate context, PCCERT_CONTEXT), with its private key
 * when it has one: what Schannel server credentials (and client certificates) are made of
 * (`Credentials.acquire({ package: 'Schannel', certificate })`).
 *
 * Create with {@link Certificate.fromPfx} or {@link Certificate.fromStore}. The object owns one
 * reference to the context: {@link Certificate.dispose} (or `using`) releases it with
 * CertFreeCertificateContext; if you forget, its finalizer does when it is garbage-collected.
 * Credentials acquired with it hold references of their own, so disposing the Certificate after
 * `Credentials.acquire` (even while it is in flight) is safe.
 */
export class Certificate {
  /** The certificate context (`sspi/raw`); usable in raw calls (SCH_CREDENTIALS.paCred). */
  readonly context: PCCERT_CONTEXT;
  private readonly der: Buffer;
  private parsed: X509 | undefined;

  private constructor(context: PCCERT_CONTEXT) {
    this.context = context;
    this.der = context.pbCertEncoded;
  }

  /**
   * Loads a certificate and its private key from a PFX (PKCS#12), off the JavaScript thread.
   *
   * Calls [PFXImportCertStore](https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-pfximportcertstore)
   * on the SSPI call queue, picks the certificate (the first with a private key, or `options.thumbprint`),
   * and closes the temporary store ([CertCloseStore](https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-certclosestore));
   * the certificate keeps what it needs.
   * @param pfx - the PFX bytes.
   * @param passphrase - a string, or its UTF-8 bytes (a Buffer you can wipe with `fill(0)` once this
   *   returned: the addon copies it before). The addon's UTF-16 copy is wiped (SecureZeroMemory) right after
   *   the import. A JavaScript string cannot be wiped (V8 owns it); a Buffer leaves the only copies with you.
   *   null: no password.
   * @returns the certificate; the caller disposes it.
   * @rejects TypeError for arguments of the wrong type (the promise rejects).
   * @rejects SspiError (`function: 'PFXImportCertStore'`, `status` the HRESULT of GetLastError) when the
   *   PFX cannot be read: a wrong password (Microsoft's crypt32: ERROR_INVALID_PASSWORD, 0x80070056; Wine
   *   10 sets no error: E_FAIL, 0x80004005), bytes that are not a PFX; CRYPT_E_NOT_FOUND (0x80092004)
   *   when it holds no (matching) certificate.
   */
  static async fromPfx(pfx: Uint8Array, passphrase: string | Uint8Array | null, options?: PfxOptions): Promise<Certificate> {
    const { flags, thumbprint } = pfxOptions(options);
    return Certificate.pick(await PFXImportCertStoreAsync(pfx, passphrase, flags), thumbprint);
  }

  /** {@link Certificate.fromPfx} on the calling thread: same arguments and errors, thrown. */
  static fromPfxSync(pfx: Uint8Array, passphrase: string | Uint8Array | null, options?: PfxOptions): Certificate {
    const { flags, thumbprint } = pfxOptions(options);
    return Certificate.pick(PFXImportCertStore(pfx, passphrase, flags), thumbprint);
  }

  private static pick(r: CertStoreResult, thumbprint: Buffer | undefined): Certificate {
    check(r.status, 'PFXImportCertStore');
    const store = r.store as HCERTSTORE;
    try {
      if (thumbprint) return Certificate.found(CertFindCertificateInStore(store, ENCODING, 0, CERT_FIND.SHA1_HASH, thumbprint, null), 'PFXImportCertStore');
      let first: PCCERT_CONTEXT | undefined;
      for (let r2 = CertEnumCertificatesInStore(store, null); r2.certificate; ) {
        const c = r2.certificate;
        if (hasKey(c)) {
          first?.free();
          return new Certificate(c);
        }
        if (!first) first = CertDuplicateCertificateContext(c); // kept past the enumeration's step
        r2 = CertEnumCertificatesInStore(store, c);
        c.free();
      }
      if (first) return new Certificate(first);
      throw new SspiError(CRYPT_E.NOT_FOUND, 'PFXImportCertStore', { detail: 'looking for a certificate in the PFX' });
    } finally {
      CertCloseStore(store);
    }
  }

  private static found(r: CertContextResult, fn: string): Certificate {
    check(r.status, fn);
    return new Certificate(r.certificate as PCCERT_CONTEXT);
  }

  /**
   * Finds a certificate in a system certificate store, by thumbprint or subject (or the first one).
   *
   * Calls [CertOpenStore](https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-certopenstore)
   * (CERT_STORE_PROV_SYSTEM_W, read-only, existing stores only),
   * [CertFindCertificateInStore](https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-certfindcertificateinstore)
   * (CERT_FIND_SHA1_HASH, CERT_FIND_SUBJECT_STR_W or CERT_FIND_ANY) and CertCloseStore.
   * @returns the certificate (with its private key's link when the store has one); the caller disposes it.
   * @throws TypeError for options of the wrong shape (a thumbprint that is not 40 hex digits, both
   *   thumbprint and subject).
   * @throws SspiError (`function: 'CertOpenStore'` or `'CertFindCertificateInStore'`): CRYPT_E_NOT_FOUND
   *   (0x80092004) when no certificate matches, the store's failure when it cannot be opened.
   */
  static fromStore(query: StoreQuery = {}): Certificate {
    const q = optionsObject(query, 'query');
    const storeName = optionalString(q, 'storeName', 'query.storeName', true) ?? 'MY';
    const locationValue = own(q, 'location') ?? 'CurrentUser';
    if (locationValue !== 'CurrentUser' && locationValue !== 'LocalMachine') {
      throw new TypeError("query.location must be 'CurrentUser' or 'LocalMachine'");
    }
    const thumbprint = own(q, 'thumbprint') === undefined ? undefined : thumbprintBytes(own(q, 'thumbprint'), 'query.thumbprint');
    const subject = optionalString(q, 'subject', 'query.subject', true);
    if (thumbprint && subject !== undefined) throw new TypeError('query takes a thumbprint or a subject, not both');
    const opened = CertOpenStore(CERT_STORE_PROV.SYSTEM_W, 0,
      LOCATIONS[locationValue] | CERT_STORE.READONLY_FLAG | CERT_STORE.OPEN_EXISTING_FLAG, storeName);
    check(opened.status, 'CertOpenStore', { detail: `opening ${locationValue}\\${storeName}` });
    const store = opened.store as HCERTSTORE;
    try {
      const r = thumbprint ? CertFindCertificateInStore(store, ENCODING, 0, CERT_FIND.SHA1_HASH, thumbprint, null)
        : subject !== undefined ? CertFindCertificateInStore(store, ENCODING, 0, CERT_FIND.SUBJECT_STR_W, subject, null)
          : CertFindCertificateInStore(store, ENCODING, 0, CERT_FIND.ANY, null, null);
      return Certificate.found(r, 'CertFindCertificateInStore');
    } finally {
      CertCloseStore(store);
    }
  }

  /**
   * A certificate from its DER bytes, without a private key (a peer's certificate, or one to trust), via
   * [CertCreateCertificateContext](https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-certcreatecertificatecontext).
   * @returns the certificate; the caller disposes it.
   * @throws TypeError when `der` is not a Buffer / Uint8Array.
   * @throws SspiError (`function: 'CertCreateCertificateContext'`) for bytes that are not a certificate.
   */
  static fromDer(der: Uint8Array): Certificate {
    return Certificate.found(CertCreateCertificateContext(ENCODING, der), 'CertCreateCertificateContext');
  }

  /**
   * Wraps a certificate context from `sspi/raw` (its reference now belongs to the Certificate).
   * @throws TypeError when `context` is not a PCCERT_CONTEXT; Error when it was freed.
   */
  static fromContext(context: PCCERT_CONTEXT): Certificate {
    if (!isCertContext(context)) throw new TypeError('context must be a PCCERT_CONTEXT');
    return new Certificate(context);
  }

  private get x509(): X509 {
    this.parsed ??= AsnConvert.parse(this.der, X509);
    return this.parsed;
  }

  /** The certificate's DER encoding (pbCertEncoded); a new Buffer on each read. */
  get raw(): Buffer {
    return Buffer.from(this.der);
  }

  /** SHA-1 of the DER, upper-case hex: what Windows calls the thumbprint. */
  get thumbprint(): string {
    return createHash('sha1').update(this.der).digest('hex').toUpperCase();
  }

  /** The subject name, 'CN=host, O=Example' (parsed with @peculiar/asn1-x509). */
  get subject(): string {
    return nameString(this.x509.tbsCertificate.subject);
  }

  /** The issuer name, in the form of {@link Certificate.subject}. */
  get issuer(): string {
    return nameString(this.x509.tbsCertificate.issuer);
  }

  /** notBefore. */
  get validFrom(): Date {
    return this.x509.tbsCertificate.validity.notBefore.getTime();
  }

  /** notAfter. */
  get validTo(): Date {
    return this.x509.tbsCertificate.validity.notAfter.getTime();
  }

  /**
   * Whether Windows links a private key to the certificate (CertGetCertificateContextProperty finds
   * CERT_KEY_PROV_INFO_PROP_ID, CERT_KEY_CONTEXT_PROP_ID, CERT_NCRYPT_KEY_HANDLE_PROP_ID or
   * CERT_KEY_PROV_HANDLE_PROP_ID). It does not open the key.
   * @throws Error once disposed.
   */
  get hasPrivateKey(): boolean {
    return hasKey(this.context);
  }

  /** True once disposed. */
  get disposed(): boolean {
    return !this.context.valid;
  }

  /** Subject, issuer, thumbprint and validity; never key material. */
  toJSON(): { subject: string; issuer: string; thumbprint: string; validFrom: string; validTo: string } {
    return { subject: this.subject, issuer: this.issuer, thumbprint: this.thumbprint, validFrom: this.validFrom.toISOString(), validTo: this.validTo.toISOString() };
  }

  /**
   * Releases the context ([CertFreeCertificateContext](https://learn.microsoft.com/en-us/windows/win32/api/wincrypt/nf-wincrypt-certfreecertificatecontext)).
   * Idempotent; never throws. The DER-derived properties stay readable; `context` and `hasPrivateKey` throw.
   */
  dispose(): void {
    CertFreeCertificateContext(this.context);
  }

  /** `using` support: the same as {@link Certificate.dispose | dispose()}. */
  [disposeSymbol](): void {
    this.dispose();
  }
}

function pfxOptions(options: PfxOptions | undefined): { flags: number; thumbprint: Buffer | undefined } {
  const o = optionsObject(options, 'options');
  const flagsValue = own(o, 'flags') ?? 0;
  if (typeof flagsValue !== 'number' || !Number.isInteger(flagsValue) || flagsValue < 0 || flagsValue > 0xffffffff) {
    throw new TypeError('options.flags must be an integer of PKCS12 / CRYPT bits');
  }
  const t = own(o, 'thumbprint');
  return { flags: flagsValue, thumbprint: t === undefined ? undefined : thumbprintBytes(t, 'options.thumbprint') };
}
