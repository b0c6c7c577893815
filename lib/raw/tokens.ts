/**
 * The raw layer of "who is the client, and what may they do": the SSPI calls
 * QuerySecurityContextToken, ImpersonateSecurityContext and RevertSecurityContext (secur32), and the
 * Win32 access-token calls they lead to (advapi32): OpenProcessToken, OpenThreadToken, DuplicateToken,
 * GetTokenInformation, CheckTokenMembership, LookupAccountSid, ImpersonateLoggedOnUser, RevertToSelf.
 *
 * ## Statuses
 * Every result is `{ status, ...out parameters }` with `status` RETURNED, never thrown, as an unsigned
 * 32-bit number:
 * - the SSPI calls return their SECURITY_STATUS (SEC_E_OK, SEC_E_INVALID_HANDLE, SEC_E_UNSUPPORTED_FUNCTION, ...);
 * - the Win32 calls report failure through GetLastError(); their `status` is
 *   [HRESULT_FROM_WIN32](https://learn.microsoft.com/en-us/windows/win32/api/winerror/nf-winerror-hresult_from_win32)(GetLastError())
 *   (0 on success), e.g. ERROR_NO_TOKEN (1008) -> 0x800703F0. A SECURITY_STATUS is an HRESULT of
 *   facility 9 (0x8009xxxx); a Win32 error becomes one of facility 7 (0x8007xxxx), so the two never
 *   collide, one `status` field serves both, and {@link win32ErrorOf} gives the Win32 code back.
 *
 * Only JavaScript misuse throws: TypeError for wrong types (a SID string that ConvertStringSidToSidW
 * rejects included), RangeError for an unsupported information class, Error for a closed TokenHandle
 * or a deleted / busy CtxtHandle.
 *
 * ## Who frees what
 * A token is a {@link TokenHandle}: a kernel HANDLE the addon owns. CloseHandle runs on `close()`, or
 * when the object is garbage-collected, or (if an asynchronous call still uses it) when that call ends.
 * JavaScript cannot construct or forge one.
 *
 * ## Sync and Async
 * Calls that may block (LookupAccountSid may ask a domain controller) or touch a handle get an
 * `...Async` form run on the SSPI call queue. Calls whose meaning is "the calling thread"
 * (OpenThreadToken, ImpersonateSecurityContext, RevertSecurityContext, ImpersonateLoggedOnUser,
 * RevertToSelf) have no Async form: a queue thread is not the caller's thread, see each function.
 * @packageDocumentation
 */
import { native } from '../native';
import type { CtxtHandle as NativeCtxtHandle } from './handles';

/**
 * An access token (a kernel HANDLE) owned by the addon; CloseHandle runs on close(), or in its
 * finalizer, or when the last asynchronous call using it ends.
 */
export interface TokenHandle {
  /** False once closed. */
  readonly valid: boolean;
  /** Closes the handle (CloseHandle); idempotent. Later calls with it throw Error. */
  close(): void;
}

/** SID_AND_ATTRIBUTES: a SID as a string ('S-1-5-32-545') and its SE_GROUP_* attribute bits. */
export interface SidAndAttributes {
  Sid: string;
  Attributes: number;
}

/** TOKEN_STATISTICS; LUIDs as bigint ((HighPart << 32) | LowPart), ExpirationTime in 100-ns units. */
export interface TokenStatistics {
  TokenId: bigint;
  AuthenticationId: bigint;
  ExpirationTime: bigint;
  /** TOKEN_TYPE */
  TokenType: number;
  /** SECURITY_IMPERSONATION_LEVEL (meaningful for impersonation tokens) */
  ImpersonationLevel: number;
  /** Bytes. */
  DynamicCharged: number;
  /** Bytes. */
  DynamicAvailable: number;
  GroupCount: number;
  PrivilegeCount: number;
  ModifiedId: bigint;
}

