/**
 * lib/raw/tokens.ts: QuerySecurityContextToken, Impersonate/RevertSecurityContext, and the Win32
 * token calls, in node.exe under Wine against the domain.
 *
 * What Wine 10 answers, measured here and explained by its source (wine-mirror/wine,
 * dlls/secur32/lsa.c): Kerberos (dlls/kerberos) and NTLM (dlls/msv1_0) are LSA-mode packages whose
 * SSPI table `lsa_sspi_tableW` has NULL for ImpersonateSecurityContext, RevertSecurityContext and
 * QuerySecurityContextToken, and Negotiate's table (dlls/secur32/negotiate.c) has NULL for
 * QuerySecurityContextToken too; secur32's dispatcher answers a NULL entry with
 * SEC_E_UNSUPPORTED_FUNCTION. So every context, client or server, of every package answers that.
 * (Wine 11.13 changed lsa_QuerySecurityContextToken into a stub returning a copy of the PROCESS token:
 * this suite then fails on purpose, since that token is not the client's.)
 *
 * The Win32 token calls are Wine's own implementation of the NT token API (ntdll/wineserver), which
 * does answer: the suite tests them for real on this process's token, and the scoped impersonation
 * machinery through ImpersonateLoggedOnUser / RevertToSelf on a copy of it.
 */
import { strict as assert } from 'node:assert';

import { SECURITY_STATUS } from '../../lib/constants';
import { ClientContext, SecurityContext, ServerContext } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { handshake } from '../../lib/handshake';
import { native } from '../../lib/native';
import * as raw from '../../lib/raw';
import {
  HRESULT_FROM_WIN32, SE_GROUP, SECURITY_IMPERSONATION_LEVEL, SID_NAME_USE, TOKEN_ACCESS, TOKEN_INFORMATION_CLASS, TOKEN_TYPE,
  TokenHandle, WIN32_ERROR,
} from '../../lib/raw/tokens';
import { testBed } from '../support/env';
import { wineVersion } from '../support/wine';

const { SEC_E_UNSUPPORTED_FUNCTION, SEC_E_INVALID_HANDLE } = SECURITY_STATUS;
const ERR = (code: WIN32_ERROR): number => HRESULT_FROM_WIN32(code);
const SID = /^S-1-(\d+-)*\d+$/;

function processToken(access = TOKEN_ACCESS.QUERY | TOKEN_ACCESS.DUPLICATE): TokenHandle {
  const r = raw.OpenProcessToken(access);
  assert.equal(r.status, 0);
  return r.tokenHandle!;
}

function impersonationToken(): TokenHandle {
  const primary = processToken();
  try {
    const r = raw.DuplicateToken(primary, SECURITY_IMPERSONATION_LEVEL.SecurityImpersonation);
    assert.equal(r.status, 0);
    return r.duplicateTokenHandle!;
  } finally {
    primary.close();
  }
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc!();
}

