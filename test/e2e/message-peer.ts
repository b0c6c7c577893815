/**
 * The SSPI side of the MIT GSSAPI message-protection test (message.test.ts): a Kerberos acceptor in
 * Windows node.exe under Wine, driven over TCP by test/e2e/gssapi_wrap.py, one JSON request per line,
 * one JSON answer per line, bytes in base64:
 *
 *   { op: 'step', token }                 AcceptSecurityContext             -> { code, token? }
 *   { op: 'verify', data, mic }           verifyIntegrityCheck              -> { ok } | { error }
 *   { op: 'sign', data }                  computeIntegrityCheck             -> { mic } | { error }
 *   { op: 'unwrap', message }             the facade's unwrap (STREAM)      -> { data, encrypted, qop } | { error }
 *   { op: 'wrap', data }                  the facade's wrap                 -> { message } | { error }
 *   { op: 'decrypt', message, trailer }   raw DecryptMessage, DATA = all but the last `trailer` bytes,
 *                                         TOKEN = those                     -> { status, data, qop }
 *   { op: 'encrypt', data, trailer }      raw EncryptMessage, TOKEN of `trailer` bytes, answers
 *                                         DATA | TOKEN                      -> { status, message }
 *
 * Usage: node.exe message-peer.js PORT (prints "listening on PORT"). One connection, then it exits.
 */
import * as net from 'node:net';
import * as readline from 'node:readline';

import { SECBUFFER } from '../../lib/constants';
import { ServerContext } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { SspiError, statusName } from '../../lib/errors';
import { DecryptMessage, EncryptMessage, SecBuffer } from '../../lib/raw';

type Request = { op: string; token?: string; data?: string; mic?: string; message?: string; trailer?: number };

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const bytes = (s: string | undefined): Buffer => Buffer.from(s ?? '', 'base64');

function answer(ctx: ServerContext, r: Request): Promise<Record<string, unknown>> | Record<string, unknown> {
  switch (r.op) {
    case 'step':
      return ctx.step(bytes(r.token)).then((s) => ({ code: s.code, token: s.token ? b64(s.token) : undefined }));
    case 'verify':
      return { ok: ctx.verifyIntegrityCheck(bytes(r.data), bytes(r.mic)) };
    case 'sign':
      return { mic: b64(ctx.computeIntegrityCheck(bytes(r.data))) };
    case 'unwrap': {
      const u = ctx.unwrap(bytes(r.message));
      return { data: b64(u.data), encrypted: u.encrypted, qop: u.qop };
    }
    case 'wrap':
      return { message: b64(ctx.wrap(bytes(r.data))) };
    case 'decrypt': {
      const m = bytes(r.message);
      const split = m.length - (r.trailer ?? 0);
      const desc: SecBuffer[] = [{ BufferType: SECBUFFER.TOKEN, pvBuffer: m.subarray(split) }, { BufferType: SECBUFFER.DATA, pvBuffer: m.subarray(0, split) }];
      const d = DecryptMessage(ctx.handle, desc, 0);
      return { status: statusName(d.status), qop: d.qop, data: b64(desc[1].pvBuffer!.subarray(0, desc[1].cbBuffer)) };
    }
    case 'encrypt': {
      const desc: SecBuffer[] = [{ BufferType: SECBUFFER.TOKEN, cbBuffer: r.trailer }, { BufferType: SECBUFFER.DATA, pvBuffer: bytes(r.data) }];
      const status = EncryptMessage(ctx.handle, 0, desc, 0);
      const parts = [desc[1], desc[0]].map((b) => (b.pvBuffer ? b.pvBuffer.subarray(0, b.cbBuffer) : Buffer.alloc(0)));
      return { status: statusName(status), message: b64(Buffer.concat(parts)) };
    }
    default:
      throw new TypeError(`unknown op ${r.op}`);
  }
}

async function main(): Promise<void> {
  const port = Number(process.argv[2]);
  const cred = await Credentials.acquire({ package: 'Kerberos', use: 'inbound' });
  const server = net.createServer((socket) => {
    server.close();
    const ctx = new ServerContext(cred);
    const lines = readline.createInterface({ input: socket });
    let queue = Promise.resolve();
    lines.on('line', (line) => {
      queue = queue.then(async () => {
        let reply: Record<string, unknown>;
        try {
          reply = await answer(ctx, JSON.parse(line) as Request);
        } catch (e) {
          reply = { error: e instanceof SspiError ? e.code : String(e) };
        }
        socket.write(`${JSON.stringify(reply)}\n`);
      });
    });
    socket.on('close', () => {
      ctx.dispose();
      cred.dispose();
    });
  });
  server.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
