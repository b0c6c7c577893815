/**
 * `sspi token`: decodes an HTTP authentication token for support cases, as pyspnego's
 * `python -m spnego --token` does. Pure decoding (no SSPI call, no key, nothing decrypted), so it runs
 * on any OS.
 *
 * What it reads:
 * - a GSS-API InitialContextToken (RFC 2743 section 3.1): `[APPLICATION 0]`, the mechanism OID, then
 *   the mechanism's own bytes, decoded by mechanism (SPNEGO, Kerberos, NTLM);
 * - SPNEGO (RFC 4178 section 4.2): NegTokenInit (mechTypes, reqFlags, mechToken, mechListMIC; and
 *   Microsoft's NegTokenInit2 negHints, [MS-SPNG] 2.2.1) and NegTokenResp (negState, supportedMech,
 *   responseToken, mechListMIC), the inner tokens decoded in turn;
 * - Kerberos (RFC 4120 section 5.5 and 5.9.1; in GSS framing with RFC 4121 section 4.1's TOK_ID):
 *   the outer structure of KRB_AP_REQ (pvno, msg-type, ap-options, the ticket's realm, sname and
 *   enc-part etype/kvno), KRB_AP_REP (enc-part etype/kvno) and KRB_ERROR (error-code, realm, sname,
 *   e-text). The encrypted parts are never decrypted: only their etype, kvno and length are shown;
 * - NTLM ([MS-NLMP] 2.2.1): NEGOTIATE_MESSAGE, CHALLENGE_MESSAGE and AUTHENTICATE_MESSAGE: flags by
 *   name, domain/workstation/user names, target info AV pairs ([MS-NLMP] 2.2.2.1), version, whether a
 *   MIC is present; of the challenge responses only their kind and length (not the proofs).
 *
 * ASN.1 is parsed with asn1js (BER/DER, with its own nesting limit). The GSS-API framing around it is
 * read by hand: an InitialContextToken is not ASN.1 as a whole (its innerContextToken is "ANY DEFINED
 * BY thisMech", raw bytes for Kerberos' TOK_ID and for NTLM).
 */
import * as asn1js from 'asn1js';

import { inspectToken, NTLMSSP_SIGNATURE } from '../http/framing';

/** A token that cannot be decoded: what was wrong, without a stack trace's worth of detail. */
export class TokenDecodeError extends Error {
  readonly code = 'ERR_SSPI_TOKEN_DECODE';
  constructor(message: string) {
    super(message);
    this.name = 'TokenDecodeError';
  }
}

/** An OBJECT IDENTIFIER in dotted form, with its name where known. */
export interface NamedOid {
  oid: string;
  name: string;
}

/** A named value: the number as it was on the wire and its name (or 'unknown'). */
export interface NamedNumber {
  value: number;
  name: string;
}

/** Kerberos EncryptedData (RFC 4120 5.2.9): the etype and kvno; the cipher's length only. */
export interface EncryptedDataInfo {
  etype: NamedNumber;
  kvno?: number;
  cipherBytes: number;
}

/** Kerberos PrincipalName (RFC 4120 5.2.2). */
export interface PrincipalNameInfo {
  nameType: NamedNumber;
  nameString: string[];
}

/** An NTLM target info AV pair ([MS-NLMP] 2.2.2.1), its value decoded by AvId. */
export interface AvPairInfo {
  id: NamedNumber;
  value: string | number | string[] | null;
}

/** The VERSION structure of an NTLM message ([MS-NLMP] 2.2.2.10). */
export interface NtlmVersionInfo {
  major: number;
  minor: number;
  build: number;
  ntlmRevision: number;
}

/** A decoded token: `type` says which structure; inner tokens are decoded recursively. */
export type DecodedToken =
  | { type: 'gss-initial-context-token'; mechanism: NamedOid; innerToken: DecodedToken }
  | {
    type: 'spnego-neg-token-init'; mechTypes: NamedOid[]; reqFlags?: string[]; mechToken?: DecodedToken;
    negHints?: { hintName?: string; hintAddressBytes?: number }; mechListMICBytes?: number;
  }
  | { type: 'spnego-neg-token-resp'; negState?: NamedNumber; supportedMech?: NamedOid; responseToken?: DecodedToken; mechListMICBytes?: number }
  | {
    type: 'kerberos-ap-req'; gssTokenId?: string; pvno: number; msgType: NamedNumber; apOptions: string[];
    ticket: { tktVno: number; realm: string; sname: PrincipalNameInfo; encPart: EncryptedDataInfo };
    authenticator: EncryptedDataInfo;
  }
  | { type: 'kerberos-ap-rep'; gssTokenId?: string; pvno: number; msgType: NamedNumber; encPart: EncryptedDataInfo }
  | {
    type: 'kerberos-krb-error'; gssTokenId?: string; pvno: number; msgType: NamedNumber; errorCode: NamedNumber;
    realm?: string; sname?: PrincipalNameInfo; crealm?: string; cname?: PrincipalNameInfo; eText?: string; stime?: string;
  }
  | { type: 'ntlm-negotiate'; flags: string[]; flagsValue: number; domain?: string; workstation?: string; version?: NtlmVersionInfo }
  | {
    type: 'ntlm-challenge'; flags: string[]; flagsValue: number; targetName: string; serverChallenge: string;
    targetInfo: AvPairInfo[]; version?: NtlmVersionInfo;
  }
  | {
    type: 'ntlm-authenticate'; flags: string[]; flagsValue: number; domain: string; user: string; workstation: string;
    anonymous: boolean; lmChallengeResponseBytes: number; ntChallengeResponse: { kind: 'none' | 'NTLMv1' | 'NTLMv2'; bytes: number; clientTimestamp?: string; targetInfo?: AvPairInfo[] };
    encryptedRandomSessionKeyBytes: number; version?: NtlmVersionInfo; micPresent: boolean;
  }
  | { type: 'undecoded'; bytes: number; error: string };

