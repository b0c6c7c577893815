/**
 * Message protection on established Kerberos contexts, side by side: sign/verify (MakeSignature on the
 * client, VerifySignature on the server) and wrap/unwrap (EncryptMessage on the client, DecryptMessage
 * on the server) at 64 B, 1 KiB, 64 KiB and 1 MiB; operations/s (one operation: one message signed and
 * verified, or sealed and unsealed) and MB/s of payload (10^6 bytes).
 *
 * Contenders: the C floor (floor.exe message), the facade (context.computeIntegrityCheck /
 * verifyIntegrityCheck and context.wrap / unwrap; and lib/message.ts's ...Async forms, 1 in flight:
 * sequence numbers order the messages), and the raw layer (lib/raw MakeSignature / VerifySignature /
 * EncryptMessage / DecryptMessage with caller buffers reused, the plaintext copied into DATA before
 * each EncryptMessage as floor.c does). node-expose-sspi 0.1.60 has none of these calls. Every
 * contender and operation has its own context pair: a failed EncryptMessage (Wine) still consumes a
 * sequence number, which must not spoil another figure.
 */
import { SECBUFFER, SECURITY_STATUS } from '../lib/constants';
import type { SecurityContext } from '../lib/context';
import { computeIntegrityCheckAsync, unwrapAsync, verifyIntegrityCheckAsync, wrapAsync } from '../lib/message';
import * as raw from '../lib/raw';
import { establishedPair } from '../test/support/message';
import { wineVersion } from '../test/support/wine';
import { HandshakeKit } from './handshakes';
import { Floor, fmt, median, rate, ratio, reason, ROUNDS } from './common';

const SIZES = [64, 1024, 65536, 1048576];
const OPS = ['sign', 'seal'] as const;
type Op = typeof OPS[number];
const TARGET: Record<number, string> = { 64: '>= 0.60x floor', 1024: '>= 0.90x floor', 65536: '>= 0.97x floor', 1048576: '>= 0.97x floor' };
/** What Wine 10's Kerberos EncryptMessage needs in TOKEN for an AES token with confidentiality (test/unit/raw-message.test.ts). */
const WINE_SEAL_TRAILER = 60;

const label = (size: number): string => (size >= 1048576 ? `${size / 1048576} MiB` : size >= 1024 ? `${size / 1024} KiB` : `${size} B`);

function pattern(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + 1) & 0xff;
  return b;
}

/** One contender: an operation on `size` bytes, done once (the loop is the caller's). */
interface MessageContender {
  name: string;
  /** Makes the operation for (op, size) on its own context pair. */
  prepare(op: Op, size: number): Promise<() => Promise<void> | void>;
}

