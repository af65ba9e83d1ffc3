import type net from 'node:net';
import type tls from 'node:tls';
import type { TlsContextSpec } from './context-config.js';
import { contextMaterial, localUriSans, nodeTls, secureContextOptions } from './node-tls.js';
import { parseSubjectAltName, sansMatch } from './san-match.js';
import type { SecretStore } from './secret-store.js';
import { countFailure, ERR_NO_CERT, ERR_SAN, type SslStats } from './ssl-stats.js';
import { rfc2253Subject } from './subject.js';
import { log } from '../log.js';

/** What a downstream TLS connection tells the filters (ConnectionInfo.tls, contract 2). */
export interface TlsConnectionInfo {
  readonly peerUriSans: readonly string[];
  readonly peerDnsSans: readonly string[];
  /** RFC 2253 form, most specific first (`CN=a,O=b`), as Envoy prints it; '' without a certificate. */
  readonly peerSubject: string;
  readonly peerCertificateDer?: Uint8Array;
  /** DER of the certificates the peer sent after its own (XFCC `Chain`). */
  readonly peerChainDer?: readonly Uint8Array[];
  /** URI SANs of the certificate this proxy presented (XFCC `By`). */
  readonly localUriSans?: readonly string[];
  readonly alpn?: string;
  readonly version: string;
}

const ON_SECURE = Symbol('tsmesh.onSecure');
type Pending = { [ON_SECURE]?: (s: tls.TLSSocket) => void };

/**
 * A filter chain's DownstreamTlsContext at run time in one thread: a node:tls server that
 * never listens; accepted sockets are handed to it once the chain is chosen. Its context is
 * rebuilt when a secret it uses changes (new handshakes only). Peer verification is done here,
 * after the handshake, so that each failure is counted as Envoy counts it.
 */
export class DownstreamTlsTerminator {
  #server: tls.Server | undefined;
  #key = '';
  #localUriSans: string[] = [];

  constructor(readonly spec: TlsContextSpec, readonly secrets: SecretStore, readonly stats: SslStats) {}

  /** Every secret it names is present. */
  get ready(): boolean {
    return this.spec.secrets.every((r) => this.secrets.has(r.kind, r.name));
  }

  /**
   * Runs the TLS handshake on `raw` (whose first bytes, already read by the TLS inspector, are
   * `initial`) and calls `onReady` with the decrypted socket once the peer is verified; a
   * connection that fails is closed.
   */
  accept(raw: net.Socket, initial: Buffer | undefined, onReady: (s: tls.TLSSocket, info: TlsConnectionInfo) => void): void {
    let server: tls.Server | undefined;
    try {
      server = this.#current();
    } catch (e) {
      // Unusable material (a bad PEM, a key that does not fit, an unreadable file): refuse the
      // connection, say why once per version, keep serving everything else.
      this.#reportBad(e);
    }
    if (!server) { this.stats.connection_error.inc(); raw.destroy(); return; }
    const spec = this.spec;
    (raw as Pending)[ON_SECURE] = (s) => {
      const x509 = s.getPeerX509Certificate();
      const sans = parseSubjectAltName(x509?.subjectAltName);
      let code: string | undefined;
      if (spec.trust) {
        if (!x509) code = spec.requireClientCertificate ? ERR_NO_CERT : undefined;
        else if (!s.authorized) code = String(s.authorizationError);
        else if (!sansMatch(spec.sanMatchers, sans)) code = ERR_SAN;
      }
      if (code) { countFailure(this.stats, code); s.destroy(); return; }
      if (!x509) this.stats.no_certificate.inc();
      this.stats.handshake.inc();
      const info: TlsConnectionInfo = {
        peerUriSans: sans.uri,
        peerDnsSans: sans.dns,
        peerSubject: x509 ? rfc2253Subject(x509.subject) : '',
        ...(x509 ? { peerCertificateDer: x509.raw } : {}),
        localUriSans: this.#localUriSans,
        ...(typeof s.alpnProtocol === 'string' ? { alpn: s.alpnProtocol } : {}),
        version: s.getProtocol() ?? '',
      };
      // The chain is only for XFCC's Chain=: read on demand (Node parses the whole chain for it).
      if (x509) Object.defineProperty(info, 'peerChainDer', { enumerable: true, get: () => peerChain(s) });
      onReady(s, info);
    };
    if (initial?.length) raw.unshift(initial);
    server.emit('connection', raw);
  }

  #reported = '';

  #reportBad(e: unknown): void {
    const msg = e instanceof Error ? e.message : String(e);
    if (msg !== this.#reported) log.error(`tls: cannot build the server TLS context: ${msg}`);
    this.#reported = msg;
  }

  #current(): tls.Server | undefined {
    const m = contextMaterial(this.spec, this.secrets);
    if ('missing' in m) return undefined;
    const opts = secureContextOptions(this.spec, m);
    if (this.#server && this.#key === m.key) return this.#server;
    this.#key = m.key;
    this.#localUriSans = localUriSans(m.certPem);
    if (this.#server) { this.#server.setSecureContext(opts); return this.#server; }
    const alpn = this.spec.alpn;
    const server = nodeTls().createServer({
      ...opts,
      requestCert: this.spec.trust !== undefined,
      rejectUnauthorized: false,
      // BoringSSL (Envoy) completes a handshake whose ALPN lists do not overlap, negotiating
      // none; OpenSSL through Node would abort it. The callback must name one the client
      // offered: ours by our preference, else the client's first.
      ...(alpn.length ? { ALPNCallback: ({ protocols }: { protocols: string[] }) => alpn.find((p) => protocols.includes(p)) ?? protocols[0] } : {}),
    });
    server.on('secureConnection', (s: tls.TLSSocket) => {
      const parent = (s as unknown as { _parent?: Pending })._parent;
      const cb = parent?.[ON_SECURE];
      if (parent) delete parent[ON_SECURE];
      if (cb) cb(s); else s.destroy();
    });
    server.on('tlsClientError', (e: Error & { code?: string }, s: tls.TLSSocket) => {
      countFailure(this.stats, e.code);
      s.destroy();
    });
    return (this.#server = server);
  }
}

/** DER of the certificates the peer sent after its own, in order. */
function peerChain(s: tls.TLSSocket): Uint8Array[] {
  const chain: Uint8Array[] = [];
  let c = s.getPeerCertificate(true) as tls.DetailedPeerCertificate | undefined;
  const seen = new Set<tls.DetailedPeerCertificate>();
  while (c?.issuerCertificate && c.issuerCertificate !== c && !seen.has(c.issuerCertificate)) {
    seen.add(c);
    c = c.issuerCertificate;
    if (c.raw) chain.push(c.raw);
  }
  return chain;
}
