/*
 * What a CA signs with and what it tells workloads to trust, and how to make a new root. Pure
 * apart from key generation.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { buildCertificate, encodeName, fromPem, keyIdentifier, spkiOf, toPem } from '../../pki/x509.js';

/** The signing certificate and key, the chain above it, and every root workloads should trust. */
export interface CaMaterial {
  /** The certificate that signs workload certificates (the root itself, or an intermediate). */
  readonly signerDer: Uint8Array;
  readonly signerKey: KeyObject;
  /** Certificates between the signer and its root (signer first; the root excluded). */
  readonly intermediatesDer: readonly Uint8Array[];
  /** The root the signer chains to. */
  readonly rootDer: Uint8Array;
  /** Roots workloads trust, the signer's root first (more than one during a root rotation). */
  readonly trustedRootsDer: readonly Uint8Array[];
  /** A plugged-in CA (Istio's cacerts layout): its owner rotates it, tsmesh does not. */
  readonly plugged: boolean;
}

/** A CA file set that cannot work, with the file and the reason. */
export class CaMaterialError extends Error {}

/** A new self-signed root: ECDSA P-256, `years` of validity. */
export function newRoot(trustDomain: string, now: Date, years = 10): { certDer: Uint8Array; keyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
  const keyId = keyIdentifier(spki);
  const subject = { O: trustDomain, CN: `tsmesh root CA ${now.toISOString().slice(0, 10)} ${randomBytes(3).toString('hex')}` };
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + years);
  const certDer = buildCertificate({
    serial: randomBytes(16), subject, notBefore: new Date(now.getTime() - 60_000), notAfter, publicKeySpki: spki, isCa: true,
  }, { subjectDer: encodeName(subject), key: privateKey, keyId }, keyId);
  return { certDer, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** Checks that `keyPem` is the private half of `certDer`'s key; the parsed key. */
export function matchingKey(certDer: Uint8Array, keyPem: string, file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (e) {
    throw new CaMaterialError(`${file}: not a private key in PEM: ${(e as Error).message}`);
  }
  const pub = new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' }));
  if (Buffer.compare(Buffer.from(pub), Buffer.from(spkiOf(certDer))) !== 0) throw new CaMaterialError(`${file}: the key does not belong to the CA certificate`);
  return key;
}

/** Parses PEM certificates, refusing an empty or unparsable file. */
export function certificates(pem: string, file: string): Uint8Array[] {
  const ders = fromPem(pem, 'CERTIFICATE');
  if (ders.length === 0) throw new CaMaterialError(`${file}: no PEM CERTIFICATE in it`);
  for (const d of ders) {
    try { new X509Certificate(d); } catch (e) { throw new CaMaterialError(`${file}: a certificate does not parse: ${(e as Error).message}`); }
  }
  return ders;
}

export function isSelfSigned(der: Uint8Array): boolean {
  const x = new X509Certificate(der);
  return x.issuer === x.subject && x.verify(x.publicKey);
}

/**
 * Istio's plugged-in CA layout (`cacerts`): ca-cert.pem signs, cert-chain.pem is ca-cert up to
 * (optionally including) the root, root-cert.pem is the root. Checks every link.
 */
export function pluggedMaterial(files: { caCert: string; caKey: string; certChain: string; rootCert: string }, names: Record<keyof typeof files, string>, now: Date): CaMaterial {
  const signerDer = certificates(files.caCert, names.caCert)[0]!;
  const signerKey = matchingKey(signerDer, files.caKey, names.caKey);
  const rootDer = certificates(files.rootCert, names.rootCert)[0]!;
  if (!isSelfSigned(rootDer)) throw new CaMaterialError(`${names.rootCert}: not a self-signed root certificate`);
  const chain = certificates(files.certChain, names.certChain).filter((d) => !isSelfSigned(d));
  if (chain.length === 0 || Buffer.compare(Buffer.from(chain[0]!), Buffer.from(signerDer)) !== 0) chain.unshift(signerDer);
  const path = [...chain, rootDer];
  for (let i = 0; i + 1 < path.length; i++) {
    const child = new X509Certificate(path[i]!);
    const parent = new X509Certificate(path[i + 1]!);
    if (!parent.ca) throw new CaMaterialError(`${names.certChain}: ${parent.subject.replace(/\n/g, ', ')} is not a CA certificate`);
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
      throw new CaMaterialError(`${names.certChain}: the path ca-cert.pem → cert-chain.pem → root-cert.pem breaks at certificate ${i + 1} of ${path.length}: ${child.subject.replace(/\n/g, ', ')} is not signed by the next one, ${parent.subject.replace(/\n/g, ', ')}`);
    }
  }
  const signer = new X509Certificate(signerDer);
  if (!signer.ca) throw new CaMaterialError(`${names.caCert}: not a CA certificate (basicConstraints cA is not set)`);
  if (new Date(signer.validTo) <= now) throw new CaMaterialError(`${names.caCert}: expired at ${signer.validTo}`);
  return { signerDer, signerKey, intermediatesDer: chain, rootDer, trustedRootsDer: [rootDer], plugged: true };
}

/** A self-signed root as the signer, trusting `alsoTrusted` too (a rotation's other root). */
export function selfSignedMaterial(rootDer: Uint8Array, keyPem: string, file: string, alsoTrusted: readonly Uint8Array[]): CaMaterial {
  const signerKey = matchingKey(rootDer, keyPem, file);
  return { signerDer: rootDer, signerKey, intermediatesDer: [], rootDer, trustedRootsDer: [rootDer, ...alsoTrusted], plugged: false };
}

export const pem = (der: Uint8Array): string => toPem('CERTIFICATE', der);
