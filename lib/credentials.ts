import { release } from 'node:os';
import { CredentialsAttributeMap, queryCredentialsAttribute } from './attributes';
import { Certificate } from './certificates';
import { CREDSSP_SUBMIT_TYPE, SCH, SCH_CRED, SCHANNEL, SECPKG_CRED, SECPKG_CRED_ATTR, SP_PROT } from './constants';
import { disposeSymbol } from './disposable';
import { check } from './errors';
import { maxTokenSize } from './packages';
import { choice, optionalBoolean, optionalString, own } from './options';
import {
  AcquireCredentialsHandle, AcquireCredentialsHandleAsync, AcquireCredentialsHandleResult, AuthData, CREDSSP_CRED,
  CRYPTO_SETTINGS, SCH_CREDENTIALS, SCHANNEL_CRED, SEC_WINNT_AUTH_IDENTITY,
} from './raw/credentials';
import { HCERTSTORE, isCertStore } from './raw/schannel';
import { CredHandle, FreeCredentialsHandle } from './raw/handles';
import { timeStampToDate } from './time';

/** Direction of a credential (fCredentialUse): a client's is 'outbound', a server's 'inbound'. */
export type CredentialUse = 'inbound' | 'outbound' | 'both';

/**
 * An explicit identity for {@link Credentials.acquire}, marshalled as SEC_WINNT_AUTH_IDENTITY_W
 * (Unicode), or as SEC_WINNT_AUTH_IDENTITY_EXW when a `packageList` goes with it. Without one,
 * the credentials are those of the current logon session (the process's Windows user, or a
 * Kerberos ticket cache where the platform uses one).
 */
export interface AuthIdentity {
  /** User name: 'alice', or 'DOMAIN\\alice' / 'alice@REALM' when `domain` is not given. */
  user: string;
  /** NetBIOS domain or DNS realm. */
  domain?: string;
  /** The password. Copied to native memory and wiped after the call; never logged or put in errors. */
  password: string;
}

/**
 * Options of {@link Credentials.acquire} for Negotiate, Kerberos, NTLM and the other packages that take a
 * SEC_WINNT_AUTH_IDENTITY (Schannel and CredSSP have their own option shapes).
 */
export interface AcquireCredentialsOptions {
  /** Security package name: 'Negotiate', 'Kerberos', 'NTLM', ... */
  package: string;
  /** fCredentialUse: 'outbound' (client, default), 'inbound' (server) or 'both'. */
  use?: CredentialUse;
  /** pszPrincipal: the principal whose credentials to use; usually omitted. */
  principal?: string;
  /** Explicit user, domain and password; omit for the current user. */
  identity?: AuthIdentity;
  /**
   * Negotiate only: the PackageList of SEC_WINNT_AUTH_IDENTITY_EXW, e.g. '!NTLM' to forbid NTLM or
   * 'Kerberos' to allow only Kerberos. Requires `identity` or is sent with an empty identity.
   */
  packageList?: string;
}

/** A TLS protocol version, as Node's `tls` names them. */
export type TlsProtocol = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** Certificate revocation checking of a Schannel client (or of a server checking client certificates). */
export type RevocationCheck = 'none' | 'end-certificate' | 'chain' | 'chain-exclude-root';

/**
 * Schannel options of {@link Credentials.acquire} (`package: 'Schannel'`), and the inner TLS credentials
 * of CredSSP. They become an
 * [SCH_CREDENTIALS](https://learn.microsoft.com/en-us/windows/win32/api/schannel/ns-schannel-sch_credentials)
 * where Windows has it (10 1809 / Server 2019, build 17763, and later), the structure that enables TLS 1.3 on
 * Microsoft's Schannel (with SCHANNEL_CRED Microsoft's Schannel offers TLS 1.2 at most), or else an
 * [SCHANNEL_CRED](https://learn.microsoft.com/en-us/windows/win32/api/schannel/ns-schannel-schannel_cred);
 * `schannelCredVersion` chooses one explicitly ({@link defaultSchannelCredVersion}).
 */
