/**
 * Context and credential attributes on Microsoft's secur32: an NTLM loopback as the logged-on
 * Windows user (client and server in this process, default credentials), where Wine's providers
 * answer SEC_E_UNSUPPORTED_FUNCTION (test/unit/raw-attributes.test.ts says which and why).
 *
 * Runs only in .github/workflows/windows.yml (GitHub's hosted Windows runners); under Wine its
 * `before` hook fails saying so. What Microsoft documents and the assertions rely on:
 * - QueryContextAttributes (NTLM) lists NAMES, NATIVE_NAMES, LIFESPAN, SIZES, SESSION_KEY, FLAGS,
 *   ACCESS_TOKEN, PACKAGE_INFO, NEGOTIATION_INFO:
 *   https://learn.microsoft.com/en-us/windows/win32/secauthn/querycontextattributes--ntlm
 * - SECPKG_ATTR_NAMES on the server is the user the context represents:
 *   https://learn.microsoft.com/en-us/windows/win32/api/sspi/ns-sspi-secpkgcontext_namesw; for a local
 *   account that is COMPUTER\user, USERDOMAIN\USERNAME of the logon session.
 * - SECPKG_ATTR_ACCESS_TOKEN returns a handle to the access token (server side):
 *   https://learn.microsoft.com/en-us/windows/win32/api/sspi/ns-sspi-secpkgcontext_accesstoken
 * - SECPKG_CRED_ATTR_NAMES: https://learn.microsoft.com/en-us/windows/win32/api/sspi/ns-sspi-secpkgcredentials_namesw
 */
import { strict as assert } from 'node:assert';

import { contextLifespan, contextPackageInfo, contextSessionKey } from '../../lib/attributes';
import { SECPKG_ATTR, SECPKG_CRED_ATTR } from '../../lib/constants';
import { ClientContext, ServerContext } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { handshake } from '../../lib/handshake';
import { QueryContextAttributes, QueryContextAttributesAsync, QueryCredentialsAttributes, SetContextAttributes, SetContextAttributesAsync } from '../../lib/raw/attributes';
import { wineVersion } from '../support/wine';

describe('attributes of an NTLM loopback context as the logged-on Windows user (Microsoft secur32)', () => {
  const domain = process.env.USERDOMAIN;
  const user = process.env.USERNAME;
  const expectedName = `${domain}\\${user}`.toLowerCase();
  let clientCred: Credentials;
  let serverCred: Credentials;
  let client: ClientContext;
  let server: ServerContext;

  before(async () => {
    assert.equal(process.platform, 'win32', 'SSPI exists only on Windows');
    assert.equal(wineVersion(), null,
      'this suite needs Microsoft secur32 and a logged-on Windows user; under Wine there is none (it runs in .github/workflows/windows.yml)');
    assert.ok(domain && user, 'USERDOMAIN and USERNAME are set by Windows for the logon session');
    clientCred = await Credentials.acquire({ package: 'NTLM' });
    serverCred = await Credentials.acquire({ package: 'NTLM', use: 'inbound' });
    client = new ClientContext(clientCred);
    server = new ServerContext(serverCred);
    const r = await handshake(client, server);
    assert.equal(r.server.code, 'SEC_E_OK');
  });

  after(() => {
    for (const d of [client, server, clientCred, serverCred]) d?.dispose();
  });

  it('NAMES on the server is COMPUTER\\user; the facade agrees; async agrees', async () => {
    const r = QueryContextAttributes(server.handle, SECPKG_ATTR.NAMES);
    assert.equal(r.status, 0);
    assert.equal(r.buffer!.sUserName?.toLowerCase(), expectedName);
    assert.equal(server.userName().toLowerCase(), expectedName);
    assert.deepEqual(await QueryContextAttributesAsync(server.handle, SECPKG_ATTR.NAMES), r);
  });

  it('NATIVE_NAMES names the client user', () => {
    const r = QueryContextAttributes(server.handle, SECPKG_ATTR.NATIVE_NAMES);
    assert.equal(r.status, 0);
    assert.ok(r.buffer!.sClientName?.toLowerCase().includes(user!.toLowerCase()), String(r.buffer!.sClientName));
  });

  it('ACCESS_TOKEN is present on the server context (the handle stays with the context)', () => {
    const r = QueryContextAttributes(server.handle, SECPKG_ATTR.ACCESS_TOKEN);
    assert.equal(r.status, 0);
    assert.equal(r.buffer!.AccessToken, true);
  });

  it('SESSION_KEY is the same 16-byte key on both sides; PACKAGE_INFO is NTLM; LIFESPAN converts to Dates', () => {
    const c = contextSessionKey(client);
    const s = contextSessionKey(server);
    assert.equal(c.length, 16);
    assert.ok(c.equals(s));
    assert.equal(contextPackageInfo(server)?.Name, 'NTLM');
    const life = contextLifespan(server);
    assert.ok(life.expiry === null || life.expiry instanceof Date);
  });

  it('SECPKG_CRED_ATTR_NAMES of the outbound credentials is the logged-on user', () => {
    const r = QueryCredentialsAttributes(clientCred.handle, SECPKG_CRED_ATTR.NAMES);
    assert.equal(r.status, 0);
    assert.equal(r.buffer!.sUserName?.toLowerCase(), expectedName);
    assert.equal(clientCred.userName().toLowerCase(), expectedName);
  });

  it('SetContextAttributes on NTLM contexts: SEC_E_UNSUPPORTED_FUNCTION (documented for Schannel only)', async () => {
    // https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-setcontextattributesw: "This
    // function is supported only by the Schannel security package." (Under Wine the call is not safe
    // to make: test/unit/raw-attributes.test.ts says why.)
    for (const ctx of [client, server]) {
      assert.equal(SetContextAttributes(ctx.handle, SECPKG_ATTR.EARLY_START, { dwEarlyStartFlags: 1 }).status, 0x80090302);
      assert.equal((await SetContextAttributesAsync(ctx.handle, SECPKG_ATTR.APP_DATA, { pbAppData: Buffer.from('app') })).status, 0x80090302);
    }
  });
});
