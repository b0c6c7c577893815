import { strict as assert } from 'node:assert';

import { SECBUFFER } from '../../lib/constants';
import { ClientContext, failureToken, ServerContext, StepResult } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { SspiError } from '../../lib/errors';
import { handshake, runHandshake } from '../../lib/handshake';
import { AcceptSecurityContext, newCtxtHandle, SecBuffer, SecurityContextResult } from '../../lib/raw';
import { testBed } from '../support/env';
import { wineVersion } from '../support/wine';

/** A SPNEGO NegTokenResp with negState reject (RFC 4178 4.2.2): [1] { [0] ENUMERATED 2 }. */
const SPNEGO_REJECT = Buffer.from('a1073005a0030a0102', 'hex');

/**
 * A Kerberos server context whose AcceptSecurityContext really fails: each token is first accepted
 * once on a throwaway context, so the real call that follows is a replay (under Wine
 * SEC_E_INTERNAL_ERROR; see kerberos.test.ts). No package under Wine returns an output token with a
 * failure (measured: Kerberos server on a replayed or bit-flipped AP-REQ, Kerberos client on a
 * garbage reply, Schannel client on a garbage record, a TLS alert, a bad handshake record and
 * application data: every one left the output buffer empty or untouched). So the output buffer of
 * that real failing result is replaced by the token a package would have written (a SPNEGO reject,
 * cbBuffer 9 of the cbMaxToken supplied), exactly at the raw layer's boundary; status and
 * pfContextAttr stay the real call's. Everything above the raw layer is the real code path.
 */
class RejectingServer extends ServerContext {
  readonly realResults: SecurityContextResult[] = [];

  protected invoke(input: SecBuffer[] | null, output: SecBuffer[], async: boolean): SecurityContextResult | Promise<SecurityContextResult> {
    if (input) {
      const throwaway = newCtxtHandle();
      AcceptSecurityContext(this.credentials.handle, throwaway, input.map((b) => ({ ...b })), this.contextReq, this.targetDataRep,
        [{ BufferType: SECBUFFER.TOKEN, cbBuffer: this.credentials.maxTokenSize }]);
      throwaway.delete();
    }
    const withReject = (r: SecurityContextResult): SecurityContextResult => {
      this.realResults.push(r);
      // What a package writes back into the caller's output SecBuffer with a reject token.
      output[0].BufferType = SECBUFFER.TOKEN;
      output[0].cbBuffer = SPNEGO_REJECT.length;
      output[0].pvBuffer = Buffer.from(SPNEGO_REJECT);
      return r;
    };
    const real = super.invoke(input, output, async);
    return async ? (real as Promise<SecurityContextResult>).then(withReject) : withReject(real as SecurityContextResult);
  }
}

/** A client context that records the tokens its steps were given. */
class RecordingClient extends ClientContext {
  readonly inputs: (Uint8Array | undefined)[] = [];

  async step(token?: Uint8Array): Promise<StepResult> {
    this.inputs.push(token);
    return super.step(token);
  }
}

