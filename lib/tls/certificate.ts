/**
 * The peer certificate of a TLS connection as Node's `tls` reports it: the DER (`raw`) and the fields
 * parsed from it with @peculiar/asn1-x509.
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';

import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, Name } from '@peculiar/asn1-x509';

/** A certificate's distinguished name as Node shows it: short attribute names to values ({ CN: 'host', O: 'Org' }). */
export type CertificateName = Record<string, string | string[]>;

/** What {@link TlsSocket.getPeerCertificate} returns: Node's `PeerCertificate` fields this library can fill. */
export interface PeerCertificate {
  /** The certificate's DER encoding. */
  raw: Buffer;
  /** The subject's distinguished name, by attribute (CN, O, ...). */
  subject: CertificateName;
  /** The issuer's distinguished name, by attribute. */
  issuer: CertificateName;
  /** notBefore, as Node formats it ('Nov 22 01:00:00 2026 GMT'). */
  valid_from: string;
  /** notAfter, as Node formats it. */
  valid_to: string;
  /** Serial number, upper-case hex. */
  serialNumber: string;
  /** SHA-1 of the DER, colon-separated upper-case hex. */
  fingerprint: string;
  /** SHA-256 of the DER, colon-separated upper-case hex. */
  fingerprint256: string;
  /** SHA-512 of the DER, colon-separated upper-case hex. */
  fingerprint512: string;
}

/** X.520 / RFC 4519 attribute short names, as OpenSSL (and so Node) prints them. */
const SHORT_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN', '2.5.4.4': 'SN', '2.5.4.5': 'serialNumber', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST',
  '2.5.4.9': 'street', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.12': 'title', '2.5.4.42': 'GN',
  '1.2.840.113549.1.9.1': 'emailAddress', '0.9.2342.19200300.100.1.25': 'DC', '0.9.2342.19200300.100.1.1': 'UID',
};

function nameObject(name: Name): CertificateName {
  const out: CertificateName = {};
  for (const rdn of name) {
    for (const atv of rdn) {
      const key = SHORT_NAMES[atv.type] ?? atv.type;
      const value = atv.value.toString();
      const had = out[key];
      out[key] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
    }
  }
  return out;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
function nodeDate(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${d.getUTCFullYear()} GMT`;
}

function fingerprint(der: Buffer, hash: string): string {
  return createHash(hash).update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
}

/**
 * Parses a DER X.509 certificate into Node's PeerCertificate shape.
 * @throws Error (from the ASN.1 parser) when `der` is not a certificate.
 */
export function peerCertificate(der: Buffer): PeerCertificate {
  const cert = AsnConvert.parse(der, Certificate);
  const tbs = cert.tbsCertificate;
  return {
    raw: der,
    subject: nameObject(tbs.subject),
    issuer: nameObject(tbs.issuer),
    valid_from: nodeDate(tbs.validity.notBefore.getTime()),
    valid_to: nodeDate(tbs.validity.notAfter.getTime()),
    serialNumber: Buffer.from(tbs.serialNumber).toString('hex').toUpperCase(),
    fingerprint: fingerprint(der, 'sha1'),
    fingerprint256: fingerprint(der, 'sha256'),
    fingerprint512: fingerprint(der, 'sha512'),
  };
}
