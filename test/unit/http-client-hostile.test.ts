import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as path from 'node:path';

import { testBed } from '../support/env';
import { wineVersion } from '../support/wine';

/** Child exit statuses of {@link inChild}. */
const REJECTED_CLEANLY = 0;

/**
 * Runs a hostile server and a NegotiateAgent fetch in a child node.exe (Wine runs the SSPI providers
 * in-process, and random tokens to its NTLM client can end the process: a crash must end the child,
 * not this suite). `respond` is the body of a request handler `(req, res, n)` (n counts requests).
 * The child exits REJECTED_CLEANLY when the fetch rejected with a NegotiateClientError or SspiError
 * cause and no context or credentials handle is left; 4 when it resolved; 5 for another error;
 * 6 for a leaked handle. The child writes nothing: node.exe under Wine cannot write to a pipe.
 */
function inChild(respond: string, agentOptions: string): number | null {
  const dist = path.resolve(__dirname, '..', '..');
  const script = `const http = require('node:http');
    const { NegotiateAgent, NegotiateClientError } = require(${JSON.stringify(path.join(dist, 'lib', 'http', 'client'))});
    const { SspiError } = require(${JSON.stringify(path.join(dist, 'lib', 'errors'))});
    const { handleFigures } = require(${JSON.stringify(path.join(dist, 'lib', 'raw'))});
    const { fetch } = require('undici');
    const crypto = require('node:crypto');
    (async () => {
      let n = 0;
      const server = http.createServer((req, res) => { n++; ${respond} });
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const url = 'http://127.0.0.1:' + server.address().port;
      const before = handleFigures();
      const agent = new NegotiateAgent({ origins: [url], ${agentOptions} });
      let code = 4;
      try { const res = await fetch(url + '/', { dispatcher: agent }); await res.text(); }
      catch (e) { code = (e.cause instanceof NegotiateClientError || e.cause instanceof SspiError) ? 0 : 5; }
      await agent.close();
      server.closeAllConnections(); server.close();
      const after = handleFigures();
      if (code === 0 && (after.contexts !== before.contexts)) code = 6;
      process.exit(code);
    })().catch(() => process.exit(7));`;
  return spawnSync(process.execPath, ['--expose-gc', '-e', script], { stdio: 'ignore', timeout: 60000, cwd: path.resolve(dist, '..') }).status;
}

describe('NegotiateAgent against hostile servers', () => {
  const bed = testBed();
  const spn = JSON.stringify(bed.spn);
  const ntlm = `identity: ${JSON.stringify({ user: bed.users[0].name, domain: bed.domain, password: bed.users[0].password })}, schemes: ['NTLM']`;

  it('garbage Negotiate token as the Kerberos AP-REP on the 200: rejected, no leak (child node.exe)', () => {
    const respond = `if (!req.headers.authorization) res.writeHead(401, { 'WWW-Authenticate': 'Negotiate' }).end();
      else res.writeHead(200, { 'WWW-Authenticate': 'Negotiate ' + crypto.randomBytes(80).toString('base64') }).end('body');`;
    assert.equal(inChild(respond, `spn: ${spn}`), REJECTED_CLEANLY);
  });

  it('garbage Negotiate token on a 401 after the first leg: rejected, no leak (child node.exe)', () => {
    const respond = `if (!req.headers.authorization) res.writeHead(401, { 'WWW-Authenticate': 'Negotiate' }).end();
      else res.writeHead(401, { 'WWW-Authenticate': 'Negotiate ' + crypto.randomBytes(80).toString('base64') }).end();`;
    assert.equal(inChild(respond, `spn: ${spn}`), REJECTED_CLEANLY);
  });

  // Fixed inputs, not random ones, so each run asserts one exact outcome (the seeded fuzz in
  // test/hostile covers random tokens, in child processes, with its own accounting).
  /** 120 bytes that are no NTLM message at all: SHA-256 chained from a fixed seed. */
  const notNtlm = (() => {
    const parts: Buffer[] = [];
    let block = Buffer.from('sspi garbage NTLM CHALLENGE');
    while (parts.length * 32 < 120) parts.push(block = crypto.createHash('sha256').update(block).digest());
    return Buffer.concat(parts).subarray(0, 120).toString('base64');
  })();
  /**
   * A CHALLENGE_MESSAGE ([MS-NLMP] 2.2.1.2) whose header is right (signature, MessageType 2, flags,
   * a server challenge) but whose TargetInfoFields point 4,000 bytes past the 56-byte message.
   */
  const challengeOutOfBounds = (() => {
    const b = Buffer.alloc(56);
    b.write('NTLMSSP\0', 0, 'latin1');
    b.writeUInt32LE(2, 8); // MessageType
    b.writeUInt32LE(0x00800000 | 0x00080000 | 0x00000200 | 0x00000001, 20); // TARGET_INFO, EXTENDED_SESSIONSECURITY, NTLM, UNICODE
    b.fill(0x11, 24, 32); // ServerChallenge
    b.writeUInt16LE(64, 40); // TargetInfoLen
    b.writeUInt16LE(64, 42); // TargetInfoMaxLen
    b.writeUInt32LE(4000, 44); // TargetInfoBufferOffset: past the end
    return b.toString('base64');
  })();
  for (const [what, token, wine] of [
    // Measured under Wine 10: its NTLM client (Samba's ntlm_auth) answers both with an error the
    // provider turns into a failure status, so the fetch rejects like on Windows.
    ['bytes that are no NTLM message', notNtlm, REJECTED_CLEANLY],
    ['a CHALLENGE whose target info lies past its end', challengeOutOfBounds, REJECTED_CLEANLY],
  ] as const) {
    it(`garbage NTLM CHALLENGE (${what}): rejected with an SspiError, no leak (child node.exe)`, () => {
      const respond = `if (!req.headers.authorization) res.writeHead(401, { 'WWW-Authenticate': 'NTLM' }).end();
        else res.writeHead(401, { 'WWW-Authenticate': 'NTLM ${token}' }).end();`;
      // Windows: InitializeSecurityContext fails on a malformed CHALLENGE (SEC_E_INVALID_TOKEN or
      // another failure status), which NegotiateAgent raises: REJECTED_CLEANLY.
      assert.equal(inChild(respond, ntlm), wineVersion() ? wine : REJECTED_CLEANLY);
    });
  }
});
