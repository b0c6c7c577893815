/**
 * Self-signed X.509 certificates made at test time, each signed with the algorithm the test names, so
 * a test knows which hash RFC 5929 section 4.1 assigns without asking the code under test. Built
 * with @peculiar/asn1-x509 (the TBSCertificate) and node:crypto (keys, signatures); OpenSSL parses
 * them (X509Certificate) like any other certificate.
 */
import { createHash, createHmac, generateKeyPairSync, KeyObject, randomBytes, sign, constants as cryptoConstants } from 'node:crypto';

import { RsaSaPssParams } from '@peculiar/asn1-rsa';
import * as asn1js from 'asn1js';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier, AttributeTypeAndValue, AttributeValue, Certificate, Name, RelativeDistinguishedName,
  SubjectPublicKeyInfo, TBSCertificate, Validity, Version,
} from '@peculiar/asn1-x509';

/** The signature algorithm: key type and hash ('rsa-pss-mixed': SHA-256 with MGF1-SHA-512; 'rsa-md5': never verifiable). */
export type Kind = 'rsa-sha256' | 'rsa-sha1' | 'rsa-md5' | 'ecdsa-sha384' | 'ecdsa-sha512' | 'rsa-pss-sha512' | 'rsa-pss-default' | 'rsa-pss-mixed' | 'ed25519';

/** A certificate made here: its DER, the same as PEM, and its private key. */
export interface Made {
  der: Buffer;
  pem: string;
  key: KeyObject;
}

const OID = {
  sha1: '1.3.14.3.2.26', sha256: '2.16.840.1.101.3.4.2.1', sha512: '2.16.840.1.101.3.4.2.3', mgf1: '1.2.840.113549.1.1.8',
  rsaSha256: '1.2.840.113549.1.1.11', rsaSha1: '1.2.840.113549.1.1.5', rsaMd5: '1.2.840.113549.1.1.4', pss: '1.2.840.113549.1.1.10',
  ecdsaSha384: '1.2.840.10045.4.3.3', ecdsaSha512: '1.2.840.10045.4.3.4', ed25519: '1.3.101.112',
};

const keyCache = new Map<string, { publicKey: KeyObject; privateKey: KeyObject }>();
/** One key pair per key type for the whole run (RSA key generation is slow under Wine). */
export function keys(type: 'rsa' | 'rsa-pss' | 'ec' | 'ed25519') {
  let k = keyCache.get(type);
  if (!k) {
    if (type === 'rsa' || type === 'rsa-pss') k = generateKeyPairSync(type as 'rsa', { modulusLength: 2048 });
    else if (type === 'ec') k = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    else k = generateKeyPairSync('ed25519');
    keyCache.set(type, k);
  }
  return k;
}

function algorithmId(algorithm: string, parameters: ArrayBuffer | null | undefined): AlgorithmIdentifier {
  return new AlgorithmIdentifier({ algorithm, parameters });
}

function pssParams(hash: string, mgfHash: string): ArrayBuffer {
  return AsnConvert.serialize(new RsaSaPssParams({
    hashAlgorithm: algorithmId(hash, null),
    maskGenAlgorithm: algorithmId(OID.mgf1, AsnConvert.serialize(algorithmId(mgfHash, null))),
    saltLength: 32,
  }));
}

