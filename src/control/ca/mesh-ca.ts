/*
 * The control plane's CA, assembled: files in the data dir (or a plugged-in CA), the signing
 * authority, join tokens and their revocation list, the TLS credentials of the xDS/CA port, the
 * `istio.v1.auth.IstioCertificateService` handler, its HTTP API and its metrics.
 */
import * as grpc from '@grpc/grpc-js';
import { isIP } from 'node:net';
import { X509Certificate } from 'node:crypto';
import type { SecureContextOptions } from 'node:tls';
import { parseDurationMs } from '../config/duration.js';
import { ApiError, type ApiServer } from '../api/server.js';
import { CaFiles, type RotationPhase } from './ca-files.js';
import { CertificateAuthority, CONTROL_PLANE_SAN, DEFAULT_POLICY, type CaPolicy } from './authority.js';
import { RevocationList } from './revocation.js';
import { TokenAuthority } from './tokens.js';
import { caServiceDefinition, caServiceImplementation } from './csr-service.js';
import type { JoinTokenClaims } from '../../pki/join-token.js';

export interface MeshCaOptions {
  readonly dataDir: string;
  /** A directory in Istio's cacerts layout (ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem). */
  readonly pluggedDir?: string;
  readonly trustDomain: string;
  /** Names (DNS or IP) the control plane is reached by, added to its serving certificate. */
  readonly serverNames: readonly string[];
  readonly policy?: CaPolicy;
  readonly log: { info(s: string): void; warn(s: string): void };
}

/** Longest join token lifetime: a token is a bearer secret, so it should be short-lived. */
const MAX_TOKEN_TTL_S = 30 * 24 * 3600;
/** The control plane's own certificate: reissued on every start and every rotation step. */
const SERVER_CERT_TTL_S = 365 * 24 * 3600;

/**
 * grpc-js server credentials that ask for a client certificate but do not require one: a
 * joining proxy has none yet (it brings a token), a renewing one presents its workload
 * certificate, which the CA checks itself. The serving certificate can be replaced live.
 */
class MeshServerCredentials extends grpc.ServerCredentials {
  constructor(ctx: SecureContextOptions) {
    super({ requestCert: true, rejectUnauthorized: false }, ctx);
  }

  update(ctx: SecureContextOptions): void {
    this.updateSecureContextOptions(ctx);
  }

  override _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

export class MeshCa {
  readonly files: CaFiles;
  readonly authority: CertificateAuthority;
  readonly tokens: TokenAuthority;
  readonly #opts: MeshCaOptions;
  #credentials: MeshServerCredentials | undefined;

  /** Throws CaMaterialError when the CA files cannot be used (with the file and reason). */
  constructor(opts: MeshCaOptions) {
    this.#opts = opts;
    this.files = new CaFiles(opts.dataDir, opts.pluggedDir);
    const { material, created } = this.files.load(opts.trustDomain, new Date());
    this.authority = new CertificateAuthority(material, opts.trustDomain, opts.policy ?? DEFAULT_POLICY);
    this.tokens = new TokenAuthority(this.files.tokenKey(), new RevocationList(this.files.revocationFile));
    const root = new X509Certificate(material.rootDer);
    if (opts.pluggedDir) opts.log.info(`ca: plugged-in CA from ${opts.pluggedDir}, signing as ${new X509Certificate(material.signerDer).subject.replace(/\n/g, ', ')}`);
    else opts.log.info(`ca: ${created ? 'created a new' : 'using the'} root CA in ${this.files.dir} (${root.subject.replace(/\n/g, ', ')}, until ${root.validTo})`);
    opts.log.info(`ca: root ${this.authority.rootHash()} (join tokens pin this)`);
  }

