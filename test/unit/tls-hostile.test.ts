import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';

import { SspiError } from '../../lib/errors';
import { handleFigures } from '../../lib/raw';
import { connect, TlsError, TlsSocket } from '../../lib/tls';
import { nodeTlsServer, sleep } from '../support/tls';

/** A TCP peer that does whatever `behave` does with each connection. */
async function rawPeer(behave: (c: net.Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((c) => {
    sockets.add(c);
    c.on('error', () => undefined);
    c.on('close', () => sockets.delete(c));
    behave(c);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      for (const c of sockets) c.destroy();
    }),
  };
}

/** The socket's error, once it has closed. */
async function failure(s: TlsSocket): Promise<Error> {
  const [e] = await once(s, 'error') as [Error];
  if (!s.destroyed || !s.closed) await once(s, 'close');
  return e;
}

/** The context count once it is back to `expected` or below (other files' contexts may be collected meanwhile). */
async function contextsSettle(expected: number): Promise<number> {
  for (let i = 0; i < 20 && handleFigures().contexts > expected; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await sleep(25);
  }
  return handleFigures().contexts;
}

// Peers that do not play by the rules: each case must end in an 'error' on the socket (never a crash,
// never a hang), with the security context deleted (handleFigures().contexts back where it was).
describe('TlsSocket client against hostile peers', () => {
  let before = 0;
  beforeEach(() => {
    before = handleFigures().contexts;
  });
  afterEach(async () => {
    const now = await contextsSettle(before);
    assert.ok(now <= before, `the security context was deleted (${now} > ${before})`);
  });

  it('a peer that answers the ClientHello with something that is not TLS: ERR_TLS_PROTOCOL at once', async () => {
    const peer = await rawPeer((c) => c.once('data', () => c.write('HTTP/1.1 400 Bad Request\r\n\r\n')));
    try {
      const e = await failure(connect({ port: peer.port, host: 'localhost', handshakeTimeout: 20000 }));
      assert.ok(e instanceof TlsError);
      assert.equal(e.code, 'ERR_TLS_PROTOCOL');
      assert.match(e.message, /not a TLS record \(content type 72/);
    } finally {
      await peer.close();
    }
  });

  it('a record header announcing more than 2^14 + 2048 bytes: refused without waiting for them', async () => {
    const peer = await rawPeer((c) => c.once('data', () => c.write(Buffer.from([0x16, 0x03, 0x03, 0xff, 0xff, 0x02]))));
    try {
      const e = await failure(connect({ port: peer.port, host: 'localhost', handshakeTimeout: 20000 }));
      assert.equal((e as TlsError).code, 'ERR_TLS_PROTOCOL');
      assert.match(e.message, /a TLS record of 65535 bytes, more than the 18432/);
    } finally {
      await peer.close();
    }
  });

  it('a well-framed ServerHello of random bytes: Schannel refuses it (SspiError), nothing crashes', async () => {
    // handshake type 2 (ServerHello), 296 bytes of body, all random: the record is complete, its content nonsense.
    const body = Buffer.concat([Buffer.from([0x02, 0x00, 0x01, 0x28]), randomBytes(296)]);
    const peer = await rawPeer((c) => c.once('data', () => c.write(Buffer.concat([Buffer.from([0x16, 0x03, 0x03, 0x01, 0x2c]), body]))));
    try {
      const e = await failure(connect({ port: peer.port, host: 'localhost', handshakeTimeout: 20000 }));
      assert.ok(e instanceof SspiError, String(e));
      assert.equal(e.function, 'InitializeSecurityContext');
    } finally {
      await peer.close();
    }
  });

  it('a peer that closes in the middle of the handshake', async () => {
    const node = await nodeTlsServer(() => undefined);
    // Forwards the ClientHello to a real server, then half of its answer, then closes.
    const peer = await rawPeer((c) => {
      const up = net.connect(node.port, '127.0.0.1');
      c.on('data', (d) => up.write(d));
      up.once('data', (d: Buffer) => c.end(d.subarray(0, Math.floor(d.length / 2))));
      c.on('close', () => up.destroy());
    });
    try {
      const e = await failure(connect({ port: peer.port, host: 'localhost', handshakeTimeout: 20000 }));
      assert.match(e.message, /peer sent nothing more|closed/);
    } finally {
      await peer.close();
      await node.close();
    }
  });

  it('a peer that never answers: handshakeTimeout ends it with ERR_TLS_HANDSHAKE_TIMEOUT', async () => {
    const peer = await rawPeer(() => undefined);
    try {
      const e = await failure(connect({ port: peer.port, host: 'localhost', handshakeTimeout: 300 }));
      assert.equal((e as TlsError).code, 'ERR_TLS_HANDSHAKE_TIMEOUT');
    } finally {
      await peer.close();
    }
  });

  it('a peer that trickles a record one byte per 10 ms forever: the timeout still ends it', async () => {
    const peer = await rawPeer((c) => c.once('data', () => {
      c.write(Buffer.from([0x16, 0x03, 0x03, 0x40, 0x00]));
      const t = setInterval(() => c.write(Buffer.of(0)), 10);
      c.on('close', () => clearInterval(t));
    }));
    try {
      const s = connect({ port: peer.port, host: 'localhost', handshakeTimeout: 500 });
      const e = await failure(s);
      assert.equal((e as TlsError).code, 'ERR_TLS_HANDSHAKE_TIMEOUT');
      assert.ok(s.diagnostics.handshakeSteps.filter((x) => x.code === 'SEC_E_INCOMPLETE_MESSAGE').length > 3);
    } finally {
      await peer.close();
    }
  });

  it('garbage after the handshake: DecryptMessage fails, the socket errors and is destroyed', async () => {
    let server: tls.TLSSocket | undefined;
    const node = await nodeTlsServer((s) => { server = s; });
    try {
      const s = connect({ port: node.port, host: 'localhost', ca: [node.made.pem] });
      await once(s, 'secureConnect');
      assert.ok(server);
      // A well-framed application_data record that no key made, as if it came from the wire.
      s.transport.emit('data', Buffer.concat([Buffer.from([0x17, 0x03, 0x03, 0x00, 0x40]), randomBytes(64)]));
      const e = await failure(s);
      assert.ok(e instanceof SspiError, String(e));
      assert.equal(e.function, 'DecryptMessage');
    } finally {
      await node.close();
    }
  });

  it('the socket destroyed while a handshake step is pending: no leak, no late event', async () => {
    const node = await nodeTlsServer(() => undefined);
    try {
      const s = connect({ port: node.port, host: 'localhost' });
      await once(s.transport, 'connect');
      s.destroy();
      await once(s, 'close');
      assert.equal(s.secureEstablished, false);
    } finally {
      await node.close();
    }
  });
});

describe('TlsSocket backpressure', () => {
  it('a reader that does not read: the transport is paused, plaintext stays bounded', async () => {
    let server: tls.TLSSocket | undefined;
    const node = await nodeTlsServer((s) => { server = s; });
    try {
      const s = connect({ port: node.port, host: 'localhost', ca: [node.made.pem] });
      await once(s, 'secureConnect');
      s.pause();
      const big = Buffer.alloc(8 << 20, 7);
      server!.write(big);
      await sleep(500);
      assert.ok(s.readableLength <= s.readableHighWaterMark + 16384, `plaintext buffered: ${s.readableLength}`);
      assert.ok(s.transport.isPaused(), 'the transport is paused');
      assert.ok(s.transport.readableLength < 1 << 20, `ciphertext buffered: ${s.transport.readableLength}`);
      let got = 0;
      s.on('data', (d: Buffer) => { got += d.length; });
      s.resume();
      while (got < big.length) await once(s, 'data');
      assert.equal(got, big.length);
      s.destroy();
    } finally {
      await node.close();
    }
  });

  it('a peer that does not read: write() returns false and the callbacks wait for it', async () => {
    let server: tls.TLSSocket | undefined;
    const node = await nodeTlsServer((s) => { server = s; s.pause(); });
    try {
      const s = connect({ port: node.port, host: 'localhost', ca: [node.made.pem] });
      await once(s, 'secureConnect');
      let done = 0;
      let sawFalse = false;
      for (let i = 0; i < 64; i++) if (!s.write(Buffer.alloc(1 << 20), () => { done++; })) sawFalse = true;
      assert.ok(sawFalse, 'write() said to wait');
      await sleep(500);
      assert.ok(done < 64, `not every write completed while the peer reads nothing (${done})`);
      let got = 0;
      server!.on('data', (d: Buffer) => { got += d.length; });
      server!.resume();
      while (done < 64) await sleep(50);
      while (got < 64 << 20) await sleep(50);
      s.destroy();
    } finally {
      await node.close();
    }
  });
});