describe('output tokens produced with a failure (SspiError.token)', () => {
  const bed = testBed();
  let clientCred: Credentials;
  let serverCred: Credentials;

  before(async () => {
    clientCred = await Credentials.acquire({ package: 'Kerberos' });
    serverCred = await Credentials.acquire({ package: 'Kerberos', use: 'inbound' });
  });

  after(() => {
    clientCred?.dispose();
    serverCred?.dispose();
  });

  it('which output buffers are tokens: written by the package, never the untouched supplied buffer', () => {
    const bytes = Buffer.alloc(12000);
    assert.equal(failureToken({ BufferType: SECBUFFER.TOKEN, cbBuffer: 12000, pvBuffer: bytes }, 12000), undefined, 'left as supplied');
    assert.equal(failureToken({ BufferType: SECBUFFER.TOKEN, cbBuffer: 0, pvBuffer: Buffer.alloc(0) }, 12000), undefined, 'emptied');
    assert.equal(failureToken({ BufferType: SECBUFFER.TOKEN, cbBuffer: 0, pvBuffer: null }, 0), undefined, 'nothing allocated');
    assert.equal(failureToken(undefined, 12000), undefined);
    assert.deepEqual(failureToken({ BufferType: SECBUFFER.TOKEN, cbBuffer: 9, pvBuffer: SPNEGO_REJECT }, 12000), SPNEGO_REJECT);
    assert.deepEqual(failureToken({ BufferType: SECBUFFER.TOKEN, cbBuffer: 9, pvBuffer: SPNEGO_REJECT }, 0), SPNEGO_REJECT, 'package-allocated');
  });

  it('a real failing AcceptSecurityContext (replayed AP-REQ): what the package left in the output buffer', async () => {
    using client = new ClientContext(clientCred, { targetName: bed.spn });
    const first = await client.step();
    using server1 = new ServerContext(serverCred);
    assert.equal((await server1.step(first.token)).code, 'SEC_E_OK');
    using server2 = new ServerContext(serverCred);
    const e = await server2.step(first.token).then(() => assert.fail('a replay was accepted'), (x: unknown) => x);
    assert.ok(e instanceof SspiError, String(e));
    assert.equal(typeof e.contextAttr, 'number');
    if (wineVersion()) {
      // Wine's kerberos.dll sets the output buffer only on success (SpAcceptLsaModeContext): the
      // 12000 bytes supplied come back untouched, which is no token, and pfContextAttr is 0.
      assert.equal(e.token, undefined);
      assert.equal(e.contextAttr, 0);
    } else if (e.token !== undefined) {
      // Microsoft documents no error token for a replay; if its Kerberos writes one (a KRB-ERROR,
      // GSS-wrapped 0x60 or bare [APPLICATION 30] 0x7e), it is shorter than cbMaxToken.
      assert.ok(e.token.length > 0 && e.token.length < clientCred.maxTokenSize, `token of ${e.token.length} bytes`);
      assert.ok([0x60, 0x7e, 0xa1].includes(e.token[0]), `token starts 0x${e.token[0].toString(16)}`);
    }
  });

  it('step() and stepSync(): the SspiError carries the failure token and the real pfContextAttr', async () => {
    for (const sync of [false, true]) {
      using client = new ClientContext(clientCred, { targetName: bed.spn });
      const first = await client.step();
      using server = new RejectingServer(serverCred);
      const e = await (sync ? Promise.resolve().then(() => server.stepSync(first.token)) : server.step(first.token))
        .then(() => assert.fail('the replay was accepted'), (x: unknown) => x);
      assert.ok(e instanceof SspiError, String(e));
      assert.equal(e.function, 'AcceptSecurityContext');
      assert.equal(e.status, server.realResults[0].status >>> 0, 'the real call\'s status');
      assert.deepEqual(e.token, SPNEGO_REJECT);
      assert.equal(e.contextAttr, server.realResults[0].contextAttr >>> 0);
      assert.ok(!e.message.includes(SPNEGO_REJECT.toString('hex')), 'the message shows no token bytes');
    }
  });

  it('runHandshake() delivers a failure token to the peer (final), then rejects with the SspiError', async () => {
    using client = new ClientContext(clientCred, { targetName: bed.spn });
    const first = await client.step();
    using server = new RejectingServer(serverCred);
    const sent: [string, boolean][] = [];
    const exchange = async (token: Buffer | undefined, final: boolean): Promise<Buffer | undefined> => {
      sent.push([token?.toString('hex') ?? '', final]);
      return undefined;
    };
    await assert.rejects(runHandshake(server, exchange, first.token), (e: unknown) => e instanceof SspiError && e.function === 'AcceptSecurityContext');
    assert.deepEqual(sent, [[SPNEGO_REJECT.toString('hex'), true]]);
  });

  it('runHandshake(): the SspiError wins over a failed delivery of its token', async () => {
    using client = new ClientContext(clientCred, { targetName: bed.spn });
    const first = await client.step();
    using server = new RejectingServer(serverCred);
    await assert.rejects(runHandshake(server, () => Promise.reject(new Error('socket closed')), first.token),
      (e: unknown) => e instanceof SspiError && e.token !== undefined);
  });

  it('handshake() feeds the server\'s failure token to the client, then rejects with the server\'s SspiError', async () => {
    using client = new RecordingClient(clientCred, { targetName: bed.spn });
    using server = new RejectingServer(serverCred);
    await assert.rejects(handshake(client, server), (e: unknown) => e instanceof SspiError && e.function === 'AcceptSecurityContext');
    assert.equal(client.inputs.length, 2, 'the first step, then the reject');
    assert.equal(client.inputs[0], undefined);
    assert.deepEqual(Buffer.from(client.inputs[1]!), SPNEGO_REJECT);
  });
});