/** Mechanism OIDs seen in SPNEGO and GSS-API tokens. */
const MECHANISMS: Record<string, string> = {
  '1.3.6.1.5.5.2': 'SPNEGO',
  '1.2.840.113554.1.2.2': 'Kerberos 5',
  '1.2.840.48018.1.2.2': 'Kerberos 5 (Microsoft legacy OID)',
  '1.2.840.113554.1.2.2.3': 'Kerberos 5 user-to-user',
  '1.3.6.1.5.2.5': 'IAKERB',
  '1.3.6.1.4.1.311.2.2.10': 'NTLM',
  '1.3.6.1.4.1.311.2.2.30': 'NEGOEX',
};

/** RFC 4178 4.2.1 ContextFlags, bit 0 first. */
const CONTEXT_FLAGS = ['delegFlag', 'mutualFlag', 'replayFlag', 'sequenceFlag', 'anonFlag', 'confFlag', 'integFlag'];
/** RFC 4178 4.2.2 negState. */
const NEG_STATES = ['accept-completed', 'accept-incomplete', 'reject', 'request-mic'];
/** RFC 4120 5.5.1 APOptions, bit 0 first. */
const AP_OPTIONS = ['reserved', 'use-session-key', 'mutual-required'];
/** RFC 4120 7.5.7 message types. */
const KRB_MSG_TYPES: Record<number, string> = {
  10: 'KRB_AS_REQ', 11: 'KRB_AS_REP', 12: 'KRB_TGS_REQ', 13: 'KRB_TGS_REP', 14: 'KRB_AP_REQ', 15: 'KRB_AP_REP',
  20: 'KRB_SAFE', 21: 'KRB_PRIV', 22: 'KRB_CRED', 30: 'KRB_ERROR',
};
/** RFC 4120 7.5.8 name types (and 10, NT-ENTERPRISE, RFC 6806). */
const NAME_TYPES: Record<number, string> = {
  0: 'NT-UNKNOWN', 1: 'NT-PRINCIPAL', 2: 'NT-SRV-INST', 3: 'NT-SRV-HST', 4: 'NT-SRV-XHST', 5: 'NT-UID',
  6: 'NT-X500-PRINCIPAL', 7: 'NT-SMTP-NAME', 10: 'NT-ENTERPRISE', 11: 'NT-WELLKNOWN',
};
/** RFC 3961 8 / RFC 3962 / RFC 4757 / RFC 8009 encryption types. */
const ETYPES: Record<number, string> = {
  1: 'des-cbc-crc', 3: 'des-cbc-md5', 16: 'des3-cbc-sha1-kd', 17: 'aes128-cts-hmac-sha1-96', 18: 'aes256-cts-hmac-sha1-96',
  19: 'aes128-cts-hmac-sha256-128', 20: 'aes256-cts-hmac-sha384-192', 23: 'rc4-hmac', 24: 'rc4-hmac-exp',
  25: 'camellia128-cts-cmac', 26: 'camellia256-cts-cmac',
};
/** RFC 4120 7.5.9 error codes (the ones a client or server of HTTP authentication meets). */
const KRB_ERRORS: Record<number, string> = {
  0: 'KDC_ERR_NONE', 6: 'KDC_ERR_C_PRINCIPAL_UNKNOWN', 7: 'KDC_ERR_S_PRINCIPAL_UNKNOWN', 12: 'KDC_ERR_POLICY',
  14: 'KDC_ERR_ETYPE_NOSUPP', 18: 'KDC_ERR_CLIENT_REVOKED', 23: 'KDC_ERR_KEY_EXPIRED', 24: 'KDC_ERR_PREAUTH_FAILED',
  25: 'KDC_ERR_PREAUTH_REQUIRED', 31: 'KRB_AP_ERR_BAD_INTEGRITY', 32: 'KRB_AP_ERR_TKT_EXPIRED', 33: 'KRB_AP_ERR_TKT_NYV',
  34: 'KRB_AP_ERR_REPEAT', 35: 'KRB_AP_ERR_NOT_US', 36: 'KRB_AP_ERR_BADMATCH', 37: 'KRB_AP_ERR_SKEW',
  38: 'KRB_AP_ERR_BADADDR', 39: 'KRB_AP_ERR_BADVERSION', 40: 'KRB_AP_ERR_MSG_TYPE', 41: 'KRB_AP_ERR_MODIFIED',
  44: 'KRB_AP_ERR_BADKEYVER', 45: 'KRB_AP_ERR_NOKEY', 46: 'KRB_AP_ERR_MUT_FAIL', 47: 'KRB_AP_ERR_BADDIRECTION',
  48: 'KRB_AP_ERR_METHOD', 52: 'KRB_ERR_RESPONSE_TOO_BIG', 60: 'KRB_ERR_GENERIC', 68: 'KDC_ERR_WRONG_REALM',
};
/** RFC 4121 4.1 TOK_ID values of the GSS-API Kerberos initial tokens. */
const KRB_TOK_IDS: Record<string, string> = { '0100': 'KRB_AP_REQ', '0200': 'KRB_AP_REP', '0300': 'KRB_ERROR' };

