import { SECPKG_CRED } from './constants';
import { disposeSymbol } from './disposable';
import { check } from './errors';
import { native, NativeAcquireResult, NativeAuthData, NativeCredHandle } from './native';
import { maxTokenSize } from './packages';
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

function authData(options: AcquireCredentialsOptions): NativeAuthData | null {
  const id = options.identity;
  if (id === undefined && options.packageList === undefined) return null;
  if (id !== undefined && (typeof id !== 'object' || id === null)) {
    throw new TypeError('identity must be an object { user, domain?, password }');
  }
  const data: NativeAuthData = {};
  if (id) {
    if (typeof id.user !== 'string') throw new TypeError('identity.user must be a string');
    if (typeof id.password !== 'string') throw new TypeError('identity.password must be a string');
    if (id.domain !== undefined && typeof id.domain !== 'string') throw new TypeError('identity.domain must be a string');
    let { user, domain } = id;
    if (domain === undefined) {
      // 'DOMAIN\user' is the down-level logon name; 'user@realm' (UPN) is passed through as the user.
      const slash = user.indexOf('\\');
      if (slash > 0) {
        domain = user.slice(0, slash);
        user = user.slice(slash + 1);
      }
    }
    data.user = user;
    data.password = id.password;
    if (domain !== undefined) data.domain = domain;
  }
  if (options.packageList !== undefined) {
    if (typeof options.packageList !== 'string') throw new TypeError('packageList must be a string');
    data.packageList = options.packageList;
  }
  return data;
}

function parseOptions(options: AcquireCredentialsOptions): [string | null, string, number, NativeAuthData | null] {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object { package, ... }');
  if (typeof options.package !== 'string' || options.package === '') throw new TypeError('options.package must be a package name');
  const use = options.use ?? 'outbound';
  if (!(use in USE)) throw new TypeError("options.use must be 'inbound', 'outbound' or 'both'");
  if (options.principal !== undefined && typeof options.principal !== 'string') throw new TypeError('options.principal must be a string');
  return [options.principal ?? null, options.package, USE[use], authData(options)];
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
  /** The native CredHandle. It cannot be forged: only AcquireCredentialsHandle makes one. */
  readonly handle: NativeCredHandle;
  /** The security package name as requested. */
  readonly package: string;
  /** fCredentialUse. */
  readonly use: CredentialUse;
  /** ptsExpiry as SSPI returned it (100-ns intervals since 1601-01-01). */
  readonly expiryTimeStamp: bigint;

  private constructor(handle: NativeCredHandle, options: AcquireCredentialsOptions, expiry: bigint) {
    this.handle = handle;
    this.package = options.package;
    this.use = options.use ?? 'outbound';
    this.expiryTimeStamp = expiry;
  }

  private static fromResult(r: NativeAcquireResult, options: AcquireCredentialsOptions): Credentials {
    check(r.status, 'AcquireCredentialsHandle', { package: options.package });
    return new Credentials(r.credential as NativeCredHandle, options, r.expiry ?? 0n);
  }

  /**
   * Acquires credentials off the JavaScript thread.
   *
   * Calls [AcquireCredentialsHandleW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-acquirecredentialshandlew)
   * on the thread pool.
   * @throws TypeError for options of the wrong shape (synchronously, before any call).
   * @rejects SspiError (`function: 'AcquireCredentialsHandle'`): SEC_E_SECPKG_NOT_FOUND for an
   *   unknown package, SEC_E_NO_CREDENTIALS when the current user has none for it,
   *   SEC_E_NOT_OWNER, SEC_E_INTERNAL_ERROR, SEC_E_INSUFFICIENT_MEMORY.
   *   A wrong password is usually not detected here but by the handshake (SEC_E_LOGON_DENIED).
   */
  static async acquire(options: AcquireCredentialsOptions): Promise<Credentials> {
    const [principal, pkg, use, data] = parseOptions(options);
    const r = await native().acquireCredentialsHandle(principal, pkg, use, data, true);
    return Credentials.fromResult(r, options);
  }

  /** {@link Credentials.acquire} on the calling thread. Same arguments and errors, thrown. */
  static acquireSync(options: AcquireCredentialsOptions): Credentials {
    const [principal, pkg, use, data] = parseOptions(options);
    return Credentials.fromResult(native().acquireCredentialsHandle(principal, pkg, use, data, false), options);
  }

  /** ptsExpiry as a Date, or null if it never expires (or the package does not say). */
  get expiry(): Date | null {
    return timeStampToDate(this.expiryTimeStamp);
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

  /** True once {@link Credentials.dispose} was called. */
  get disposed(): boolean {
    return !this.handle.valid;
  }

  /**
   * Frees the handle ([FreeCredentialsHandle](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-freecredentialshandle)).
   * Idempotent. If an asynchronous call still uses the handle, the free happens when it ends.
   * @throws SspiError if FreeCredentialsHandle fails (SEC_E_INVALID_HANDLE).
   */
  dispose(): void {
    const status = this.handle.free();
    if (status !== undefined) check(status, 'FreeCredentialsHandle', { package: this.package });
  }

  [disposeSymbol](): void {
    this.dispose();
  }
}
