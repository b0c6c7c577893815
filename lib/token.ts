/**
 * Who the client is, and what they may do: {@link AccessToken}, built on lib/raw/tokens.ts.
 *
 * A server context's token comes from `SecurityContext.accessToken()` (QuerySecurityContextToken).
 * Reading the user's SID and group SIDs needs no domain controller (the token carries them); only
 * {@link AccessToken.lookupNames} asks for names (LookupAccountSid), asynchronously.
 *
 * Failures throw {@link SspiError}: for the SSPI calls with their SECURITY_STATUS, for the Win32 calls
 * with HRESULT_FROM_WIN32(GetLastError()) as `status` (e.g. 0x80070005, ERROR_ACCESS_DENIED; its
 * `code` is then the hex form, and the message carries the system's text).
 * @packageDocumentation
 */
import { disposeSymbol } from './disposable';
import { check, SspiError } from './errors';
import type { CtxtHandle as NativeCtxtHandle } from './raw/handles';
import {
  CheckTokenMembership, DuplicateToken, GetTokenInformation, HRESULT_FROM_WIN32, impersonateLoggedOnUserScoped,
  impersonateSecurityContextScoped, LookupAccountSidAsync, OpenProcessToken, OpenThreadToken, QuerySecurityContextToken,
  SE_GROUP, SECURITY_IMPERSONATION_LEVEL, SID_NAME_USE, TOKEN_ACCESS, TOKEN_INFORMATION_CLASS, TOKEN_TYPE, TokenHandle,
  WIN32_ERROR,
} from './raw/tokens';

/** A group of the token: its SID, SE_GROUP_* bits, and what they say. */
export interface TokenGroup {
  /** 'S-1-5-32-545' */
  sid: string;
  /** SE_GROUP_* bits. */
  attributes: number;
  /** SE_GROUP_ENABLED: the group counts in access checks. */
  enabled: boolean;
  /** SE_GROUP_USE_FOR_DENY_ONLY: the group only ever denies. */
  denyOnly: boolean;
  /** SE_GROUP_LOGON_ID: the logon session's SID (S-1-5-5-x-y), not a real group. */
  logonId: boolean;
}

/** A SID with its account name from LookupAccountSid; name and domain null where no one could name it. */
export interface AccountName {
  /** The SID, in string form ('S-1-5-21-...'). */
  sid: string;
  /** 'alice', 'Users'; null if unmapped (ERROR_NONE_MAPPED: logon SIDs, deleted accounts). */
  name: string | null;
  /** 'EXAMPLE', 'BUILTIN', 'NT AUTHORITY', the computer's name for local accounts; null if unmapped. */
  domain: string | null;
  /** SID_NAME_USE; null if unmapped. */
  use: SID_NAME_USE | null;
}

/** The token's impersonation level, .NET's TokenImpersonationLevel names; 'none' for a primary token. */
export type ImpersonationLevel = 'none' | 'anonymous' | 'identification' | 'impersonation' | 'delegation';

const LEVELS: Record<number, ImpersonationLevel> = {
  [SECURITY_IMPERSONATION_LEVEL.SecurityAnonymous]: 'anonymous',
  [SECURITY_IMPERSONATION_LEVEL.SecurityIdentification]: 'identification',
  [SECURITY_IMPERSONATION_LEVEL.SecurityImpersonation]: 'impersonation',
  [SECURITY_IMPERSONATION_LEVEL.SecurityDelegation]: 'delegation',
};

/** Well-known SIDs the guest/anonymous check knows ([well-known SIDs](https://learn.microsoft.com/en-us/windows/win32/secauthz/well-known-sids)). */
export const WELL_KNOWN_SID = {
  /** NT AUTHORITY\ANONYMOUS LOGON */
  ANONYMOUS_LOGON: 'S-1-5-7',
  /** NT AUTHORITY\Authenticated Users */
  AUTHENTICATED_USERS: 'S-1-5-11',
  /** BUILTIN\Users */
  BUILTIN_USERS: 'S-1-5-32-545',
  /** BUILTIN\Guests */
  BUILTIN_GUESTS: 'S-1-5-32-546',
} as const;

