import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as tls from 'node:tls';

import { tlsServerEndPointBindings } from '../../lib/bindings';
import { SspiError } from '../../lib/errors';
import { handleFigures } from '../../lib/raw';
import { connect, TlsError, TlsSocket } from '../../lib/tls';
import { makeCertificate } from '../support/certificates';
import { nodeTlsServer, readAll, relay, RelayMode } from '../support/tls';

/** Waits for the socket's handshake, failing with its error. */
async function secured(s: TlsSocket): Promise<void> {
  await Promise.race([once(s, 'secureConnect'), once(s, 'error').then(([e]) => { throw e; })]);
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  (globalThis as { gc?: () => void }).gc?.();
}

// Our Schannel client (Wine 10's, on GnuTLS) against Node's own TLS server in this node.exe, over TCP.
// Wine 10's Schannel offers TLS 1.2 at most (linux-rig.md), so the Node servers are limited to it.
describe('TlsSocket client against a Node TLS server', () => {
  it('handshakes, reports the peer certificate, protocol, cipher, ALPN and channel bindings, and carries data both ways', async () => {
    const before = handleFigures().contexts;
    let serverSide: tls.TLSSocket | undefined;
    const node = await nodeTlsServer((s) => {
      serverSide = s;
      s.pipe(s); // echo
    }, { ALPNProtocols: ['http/1.1'] });
    try {
      const s = connect({ port: node.port, host: 'localhost', ca: [node.made.pem], ALPNProtocols: ['h2', 'http/1.1'] });
      await secured(s);
      assert.equal(s.authorized, true);
      assert.equal(s.alpnProtocol, 'http/1.1');
      assert.equal(s.getProtocol(), 'TLSv1.2');
      assert.equal(s.getCipher().version, 'TLSv1.2');
      assert.match(s.getCipher().name, /^TLS_/);
      assert.equal(s.getCipher().name, s.getCipher().standardName);
      const peer = s.getPeerCertificate();
      assert.ok('raw' in peer);
      assert.deepEqual(peer.raw, node.made.der);
      assert.deepEqual(peer.subject, { CN: 'localhost' });
      assert.equal(peer.fingerprint256, createHash('sha256').update(node.made.der).digest('hex').toUpperCase().match(/../g)!.join(':'));
      // SECPKG_ATTR_ENDPOINT_BINDINGS: tls-server-end-point of the server certificate (RFC 5929), the same bytes lib/bindings.ts computes.
      assert.deepEqual(s.getChannelBindings(), tlsServerEndPointBindings(node.made.der));
      assert.ok(serverSide);
      assert.equal(serverSide.alpnProtocol, 'http/1.1');

      const echoed: Buffer[] = [];
      s.on('data', (d: Buffer) => echoed.push(d));
      for (const size of [1, 100, 16384, 16385, 1 << 20]) {
        const payload = randomBytes(size);
        echoed.length = 0;
        s.write(payload);
        while (Buffer.concat(echoed).length < size) await once(s, 'data');
        assert.ok(Buffer.concat(echoed).equals(payload), `${size} bytes echoed`);
      }
      s.end();
      await once(s, 'close');
      assert.equal(s.securityContext?.disposed, true, 'DeleteSecurityContext on close');
    } finally {
      await node.close();
    }
    await settle();
    // Other files' contexts may be collected meanwhile: the count may only have gone down.
    assert.ok(handleFigures().contexts <= before, `every context deleted (${handleFigures().contexts} > ${before})`);
  });

  it('16 MiB each way; end() sends close_notify and the peer\'s close_notify ends our readable side', async () => {
    const big = randomBytes(16 << 20);
    let received: Buffer | undefined;
    const node = await nodeTlsServer((s) => {
      const chunks: Buffer[] = [];
      s.on('data', (d: Buffer) => chunks.push(d));
      // Node reports the client's close_notify as 'end'.
      s.on('end', () => {
        received = Buffer.concat(chunks);
        s.end(big); // then its own close_notify
      });
    });
    try {
      const s = connect({ port: node.port, host: 'localhost', ca: [node.made.pem] });
      await secured(s);
      const reading = readAll(s);
      s.end(big);
      const back = await reading;
      assert.ok(received && received.equals(big), 'the server got all 16 MiB before our close_notify');
      assert.ok(back.equals(big), 'we got all 16 MiB before the server\'s close_notify');
      assert.ok(s.diagnostics.recordsSent >= (16 << 20) / 16384, 'records split at cbMaximumMessage');
    } finally {
      await node.close();
    }
  });

  it('handshake and application records fed one byte at a time: SEC_E_INCOMPLETE_MESSAGE with SECBUFFER_MISSING, then success', async () => {
    let serverSide: tls.TLSSocket | undefined;
    const node = await nodeTlsServer((s) => { serverSide = s; });
    let mode: RelayMode = 'bytewise';
    try {
      const { client } = relay(node.port, () => mode);
      const s = connect({ socket: client, servername: 'localhost', ca: [node.made.pem] });
      await secured(s);
      // The application record is sent only now: sent at once, its first bytes could arrive while the
      // last handshake step is still running and come back whole as that step's SECBUFFER_EXTRA.
      serverSide!.write('hello from node');
      const steps = s.diagnostics.handshakeSteps;
      const incomplete = steps.filter((x) => x.code === 'SEC_E_INCOMPLETE_MESSAGE');
      assert.ok(incomplete.length > 100, `many incomplete steps (${incomplete.length})`);
      assert.ok(incomplete.every((x) => typeof x.missingBytes === 'number' && x.missingBytes > 0), 'each with a SECBUFFER_MISSING count');
      assert.equal(steps[steps.length - 1].code, 'SEC_E_OK');
      const [data] = await once(s, 'data') as [Buffer];
      let text = data.toString();
      while (text.length < 'hello from node'.length) text += ((await once(s, 'data')) as [Buffer])[0].toString();
      assert.equal(text, 'hello from node');
      assert.ok(s.diagnostics.incomplete.length > 10, 'DecryptMessage: SEC_E_INCOMPLETE_MESSAGE');
      assert.ok(s.diagnostics.incomplete.every((n) => n > 0), 'with SECBUFFER_MISSING counts');
      mode = 'asis';
      s.destroy();
    } finally {
      await node.close();
    }
  });

  it('two records in one read: SECBUFFER_EXTRA reported and consumed', async () => {
    let serverSide: tls.TLSSocket | undefined;
    const node = await nodeTlsServer((s) => { serverSide = s; });
    try {
      const { client } = relay(node.port, () => 'coalesce');
      const s = connect({ socket: client, servername: 'localhost', ca: [node.made.pem] });
      await secured(s);
      const extraBefore = s.diagnostics.extra;
      const got: Buffer[] = [];
      s.on('data', (d: Buffer) => got.push(d));
      // Two writes, two records (one each); the relay joins them into one read.
      serverSide!.write('first;');
      await new Promise((r) => setImmediate(r));
      serverSide!.write('second');
      while (Buffer.concat(got).toString() !== 'first;second') await once(s, 'data');
      assert.ok(s.diagnostics.extra - extraBefore >= 1, 'DecryptMessage left the second record as SECBUFFER_EXTRA');
      s.destroy();
    } finally {
      await node.close();
    }
  });

  it('a wrong server name is rejected (bad_certificate alert to the peer) unless rejectUnauthorized is false', async () => {
    const node = await nodeTlsServer(() => undefined);
    try {
      const s = connect({ port: node.port, host: '127.0.0.1', servername: 'wrong.example', ca: [node.made.pem] });
      const [e] = await once(s, 'error') as [TlsError | SspiError];
      // Microsoft's Schannel checks the name itself (ISC answers SEC_E_WRONG_PRINCIPAL,
      // https://learn.microsoft.com/en-us/windows/win32/secauthn/initializesecuritycontext--schannel);
      // Wine 10's does not check names, so the socket's own check (checkServerIdentity) refuses it.
      assert.ok(e.code === 'ERR_TLS_CERT_ALTNAME_INVALID' || e.code === 'SEC_E_WRONG_PRINCIPAL', String(e));
      for (let i = 0; i < 50 && node.clientErrors.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      if (e.code === 'ERR_TLS_CERT_ALTNAME_INVALID') assert.match(String(node.clientErrors[0]), /alert bad certificate/);

      const manual = connect({ port: node.port, host: '127.0.0.1', servername: 'wrong.example', rejectUnauthorized: false });
      await secured(manual);
      assert.equal(manual.authorized, false);
      assert.equal((manual.authorizationError as TlsError).code, 'ERR_TLS_CERT_ALTNAME_INVALID');
      manual.destroy();
    } finally {
      await node.close();
    }
  });

  it('an untrusted certificate is rejected with an unknown_ca alert reaching the peer', async () => {
    const node = await nodeTlsServer(() => undefined);
    // Another anchor, with another key (makeCertificate keeps one key per key type, so not RSA again).
    const other = makeCertificate('ecdsa-sha384');
    try {
      const s = connect({ port: node.port, host: 'localhost', ca: [other.pem] });
      const [e] = await once(s, 'error') as [TlsError | SspiError];
      // Microsoft's Schannel refuses an untrusted root during the handshake (SEC_E_UNTRUSTED_ROOT);
      // Wine 10's Schannel does not validate certificates at all, so here the socket's `ca` check does.
      assert.ok(e.code === 'ERR_TLS_CERT_UNTRUSTED' || e.code === 'SEC_E_UNTRUSTED_ROOT', String(e));
      for (let i = 0; i < 50 && node.clientErrors.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.match(String(node.clientErrors[0]), /alert (unknown ca|bad certificate)/);
    } finally {
      await node.close();
    }
  });
});
