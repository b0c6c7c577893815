/**
 * A real anonymous NTLM logon against IntegratedAuthenticator over HTTP, on Microsoft's secur32.
 *
 * The client is not SSPI: it builds the NTLM messages by hand as [MS-NLMP] specifies an anonymous
 * logon, so that the server sees exactly what an anonymous client sends:
 * - NEGOTIATE_MESSAGE, [MS-NLMP] 2.2.1.1
 *   https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-nlmp/b34032e5-3aae-4bc6-84c3-c6d80eadf7f2
 *   with NTLMSSP_NEGOTIATE_ANONYMOUS (flag J, 0x00000800; [MS-NLMP] 2.2.2.5
 *   https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-nlmp/99d90ff4-957f-4c8a-80e4-5bfe5a9a9832);
 * - the server's CHALLENGE_MESSAGE, [MS-NLMP] 2.2.1.2
 *   https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-nlmp/801a4681-8809-4be9-ab0d-61dcfe762786;
 * - AUTHENTICATE_MESSAGE, [MS-NLMP] 2.2.1.3
 *   https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-nlmp/033d32cc-88f9-4483-9bf2-b273055038ce
 *   with an empty UserName, LmChallengeResponse Z(1) (one zero byte), an empty NtChallengeResponse,
 *   no session key, and NTLMSSP_NEGOTIATE_ANONYMOUS: the anonymous case of the client's
 *   computation, [MS-NLMP] 3.1.5.1.2
 *   https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-nlmp/c0250a97-2940-40c7-82fb-20d208c71e96.
 * The server treats such a message as an anonymous logon ([MS-NLMP] 3.2.5.1.2
 * https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-nlmp/2c3b4689-d6f1-4dc6-85c9-0bf01ea34d9f),
 * and AcceptSecurityContext reports it with ASC_RET_NULL_SESSION
 * (https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-acceptsecuritycontext).
 *
 * On Microsoft's secur32 (.github/workflows/windows.yml) the NTLM package accepts it (SEC_E_OK with
 * ASC_RET_NULL_SESSION): the authenticator must refuse it with 401 by default, and let it in, marked
 * anonymous, only with `allowAnonymous`. Under Wine, Samba's ntlm_auth refuses an anonymous logon
 * itself (AcceptSecurityContext fails with SEC_E_LOGON_DENIED, measured): both servers answer 401
 * for that reason, which this suite asserts there. test/unit/http-hostile.test.ts checks the policy
 * under Wine by feeding an ASC_RET_NULL_SESSION result through the same code path.
 */
import { strict as assert } from 'node:assert';
import * as http from 'node:http';

import { AuthEvent, IntegratedAuthenticator, IntegratedAuthOptions } from '../../lib/http/server';
import { AuthServer, getReply, listenAuth, Reply } from '../support/http';
import { wineVersion } from '../support/wine';

/** [MS-NLMP] 2.2.2.5 NEGOTIATE flags used here. */
const NTLMSSP_NEGOTIATE_UNICODE = 0x00000001; // A
const NTLMSSP_REQUEST_TARGET = 0x00000004; // C
const NTLMSSP_NEGOTIATE_NTLM = 0x00000200; // H
const NTLMSSP_NEGOTIATE_ANONYMOUS = 0x00000800; // J
const NTLMSSP_NEGOTIATE_ALWAYS_SIGN = 0x00008000; // M

const SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');
const OFFERED = NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_REQUEST_TARGET | NTLMSSP_NEGOTIATE_NTLM | NTLMSSP_NEGOTIATE_ANONYMOUS | NTLMSSP_NEGOTIATE_ALWAYS_SIGN;

/** NEGOTIATE_MESSAGE: Signature, MessageType 1, NegotiateFlags, empty DomainNameFields and WorkstationFields. */
function negotiateMessage(): Buffer {
  const b = Buffer.alloc(32);
  SIGNATURE.copy(b, 0);
  b.writeUInt32LE(1, 8);
  b.writeUInt32LE(OFFERED, 12);
  return b;
}

/**
 * The anonymous AUTHENTICATE_MESSAGE: a 64-byte header (no Version: NTLMSSP_NEGOTIATE_VERSION is not
 * negotiated; no MIC: an anonymous logon has no session key), then the payload, the one byte of
 * LmChallengeResponse Z(1).
 */
