/**
 * Schannel's TLS pieces the handshake loop and the socket share: the control tokens of
 * ApplyControlToken, protocol names, the SEC_APPLICATION_PROTOCOLS serialization (ALPN), and a
 * framer that checks TLS record headers as bytes arrive.
 *
 * SCHANNEL_* token types, TLS1_ALERT_* values and SP_PROT_* bits come from lib/constants.ts (schannel.h).
 * @packageDocumentation
 */

import { SP_PROT } from '../constants';
import type { TlsProtocol } from '../credentials';

/** SP_PROT_* bits of SecPkgContext_ConnectionInfo.dwProtocol, client and server. */
const PROTOCOLS: [number, string][] = [
  [SP_PROT.SSL3_SERVER | SP_PROT.SSL3_CLIENT, 'SSLv3'],
  [SP_PROT.TLS1_0, 'TLSv1'],
  [SP_PROT.TLS1_1, 'TLSv1.1'],
  [SP_PROT.TLS1_2, 'TLSv1.2'],
  [SP_PROT.TLS1_3, 'TLSv1.3'],
];

/** The TLS versions in order, by Node's names. */
export const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;

/**
 * The versions from `min` to `max` (Node's minVersion / maxVersion), or undefined when neither is given
 * (Schannel's defaults). What the credentials allow, and what the socket checks the negotiated version against.
 * @throws TypeError for a name that is not in {@link TLS_VERSIONS}; RangeError when min is above max.
 */
export function versionsBetween(min: unknown, max: unknown): TlsProtocol[] | undefined {
  if (min === undefined && max === undefined) return undefined;
  const index = (v: unknown, what: string, fallback: number): number => {
    if (v === undefined) return fallback;
    const i = TLS_VERSIONS.indexOf(v as TlsProtocol);
    if (i < 0) throw new TypeError(`${what} must be one of ${TLS_VERSIONS.join(', ')}`);
    return i;
  };
  const lo = index(min, 'options.minVersion', 0);
  const hi = index(max, 'options.maxVersion', TLS_VERSIONS.length - 1);
  if (lo > hi) throw new RangeError('options.minVersion is above options.maxVersion');
  return TLS_VERSIONS.slice(lo, hi + 1);
}

/** Node's name for an SP_PROT_* protocol ('TLSv1.2'), or `unknown (0x...)`. */
export function protocolName(dwProtocol: number): string {
  const hit = PROTOCOLS.find(([bits]) => (dwProtocol & bits) !== 0);
  return hit ? hit[1] : `unknown (0x${(dwProtocol >>> 0).toString(16)})`;
}

/**
 * The bytes of a SECBUFFER_APPLICATION_PROTOCOLS input buffer for ALPN: a SEC_APPLICATION_PROTOCOLS
 * structure (sspi.h) holding one SEC_APPLICATION_PROTOCOL_LIST with ProtoNegoExt
 * SecApplicationProtocolNegotiationExt_ALPN (2): ULONG ProtocolListsSize, then the list's
 * ProtoNegoExt (ULONG), ProtocolListSize (USHORT) and ProtocolList, the protocol ids each preceded by
 * its one-byte length as RFC 7301 section 3.1 lays them out. Little-endian, as Windows lays out
 * these structures. See https://learn.microsoft.com/en-us/windows/win32/api/sspi/ns-sspi-sec_application_protocols.
 * @param protocols - protocol ids ('h2', 'http/1.1'), each 1..255 bytes of UTF-8.
 * @throws TypeError for anything but a non-empty array of such strings.
 */
export function applicationProtocols(protocols: readonly string[]): Buffer {
  if (!Array.isArray(protocols) || protocols.length === 0) throw new TypeError('ALPNProtocols must be a non-empty array of protocol names');
  const ids = protocols.map((p) => {
    if (typeof p !== 'string') throw new TypeError('ALPNProtocols must hold strings');
    const b = Buffer.from(p, 'utf8');
    if (b.length < 1 || b.length > 255) throw new TypeError(`ALPN protocol '${p}' must be 1 to 255 bytes`);
    return Buffer.concat([Buffer.from([b.length]), b]);
  });
  const list = Buffer.concat(ids);
  if (list.length > 0xffff) throw new TypeError('ALPNProtocols are too long (more than 65535 bytes)');
  const out = Buffer.alloc(4 + 4 + 2 + list.length);
  out.writeUInt32LE(4 + 2 + list.length, 0); // ProtocolListsSize: the bytes of the lists that follow
  out.writeUInt32LE(2, 4); // SecApplicationProtocolNegotiationExt_ALPN
  out.writeUInt16LE(list.length, 8);
  list.copy(out, 10);
  return out;
}

/** Largest TLSCiphertext.length (RFC 5246 section 6.2.3: 2^14 + 2048; TLS 1.3 allows less). */
export const MAX_RECORD_LENGTH = 16384 + 2048;
/** TLS record header length (content type, version, length). */
export const RECORD_HEADER = 5;

/**
 * Follows the TLS record framing of a byte stream as it arrives, so that a peer that is not speaking
 * TLS, or announces a record longer than TLS allows, is refused at once instead of being waited for
 * (Schannel would keep answering SEC_E_INCOMPLETE_MESSAGE until up to 64 KiB had arrived).
 */
export class RecordFramer {
  /** Bytes of the current record still to come (its body), or -1 while a header is being read. */
  private remaining = 0;
  private header: number[] = [];

  /**
   * Checks the next bytes of the stream.
   * @returns undefined when they are well framed, or a description of the first bad header.
   */
  check(chunk: Uint8Array): string | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - i);
        this.remaining -= n;
        i += n;
        continue;
      }
      this.header.push(chunk[i++]);
      if (this.header.length < RECORD_HEADER) continue;
      const [type, major] = this.header;
      const length = (this.header[3] << 8) | this.header[4];
      this.header = [];
      // content types 20..24: change_cipher_spec, alert, handshake, application_data, heartbeat (RFC 6520)
      if (type < 20 || type > 24 || major !== 3) return `not a TLS record (content type ${type}, version major ${major})`;
      if (length > MAX_RECORD_LENGTH) return `a TLS record of ${length} bytes, more than the ${MAX_RECORD_LENGTH} TLS allows`;
      this.remaining = length;
    }
    return undefined;
  }
}