/** RID of the Guest account of a machine or domain (S-1-5-21-x-y-z-501). */
export const DOMAIN_USER_RID_GUEST = 501;
/** RID of the Domain Guests group (S-1-5-21-x-y-z-514). */
export const DOMAIN_GROUP_RID_GUESTS = 514;

function ridOf(sid: string, rid: number): boolean {
  return /^S-1-5-21-\d+-\d+-\d+-(\d+)$/i.exec(sid)?.[1] === String(rid);
}

/**
 * Why a token's user and groups make a guest or anonymous logon, or undefined when they do not:
 * - 'ANONYMOUS LOGON' (the user, or an enabled group, is S-1-5-7), only unless `allowAnonymous`;
 * - 'Guest account' (the user SID is a machine or domain SID with RID 501);
 * - 'Guests group' (enabled group BUILTIN\Guests S-1-5-32-546, or Domain Guests, RID 514).
 * Never allow anonymous or Guest by default: Windows maps failed or unknown logons to Guest where the
 * Guest account is enabled, which lets anyone in as "authenticated".
 * @param user the user's SID string; `groups` as {@link AccessToken.groups} gives them.
 */
export function guestOrAnonymous(user: string, groups: readonly TokenGroup[], options: { allowAnonymous?: boolean } = {}): string | undefined {
  const enabled = groups.filter((g) => g.enabled && !g.denyOnly).map((g) => g.sid.toUpperCase());
  if (!options.allowAnonymous && (user === WELL_KNOWN_SID.ANONYMOUS_LOGON || enabled.includes(WELL_KNOWN_SID.ANONYMOUS_LOGON))) {
    return 'ANONYMOUS LOGON';
  }
  if (ridOf(user, DOMAIN_USER_RID_GUEST)) return 'Guest account';
  if (enabled.includes(WELL_KNOWN_SID.BUILTIN_GUESTS) || enabled.some((s) => ridOf(s, DOMAIN_GROUP_RID_GUESTS))) return 'Guests group';
  return undefined;
}

/** Throws an SspiError for a failed Win32 call (`status` = HRESULT_FROM_WIN32). */
function checkWin32(status: number, fn: string): void {
  if (status !== 0) throw new SspiError(status, fn);
}

/** fn's result, unless it is a promise or thenable: then TypeError (its rejection is caught and dropped). */
function notThenable(value: unknown): unknown {
  const then = (value !== null && (typeof value === 'object' || typeof value === 'function'))
    ? (value as { then?: unknown }).then : undefined;
  if (typeof then === 'function') {
    // Nobody will ever see this promise settle; do not let its rejection crash the process.
    Promise.resolve(value).catch(() => undefined);
    throw new TypeError('impersonate(fn): fn returned a promise; impersonation was reverted when fn returned, so '
      + 'whatever runs after its first await would not run as the client. Pass a synchronous fn (await outside it)');
  }
  return value;
}

/**
 * An access token: who the client (or this process) is. Owns a {@link TokenHandle}; free it with
 * {@link AccessToken.dispose} or `using` (the finalizer closes it otherwise).
 *
 * ```ts
 * using token = server.accessToken();
 * if (!token.isMemberOf('S-1-5-32-544')) throw new Error('administrators only');
 * const { user } = await token.lookupNames();
 * ```
 */
export class AccessToken {
  /** The raw TokenHandle, for lib/raw calls. */
  readonly handle: TokenHandle;

  private constructor(handle: TokenHandle) {
    this.handle = handle;
  }

  /**
   * The client's token of an established server context
   * ([QuerySecurityContextToken](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querysecuritycontexttoken));
   * what `SecurityContext.accessToken()` calls.
   * @throws SspiError SEC_E_INVALID_HANDLE (no context yet), SEC_E_UNSUPPORTED_FUNCTION (Wine's secur32);
   *   Error if the context is deleted or busy.
   */
  static ofContext(context: NativeCtxtHandle, pkg?: string): AccessToken {
    const r = QuerySecurityContextToken(context);
    check(r.status, 'QuerySecurityContextToken', { package: pkg });
    return new AccessToken(r.token!);
  }

