/**
 * Message protection against an independent Kerberos peer: MIT GSSAPI (python3-gssapi, test/e2e/gssapi_wrap.py)
 * as the initiator, the SSPI acceptor in Windows node.exe under Wine (test/e2e/message-peer.ts).
 *
 * What it shows, with Wine 10's Kerberos (dlls/kerberos, see test/unit/raw-message.test.ts for the source lines):
 * - MICs interoperate both ways: MakeSignature / VerifySignature are gss_get_mic / gss_verify_mic.
 * - The facade's unwrap hands the whole gss_wrap token to DecryptMessage as SECBUFFER_STREAM + DATA, the
 *   way Microsoft's Kerberos reads an RFC 4121 token of unknown split; Wine 10 has no stream mode:
 *   SEC_E_INVALID_TOKEN. Its raw DecryptMessage reads the token when split the way Wine's EncryptMessage
 *   splits its own (DATA = the token's first bytes, TOKEN = the last 60, or 28 when only signed), since
 *   Wine glues DATA | TOKEN back together for gss_unwrap.
 * - Wine's raw EncryptMessage with a 60-byte TOKEN gives DATA | TOKEN = an RFC 4121 token MIT unwraps.
 * - The facade's wrap, sized from SECPKG_ATTR_SIZES (cbSecurityTrailer 49), gets SEC_E_BUFFER_TOO_SMALL.
 * On Microsoft's secur32 the facade's TOKEN | DATA | PADDING is itself the RFC 4121 token (the trailer
 * rotated in front, RRC) that gss_unwrap reads; no Windows runner has a KDC, so that is not run here.
 */
import { strict as assert } from 'node:assert';
import { ChildProcess, execFile, spawn } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { testBed } from '../support/env';

const run = promisify(execFile);
const repo = path.resolve(__dirname, '..', '..', '..');
/** One port above the HTTP suite's, so the two never meet. */
const PORT = Number(process.env.SSPI_E2E_PORT ?? 18080) + 1;

describe('message protection against MIT GSSAPI (gss_wrap / gss_get_mic)', function () {
  const bed = testBed();
  let peer: ChildProcess | undefined;
  let output = '';

  before(async () => {
    peer = spawn('bash', ['scripts/wine-node.sh', 'dist/test/e2e/message-peer.js', String(PORT)],
      { cwd: repo, env: process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    peer.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
    peer.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
    const started = Date.now();
    while (!/listening on/.test(output)) {
      assert.ok(peer.exitCode === null, `the peer exited:\n${output}`);
      assert.ok(Date.now() - started < 60_000, `the peer did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  after(async () => {
    if (peer?.pid && peer.exitCode === null) {
      const exited = new Promise((r) => peer!.once('exit', r));
      try {
        process.kill(-peer.pid, 'SIGTERM');
      } catch {
        // gone already
      }
      await exited;
    }
  });

  it('MICs interoperate; gss_wrap tokens reach DecryptMessage and EncryptMessage reaches gss_unwrap as Wine splits them', async () => {
    const { stdout } = await run('/usr/bin/python3', [path.join(repo, 'test', 'e2e', 'gssapi_wrap.py'), `HTTP@${bed.host}`, String(PORT)],
      { env: process.env, timeout: 60_000 });
    const report = JSON.parse(stdout);
    assert.deepEqual(report.handshake, { peer: 'SEC_E_OK', complete: true });
    assert.deepEqual(report.mic_to_sspi, { ok: true }, 'gss_get_mic -> VerifySignature');
    assert.equal(report.mic_from_sspi.verified, true, 'MakeSignature -> gss_verify_mic');
    // Wine 10: DecryptMessage wants a SECBUFFER_TOKEN, no STREAM (krb5_ap.c kerberos_SpUnsealMessage).
    assert.deepEqual(report.wrap_to_sspi_unwrap, { error: 'SEC_E_INVALID_TOKEN' }, 'gss_wrap -> unwrap (STREAM)');
    assert.deepEqual(report.wrap_to_sspi_decrypt, { status: 'SEC_E_OK', qop: 0, data_equal: true }, 'gss_wrap -> DecryptMessage');
    assert.deepEqual(report.wrap_noenc_to_sspi_decrypt, { status: 'SEC_E_OK', qop: 0x80000001, data_equal: true },
      'gss_wrap(conf=false) -> DecryptMessage reports SECQOP_WRAP_NO_ENCRYPT');
    assert.deepEqual(report.encrypt_to_mit_unwrap, { status: 'SEC_E_OK', mit: { data_equal: true, encrypted: true } }, 'EncryptMessage -> gss_unwrap');
    // cbSecurityTrailer 49 against the 60 bytes Wine's token needs (unixlib.c seal_message_no_vector).
    assert.deepEqual(report.sspi_wrap, { error: 'SEC_E_BUFFER_TOO_SMALL' }, 'wrap sized from SECPKG_ATTR_SIZES');
  });
});