/** TOKEN_INFORMATION_CLASS values this binding reads ([winnt.h](https://learn.microsoft.com/en-us/windows/win32/api/winnt/ne-winnt-token_information_class)). */
export enum TOKEN_INFORMATION_CLASS {
  TokenUser = 1,
  TokenGroups = 2,
  TokenPrivileges = 3,
  TokenOwner = 4,
  TokenPrimaryGroup = 5,
  TokenType = 8,
  TokenImpersonationLevel = 9,
  TokenStatistics = 10,
  TokenSessionId = 12,
  TokenElevationType = 18,
  TokenElevation = 20,
  TokenIntegrityLevel = 25,
  TokenLogonSid = 28,
}

/** What GetTokenInformation returns per information class (the Win32 structure, SIDs as strings). */
export interface TokenInformationMap {
  [TOKEN_INFORMATION_CLASS.TokenUser]: { User: SidAndAttributes };
  [TOKEN_INFORMATION_CLASS.TokenGroups]: { Groups: SidAndAttributes[] };
  [TOKEN_INFORMATION_CLASS.TokenPrivileges]: { Privileges: { Luid: bigint; Attributes: number }[] };
  [TOKEN_INFORMATION_CLASS.TokenOwner]: { Owner: string };
  [TOKEN_INFORMATION_CLASS.TokenPrimaryGroup]: { PrimaryGroup: string };
  /** TOKEN_TYPE */
  [TOKEN_INFORMATION_CLASS.TokenType]: number;
  /** SECURITY_IMPERSONATION_LEVEL */
  [TOKEN_INFORMATION_CLASS.TokenImpersonationLevel]: number;
  [TOKEN_INFORMATION_CLASS.TokenStatistics]: TokenStatistics;
  [TOKEN_INFORMATION_CLASS.TokenSessionId]: number;
  /** TOKEN_ELEVATION_TYPE */
  [TOKEN_INFORMATION_CLASS.TokenElevationType]: number;
  [TOKEN_INFORMATION_CLASS.TokenElevation]: { TokenIsElevated: number };
  /** TOKEN_MANDATORY_LABEL */
  [TOKEN_INFORMATION_CLASS.TokenIntegrityLevel]: { Label: SidAndAttributes };
  [TOKEN_INFORMATION_CLASS.TokenLogonSid]: { Groups: SidAndAttributes[] };
}

/** TOKEN_TYPE. */
export enum TOKEN_TYPE {
  TokenPrimary = 1,
  TokenImpersonation = 2,
}

/** SECURITY_IMPERSONATION_LEVEL. */
export enum SECURITY_IMPERSONATION_LEVEL {
  SecurityAnonymous = 0,
  SecurityIdentification = 1,
  SecurityImpersonation = 2,
  SecurityDelegation = 3,
}

/** TOKEN_ELEVATION_TYPE. */
export enum TOKEN_ELEVATION_TYPE {
  TokenElevationTypeDefault = 1,
  TokenElevationTypeFull = 2,
  TokenElevationTypeLimited = 3,
}

/** SE_GROUP_* attribute bits of a group in TOKEN_GROUPS (header names SE_GROUP_<member>). */
export enum SE_GROUP {
  MANDATORY = 0x1,
  ENABLED_BY_DEFAULT = 0x2,
  ENABLED = 0x4,
  OWNER = 0x8,
  USE_FOR_DENY_ONLY = 0x10,
  INTEGRITY = 0x20,
  INTEGRITY_ENABLED = 0x40,
  RESOURCE = 0x20000000,
  LOGON_ID = 0xc0000000,
}

/** Token access rights for OpenProcessToken / OpenThreadToken (header names TOKEN_<member>). */
export enum TOKEN_ACCESS {
  ASSIGN_PRIMARY = 0x1,
  DUPLICATE = 0x2,
  IMPERSONATE = 0x4,
  QUERY = 0x8,
  QUERY_SOURCE = 0x10,
  ADJUST_PRIVILEGES = 0x20,
  ADJUST_GROUPS = 0x40,
  ADJUST_DEFAULT = 0x80,
  ADJUST_SESSIONID = 0x100,
  READ = 0x20008,
  ALL_ACCESS = 0xf01ff,
}

