/**
 * Framing check of HTTP authentication tokens, before they reach AcceptSecurityContext.
 *
 * What arrives in `Authorization: Negotiate <base64>` / `Authorization: NTLM <base64>` is one of four
 * shapes; anything else cannot be a token of these schemes, and is refused before any SSPI call:
 *
 * - a GSS-API InitialContextToken (RFC 2743 section 3.1): DER `[APPLICATION 0]` (0x60), a definite
 *   length covering exactly the rest of the token, then the mechanism's OBJECT IDENTIFIER (0x06),
 *   then the mechanism's own bytes. SPNEGO's NegTokenInit (RFC 4178) and a GSS-framed Kerberos AP-REQ
 *   (RFC 4121 section 4.1) have this shape;
 * - a SPNEGO NegTokenResp (RFC 4178 section 4.2.2): DER `[1]` constructed (0xA1) holding one SEQUENCE
 *   (0x30), each length covering exactly the rest of the token;
 * - an NTLM NEGOTIATE_MESSAGE or AUTHENTICATE_MESSAGE ([MS-NLMP] 2.2.1.1 and 2.2.1.3): the signature
 *   `NTLMSSP\0`, MessageType 1 or 3 (a server never receives the CHALLENGE_MESSAGE, type 2), and
 *   payload field descriptors (Len, MaxLen, BufferOffset) that point inside the message.
 *
 * Framing only: nothing inside the mechanism's bytes is parsed, and a token that passes may still be
 * refused by SSPI, which decides. The check exists because a provider that runs inside the server's
 * process (Wine's NTLM) can crash on garbage, and because it costs a real client nothing.
 *
 * Why the DER headers are read here rather than by an ASN.1 library (such as asn1js): the only ASN.1
 * looked at is the outermost tag and definite length (one level for the InitialContextToken, two for
 * NegTokenResp) and the encoding of one OBJECT IDENTIFIER. An InitialContextToken as a whole is not
 * ASN.1 (its innerContextToken is "ANY DEFINED BY thisMech", raw bytes for Kerberos and NTLM), so a
 * BER decoder cannot take it whole; and decoding NegTokenResp completely would be parsing, which SSPI
 * already does and this check must not duplicate.
 */

/** The shapes {@link inspectToken} recognises. */
export type TokenShape = 'gss-initial' | 'spnego-response' | 'ntlm-negotiate' | 'ntlm-authenticate';

/** What the framing says about a token. */
export interface TokenFraming {
  /** Which message the framing shows. */
  shape: TokenShape;
  /**
   * True for a token that starts a handshake: an InitialContextToken or an NTLM NEGOTIATE_MESSAGE.
   * NegTokenResp and AUTHENTICATE_MESSAGE continue one.
   */
  initial: boolean;
  /** For 'gss-initial': the mechanism OID in dotted form, e.g. '1.3.6.1.5.5.2' (SPNEGO). */
  mechanism?: string;
}

/** Well-known mechanism OIDs ('gss-initial' tokens), for logs and tests. */
export const MECHANISM_OID = {
  SPNEGO: '1.3.6.1.5.5.2',
  KERBEROS_V5: '1.2.840.113554.1.2.2',
  /** The OID Windows 2000 put in SPNEGO for Kerberos, still accepted by Microsoft's Negotiate. */
  KERBEROS_V5_MS: '1.2.840.48018.1.2.2',
  NTLM: '1.3.6.1.4.1.311.2.2.10',
} as const;

/** The 8 bytes every NTLM message starts with ([MS-NLMP] 2.2.1: Signature). */
export const NTLMSSP_SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');
/** [MS-NLMP] 2.2.2.5: NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED, NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED. */
const OEM_DOMAIN_SUPPLIED = 0x00001000;
const OEM_WORKSTATION_SUPPLIED = 0x00002000;

/**
 * A DER definite length at `at`: [length, index of the first content byte], or undefined when the
 * bytes are not a definite length (the indefinite form 0x80 is BER only; more than 4 length bytes
 * would mean a token over 4 GiB). Non-minimal long forms are accepted: refusing them would be a DER
 * conformance check, not framing, and would risk refusing a real client.
 */
function definiteLength(b: Uint8Array, at: number): [number, number] | undefined {
  if (at >= b.length) return undefined;
  const first = b[at];
  if (first < 0x80) return [first, at + 1];
  const count = first & 0x7f;
  if (count === 0 || count > 4 || at + 1 + count > b.length) return undefined;
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + b[at + 1 + i];
  return [length, at + 1 + count];
}

/** The dotted form of the OBJECT IDENTIFIER contents `b[from, to)`, or undefined if malformed (X.690 8.19). */
function objectIdentifier(b: Uint8Array, from: number, to: number): string | undefined {
  if (to <= from || (b[to - 1] & 0x80) !== 0) return undefined;
  const arcs: number[] = [];
  let value = 0;
  let start = true;
  for (let i = from; i < to; i++) {
    if (start && b[i] === 0x80) return undefined; // a subidentifier may not begin with 0x80
    if (value > 0x1fffffffffff) return undefined; // keeps the arithmetic exact; no real arc is this long
    value = value * 128 + (b[i] & 0x7f);
    start = (b[i] & 0x80) === 0;
    if (start) {
      arcs.push(value);
      value = 0;
    }
  }
  const first = arcs.shift()!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs].join('.');
}

