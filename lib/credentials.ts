import { CredentialsAttributeMap, queryCredentialsAttribute } from './attributes';
import { SECPKG_CRED, SECPKG_CRED_ATTR } from './constants';
import { disposeSymbol } from './disposable';
import { check } from './errors';
import { maxTokenSize } from './packages';
import { choice, optionalString, own } from './options';
import {
  AcquireCredentialsHandle, AcquireCredentialsHandleAsync, AcquireCredentialsHandleResult, SEC_WINNT_AUTH_IDENTITY,
} from './raw/credentials';
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

const USE: Record<CredentialUse, number> = {
  inbound: SECPKG_CRED.INBOUND,
  outbound: SECPKG_CRED.OUTBOUND,
  both: SECPKG_CRED.BOTH,
};

function authData(options: Record<string, unknown>): SEC_WINNT_AUTH_IDENTITY | null {
  const idValue = own(options, 'identity');
  const packageList = optionalString(options, 'packageList', 'options.packageList');
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

interface ParsedOptions {
  principal: string | null;
  package: string;
  use: CredentialUse;
  authData: SEC_WINNT_AUTH_IDENTITY | null;
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
  return { principal, package: pkg, use, authData: authData(options) };
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
   * @returns the credentials; the caller owns them (dispose() or `using`).
   * @rejects TypeError for options of the wrong shape (the promise rejects; nothing is thrown
   *   synchronously and no SSPI call is made).
   * @rejects Error with `code` 'ERR_SSPI_QUEUE_FULL' ({@link isQueueFull}) when the SSPI call queue is full.
   * @rejects SspiError (`function: 'AcquireCredentialsHandle'`): SEC_E_SECPKG_NOT_FOUND for an
   *   unknown package, SEC_E_NO_CREDENTIALS when the current user has none for it,
   *   SEC_E_NOT_OWNER, SEC_E_INTERNAL_ERROR, SEC_E_INSUFFICIENT_MEMORY.
   *   A wrong password is usually not detected here but by the handshake (SEC_E_LOGON_DENIED).
   */
  static async acquire(options: AcquireCredentialsOptions): Promise<Credentials> {
    const parsed = parseOptions(options);
    const r = await AcquireCredentialsHandleAsync(parsed.principal, parsed.package, USE[parsed.use], null, parsed.authData);
    return Credentials.fromResult(r, parsed);
  }

  /**
   * {@link Credentials.acquire} on the calling thread: same arguments and errors, thrown
   * synchronously (TypeError for options of the wrong shape, SspiError from
   * [AcquireCredentialsHandleW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-acquirecredentialshandlew)).
   */
  static acquireSync(options: AcquireCredentialsOptions): Credentials {
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

  [disposeSymbol](): void {
    this.dispose();
  }
}
