import { strict as assert } from 'node:assert';

import {
  contextAuthority, contextFlags, contextKeyInfo, contextLifespan, contextNativeNames, contextPackageInfo, contextSessionKey,
  lifespanToDates, queryContextAttributeAsync, queryCredentialsAttributeAsync,
} from '../../lib/attributes';
import { SECPKG_ATTR, SECPKG_CRED_ATTR } from '../../lib/constants';
import { ClientContext, ServerContext } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { SspiError } from '../../lib/errors';
import { handshake } from '../../lib/handshake';
import { testBed } from '../support/env';
import { wineVersion } from '../support/wine';

function unsupported(e: unknown, fn: string): boolean {
  assert.ok(e instanceof SspiError, String(e));
  assert.equal(e.code, 'SEC_E_UNSUPPORTED_FUNCTION');
  assert.equal(e.function, fn);
  return true;
}

describe('attribute facade: SecurityContext.queryAttribute, the getters, Credentials.queryAttribute / userName', () => {
  const bed = testBed();
  let clientCred: Credentials;
  let serverCred: Credentials;
  let client: ClientContext;
  let server: ServerContext;

  before(async () => {
    clientCred = await Credentials.acquire({ package: 'Kerberos' });
    serverCred = await Credentials.acquire({ package: 'Kerberos', use: 'inbound' });
    client = new ClientContext(clientCred, { targetName: bed.spn });
    server = new ServerContext(serverCred);
    await handshake(client, server);
  });
  after(() => {
    for (const d of [client, server, clientCred, serverCred]) d?.dispose();
  });

  it('queryAttribute returns the typed structure; failures are SspiErrors naming the attribute', () => {
    const sizes = client.queryAttribute(SECPKG_ATTR.SIZES);
    assert.equal(sizes.cbMaxToken, 12000);
    assert.deepEqual(client.sizes(), sizes);
    assert.throws(() => client.queryAttribute(SECPKG_ATTR.PROTO_INFO as never), RangeError);
    if (wineVersion()) {
      // Wine's Kerberos does not provide NAMES (test/unit/raw-attributes.test.ts has the source).
      assert.throws(() => server.queryAttribute(SECPKG_ATTR.NAMES), (e: unknown) => unsupported(e, 'QueryContextAttributes') && /SECPKG_ATTR_NAMES/.test((e as Error).message));
    }
  });

  it('sessionKey: the same Buffer on both sides, a copy the caller owns', () => {
    const a = contextSessionKey(client);
    const b = contextSessionKey(server);
    assert.ok(a.equals(b));
    a.fill(0);
    assert.ok(!contextSessionKey(client).equals(a), 'wiping the returned copy leaves the context key alone');
  });

  it('lifespan, packageInfo, nativeNames, authority, flags, keyInfo: values on Windows, SEC_E_UNSUPPORTED_FUNCTION from Wine\'s Kerberos', () => {
    const getters = [contextLifespan, contextPackageInfo, contextNativeNames, contextAuthority, contextFlags, contextKeyInfo];
    for (const get of getters) {
      if (wineVersion()) assert.throws(() => get(server), (e: unknown) => unsupported(e, 'QueryContextAttributes'), get.name);
      else assert.doesNotThrow(() => get(server), get.name);
    }
  });

  it('lifespanToDates reads local TimeStamps (lib/time.ts), null for never / not reported', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    const ts = BigInt(at.getTime() - at.getTimezoneOffset() * 60000) * 10000n + 116444736000000000n;
    assert.deepEqual(lifespanToDates({ tsStart: ts, tsExpiry: 0x7fffffffffffffffn }, at), { start: at, expiry: null });
    assert.deepEqual(lifespanToDates({ tsStart: 0n, tsExpiry: 0n }, at), { start: null, expiry: null });
  });

  it('the asynchronous query resolves the same structure and rejects the same SspiError', async () => {
    assert.deepEqual(await queryContextAttributeAsync(client.handle, SECPKG_ATTR.SIZES, 'Kerberos'), client.sizes());
    if (wineVersion()) await assert.rejects(queryContextAttributeAsync(server.handle, SECPKG_ATTR.LIFESPAN, 'Kerberos'), (e: unknown) => unsupported(e, 'QueryContextAttributes'));
  });

  it('a disposed context: Error from queryAttribute and the getters', () => {
    using cred = Credentials.acquireSync({ package: 'NTLM' });
    const c = new ClientContext(cred);
    c.stepSync();
    c.dispose();
    assert.throws(() => c.queryAttribute(SECPKG_ATTR.SIZES), /disposed/);
    assert.throws(() => contextSessionKey(c), /disposed/);
  });

  it('Credentials.userName / queryAttribute: SECPKG_CRED_ATTR_NAMES (Wine: SEC_E_UNSUPPORTED_FUNCTION); freed credentials are an Error', async () => {
    if (wineVersion()) {
      // Wine's Kerberos has no SpQueryCredentialsAttributes (dlls/kerberos/krb5_ap.c kerberos_table).
      assert.throws(() => clientCred.userName(), (e: unknown) => unsupported(e, 'QueryCredentialsAttributes') && /SECPKG_CRED_ATTR_NAMES/.test((e as Error).message));
      await assert.rejects(queryCredentialsAttributeAsync(clientCred.handle, SECPKG_CRED_ATTR.NAMES), (e: unknown) => unsupported(e, 'QueryCredentialsAttributes'));
    } else {
      assert.ok(clientCred.userName().length > 0);
    }
    const c = Credentials.acquireSync({ package: 'NTLM' });
    c.dispose();
    assert.throws(() => c.queryAttribute(SECPKG_CRED_ATTR.NAMES), /freed/);
  });
});