/** SID_NAME_USE, LookupAccountSid's `use`. */
export enum SID_NAME_USE {
  SidTypeUser = 1,
  SidTypeGroup = 2,
  SidTypeDomain = 3,
  SidTypeAlias = 4,
  SidTypeWellKnownGroup = 5,
  SidTypeDeletedAccount = 6,
  SidTypeInvalid = 7,
  SidTypeUnknown = 8,
  SidTypeComputer = 9,
  SidTypeLabel = 10,
}

/** Win32 error codes (winerror.h) these calls document; `status` carries them as HRESULT_FROM_WIN32. */
export enum WIN32_ERROR {
  ERROR_ACCESS_DENIED = 5,
  ERROR_INVALID_HANDLE = 6,
  ERROR_INVALID_PARAMETER = 87,
  ERROR_CALL_NOT_IMPLEMENTED = 120,
  ERROR_INSUFFICIENT_BUFFER = 122,
  ERROR_NO_TOKEN = 1008,
  ERROR_NO_IMPERSONATION_TOKEN = 1309,
  ERROR_NONE_MAPPED = 1332,
  ERROR_INVALID_SID = 1337,
  ERROR_BAD_IMPERSONATION_LEVEL = 1346,
  ERROR_CANT_OPEN_ANONYMOUS = 1347,
}

/**
 * [HRESULT_FROM_WIN32](https://learn.microsoft.com/en-us/windows/win32/api/winerror/nf-winerror-hresult_from_win32):
 * the `status` a Win32 error code becomes (0 stays 0), as an unsigned 32-bit number.
 */
export function HRESULT_FROM_WIN32(error: number): number {
  return error <= 0 ? error >>> 0 : ((error & 0xffff) | 0x80070000) >>> 0;
}

/** The Win32 error code inside a `status` of facility 7 (0x8007xxxx), else undefined (a SECURITY_STATUS). */
export function win32ErrorOf(status: number): number | undefined {
  return ((status & 0xffff0000) >>> 0) === 0x80070000 ? status & 0xffff : undefined;
}

/** Result of a call that yields a token. */
export interface TokenResult {
  status: number;
  token?: TokenHandle;
}

interface TokensNative {
  TokenHandle: new (...args: never[]) => TokenHandle;
  querySecurityContextToken(ctx: NativeCtxtHandle, async: boolean): TokenResult | Promise<TokenResult>;
  openProcessToken(access: number, async: boolean): OpenTokenResult | Promise<OpenTokenResult>;
  openThreadToken(access: number, openAsSelf: boolean): OpenTokenResult;
  duplicateToken(token: TokenHandle, level: number, async: boolean): DuplicateTokenResult | Promise<DuplicateTokenResult>;
  getTokenInformation(token: TokenHandle, cls: number, async: boolean): TokenInformationResult<TOKEN_INFORMATION_CLASS> | Promise<TokenInformationResult<TOKEN_INFORMATION_CLASS>>;
  checkTokenMembership(token: TokenHandle | null, sid: string, async: boolean): CheckTokenMembershipResult | Promise<CheckTokenMembershipResult>;
  lookupAccountSid(systemName: string | null, sid: string, async: boolean): LookupAccountSidResult | Promise<LookupAccountSidResult>;
  impersonateSecurityContext(ctx: NativeCtxtHandle): number;
  revertSecurityContext(ctx: NativeCtxtHandle): number;
  impersonateLoggedOnUser(token: TokenHandle): number;
  revertToSelf(): number;
  impersonateSecurityContextScoped(ctx: NativeCtxtHandle, fn: () => unknown): { status: number; value?: unknown };
  impersonateLoggedOnUserScoped(token: TokenHandle, fn: () => unknown): { status: number; value?: unknown };
  tokenHandleCount(): number;
  tokenHeaderConstants: Record<string, number>;
}

/** A promise of the call's result; a synchronous throw (TypeError for a bad argument) becomes a rejection. */
function later<T>(call: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(call());
  } catch (e) {
    return Promise.reject(e);
  }
}

/** The addon's token functions (src-native/tokens.cc), typed. @internal */
export function tokensNative(): TokensNative {
  return native() as unknown as TokensNative;
}

