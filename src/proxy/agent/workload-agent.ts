/*
 * The proxy's own agent (Istio's pilot-agent SDS server, in process): joins the mesh with a
 * token, keeps the workload's key (ECDSA P-256, made here, never sent anywhere) and certificate,
 * renews it at half its life with jitter, and serves both as the SDS secrets `default` and
 * `ROOTCA` into the proxy's SecretStore. Also gives the ADS channel its TLS credentials.
 */
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { buildCsr, fromPem, toPem } from '../../pki/x509.js';
import { readJoinToken, type JoinTokenClaims } from '../../pki/join-token.js';
import { CONTROL_PLANE_SAN, spiffeId } from '../../pki/spiffe.js';
import type { SecretStore } from '../tls/secret-store.js';
import { fetchPinnedRoot, PinnedRootError } from './pinned-root.js';
import { createCertificate, credentialsFor, loadGrpc, channelOptions, CaRequestError, type CaTarget } from './ca-client.js';
import { renewalTime, retryDelay } from './renewal.js';

/** Istio's secret names. */
export const WORKLOAD_SECRET = 'default';
export const ROOT_SECRET = 'ROOTCA';
/** The control plane's service name, which its certificate carries (as istiod's). */
export const CONTROL_PLANE_NAME = CONTROL_PLANE_SAN;

export interface AgentOptions {
  readonly ca: { readonly host: string; readonly port: number };
  /** The join token's text. */
  readonly token: string;
  /** Requested certificate lifetime in seconds; 0: the CA's default (24 h). */
  readonly certTtlSeconds?: number;
  readonly log: { info(s: string): void; warn(s: string): void };
  readonly random?: () => number;
}

export interface WorkloadCertificate {
  /** The leaf and the intermediates, PEM (what `default` presents). */
  readonly certificateChainPem: string;
  readonly privateKeyPem: string;
  /** Every trusted mesh root, PEM (what `ROOTCA` holds). */
  readonly rootsPem: string;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly spiffeId: string;
}

export class WorkloadAgent {
  readonly claims: JoinTokenClaims;
  readonly #o: AgentOptions;
  readonly #target: CaTarget;
  #cert: WorkloadCertificate | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #stores = new Set<SecretStore>();
  readonly #onRenewed = new Set<(c: WorkloadCertificate) => void>();
  /** Certificates obtained (the first one and every renewal). */
  issued = 0;

  /** Throws TokenError when the token is not one (its signature is the CA's to check). */
  constructor(o: AgentOptions) {
    this.#o = o;
    this.claims = readJoinToken(o.token);
    this.#target = { host: o.ca.host, port: o.ca.port, serverName: CONTROL_PLANE_NAME };
  }

