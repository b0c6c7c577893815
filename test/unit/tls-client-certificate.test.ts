import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';

import { Certificate } from '../../lib/certificates';
import { SspiError } from '../../lib/errors';
import { connect, createServer, TlsSocket } from '../../lib/tls';
import { makeCertificate, makePfx } from '../support/certificates';
import { nodeTlsServer, sleep } from '../support/tls';
import { wineVersion } from '../support/wine';

describe('TLS client certificates and renegotiation', () => {
  const clientMade = makeCertificate('rsa-sha256', 'client.example');
  const serverMade = makeCertificate('rsa-sha256', 'localhost');
  let clientCertificate: Certificate;
  let serverCertificate: Certificate;
  before(async () => {
    clientCertificate = await Certificate.fromPfx(makePfx(clientMade, 'pfx password'), 'pfx password');
    serverCertificate = await Certificate.fromPfx(makePfx(serverMade, 'pfx password'), 'pfx password');
  });
  after(() => {
    clientCertificate.dispose();
    serverCertificate.dispose();
  });

  it('our client sends its certificate when a Node server asks for one', async () => {
    let seen: tls.PeerCertificate | undefined;
    const node = await nodeTlsServer((s) => {
      seen = s.getPeerCertificate();
      s.end();
    }, { requestCert: true, rejectUnauthorized: true, ca: clientMade.pem });
    try {
      const c = connect({ port: node.port, host: 'localhost', ca: [node.made.pem], certificate: clientCertificate });
      await once(c, 'secureConnect');
      c.resume();
      await once(c, 'end');
      assert.equal(seen?.subject.CN, 'client.example');
      c.destroy();
    } finally {
      await node.close();
    }
  });

  it('without a certificate, our client goes on without one and the server decides (here: refuses)', async () => {
    const node = await nodeTlsServer(() => assert.fail('the server must refuse'), { requestCert: true, rejectUnauthorized: true, ca: clientMade.pem });
    try {
      const c = connect({ port: node.port, host: 'localhost', ca: [node.made.pem] });
      const [e] = await once(c, 'error') as [Error];
      // The server's certificate_required / handshake_failure alert, decrypted by Schannel: an SspiError
      // from the handshake step, or from DecryptMessage when it comes after our Finished.
      assert.ok(e instanceof SspiError || /closed|nothing more/.test(e.message), String(e));
      for (let i = 0; i < 50 && node.clientErrors.length === 0; i++) await sleep(20);
      assert.match(String(node.clientErrors[0]), /peer did not return a certificate|certificate/i);
    } finally {
      await node.close();
    }
  });

  it('our server with requestCert (ASC_REQ_MUTUAL_AUTH) reads the certificate of a Node client', async () => {
    const sockets: TlsSocket[] = [];
    const server = createServer({ certificate: serverCertificate, requestCert: true, rejectUnauthorized: false }, (s) => {
      sockets.push(s);
      s.on('error', () => undefined);
      s.end('ok');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const c = tls.connect({
        port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', servername: 'localhost', ca: serverMade.pem,
        cert: clientMade.pem, key: clientMade.key.export({ type: 'pkcs8', format: 'pem' }) as string,
      });
      c.on('error', () => undefined);
      await once(c, 'secureConnect');
      c.resume();
      await once(c, 'end');
      const peer = sockets[0].getPeerCertificate();
      if (wineVersion()) {
        // Wine 10's AcceptSecurityContext ignores ASC_REQ_MUTUAL_AUTH: it sends no CertificateRequest, the
        // Node client sends no certificate, and REMOTE_CERT_CONTEXT has none (SEC_E_INTERNAL_ERROR, read as none).
        assert.deepEqual(peer, {});
        assert.equal(sockets[0].authorized, false);
      } else {
        // "ASC_REQ_MUTUAL_AUTH: The client is required to supply a certificate to be used for client
        // authentication" (https://learn.microsoft.com/en-us/windows/win32/secauthn/acceptsecuritycontext--schannel).
        assert.ok('raw' in peer, 'the client certificate reached our server');
        assert.deepEqual(peer.raw, clientMade.der);
        assert.deepEqual(peer.subject, { CN: 'client.example' });
      }
      c.destroy();
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('SEC_I_RENEGOTIATE from DecryptMessage re-enters the handshake loop', async () => {
    // https://learn.microsoft.com/en-us/windows/win32/secauthn/decryptmessage--schannel: SEC_I_RENEGOTIATE,
    // "Return to the negotiation loop and call AcceptSecurityContext or InitializeSecurityContext again.
    // An empty input buffer is passed in the first call."
    let server: tls.TLSSocket | undefined;
    const node = await nodeTlsServer((s) => { server = s; });
    try {
      const c = connect({ port: node.port, host: 'localhost', ca: [node.made.pem], handshakeTimeout: 3000 });
      await once(c, 'secureConnect');
      const failed = once(c, 'error');
      server!.renegotiate({ rejectUnauthorized: false }, () => undefined); // a HelloRequest
      if (wineVersion()) {
        // Wine 10: DecryptMessage does answer SEC_I_RENEGOTIATE, but its InitializeSecurityContext
        // refuses a call without input on an existing context (SEC_E_INCOMPLETE_MESSAGE, its schannel.c),
        // so no ClientHello is made; the server's next application record then fails the step.
        await sleep(200);
        server!.write('after');
        const [e] = await failed as [SspiError];
        assert.equal(c.diagnostics.renegotiations, 1, 'SEC_I_RENEGOTIATE seen and the loop entered');
        assert.ok(c.diagnostics.handshakeSteps.slice(3).some((x) => x.code === 'SEC_E_INCOMPLETE_MESSAGE'));
        assert.equal(e.function, 'InitializeSecurityContext');
        assert.equal(e.code, 'SEC_E_INTERNAL_ERROR');
      } else {
        await sleep(500);
        server!.write('after');
        const [d] = await once(c, 'data') as [Buffer];
        assert.equal(d.toString(), 'after');
        assert.equal(c.diagnostics.renegotiations, 1);
        c.destroy();
      }
    } finally {
      await node.close();
    }
  });
});