/** [MS-NLMP] 2.2.2.5 NEGOTIATE flags, bit 0 (0x1) first; reserved bits as r1..r10. */
const NTLM_FLAGS: [number, string][] = [
  [0x00000001, 'NTLMSSP_NEGOTIATE_UNICODE'], [0x00000002, 'NTLM_NEGOTIATE_OEM'], [0x00000004, 'NTLMSSP_REQUEST_TARGET'],
  [0x00000008, 'r10'], [0x00000010, 'NTLMSSP_NEGOTIATE_SIGN'], [0x00000020, 'NTLMSSP_NEGOTIATE_SEAL'],
  [0x00000040, 'NTLMSSP_NEGOTIATE_DATAGRAM'], [0x00000080, 'NTLMSSP_NEGOTIATE_LM_KEY'], [0x00000100, 'r9'],
  [0x00000200, 'NTLMSSP_NEGOTIATE_NTLM'], [0x00000400, 'r8'], [0x00000800, 'NTLMSSP_ANONYMOUS'],
  [0x00001000, 'NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED'], [0x00002000, 'NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED'],
  [0x00004000, 'r7'], [0x00008000, 'NTLMSSP_NEGOTIATE_ALWAYS_SIGN'], [0x00010000, 'NTLMSSP_TARGET_TYPE_DOMAIN'],
  [0x00020000, 'NTLMSSP_TARGET_TYPE_SERVER'], [0x00040000, 'r6'], [0x00080000, 'NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY'],
  [0x00100000, 'NTLMSSP_NEGOTIATE_IDENTIFY'], [0x00200000, 'r5'], [0x00400000, 'NTLMSSP_REQUEST_NON_NT_SESSION_KEY'],
  [0x00800000, 'NTLMSSP_NEGOTIATE_TARGET_INFO'], [0x01000000, 'r4'], [0x02000000, 'NTLMSSP_NEGOTIATE_VERSION'],
  [0x04000000, 'r3'], [0x08000000, 'r2'], [0x10000000, 'r1'], [0x20000000, 'NTLMSSP_NEGOTIATE_128'],
  [0x40000000, 'NTLMSSP_NEGOTIATE_KEY_EXCH'], [0x80000000, 'NTLMSSP_NEGOTIATE_56'],
];
const NTLMSSP_NEGOTIATE_UNICODE = 0x00000001;
const NTLMSSP_NEGOTIATE_VERSION = 0x02000000;
const NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED = 0x00001000;
const NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED = 0x00002000;
/** [MS-NLMP] 2.2.2.1 AvId values. */
const AV_IDS = ['MsvAvEOL', 'MsvAvNbComputerName', 'MsvAvNbDomainName', 'MsvAvDnsComputerName', 'MsvAvDnsDomainName',
  'MsvAvDnsTreeName', 'MsvAvFlags', 'MsvAvTimestamp', 'MsvAvSingleHost', 'MsvAvTargetName', 'MsvAvChannelBindings'];
/** [MS-NLMP] 2.2.2.1 MsvAvFlags bits. */
const AV_FLAGS: [number, string][] = [[0x1, 'account-authentication-constrained'], [0x2, 'MIC-present'], [0x4, 'SPN-from-untrusted-source']];

const named = (table: Record<number, string> | string[], value: number): NamedNumber =>
  ({ value, name: (table as Record<number, string>)[value] ?? 'unknown' });
const namedOid = (oid: string): NamedOid => ({ oid, name: MECHANISMS[oid] ?? 'unknown' });

// ---------------------------------------------------------------------------------------------
// ASN.1 helpers over asn1js

type Node = asn1js.AsnType;

function ber(bytes: Uint8Array, what: string): Node {
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { offset, result } = asn1js.fromBER(view);
  if (offset === -1) throw new TokenDecodeError(`${what}: not valid BER/DER (${result.error || 'malformed'})`);
  if (offset !== bytes.length) throw new TokenDecodeError(`${what}: ${bytes.length - offset} bytes after the end of the structure`);
  return result;
}

function tagOf(n: Node): { tagClass: number; tagNumber: number; constructed: boolean } {
  const id = (n as asn1js.BaseBlock).idBlock;
  return { tagClass: id.tagClass, tagNumber: id.tagNumber, constructed: id.isConstructed };
}

function childrenOf(n: Node, what: string): Node[] {
  const v = (n as asn1js.Constructed).valueBlock?.value;
  if (!Array.isArray(v) || !tagOf(n).constructed) throw new TokenDecodeError(`${what}: expected a constructed value`);
  return v;
}

/** The [n] EXPLICIT fields of a SEQUENCE, by tag number (context class only). */
function fields(seq: Node, what: string): Map<number, Node> {
  if (!(seq instanceof asn1js.Sequence)) throw new TokenDecodeError(`${what}: expected a SEQUENCE`);
  const out = new Map<number, Node>();
  for (const f of childrenOf(seq, what)) {
    const t = tagOf(f);
    if (t.tagClass !== 3 || !t.constructed) throw new TokenDecodeError(`${what}: unexpected element (not a context-tagged field)`);
    const inner = childrenOf(f, what);
    if (inner.length !== 1) throw new TokenDecodeError(`${what}: field [${t.tagNumber}] holds ${inner.length} values`);
    if (out.has(t.tagNumber)) throw new TokenDecodeError(`${what}: field [${t.tagNumber}] repeated`);
    out.set(t.tagNumber, inner[0]);
  }
  return out;
}