  get identity(): string { return this.claims.sub; }
  get certificate(): WorkloadCertificate | undefined { return this.#cert; }

  /**
   * Joins: verifies the control plane against the token's pinned root, then gets the first
   * certificate with the token. Rejects with the CA's reason (PinnedRootError, CaRequestError).
   */
  async join(): Promise<WorkloadCertificate> {
    const root = await fetchPinnedRoot(this.#target.host, this.#target.port, this.claims.rootHash, CONTROL_PLANE_NAME);
    const grpc = await loadGrpc();
    const cert = await this.#request(credentialsFor(grpc, root), this.#o.token);
    this.#o.log.info(`agent: joined as ${cert.spiffeId}; certificate valid until ${new Date(cert.notAfter).toISOString()}`);
    this.#install(cert);
    return cert;
  }

  /**
   * join(), retried with backoff while the control plane cannot be reached (it may start after
   * its sidecars). A refusal (bad token, wrong root, denied CSR) is final: it rejects at once.
   */
  async joinPatiently(signal?: AbortSignal): Promise<WorkloadCertificate> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.join();
      } catch (e) {
        if (!isTransient(e) || signal?.aborted) throw e;
        const delay = Math.min(10_000, 500 * 2 ** Math.min(attempt, 5));
        this.#o.log.warn(`agent: cannot reach the control plane at ${this.#target.host}:${this.#target.port} (${(e as Error).message}); retrying in ${delay} ms`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Puts `default` and `ROOTCA` into `store` now and after every renewal. */
  serveInto(store: SecretStore): void {
    this.#stores.add(store);
    if (this.#cert) this.#fill(store, this.#cert);
  }

  onRenewed(fn: (c: WorkloadCertificate) => void): () => void {
    this.#onRenewed.add(fn);
    return () => this.#onRenewed.delete(fn);
  }

  /** TLS credentials for a channel to the control plane: the mesh roots, and this workload's certificate (mTLS). */
  async channelCredentials(): Promise<{ credentials: ChannelCredentials; options: Record<string, string | number> }> {
    const c = this.#cert;
    if (!c) throw new Error('the agent has no certificate yet');
    return { credentials: credentialsFor(await loadGrpc(), c.rootsPem, c), options: channelOptions(CONTROL_PLANE_NAME) };
  }

  /** Renews now (also what the timer does). Resolves with the new certificate. */
  async renew(): Promise<WorkloadCertificate> {
    const c = this.#cert;
    if (!c) throw new Error('the agent has not joined');
    const grpc = await loadGrpc();
    // Authenticated by the current certificate: the token may long have expired.
    const next = await this.#request(credentialsFor(grpc, c.rootsPem, c), undefined);
    this.#o.log.info(`agent: certificate renewed; valid until ${new Date(next.notAfter).toISOString()}`);
    this.#install(next);
    return next;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #request(credentials: ChannelCredentials, token: string | undefined): Promise<WorkloadCertificate> {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const want = spiffeId({ trustDomain: this.claims.td, namespace: this.claims.ns, serviceAccount: this.claims.sa });
    const csr = buildCsr(privateKey, new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })), {}, { uris: [want] });
    const chain = await createCertificate(this.#target, credentials, toPem('CERTIFICATE REQUEST', csr), this.#o.certTtlSeconds ?? 0, token);
    const ders = chain.flatMap((p) => fromPem(p, 'CERTIFICATE'));
    const certs = ders.map((d) => new X509Certificate(d));
    const leaf = certs[0]!;
    if (!leaf.publicKey.equals(publicKey)) throw new Error('the CA returned a certificate for another key');
    if (!(leaf.subjectAltName ?? '').split(', ').includes(`URI:${want}`)) throw new Error(`the CA returned a certificate without ${want}`);
    // Istio's chain: leaf, intermediates, root last. Every self-signed certificate in it is a
    // trust anchor (more than one while the mesh root rotates); the rest is what `default` presents.
    const selfSigned = (x: X509Certificate): boolean => x.issuer === x.subject && x.verify(x.publicKey);
    return {
      certificateChainPem: certs.filter((x, i) => i === 0 || !selfSigned(x)).map((x) => x.toString()).join(''),
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      rootsPem: certs.filter((x, i) => i > 0 && selfSigned(x)).map((x) => x.toString()).join(''),
      notBefore: new Date(leaf.validFrom).getTime(),
      notAfter: new Date(leaf.validTo).getTime(),
      spiffeId: want,
    };
  }

  #install(c: WorkloadCertificate): void {
    this.#cert = c;
    this.issued++;
    for (const s of this.#stores) this.#fill(s, c);
    for (const fn of this.#onRenewed) fn(c);
    this.#schedule(renewalTime(c.notBefore, c.notAfter, (this.#o.random ?? Math.random)()) - Date.now(), 0);
  }

  #fill(store: SecretStore, c: WorkloadCertificate): void {
    // Roots first: a peer's certificate signed by a new root must verify as soon as ours is served.
    store.setValidationContext(ROOT_SECRET, { trustedCaPem: c.rootsPem });
    store.setTlsCertificate(WORKLOAD_SECRET, { certificateChainPem: c.certificateChainPem, privateKeyPem: c.privateKeyPem });
  }

  #schedule(delayMs: number, attempt: number): void {
    clearTimeout(this.#timer);
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.renew().catch((e: Error) => {
        const notAfter = this.#cert?.notAfter ?? 0;
        const delay = retryDelay(attempt, Date.now(), notAfter);
        this.#o.log.warn(`agent: renewal failed (${e.message}); retrying in ${Math.round(delay)} ms${Date.now() > notAfter ? ' (the certificate has EXPIRED)' : ''}`);
        this.#schedule(delay, attempt + 1);
      });
    }, Math.max(0, delayMs));
    this.#timer.unref();
  }
}

/** Unreachable or unavailable (worth retrying), as opposed to refused. */
function isTransient(e: unknown): boolean {
  // grpc status UNAVAILABLE (14) and DEADLINE_EXCEEDED (4); TLS connect errors before a handshake.
  if (e instanceof CaRequestError) return e.code === 14 || e.code === 4;
  if (e instanceof PinnedRootError) return /^(TLS to |no TLS handshake)/.test(e.message);
  return false;
}
