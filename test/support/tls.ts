/** Helpers for the TLS socket tests: a Node TLS server in this process, and relays that cut or join what passes. */
import { once } from 'node:events';
import * as net from 'node:net';
import { Duplex, duplexPair } from 'node:stream';
import * as tls from 'node:tls';

import { makeCertificate, Made } from './certificates';

/** A Node TLS server on 127.0.0.1 (TLS 1.2: Wine 10's Schannel offers nothing newer) and what it saw. */
export interface NodeServer {
  server: tls.Server;
  port: number;
  made: Made;
  /** Errors of failed handshakes ('tlsClientError') and of connections, e.g. the alert our client sent. */
  clientErrors: Error[];
  close(): Promise<void>;
}

export async function nodeTlsServer(onSecure: (s: tls.TLSSocket) => void, options: tls.TlsOptions = {}, host = 'localhost'): Promise<NodeServer> {
  const made = makeCertificate('rsa-sha256', host);
  const server = tls.createServer({
    cert: made.pem, key: made.key.export({ type: 'pkcs8', format: 'pem' }) as string, maxVersion: 'TLSv1.2', ...options,
  }, (s) => {
    s.on('error', () => undefined);
    onSecure(s);
  });
  const clientErrors: Error[] = [];
  server.on('tlsClientError', (e) => clientErrors.push(e));
  const sockets = new Set<net.Socket>();
  server.on('connection', (c: net.Socket) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  // Errors after the handshake (an alert our client sent once the handshake was done) come on the socket.
  server.on('secureConnection', (s: tls.TLSSocket) => s.on('error', (e) => clientErrors.push(e)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server, made, clientErrors, port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      for (const c of sockets) c.destroy();
    }),
  };
}

/** How a relay hands the server's bytes to the client. */
export type RelayMode = 'asis' | 'bytewise' | 'coalesce';

/**
 * A Duplex for our client whose other end is a TCP connection to `port`. 'bytewise' delivers what
 * the server sends one byte per read; 'coalesce' joins what arrives within 30 ms into one read.
 */
export function relay(port: number, mode: () => RelayMode): { client: Duplex; tcp: net.Socket } {
  const [client, inner] = duplexPair();
  const tcp = net.connect(port, '127.0.0.1');
  inner.on('data', (d: Buffer) => tcp.write(d));
  inner.on('end', () => tcp.end());
  let queue = Promise.resolve();
  let pending: Buffer[] = [];
  let timer: NodeJS.Timeout | undefined;
  tcp.on('data', (d: Buffer) => {
    const m = mode();
    if (m === 'bytewise') {
      queue = queue.then(async () => {
        for (const byte of d) {
          inner.write(Buffer.of(byte));
          await new Promise((r) => setImmediate(r));
        }
      });
    } else if (m === 'coalesce') {
      pending.push(d);
      clearTimeout(timer);
      timer = setTimeout(() => {
        inner.write(Buffer.concat(pending));
        pending = [];
      }, 30);
    } else {
      queue = queue.then(() => { inner.write(d); });
    }
  });
  tcp.on('end', () => { void queue.then(() => inner.end()); });
  tcp.on('error', () => inner.destroy());
  inner.on('error', () => tcp.destroy());
  return { client, tcp };
}

/** Reads a stream to its end. */
export async function readAll(stream: Duplex): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Resolves with the first 'error' of an emitter. */
export function nextError(emitter: NodeJS.EventEmitter): Promise<Error> {
  return new Promise((resolve) => emitter.once('error', resolve));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
