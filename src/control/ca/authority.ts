/*
 * The certificate authority: signs workload certificates for an identity it has authenticated,
 * and the control plane's own serving certificate. Holds the current CaMaterial (swapped whole
 * on a rotation). No I/O.
 */
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { buildCertificate, CsrError, keyIdentifier, parseCsr, spkiOf, subjectOf, type SubjectAltNames } from '../../pki/x509.js';
import { rootHashOf } from '../../pki/join-token.js';
import { spiffeId, type WorkloadIdentity } from '../../pki/spiffe.js';
import { pem, type CaMaterial } from './material.js';

/** Why a signing request is refused; `code` maps to a gRPC status. */
export class CaRefusal extends Error {
  constructor(readonly code: 'invalid-argument' | 'permission-denied', message: string) {
    super(message);
  }
}

export interface CaPolicy {
  /** Lifetime of a workload certificate when the request asks for none (Istio: 24 h). */
  readonly defaultTtlSeconds: number;
  /** The longest lifetime granted (Istio's MAX_WORKLOAD_CERT_TTL: 90 days). */
  readonly maxTtlSeconds: number;
}

export const DEFAULT_POLICY: CaPolicy = { defaultTtlSeconds: 24 * 3600, maxTtlSeconds: 90 * 24 * 3600 };

export { CONTROL_PLANE_SAN } from '../../pki/spiffe.js';

// Clocks disagree: a certificate valid from a minute ago works on a peer that is a bit behind.
const BACKDATE_MS = 60_000;

export class CertificateAuthority {
  #m: CaMaterial;
  #signerKeyId!: Uint8Array;
  #signerSubject!: Uint8Array;
  #signerNotAfter!: number;
  /** Counters for /metrics (Istio's citadel_server_* names). */
  readonly counters = { csr: 0, issued: 0, refused: 0 };

  constructor(material: CaMaterial, readonly trustDomain: string, readonly policy: CaPolicy = DEFAULT_POLICY) {
    this.#m = material;
    this.replace(material);
  }

