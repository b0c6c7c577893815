import { strict as assert } from 'node:assert';

import { Certificate } from '../../lib/certificates';
import { ASC_REQ, ISC_REQ, SECBUFFER, SECURITY_STATUS } from '../../lib/constants';
import { ClientContext, ServerContext } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { SspiError } from '../../lib/errors';
import { handleFigures } from '../../lib/raw';
import { makeCertificate, makePfx } from '../support/certificates';
import { wineVersion } from '../support/wine';

const ISC = ISC_REQ.STREAM | ISC_REQ.REPLAY_DETECT | ISC_REQ.SEQUENCE_DETECT | ISC_REQ.CONFIDENTIALITY | ISC_REQ.EXTENDED_ERROR
  | ISC_REQ.MANUAL_CRED_VALIDATION;
const ASC = ASC_REQ.STREAM | ASC_REQ.REPLAY_DETECT | ASC_REQ.SEQUENCE_DETECT | ASC_REQ.CONFIDENTIALITY | ASC_REQ.EXTENDED_ERROR;

/**
 * ISC <-> ASC in one process through the facade, each step with an EMPTY input buffer for Schannel's
 * SECBUFFER_EXTRA. Returns the statuses seen, client first.
 */
async function handshake(server: Credentials, client: Credentials): Promise<string[]> {
  using c = new ClientContext(client, { targetName: 'localhost', contextReq: ISC });
  using s = new ServerContext(server, { contextReq: ASC });
  const seen: string[] = [];
  const extra = { inputBuffers: [{ BufferType: SECBUFFER.EMPTY }] };
  let r = await c.step(undefined, extra);
  seen.push(`c:${r.code}`);
  while (r.token && r.token.length > 0) {
    const a = await s.step(r.token, extra);
    seen.push(`s:${a.code}`);
    if (!a.token || a.token.length === 0) break;
    r = await c.step(a.token, extra);
    seen.push(`c:${r.code}`);
    if (a.complete && r.complete) break;
  }
  return seen;
}

describe('Schannel credentials (Credentials.acquire with a Certificate)', () => {
  const made = makeCertificate('rsa-sha256', 'localhost');
  const pfx = makePfx(made, 'pfx password');

  it('inbound SCH_CREDENTIALS with a PFX certificate: an in-process TLS handshake reaches SEC_E_OK on both sides', async () => {
    using certificate = await Certificate.fromPfx(pfx, 'pfx password');
    assert.equal(certificate.hasPrivateKey, true);
    using server = await Credentials.acquire({ package: 'Schannel', use: 'inbound', certificate });
    using client = await Credentials.acquire({ package: 'Schannel', use: 'outbound', manualValidation: true });
    const seen = await handshake(server, client);
    assert.deepEqual(seen.slice(-2), ['s:SEC_E_OK', 'c:SEC_E_OK'], seen.join(' '));
  });
});