export interface SchannelOptions {
  /** The certificate with its private key: a server's (required for 'inbound'), or a client's. */
  certificate?: Certificate;
  /**
   * The protocol versions allowed; default: the system's. As SCH_CREDENTIALS: TLS_PARAMETERS
   * grbitDisabledProtocols, the complement (every other SSL/TLS version of the side); as SCHANNEL_CRED:
   * grbitEnabledProtocols. The SP_PROT_*_SERVER bits for 'inbound', _CLIENT for 'outbound', both for 'both'.
   */
  protocols?: TlsProtocol[];
  /**
   * Client: do not validate the server's certificate (SCH_CRED_MANUAL_CRED_VALIDATION); the caller checks it
   * (SECPKG_ATTR_REMOTE_CERT_CONTEXT). Default false: Schannel validates it (SCH_CRED_AUTO_CRED_VALIDATION)
   * against the target name given to the context.
   */
  manualValidation?: boolean;
  /** Client: do not compare the server certificate's names with the target name (SCH_CRED_NO_SERVERNAME_CHECK). */
  noServerNameCheck?: boolean;
  /** Revocation checking (SCH_CRED_REVOCATION_CHECK_*); default 'none' (Schannel's default). */
  revocation?: RevocationCheck;
  /** With `revocation`: accept when the revocation server cannot be reached (SCH_CRED_IGNORE_REVOCATION_OFFLINE). */
  ignoreRevocationOffline?: boolean;
  /** With `revocation`: accept when revocation cannot be checked (SCH_CRED_IGNORE_NO_REVOCATION_CHECK). */
  ignoreNoRevocationCheck?: boolean;
  /** Client: never pick a client certificate by itself (SCH_CRED_NO_DEFAULT_CREDS). */
  noDefaultCredentials?: boolean;
  /** Disable the cipher suites Microsoft deems weak (SCH_USE_STRONG_CRYPTO). */
  strongCrypto?: boolean;
  /** The trusted roots to validate against instead of the system's (hRootStore). */
  rootStore?: HCERTSTORE;
  /** How long a TLS session is cached, in milliseconds (dwSessionLifespan); default Schannel's. */
  sessionLifespan?: number;
  /** SCH_CREDENTIALS only: algorithms to disable (TLS_PARAMETERS pDisabledCrypto). */
  disabledCrypto?: CRYPTO_SETTINGS[];
  /** Further SCH_CRED_* / SCH_* bits, ORed into dwFlags. */
  flags?: number;
  /**
   * 'SCH_CREDENTIALS' or 'SCHANNEL_CRED'. Default: {@link defaultSchannelCredVersion} (SCH_CREDENTIALS from
   * Windows 10 1809 / Server 2019 on, SCHANNEL_CRED before), or SCH_CREDENTIALS whenever `disabledCrypto`
   * is given (only it carries that).
   */
  schannelCredVersion?: 'SCH_CREDENTIALS' | 'SCHANNEL_CRED';
}

/** Options of {@link Credentials.acquire} for `package: 'Schannel'`. */
export interface SchannelAcquireOptions extends SchannelOptions {
  /** The Schannel package, by either of its names. */
  package: 'Schannel' | 'Microsoft Unified Security Protocol Provider';
  /** fCredentialUse: 'outbound' (client, default), 'inbound' (server) or 'both'. */
  use?: CredentialUse;
  /** pszPrincipal; usually omitted. */
  principal?: string;
}

/**
 * Options of {@link Credentials.acquire} for `package: 'CredSSP'`: a
 * [CREDSSP_CRED](https://learn.microsoft.com/en-us/windows/win32/api/credssp/ns-credssp-credssp_cred) with the
 * inner TLS credentials (`schannel`) and the identity to delegate (`identity`, or the current user's).
 */
export interface CredSspAcquireOptions {
  /** The CredSSP package. */
  package: 'CredSSP';
  /** fCredentialUse: 'outbound' (client, default), 'inbound' (server) or 'both'. */
  use?: CredentialUse;
  /** pszPrincipal; usually omitted. */
  principal?: string;
  /** The credentials delegated to the server (pSpnegoCred); default: the current user's. */
  identity?: AuthIdentity;
  /** The TLS credentials (pSchannelCred); default: Schannel's own defaults (null). */
  schannel?: SchannelOptions;
  /** CREDSSP_CRED.Type; default CREDSSP_SUBMIT_TYPE.CredsspSubmitBufferBoth (both structures submitted). */
  submitType?: CREDSSP_SUBMIT_TYPE;
}