/** The TokenHandle class of the addon (for `instanceof`); it cannot be constructed from JavaScript. */
export function tokenHandleClass(): new (...args: never[]) => TokenHandle {
  return tokensNative().TokenHandle;
}

/** Token handles the addon holds open now, process-wide (a diagnostic for leak tests). */
export function tokenHandleCount(): number {
  return tokensNative().tokenHandleCount();
}

// ---------------------------------------------------------------- SSPI

/**
 * [QuerySecurityContextToken](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querysecuritycontexttoken):
 * the access token of the client of an established server context (the context of
 * AcceptSecurityContext), for GetTokenInformation / CheckTokenMembership.
 *
 * @param phContext an established server CtxtHandle (busy while the call runs).
 * @returns `{ status, token }`: SEC_E_OK and a new {@link TokenHandle} the caller owns (close() it, or
 *   let the finalizer); SEC_E_INVALID_HANDLE for a context not yet created; SEC_E_UNSUPPORTED_FUNCTION
 *   where the package cannot (Wine's secur32, every package); SEC_E_NO_IMPERSONATION /
 *   SEC_E_INVALID_HANDLE from a client context.
 * @throws TypeError if phContext is not a CtxtHandle; Error if it is deleted or busy.
 */
export function QuerySecurityContextToken(phContext: NativeCtxtHandle): TokenResult {
  return tokensNative().querySecurityContextToken(phContext, false) as TokenResult;
}

/** {@link QuerySecurityContextToken} on the SSPI call queue. */
export function QuerySecurityContextTokenAsync(phContext: NativeCtxtHandle): Promise<TokenResult> {
  return later(() => tokensNative().querySecurityContextToken(phContext, true));
}

/**
 * [ImpersonateSecurityContext](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-impersonatesecuritycontext):
 * the CALLING OS THREAD, that is the JavaScript thread itself, takes the client's identity until
 * {@link RevertSecurityContext}.
 *
 * DANGER: impersonation belongs to the OS thread, not to a function or a request. Until reverted, every
 * file, registry or network access of this JavaScript thread (every callback of every request, the
 * event loop's own work on this thread) runs as the client; a throw between the two calls leaves it so.
 * Prefer the facade's scoped `SecurityContext.impersonate(fn)`, which reverts in every case inside one
 * native call. libuv's thread pool and the SSPI call queue never carry the identity.
 *
 * There is deliberately no Async form: a queue thread would impersonate, return and either stay the
 * client for whatever call it runs next (dangerous) or revert at once (useless).
 *
 * @returns the SECURITY_STATUS (no out parameters): SEC_E_OK; SEC_E_INVALID_HANDLE for a context not yet created;
 *   SEC_E_NO_IMPERSONATION; SEC_E_UNSUPPORTED_FUNCTION (Wine's secur32).
 * @throws TypeError if phContext is not a CtxtHandle; Error if it is deleted or busy.
 */
export function ImpersonateSecurityContext(phContext: NativeCtxtHandle): number {
  return tokensNative().impersonateSecurityContext(phContext);
}

/**
 * [RevertSecurityContext](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-revertsecuritycontext):
 * ends the calling thread's impersonation by {@link ImpersonateSecurityContext}. Synchronous only, for
 * the same reason (it acts on the calling OS thread).
 * @returns the SECURITY_STATUS: SEC_E_OK; SEC_E_INVALID_HANDLE; SEC_E_UNSUPPORTED_FUNCTION (Wine's secur32).
 * @throws TypeError if phContext is not a CtxtHandle; Error if it is deleted or busy (inside the
 *   facade's impersonate(fn) the context is busy: the scope reverts itself).
 */
export function RevertSecurityContext(phContext: NativeCtxtHandle): number {
  return tokensNative().revertSecurityContext(phContext);
}

// ---------------------------------------------------------------- Win32 tokens

/** Result of OpenProcessToken / OpenThreadToken. */
export interface OpenTokenResult {
  /** 0, or HRESULT_FROM_WIN32(GetLastError()). */
  status: number;
  /** TokenHandle: a new token the caller owns. */
  tokenHandle?: TokenHandle;
}