  /**
   * This process's token: [OpenProcessToken](https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-openprocesstoken)
   * (TOKEN_QUERY | TOKEN_DUPLICATE), then an impersonation-level copy
   * ([DuplicateToken](https://learn.microsoft.com/en-us/windows/win32/api/securitybaseapi/nf-securitybaseapi-duplicatetoken), SecurityImpersonation), so that {@link isMemberOf} and {@link impersonate}
   * work on it; the primary token is closed at once.
   * @throws SspiError with HRESULT_FROM_WIN32 of OpenProcessToken's / DuplicateToken's error.
   */
  static ofProcess(): AccessToken {
    const opened = OpenProcessToken(TOKEN_ACCESS.QUERY | TOKEN_ACCESS.DUPLICATE);
    checkWin32(opened.status, 'OpenProcessToken');
    try {
      const dup = DuplicateToken(opened.tokenHandle!, SECURITY_IMPERSONATION_LEVEL.SecurityImpersonation);
      checkWin32(dup.status, 'DuplicateToken');
      return new AccessToken(dup.duplicateTokenHandle!);
    } finally {
      opened.tokenHandle!.close();
    }
  }

  /**
   * The calling thread's impersonation token
   * ([OpenThreadToken](https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-openthreadtoken), TOKEN_QUERY, OpenAsSelf), e.g. inside
   * impersonate(fn); null when the thread is not impersonating (ERROR_NO_TOKEN).
   * @throws SspiError with HRESULT_FROM_WIN32 of other errors (ERROR_CANT_OPEN_ANONYMOUS).
   */
  static ofThread(): AccessToken | null {
    const r = OpenThreadToken(TOKEN_ACCESS.QUERY, true);
    if (r.status === HRESULT_FROM_WIN32(WIN32_ERROR.ERROR_NO_TOKEN)) return null;
    checkWin32(r.status, 'OpenThreadToken');
    return new AccessToken(r.tokenHandle!);
  }

  private info<C extends TOKEN_INFORMATION_CLASS>(cls: C) {
    const r = GetTokenInformation(this.handle, cls);
    checkWin32(r.status, 'GetTokenInformation');
    return r.tokenInformation!;
  }

  /**
   * The user (TokenUser, [GetTokenInformation](https://learn.microsoft.com/en-us/windows/win32/api/securitybaseapi/nf-securitybaseapi-gettokeninformation)):
   * `{ sid }`, e.g. 'S-1-5-21-...-1104'. No domain controller is asked.
   * @throws SspiError (HRESULT_FROM_WIN32); Error once disposed.
   */
  user(): { sid: string } {
    return { sid: this.info(TOKEN_INFORMATION_CLASS.TokenUser).User.Sid };
  }

  /**
   * The groups (TokenGroups): every SID with its SE_GROUP_* bits, deny-only and logon SIDs included
   * (see each entry's flags). No domain controller is asked.
   * @throws SspiError (HRESULT_FROM_WIN32); Error once disposed.
   */
  groups(): TokenGroup[] {
    return this.info(TOKEN_INFORMATION_CLASS.TokenGroups).Groups.map((g) => ({
      sid: g.Sid,
      attributes: g.Attributes >>> 0,
      enabled: (g.Attributes & SE_GROUP.ENABLED) !== 0,
      denyOnly: (g.Attributes & SE_GROUP.USE_FOR_DENY_ONLY) !== 0,
      logonId: ((g.Attributes >>> 0) & SE_GROUP.LOGON_ID) >>> 0 === SE_GROUP.LOGON_ID,
    }));
  }

  /**
   * Whether `sid` is an enabled group of this token
   * ([CheckTokenMembership](https://learn.microsoft.com/en-us/windows/win32/api/securitybaseapi/nf-securitybaseapi-checktokenmembership)):
   * deny-only groups do not count. Needs an impersonation token (a context's, or {@link ofProcess}'s).
   * @param sid a SID string, 'S-1-5-32-544'.
   * @throws TypeError for a malformed SID; SspiError (HRESULT_FROM_WIN32(ERROR_NO_IMPERSONATION_TOKEN) for a primary token).
   */
  isMemberOf(sid: string): boolean {
    const r = CheckTokenMembership(this.handle, sid);
    checkWin32(r.status, 'CheckTokenMembership');
    return r.isMember!;
  }

  /** TOKEN_TYPE: 'primary' or 'impersonation'. */
  tokenType(): 'primary' | 'impersonation' {
    return this.info(TOKEN_INFORMATION_CLASS.TokenType) === TOKEN_TYPE.TokenPrimary ? 'primary' : 'impersonation';
  }