function required(f: Map<number, Node>, n: number, what: string): Node {
  const v = f.get(n);
  if (!v) throw new TokenDecodeError(`${what}: field [${n}] missing`);
  return v;
}

function int(n: Node, what: string): number {
  if (!(n instanceof asn1js.Integer) && !(n instanceof asn1js.Enumerated)) throw new TokenDecodeError(`${what}: expected an INTEGER`);
  const v = (n as asn1js.Integer).valueBlock.valueDec;
  if (!Number.isSafeInteger(v)) throw new TokenDecodeError(`${what}: INTEGER out of range`);
  return v;
}

function oid(n: Node, what: string): string {
  if (!(n instanceof asn1js.ObjectIdentifier)) throw new TokenDecodeError(`${what}: expected an OBJECT IDENTIFIER`);
  const v = n.getValue();
  if (!v) throw new TokenDecodeError(`${what}: malformed OBJECT IDENTIFIER`);
  return v;
}

function octets(n: Node, what: string): Uint8Array {
  if (!(n instanceof asn1js.OctetString)) throw new TokenDecodeError(`${what}: expected an OCTET STRING`);
  if (n.idBlock.isConstructed) {
    // BER constructed form: the concatenation of its primitive pieces.
    return Buffer.concat(childrenOf(n, what).map((c) => Buffer.from(octets(c, what))));
  }
  return n.valueBlock.valueHexView;
}

function str(n: Node, what: string): string {
  // KerberosString is GeneralString (IA5 in practice, RFC 4120 5.2.1); GSS hint names likewise.
  const t = tagOf(n);
  if (t.tagClass !== 1 || t.constructed || ![27, 22, 26, 12, 19].includes(t.tagNumber)) throw new TokenDecodeError(`${what}: expected a string`);
  return Buffer.from((n as asn1js.Primitive).valueBlock.valueHexView).toString('utf8');
}

function bits(n: Node, names: string[], what: string): string[] {
  if (!(n instanceof asn1js.BitString)) throw new TokenDecodeError(`${what}: expected a BIT STRING`);
  const b = n.valueBlock.valueHexView;
  const unused = n.valueBlock.unusedBits;
  const out: string[] = [];
  const total = b.length * 8 - unused;
  for (let i = 0; i < total && i < 32; i++) {
    if (b[i >> 3] & (0x80 >> (i & 7))) out.push(names[i] ?? `bit${i}`);
  }
  return out;
}

function time(n: Node, what: string): string {
  if (!(n instanceof asn1js.GeneralizedTime)) throw new TokenDecodeError(`${what}: expected a GeneralizedTime`);
  return n.toDate().toISOString();
}

// ---------------------------------------------------------------------------------------------
// Kerberos

function principalName(n: Node, what: string): PrincipalNameInfo {
  const f = fields(n, what);
  const names = required(f, 1, what);
  if (!(names instanceof asn1js.Sequence)) throw new TokenDecodeError(`${what}: name-string is not a SEQUENCE OF`);
  return { nameType: named(NAME_TYPES, int(required(f, 0, what), what)), nameString: childrenOf(names, what).map((s) => str(s, what)) };
}

function encryptedData(n: Node, what: string): EncryptedDataInfo {
  const f = fields(n, what);
  const kvno = f.get(1);
  return {
    etype: named(ETYPES, int(required(f, 0, what), what)),
    ...(kvno ? { kvno: int(kvno, what) } : {}),
    cipherBytes: octets(required(f, 2, what), what).length,
  };
}

/** The SEQUENCE inside a Kerberos `[APPLICATION n]` message. */
function applicationSequence(n: Node, tag: number, what: string): Node {
  const t = tagOf(n);
  if (t.tagClass !== 2 || t.tagNumber !== tag || !t.constructed) throw new TokenDecodeError(`${what}: expected [APPLICATION ${tag}]`);
  const inner = childrenOf(n, what);
  if (inner.length !== 1) throw new TokenDecodeError(`${what}: [APPLICATION ${tag}] holds ${inner.length} values`);
  return inner[0];
}

