/**
 * The hostile tokens of the fuzz: a pure function of (seed, case index) and a corpus of real tokens, so
 * that any one case can be regenerated from its two numbers (see fuzz-child.ts for the caveat that the
 * corpus's own bytes differ per run).
 */

/** A real token captured from a handshake, and what it is. */
export interface CorpusToken {
  name: string;
  bytes: Buffer;
}

/** The kinds of hostile token, chosen per case in turn (index modulo their number). */
export const MUTATIONS = ['random', 'bitflip', 'truncate', 'prefix+garbage', 'oversized', 'field'] as const;

/** mulberry32: a small, fast, seedable PRNG (32-bit state). */
function prng(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** The PRNG of one case: seed and index mixed so that neighbouring cases are unrelated. */
export function caseRandom(seed: number, index: number): () => number {
  const r = prng((seed >>> 0) ^ Math.imul(index + 1, 0x9e3779b1));
  r();
  return r;
}

function randomBytes(rnd: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

/** Values that break length and offset fields: zero, all ones, sign bit, just past a buffer. */
const FIELD_VALUES = [0, 0xffffffff, 0x7fffffff, 0x80000000, 0xffff, 0x8000, 0x10000, 1];

/**
 * The hostile token of case `index`: one of {@link MUTATIONS} applied to a corpus token (or to nothing,
 * for 'random'). Lengths are bytes.
 */
export function mutate(seed: number, index: number, corpus: CorpusToken[]): { mutation: string; token: Buffer } {
  const rnd = caseRandom(seed, index);
  const kind = MUTATIONS[index % MUTATIONS.length];
  const base = corpus[Math.floor(rnd() * corpus.length)];
  const src = base.bytes;
  const int = (n: number): number => Math.floor(rnd() * n);
  switch (kind) {
    case 'random': {
      // Mostly short (where the parsers look), sometimes a few KiB; the first byte sometimes made to
      // look like a token (GSS 0x60, NegTokenResp 0xA1, 'N' of NTLMSSP) to get past the first check.
      const n = 1 + (rnd() < 0.7 ? int(200) : int(4096));
      const t = randomBytes(rnd, n);
      const lead = int(4);
      if (lead === 1) t[0] = 0x60;
      else if (lead === 2) t[0] = 0xa1;
      else if (lead === 3 && n >= 12) {
        Buffer.from('NTLMSSP\0', 'latin1').copy(t, 0, 0, Math.min(8, n));
        t.writeUInt32LE(1 + int(3), 8);
      }
      return { mutation: kind, token: t };
    }
    case 'bitflip': {
      const t = Buffer.from(src);
      const flips = 1 + int(8);
      for (let k = 0; k < flips; k++) t[int(t.length)] ^= 1 << int(8);
      return { mutation: `${kind} ${flips}x of ${base.name}`, token: t };
    }
    case 'truncate': {
      const n = 1 + int(src.length - 1);
      return { mutation: `${kind} to ${n} of ${base.name}`, token: Buffer.from(src.subarray(0, n)) };
    }
    case 'prefix+garbage': {
      const n = 1 + int(src.length);
      return { mutation: `${kind} ${n} of ${base.name}`, token: Buffer.concat([src.subarray(0, n), randomBytes(rnd, 1 + int(2048))]) };
    }
    case 'oversized': {
      // Past cbMaxToken (NTLM 1904 B, Kerberos/Negotiate 12000 B) and past the HTTP default (64 KiB).
      const n = [2048, 12001, 48000, 65537][int(4)];
      const t = Buffer.concat([src, randomBytes(rnd, Math.max(0, n - src.length))]);
      return { mutation: `${kind} ${n} from ${base.name}`, token: t };
    }
    default: {
      // A 16- or 32-bit field of a real token overwritten with a hostile value (NTLM's lengths and
      // offsets, DER lengths).
      const t = Buffer.from(src);
      const at = int(Math.max(1, t.length - 4));
      const v = FIELD_VALUES[int(FIELD_VALUES.length)];
      if (rnd() < 0.5 && at + 4 <= t.length) t.writeUInt32LE(v >>> 0, at);
      else if (at + 2 <= t.length) t.writeUInt16LE(v & 0xffff, at);
      return { mutation: `${kind} @${at}=0x${v.toString(16)} of ${base.name}`, token: t };
    }
  }
}