describe('raw tokens: hostile use', () => {
  it('a TokenHandle cannot be constructed or forged from JavaScript', () => {
    const T = raw.tokenHandleClass() as unknown as new (...a: unknown[]) => unknown;
    assert.throws(() => new T(), { name: 'TypeError', message: /TokenHandle cannot be constructed/ });
    assert.throws(() => new T({}), TypeError);
    assert.throws(() => new T(1), TypeError);
  });

  it('prototype members refuse every receiver that is not a TokenHandle', () => {
    const proto = raw.tokenHandleClass().prototype as object;
    const close = (proto as { close: (this: unknown) => unknown }).close;
    const valid = Object.getOwnPropertyDescriptor(proto, 'valid')!.get!;
    const cred = Credentials.acquireSync({ package: 'NTLM' });
    try {
      for (const bad of [{}, Object.create(proto), null, undefined, 42, cred.handle, new (native().CtxtHandle)()]) {
        assert.throws(() => close.call(bad), { name: 'TypeError', message: 'TokenHandle.prototype.close called on an object that is not a TokenHandle' });
        assert.throws(() => valid.call(bad), { name: 'TypeError', message: 'TokenHandle.prototype.valid called on an object that is not a TokenHandle' });
      }
      assert.equal(cred.handle.valid, true, 'the CredHandle is unharmed');
    } finally {
      cred.dispose();
    }
  });

  it('a token argument must be a TokenHandle; a context argument a CtxtHandle', () => {
    const token = processToken();
    const cred = Credentials.acquireSync({ package: 'NTLM' });
    try {
      const fake = Object.create(Object.getPrototypeOf(token));
      for (const bad of [cred.handle, new (native().CtxtHandle)(), fake, {}, 'token', 1, null]) {
        assert.throws(() => raw.GetTokenInformation(bad as never, TOKEN_INFORMATION_CLASS.TokenUser), { name: 'TypeError', message: 'TokenHandle must be a TokenHandle' });
        assert.throws(() => raw.DuplicateToken(bad as never, 2), { name: 'TypeError', message: 'ExistingTokenHandle must be a TokenHandle' });
        assert.throws(() => raw.ImpersonateLoggedOnUser(bad as never), { name: 'TypeError', message: 'hToken must be a TokenHandle' });
      }
      for (const bad of [token, cred.handle, {}, null]) {
        assert.throws(() => raw.QuerySecurityContextToken(bad as never), { name: 'TypeError', message: 'phContext must be a CtxtHandle' });
        assert.throws(() => raw.ImpersonateSecurityContext(bad as never), { name: 'TypeError', message: 'phContext must be a CtxtHandle' });
        assert.throws(() => raw.RevertSecurityContext(bad as never), { name: 'TypeError', message: 'phContext must be a CtxtHandle' });
      }
      assert.equal(token.valid, true);
    } finally {
      token.close();
      cred.dispose();
    }
  });

  it('wrong argument types and values: TypeError / RangeError, and the Async forms reject', async () => {
    const token = processToken();
    try {
      assert.throws(() => raw.GetTokenInformation(token, 17 as TOKEN_INFORMATION_CLASS), { name: 'RangeError', message: /TokenInformationClass 17 is not supported/ });
      assert.throws(() => raw.GetTokenInformation(token, 'TokenUser' as never), TypeError);
      assert.throws(() => raw.OpenProcessToken(-1), { name: 'RangeError', message: 'DesiredAccess must be an integer from 0 to 0xFFFFFFFF' });
      assert.throws(() => raw.OpenProcessToken('8' as never), TypeError);
      assert.throws(() => raw.OpenThreadToken(8, 1 as never), { name: 'TypeError', message: 'OpenAsSelf must be a boolean' });
      for (const bad of ['', 'S-1', 'alice', 'S-1-5-32-545\u0000', 'S-x-5']) {
        assert.throws(() => raw.CheckTokenMembership(token, bad), { name: 'TypeError' }, JSON.stringify(bad));
        assert.throws(() => raw.LookupAccountSid(null, bad), { name: 'TypeError' }, JSON.stringify(bad));
      }
      assert.throws(() => raw.CheckTokenMembership(token, 545 as never), { name: 'TypeError', message: 'SidToCheck must be a string' });
      await assert.rejects(raw.LookupAccountSidAsync(null, 'nope'), TypeError);
      await assert.rejects(raw.GetTokenInformationAsync({} as never, 1), TypeError);
      // null means "the calling thread": a queue thread is not the caller.
      await assert.rejects(raw.CheckTokenMembershipAsync(null as never, 'S-1-1-0'), { name: 'TypeError', message: /null means the calling thread/ });
    } finally {
      token.close();
    }
  });

  it('a closed token: valid false, close() idempotent, every use throws Error', async () => {
    const before = raw.tokenHandleCount();
    const token = processToken();
    assert.equal(raw.tokenHandleCount(), before + 1);
    token.close();
    token.close();
    assert.equal(token.valid, false);
    assert.equal(raw.tokenHandleCount(), before);
    assert.throws(() => raw.GetTokenInformation(token, TOKEN_INFORMATION_CLASS.TokenUser), { name: 'Error', message: 'TokenHandle has been closed (CloseHandle)' });
    assert.throws(() => raw.CheckTokenMembership(token, 'S-1-1-0'), { name: 'Error', message: 'TokenHandle has been closed (CloseHandle)' });
    assert.throws(() => raw.impersonateLoggedOnUserScoped(token, () => assert.fail('fn ran')), { name: 'Error', message: 'hToken has been closed (CloseHandle)' });
    await assert.rejects(raw.DuplicateTokenAsync(token, 2), { name: 'Error', message: 'ExistingTokenHandle has been closed (CloseHandle)' });
  });

  it('close() during an asynchronous call: the call completes, the handle closes when it ends', async () => {
    const before = raw.tokenHandleCount();
    const token = processToken();
    const pending = raw.GetTokenInformationAsync(token, TOKEN_INFORMATION_CLASS.TokenUser);
    token.close();
    assert.equal(token.valid, false);
    const r = await pending;
    assert.equal(r.status, 0);
    assert.match(r.tokenInformation!.User.Sid, SID);
    assert.equal(raw.tokenHandleCount(), before);
  });

  it('the finalizer closes tokens nobody closed', async () => {
    const before = raw.tokenHandleCount();
    for (let i = 0; i < 50; i++) processToken();
    assert.equal(raw.tokenHandleCount(), before + 50);
    for (let i = 0; i < 10 && raw.tokenHandleCount() > before; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(raw.tokenHandleCount(), before);
  });
});

describe('raw tokens: the process token (Wine implements the Win32 token calls)', () => {
  let token: TokenHandle;
  let dup: TokenHandle;
  before(() => {
    token = processToken();
    dup = impersonationToken();
  });
  after(() => {
    token?.close();
    dup?.close();
  });

  it('GetTokenInformation TokenUser, TokenGroups (SIDs as strings, SE_GROUP_* bits), TokenLogonSid', () => {
    const user = raw.GetTokenInformation(token, TOKEN_INFORMATION_CLASS.TokenUser);
    assert.equal(user.status, 0);
    assert.match(user.tokenInformation!.User.Sid, /^S-1-5-21-\d+-\d+-\d+-\d+$/);
    const groups = raw.GetTokenInformation(token, TOKEN_INFORMATION_CLASS.TokenGroups).tokenInformation!.Groups;
    const bySid = new Map(groups.map((g) => [g.Sid, g.Attributes >>> 0]));
    for (const sid of ['S-1-1-0', 'S-1-5-11', 'S-1-5-32-545']) {
      assert.ok((bySid.get(sid)! & SE_GROUP.ENABLED) !== 0, `${sid} enabled in ${JSON.stringify(groups)}`);
    }
    const logon = groups.filter((g) => ((g.Attributes >>> 0) & SE_GROUP.LOGON_ID) >>> 0 === SE_GROUP.LOGON_ID);
    assert.equal(logon.length, 1);
    assert.match(logon[0].Sid, /^S-1-5-5-\d+-\d+$/);
    const logonSid = raw.GetTokenInformation(token, TOKEN_INFORMATION_CLASS.TokenLogonSid).tokenInformation!;
    assert.deepEqual(logonSid.Groups.map((g) => g.Sid), [logon[0].Sid]);
  });

  it('TokenType, TokenImpersonationLevel, TokenStatistics, TokenOwner, TokenIntegrityLevel, TokenPrivileges', () => {
    assert.deepEqual(raw.GetTokenInformation(token, TOKEN_INFORMATION_CLASS.TokenType), { status: 0, tokenInformation: TOKEN_TYPE.TokenPrimary });
    // "If the access token is not an impersonation token, the function fails" (GetTokenInformation,
    // TokenImpersonationLevel): Wine's NtQueryInformationToken answers STATUS_INVALID_PARAMETER.
    assert.deepEqual(raw.GetTokenInformation(token, TOKEN_INFORMATION_CLASS.TokenImpersonationLevel), { status: ERR(WIN32_ERROR.ERROR_INVALID_PARAMETER) });
    assert.deepEqual(raw.GetTokenInformation(dup, TOKEN_INFORMATION_CLASS.TokenType), { status: 0, tokenInformation: TOKEN_TYPE.TokenImpersonation });
    assert.deepEqual(raw.GetTokenInformation(dup, TOKEN_INFORMATION_CLASS.TokenImpersonationLevel),
      { status: 0, tokenInformation: SECURITY_IMPERSONATION_LEVEL.SecurityImpersonation });
    const stats = raw.GetTokenInformation(token, TOKEN_INFORMATION_CLASS.TokenStatistics).tokenInformation!;
    assert.equal(stats.TokenType, TOKEN_TYPE.TokenPrimary);
    assert.equal(typeof stats.TokenId, 'bigint');
    const groups = raw.GetTokenInformation(token, TOKEN_INFORMATION_CLASS.TokenGroups).tokenInformation!.Groups;
    assert.equal(stats.GroupCount, groups.length);
    const privileges = raw.GetTokenInformation(token, TOKEN_INFORMATION_CLASS.TokenPrivileges).tokenInformation!.Privileges;
    assert.equal(stats.PrivilegeCount, privileges.length);
    assert.ok(privileges.every((p) => typeof p.Luid === 'bigint' && p.Luid > 0n));
    assert.match(raw.GetTokenInformation(token, TOKEN_INFORMATION_CLASS.TokenOwner).tokenInformation!.Owner, SID);
    assert.match(raw.GetTokenInformation(token, TOKEN_INFORMATION_CLASS.TokenPrimaryGroup).tokenInformation!.PrimaryGroup, SID);
    assert.match(raw.GetTokenInformation(token, TOKEN_INFORMATION_CLASS.TokenIntegrityLevel).tokenInformation!.Label.Sid, /^S-1-16-\d+$/);
    assert.equal(raw.GetTokenInformation(token, TOKEN_INFORMATION_CLASS.TokenSessionId).status, 0);
    assert.equal(raw.GetTokenInformation(token, TOKEN_INFORMATION_CLASS.TokenElevationType).status, 0);
    assert.equal(typeof raw.GetTokenInformation(token, TOKEN_INFORMATION_CLASS.TokenElevation).tokenInformation!.TokenIsElevated, 'number');
  });

  it('the Async forms answer the same on the SSPI call queue', async () => {
    const user = raw.GetTokenInformation(token, TOKEN_INFORMATION_CLASS.TokenUser);
    assert.deepEqual(await raw.GetTokenInformationAsync(token, TOKEN_INFORMATION_CLASS.TokenUser), user);
    const opened = await raw.OpenProcessTokenAsync(TOKEN_ACCESS.QUERY | TOKEN_ACCESS.DUPLICATE);
    assert.equal(opened.status, 0);
    const copy = await raw.DuplicateTokenAsync(opened.tokenHandle!, SECURITY_IMPERSONATION_LEVEL.SecurityIdentification);
    opened.tokenHandle!.close();
    assert.equal(copy.status, 0);
    assert.deepEqual(raw.GetTokenInformation(copy.duplicateTokenHandle!, TOKEN_INFORMATION_CLASS.TokenImpersonationLevel).tokenInformation,
      SECURITY_IMPERSONATION_LEVEL.SecurityIdentification);
    assert.deepEqual(await raw.CheckTokenMembershipAsync(copy.duplicateTokenHandle!, 'S-1-5-32-545'), { status: 0, isMember: true });
    copy.duplicateTokenHandle!.close();
  });

  it('CheckTokenMembership: an impersonation token answers; a primary one is refused as documented; null is this thread', () => {
    assert.deepEqual(raw.CheckTokenMembership(dup, 'S-1-5-32-545'), { status: 0, isMember: true });
    assert.deepEqual(raw.CheckTokenMembership(dup, 'S-1-5-11'), { status: 0, isMember: true });
    assert.deepEqual(raw.CheckTokenMembership(dup, 'S-1-5-7'), { status: 0, isMember: false });
    assert.deepEqual(raw.CheckTokenMembership(dup, 'S-1-5-32-546'), { status: 0, isMember: false });
    // "The token must be an impersonation token" (CheckTokenMembership's TokenHandle):
    // ERROR_NO_IMPERSONATION_TOKEN (1309), Wine as Windows.
    assert.deepEqual(raw.CheckTokenMembership(token, 'S-1-5-32-545'), { status: ERR(WIN32_ERROR.ERROR_NO_IMPERSONATION_TOKEN) });
    assert.deepEqual(raw.CheckTokenMembership(null, 'S-1-1-0'), { status: 0, isMember: true });
  });

  it('LookupAccountSid names well-known SIDs and the user; an unknown SID is ERROR_NONE_MAPPED', async () => {
    assert.deepEqual(raw.LookupAccountSid(null, 'S-1-5-32-545'), { status: 0, name: 'Users', referencedDomainName: 'BUILTIN', use: SID_NAME_USE.SidTypeAlias });
    assert.deepEqual(await raw.LookupAccountSidAsync(null, 'S-1-5-11'),
      { status: 0, name: 'Authenticated Users', referencedDomainName: 'NT AUTHORITY', use: SID_NAME_USE.SidTypeWellKnownGroup });
    assert.deepEqual(raw.LookupAccountSid(null, 'S-1-5-7'),
      { status: 0, name: 'ANONYMOUS LOGON', referencedDomainName: 'NT AUTHORITY', use: SID_NAME_USE.SidTypeWellKnownGroup });
    const user = raw.LookupAccountSid(null, raw.GetTokenInformation(token, TOKEN_INFORMATION_CLASS.TokenUser).tokenInformation!.User.Sid);
    assert.equal(user.status, 0);
    assert.equal(user.use, SID_NAME_USE.SidTypeUser);
    assert.ok(user.name && user.referencedDomainName, JSON.stringify(user));
    assert.deepEqual(raw.LookupAccountSid(null, 'S-1-5-21-1-2-3-4000'), { status: ERR(WIN32_ERROR.ERROR_NONE_MAPPED) });
    assert.deepEqual(await raw.LookupAccountSidAsync(null, 'S-1-5-21-1-2-3-4000'), { status: 0x80070534 });
  });

  it('OpenThreadToken without impersonation: ERROR_NO_TOKEN', () => {
    assert.deepEqual(raw.OpenThreadToken(TOKEN_ACCESS.QUERY, true), { status: ERR(WIN32_ERROR.ERROR_NO_TOKEN) });
    assert.equal(ERR(WIN32_ERROR.ERROR_NO_TOKEN), 0x800703f0);
    assert.equal(raw.win32ErrorOf(0x800703f0), WIN32_ERROR.ERROR_NO_TOKEN);
    assert.equal(raw.win32ErrorOf(SEC_E_UNSUPPORTED_FUNCTION), undefined);
  });
});

describe('raw tokens: scoped impersonation of this thread (ImpersonateLoggedOnUser / RevertToSelf)', () => {
  let dup: TokenHandle;
  let processSid: string;
  before(() => {
    dup = impersonationToken();
    processSid = raw.GetTokenInformation(dup, TOKEN_INFORMATION_CLASS.TokenUser).tokenInformation!.User.Sid;
  });
  after(() => dup?.close());

  const threadToken = (): number => raw.OpenThreadToken(TOKEN_ACCESS.QUERY, true).status;

  it('fn runs impersonating (the thread has a token, the user\'s), and the thread is reverted after', () => {
    const r = raw.impersonateLoggedOnUserScoped(dup, () => {
      const t = raw.OpenThreadToken(TOKEN_ACCESS.QUERY, true);
      assert.equal(t.status, 0);
      const sid = raw.GetTokenInformation(t.tokenHandle!, TOKEN_INFORMATION_CLASS.TokenUser).tokenInformation!.User.Sid;
      t.tokenHandle!.close();
      return sid;
    });
    assert.deepEqual(r, { status: 0, value: processSid });
    assert.equal(threadToken(), ERR(WIN32_ERROR.ERROR_NO_TOKEN));
  });

  it('fn throwing: the same exception comes out, after the revert', () => {
    const thrown = new RangeError('from fn');
    let inside = 0;
    assert.throws(() => raw.impersonateLoggedOnUserScoped(dup, () => {
      inside = threadToken();
      throw thrown;
    }), (e: unknown) => e === thrown);
    assert.equal(inside, 0, 'fn ran impersonating');
    assert.equal(threadToken(), ERR(WIN32_ERROR.ERROR_NO_TOKEN));
    // A thrown primitive too.
    assert.throws(() => raw.impersonateLoggedOnUserScoped(dup, () => {
      throw 42; // eslint-disable-line no-throw-literal
    }), (e: unknown) => e === 42);
    assert.equal(threadToken(), ERR(WIN32_ERROR.ERROR_NO_TOKEN));
  });

  it('a nested scope is refused before impersonating; the outer one still reverts', () => {
    const r = raw.impersonateLoggedOnUserScoped(dup, () => {
      assert.throws(() => raw.impersonateLoggedOnUserScoped(dup, () => assert.fail('inner fn ran')),
        { name: 'Error', message: /already impersonating in an impersonate\(fn\) scope/ });
      return threadToken();
    });
    assert.deepEqual(r, { status: 0, value: 0 }, 'still impersonating after the refused inner scope');
    assert.equal(threadToken(), ERR(WIN32_ERROR.ERROR_NO_TOKEN));
  });

  it('closing the token inside fn is safe: the thread is reverted all the same', () => {
    const copy = impersonationToken();
    raw.impersonateLoggedOnUserScoped(copy, () => copy.close());
    assert.equal(copy.valid, false);
    assert.equal(threadToken(), ERR(WIN32_ERROR.ERROR_NO_TOKEN));
  });

  it('fn must be a function', () => {
    for (const bad of [undefined, null, 1, 'fn', {}]) {
      assert.throws(() => raw.impersonateLoggedOnUserScoped(dup, bad as never), { name: 'TypeError', message: 'impersonate: fn must be a function' });
    }
  });

  it('raw ImpersonateLoggedOnUser / RevertToSelf act on the calling thread', () => {
    assert.equal(raw.ImpersonateLoggedOnUser(dup), 0);
    try {
      assert.equal(threadToken(), 0);
    } finally {
      assert.equal(raw.RevertToSelf(), 0);
    }
    assert.equal(threadToken(), ERR(WIN32_ERROR.ERROR_NO_TOKEN));
  });
});

describe('raw tokens: security contexts (SSPI)', () => {
  const bed = testBed();
  const contexts: [string, ClientContext, ServerContext][] = [];
  const creds: Credentials[] = [];

  before(async function () {
    this.timeout(120000);
    for (const pkg of ['Kerberos', 'Negotiate']) {
      const c = await Credentials.acquire({ package: pkg });
      const s = await Credentials.acquire({ package: pkg, use: 'inbound' });
      creds.push(c, s);
      const client = new ClientContext(c, { targetName: bed.spn });
      const server = new ServerContext(s);
      await handshake(client, server);
      contexts.push([`${pkg} (Kerberos)`, client, server]);
    }
    const user = bed.users[0];
    for (const pkg of ['NTLM', 'Negotiate']) {
      const c = await Credentials.acquire({ package: pkg, identity: { user: user.name, domain: bed.domain, password: user.password } });
      const s = await Credentials.acquire({ package: pkg, use: 'inbound' });
      creds.push(c, s);
      // Negotiate: no SPN, so NTLM.
      const client = new ClientContext(c);
      const server = new ServerContext(s);
      await handshake(client, server);
      contexts.push([`${pkg} (NTLM)`, client, server]);
    }
  });

  after(() => {
    for (const [, c, s] of contexts) {
      c.dispose();
      s.dispose();
    }
    for (const c of creds) c.dispose();
  });

  it('every established context, client and server: QuerySecurityContextToken, ImpersonateSecurityContext, RevertSecurityContext', async () => {
    assert.equal(contexts.length, 4);
    const seen: string[] = [];
    for (const [label, client, server] of contexts) {
      for (const [side, ctx] of [['client', client], ['server', server]] as [string, SecurityContext][]) {
        assert.equal(ctx.complete, true, `${label} ${side} established`);
        const q = raw.QuerySecurityContextToken(ctx.handle);
        const qa = await raw.QuerySecurityContextTokenAsync(ctx.handle);
        const i = raw.ImpersonateSecurityContext(ctx.handle);
        const r = raw.RevertSecurityContext(ctx.handle);
        if (wineVersion()) {
          // Wine: NULL entries in the packages' SSPI tables (see the top of this file).
          assert.deepEqual([q, qa, i, r], [{ status: SEC_E_UNSUPPORTED_FUNCTION }, { status: SEC_E_UNSUPPORTED_FUNCTION },
            SEC_E_UNSUPPORTED_FUNCTION, SEC_E_UNSUPPORTED_FUNCTION], `${label} ${side}`);
        } else if (side === 'server') {
          // https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querysecuritycontexttoken
          assert.equal(q.status, 0);
          q.token!.close();
          qa.token?.close();
          assert.equal(i, 0);
          assert.equal(r, 0);
        }
        seen.push(`${label} ${side}`);
      }
    }
    assert.equal(seen.length, 8);
  });

  it('the scoped form on a server context: the impersonation status, fn not called (Wine)', () => {
    const [, , server] = contexts[0];
    let ran = false;
    const r = raw.impersonateSecurityContextScoped(server.handle, () => {
      ran = true;
    });
    if (wineVersion()) {
      assert.deepEqual(r, { status: SEC_E_UNSUPPORTED_FUNCTION });
      assert.equal(ran, false);
    } else {
      assert.deepEqual(r, { status: 0, value: undefined });
      assert.equal(ran, true);
    }
    // The context is not left busy either way.
    assert.equal(server.handle.valid, true);
    assert.equal(raw.QuerySecurityContextToken(server.handle).status, wineVersion() ? SEC_E_UNSUPPORTED_FUNCTION : 0);
  });

  it('a context no step created: SEC_E_INVALID_HANDLE; a deleted one: Error', async () => {
    const empty = new (native().CtxtHandle)();
    assert.deepEqual(raw.QuerySecurityContextToken(empty), { status: SEC_E_INVALID_HANDLE });
    assert.deepEqual(await raw.QuerySecurityContextTokenAsync(empty), { status: SEC_E_INVALID_HANDLE });
    assert.equal(raw.ImpersonateSecurityContext(empty), SEC_E_INVALID_HANDLE);
    assert.equal(raw.RevertSecurityContext(empty), SEC_E_INVALID_HANDLE);
    assert.deepEqual(raw.impersonateSecurityContextScoped(empty, () => assert.fail('fn ran')), { status: SEC_E_INVALID_HANDLE });
    empty.delete();
    assert.throws(() => raw.QuerySecurityContextToken(empty), { name: 'Error', message: /QuerySecurityContextToken: the CtxtHandle has been deleted/ });
    assert.throws(() => raw.ImpersonateSecurityContext(empty), { name: 'Error', message: /ImpersonateSecurityContext: the CtxtHandle has been deleted/ });
    await assert.rejects(raw.QuerySecurityContextTokenAsync(empty), { name: 'Error', message: /has been deleted/ });
  });

  it('a context busy with QuerySecurityContextTokenAsync refuses other calls until it ends; delete() meanwhile is deferred', async () => {
    const [, , server] = contexts[1];
    const pending = raw.QuerySecurityContextTokenAsync(server.handle);
    assert.throws(() => raw.QuerySecurityContextToken(server.handle), { name: 'Error', message: /in use by a pending asynchronous call/ });
    await pending;
    const empty = new (native().CtxtHandle)();
    const again = raw.QuerySecurityContextTokenAsync(empty);
    assert.equal(empty.delete(), undefined, 'deferred');
    assert.deepEqual(await again, { status: SEC_E_INVALID_HANDLE });
    assert.equal(empty.valid, false);
  });
});

describe('raw tokens: constants against the headers the addon was compiled with', () => {
  it('every enum member equals its winnt.h / winerror.h value', () => {
    const header = raw.tokensNative().tokenHeaderConstants;
    const prefixed: Record<string, object> = { SE_GROUP: raw.SE_GROUP, TOKEN: raw.TOKEN_ACCESS };
    const plain = [raw.TOKEN_INFORMATION_CLASS, raw.TOKEN_TYPE, raw.SECURITY_IMPERSONATION_LEVEL, raw.TOKEN_ELEVATION_TYPE, raw.SID_NAME_USE, raw.WIN32_ERROR];
    const ours = new Map<string, number>();
    for (const [prefix, e] of Object.entries(prefixed)) {
      for (const [k, v] of Object.entries(e)) if (typeof v === 'number') ours.set(`${prefix}_${k}`, v);
    }
    for (const e of plain) for (const [k, v] of Object.entries(e)) if (typeof v === 'number') ours.set(k, v);
    assert.ok(ours.size >= 55, `${ours.size} constants`);
    const wrong = [...ours].filter(([k, v]) => header[k] !== v).map(([k, v]) => `${k}: ts ${v} header ${header[k]}`);
    assert.deepEqual(wrong, []);
    assert.deepEqual(Object.keys(header).filter((k) => !ours.has(k)), []);
  });
});
