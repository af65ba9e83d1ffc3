import net from 'node:net';
import type tls from 'node:tls';
import type { TlsContextSpec } from './context-config.js';
import { contextMaterial, nodeTls, secureContextOptions } from './node-tls.js';
import { parseSubjectAltName, sansMatch } from './san-match.js';
import type { SecretStore } from './secret-store.js';
import { countFailure, ERR_BAD_CONTEXT, ERR_NO_SECRET, ERR_SAN, TlsError, type SslStats } from './ssl-stats.js';

/**
 * How a cluster's connections are made: `connect` returns the socket and the event after which
 * it carries application bytes ('connect' for plaintext, 'secureConnect' once the TLS handshake
 * and peer verification passed). A failed handshake or verification destroys the socket with an
 * error before that event, so every pool sees it as a connect failure (Envoy's UF).
 */
export interface UpstreamTransport {
  readonly readyEvent: 'connect' | 'secureConnect';
  readonly tls: boolean;
  /** The ALPN protocols it offers by default. */
  readonly alpn: readonly string[];
  connect(address: string, port: number, alpn?: readonly string[]): net.Socket;
}

/** Plain TCP (raw_buffer). */
export const RAW_TRANSPORT: UpstreamTransport = {
  readyEvent: 'connect',
  tls: false,
  alpn: [],
  connect: (address, port) => net.connect({ host: address, port, noDelay: true }),
};

/**
 * An UpstreamTlsContext at run time in one thread: the TLS client context is built from the
 * secrets on first use and rebuilt when one changes, so rotation reaches new connections while
 * open ones keep theirs.
 */
export class UpstreamTlsTransport implements UpstreamTransport {
  readonly readyEvent = 'secureConnect';
  readonly tls = true;
  #ctx: { key: string; context: tls.SecureContext } | undefined;

  constructor(readonly spec: TlsContextSpec, readonly secrets: SecretStore, readonly stats: SslStats) {}

  /** A connection that fails at once, asynchronously as a refused connect would. */
  #failed(err: TlsError): net.Socket {
    const s = new net.Socket();
    queueMicrotask(() => { this.stats.connection_error.inc(); s.destroy(err); });
    return s;
  }

  get alpn(): readonly string[] {
    return this.spec.alpn;
  }

  /** Every secret it names is present (the cluster has warmed). */
  get ready(): boolean {
    return this.spec.secrets.every((r) => this.secrets.has(r.kind, r.name));
  }

  connect(address: string, port: number, alpn: readonly string[] = this.spec.alpn): net.Socket {
    const t = nodeTls();
    let ctx: tls.SecureContext;
    try {
      const m = contextMaterial(this.spec, this.secrets);
      if ('missing' in m) return this.#failed(new TlsError(ERR_NO_SECRET, `secret "${m.missing}" is not available yet`));
      if (this.#ctx?.key !== m.key || !this.#ctx) this.#ctx = { key: m.key, context: t.createSecureContext(secureContextOptions(this.spec, m)) };
      ctx = this.#ctx.context;
    } catch (e) {
      // Unusable material (bad PEM, a key that does not fit, an unreadable file).
      return this.#failed(new TlsError(ERR_BAD_CONTEXT, `cannot build the client TLS context: ${(e as Error).message}`));
    }
    const spec = this.spec;
    const verify = spec.trust !== undefined;
    const sni = spec.sni && net.isIP(spec.sni) === 0 ? spec.sni : undefined;
    // TLS over a TCP socket of our own: its noDelay is set before the first handshake flight
    // (else Nagle holds the small handshake records back against the peer's delayed ACK).
    const s = t.connect({
      socket: net.connect({ host: address, port, noDelay: true }),
      secureContext: ctx,
      ...(sni ? { servername: sni } : {}),
      ...(alpn.length ? { ALPNProtocols: [...alpn] } : {}),
      rejectUnauthorized: verify,
      // Envoy checks SANs against its matchers, never the host name; without matchers any SAN goes.
      checkServerIdentity: (_host, cert) => (sansMatch(spec.sanMatchers, parseSubjectAltName(cert.subjectaltname)) ? undefined : new TlsError(ERR_SAN, `upstream certificate SANs (${cert.subjectaltname ?? 'none'}) match none of match_subject_alt_names`)),
    });
    // Only failures between TCP connect and the end of verification are TLS's (not ECONNREFUSED).
    let phase: 'tcp' | 'handshake' | 'done' = 'tcp';
    s.once('connect', () => { phase = 'handshake'; });
    s.once('secureConnect', () => { phase = 'done'; this.stats.handshake.inc(); });
    s.on('error', (e: Error & { code?: string }) => { if (phase === 'handshake') countFailure(this.stats, e.code); });
    return s;
  }
}

/** Who is at each end of an upstream TLS connection, by the first URI SAN (SPIFFE ID) of each certificate. */
export interface UpstreamTlsPrincipals {
  /** The upstream's certificate's; undefined for plaintext or a certificate without one. */
  readonly peer: string | undefined;
  /** The one this proxy presented; undefined without a client certificate. */
  readonly local: string | undefined;
  /**
   * When the first of the two certificates expires (ms since the epoch; Infinity when neither
   * says). The pools take no new request on the connection from then on: what authenticated
   * it is no longer valid, and a renewed certificate reaches the peer only on a new handshake.
   */
  readonly notAfter: number;
}

const NO_PRINCIPALS: UpstreamTlsPrincipals = { peer: undefined, local: undefined, notAfter: Infinity };

/** A certificate's notAfter in ms, Infinity when absent or unreadable. */
function notAfterMs(c: { readonly validTo: string } | undefined): number {
  const t = c ? Date.parse(c.validTo) : NaN;
  return Number.isNaN(t) ? Infinity : t;
}

export function upstreamTlsPrincipals(socket: net.Socket): UpstreamTlsPrincipals {
  const t = socket as Partial<tls.TLSSocket>;
  if (typeof t.getPeerX509Certificate !== 'function' || typeof t.getX509Certificate !== 'function') return NO_PRINCIPALS;
  const peer = t.getPeerX509Certificate();
  const local = t.getX509Certificate();
  return {
    peer: parseSubjectAltName(peer?.subjectAltName).uri[0],
    local: parseSubjectAltName(local?.subjectAltName).uri[0],
    notAfter: Math.min(notAfterMs(peer), notAfterMs(local)),
  };
}
