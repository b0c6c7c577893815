/**
 * Established context pairs for the message-protection suites (raw-message, message).
 */
import { ClientContext, ServerContext } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { handshake } from '../../lib/handshake';

/**
 * Registers mocha hooks that acquire Kerberos credentials, outbound (the kinit ticket cache) and inbound
 * (the service keytab), before the suite and dispose them after it; the returned function makes an
 * established pair from them, targeting `spn`.
 */
export function kerberosPairs(spn: () => string): { pair: () => Promise<ContextPair>; credentials: () => Credentials[] } {
  let creds: Credentials[] = [];
  before(async () => {
    creds = [await Credentials.acquire({ package: 'Kerberos' }), await Credentials.acquire({ package: 'Kerberos', use: 'inbound' })];
  });
  after(() => {
    for (const c of creds) c.dispose();
  });
  return { pair: () => establishedPair(creds[0], creds[1], spn()), credentials: () => creds };
}

/** A client and a server context that completed a handshake; disposing the pair disposes both. */
export interface ContextPair extends Disposable {
  client: ClientContext;
  server: ServerContext;
}

/** Completes a handshake between a new client and server context made from the given credentials. */
export async function establishedPair(clientCred: Credentials, serverCred: Credentials, targetName?: string): Promise<ContextPair> {
  const client = new ClientContext(clientCred, targetName === undefined ? {} : { targetName });
  const server = new ServerContext(serverCred);
  await handshake(client, server);
  return {
    client,
    server,
    [Symbol.dispose]() {
      client.dispose();
      server.dispose();
    },
  };
}

/** The message sizes the acceptance criteria name: 64 B, 1 KiB, 64 KiB. */
export const MESSAGE_SIZES = [64, 1024, 65536];

/** `size` bytes of a recognisable pattern. */
export function pattern(size: number, seed = 1): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** A copy of `b` with one bit of byte `index` flipped (negative: from the end). */
export function flipBit(b: Uint8Array, index: number): Buffer {
  const copy = Buffer.from(b);
  copy[index < 0 ? copy.length + index : index] ^= 0x01;
  return copy;
}