/**
 * [OpenProcessToken](https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-openprocesstoken)
 * for this process (ProcessHandle = GetCurrentProcess(); other processes are out of scope).
 * @param DesiredAccess TOKEN_ACCESS bits (TOKEN_QUERY to read it; TOKEN_DUPLICATE for DuplicateToken).
 * @returns `{ status, tokenHandle }`: 0 and a new primary token the caller owns; else
 *   HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED) and the like.
 * @throws TypeError if DesiredAccess is not an unsigned 32-bit integer.
 */
export function OpenProcessToken(DesiredAccess: number): OpenTokenResult {
  return tokensNative().openProcessToken(DesiredAccess, false) as OpenTokenResult;
}

/** {@link OpenProcessToken} on the SSPI call queue. */
export function OpenProcessTokenAsync(DesiredAccess: number): Promise<OpenTokenResult> {
  return later(() => tokensNative().openProcessToken(DesiredAccess, true));
}

/**
 * [OpenThreadToken](https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-openthreadtoken)
 * of the calling (JavaScript) thread: its impersonation token, e.g. inside `impersonate(fn)`.
 * Synchronous only: on a queue thread it would read that thread's token.
 * @param DesiredAccess TOKEN_ACCESS bits.
 * @param OpenAsSelf true: the access check uses the process's identity, false: the impersonated one's.
 * @returns `{ status, tokenHandle }`; HRESULT_FROM_WIN32(ERROR_NO_TOKEN) (0x800703F0) when the
 *   thread is not impersonating; HRESULT_FROM_WIN32(ERROR_CANT_OPEN_ANONYMOUS) for an anonymous one.
 * @throws TypeError for wrong argument types.
 */
export function OpenThreadToken(DesiredAccess: number, OpenAsSelf: boolean): OpenTokenResult {
  return tokensNative().openThreadToken(DesiredAccess, OpenAsSelf);
}

/** Result of DuplicateToken. */
export interface DuplicateTokenResult {
  status: number;
  /** DuplicateTokenHandle: a new impersonation token the caller owns. */
  duplicateTokenHandle?: TokenHandle;
}

/**
 * [DuplicateToken](https://learn.microsoft.com/en-us/windows/win32/api/securitybaseapi/nf-securitybaseapi-duplicatetoken):
 * an impersonation token from an existing one (a process token needs one for CheckTokenMembership).
 * @param ExistingTokenHandle opened with TOKEN_DUPLICATE.
 * @param ImpersonationLevel a SECURITY_IMPERSONATION_LEVEL.
 * @returns `{ status, duplicateTokenHandle }`; HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED) without TOKEN_DUPLICATE.
 * @throws TypeError for wrong types; Error if ExistingTokenHandle is closed.
 */
export function DuplicateToken(ExistingTokenHandle: TokenHandle, ImpersonationLevel: SECURITY_IMPERSONATION_LEVEL): DuplicateTokenResult {
  return tokensNative().duplicateToken(ExistingTokenHandle, ImpersonationLevel, false) as DuplicateTokenResult;
}

/** {@link DuplicateToken} on the SSPI call queue. */
export function DuplicateTokenAsync(ExistingTokenHandle: TokenHandle, ImpersonationLevel: SECURITY_IMPERSONATION_LEVEL): Promise<DuplicateTokenResult> {
  return later(() => tokensNative().duplicateToken(ExistingTokenHandle, ImpersonationLevel, true));
}

/** Result of GetTokenInformation for one information class. */
export interface TokenInformationResult<C extends TOKEN_INFORMATION_CLASS> {
  status: number;
  /** TokenInformation: the structure, with its Win32 field names and SIDs as strings. */
  tokenInformation?: TokenInformationMap[C];
}