function anonymousAuthenticateMessage(challengeFlags: number): Buffer {
  const b = Buffer.alloc(65);
  SIGNATURE.copy(b, 0);
  b.writeUInt32LE(3, 8);
  const field = (at: number, len: number, offset: number): void => {
    b.writeUInt16LE(len, at); // Len
    b.writeUInt16LE(len, at + 2); // MaxLen
    b.writeUInt32LE(offset, at + 4); // BufferOffset
  };
  field(12, 1, 64); // LmChallengeResponseFields: Z(1)
  field(20, 0, 65); // NtChallengeResponseFields: empty
  field(28, 0, 65); // DomainNameFields
  field(36, 0, 65); // UserNameFields: empty (anonymous)
  field(44, 0, 65); // WorkstationFields
  field(52, 0, 65); // EncryptedRandomSessionKeyFields
  const flags = ((challengeFlags & OFFERED) | NTLMSSP_NEGOTIATE_ANONYMOUS | NTLMSSP_NEGOTIATE_NTLM) >>> 0;
  b.writeUInt32LE(flags, 60);
  b[64] = 0; // Z(1)
  return b;
}

describe('anonymous NTLM logon (MS-NLMP) against IntegratedAuthenticator over HTTP', () => {
  let running: AuthServer;
  let auth: IntegratedAuthenticator;
  let events: AuthEvent[];

  async function listen(options: IntegratedAuthOptions): Promise<void> {
    events = [];
    auth = new IntegratedAuthenticator({ ...options, schemes: ['NTLM'], onEvent: (e) => events.push(e) });
    running = await listenAuth(auth, async (req, res) => {
      const id = await auth.authenticate(req, res);
      if (id) res.end(JSON.stringify({ anonymous: id.anonymous, user: id.user }));
    });
  }

  afterEach(async () => {
    await running.close();
  });

  function get(agent: http.Agent, authorization: string): Promise<Reply> {
    return getReply(running.port, agent, authorization);
  }

  /** NEGOTIATE, CHALLENGE, anonymous AUTHENTICATE on one keep-alive connection; the final reply. */
  async function anonymousLogon(): Promise<Reply> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const challenge = await get(agent, `NTLM ${negotiateMessage().toString('base64')}`);
      assert.equal(challenge.status, 401);
      assert.equal(challenge.wwwAuthenticate.length, 1);
      const type2 = Buffer.from(challenge.wwwAuthenticate[0].replace(/^NTLM /, ''), 'base64');
      assert.ok(type2.subarray(0, 8).equals(SIGNATURE) && type2.readUInt32LE(8) === 2, 'a CHALLENGE_MESSAGE');
      return await get(agent, `NTLM ${anonymousAuthenticateMessage(type2.readUInt32LE(20)).toString('base64')}`);
    } finally {
      agent.destroy();
    }
  }

  it('is refused with 401 by default', async () => {
    await listen({});
    const final = await anonymousLogon();
    assert.equal(final.status, 401, final.body);
    assert.deepEqual(final.wwwAuthenticate, ['NTLM']);
    const reason = events.find((e) => e.type === 'rejected')?.reason;
    if (wineVersion()) {
      // Samba's ntlm_auth refuses the anonymous logon before the authenticator's policy is reached.
      assert.equal(reason, 'SEC_E_LOGON_DENIED');
    } else {
      // Microsoft's NTLM accepted it (SEC_E_OK, ASC_RET_NULL_SESSION); the authenticator refused it.
      assert.equal(reason, 'ASC_RET_NULL_SESSION');
    }
    assert.deepEqual(auth.stats(), { pendingHandshakes: 0, contexts: 0 });
  });

  it('with allowAnonymous: let in and marked anonymous (Microsoft secur32); still 401 under Wine', async () => {
    await listen({ allowAnonymous: true });
    const final = await anonymousLogon();
    if (wineVersion()) {
      assert.equal(final.status, 401);
      assert.equal(events.find((e) => e.type === 'rejected')?.reason, 'SEC_E_LOGON_DENIED');
    } else {
      assert.equal(final.status, 200, final.body);
      assert.equal(JSON.parse(final.body).anonymous, true);
    }
  });
});
