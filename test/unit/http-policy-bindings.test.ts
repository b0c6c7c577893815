/**
 * `extendedProtection` ('off' | 'whenSupported' | 'always') and its older alias `channelBindings`,
 * over HTTPS (node:https, this library's NegotiateAgent as the client) and plain HTTP.
 *
 * What each policy must hand to AcceptSecurityContext (asserted here from what createContext gets):
 * - 'off': no SECBUFFER_CHANNEL_BINDINGS, fContextReq as configured;
 * - 'whenSupported': the tls-server-end-point bindings of the server's certificate (RFC 5929 4.1)
 *   and ASC_REQ_ALLOW_MISSING_BINDINGS (0x10000000): a client without bindings is let through
 *   (SEC_CHANNEL_BINDINGS_RESULT_VALID_MISSING,
 *   https://learn.microsoft.com/en-us/windows-hardware/drivers/ddi/ntifs/ns-ntifs-sec_channel_bindings_result);
 * - 'always': the same bindings without that flag: Microsoft's packages refuse a client that sends
 *   none (SEC_CHANNEL_BINDINGS_RESULT_NOTVALID_MISSING, same page; SEC_E_BAD_BINDINGS).
 * - plain HTTP: nothing to bind to, so no bindings and no flag, whatever the policy.
 *
 * Wine's Kerberos and NTLM ignore channel bindings (test/unit/bindings.test.ts measures it), so under
 * Wine every client authenticates whatever the policy: that is asserted as Wine's behaviour; the
 * refusal of a client without bindings under 'always' is asserted on Microsoft's secur32 by
 * test/windows/http-policy.test.ts.
 */
import { strict as assert } from 'node:assert';

import { tlsServerEndPointBindings } from '../../lib/bindings';
import { ASC_REQ } from '../../lib/constants';
import { ExtendedProtection, IntegratedAuthOptions } from '../../lib/http/server';
import { testBed } from '../support/env';
import { getThrough, listenPolicy, PolicyServer } from '../support/policy-server';
import { wineVersion } from '../support/wine';

describe('IntegratedAuthenticator extendedProtection (Kerberos and NTLM clients with and without channel bindings)', () => {
  const bed = testBed();
  let server: PolicyServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const kerberos = { spn: bed.spn };
  const ntlm = { identity: { user: bed.users[0].name, domain: bed.domain, password: bed.users[0].password }, schemes: ['NTLM' as const] };

  const cases: [string, IntegratedAuthOptions, 'none' | 'bindings', boolean][] = [
    ["default ('off')", {}, 'none', false],
    ["'off'", { extendedProtection: 'off' }, 'none', false],
    ['channelBindings: false (= off)', { channelBindings: false }, 'none', false],
    ["'whenSupported'", { extendedProtection: 'whenSupported' }, 'bindings', true],
    ["'always'", { extendedProtection: 'always' }, 'bindings', false],
    ["channelBindings: 'tls-server-end-point' (= always)", { channelBindings: 'tls-server-end-point' }, 'bindings', false],
    ["channelBindings: 'tls-server-end-point' with ASC_REQ_ALLOW_MISSING_BINDINGS in contextReq (= whenSupported)",
      { channelBindings: 'tls-server-end-point', contextReq: ASC_REQ.CONNECTION | ASC_REQ.ALLOW_MISSING_BINDINGS }, 'bindings', true],
  ];
  for (const [label, options, expectBindings, allowMissing] of cases) {
    for (const [clientLabel, client] of [['Kerberos', kerberos], ['NTLM', ntlm]] as const) {
      it(`${label}, ${clientLabel}: what AcceptSecurityContext gets; clients with and without bindings`, async () => {
        server = await listenPolicy(options);
        const withBindings = await getThrough(server, { ...client });
        const without = await getThrough(server, { ...client, channelBindings: false });
        assert.ok(server.made.length >= 2);
        const expected = tlsServerEndPointBindings(server.der);
        for (const m of server.made) {
          assert.deepEqual(m.channelBindings, expectBindings === 'bindings' ? expected : undefined);
          assert.equal((m.contextReq & ASC_REQ.ALLOW_MISSING_BINDINGS) !== 0, allowMissing);
          assert.equal(m.contextReq & ~ASC_REQ.ALLOW_MISSING_BINDINGS, ASC_REQ.CONNECTION, 'otherwise the configured contextReq');
        }
        assert.equal(withBindings, 200, 'a client that sends the right bindings is accepted by every policy');
        const policy: ExtendedProtection = options.extendedProtection ?? (options.channelBindings ? (allowMissing ? 'whenSupported' : 'always') : 'off');
        // Wine ignores bindings: 200 whatever the policy. Microsoft: 'always' refuses the client without.
        assert.equal(without, policy === 'always' && !wineVersion() ? 401 : 200);
      });
    }
  }

  it("plain HTTP with 'always': no bindings exist, none are passed, no flag; the client authenticates", async () => {
    server = await listenPolicy({ extendedProtection: 'always' }, false);
    assert.equal(await getThrough(server, kerberos), 200);
    assert.equal(server.made.length, 1);
    assert.deepEqual(server.made[0], { contextReq: ASC_REQ.CONNECTION, channelBindings: undefined });
  });

  it("plain HTTP with 'whenSupported': no bindings, and no ASC_REQ_ALLOW_MISSING_BINDINGS either", async () => {
    server = await listenPolicy({ extendedProtection: 'whenSupported' }, false);
    assert.equal(await getThrough(server, { ...ntlm }), 200);
    for (const m of server.made) assert.deepEqual(m, { contextReq: ASC_REQ.CONNECTION, channelBindings: undefined });
  });

  it("'whenSupported' keeps the caller's contextReq bits and adds the flag", async () => {
    server = await listenPolicy({ extendedProtection: 'whenSupported', contextReq: ASC_REQ.CONNECTION | ASC_REQ.INTEGRITY });
    assert.equal(await getThrough(server, kerberos), 200);
    assert.equal(server.made[0].contextReq, (ASC_REQ.CONNECTION | ASC_REQ.INTEGRITY | ASC_REQ.ALLOW_MISSING_BINDINGS) >>> 0);
  });
});