function kerberos(bytes: Uint8Array, gssTokenId?: string): DecodedToken {
  const root = ber(bytes, 'Kerberos message');
  const t = tagOf(root);
  const tok = gssTokenId ? { gssTokenId } : {};
  if (t.tagClass === 2 && t.tagNumber === 14) {
    const what = 'KRB_AP_REQ';
    const f = fields(applicationSequence(root, 14, what), what);
    const ticketSeq = applicationSequence(required(f, 3, what), 1, 'Ticket');
    const tf = fields(ticketSeq, 'Ticket');
    return {
      type: 'kerberos-ap-req', ...tok,
      pvno: int(required(f, 0, what), what),
      msgType: named(KRB_MSG_TYPES, int(required(f, 1, what), what)),
      apOptions: bits(required(f, 2, what), AP_OPTIONS, what),
      ticket: {
        tktVno: int(required(tf, 0, 'Ticket'), 'Ticket'),
        realm: str(required(tf, 1, 'Ticket'), 'Ticket realm'),
        sname: principalName(required(tf, 2, 'Ticket'), 'Ticket sname'),
        encPart: encryptedData(required(tf, 3, 'Ticket'), 'Ticket enc-part'),
      },
      authenticator: encryptedData(required(f, 4, what), 'authenticator'),
    };
  }
  if (t.tagClass === 2 && t.tagNumber === 15) {
    const what = 'KRB_AP_REP';
    const f = fields(applicationSequence(root, 15, what), what);
    return {
      type: 'kerberos-ap-rep', ...tok,
      pvno: int(required(f, 0, what), what),
      msgType: named(KRB_MSG_TYPES, int(required(f, 1, what), what)),
      encPart: encryptedData(required(f, 2, what), 'enc-part'),
    };
  }
  if (t.tagClass === 2 && t.tagNumber === 30) {
    const what = 'KRB_ERROR';
    const f = fields(applicationSequence(root, 30, what), what);
    const opt = <T>(n: number, read: (x: Node, w: string) => T): T | undefined => (f.has(n) ? read(f.get(n)!, what) : undefined);
    const out: DecodedToken = {
      type: 'kerberos-krb-error', ...tok,
      pvno: int(required(f, 0, what), what),
      msgType: named(KRB_MSG_TYPES, int(required(f, 1, what), what)),
      errorCode: named(KRB_ERRORS, int(required(f, 6, what), what)),
    };
    const stime = opt(4, time);
    const crealm = opt(7, str);
    const cname = opt(8, principalName);
    const realm = opt(9, str);
    const sname = opt(10, principalName);
    const eText = opt(11, str);
    return {
      ...out, ...(stime ? { stime } : {}), ...(crealm ? { crealm } : {}), ...(cname ? { cname } : {}),
      ...(realm ? { realm } : {}), ...(sname ? { sname } : {}), ...(eText !== undefined ? { eText } : {}),
    };
  }
  throw new TokenDecodeError('not a Kerberos AP-REQ, AP-REP or KRB-ERROR');
}

// ---------------------------------------------------------------------------------------------
// SPNEGO

function spnego(bytes: Uint8Array): DecodedToken {
  const root = ber(bytes, 'SPNEGO token');
  const t = tagOf(root);
  const inner = t.tagClass === 3 && t.constructed ? childrenOf(root, 'SPNEGO token') : [];
  if (inner.length !== 1 || (t.tagNumber !== 0 && t.tagNumber !== 1)) throw new TokenDecodeError('not a SPNEGO NegTokenInit ([0]) or NegTokenResp ([1])');
  if (t.tagNumber === 0) {
    const what = 'NegTokenInit';
    const f = fields(inner[0], what);
    const types = required(f, 0, what);
    if (!(types instanceof asn1js.Sequence)) throw new TokenDecodeError(`${what}: mechTypes is not a SEQUENCE OF`);
    const out: DecodedToken = { type: 'spnego-neg-token-init', mechTypes: childrenOf(types, what).map((m) => namedOid(oid(m, what))) };
    if (f.has(1)) out.reqFlags = bits(f.get(1)!, CONTEXT_FLAGS, what);
    if (f.has(2)) out.mechToken = inner1(octets(f.get(2)!, what), out.mechTypes[0]?.oid);
    // [3] is negHints (a SEQUENCE) in Microsoft's NegTokenInit2 ([MS-SPNG] 2.2.1), mechListMIC (an
    // OCTET STRING) in RFC 4178's NegTokenInit; [4] is NegTokenInit2's mechListMIC.
    const three = f.get(3);
    if (three instanceof asn1js.Sequence) {
      const h = fields(three, 'negHints');
      out.negHints = {
        ...(h.has(0) ? { hintName: str(h.get(0)!, 'negHints hintName') } : {}),
        ...(h.has(1) ? { hintAddressBytes: octets(h.get(1)!, 'negHints hintAddress').length } : {}),
      };
    } else if (three) {
      out.mechListMICBytes = octets(three, what).length;
    }
    if (f.has(4)) out.mechListMICBytes = octets(f.get(4)!, what).length;
    return out;
  }
  const what = 'NegTokenResp';
  const f = fields(inner[0], what);
  const out: DecodedToken = { type: 'spnego-neg-token-resp' };
  if (f.has(0)) out.negState = named(NEG_STATES, int(f.get(0)!, what));
  if (f.has(1)) out.supportedMech = namedOid(oid(f.get(1)!, what));
  if (f.has(2)) out.responseToken = inner1(octets(f.get(2)!, what), out.supportedMech?.oid);
  if (f.has(3)) out.mechListMICBytes = octets(f.get(3)!, what).length;
  return out;
}

/** An inner token (mechToken, responseToken): decoded if possible, else its size and why not. */
function inner1(bytes: Uint8Array, mech: string | undefined): DecodedToken {
  try {
    return decode(bytes, mech, 1);
  } catch (e) {
    if (!(e instanceof TokenDecodeError)) throw e;
    return { type: 'undecoded', bytes: bytes.length, error: e.message };
  }
}

// ---------------------------------------------------------------------------------------------
// GSS-API framing (RFC 2743 3.1)