  get material(): CaMaterial { return this.#m; }

  replace(material: CaMaterial): void {
    this.#m = material;
    // Read once per signer, not per certificate.
    this.#signerKeyId = keyIdentifier(spkiOf(material.signerDer));
    this.#signerSubject = subjectOf(material.signerDer);
    this.#signerNotAfter = new Date(new X509Certificate(material.signerDer).validTo).getTime();
  }

  /** What join tokens pin: the hash of the root the current signer chains to. */
  rootHash(): string {
    return rootHashOf(this.#m.rootDer);
  }

  trustBundlePem(): string[] {
    return this.#m.trustedRootsDer.map(pem);
  }

  /** When the signing root expires (for citadel_server_root_cert_expiry_timestamp). */
  rootExpiry(): Date {
    return new Date(new X509Certificate(this.#m.rootDer).validTo);
  }

  /**
   * Signs the CSR (PEM) for `id`, which the caller has authenticated. The request must ask for
   * exactly the identity's SPIFFE ID: a request for any other name is refused, never narrowed.
   * Returns Istio's cert_chain: the leaf, the intermediates, the other trusted roots (during a
   * rotation) and the signer's root last.
   */
  signWorkload(csrPem: string, id: Omit<WorkloadIdentity, 'trustDomain'>, requestedTtlSeconds: number, now: Date): string[] {
    const ders = csrPem.match(/-----BEGIN CERTIFICATE REQUEST-----([A-Za-z0-9+/=\s]*?)-----END CERTIFICATE REQUEST-----/);
    if (!ders) throw new CaRefusal('invalid-argument', 'csr: no PEM CERTIFICATE REQUEST in it');
    let csr;
    try {
      csr = parseCsr(new Uint8Array(Buffer.from(ders[1]!.replace(/\s+/g, ''), 'base64')));
    } catch (e) {
      if (e instanceof CsrError) throw new CaRefusal('invalid-argument', `csr: ${e.message}`);
      throw e;
    }
    const want = spiffeId({ trustDomain: this.trustDomain, ...id });
    const asked = [...csr.san.uris, ...csr.san.dns, ...csr.san.ips];
    if (asked.length !== 1 || csr.san.uris[0] !== want) {
      throw new CaRefusal('permission-denied', `csr: asks for ${asked.length ? asked.join(', ') : 'no subjectAltName'}, but the caller is ${want}; a workload can only get a certificate for its own identity`);
    }
    const key = csr.publicKey;
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new CaRefusal('invalid-argument', `csr: the key must be ECDSA P-256, got ${key.asymmetricKeyType}${key.asymmetricKeyDetails?.namedCurve ? ` ${key.asymmetricKeyDetails.namedCurve}` : ''}`);
    }
    const ttl = requestedTtlSeconds > 0 ? Math.min(requestedTtlSeconds, this.policy.maxTtlSeconds) : this.policy.defaultTtlSeconds;
    const leaf = this.#issue(csr.publicKeySpki, { uris: [want] }, now, ttl);
    this.counters.issued++;
    return this.#chain(leaf);
  }

  /**
   * The control plane's TLS certificate for `san` (key made here, never stored). The chain ends
   * with the root: a joining proxy finds the root its token pins in what the server presents.
   */
  issueServer(san: SubjectAltNames, now: Date, ttlSeconds: number): { certChainPem: string; keyPem: string } {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const leaf = this.#issue(new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })), san, now, ttlSeconds);
    return { certChainPem: [leaf, ...this.#m.intermediatesDer, this.#m.rootDer].map(pem).join(''), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
  }

  /**
   * The identity of a client certificate this CA issued (for renewal over mTLS), or why not.
   * Checked against every signer it may have come from: the current one and, during a
   * rotation, certificates signed by the previous root are still accepted while it is trusted.
   */
  identityOfClientCert(der: Uint8Array, now: Date): Omit<WorkloadIdentity, 'trustDomain'> | string {
    let x: X509Certificate;
    try { x = new X509Certificate(der); } catch { return 'the client certificate does not parse'; }
    if (new Date(x.validTo) <= now || new Date(x.validFrom) > new Date(now.getTime() + BACKDATE_MS)) return 'the client certificate is not valid now';
    const signers = [this.#m.signerDer, ...this.#m.trustedRootsDer].map((d) => new X509Certificate(d));
    if (!signers.some((s) => x.checkIssued(s) && x.verify(s.publicKey))) return 'the client certificate was not issued by this CA';
    const uris = (x.subjectAltName ?? '').split(', ').filter((s) => s.startsWith('URI:')).map((s) => s.slice(4));
    const m = uris.length === 1 ? /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(uris[0]!) : null;
    if (!m || m[1] !== this.trustDomain) return 'the client certificate has no workload identity of this trust domain';
    return { namespace: m[2]!, serviceAccount: m[3]! };
  }

  #issue(spki: Uint8Array, san: SubjectAltNames, now: Date, ttlSeconds: number): Uint8Array {
    // A certificate never outlives its issuer (RFC 5280 path validation would reject it then).
    const notAfter = new Date(Math.min(now.getTime() + ttlSeconds * 1000, this.#signerNotAfter));
    return buildCertificate({
      serial: randomBytes(16), subject: {}, notBefore: new Date(now.getTime() - BACKDATE_MS), notAfter, publicKeySpki: spki, isCa: false, san,
    }, { subjectDer: this.#signerSubject, key: this.#m.signerKey, keyId: this.#signerKeyId }, keyIdentifier(spki));
  }

  #chain(leaf: Uint8Array): string[] {
    const others = this.#m.trustedRootsDer.filter((r) => Buffer.compare(Buffer.from(r), Buffer.from(this.#m.rootDer)) !== 0);
    const middle = this.#m.intermediatesDer.filter((d) => Buffer.compare(Buffer.from(d), Buffer.from(this.#m.rootDer)) !== 0);
    return [leaf, ...middle, ...others, this.#m.rootDer].map(pem);
  }
}
