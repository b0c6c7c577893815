/**
 * NegotiateAgent's `onLeg` (what each InitializeSecurityContext did, never a token) and
 * `allowedPackages` (Kerberos only: no NTLM message ever sent), against IntegratedAuthenticator in
 * this node.exe under Wine.
 */
import { strict as assert } from 'node:assert';

import { Credentials } from '../../lib/credentials';
import { NegotiateAgent, NegotiateAgentOptions, NegotiateClientError, NegotiateLeg } from '../../lib/http/client';
import { HttpAuthScheme, IntegratedAuthenticator } from '../../lib/http/server';
import { handleFigures } from '../../lib/raw';
import { testBed } from '../support/env';
import { AuthServer, listenAuth } from '../support/http';

describe('NegotiateAgent onLeg and allowedPackages', () => {
  const bed = testBed();
  let running: AuthServer | undefined;
  let base: string;
  /** The Authorization header of every request the server saw. */
  let authorizations: (string | undefined)[];

  async function listen(schemes: HttpAuthScheme[]): Promise<void> {
    authorizations = [];
    const auth = new IntegratedAuthenticator({ schemes });
    running = await listenAuth(auth, async (req, res) => {
      authorizations.push(req.headers.authorization);
      const id = await auth.authenticate(req, res);
      if (id) res.end(JSON.stringify({ package: id.package }));
    });
    base = `http://127.0.0.1:${running.port}`;
  }

  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  async function get(options: Omit<NegotiateAgentOptions, 'origins'>): Promise<{ status: number; legs: NegotiateLeg[] }> {
    const legs: NegotiateLeg[] = [];
    const agent = new NegotiateAgent({ origins: [base], ...options, onLeg: (l) => legs.push(l) });
    try {
      const res = await agent.request({ origin: base, path: '/', method: 'GET' });
      await res.body.dump();
      return { status: res.statusCode, legs };
    } finally {
      await agent.close();
    }
  }

  const ntlmIdentity = { user: bed.users[0].name, domain: bed.domain, password: bed.users[0].password };

  it('Kerberos through Negotiate: the AP-REQ leg, then the AP-REP verified with mutual authentication; no token in what onLeg gets', async () => {
    await listen(['Negotiate']);
    const { status, legs } = await get({ spn: bed.spn });
    assert.equal(status, 200);
    assert.equal(legs.length, 2);
    assert.deepEqual(Object.keys(legs[0]).sort(), ['complete', 'leg', 'mutualAuth', 'package', 'peer', 'scheme', 'status', 'tokenBytes']);
    assert.deepEqual({ ...legs[0], tokenBytes: legs[0].tokenBytes > 0 },
      { peer: 'server', scheme: 'Negotiate', package: legs[0].package, leg: 1, status: 'SEC_I_CONTINUE_NEEDED', complete: false, mutualAuth: false, tokenBytes: true });
    assert.deepEqual(legs[1], { peer: 'server', scheme: 'Negotiate', package: 'Kerberos', leg: 2, status: 'SEC_E_OK', complete: true, mutualAuth: true, tokenBytes: 0 });
  });

  it('NTLM: NEGOTIATE, then AUTHENTICATE completes the client context (no mutual authentication)', async () => {
    await listen(['NTLM']);
    const { status, legs } = await get({ identity: ntlmIdentity, schemes: ['NTLM'] });
    assert.equal(status, 200);
    assert.deepEqual(legs.map((l) => [l.peer, l.scheme, l.package, l.leg, l.status, l.complete, l.mutualAuth, l.tokenBytes > 0]), [
      ['server', 'NTLM', 'NTLM', 1, 'SEC_I_CONTINUE_NEEDED', false, false, true],
      ['server', 'NTLM', 'NTLM', 2, 'SEC_E_OK', true, false, true],
    ]);
  });

  it("allowedPackages ['Kerberos']: Negotiate falling back to NTLM (an SPN the domain does not know) fails before the NTLM message is sent", async () => {
    await listen(['Negotiate', 'NTLM']);
    const before = handleFigures().contexts;
    const agent = new NegotiateAgent({ origins: [base], spn: 'HTTP/unknown.sspi.test', allowedPackages: ['Kerberos'] });
    try {
      await assert.rejects(agent.request({ origin: base, path: '/', method: 'GET' }),
        (e: unknown) => e instanceof NegotiateClientError && e.code === 'ERR_SSPI_PACKAGE_NOT_ALLOWED');
    } finally {
      await agent.close();
    }
    // Only the first, unauthenticated request reached the server: no NTLMSSP token left this process.
    assert.deepEqual(authorizations, [undefined]);
    assert.equal(handleFigures().contexts, before);
  });

  it("allowedPackages ['Kerberos'] against a server offering only NTLM: the scheme is not answered, its 401 is the response", async () => {
    await listen(['NTLM']);
    const { status, legs } = await get({ identity: ntlmIdentity, allowedPackages: ['Kerberos'] });
    assert.equal(status, 401);
    assert.deepEqual(legs, []);
    assert.deepEqual(authorizations, [undefined]);
  });

  it("allowedPackages ['Kerberos'] with Kerberos available: 200", async () => {
    await listen(['Negotiate', 'NTLM']);
    const { status, legs } = await get({ spn: bed.spn, allowedPackages: ['Kerberos'] });
    assert.equal(status, 200);
    assert.equal(legs.at(-1)?.package, 'Kerberos');
  });

  it('option shapes: TypeErrors', () => {
    using ntlm = Credentials.acquireSync({ package: 'NTLM', identity: ntlmIdentity });
    for (const [options, message] of [
      [{ allowedPackages: [] }, /allowedPackages/],
      [{ allowedPackages: ['Digest'] }, /allowedPackages/],
      [{ allowedPackages: 'Kerberos' }, /allowedPackages/],
      [{ allowedPackages: ['Kerberos'], credentials: ntlm }, /NTLM credentials/],
      [{ allowedPackages: ['Kerberos'], schemes: ['NTLM'] }, /only 'NTLM'/],
      [{ onLeg: 'log' }, /onLeg/],
    ] as const) {
      assert.throws(() => new NegotiateAgent({ origins: ['http://x'], ...(options as object) } as NegotiateAgentOptions),
        (e: unknown) => e instanceof TypeError && message.test(e.message));
    }
  });
});
