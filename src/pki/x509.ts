/*
 * Building X.509 v3 certificates (RFC 5280) and PKCS#10 certification requests (RFC 2986),
 * and reading what a CA must check in a request. Signing uses node:crypto with the issuer's key
 * (ECDSA P-256 or RSA, both with SHA-256); parsing a certificate is X509Certificate's job.
 * No I/O.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import {
  TAG, DerError, bitString, boolean, children, context, decode, expect, integer, nul, octetString, oid, readBitString, readOid, readString,
  seq, setOf, time, utf8String, type DerNode,
} from './der.js';

export const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  extensionRequest: '1.2.840.113549.1.9.14',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** Subject alternative names: URIs (SPIFFE IDs), DNS names, IP addresses. */
export interface SubjectAltNames {
  readonly uris?: readonly string[];
  readonly dns?: readonly string[];
  readonly ips?: readonly string[];
}

/** A distinguished name as attribute/value pairs, in order: `{ O: 'cluster.local', CN: '...' }`. */
export interface DistinguishedName {
  readonly O?: string;
  readonly CN?: string;
}

export function encodeName(n: DistinguishedName): Uint8Array {
  const rdns: Uint8Array[] = [];
  if (n.O !== undefined) rdns.push(setOf(seq(oid(OID.organization), utf8String(n.O))));
  if (n.CN !== undefined) rdns.push(setOf(seq(oid(OID.commonName), utf8String(n.CN))));
  return seq(...rdns);
}

/** The AlgorithmIdentifier of a SHA-256 signature by `key` (a private or public key). */
export function signatureAlgorithm(key: KeyObject): Uint8Array {
  if (key.asymmetricKeyType === 'ec') return seq(oid(OID.ecdsaWithSha256));
  if (key.asymmetricKeyType === 'rsa') return seq(oid(OID.sha256WithRsa), nul());
  throw new Error(`unsupported signing key type ${key.asymmetricKeyType ?? 'unknown'}: ECDSA or RSA keys only`);
}

function signed(tbs: Uint8Array, key: KeyObject): Uint8Array {
  // ECDSA signatures are DER (r, s) in X.509 and PKCS#10: node's default dsaEncoding.
  return seq(tbs, signatureAlgorithm(key), bitString(sign('sha256', tbs, key)));
}

function sanExtensionValue(san: SubjectAltNames): Uint8Array {
  const names: Uint8Array[] = [];
  for (const u of san.uris ?? []) names.push(context(6, new TextEncoder().encode(u), false));
  for (const d of san.dns ?? []) names.push(context(2, new TextEncoder().encode(d), false));
  for (const ip of san.ips ?? []) names.push(context(7, ipBytes(ip), false));
  return seq(...names);
}

function ipBytes(ip: string): Uint8Array {
  const v = isIP(ip);
  if (v === 4) return Uint8Array.from(ip.split('.').map(Number));
  if (v !== 6) throw new RangeError(`not an IP address: ${ip}`);
  const [head, tail] = ip.includes('::') ? ip.split('::') as [string, string] : [ip, undefined];
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((h) => parseInt(h, 16)));
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  const groups = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => { out[i * 2] = g >> 8; out[i * 2 + 1] = g & 0xff; });
  return out;
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? seq(oid(id), boolean(true), octetString(value)) : seq(oid(id), octetString(value));
}

/** keyUsage bits (RFC 5280 4.2.1.3) as a BIT STRING. */
function keyUsage(ca: boolean): Uint8Array {
  // digitalSignature(0) keyEncipherment(2) for leaves; keyCertSign(5) cRLSign(6) for CAs. DER
  // drops trailing zero bits: the first content byte counts the unused ones.
  return ca ? Uint8Array.of(TAG.BIT_STRING, 0x02, 0x01, 0x06) : Uint8Array.of(TAG.BIT_STRING, 0x02, 0x05, 0xa0);
}

export interface CertificateTemplate {
  readonly serial: Uint8Array;
  readonly subject: DistinguishedName;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The certified public key as SubjectPublicKeyInfo DER. */
  readonly publicKeySpki: Uint8Array;
  readonly isCa: boolean;
  /** Only for a CA: how many CAs may follow it in a path. */
  readonly pathLen?: number;
  readonly san?: SubjectAltNames;
}

export interface Issuer {
  /** The issuer's subject as encoded in its certificate (copied byte for byte into `issuer`). */
  readonly subjectDer: Uint8Array;
  readonly key: KeyObject;
  /** The issuer's subject key identifier, for authorityKeyIdentifier. */
  readonly keyId: Uint8Array;
}

/** SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2 method 1). */
export function keyIdentifier(spki: Uint8Array): Uint8Array {
  const bits = readBitString(children(decode(spki))[1]!);
  return new Uint8Array(createHash('sha1').update(bits).digest());
}

/**
 * A signed certificate (DER). `issuer` undefined: self-signed with `selfKey`. Leaves get
 * serverAuth+clientAuth (a workload certificate is both, as Istio's are).
 */