  /**
   * The impersonation level (TokenImpersonationLevel) as .NET names it: what a server may do as the
   * client ('identification': look at the token only; 'impersonation': act as the client locally;
   * 'delegation': also towards other servers); 'none' for a primary token.
   */
  impersonationLevel(): ImpersonationLevel {
    if (this.tokenType() === 'primary') return 'none';
    const level = this.info(TOKEN_INFORMATION_CLASS.TokenImpersonationLevel);
    return LEVELS[level] ?? 'none';
  }

  /**
   * Why this token is a guest or anonymous logon ('ANONYMOUS LOGON', 'Guest account', 'Guests group'),
   * or undefined; see {@link guestOrAnonymous}.
   */
  guestOrAnonymous(options: { allowAnonymous?: boolean } = {}): string | undefined {
    return guestOrAnonymous(this.user().sid, this.groups(), options);
  }

  /**
   * The names of the user and of every group
   * ([LookupAccountSidW](https://learn.microsoft.com/en-us/windows/win32/api/winbase/nf-winbase-lookupaccountsidw)),
   * on the SSPI call queue: the only call here that may ask a domain controller. SIDs nobody can
   * name (ERROR_NONE_MAPPED: logon SIDs) get null names.
   * @rejects SspiError for other LookupAccountSid errors (HRESULT_FROM_WIN32).
   */
  async lookupNames(): Promise<{ user: AccountName; groups: AccountName[] }> {
    const sids = [this.user().sid, ...this.groups().map((g) => g.sid)];
    const names = await Promise.all(sids.map(async (sid): Promise<AccountName> => {
      const r = await LookupAccountSidAsync(null, sid);
      if (r.status === HRESULT_FROM_WIN32(WIN32_ERROR.ERROR_NONE_MAPPED)) return { sid, name: null, domain: null, use: null };
      checkWin32(r.status, 'LookupAccountSid');
      return { sid, name: r.name!, domain: r.referencedDomainName!, use: r.use! };
    }));
    return { user: names[0], groups: names.slice(1) };
  }

  /**
   * Runs `fn` synchronously on this thread as this token's user (ImpersonateLoggedOnUser, then
   * RevertToSelf in the same native call, on every path; RevertToSelf failing ends the process).
   * Returns what fn returns; rethrows what it throws.
   * @throws TypeError if fn is not a function, or returns a promise/thenable (already reverted by then);
   *   Error inside another impersonate scope; SspiError (HRESULT_FROM_WIN32) if impersonation fails.
   */
  impersonate<T>(fn: () => T): T {
    if (typeof fn !== 'function') throw new TypeError('impersonate: fn must be a function');
    const r = impersonateLoggedOnUserScoped(this.handle, fn);
    checkWin32(r.status, 'ImpersonateLoggedOnUser');
    return notThenable(r.value) as T;
  }

  /**
   * Closes the handle ([CloseHandle](https://learn.microsoft.com/en-us/windows/win32/api/handleapi/nf-handleapi-closehandle)); idempotent and never throws.
   * Later calls of the other methods throw Error.
   */
  dispose(): void {
    this.handle.close();
  }

  /** `using` support: the same as {@link AccessToken.dispose | dispose()}. */
  [disposeSymbol](): void {
    this.dispose();
  }
}

/**
 * What `SecurityContext.impersonate(fn)` calls: ImpersonateSecurityContext, fn, RevertSecurityContext
 * in one native call (see {@link impersonateSecurityContextScoped}).
 * @throws TypeError (fn not a function, or returning a promise); Error (nested scope, deleted/busy
 *   context); SspiError SEC_E_UNSUPPORTED_FUNCTION (Wine), SEC_E_NO_IMPERSONATION, SEC_E_INVALID_HANDLE;
 *   whatever fn throws.
 */
export function impersonateContext<T>(context: NativeCtxtHandle, fn: () => T, pkg?: string): T {
  if (typeof fn !== 'function') throw new TypeError('impersonate: fn must be a function');
  const r = impersonateSecurityContextScoped(context, fn);
  check(r.status, 'ImpersonateSecurityContext', { package: pkg });
  return notThenable(r.value) as T;
}