/**
 * [GetTokenInformation](https://learn.microsoft.com/en-us/windows/win32/api/securitybaseapi/nf-securitybaseapi-gettokeninformation),
 * sized by a first call; SIDs converted with ConvertSidToStringSidW. No domain controller is asked.
 * @param TokenHandle opened with TOKEN_QUERY.
 * @param TokenInformationClass one of {@link TOKEN_INFORMATION_CLASS}.
 * @returns `{ status, tokenInformation }`; HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED) without TOKEN_QUERY;
 *   HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER) for a class the token has no answer to.
 * @throws TypeError for wrong types; RangeError for another class; Error if the token is closed.
 */
export function GetTokenInformation<C extends TOKEN_INFORMATION_CLASS>(TokenHandle: TokenHandle, TokenInformationClass: C): TokenInformationResult<C> {
  return tokensNative().getTokenInformation(TokenHandle, TokenInformationClass, false) as TokenInformationResult<C>;
}

/** {@link GetTokenInformation} on the SSPI call queue. */
export function GetTokenInformationAsync<C extends TOKEN_INFORMATION_CLASS>(TokenHandle: TokenHandle, TokenInformationClass: C): Promise<TokenInformationResult<C>> {
  return later(() => tokensNative().getTokenInformation(TokenHandle, TokenInformationClass, true)) as Promise<TokenInformationResult<C>>;
}

/** Result of CheckTokenMembership. */
export interface CheckTokenMembershipResult {
  status: number;
  /** IsMember: the SID is an enabled group of the token (deny-only groups do not count). */
  isMember?: boolean;
}

/**
 * [CheckTokenMembership](https://learn.microsoft.com/en-us/windows/win32/api/securitybaseapi/nf-securitybaseapi-checktokenmembership):
 * whether a SID is enabled in a token.
 * @param TokenHandle an IMPERSONATION token with TOKEN_QUERY (QuerySecurityContextToken's, or
 *   DuplicateToken of a process token); a primary token gives HRESULT_FROM_WIN32(ERROR_NO_IMPERSONATION_TOKEN)
 *   on Windows. null: the calling thread's token (sync form only).
 * @param SidToCheck a SID string such as 'S-1-5-32-545'.
 * @returns `{ status, isMember }`.
 * @throws TypeError for wrong types or a malformed SID string; Error if the token is closed.
 */
export function CheckTokenMembership(TokenHandle: TokenHandle | null, SidToCheck: string): CheckTokenMembershipResult {
  return tokensNative().checkTokenMembership(TokenHandle, SidToCheck, false) as CheckTokenMembershipResult;
}

/** {@link CheckTokenMembership} on the SSPI call queue; TokenHandle null is refused (TypeError): a queue thread is not the caller. */
export function CheckTokenMembershipAsync(TokenHandle: TokenHandle, SidToCheck: string): Promise<CheckTokenMembershipResult> {
  return later(() => tokensNative().checkTokenMembership(TokenHandle, SidToCheck, true));
}

/** Result of LookupAccountSid. */
export interface LookupAccountSidResult {
  status: number;
  /** Name: the account name ('alice', 'Users'). */
  name?: string;
  /** ReferencedDomainName: its domain ('EXAMPLE', 'BUILTIN', the computer name for local accounts). */
  referencedDomainName?: string;
  /** peUse: a {@link SID_NAME_USE}. */
  use?: SID_NAME_USE;
}

/**
 * [LookupAccountSidW](https://learn.microsoft.com/en-us/windows/win32/api/winbase/nf-winbase-lookupaccountsidw):
 * the account name of a SID. May ask a domain controller (a domain SID not cached): use the Async form
 * on servers.
 * @param lpSystemName the computer to ask, or null for this one.
 * @param Sid a SID string.
 * @returns `{ status, name, referencedDomainName, use }`; HRESULT_FROM_WIN32(ERROR_NONE_MAPPED)
 *   (0x80070534) for a SID nobody can name.
 * @throws TypeError for wrong types or a malformed SID string.
 */
export function LookupAccountSid(lpSystemName: string | null, Sid: string): LookupAccountSidResult {
  return tokensNative().lookupAccountSid(lpSystemName, Sid, false) as LookupAccountSidResult;
}