  /** TLS credentials of the xDS/CA port: a certificate for istiod.tsmesh-system.svc and serverNames. */
  serverCredentials(): grpc.ServerCredentials {
    return (this.#credentials ??= new MeshServerCredentials(this.#secureContext()));
  }

  #secureContext(): SecureContextOptions {
    const names = [CONTROL_PLANE_SAN, ...this.#opts.serverNames.filter((n) => n !== '' && n !== '0.0.0.0' && n !== '::')];
    const server = this.authority.issueServer({ dns: names.filter((n) => !isIP(n)), ips: names.filter((n) => isIP(n)) }, new Date(), SERVER_CERT_TTL_S);
    return { cert: server.certChainPem, key: server.keyPem, ca: this.authority.trustBundlePem().join('') };
  }

  addServiceTo(server: grpc.Server): void {
    server.addService(caServiceDefinition, caServiceImplementation(this.authority, this.tokens, this.#opts.log));
  }

  createToken(namespace: string, serviceAccount: string, ttlSeconds: number): { token: string; claims: JoinTokenClaims } {
    if (ttlSeconds > MAX_TOKEN_TTL_S) throw new RangeError(`ttl must be at most ${MAX_TOKEN_TTL_S / 86400} days`);
    return this.tokens.create({ namespace, serviceAccount, ttlSeconds, trustDomain: this.authority.trustDomain, rootHash: this.authority.rootHash(), now: new Date() });
  }

  /** One step of a root rotation (see CaFiles.rotate); the serving certificate follows the signer. */
  rotate(phase: RotationPhase): void {
    this.authority.replace(this.files.rotate(phase, this.authority.trustDomain, new Date()));
    this.#credentials?.update(this.#secureContext());
    this.#opts.log.info(`ca: root rotation ${phase}: signing with ${this.authority.rootHash()}, trusting ${this.authority.material.trustedRootsDer.length} root(s)`);
  }

  metrics(): string {
    const c = this.authority.counters;
    const rows: [string, 'counter' | 'gauge', string, number][] = [
      ['citadel_server_csr_count', 'counter', 'Certificate signing requests received.', c.csr],
      ['citadel_server_success_cert_issuance_count', 'counter', 'Workload certificates issued.', c.issued],
      ['tsmesh_ca_refused_total', 'counter', 'Certificate signing requests refused (bad token, other identity, bad CSR).', c.refused],
      ['citadel_server_root_cert_expiry_timestamp', 'gauge', 'When the root certificate expires (Unix seconds).', Math.floor(this.authority.rootExpiry().getTime() / 1000)],
    ];
    return rows.map(([name, type, help, value]) => `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value}\n`).join('');
  }

  /** POST /ca/tokens, POST /ca/tokens/{jti}/revoke, POST /ca/rotate/{phase}, GET /ca/roots. */
  registerRoutes(api: ApiServer): void {
    api.route('POST', '/ca/tokens', async (req) => {
      let body: unknown;
      try { body = JSON.parse((await req.text()) || '{}'); } catch { throw new ApiError(400, 'body: expected JSON { namespace, serviceAccount, ttl }'); }
      const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
      const ns = b['namespace'], sa = b['serviceAccount'], ttl = b['ttl'] ?? '1h';
      if (typeof ns !== 'string' || typeof sa !== 'string') throw new ApiError(400, 'body: namespace and serviceAccount are required strings');
      const ms = typeof ttl === 'string' ? parseDurationMs(ttl) : undefined;
      if (ms === undefined || ms < 1000) throw new ApiError(400, `ttl: expected a duration such as 30m or 1h, got ${JSON.stringify(ttl)}`);
      try {
        const { token, claims } = this.createToken(ns, sa, Math.floor(ms / 1000));
        return { status: 201, json: { token, jti: claims.jti, identity: claims.sub, expiresAt: new Date(claims.exp * 1000).toISOString(), rootHash: claims.rootHash } };
      } catch (e) {
        if (e instanceof RangeError) throw new ApiError(400, e.message);
        throw e;
      }
    });
    api.route('POST', '/ca/tokens/{jti}/revoke', (req) => {
      try { this.tokens.revocations.revoke(req.params['jti']!); } catch (e) { if (e instanceof RangeError) throw new ApiError(400, e.message); throw e; }
      return { json: { revoked: req.params['jti'] } };
    });
    api.route('POST', '/ca/rotate/{phase}', (req) => {
      const phase = req.params['phase'];
      if (phase !== 'prepare' && phase !== 'commit' && phase !== 'finish') throw new ApiError(400, `phase: expected prepare, commit or finish, got ${JSON.stringify(phase)}`);
      try { this.rotate(phase); } catch (e) { throw new ApiError(409, (e as Error).message); }
      return { json: this.#roots() };
    });
    api.route('GET', '/ca/roots', () => ({ json: this.#roots() }));
  }

  #roots(): { rootHash: string; trustedRoots: string[] } {
    return { rootHash: this.authority.rootHash(), trustedRoots: this.authority.trustBundlePem() };
  }
}

export function defaultPolicy(defaultTtlSeconds?: number): CaPolicy {
  return defaultTtlSeconds === undefined ? DEFAULT_POLICY : { ...DEFAULT_POLICY, defaultTtlSeconds };
}
