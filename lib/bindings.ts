/**
 * Channel bindings (RFC 5929, RFC 5056): the SEC_CHANNEL_BINDINGS structure that
 * InitializeSecurityContext and AcceptSecurityContext take as a SECBUFFER_CHANNEL_BINDINGS input
 * buffer (the `channelBindings` option of {@link ClientContext} / {@link ServerContext}, or of one
 * `step()`), built from a TLS connection's `tls-server-end-point` or `tls-unique` data, or taken from
 * what Schannel returns for SECPKG_ATTR_ENDPOINT_BINDINGS / SECPKG_ATTR_UNIQUE_BINDINGS.
 *
 * The certificate's signature algorithm is read with a maintained ASN.1 library
 * (@peculiar/asn1-x509, @peculiar/asn1-rsa), the certificate itself checked by OpenSSL
 * (node:crypto X509Certificate); no DER is parsed by hand here.
 * @packageDocumentation
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';

import { RsaSaPssParams } from '@peculiar/asn1-rsa';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509';

import { optionsObject, own } from './options';

/** sizeof(SEC_CHANNEL_BINDINGS) in sspi.h: eight 32-bit fields before the data. */
export const SEC_CHANNEL_BINDINGS_HEADER_SIZE = 32;

/**
 * The fields of a SEC_CHANNEL_BINDINGS structure
 * (https://learn.microsoft.com/en-us/windows/win32/api/sspi/ns-sspi-sec_channel_bindings), with
 * the data each (cb*Length, dw*Offset) pair points at. The same fields as GSS-API's
 * gss_channel_bindings_struct (RFC 2744 section 3.11).
 */
export interface SecChannelBindings {
  /** dwInitiatorAddrType: a GSS_C_AF_* address type; 0 (GSS_C_AF_UNSPEC) for none. */
  dwInitiatorAddrType: number;
  /** The cbInitiatorLength bytes at dwInitiatorOffset. */
  initiatorAddress: Buffer;
  /** dwAcceptorAddrType: a GSS_C_AF_* address type; 0 for none. */
  dwAcceptorAddrType: number;
  /** The cbAcceptorLength bytes at dwAcceptorOffset. */
  acceptorAddress: Buffer;
  /** The cbApplicationDataLength bytes at dwApplicationDataOffset: for TLS, 'tls-server-end-point:' or 'tls-unique:' and the data. */
  applicationData: Buffer;
}

/** The addresses of a SEC_CHANNEL_BINDINGS structure; TLS channel bindings have none (RFC 5929 section 7). */
export interface ChannelBindingAddresses {
  /** dwInitiatorAddrType (GSS_C_AF_*), an unsigned 32-bit integer. Default 0. */
  dwInitiatorAddrType?: number;
  /** Initiator address bytes. Default none. */
  initiatorAddress?: Uint8Array;
  /** dwAcceptorAddrType (GSS_C_AF_*), an unsigned 32-bit integer. Default 0. */
  dwAcceptorAddrType?: number;
  /** Acceptor address bytes. Default none. */
  acceptorAddress?: Uint8Array;
}

/** A certificate: DER bytes, PEM text, or a node:crypto X509Certificate. */
export type CertificateInput = Uint8Array | string | X509Certificate;

/** Which end of a TLS connection a socket is. */
export type TlsSide = 'client' | 'server';

/** Largest value a ULONG field holds. */
const ULONG_MAX = 0xffffffff;

function u32(value: unknown, what: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number') throw new TypeError(`${what} must be a number`);
  if (!Number.isInteger(value) || value < 0 || value > ULONG_MAX) throw new RangeError(`${what} must be an integer from 0 to 0xFFFFFFFF, not ${value}`);
  return value;
}

function bytesOption(value: unknown, what: string): Uint8Array {
  if (value === undefined) return new Uint8Array(0);
  if (!(value instanceof Uint8Array)) throw new TypeError(`${what} must be a Buffer or Uint8Array`);
  return value;
}