/** {@link LookupAccountSid} on the SSPI call queue. */
export function LookupAccountSidAsync(lpSystemName: string | null, Sid: string): Promise<LookupAccountSidResult> {
  return later(() => tokensNative().lookupAccountSid(lpSystemName, Sid, true));
}

/**
 * [ImpersonateLoggedOnUser](https://learn.microsoft.com/en-us/windows/win32/api/securitybaseapi/nf-securitybaseapi-impersonateloggedonuser):
 * the calling (JavaScript) thread takes the token's identity until {@link RevertToSelf}. Same DANGER
 * and the same reason for having no Async form as {@link ImpersonateSecurityContext}; prefer the
 * facade's `AccessToken.impersonate(fn)`.
 * @returns 0 or HRESULT_FROM_WIN32(GetLastError()).
 * @throws TypeError if hToken is not a TokenHandle; Error if it is closed.
 */
export function ImpersonateLoggedOnUser(hToken: TokenHandle): number {
  return tokensNative().impersonateLoggedOnUser(hToken);
}

/**
 * [RevertToSelf](https://learn.microsoft.com/en-us/windows/win32/api/securitybaseapi/nf-securitybaseapi-reverttoself):
 * ends any impersonation of the calling thread. Synchronous only.
 * @returns 0 or HRESULT_FROM_WIN32(GetLastError()).
 */
export function RevertToSelf(): number {
  return tokensNative().revertToSelf();
}

// ---------------------------------------------------------------- scoped impersonation

/** Result of a scoped impersonation: the impersonation's status, and fn's return value when it ran. */
export interface ScopedResult {
  /** ImpersonateSecurityContext's SECURITY_STATUS, or ImpersonateLoggedOnUser's HRESULT_FROM_WIN32. */
  status: number;
  /** What fn returned (absent when the impersonation failed and fn was not called). */
  value?: unknown;
}

/**
 * Not an SSPI function:
 * [ImpersonateSecurityContext](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-impersonatesecuritycontext), then `fn()` on the
 * calling (JavaScript) thread, then [RevertSecurityContext](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-revertsecuritycontext),
 * all inside ONE native call, on every path: fn returning, fn throwing
 * (the exception is rethrown after the revert). JavaScript is never left impersonating.
 *
 * - Impersonation failing: `{ status }`, fn is not called.
 * - RevertSecurityContext failing: the process ends at once (napi_fatal_error, "RevertSecurityContext
 *   failed ... the thread would go on as the client"), as .NET fails fast when it cannot undo an
 *   impersonation: carrying on would run every later callback as the client.
 * - The context is busy during fn: deleting it from fn is deferred until after the revert; other
 *   calls with it from fn throw Error.
 * - A scope inside a scope (on this thread) throws Error before impersonating.
 * - fn's promise is returned as is: whatever it does after its first `await` runs later, reverted.
 *   The facade refuses such fns.
 * @throws TypeError (phContext not a CtxtHandle, fn not a function); Error (deleted/busy context, nested scope);
 *   whatever fn throws.
 */
export function impersonateSecurityContextScoped(phContext: NativeCtxtHandle, fn: () => unknown): ScopedResult {
  return tokensNative().impersonateSecurityContextScoped(phContext, fn);
}

/**
 * Not a Win32 function: [ImpersonateLoggedOnUser](https://learn.microsoft.com/en-us/windows/win32/api/securitybaseapi/nf-securitybaseapi-impersonateloggedonuser)(hToken),
 * `fn()`, [RevertToSelf](https://learn.microsoft.com/en-us/windows/win32/api/securitybaseapi/nf-securitybaseapi-reverttoself), in one native call, with
 * the guarantees of {@link impersonateSecurityContextScoped} (RevertToSelf failing ends the process).
 * @throws TypeError (hToken not a TokenHandle, fn not a function); Error (closed token, nested scope);
 *   whatever fn throws.
 */
export function impersonateLoggedOnUserScoped(hToken: TokenHandle, fn: () => unknown): ScopedResult {
  return tokensNative().impersonateLoggedOnUserScoped(hToken, fn);
}
