/**
 * TlsServer's caps on handshakes in progress (hostile clients that open connections and never finish
 * the handshake): per client address and server-wide; a connection past a cap is closed before any
 * SSPI call and reported; finished and abandoned handshakes give their place back.
 */
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';

import { Certificate } from '../../lib/certificates';
import { createServer, DEFAULT_MAX_PENDING_TLS_HANDSHAKES, DEFAULT_MAX_PENDING_TLS_HANDSHAKES_PER_ADDRESS, TlsError, TlsServer } from '../../lib/tls';
import { makeCertificate, makePfx } from '../support/certificates';

async function listen(server: TlsServer): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

/** A TCP connection that sends nothing (a handshake that never starts); resolves once connected. */
async function idle(port: number): Promise<net.Socket> {
  const s = net.connect(port, '127.0.0.1');
  await once(s, 'connect');
  return s;
}

/** Resolves true when the server closes `s` within a few event-loop turns of I/O, false when it stays open. */
async function closedByServer(s: net.Socket, server: TlsServer): Promise<boolean> {
  if (s.destroyed) return true;
  // The server's accept() runs on its 'connection' event; wait for it, then for our side to see the close.
  const closed = once(s, 'close').then(() => true);
  const stillOpen = once(server, 'connectionHandled').then(() => false);
  return Promise.race([closed, stillOpen]);
}

describe('TlsServer: handshakes in progress are bounded', () => {
  const made = makeCertificate('rsa-sha256', 'localhost');
  let certificate: Certificate;
  const open: net.Socket[] = [];

  before(async () => {
    certificate = await Certificate.fromPfx(makePfx(made, 'pfx password'), 'pfx password');
  });
  after(() => certificate.dispose());
  afterEach(() => {
    for (const s of open.splice(0)) s.destroy();
  });

  /** A server that signals each accepted connection it kept (so a test can tell "kept" from "closed"). */
  function server(options: { maxPendingHandshakes?: number; maxPendingHandshakesPerAddress?: number }, errors: Error[]): TlsServer {
    const s = createServer({ certificate, ...options });
    s.on('tlsClientError', (e: Error) => errors.push(e));
    // After TlsServer's own 'connection' listener: tells closedByServer the connection was handled.
    s.on('connection', (socket: net.Socket) => setImmediate(() => {
      if (!socket.destroyed) s.emit('connectionHandled');
    }));
    return s;
  }

  it('has the documented defaults', () => {
    assert.equal(DEFAULT_MAX_PENDING_TLS_HANDSHAKES, 256);
    assert.equal(DEFAULT_MAX_PENDING_TLS_HANDSHAKES_PER_ADDRESS, 32);
  });

  it('per address: the third idle connection from 127.0.0.1 is closed and reported; a finished handshake frees its place', async () => {
    const errors: Error[] = [];
    const s = server({ maxPendingHandshakesPerAddress: 2 }, errors);
    const port = await listen(s);
    try {
      for (let i = 0; i < 2; i++) {
        const c = await idle(port);
        open.push(c);
        assert.equal(await closedByServer(c, s), false, `connection ${i + 1} kept`);
      }
      const third = await idle(port);
      open.push(third);
      assert.equal(await closedByServer(third, s), true, 'the third is closed');
      assert.equal(errors.length, 1);
      assert.ok(errors[0] instanceof TlsError);
      assert.equal((errors[0] as TlsError).code, 'ERR_SSPI_TLS_PENDING_HANDSHAKES');
      assert.match(errors[0].message, /maxPendingHandshakesPerAddress/);

      // An abandoned one gives its place back: a real client then completes its handshake.
      const gone = open.shift()!;
      gone.destroy();
      // Until the server has seen that connection close (its count drops to the one still idle).
      while (await new Promise<number>((resolve, reject) => s.getConnections((e, n) => (e ? reject(e) : resolve(n)))) > 1) {
        await new Promise((r) => setImmediate(r));
      }
      const secure = once(s, 'secureConnection');
      const client = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: made.pem });
      await once(client, 'secureConnect');
      const [ours] = await secure;
      // Finished: no longer counted; two more idle connections fit beside the one still idle.
      const more = await idle(port);
      open.push(more);
      assert.equal(await closedByServer(more, s), false, 'a place freed by the finished handshake');
      client.destroy();
      (ours as net.Socket).destroy();
    } finally {
      s.close();
    }
  });

  it('server-wide: past maxPendingHandshakes every address is refused', async () => {
    const errors: Error[] = [];
    const s = server({ maxPendingHandshakes: 1, maxPendingHandshakesPerAddress: 10 }, errors);
    const port = await listen(s);
    try {
      const first = await idle(port);
      open.push(first);
      assert.equal(await closedByServer(first, s), false);
      const second = await idle(port);
      open.push(second);
      assert.equal(await closedByServer(second, s), true);
      assert.match(errors[0]?.message ?? '', /maxPendingHandshakes\)/);
    } finally {
      s.close();
    }
  });

  it('option values: positive integers; another type is a TypeError, another number a RangeError (as lib/http\'s options)', () => {
    for (const v of ['4', null, {}]) {
      assert.throws(() => createServer({ certificate, maxPendingHandshakes: v as never }), TypeError);
      assert.throws(() => createServer({ certificate, maxPendingHandshakesPerAddress: v as never }), TypeError);
    }
    for (const v of [0, -1, 1.5, NaN, Infinity]) {
      assert.throws(() => createServer({ certificate, maxPendingHandshakes: v }), RangeError);
      assert.throws(() => createServer({ certificate, maxPendingHandshakesPerAddress: v }), RangeError);
    }
  });
});