/**
 * Builds the bytes of a SEC_CHANNEL_BINDINGS structure
 * (https://learn.microsoft.com/en-us/windows/win32/api/sspi/ns-sspi-sec_channel_bindings): the
 * 32-byte header (dwInitiatorAddrType, cbInitiatorLength, dwInitiatorOffset, dwAcceptorAddrType,
 * cbAcceptorLength, dwAcceptorOffset, cbApplicationDataLength, dwApplicationDataOffset; unsigned
 * 32-bit little-endian, offsets in bytes from the start of the structure), then the initiator
 * address, the acceptor address and the application data. An empty field has length and offset 0.
 *
 * Pass the result as the `channelBindings` option of a context or of one step; it becomes a
 * SECBUFFER_CHANNEL_BINDINGS input buffer of InitializeSecurityContext / AcceptSecurityContext.
 * @param applicationData - the application data (bytes, or a string taken as UTF-8), e.g.
 *   {@link tlsServerEndPoint}'s or {@link tlsUnique}'s result.
 * @param addresses - initiator / acceptor address types and bytes; none for TLS bindings.
 * @returns a new Buffer of 32 + the data's bytes; the caller owns it.
 * @throws TypeError for arguments of the wrong type; RangeError for an address type outside
 *   0..0xFFFFFFFF or a structure larger than 4 GiB - 1 (a ULONG cannot hold its length).
 */
export function channelBindings(applicationData: Uint8Array | string, addresses?: ChannelBindingAddresses): Buffer {
  let app: Uint8Array;
  if (typeof applicationData === 'string') app = Buffer.from(applicationData, 'utf8');
  else if (applicationData instanceof Uint8Array) app = applicationData;
  else throw new TypeError('applicationData must be a Buffer, a Uint8Array or a string');
  const a = optionsObject(addresses, 'addresses');
  const initiatorType = u32(own(a, 'dwInitiatorAddrType'), 'addresses.dwInitiatorAddrType');
  const initiator = bytesOption(own(a, 'initiatorAddress'), 'addresses.initiatorAddress');
  const acceptorType = u32(own(a, 'dwAcceptorAddrType'), 'addresses.dwAcceptorAddrType');
  const acceptor = bytesOption(own(a, 'acceptorAddress'), 'addresses.acceptorAddress');
  const total = SEC_CHANNEL_BINDINGS_HEADER_SIZE + initiator.length + acceptor.length + app.length;
  if (total > ULONG_MAX) throw new RangeError('the SEC_CHANNEL_BINDINGS structure would exceed 0xFFFFFFFF bytes');
  const out = Buffer.alloc(total);
  let offset = SEC_CHANNEL_BINDINGS_HEADER_SIZE;
  const field = (index: number, type: number | undefined, data: Uint8Array): void => {
    // index: the field group's first ULONG (0 initiator, 3 acceptor, 6 application data: no type).
    if (type !== undefined) out.writeUInt32LE(type, index * 4);
    const at = type !== undefined ? index + 1 : index;
    out.writeUInt32LE(data.length, at * 4);
    out.writeUInt32LE(data.length > 0 ? offset : 0, (at + 1) * 4);
    out.set(data, offset);
    offset += data.length;
  };
  field(0, initiatorType, initiator);
  field(3, acceptorType, acceptor);
  field(6, undefined, app);
  return out;
}

/**
 * Reads a SEC_CHANNEL_BINDINGS structure, checking every (length, offset) pair against the bytes
 * given: nothing outside them is ever read.
 * @param bytes - the structure's bytes: at least the 32-byte header; any trailing bytes beyond the
 *   data (a structure copied into a larger fixed-size array) are allowed and ignored.
 * @returns the fields, the data copied into new Buffers.
 * @throws TypeError if `bytes` is not a Buffer/Uint8Array.
 * @throws RangeError (code 'ERR_SSPI_INVALID_CHANNEL_BINDINGS') for fewer than 32 bytes, or a field
 *   whose data would lie outside the bytes given or overlap the header.
 */