export function buildCertificate(t: CertificateTemplate, issuer: Issuer, subjectKeyId: Uint8Array): Uint8Array {
  const exts: Uint8Array[] = [
    extension(OID.basicConstraints, true, t.isCa ? seq(boolean(true), ...(t.pathLen !== undefined ? [integer(BigInt(t.pathLen))] : [])) : seq()),
    extension(OID.keyUsage, true, keyUsage(t.isCa)),
  ];
  if (!t.isCa) exts.push(extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth), oid(OID.clientAuth))));
  exts.push(extension(OID.subjectKeyIdentifier, false, octetString(subjectKeyId)));
  exts.push(extension(OID.authorityKeyIdentifier, false, seq(context(0, issuer.keyId, false))));
  const san = t.san ?? {};
  if ((san.uris?.length ?? 0) + (san.dns?.length ?? 0) + (san.ips?.length ?? 0) > 0) {
    // RFC 5280: critical when the subject is empty.
    exts.push(extension(OID.subjectAltName, t.subject.CN === undefined && t.subject.O === undefined, sanExtensionValue(san)));
  }
  const tbs = seq(
    context(0, integer(2n), true), // v3
    integer(t.serial),
    signatureAlgorithm(issuer.key),
    issuer.subjectDer,
    seq(time(t.notBefore), time(t.notAfter)),
    encodeName(t.subject),
    t.publicKeySpki,
    context(3, seq(...exts), true),
  );
  return signed(tbs, issuer.key);
}

/** A PKCS#10 request for `key`'s public half, asking for `san` (DER). */
export function buildCsr(key: KeyObject, publicKeySpki: Uint8Array, subject: DistinguishedName, san: SubjectAltNames): Uint8Array {
  const extReq = seq(oid(OID.extensionRequest), setOf(seq(extension(OID.subjectAltName, false, sanExtensionValue(san)))));
  const info = seq(integer(0n), encodeName(subject), publicKeySpki, context(0, extReq, true));
  return signed(info, key);
}

/** What a CA needs from a request: its (verified) public key and the names it asks for. */
export interface ParsedCsr {
  readonly publicKeySpki: Uint8Array;
  readonly publicKey: KeyObject;
  readonly san: Required<SubjectAltNames>;
}

/** A request was malformed or its signature does not verify: the reason, for the caller. */
export class CsrError extends Error {}

/** Decodes a PKCS#10 request (DER) and checks its self-signature. Throws CsrError. */
export function parseCsr(der: Uint8Array): ParsedCsr {
  try {
    const [info, alg, sig] = children(expect(decode(der), TAG.SEQUENCE, 'CertificationRequest'));
    const parts = children(expect(info, TAG.SEQUENCE, 'CertificationRequestInfo'));
    const spki = expect(parts[2], TAG.SEQUENCE, 'subjectPKInfo');
    const publicKey = createPublicKey({ key: Buffer.from(spki.raw), format: 'der', type: 'spki' });
    const algOid = readOid(children(expect(alg, TAG.SEQUENCE, 'signatureAlgorithm'))[0]!);
    if (algOid !== OID.ecdsaWithSha256 && algOid !== OID.sha256WithRsa) throw new CsrError(`unsupported signature algorithm ${algOid} (ECDSA or RSA with SHA-256)`);
    if (!verify('sha256', info!.raw, publicKey, readBitString(sig!))) throw new CsrError('the request\'s signature does not verify with its own public key');
    const san = { uris: [] as string[], dns: [] as string[], ips: [] as string[] };
    const attrs = parts[3];
    if (attrs && attrs.tag === 0xa0) {
      for (const attr of children(attrs)) {
        const [type, values] = children(attr);
        if (readOid(type!) !== OID.extensionRequest) continue;
        for (const ext of children(children(values!)[0]!)) readSan(ext, san);
      }
    }
    return { publicKeySpki: spki.raw, publicKey, san };
  } catch (e) {
    if (e instanceof CsrError) throw e;
    throw new CsrError(`not a PKCS#10 request: ${(e as Error).message}`);
  }
}

function readSan(ext: DerNode, out: { uris: string[]; dns: string[]; ips: string[] }): void {
  const parts = children(ext);
  if (readOid(parts[0]!) !== OID.subjectAltName) return;
  const value = expect(parts[parts.length - 1], TAG.OCTET_STRING, 'extnValue');
  for (const name of children(decode(value.content))) {
    const s = new TextDecoder().decode(name.content);
    if (name.tag === 0x86) out.uris.push(s);
    else if (name.tag === 0x82) out.dns.push(s);
    else if (name.tag === 0x87) out.ips.push(formatIp(name.content));
    else throw new DerError(`unsupported subjectAltName type tag 0x${name.tag.toString(16)}`, name.offset);
  }
}

function formatIp(b: Uint8Array): string {
  if (b.length === 4) return [...b].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return groups.join(':');
}

/** The subject of a certificate (DER) as encoded, for issuing under it. */
export function subjectOf(certDer: Uint8Array): Uint8Array {
  const tbs = children(children(decode(certDer))[0]!);
  // version [0] is present in v3 certificates: serial, sigAlg, issuer, validity, subject follow it.
  const offset = tbs[0]!.tag === 0xa0 ? 1 : 0;
  return tbs[offset + 4]!.raw;
}

/** The SubjectPublicKeyInfo of a certificate (DER). */
export function spkiOf(certDer: Uint8Array): Uint8Array {
  const tbs = children(children(decode(certDer))[0]!);
  const offset = tbs[0]!.tag === 0xa0 ? 1 : 0;
  return tbs[offset + 5]!.raw;
}

export function toPem(label: 'CERTIFICATE' | 'CERTIFICATE REQUEST', der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

/** Every `label` block of a PEM text, decoded (in order). */
export function fromPem(pem: string, label: 'CERTIFICATE' | 'CERTIFICATE REQUEST'): Uint8Array[] {
  const re = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]*?)-----END ${label}-----`, 'g');
  return [...pem.matchAll(re)].map((m) => new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')));
}