/** A self-signed certificate for CN=host, signed with the algorithm `kind` names. */
export function makeCertificate(kind: Kind, host = 'localhost'): Made {
  const keyType = kind.startsWith('rsa-pss') ? 'rsa' : kind.startsWith('rsa') ? 'rsa' : kind.startsWith('ecdsa') ? 'ec' : 'ed25519';
  const k = keys(keyType);
  let alg: AlgorithmIdentifier;
  let signer: (data: Buffer) => Buffer;
  const pss = (hash: string) => (data: Buffer) => sign(hash, data, { key: k.privateKey, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  switch (kind) {
    case 'rsa-sha256': alg = algorithmId(OID.rsaSha256, null); signer = (d) => sign('sha256', d, k.privateKey); break;
    case 'rsa-sha1': alg = algorithmId(OID.rsaSha1, null); signer = (d) => sign('sha1', d, k.privateKey); break;
    case 'rsa-md5': alg = algorithmId(OID.rsaMd5, null); signer = () => Buffer.alloc(256, 1); break; // never verified
    case 'ecdsa-sha384': alg = algorithmId(OID.ecdsaSha384, undefined); signer = (d) => sign('sha384', d, k.privateKey); break;
    case 'ecdsa-sha512': alg = algorithmId(OID.ecdsaSha512, undefined); signer = (d) => sign('sha512', d, k.privateKey); break;
    case 'rsa-pss-sha512': alg = algorithmId(OID.pss, pssParams(OID.sha512, OID.sha512)); signer = pss('sha512'); break;
    // RSASSA-PSS-params all DEFAULT (SHA-1, MGF1 with SHA-1, salt 20): an empty SEQUENCE.
    case 'rsa-pss-default': alg = algorithmId(OID.pss, new Uint8Array([0x30, 0x00]).buffer); signer = pss('sha1'); break;
    case 'rsa-pss-mixed': alg = algorithmId(OID.pss, pssParams(OID.sha256, OID.sha512)); signer = () => Buffer.alloc(256, 2); break;
    case 'ed25519': alg = algorithmId(OID.ed25519, undefined); signer = (d) => sign(null, d, k.privateKey); break;
  }
  const name = new Name([new RelativeDistinguishedName([new AttributeTypeAndValue({ type: '2.5.4.3', value: new AttributeValue({ utf8String: host }) })])]);
  const now = Date.now();
  const tbs = new TBSCertificate({
    version: Version.v3, serialNumber: new Uint8Array([0x01, ...Array.from({ length: 8 }, () => Math.floor(Math.random() * 256))]).buffer,
    signature: alg, issuer: name, subject: name,
    validity: new Validity({ notBefore: new Date(now - 3600_000), notAfter: new Date(now + 86400_000) }),
    subjectPublicKeyInfo: AsnConvert.parse(k.publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo),
  });
  const signature = signer(Buffer.from(AsnConvert.serialize(tbs)));
  const der = Buffer.from(AsnConvert.serialize(new Certificate({ tbsCertificate: tbs, signatureAlgorithm: alg, signatureValue: new Uint8Array(signature).buffer })));
  const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
  return { der, pem, key: k.privateKey };
}


/** How {@link makePfx} protects the PFX. */
export interface PfxOptions {
  /** Iterations of the MAC key derivation and of PBKDF2 (OpenSSL's default: 2048). */
  iterations?: number;
  /** Leave the MAC out (a PFX with no integrity check). */
  noMac?: boolean;
}

const PKCS = {
  data: '1.2.840.113549.1.7.1', certBag: '1.2.840.113549.1.12.10.1.3', shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  x509Certificate: '1.2.840.113549.1.9.22.1', localKeyId: '1.2.840.113549.1.9.21', friendlyName: '1.2.840.113549.1.9.20',
};

/**
 * PKCS#12 key derivation (RFC 7292 appendix B.2) with SHA-256: the MAC key (id 3) from the password as
 * a NUL-terminated BMPString (UTF-16BE), as OpenSSL 3 and Windows compute it.
 */
function pkcs12Kdf(password: string, salt: Buffer, id: number, iterations: number, length: number): Buffer {
  const u = 32;
  const v = 64;
  const pw = Buffer.from(`${password}\0`, 'utf16le').swap16(); // BMPString, NUL included
  const fill = (b: Buffer) => {
    const n = b.length === 0 ? 0 : v * Math.ceil(b.length / v);
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = b[i % b.length];
    return out;
  };
  const I = Buffer.concat([fill(salt), fill(pw)]);
  const D = Buffer.alloc(v, id);
  const out: Buffer[] = [];
  for (let produced = 0; produced < length; produced += u) {
    let A = createHash('sha256').update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash('sha256').update(A).digest();
    out.push(A);
    const B = fill(A);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k] + B[k] + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(out).subarray(0, length);
}

function contentInfoData(content: ArrayBuffer): asn1js.Sequence {
  return new asn1js.Sequence({ value: [
    new asn1js.ObjectIdentifier({ value: PKCS.data }),
    new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.OctetString({ valueHex: content })] }),
  ] });
}