const USE: Record<CredentialUse, number> = {
  inbound: SECPKG_CRED.INBOUND,
  outbound: SECPKG_CRED.OUTBOUND,
  both: SECPKG_CRED.BOTH,
};

function identityOf(idValue: unknown, packageList: string | undefined): SEC_WINNT_AUTH_IDENTITY | null {
  if (idValue === undefined && packageList === undefined) return null;
  const data: SEC_WINNT_AUTH_IDENTITY = {};
  if (idValue !== undefined) {
    if (typeof idValue !== 'object' || idValue === null || Array.isArray(idValue)) {
      throw new TypeError('options.identity must be an object { user, domain?, password }');
    }
    const id = idValue as Record<string, unknown>;
    let user = own(id, 'user');
    if (typeof user !== 'string') throw new TypeError('options.identity.user must be a string');
    if (typeof own(id, 'password') !== 'string') throw new TypeError('options.identity.password must be a string');
    let domain = optionalString(id, 'domain', 'options.identity.domain');
    if (domain === undefined) {
      // 'DOMAIN\user' is the down-level logon name; 'user@realm' (UPN) is passed through as the user.
      const slash = user.indexOf('\\');
      if (slash > 0) {
        domain = user.slice(0, slash);
        user = user.slice(slash + 1);
      }
    }
    data.User = user as string;
    data.Password = own(id, 'password') as string;
    if (domain !== undefined) data.Domain = domain;
  }
  if (packageList !== undefined) data.PackageList = packageList;
  return data;
}

const PROTOCOLS: Record<TlsProtocol, [number, number]> = {
  TLSv1: [SP_PROT.TLS1_0_SERVER, SP_PROT.TLS1_0_CLIENT],
  'TLSv1.1': [SP_PROT.TLS1_1_SERVER, SP_PROT.TLS1_1_CLIENT],
  'TLSv1.2': [SP_PROT.TLS1_2_SERVER, SP_PROT.TLS1_2_CLIENT],
  'TLSv1.3': [SP_PROT.TLS1_3_SERVER, SP_PROT.TLS1_3_CLIENT],
};
// Every SSL/TLS version bit of a side: what SCH_CREDENTIALS' grbitDisabledProtocols complements over.
const ALL_VERSIONS: [number, number] = [
  SP_PROT.SSL2_SERVER | SP_PROT.SSL3_SERVER | SP_PROT.TLS1_X_SERVER,
  SP_PROT.SSL2_CLIENT | SP_PROT.SSL3_CLIENT | SP_PROT.TLS1_X_CLIENT,
];
const REVOCATION: Record<RevocationCheck, number> = {
  none: 0,
  'end-certificate': SCH_CRED.REVOCATION_CHECK_END_CERT,
  chain: SCH_CRED.REVOCATION_CHECK_CHAIN,
  'chain-exclude-root': SCH_CRED.REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT,
};

/** The first Windows build with SCH_CREDENTIALS: Windows 10 1809 and Windows Server 2019 (10.0.17763). */
const SCH_CREDENTIALS_FIRST_BUILD = 17763;

/**
 * The structure {@link Credentials.acquire} sends to Schannel when `schannelCredVersion` is not given, from
 * the Windows version `os.release()` reports ('10.0.17763'): 'SCH_CREDENTIALS' on Windows 10 1809 /
 * Windows Server 2019 (build 17763) and later, the first versions with it
 * ([SCH_CREDENTIALS](https://learn.microsoft.com/en-us/windows/win32/api/schannel/ns-schannel-sch_credentials),
 * Requirements), and 'SCHANNEL_CRED' on older Windows (Windows 8.1, Server 2012 R2 and 2016, Windows 10
 * before 1809), whose Schannel does not know SCH_CREDENTIALS. A version string that does not parse gives
 * 'SCH_CREDENTIALS'.
 * @param version - a Windows version as `os.release()` gives it; default the running system's.
 */