export function parseChannelBindings(bytes: Uint8Array): SecChannelBindings {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('SEC_CHANNEL_BINDINGS must be a Buffer or Uint8Array');
  if (bytes.length < SEC_CHANNEL_BINDINGS_HEADER_SIZE) {
    throw invalidBindings(`${bytes.length} bytes are shorter than its ${SEC_CHANNEL_BINDINGS_HEADER_SIZE}-byte header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const word = (i: number): number => view.getUint32(i * 4, true);
  const data = (name: string, lengthIndex: number): Buffer => {
    const length = word(lengthIndex);
    const offset = word(lengthIndex + 1);
    if (length === 0) return Buffer.alloc(0);
    // Plain numbers: offset + length cannot wrap around as a 32-bit sum would in C.
    if (offset < SEC_CHANNEL_BINDINGS_HEADER_SIZE || offset + length > bytes.length) {
      throw invalidBindings(`cb${name}Length ${length} at dw${name}Offset ${offset} lies outside its ${bytes.length} bytes (data starts at ${SEC_CHANNEL_BINDINGS_HEADER_SIZE})`);
    }
    return Buffer.from(bytes.subarray(offset, offset + length));
  };
  return {
    dwInitiatorAddrType: word(0),
    initiatorAddress: data('Initiator', 1),
    dwAcceptorAddrType: word(3),
    acceptorAddress: data('Acceptor', 4),
    applicationData: data('ApplicationData', 6),
  };
}

function invalidBindings(why: string): RangeError {
  return Object.assign(new RangeError(`not a valid SEC_CHANNEL_BINDINGS structure: ${why}`), { code: 'ERR_SSPI_INVALID_CHANNEL_BINDINGS' });
}

/**
 * Takes the channel bindings Schannel returns for SECPKG_ATTR_ENDPOINT_BINDINGS or
 * SECPKG_ATTR_UNIQUE_BINDINGS (a SecPkgContext_Bindings,
 * https://learn.microsoft.com/en-us/windows/win32/api/sspi/ns-sspi-secpkgcontext_bindings) and
 * checks them ({@link parseChannelBindings}), for use as a context's `channelBindings`.
 *
 * Any length is accepted, not a fixed-size array (a Node peer once copied these bytes into a
 * 128-byte array, which a long certificate hash or address overflows).
 * @param bindings - the SEC_CHANNEL_BINDINGS bytes, or the SecPkgContext_Bindings as an object
 *   `{ BindingsLength, Bindings }` (BindingsLength: the bytes of Bindings that belong to it).
 * @returns a copy of the bytes (the first BindingsLength of them); the caller owns it.
 * @throws TypeError for arguments of the wrong type; RangeError (code
 *   'ERR_SSPI_INVALID_CHANNEL_BINDINGS') for a structure whose fields point outside its bytes, or a
 *   BindingsLength larger than the Bindings given.
 */
export function fromSecPkgContextBindings(bindings: Uint8Array | { BindingsLength?: number; Bindings: Uint8Array }): Buffer {
  let bytes: Uint8Array;
  if (bindings instanceof Uint8Array) {
    bytes = bindings;
  } else if (typeof bindings === 'object' && bindings !== null && own(bindings as Record<string, unknown>, 'Bindings') instanceof Uint8Array) {
    bytes = bindings.Bindings;
    const length = own(bindings as Record<string, unknown>, 'BindingsLength');
    if (length !== undefined) {
      const n = u32(length, 'BindingsLength');
      if (n > bytes.length) throw invalidBindings(`BindingsLength ${n} exceeds the ${bytes.length} bytes of Bindings`);
      bytes = bytes.subarray(0, n);
    }
  } else {
    throw new TypeError('bindings must be the SEC_CHANNEL_BINDINGS bytes or a SecPkgContext_Bindings { BindingsLength, Bindings }');
  }
  parseChannelBindings(bytes);
  return Buffer.from(bytes);
}

// ---------------------------------------------------------------------------------------------
// tls-server-end-point (RFC 5929 section 4)

/** Node hash names of the hash OIDs (RFC 3279, RFC 4055, RFC 5754, NIST CSOR) a signature algorithm may name. */
const HASH_OF_OID: ReadonlyMap<string, string> = new Map(Object.entries({
  '1.2.840.113549.2.5': 'md5',
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '2.16.840.1.101.3.4.2.5': 'sha512-224',
  '2.16.840.1.101.3.4.2.6': 'sha512-256',
  '2.16.840.1.101.3.4.2.7': 'sha3-224',
  '2.16.840.1.101.3.4.2.8': 'sha3-256',
  '2.16.840.1.101.3.4.2.9': 'sha3-384',
  '2.16.840.1.101.3.4.2.10': 'sha3-512',
}));

/** The single hash function of each signature algorithm OID that has one (RFC 3279, 4055, 5758, 8017, NIST CSOR). */
const SIGNATURE_HASH: ReadonlyMap<string, string> = new Map(Object.entries({
  // RSASSA-PKCS1-v1_5 (RFC 8017 appendix C, RFC 4055)
  '1.2.840.113549.1.1.4': 'md5', // md5WithRSAEncryption
  '1.2.840.113549.1.1.5': 'sha1', // sha1WithRSAEncryption
  '1.3.14.3.2.29': 'sha1', // sha1WithRSASignature (OIW)
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.113549.1.1.15': 'sha512-224',
  '1.2.840.113549.1.1.16': 'sha512-256',
  '2.16.840.1.101.3.4.3.13': 'sha3-224', // id-rsassa-pkcs1-v1_5-with-sha3-*
  '2.16.840.1.101.3.4.3.14': 'sha3-256',
  '2.16.840.1.101.3.4.3.15': 'sha3-384',
  '2.16.840.1.101.3.4.3.16': 'sha3-512',
  // ECDSA (RFC 3279, RFC 5758, NIST CSOR)
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10045.4.3.1': 'sha224',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '2.16.840.1.101.3.4.3.9': 'sha3-224',
  '2.16.840.1.101.3.4.3.10': 'sha3-256',
  '2.16.840.1.101.3.4.3.11': 'sha3-384',
  '2.16.840.1.101.3.4.3.12': 'sha3-512',
  // DSA (RFC 3279, RFC 5758, NIST CSOR)
  '1.2.840.10040.4.3': 'sha1',
  '2.16.840.1.101.3.4.3.1': 'sha224',
  '2.16.840.1.101.3.4.3.2': 'sha256',
  '2.16.840.1.101.3.4.3.3': 'sha384',
  '2.16.840.1.101.3.4.3.4': 'sha512',
}));

/** id-RSASSA-PSS (RFC 4055 / RFC 8017). */
const RSASSA_PSS = '1.2.840.113549.1.1.10';
/** id-mgf1 (RFC 8017 appendix B.2.1). */
const MGF1 = '1.2.840.113549.1.1.8';
/** Signature algorithms whose hash is part of the scheme, not a choice (RFC 8032, RFC 8410): Ed25519 (SHA-512), Ed448 (SHAKE256). */
const PURE_EDDSA: ReadonlyMap<string, string> = new Map([['1.3.101.112', 'Ed25519'], ['1.3.101.113', 'Ed448']]);

function certificateError(code: string, message: string, cause?: unknown): RangeError {
  return Object.assign(new RangeError(message, cause === undefined ? undefined : { cause }), { code });
}

/** The certificate as OpenSSL parsed it (so it is one), and its DER. */
function toCertificate(certificate: CertificateInput): X509Certificate {
  if (certificate instanceof X509Certificate) return certificate;
  if (typeof certificate !== 'string' && !(certificate instanceof Uint8Array)) {
    throw new TypeError('certificate must be DER bytes (Buffer/Uint8Array), PEM text or an X509Certificate');
  }
  try {
    return new X509Certificate(typeof certificate === 'string' ? certificate : Buffer.from(certificate.buffer, certificate.byteOffset, certificate.byteLength));
  } catch (e) {
    throw certificateError('ERR_SSPI_INVALID_CERTIFICATE', 'certificate is not an X.509 certificate (DER or PEM) that OpenSSL can parse', e);
  }
}

/**
 * The hash function RFC 5929 section 4.1 assigns to a certificate for `tls-server-end-point`: the
 * one its signatureAlgorithm uses, except that MD5 and SHA-1 become SHA-256. RSASSA-PSS uses the
 * hashAlgorithm of its parameters (SHA-1 when absent: RFC 8017 appendix A.2.3), and only when MGF1
 * uses the same hash; otherwise the signature uses two hash functions.
 *
 * For a signature algorithm with no hash function or several, RFC 5929 says the channel bindings
 * "are undefined at this time": Ed25519 and Ed448 (whose hashing is part of the scheme, RFC 8032),
 * RSASSA-PSS with an MGF1 hash other than its message hash, and algorithms this module does not know
 * are refused rather than guessed.
 * @param certificate - DER bytes, PEM text, or an X509Certificate.
 * @returns a node:crypto hash name: 'sha256', 'sha384', 'sha512', 'sha224', 'sha512-224',
 *   'sha512-256', 'sha3-224', 'sha3-256', 'sha3-384' or 'sha3-512'.
 * @throws TypeError for a wrong type; RangeError with code 'ERR_SSPI_INVALID_CERTIFICATE' (not a
 *   certificate) or 'ERR_SSPI_CHANNEL_BINDING_UNDEFINED' (no single hash function, see above).
 */
export function certificateHashAlgorithm(certificate: CertificateInput): string {
  return hashOf(toCertificate(certificate));
}

function hashOf(x509: X509Certificate): string {
  let cert: Certificate;
  try {
    cert = AsnConvert.parse(x509.raw, Certificate);
  } catch (e) {
    throw certificateError('ERR_SSPI_INVALID_CERTIFICATE', 'the certificate\'s DER does not decode as an X.509 Certificate', e);
  }
  const oid = cert.signatureAlgorithm.algorithm;
  let hash: string | undefined = SIGNATURE_HASH.get(oid);
  if (oid === RSASSA_PSS) hash = pssHash(cert.signatureAlgorithm.parameters);
  if (hash === undefined) {
    const eddsa = PURE_EDDSA.get(oid);
    const why = eddsa ? `${eddsa} uses no separate hash function` : 'an algorithm with no single known hash function';
    throw certificateError('ERR_SSPI_CHANNEL_BINDING_UNDEFINED',
      `tls-server-end-point is undefined for this certificate: its signature algorithm ${oid} is ${why} (RFC 5929 section 4.1)`);
  }
  return hash === 'md5' || hash === 'sha1' ? 'sha256' : hash;
}

function pssHash(parameters: ArrayBuffer | null | undefined): string | undefined {
  if (!parameters) return undefined; // RFC 4055 section 3.1: the parameters MUST be present in a certificate
  let params: RsaSaPssParams;
  try {
    params = AsnConvert.parse(parameters, RsaSaPssParams);
  } catch (e) {
    throw certificateError('ERR_SSPI_INVALID_CERTIFICATE', 'the certificate\'s RSASSA-PSS parameters do not decode', e);
  }
  const hash = HASH_OF_OID.get(params.hashAlgorithm.algorithm);
  if (params.maskGenAlgorithm.algorithm !== MGF1 || !params.maskGenAlgorithm.parameters) return undefined;
  let mgfHash: string | undefined;
  try {
    mgfHash = HASH_OF_OID.get(AsnConvert.parse(params.maskGenAlgorithm.parameters, AlgorithmIdentifier).algorithm);
  } catch {
    mgfHash = undefined;
  }
  return hash !== undefined && mgfHash === hash ? hash : undefined;
}

/**
 * The `tls-server-end-point` channel binding data of RFC 5929 section 4: the prefix
 * 'tls-server-end-point:' (RFC 5929 section 7) followed by the hash of the server certificate's DER
 * by {@link certificateHashAlgorithm}. This is the application data of a SEC_CHANNEL_BINDINGS
 * structure (what Schannel's SECPKG_ATTR_ENDPOINT_BINDINGS holds, and what GSS-API peers pass as
 * application_data); {@link tlsServerEndPointBindings} wraps it.
 * @param certificate - the TLS server's certificate: DER bytes, PEM text, or an X509Certificate.
 * @returns a new Buffer.
 * @throws as {@link certificateHashAlgorithm}.
 */
export function tlsServerEndPoint(certificate: CertificateInput): Buffer {
  const x509 = toCertificate(certificate);
  const hash = hashOf(x509);
  let digest: Buffer;
  try {
    digest = createHash(hash).update(x509.raw).digest();
  } catch (e) {
    throw certificateError('ERR_SSPI_CHANNEL_BINDING_UNDEFINED', `this Node's OpenSSL has no ${hash} hash function`, e);
  }
  return Buffer.concat([Buffer.from('tls-server-end-point:', 'latin1'), digest]);
}

/**
 * SEC_CHANNEL_BINDINGS for `tls-server-end-point` (RFC 5929 section 4): {@link channelBindings} of
 * {@link tlsServerEndPoint}. Client and server of the TLS connection compute the same bytes from
 * the server's certificate: the client from the certificate it received, the server from its own.
 * @param source - the server certificate (DER, PEM, X509Certificate), or the connection's
 *   TLSSocket with `side` saying which end it is.
 * @param side - for a TLSSocket: 'server' takes the socket's own certificate
 *   (`getCertificate().raw`), 'client' the peer's (`getPeerCertificate().raw`).
 * @returns a new Buffer for the `channelBindings` option.
 * @throws TypeError for wrong types or a TLSSocket without `side`; Error (code
 *   'ERR_SSPI_NO_TLS_CERTIFICATE') for a socket that has no such certificate (not yet connected,
 *   or an anonymous cipher suite); RangeError as {@link certificateHashAlgorithm}.
 */
export function tlsServerEndPointBindings(source: CertificateInput | TLSSocket, side?: TlsSide): Buffer {
  if (isTlsSocket(source)) return channelBindings(tlsServerEndPoint(serverCertificate(source, checkSide(side))));
  if (side !== undefined) throw new TypeError('side applies to a TLSSocket only');
  return channelBindings(tlsServerEndPoint(source as CertificateInput));
}

function isTlsSocket(value: unknown): value is TLSSocket {
  return typeof value === 'object' && value !== null && typeof (value as TLSSocket).getPeerCertificate === 'function'
    && typeof (value as TLSSocket).getCertificate === 'function' && typeof (value as TLSSocket).getFinished === 'function';
}

function checkSide(side: unknown): TlsSide {
  if (side !== 'client' && side !== 'server') throw new TypeError("side must be 'client' or 'server' (which end of the TLS connection the socket is)");
  return side;
}

function noCertificate(message: string): Error {
  return Object.assign(new Error(message), { code: 'ERR_SSPI_NO_TLS_CERTIFICATE' });
}

/** The DER of the TLS server's certificate, seen from either end of the connection. */
function serverCertificate(socket: TLSSocket, side: TlsSide): Buffer {
  if (side === 'server') {
    const own = socket.getCertificate() as { raw?: Buffer } | null;
    if (!own || !(own.raw instanceof Uint8Array) || own.raw.length === 0) throw noCertificate('the server TLSSocket has no certificate of its own (not connected yet?)');
    return own.raw;
  }
  const peer = socket.getPeerCertificate() as { raw?: Buffer } | null;
  if (!peer || !(peer.raw instanceof Uint8Array) || peer.raw.length === 0) throw noCertificate('the client TLSSocket has no server certificate (not connected yet?)');
  return peer.raw;
}

// ---------------------------------------------------------------------------------------------
// tls-unique (RFC 5929 section 3)

/**
 * The `tls-unique` channel binding data of RFC 5929 section 3: 'tls-unique:' and the first Finished
 * message of the connection's latest handshake: the client's in a full handshake, the server's in
 * an abbreviated one (a resumed session). Node gives the Finished this end sent (getFinished) and
 * received (getPeerFinished); this picks the one sent first.
 *
 * TLS 1.3 has no tls-unique (RFC 8446 section C.5; RFC 9266 defines tls-exporter instead), so a
 * TLS 1.3 connection is refused. Without the extended master secret (RFC 7627) tls-unique is open
 * to the triple handshake attack; prefer tls-server-end-point where both ends support it.
 * @param socket - the connected TLSSocket.
 * @param side - which end of the connection the socket is.
 * @returns a new Buffer.
 * @throws TypeError for wrong types; Error with code 'ERR_SSPI_TLS_UNIQUE_UNAVAILABLE' for a TLS 1.3
 *   connection or one whose handshake has not finished.
 */
export function tlsUnique(socket: TLSSocket, side: TlsSide): Buffer {
  if (!isTlsSocket(socket)) throw new TypeError('socket must be a tls.TLSSocket');
  checkSide(side);
  const protocol = socket.getProtocol();
  if (protocol === 'TLSv1.3') {
    throw Object.assign(new Error('tls-unique is not defined for TLS 1.3 (RFC 8446 section C.5, RFC 9266): use tls-server-end-point'), { code: 'ERR_SSPI_TLS_UNIQUE_UNAVAILABLE' });
  }
  const resumed = socket.isSessionReused();
  // Full handshake: the client's Finished comes first; abbreviated: the server's (RFC 5246 section 7.3).
  const firstSentByThisEnd = (side === 'client') !== resumed;
  const finished = firstSentByThisEnd ? socket.getFinished() : socket.getPeerFinished();
  if (!finished || finished.length === 0) {
    throw Object.assign(new Error('the TLS handshake has not finished: there is no Finished message yet'), { code: 'ERR_SSPI_TLS_UNIQUE_UNAVAILABLE' });
  }
  return Buffer.concat([Buffer.from('tls-unique:', 'latin1'), finished]);
}

/**
 * SEC_CHANNEL_BINDINGS for `tls-unique`: {@link channelBindings} of {@link tlsUnique}.
 * @throws as {@link tlsUnique}.
 */
export function tlsUniqueBindings(socket: TLSSocket, side: TlsSide): Buffer {
  return channelBindings(tlsUnique(socket, side));
}

/**
 * The channel bindings an HTTPS server passes to AcceptSecurityContext for a request: the
 * `tls-server-end-point` of its own certificate on the request's TLS connection (`req.socket`), as
 * ASP.NET Core and HTTP.sys use. Undefined for a connection that is not TLS (plain HTTP has no
 * channel to bind to).
 * @param socket - `req.socket` of an `https` (or `http2` secure) server's request.
 * @returns a new Buffer, or undefined for a non-TLS socket.
 * @throws as {@link tlsServerEndPointBindings} (side 'server').
 */
export function serverChannelBindings(socket: unknown): Buffer | undefined {
  if (!isTlsSocket(socket) || (socket as { encrypted?: unknown }).encrypted !== true) return undefined;
  return tlsServerEndPointBindings(socket, 'server');
}