function safeBag(bagId: string, value: asn1js.AsnType, keyId: Buffer, name: string): asn1js.Sequence {
  return new asn1js.Sequence({ value: [
    new asn1js.ObjectIdentifier({ value: bagId }),
    new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [value] }),
    new asn1js.Set({ value: [
      new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: PKCS.localKeyId }), new asn1js.Set({ value: [new asn1js.OctetString({ valueHex: new Uint8Array(keyId) })] })] }),
      new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: PKCS.friendlyName }), new asn1js.Set({ value: [new asn1js.BmpString({ value: name })] })] }),
    ] }),
  ] });
}

/**
 * A PFX (PKCS#12, RFC 7292) holding `made`'s certificate and private key, as `openssl pkcs12 -export`
 * (OpenSSL 3) makes it by default: the key in a pkcs8ShroudedKeyBag encrypted with PBES2 (PBKDF2 with
 * HMAC-SHA-256, AES-256-CBC; node:crypto's PKCS#8 export), the certificate in a plain bag, both tagged with
 * the same localKeyId, and an HMAC-SHA-256 MAC over the whole with the PKCS#12 key derivation. Made in
 * process because the tests run in Windows node.exe under Wine, which cannot start Linux's openssl; the
 * DER is written with asn1js (the ASN.1 library under @peculiar/asn1-schema).
 */
export function makePfx(made: Made, password: string, options: PfxOptions = {}): Buffer {
  const iterations = options.iterations ?? 2048;
  const keyId = createHash('sha1').update(made.der).digest();
  const encryptedKey = made.key.export({ type: 'pkcs8', format: 'der', cipher: 'aes-256-cbc', passphrase: password });
  const keyBag = safeBag(PKCS.shroudedKeyBag, asn1js.fromBER(new Uint8Array(encryptedKey)).result, keyId, 'sspi test key');
  const certBag = safeBag(PKCS.certBag, new asn1js.Sequence({ value: [
    new asn1js.ObjectIdentifier({ value: PKCS.x509Certificate }),
    new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.OctetString({ valueHex: new Uint8Array(made.der) })] }),
  ] }), keyId, 'sspi test key');
  const authSafe = new asn1js.Sequence({ value: [
    contentInfoData(new asn1js.Sequence({ value: [certBag] }).toBER()),
    contentInfoData(new asn1js.Sequence({ value: [keyBag] }).toBER()),
  ] }).toBER();
  const pfx: asn1js.AsnType[] = [new asn1js.Integer({ value: 3 }), contentInfoData(authSafe)];
  if (!options.noMac) {
    const salt = randomBytes(8);
    const key = pkcs12Kdf(password, salt, 3, iterations, 32);
    const mac = createHmac('sha256', key).update(Buffer.from(authSafe)).digest();
    pfx.push(new asn1js.Sequence({ value: [
      new asn1js.Sequence({ value: [
        new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.sha256 }), new asn1js.Null()] }),
        new asn1js.OctetString({ valueHex: new Uint8Array(mac) }),
      ] }),
      new asn1js.OctetString({ valueHex: new Uint8Array(salt) }),
      new asn1js.Integer({ value: iterations }),
    ] }));
  }
  return Buffer.from(new asn1js.Sequence({ value: pfx }).toBER());
}
