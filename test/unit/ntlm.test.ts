import { strict as assert } from 'node:assert';

import { ClientContext, ServerContext } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { SspiError } from '../../lib/errors';
import { handshake } from '../../lib/handshake';
import { testBed } from '../support/env';
import { wineVersion } from '../support/wine';

// NTLM with explicit domain credentials (SEC_WINNT_AUTH_IDENTITY_W), client and server in this
// process. The server validates against the Samba domain controller: under Wine through Samba's
// ntlm_auth and winbindd, on Windows through the machine's domain.
describe('NTLM against the domain', () => {
  const bed = testBed();

  /**
   * An NTLM client with `user`'s explicit credentials and a server context, not yet started;
   * disposing the pair disposes both contexts and both credentials.
   */
  async function pair(pkg: 'NTLM' | 'Negotiate', user: string, password: string): Promise<{ client: ClientContext; server: ServerContext } & Disposable> {
    const clientCred = await Credentials.acquire({ package: pkg, identity: { user, domain: bed.domain, password } });
    const serverCred = await Credentials.acquire({ package: pkg, use: 'inbound' });
    const client = new ClientContext(clientCred);
    const server = new ServerContext(serverCred);
    return {
      client,
      server,
      [Symbol.dispose]() {
        for (const d of [client, server, clientCred, serverCred]) d.dispose();
      },
    };
  }

  for (const [label, index] of [['ASCII user', 0], ['non-ASCII user and password', 1]] as const) {
    it(`${label}: NEGOTIATE, CHALLENGE, AUTHENTICATE reach SEC_E_OK on both sides`, async () => {
      const user = bed.users[index];
      using p = await pair('NTLM', user.name, user.password);
      const { client, server } = p;
      const r = await handshake(client, server);
      assert.equal(r.client.code, 'SEC_E_OK');
      assert.equal(r.server.code, 'SEC_E_OK');
      assert.equal(r.legs, 3);
      assert.equal(client.complete && server.complete, true);
    });
  }

  it('synchronous steps, with the user given as DOMAIN\\user', () => {
    const user = bed.users[0];
    using clientCred = Credentials.acquireSync({ package: 'NTLM', identity: { user: `${bed.domain}\\${user.name}`, password: user.password } });
    using serverCred = Credentials.acquireSync({ package: 'NTLM', use: 'inbound' });
    using client = new ClientContext(clientCred);
    using server = new ServerContext(serverCred);
    const negotiate = client.stepSync();
    assert.equal(negotiate.code, 'SEC_I_CONTINUE_NEEDED');
    assert.equal(negotiate.token!.readUInt32LE(8), 1, 'NEGOTIATE_MESSAGE');
    const challenge = server.stepSync(negotiate.token);
    assert.equal(challenge.code, 'SEC_I_CONTINUE_NEEDED');
    assert.equal(challenge.token!.readUInt32LE(8), 2, 'CHALLENGE_MESSAGE');
    const authenticate = client.stepSync(challenge.token);
    assert.equal(authenticate.code, 'SEC_E_OK');
    assert.equal(authenticate.token!.readUInt32LE(8), 3, 'AUTHENTICATE_MESSAGE');
    assert.equal(server.stepSync(authenticate.token).code, 'SEC_E_OK');
  });

  for (const [label, name, password] of [
    ['a wrong password', 0, 'not-the-password'],
    ['an unknown user', -1, 'whatever-1A!'],
  ] as const) {
    it(`${label} is SEC_E_LOGON_DENIED from AcceptSecurityContext, and the error carries no secret`, async () => {
      const user = name === -1 ? 'nobody-here' : bed.users[name].name;
      using p = await pair('NTLM', user, password);
      await assert.rejects(handshake(p.client, p.server), (e: unknown) => {
        assert.ok(e instanceof SspiError, String(e));
        assert.equal(e.code, 'SEC_E_LOGON_DENIED');
        assert.equal(e.status, 0x8009030c);
        assert.equal(e.function, 'AcceptSecurityContext');
        assert.equal(e.package, 'NTLM');
        assert.ok(!e.message.includes(password) && !String(e.stack).includes(password));
        return true;
      });
    });
  }

  it('SECPKG_ATTR_SIZES of an established context', async () => {
    const user = bed.users[0];
    using p = await pair('NTLM', user.name, user.password);
    const { client, server } = p;
    await handshake(client, server);
    for (const side of [client, server]) {
      const sizes = side.sizes();
      assert.equal(sizes.cbMaxSignature, 16, 'an NTLM signature is 16 bytes (MS-NLMP 2.2.2.9)');
      assert.ok(sizes.cbMaxToken >= 1904, `cbMaxToken ${sizes.cbMaxToken}`);
    }
  });

  it('the server names the authenticated user (SECPKG_ATTR_NAMES) where secur32 can', async () => {
    const user = bed.users[0];
    using p = await pair('NTLM', user.name, user.password);
    const { client, server } = p;
    await handshake(client, server);
    if (wineVersion()) {
      // Wine's secur32 does not implement SECPKG_ATTR_NAMES for NTLM (nor Kerberos): it answers
      // SEC_E_UNSUPPORTED_FUNCTION, so under Wine nobody can learn the name; Microsoft's can.
      assert.throws(() => server.userName(), (e: unknown) => e instanceof SspiError && e.code === 'SEC_E_UNSUPPORTED_FUNCTION' && e.function === 'QueryContextAttributes');
    } else {
      assert.equal(server.userName().toLowerCase(), `${bed.domain}\\${user.name}`.toLowerCase());
    }
  });

  it('Negotiate with explicit credentials and no target name authenticates through NTLM', async () => {
    const user = bed.users[0];
    using p = await pair('Negotiate', user.name, user.password);
    const { client, server } = p;
    const r = await handshake(client, server);
    assert.equal(r.server.code, 'SEC_E_OK');
    assert.equal(r.client.code, 'SEC_E_OK');
    assert.equal(server.negotiationInfo().PackageInfo?.Name, 'NTLM');
  });
});