function gss(b: Buffer, depth: number): DecodedToken {
  // The framing (outer [APPLICATION 0] length covering exactly the token, then an OID) is
  // lib/http/framing.ts's check; asn1js says what is wrong when it fails.
  const framing = inspectToken(b);
  if (framing?.shape !== 'gss-initial' || !framing.mechanism) {
    const { offset, result } = asn1js.fromBER(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    const why = offset === -1 ? result.error : offset !== b.length ? `${b.length - offset} bytes after its end` : 'its length or its mechanism OBJECT IDENTIFIER is malformed';
    throw new TokenDecodeError(`GSS-API InitialContextToken: ${why || 'malformed'}`);
  }
  // After the tag (0x60) and the definite length (short form, or 0x8N and N bytes): the OID element.
  const header = b[1] < 0x80 ? 2 : 2 + (b[1] & 0x7f);
  const oidEnd = header + asn1js.fromBER(new Uint8Array(b.buffer, b.byteOffset + header, b.byteLength - header)).offset;
  const mech = framing.mechanism;
  return { type: 'gss-initial-context-token', mechanism: namedOid(mech), innerToken: decodeMech(b.subarray(oidEnd), mech, depth + 1) };
}

/** The innerContextToken of a mechanism. */
function decodeMech(b: Uint8Array, mech: string, depth: number): DecodedToken {
  if (mech === '1.3.6.1.5.5.2') return spnego(b);
  if (mech.startsWith('1.2.840.113554.1.2.2') || mech === '1.2.840.48018.1.2.2') {
    // RFC 4121 4.1: a two-byte TOK_ID, then the Kerberos message.
    if (b.length < 2) throw new TokenDecodeError('Kerberos GSS token: no TOK_ID');
    const id = Buffer.from(b.subarray(0, 2)).toString('hex');
    return kerberos(b.subarray(2), KRB_TOK_IDS[id] ?? `unknown (0x${id})`);
  }
  return decode(b, undefined, depth);
}

// ---------------------------------------------------------------------------------------------
// NTLM ([MS-NLMP] 2.2)

function flagNames(flags: number, table: [number, string][]): string[] {
  return table.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
}

class NtlmReader {
  constructor(readonly b: Buffer, readonly what: string) {}

  need(length: number): void {
    if (this.b.length < length) throw new TokenDecodeError(`${this.what}: ${this.b.length} bytes, shorter than its ${length}-byte header`);
  }

  /** The payload of the field descriptor (Len, MaxLen, BufferOffset) at `at`. */
  field(at: number, name: string): Buffer {
    const len = this.b.readUInt16LE(at);
    const offset = this.b.readUInt32LE(at + 4);
    if (len === 0) return Buffer.alloc(0);
    if (offset + len > this.b.length) throw new TokenDecodeError(`${this.what}: ${name} (offset ${offset}, ${len} bytes) points outside the ${this.b.length}-byte message`);
    return this.b.subarray(offset, offset + len);
  }

  offsetOf(at: number): number | undefined {
    return this.b.readUInt16LE(at) > 0 ? this.b.readUInt32LE(at + 4) : undefined;
  }

  text(at: number, name: string, unicode: boolean): string {
    const raw = this.field(at, name);
    if (unicode && raw.length % 2) throw new TokenDecodeError(`${this.what}: ${name} has an odd length for UTF-16`);
    return raw.toString(unicode ? 'utf16le' : 'latin1');
  }

  /** The VERSION at `at`, when NTLMSSP_NEGOTIATE_VERSION is set and the header (ending at `end`) holds it. */
  version(at: number, flags: number, end: number): NtlmVersionInfo | undefined {
    if (!(flags & NTLMSSP_NEGOTIATE_VERSION) || end < at + 8 || this.b.length < at + 8) return undefined;
    return { major: this.b[at], minor: this.b[at + 1], build: this.b.readUInt16LE(at + 2), ntlmRevision: this.b[at + 7] };
  }
}

function avPairs(b: Buffer, what: string): AvPairInfo[] {
  const out: AvPairInfo[] = [];
  let at = 0;
  for (;;) {
    if (at + 4 > b.length) throw new TokenDecodeError(`${what}: AV pairs end without MsvAvEOL`);
    const id = b.readUInt16LE(at);
    const len = b.readUInt16LE(at + 2);
    if (at + 4 + len > b.length) throw new TokenDecodeError(`${what}: AV pair ${AV_IDS[id] ?? id} (${len} bytes) runs past the end`);
    const v = b.subarray(at + 4, at + 4 + len);
    at += 4 + len;
    if (id === 0) return out;
    let value: AvPairInfo['value'];
    if ((id >= 1 && id <= 5) || id === 9) value = v.toString('utf16le');
    else if (id === 6 && len === 4) {
      const f = v.readUInt32LE(0);
      value = flagNames(f, AV_FLAGS).concat(f & ~0x7 ? [`0x${((f & ~0x7) >>> 0).toString(16)}`] : []);
    } else if (id === 7 && len === 8) value = filetime(v.readBigUInt64LE(0));
    else if (id === 10) value = v.toString('hex'); // the MD5 of the channel bindings (all zero: none)
    else value = `${len} bytes`;
    out.push({ id: named(AV_IDS, id), value });
    if (out.length > 1000) throw new TokenDecodeError(`${what}: more than 1000 AV pairs`);
  }
}

/** A FILETIME (100 ns since 1601-01-01 UTC) as ISO 8601, or its number when out of range. */
function filetime(t: bigint): string {
  const ms = Number(t / 10000n) - 11644473600000;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? `FILETIME ${t}` : d.toISOString();
}

function ntlm(b: Buffer): DecodedToken {
  const type = b.length >= 12 ? b.readUInt32LE(8) : -1;
  if (type === 1) {
    const r = new NtlmReader(b, 'NTLM NEGOTIATE_MESSAGE');
    r.need(16);
    const flags = b.readUInt32LE(12);
    const out: DecodedToken = { type: 'ntlm-negotiate', flags: flagNames(flags, NTLM_FLAGS), flagsValue: flags };
    // DomainNameFields and WorkstationFields (OEM strings), meaningful only with their flags.
    if (flags & NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED && b.length >= 24) out.domain = r.text(16, 'DomainNameFields', false);
    if (flags & NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED && b.length >= 32) out.workstation = r.text(24, 'WorkstationFields', false);
    const version = r.version(32, flags, b.length);
    return version ? { ...out, version } : out;
  }
  if (type === 2) {
    const r = new NtlmReader(b, 'NTLM CHALLENGE_MESSAGE');
    r.need(32);
    const flags = b.readUInt32LE(20);
    const unicode = (flags & NTLMSSP_NEGOTIATE_UNICODE) !== 0;
    const out: DecodedToken = {
      type: 'ntlm-challenge', flags: flagNames(flags, NTLM_FLAGS), flagsValue: flags,
      targetName: r.text(12, 'TargetNameFields', unicode), serverChallenge: b.subarray(24, 32).toString('hex'), targetInfo: [],
    };
    if (b.length >= 48) {
      const info = r.field(40, 'TargetInfoFields');
      if (info.length) out.targetInfo = avPairs(info, 'NTLM CHALLENGE_MESSAGE TargetInfo');
    }
    const version = r.version(48, flags, b.length);
    return version ? { ...out, version } : out;
  }
  if (type === 3) {
    const r = new NtlmReader(b, 'NTLM AUTHENTICATE_MESSAGE');
    r.need(52);
    // The header ends where the first payload begins: NegotiateFlags (60), Version (64) and MIC (72)
    // are there only when the header is long enough to hold them.
    const starts = [12, 20, 28, 36, 44, 52].map((at) => (at + 8 <= b.length ? r.offsetOf(at) : undefined)).filter((x): x is number => x !== undefined);
    const header = Math.min(b.length, ...starts);
    const flags = header >= 64 ? b.readUInt32LE(60) : 0;
    const unicode = header >= 64 ? (flags & NTLMSSP_NEGOTIATE_UNICODE) !== 0 : true;
    const lm = r.field(12, 'LmChallengeResponseFields');
    const nt = r.field(20, 'NtChallengeResponseFields');
    const ntInfo: Extract<DecodedToken, { type: 'ntlm-authenticate' }>['ntChallengeResponse'] = {
      kind: nt.length === 0 ? 'none' : nt.length === 24 ? 'NTLMv1' : 'NTLMv2', bytes: nt.length,
    };
    let micFlag = false;
    if (ntInfo.kind === 'NTLMv2') {
      // [MS-NLMP] 2.2.2.8 NTLMv2_RESPONSE: NTProofStr (16), then NTLMv2_CLIENT_CHALLENGE: RespType,
      // HiRespType, Reserved1 (2), Reserved2 (4), TimeStamp (8), ChallengeFromClient (8), Reserved3 (4), AvPairs.
      if (nt.length < 16 + 28) throw new TokenDecodeError(`NTLM AUTHENTICATE_MESSAGE: NTLMv2 response of ${nt.length} bytes is too short`);
      ntInfo.clientTimestamp = filetime(nt.readBigUInt64LE(16 + 8));
      ntInfo.targetInfo = avPairs(nt.subarray(16 + 28), 'NTLMv2 response AvPairs');
      const avFlags = ntInfo.targetInfo.find((p) => p.id.value === 6)?.value;
      micFlag = Array.isArray(avFlags) && avFlags.includes('MIC-present');
    }
    const out: DecodedToken = {
      type: 'ntlm-authenticate', flags: flagNames(flags, NTLM_FLAGS), flagsValue: flags,
      domain: r.text(28, 'DomainNameFields', unicode), user: r.text(36, 'UserNameFields', unicode),
      workstation: r.text(44, 'WorkstationFields', unicode),
      anonymous: false,
      lmChallengeResponseBytes: lm.length, ntChallengeResponse: ntInfo,
      encryptedRandomSessionKeyBytes: header >= 60 ? r.field(52, 'EncryptedRandomSessionKeyFields').length : 0,
      // The MIC field (16 bytes at 72) is there when the client says so in MsvAvFlags ([MS-NLMP] 3.1.5.1.2).
      micPresent: micFlag && header >= 88,
    };
    out.anonymous = out.user === '' && nt.length === 0 && (lm.length === 0 || (lm.length === 1 && lm[0] === 0));
    const version = r.version(64, flags, header);
    return version ? { ...out, version } : out;
  }
  throw new TokenDecodeError(`NTLM message: MessageType ${type < 0 ? 'missing' : type}, not 1, 2 or 3`);
}

// ---------------------------------------------------------------------------------------------

/** How deep GSS framing may nest inside itself (a SPNEGO token holds one mechanism token). */
const MAX_DEPTH = 4;

function decode(bytes: Uint8Array, mech: string | undefined, depth: number): DecodedToken {
  if (depth > MAX_DEPTH) throw new TokenDecodeError(`tokens nested more than ${MAX_DEPTH} deep`);
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 2) throw new TokenDecodeError(`${b.length} bytes: too short for any token`);
  if (b.subarray(0, 8).equals(NTLMSSP_SIGNATURE)) return ntlm(b);
  switch (b[0]) {
    case 0x60: return gss(b, depth);
    case 0xa0: case 0xa1: return spnego(b);
    case 0x6e: case 0x6f: case 0x7e: return kerberos(b);
    default:
      // A mechToken under a Kerberos OID, without its own GSS framing, is a bare Kerberos message.
      if (mech && (mech.startsWith('1.2.840.113554.1.2.2') || mech === '1.2.840.48018.1.2.2')) return kerberos(b);
      throw new TokenDecodeError(`not an NTLM, SPNEGO, Kerberos or GSS-API token (first byte 0x${b[0].toString(16).padStart(2, '0')})`);
  }
}