export async function messageTables(spn: string, seconds: number, floor: Floor | undefined, kit: HandshakeKit, nesThere: boolean): Promise<string[]> {
  const wine = wineVersion() !== null;
  const pairs: Disposable[] = [];
  const pair = async (): Promise<{ client: SecurityContext; server: SecurityContext }> => {
    const p = await establishedPair(kit.client, kit.server, spn);
    pairs.push(p);
    return p;
  };
  const sizes = (await pair()).client.sizes();
  const trailer = wine ? Math.max(WINE_SEAL_TRAILER, sizes.cbSecurityTrailer) : sizes.cbSecurityTrailer;
  const data = new Map(SIZES.map((s) => [s, pattern(s)]));

  const facadeSync: MessageContender = {
    name: 'ours: facade, sync',
    async prepare(op, size) {
      const { client, server } = await pair();
      const d = data.get(size)!;
      if (op === 'sign') return () => { server.verifyIntegrityCheck(d, client.computeIntegrityCheck(d)); };
      return () => { server.unwrap(client.wrap(d)); };
    },
  };
  const facadeAsync: MessageContender = {
    name: 'ours: facade, async (1 in flight)',
    async prepare(op, size) {
      const { client, server } = await pair();
      const d = data.get(size)!;
      if (op === 'sign') return async () => { await verifyIntegrityCheckAsync(server, d, await computeIntegrityCheckAsync(client, d)); };
      return async () => { await unwrapAsync(server, await wrapAsync(client, d)); };
    },
  };
  const rawLayer: MessageContender = {
    name: 'ours: raw layer (sync, caller buffers)',
    async prepare(op, size) {
      const { client, server } = await pair();
      const d = data.get(size)!;
      const token = Buffer.alloc(Math.max(trailer, sizes.cbMaxSignature));
      if (op === 'sign') {
        return () => {
          const m: raw.SecBufferDesc = [{ BufferType: SECBUFFER.DATA, pvBuffer: d }, { BufferType: SECBUFFER.TOKEN, cbBuffer: sizes.cbMaxSignature, pvBuffer: token }];
          const st = raw.MakeSignature(client.handle, 0, m, 0);
          if (st !== SECURITY_STATUS.SEC_E_OK) throw new Error(`MakeSignature: 0x${st.toString(16)}`);
          const v = raw.VerifySignature(server.handle, [{ BufferType: SECBUFFER.DATA, pvBuffer: d }, { BufferType: SECBUFFER.TOKEN, pvBuffer: raw.bytesOf(m[1]) }], 0);
          if (v.status !== SECURITY_STATUS.SEC_E_OK) throw new Error(`VerifySignature: 0x${v.status.toString(16)}`);
        };
      }
      const work = Buffer.alloc(size);
      const padding = Buffer.alloc(Math.max(1, sizes.cbBlockSize));
      let checked = false;
      return () => {
        d.copy(work);
        const m: raw.SecBufferDesc = [
          { BufferType: SECBUFFER.TOKEN, cbBuffer: trailer, pvBuffer: token },
          { BufferType: SECBUFFER.DATA, pvBuffer: work },
          { BufferType: SECBUFFER.PADDING, cbBuffer: sizes.cbBlockSize, pvBuffer: padding },
        ];
        const st = raw.EncryptMessage(client.handle, 0, m, 0);
        if (st !== SECURITY_STATUS.SEC_E_OK) throw new Error(`EncryptMessage: 0x${st.toString(16)}`);
        const u: raw.SecBufferDesc = [{ BufferType: SECBUFFER.TOKEN, pvBuffer: raw.bytesOf(m[0]) }, { BufferType: SECBUFFER.DATA, pvBuffer: raw.bytesOf(m[1]) }];
        const r = raw.DecryptMessage(server.handle, u, 0);
        if (r.status !== SECURITY_STATUS.SEC_E_OK) throw new Error(`DecryptMessage: 0x${r.status.toString(16)}`);
        if (!checked && !raw.bytesOf(u[1]).equals(d)) throw new Error('DecryptMessage: the plaintext differs');
        checked = true;
      };
    },
  };

  const FLOOR = 'C floor (secur32 directly, one thread)';
  const key = (op: Op, size: number): string => `${op} ${size}`;
  const figures = new Map<string, Map<string, number[]>>(); // contender -> cell -> ops/s per round
  const failed = new Map<string, Map<string, string>>();
  const names = [...(floor ? [FLOOR] : []), ...[facadeSync, facadeAsync, rawLayer].map((c) => c.name)];
  for (const n of names) {
    figures.set(n, new Map());
    failed.set(n, new Map());
  }
  const record = (name: string, cell: string, v: number): void => {
    const m = figures.get(name)!;
    m.set(cell, [...(m.get(cell) ?? []), v]);
  };

  // Each (contender, cell): its own pair and operation, warmed up with one call.
  const ops = new Map<string, () => Promise<void> | void>();
  for (const c of [facadeSync, facadeAsync, rawLayer]) {
    for (const op of OPS) {
      for (const size of SIZES) {
        try {
          const fn = await c.prepare(op, size);
          await fn();
          ops.set(`${c.name}|${key(op, size)}`, fn);
        } catch (e) {
          failed.get(c.name)!.set(key(op, size), reason(e));
        }
      }
    }
  }
  for (let round = 0; round < ROUNDS; round++) {
    if (floor && !failed.get(FLOOR)!.size) {
      try {
        const lines = floor.run((out) => ['message', String(seconds), out, spn, String(trailer), ...SIZES.map(String)]);
        for (const line of lines) {
          const [op, size, n, elapsed] = line.split(' ');
          record(FLOOR, key(op as Op, Number(size)), Number(n) / Number(elapsed));
        }
      } catch (e) {
        for (const op of OPS) for (const size of SIZES) failed.get(FLOOR)!.set(key(op, size), reason(e));
      }
    }
    for (const c of [facadeSync, facadeAsync, rawLayer]) {
      for (const op of OPS) {
        for (const size of SIZES) {
          const cell = key(op, size);
          const fn = ops.get(`${c.name}|${cell}`);
          if (!fn || failed.get(c.name)!.has(cell)) continue;
          try {
            record(c.name, cell, (await rate(seconds, fn)).perSecond);
          } catch (e) {
            failed.get(c.name)!.set(cell, reason(e));
          }
        }
      }
    }
  }
  for (const p of pairs) p[Symbol.dispose]();

  const lines: string[] = [];
  const title: Record<Op, string> = {
    sign: 'sign/verify (MakeSignature + VerifySignature)',
    seal: 'wrap/unwrap (EncryptMessage + DecryptMessage)',
  };
  for (const op of OPS) {
    lines.push(`### Kerberos ${title[op]}: operations/s and MB/s`, '');
    lines.push(`Median of ${ROUNDS} interleaved rounds of ${seconds} s per figure; one operation = one message ${op === 'sign' ? 'signed and verified' : 'sealed and unsealed'}; ` +
      'MB/s = payload bytes x operations/s / 10^6.');
    if (op === 'seal') {
      lines.push('', `SECBUFFER_TOKEN: the facade's wrap() sizes it as SECPKG_ATTR_SIZES says (cbSecurityTrailer ${sizes.cbSecurityTrailer} B); ` +
        `the raw layer and the C floor use ${trailer} B${wine ? ` (Wine 10 needs ${WINE_SEAL_TRAILER} B: SEC_E_BUFFER_TOO_SMALL with ${sizes.cbSecurityTrailer})` : ''}. ` +
        'The facade unwraps as SECBUFFER_STREAM + DATA, the raw layer and the floor as TOKEN + DATA' +
        (wine ? ' (Wine 10 has no stream-mode DecryptMessage: the facade\'s wrap/unwrap fail under Wine and run on Microsoft\'s secur32).' : '.'));
    }
    if (!nesThere) lines.push('', 'node-expose-sspi: not installed.');
    else lines.push('', 'node-expose-sspi 0.1.60: not compared (its API has no MakeSignature, VerifySignature, EncryptMessage or DecryptMessage).');
    lines.push('', '| size | contender | operations/s | MB/s | x floor | target |', '|---|---|---:|---:|---:|---|');
    if (!floor) lines.push(`| all | ${FLOOR} | failed: floor.exe not built |  |  |  |`);
    for (const size of SIZES) {
      const cell = key(op, size);
      const med = (name: string): number | undefined => {
        const xs = figures.get(name)?.get(cell);
        return xs?.length && !failed.get(name)!.has(cell) ? median(xs) : undefined;
      };
      const floorRate = med(FLOOR);
      for (const name of names) {
        const why = failed.get(name)!.get(cell);
        const target = name === FLOOR ? '' : TARGET[size];
        if (why) {
          lines.push(`| ${label(size)} | ${name} | failed: ${why} |  |  | ${target} |`);
          continue;
        }
        const v = med(name);
        lines.push(`| ${label(size)} | ${name} | ${v === undefined ? '-' : fmt(v)} | ${v === undefined ? '-' : fmt((v * size) / 1e6)} | ${ratio(v, floorRate)} | ${target} |`);
      }
    }
    lines.push('');
  }
  return lines.slice(0, -1);
}
