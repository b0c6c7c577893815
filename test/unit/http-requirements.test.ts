/**
 * IntegratedAuthenticator's `requirements`: what a completed context must have achieved (.NET's
 * RequiredProtectionLevel / RequiredImpersonationLevel), checked after the last AcceptSecurityContext.
 * Our NegotiateAgent is the client, by Kerberos through Negotiate, in this node.exe under Wine.
 */
import { strict as assert } from 'node:assert';

import { ASC_RET } from '../../lib/constants';
import { NegotiateAgent } from '../../lib/http/client';
import { AuthEvent, IntegratedAuthenticator, IntegratedAuthOptions } from '../../lib/http/server';
import { handleFigures } from '../../lib/raw';
import { testBed } from '../support/env';
import { AuthServer, listenAuth } from '../support/http';

describe('IntegratedAuthenticator requirements (checked after completion)', () => {
  const bed = testBed();
  let running: AuthServer | undefined;
  let events: AuthEvent[];

  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  /** Serves `options`, sends one Kerberos GET with NegotiateAgent; the status, body and events. */
  async function request(options: IntegratedAuthOptions): Promise<{ status: number; body: string }> {
    events = [];
    const auth = new IntegratedAuthenticator({ schemes: ['Negotiate'], ...options, onEvent: (e) => events.push(e) });
    running = await listenAuth(auth, async (req, res) => {
      const id = await auth.authenticate(req, res);
      if (id) res.end(JSON.stringify({ contextAttr: id.contextAttr }));
    });
    const base = `http://127.0.0.1:${running.port}`;
    const agent = new NegotiateAgent({ origins: [base], spn: bed.spn, mutualAuthentication: false });
    try {
      const res = await agent.request({ origin: base, path: '/', method: 'GET' });
      return { status: res.statusCode, body: await res.body.text() };
    } finally {
      await agent.close();
    }
  }

  for (const [label, requirements, message] of [
    ['mutualAuthentication (a client requirement)', { mutualAuthentication: true }, /client requirement/],
    ['allowedPackages (that is options.packages)', { allowedPackages: ['Kerberos'] }, /options\.packages/],
    ['an unknown impersonation level', { impersonationLevel: 'anonymous' }, /impersonationLevel/],
    ['an unknown protection level', { protectionLevel: 'seal' }, /protectionLevel/],
    ['not an object', 'delegate', /requirements/],
  ] as const) {
    it(`${label}: TypeError at construction`, () => {
      assert.throws(() => new IntegratedAuthenticator({ requirements: requirements as never }),
        (e: unknown) => e instanceof TypeError && message.test(e.message));
    });
  }

  it("impersonationLevel 'identify' (any context): 200", async () => {
    const { status } = await request({ requirements: { impersonationLevel: 'identify' } });
    assert.equal(status, 200);
    assert.deepEqual(events.map((e) => e.type), ['challenge', 'authenticated']);
  });

  it("impersonationLevel 'delegate' with a client that grants no delegation: 401, reason ERR_SSPI_IMPERSONATION_LEVEL, the context deleted", async () => {
    const before = handleFigures().contexts;
    const { status, body } = await request({ requirements: { impersonationLevel: 'delegate' } });
    assert.equal(status, 401, body);
    const rejected = events.find((e) => e.type === 'rejected');
    assert.equal(rejected?.reason, 'ERR_SSPI_IMPERSONATION_LEVEL');
    assert.equal(events.some((e) => e.type === 'authenticated'), false);
    await running?.close();
    running = undefined;
    assert.equal(handleFigures().contexts, before);
  });

  it("protectionLevel 'sign': ASC_REQ_INTEGRITY is asked for and the context that grants it is accepted", async () => {
    const { status, body } = await request({ requirements: { protectionLevel: 'sign' } });
    assert.equal(status, 200, body);
    const { contextAttr } = JSON.parse(body) as { contextAttr: number };
    assert.ok((contextAttr & ASC_RET.INTEGRITY) !== 0, `contextAttr 0x${contextAttr.toString(16)} has ASC_RET_INTEGRITY`);
  });
});