export function defaultSchannelCredVersion(version: string = release()): 'SCH_CREDENTIALS' | 'SCHANNEL_CRED' {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!m) return 'SCH_CREDENTIALS';
  const [major, minor, build] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (major > 10 || (major === 10 && (minor > 0 || build >= SCH_CREDENTIALS_FIRST_BUILD))) return 'SCH_CREDENTIALS';
  return 'SCHANNEL_CRED';
}

/** The bits of `pair` for the side(s) of `use`. */
function sideBits(pair: [number, number], use: CredentialUse): number {
  return ((use === 'outbound' ? 0 : pair[0]) | (use === 'inbound' ? 0 : pair[1])) >>> 0;
}

function optionalUint32(options: Record<string, unknown>, name: string, what: string): number | undefined {
  const v = own(options, name);
  if (v === undefined) return undefined;
  if (typeof v !== 'number') throw new TypeError(`${what} must be a number`);
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${what} must be an integer from 0 to 0xFFFFFFFF`);
  return v;
}

/**
 * The pAuthData {@link Credentials.acquire} sends to Schannel for these options: an
 * [SCH_CREDENTIALS](https://learn.microsoft.com/en-us/windows/win32/api/schannel/ns-schannel-sch_credentials)
 * (where Windows has it: {@link defaultSchannelCredVersion}; `protocols` become
 * TLS_PARAMETERS.grbitDisabledProtocols, the complement of what is allowed
 * among SSL 2.0 to TLS 1.3 on the side(s) of `use`), or an
 * [SCHANNEL_CRED](https://learn.microsoft.com/en-us/windows/win32/api/schannel/ns-schannel-schannel_cred)
 * (`protocols` as grbitEnabledProtocols). For raw AcquireCredentialsHandle callers who want the facade's
 * option names. The certificate's context is referenced, not copied: keep the Certificate until the call.
 * @throws TypeError / RangeError for options of the wrong shape; Error for a disposed certificate.
 */
export function schannelAuthData(options: SchannelOptions, use: CredentialUse = 'outbound'): SCH_CREDENTIALS | SCHANNEL_CRED {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new TypeError('options must be an object of Schannel options');
  return schannelCred(options as Record<string, unknown>, choice(use, USE, 'use'), 'options');
}

function schannelCred(options: Record<string, unknown>, use: CredentialUse, what: string): SCH_CREDENTIALS | SCHANNEL_CRED {
  const certificate = own(options, 'certificate');
  if (certificate !== undefined && !(certificate instanceof Certificate)) throw new TypeError(`${what}.certificate must be a Certificate`);
  if (certificate instanceof Certificate && certificate.disposed) throw new Error(`${what}.certificate has been disposed`);
  const version = own(options, 'schannelCredVersion')
    ?? (own(options, 'disabledCrypto') !== undefined ? 'SCH_CREDENTIALS' : defaultSchannelCredVersion());
  if (version !== 'SCH_CREDENTIALS' && version !== 'SCHANNEL_CRED') {
    throw new TypeError(`${what}.schannelCredVersion must be 'SCH_CREDENTIALS' or 'SCHANNEL_CRED'`);
  }
  let allowed: number | undefined;
  const protocols = own(options, 'protocols');
  if (protocols !== undefined) {
    if (!Array.isArray(protocols) || protocols.length === 0) throw new TypeError(`${what}.protocols must be a non-empty array such as ['TLSv1.2', 'TLSv1.3']`);
    allowed = 0;
    for (const p of protocols) allowed |= sideBits(PROTOCOLS[choice(p, PROTOCOLS, `${what}.protocols[]`)], use);
    allowed >>>= 0;
  }
  let flags = optionalUint32(options, 'flags', `${what}.flags`) ?? 0;
  const manual = optionalBoolean(options, 'manualValidation', `${what}.manualValidation`);
  if (use !== 'inbound') flags |= manual ? SCH_CRED.MANUAL_CRED_VALIDATION : SCH_CRED.AUTO_CRED_VALIDATION;
  else if (manual) flags |= SCH_CRED.MANUAL_CRED_VALIDATION;
  if (optionalBoolean(options, 'noServerNameCheck', `${what}.noServerNameCheck`)) flags |= SCH_CRED.NO_SERVERNAME_CHECK;
  const revocation = own(options, 'revocation');
  if (revocation !== undefined) flags |= REVOCATION[choice(revocation, REVOCATION, `${what}.revocation`)];
  if (optionalBoolean(options, 'ignoreRevocationOffline', `${what}.ignoreRevocationOffline`)) flags |= SCH_CRED.IGNORE_REVOCATION_OFFLINE;
  if (optionalBoolean(options, 'ignoreNoRevocationCheck', `${what}.ignoreNoRevocationCheck`)) flags |= SCH_CRED.IGNORE_NO_REVOCATION_CHECK;
  if (optionalBoolean(options, 'noDefaultCredentials', `${what}.noDefaultCredentials`)) flags |= SCH_CRED.NO_DEFAULT_CREDS;
  if (optionalBoolean(options, 'strongCrypto', `${what}.strongCrypto`)) flags |= SCH.USE_STRONG_CRYPTO;
  const rootStore = own(options, 'rootStore');
  if (rootStore !== undefined && !isCertStore(rootStore)) throw new TypeError(`${what}.rootStore must be an HCERTSTORE`);
  const lifespan = optionalUint32(options, 'sessionLifespan', `${what}.sessionLifespan`);
  const disabledCrypto = own(options, 'disabledCrypto');
  if (disabledCrypto !== undefined && !Array.isArray(disabledCrypto)) throw new TypeError(`${what}.disabledCrypto must be an array of CRYPTO_SETTINGS`);
  const common = {
    ...(certificate instanceof Certificate ? { paCred: [certificate.context] } : {}),
    ...(rootStore !== undefined ? { hRootStore: rootStore as HCERTSTORE } : {}),
    ...(lifespan !== undefined ? { dwSessionLifespan: lifespan } : {}),
    dwFlags: flags >>> 0,
  };
  if (version === 'SCHANNEL_CRED') {
    if (disabledCrypto !== undefined) throw new TypeError(`${what}.disabledCrypto needs SCH_CREDENTIALS (SCHANNEL_CRED has palgSupportedAlgs instead)`);
    return { dwVersion: SCHANNEL.CRED_VERSION as 4, ...common, ...(allowed !== undefined ? { grbitEnabledProtocols: allowed } : {}) };
  }
  const disabled = allowed === undefined ? 0 : (sideBits(ALL_VERSIONS, use) & ~allowed) >>> 0;
  const tls = disabled !== 0 || disabledCrypto !== undefined
    ? { pTlsParameters: [{ grbitDisabledProtocols: disabled, ...(disabledCrypto !== undefined ? { pDisabledCrypto: disabledCrypto as CRYPTO_SETTINGS[] } : {}) }] }
    : {};
  return { dwVersion: SCH.CREDENTIALS_VERSION as 5, ...common, ...tls };
}

interface ParsedOptions {
  principal: string | null;
  package: string;
  use: CredentialUse;
  authData: AuthData | null;
}

function parseOptions(value: unknown): ParsedOptions {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError('options must be an object { package, use?, principal?, identity?, packageList? }');
  }
  const options = value as Record<string, unknown>;
  const pkg = optionalString(options, 'package', 'options.package', true);
  if (pkg === undefined || pkg === '') throw new TypeError("options.package must be a package name such as 'Negotiate'");
  const useValue = own(options, 'use');
  const use = useValue === undefined ? 'outbound' : choice(useValue, USE, 'options.use');
  const principal = optionalString(options, 'principal', 'options.principal', true) ?? null;
  const kind = pkg.toLowerCase();
  let authData: AuthData | null;
  if (kind === 'schannel' || kind === 'microsoft unified security protocol provider' || kind === 'default tls ssp') {
    authData = schannelCred(options, use, 'options');
  } else if (kind === 'credssp' || kind === 'tsssp') {
    const inner = own(options, 'schannel');
    if (inner !== undefined && (typeof inner !== 'object' || inner === null || Array.isArray(inner))) {
      throw new TypeError('options.schannel must be an object of Schannel options');
    }
    const submitType = optionalUint32(options, 'submitType', 'options.submitType') ?? CREDSSP_SUBMIT_TYPE.CredsspSubmitBufferBoth;
    const cred: CREDSSP_CRED = {
      Type: submitType,
      pSchannelCred: inner === undefined ? null : schannelCred(inner as Record<string, unknown>, use, 'options.schannel'),
      pSpnegoCred: identityOf(own(options, 'identity'), undefined),
    };
    authData = cred;
  } else {
    authData = identityOf(own(options, 'identity'), optionalString(options, 'packageList', 'options.packageList'));
  }
  return { principal, package: pkg, use, authData };
}

/**
 * A credentials handle (CredHandle) for one security package.
 *
 * Create with {@link Credentials.acquire} (asynchronous) or {@link Credentials.acquireSync}; pass to
 * {@link ClientContext} or {@link ServerContext}. Free with {@link Credentials.dispose} or `using`;
 * if you forget, the handle's finalizer calls FreeCredentialsHandle when it is garbage-collected.
 * Contexts created from it keep working after dispose() until they finish their current call.
 */
export class Credentials {
  /** The CredHandle (`sspi/raw`). It cannot be forged: only AcquireCredentialsHandle makes one. */
  readonly handle: CredHandle;
  /** The security package name as requested. */
  readonly package: string;
  /** fCredentialUse. */
  readonly use: CredentialUse;
  /** ptsExpiry as SSPI returned it: 100-ns intervals since 1601-01-01, local time (see {@link timeStampToDate}). */
  readonly expiryTimeStamp: bigint;
  /** ptsExpiry as an instant, converted from local time when the call returned; null for "never" / not reported. */
  readonly expiry: Date | null;

  private constructor(handle: CredHandle, parsed: ParsedOptions, expiry: bigint, at: Date) {
    this.handle = handle;
    this.package = parsed.package;
    this.use = parsed.use;
    this.expiryTimeStamp = expiry;
    this.expiry = timeStampToDate(expiry, { at });
  }

  private static fromResult(r: AcquireCredentialsHandleResult, parsed: ParsedOptions): Credentials {
    const at = new Date();
    check(r.status, 'AcquireCredentialsHandle', { package: parsed.package });
    return new Credentials(r.credential as CredHandle, parsed, r.expiry ?? 0n, at);
  }

  /**
   * Acquires credentials off the JavaScript thread.
   *
   * Calls [AcquireCredentialsHandleW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-acquirecredentialshandlew)
   * on the addon's SSPI call queue ({@link configureQueue}). Options are read as own properties only.
   * @param options - `package` (name, required), `use` ('outbound' default, 'inbound', 'both'),
   *   `principal`, `identity` ({ user, domain?, password }), `packageList` (Negotiate).
   *   For 'Schannel': {@link SchannelOptions} (`certificate`, `protocols`, `manualValidation`, ...),
   *   sent as SCH_CREDENTIALS (or SCHANNEL_CRED with `schannelCredVersion`). For 'CredSSP':
   *   {@link CredSspAcquireOptions} (`schannel`, `identity`, `submitType`), sent as CREDSSP_CRED. A
   *   certificate may be disposed as soon as this was called: the call holds its own reference.
   * @returns the credentials; the caller owns them (dispose() or `using`).
   * @rejects TypeError for options of the wrong shape (the promise rejects; nothing is thrown
   *   synchronously and no SSPI call is made).
   * @rejects Error with `code` 'ERR_SSPI_QUEUE_FULL' ({@link isQueueFull}) when the SSPI call queue is full.
   * @rejects SspiError (`function: 'AcquireCredentialsHandle'`): SEC_E_SECPKG_NOT_FOUND for an
   *   unknown package, SEC_E_NO_CREDENTIALS when the current user has none for it,
   *   SEC_E_NOT_OWNER, SEC_E_INTERNAL_ERROR, SEC_E_INSUFFICIENT_MEMORY. Schannel: a failure for a
   *   certificate without a usable private key (Wine 10: SEC_E_UNKNOWN_CREDENTIALS), SEC_E_ALGORITHM_MISMATCH
   *   when no allowed protocol is available (Wine 10 for TLS 1.3 with SCHANNEL_CRED). CredSSP under
   *   Wine: SEC_E_SECPKG_NOT_FOUND (Wine has no CredSSP package).
   *   A wrong password is usually not detected here but by the handshake (SEC_E_LOGON_DENIED).
   */
  static async acquire(options: AcquireCredentialsOptions | SchannelAcquireOptions | CredSspAcquireOptions): Promise<Credentials> {
    const parsed = parseOptions(options);
    const r = await AcquireCredentialsHandleAsync(parsed.principal, parsed.package, USE[parsed.use], null, parsed.authData);
    return Credentials.fromResult(r, parsed);
  }

  /**
   * {@link Credentials.acquire} on the calling thread: same arguments and errors, thrown
   * synchronously (TypeError for options of the wrong shape, SspiError from
   * [AcquireCredentialsHandleW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-acquirecredentialshandlew)).
   */
  static acquireSync(options: AcquireCredentialsOptions | SchannelAcquireOptions | CredSspAcquireOptions): Credentials {
    const parsed = parseOptions(options);
    return Credentials.fromResult(AcquireCredentialsHandle(parsed.principal, parsed.package, USE[parsed.use], null, parsed.authData), parsed);
  }

  /**
   * cbMaxToken of the package (bytes): the output buffer size contexts supply. Read once per
   * package with [QuerySecurityPackageInfoW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querysecuritypackageinfow)
   * and cached.
   * @throws SspiError SEC_E_SECPKG_NOT_FOUND if the package vanished since acquisition.
   */
  get maxTokenSize(): number {
    return maxTokenSize(this.package);
  }

  /**
   * Queries one credentials attribute, typed by the attribute ({@link CredentialsAttributeMap}):
   * SECPKG_CRED_ATTR.NAMES, and for Schannel SECPKG_ATTR.SUPPORTED_ALGS / CIPHER_STRENGTHS /
   * SUPPORTED_PROTOCOLS. Calls [QueryCredentialsAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycredentialsattributesw);
   * what the package allocates is copied and freed inside.
   * @throws RangeError for another attribute; Error if disposed.
   * @throws SspiError (`function: 'QueryCredentialsAttributes'`): SEC_E_UNSUPPORTED_FUNCTION where the
   *   package does not provide it, SEC_E_INVALID_HANDLE.
   */
  queryAttribute<A extends keyof CredentialsAttributeMap>(attribute: A): CredentialsAttributeMap[A] {
    return queryCredentialsAttribute(this.handle, attribute, this.package);
  }

  /**
   * SECPKG_CRED_ATTR_NAMES: the user the credentials belong to ('DOMAIN\\user' or a UPN, as the
   * package reports it), via [QueryCredentialsAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycredentialsattributesw).
   * @throws SspiError SEC_E_UNSUPPORTED_FUNCTION where the package cannot say. Error if disposed.
   */
  userName(): string {
    return this.queryAttribute(SECPKG_CRED_ATTR.NAMES).sUserName ?? '';
  }

  /** True once {@link Credentials.dispose} was called. */
  get disposed(): boolean {
    return !this.handle.valid;
  }

  /**
   * What JSON.stringify shows: the package, use, expiry (ISO 8601 or null) and whether disposed;
   * never the handle, the identity or the password (none of which the object keeps).
   */
  toJSON(): { package: string; use: CredentialUse; expiry: string | null; disposed: boolean } {
    return { package: this.package, use: this.use, expiry: this.expiry?.toISOString() ?? null, disposed: this.disposed };
  }

  /**
   * Frees the handle ([FreeCredentialsHandle](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-freecredentialshandle)).
   * Idempotent. If an asynchronous call still uses the handle, the free happens when it ends.
   * @throws SspiError if FreeCredentialsHandle fails (SEC_E_INVALID_HANDLE).
   */
  dispose(): void {
    const status = FreeCredentialsHandle(this.handle);
    if (status !== undefined) check(status, 'FreeCredentialsHandle', { package: this.package });
  }

  /** `using` support: the same as {@link Credentials.dispose | dispose()}. */
  [disposeSymbol](): void {
    this.dispose();
  }
}