/**
 * Decodes an authentication token (see the module comment for what is read).
 * @param token - the token's bytes (already base64-decoded).
 * @returns the decoded structure; inner tokens that do not decode appear as `{ type: 'undecoded' }`.
 * @throws TypeError when `token` is not a Uint8Array.
 * @throws TokenDecodeError when the outer structure is not one of the known tokens or is malformed.
 */
export function decodeToken(token: Uint8Array): DecodedToken {
  if (!(token instanceof Uint8Array)) throw new TypeError('token must be a Buffer or Uint8Array');
  try {
    return decode(token, undefined, 0);
  } catch (e) {
    if (e instanceof TokenDecodeError) throw e;
    // A decoder bug or an input the checks above missed: still a clear, trace-free message.
    throw new TokenDecodeError(`malformed token (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Largest token text accepted, in characters (a Kerberos ticket with a large PAC is tens of KiB). */
export const MAX_TOKEN_TEXT = 4 * 1024 * 1024;

/**
 * The bytes of a token as pasted: base64 (standard or URL-safe, whitespace ignored), optionally
 * after an HTTP scheme as in a header value (`Negotiate <b64>`, `NTLM <b64>`, `Kerberos <b64>`), or
 * a whole header line (`Authorization: Negotiate <b64>`, `WWW-Authenticate: ...`).
 * @throws TokenDecodeError when the text is not base64 or is empty.
 */
export function tokenBytes(text: string): Buffer {
  if (text.length > MAX_TOKEN_TEXT) throw new TokenDecodeError(`the token text is over ${MAX_TOKEN_TEXT} characters`);
  let t = text.trim();
  t = t.replace(/^(?:proxy-)?(?:authorization|www-authenticate|authenticate)\s*:\s*/i, '');
  t = t.replace(/^(?:negotiate|ntlm|kerberos)\s+/i, '');
  t = t.replace(/\s+/g, '');
  if (t === '') throw new TokenDecodeError('no token given');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) throw new TokenDecodeError('the token is not base64');
  return Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

const TITLES: Record<DecodedToken['type'], string> = {
  'gss-initial-context-token': 'GSS-API InitialContextToken (RFC 2743 3.1)',
  'spnego-neg-token-init': 'SPNEGO NegTokenInit (RFC 4178)',
  'spnego-neg-token-resp': 'SPNEGO NegTokenResp (RFC 4178)',
  'kerberos-ap-req': 'Kerberos KRB_AP_REQ (RFC 4120 5.5.1; encrypted parts not decrypted)',
  'kerberos-ap-rep': 'Kerberos KRB_AP_REP (RFC 4120 5.5.2; encrypted part not decrypted)',
  'kerberos-krb-error': 'Kerberos KRB_ERROR (RFC 4120 5.9.1)',
  'ntlm-negotiate': 'NTLM NEGOTIATE_MESSAGE ([MS-NLMP] 2.2.1.1)',
  'ntlm-challenge': 'NTLM CHALLENGE_MESSAGE ([MS-NLMP] 2.2.1.2)',
  'ntlm-authenticate': 'NTLM AUTHENTICATE_MESSAGE ([MS-NLMP] 2.2.1.3)',
  undecoded: 'not decoded',
};

function isToken(v: unknown): v is DecodedToken {
  return typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string' && (v as { type: string }).type in TITLES;
}

function scalar(v: unknown): string | undefined {
  if (v === null || v === undefined) return '(none)';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'object' && 'name' in (v as object) && ('value' in (v as object) || 'oid' in (v as object)) && Object.keys(v as object).length === 2) {
    const o = v as { name: string; value?: number; oid?: string };
    return o.oid !== undefined ? `${o.name} (${o.oid})` : `${o.name} (${o.value})`;
  }
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.length ? v.join(', ') : '(none)';
  return undefined;
}

/** The human form of {@link decodeToken}'s result: indented `name: value` lines. */
export function formatToken(t: DecodedToken, indent = ''): string {
  const lines = [`${indent}${TITLES[t.type]}`];
  const walk = (obj: object, pad: string): void => {
    for (const [k, v] of Object.entries(obj)) {
      if (k === 'type') continue;
      if (k === 'flagsValue') continue;
      const s = k === 'flags' ? `${(v as string[]).join(', ') || '(none)'} (0x${((obj as { flagsValue: number }).flagsValue >>> 0).toString(16).padStart(8, '0')})` : scalar(v);
      if (s !== undefined) {
        lines.push(`${pad}${k}: ${s}`);
      } else if (isToken(v)) {
        lines.push(`${pad}${k}:`);
        lines.push(formatToken(v, `${pad}  `));
      } else if (Array.isArray(v)) {
        lines.push(`${pad}${k}:`);
        for (const item of v) {
          const one = scalar(item);
          if (one !== undefined) lines.push(`${pad}  - ${one}`);
          else if (typeof item === 'object' && item && 'id' in item) lines.push(`${pad}  - ${(item as AvPairInfo).id.name}: ${scalar((item as AvPairInfo).value)}`);
          else lines.push(`${pad}  - ${JSON.stringify(item)}`);
        }
      } else if (typeof v === 'object' && v !== null) {
        lines.push(`${pad}${k}:`);
        walk(v, `${pad}  `);
      }
    }
  };
  walk(t, `${indent}  `);
  return lines.join('\n');
}
