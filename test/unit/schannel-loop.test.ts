import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';

import { ISC_REQ, SECBUFFER, SECURITY_STATUS } from '../../lib/constants';
import { ClientContext } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { runHandshake } from '../../lib/handshake';
import { bufferType, bytesOf, DecryptMessage, SecBufferDesc } from '../../lib/raw';
import { makeCertificate } from '../support/certificates';

const REQ = ISC_REQ.STREAM | ISC_REQ.REPLAY_DETECT | ISC_REQ.SEQUENCE_DETECT | ISC_REQ.CONFIDENTIALITY
  | ISC_REQ.EXTENDED_ERROR | ISC_REQ.MANUAL_CRED_VALIDATION;

/**
 * Reads what the peer sends until it has been quiet for `quietMs`: on loopback every record of one
 * flight has arrived by then, so a read holds whole flights (and what follows them).
 */
function reader(socket: net.Socket): (quietMs?: number) => Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let ended = false;
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('end', () => { ended = true; });
  return async (quietMs = 300) => {
    let seen = -1;
    while (chunks.length !== seen || chunks.length === 0) {
      if (ended && chunks.length === 0) return undefined;
      seen = chunks.length;
      await new Promise((resolve) => setTimeout(resolve, quietMs));
    }
    return Buffer.concat(chunks.splice(0));
  };
}

// The loop helper on a real stream transport: a Schannel client (Wine's, on GnuTLS) against Node's own
// TLS server in this node.exe, the records carried over a plain TCP socket. SECBUFFER_EXTRA reaches the
// caller from a real call: the server sends application data right behind its Finished, so the last
// handshake input holds a record the handshake does not consume, which runHandshake returns as `extra`
// and DecryptMessage (stream mode) then opens.
describe('runHandshake over TCP: a Schannel client against a Node TLS server', () => {
  it('the handshake completes; the bytes after the server\'s Finished come back as extra and decrypt', async () => {
    const made = makeCertificate('rsa-sha256');
    const server = tls.createServer({ cert: made.pem, key: made.key.export({ type: 'pkcs8', format: 'pem' }) as string, maxVersion: 'TLSv1.2' });
    server.on('secureConnection', (s: tls.TLSSocket) => { s.write('hello from node'); s.on('error', () => undefined); });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await once(socket, 'connect');
    const read = reader(socket);
    try {
      using cred = await Credentials.acquire({ package: 'Schannel' });
      using client = new ClientContext(cred, { targetName: 'localhost', contextReq: REQ });
      const sent: number[] = [];
      const result = await runHandshake(client, async (token, final) => {
        if (token) {
          sent.push(token.length);
          socket.write(token);
        }
        return final ? undefined : read();
      }, undefined, { stream: true, stepOptions: { inputBuffers: [{ BufferType: SECBUFFER.EMPTY }] } });
      assert.equal(result.code, 'SEC_E_OK');
      assert.ok(sent.length >= 2, 'ClientHello, then the client\'s key exchange and Finished');
      assert.ok(result.extra && result.extra.length > 5, 'the application data record behind the Finished');
      assert.equal(result.extra[0], 0x17, 'a TLS application_data record');
      assert.equal(result.extraBytes, result.extra.length);

      // Stream-mode DecryptMessage: the record in a DATA buffer and three EMPTY ones; the plaintext
      // comes back as a DATA buffer that points into the record's own memory.
      const message: SecBufferDesc = [
        { BufferType: SECBUFFER.DATA, pvBuffer: Buffer.from(result.extra) },
        { BufferType: SECBUFFER.EMPTY }, { BufferType: SECBUFFER.EMPTY }, { BufferType: SECBUFFER.EMPTY },
      ];
      const r = DecryptMessage(client.handle, message, 0);
      assert.equal(r.status, SECURITY_STATUS.SEC_E_OK, `0x${r.status.toString(16)}`);
      const data = message.find((b) => bufferType(b.BufferType) === SECBUFFER.DATA);
      assert.equal(bytesOf(data).toString(), 'hello from node');
    } finally {
      socket.destroy();
      server.close();
    }
  });
});