function gssInitial(b: Uint8Array): TokenFraming | undefined {
  const outer = definiteLength(b, 1);
  if (!outer || outer[1] + outer[0] !== b.length) return undefined;
  const oidAt = outer[1];
  if (b[oidAt] !== 0x06) return undefined;
  const oid = definiteLength(b, oidAt + 1);
  if (!oid || oid[0] === 0 || oid[1] + oid[0] > b.length) return undefined;
  const mechanism = objectIdentifier(b, oid[1], oid[1] + oid[0]);
  return mechanism ? { shape: 'gss-initial', initial: true, mechanism } : undefined;
}

function negTokenResp(b: Uint8Array): TokenFraming | undefined {
  const outer = definiteLength(b, 1);
  if (!outer || outer[1] + outer[0] !== b.length || b[outer[1]] !== 0x30) return undefined;
  const seq = definiteLength(b, outer[1] + 1);
  if (!seq || seq[1] + seq[0] !== b.length) return undefined;
  return { shape: 'spnego-response', initial: false };
}

/** True if the NTLM payload field descriptor (Len, MaxLen, BufferOffset) at `at` points inside the message. */
function fieldInside(b: Buffer, at: number): boolean {
  const len = b.readUInt16LE(at);
  const offset = b.readUInt32LE(at + 4);
  return len === 0 || offset + len <= b.length;
}

function ntlm(b: Buffer): TokenFraming | undefined {
  if (b.length < 16 || !b.subarray(0, 8).equals(NTLMSSP_SIGNATURE)) return undefined;
  const type = b.readUInt32LE(8);
  if (type === 1) {
    // [MS-NLMP] 2.2.1.1: Signature, MessageType, NegotiateFlags (16 bytes), then DomainNameFields and
    // WorkstationFields (8 each), present in every client since NT 4 but only meaningful with their flag.
    const flags = b.readUInt32LE(12);
    if (flags & OEM_DOMAIN_SUPPLIED && (b.length < 24 || !fieldInside(b, 16))) return undefined;
    if (flags & OEM_WORKSTATION_SUPPLIED && (b.length < 32 || !fieldInside(b, 24))) return undefined;
    return { shape: 'ntlm-negotiate', initial: true };
  }
  if (type === 3) {
    // [MS-NLMP] 2.2.1.3: LmChallengeResponseFields at 12, NtChallengeResponseFields at 20,
    // DomainNameFields at 28, UserNameFields at 36, WorkstationFields at 44 (then, in all but the
    // oldest clients, EncryptedRandomSessionKeyFields, NegotiateFlags, Version and MIC).
    if (b.length < 52) return undefined;
    let payload = b.length;
    for (const at of [12, 20, 28, 36, 44]) {
      if (!fieldInside(b, at)) return undefined;
      if (b.readUInt16LE(at) > 0) payload = Math.min(payload, b.readUInt32LE(at + 4));
    }
    // EncryptedRandomSessionKeyFields (at 52) belong to the header when the payload starts after them.
    if (payload >= 60 && b.length >= 60 && !fieldInside(b, 52)) return undefined;
    return { shape: 'ntlm-authenticate', initial: false };
  }
  return undefined;
}

/**
 * What the framing of `token` says it is, or undefined when it cannot be a token of the Negotiate
 * (RFC 4559) or NTLM HTTP schemes. Pure and cheap (reads at most a few dozen bytes of headers); never
 * throws for any byte sequence.
 * @param token - the decoded bytes of the `Authorization` header's credentials.
 */
export function inspectToken(token: Uint8Array): TokenFraming | undefined {
  if (!(token instanceof Uint8Array)) throw new TypeError('token must be a Buffer or Uint8Array');
  const b = Buffer.from(token.buffer, token.byteOffset, token.byteLength);
  if (b.length < 2) return undefined;
  switch (b[0]) {
    case 0x60: return gssInitial(b);
    case 0xa1: return negTokenResp(b);
    case 0x4e: return ntlm(b); // 'N' of NTLMSSP
    default: return undefined;
  }
}

/**
 * Whether `framing` may be sent under the HTTP scheme `scheme`: the NTLM scheme carries NTLM messages
 * only; Negotiate carries all four shapes (SPNEGO, GSS-framed Kerberos, and the raw NTLM messages that
 * Microsoft's clients send under Negotiate when they fall back to NTLM).
 */
export function fitsScheme(framing: TokenFraming, scheme: 'Negotiate' | 'NTLM'): boolean {
  return scheme === 'Negotiate' || framing.shape === 'ntlm-negotiate' || framing.shape === 'ntlm-authenticate';
}
