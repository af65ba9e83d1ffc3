import type { HeaderMap } from '../../headers.js';
import type { UpstreamTlsPrincipals } from '../../../tls/upstream-transport.js';
import type { RequestHeaders } from '../../stream.js';
import { grpcStatusOf } from '../../grpc.js';
import type { FilterHeadersStatus, FilterRuntimeContext, HttpFilterCallbacks, HttpFilterFactory, HttpStreamFilter } from '../types.js';
import { reporterFor, type StatsPluginConfig } from '../../../istio-stats/plugin-config.js';
import { hostOfAuthority, serviceOfCluster, type Reporter, type SecurityPolicy } from '../../../istio-stats/labels.js';
import { PEER_METADATA_HEADER, PEER_METADATA_ID_HEADER, PeerCache, UNKNOWN, UNKNOWN_PEER, type PeerNode } from '../../../istio-stats/peer.js';
import { EdgeTable } from '../../../istio-stats/series.js';
import { localNodeOf, type LocalNode } from '../../../istio-stats/local-node.js';

/** What the edge key is made of (the stream's view of the upstream connection's principals). */
type EdgePrincipals = Pick<UpstreamTlsPrincipals, 'peer' | 'local'>;

/** Per filter config and thread: what every stream of it shares (the edge and peer tables). */
export class IstioStatsFilterFactory implements HttpFilterFactory {
  readonly reporter: Reporter;
  readonly local: LocalNode;
  readonly edges: EdgeTable;
  readonly peers = new PeerCache();

  constructor(readonly name: string, readonly cfg: StatsPluginConfig, ctx: FilterRuntimeContext) {
    this.reporter = reporterFor(cfg.reporter, ctx.direction ?? 'UNSPECIFIED');
    this.local = ctx.node ?? localNodeOf(undefined);
    this.edges = new EdgeTable(ctx.scopes.named);
  }

  create(cb: HttpFilterCallbacks): HttpStreamFilter {
    return new IstioStatsStream(this, cb);
  }

  #lastCluster = '';
  #lastService: string | undefined;

  /** serviceOfCluster, the last answer kept (a route sends to one cluster). */
  serviceOf(cluster: string): string | undefined {
    if (cluster !== this.#lastCluster) {
      this.#lastService = serviceOfCluster(cluster);
      this.#lastCluster = cluster;
    }
    return this.#lastService;
  }

  #lastAuthority = '';
  #lastHost = UNKNOWN;

  /** The host of an authority, or unknown; the last answer is kept (clients repeat one authority). */
  hostOf(authority: string): string {
    if (authority !== this.#lastAuthority) {
      this.#lastHost = hostOfAuthority(authority) || UNKNOWN;
      this.#lastAuthority = authority;
    }
    return this.#lastHost;
  }

  #lastUpstream: EdgePrincipals | undefined;
  #lastUpstreamKey = UNKNOWN;

  /**
   * The edge key of a client-side request: the server's principal, and ours after it when the
   * connection has one. Principals are read once per upstream connection, so the key is kept
   * for the last one instead of being built per request.
   */
  upstreamEdgeKey(up: EdgePrincipals): string {
    if (up !== this.#lastUpstream) {
      const peer = up.peer ?? UNKNOWN;
      this.#lastUpstreamKey = up.local === undefined ? peer : `${peer} ${up.local}`;
      this.#lastUpstream = up;
    }
    return this.#lastUpstreamKey;
  }
}

/**
 * One request: the metadata exchange on its headers (server side: take the client's from the
 * request, answer with ours; client side: send ours, take the server's from the response; the
 * app never sees either) and, when the stream is done, one count into its series.
 */
class IstioStatsStream implements HttpStreamFilter {
  readonly #f: IstioStatsFilterFactory;
  readonly #cb: HttpFilterCallbacks;
  #peer: PeerNode = UNKNOWN_PEER;
  #authority = '';
  #exchanged = false;

  constructor(f: IstioStatsFilterFactory, cb: HttpFilterCallbacks) {
    this.#f = f;
    this.#cb = cb;
  }

  decodeHeaders(req: RequestHeaders): FilterHeadersStatus {
    const f = this.#f;
    const h = req.headers;
    this.#authority = req.authority;
    if (f.reporter === 'destination') {
      const v = h.get(PEER_METADATA_HEADER);
      if (v !== undefined) {
        this.#peer = f.peers.get(v);
        // Junk that decodes to nobody is not a mesh peer: it gets nothing back.
        this.#exchanged = this.#peer !== UNKNOWN_PEER;
        h.remove(PEER_METADATA_HEADER);
      }
      h.remove(PEER_METADATA_ID_HEADER);
    } else {
      h.set(PEER_METADATA_HEADER, f.local.exchangeValue);
      h.set(PEER_METADATA_ID_HEADER, f.local.id);
    }
    return 'continue';
  }

  encodeHeaders(_status: number, headers: HeaderMap): void {
    const f = this.#f;
    if (f.reporter === 'destination') {
      // Only a peer that sent its metadata gets ours: a client outside the mesh learns nothing.
      if (this.#exchanged) {
        headers.set(PEER_METADATA_HEADER, f.local.exchangeValue);
        headers.set(PEER_METADATA_ID_HEADER, f.local.id);
      }
      return;
    }
    const v = headers.get(PEER_METADATA_HEADER);
    if (v !== undefined) {
      this.#peer = f.peers.get(v);
      headers.remove(PEER_METADATA_HEADER);
    }
    headers.remove(PEER_METADATA_ID_HEADER);
  }

  onDestroy(): void {
    const f = this.#f;
    const s = this.#cb.stream;
    const peer = this.#peer;
    let service: string;
    let principal = UNKNOWN;
    let localPrincipal = UNKNOWN;
    let key: string;
    let policy: SecurityPolicy;
    if (f.reporter === 'destination') {
      service = f.cfg.disableHostHeaderFallback ? UNKNOWN : f.hostOf(this.#authority);
      const tls = this.#cb.conn.tls;
      const p = tls?.peerUriSans[0];
      if (p !== undefined) principal = p;
      policy = p !== undefined ? 'mutual_tls' : 'none';
      key = principal;
    } else {
      const c = s.upstreamCluster;
      service = (c && f.serviceOf(c.name)) ?? (f.cfg.disableHostHeaderFallback ? UNKNOWN : f.hostOf(this.#authority));
      // Istio's client side: the principals of the upstream TLS connection's certificates.
      const up = s.upstreamTlsPrincipals;
      if (up?.peer !== undefined) principal = up.peer;
      if (up?.local !== undefined) localPrincipal = up.local;
      key = up !== undefined ? f.upstreamEdgeKey(up) : principal;
      policy = 'unknown';
    }
    const edges = f.edges;
    const edge = edges.find(peer, service, key) ?? edges.add(peer, service, key, f.reporter === 'destination'
      ? { reporter: 'destination', source: peer, destination: f.local.peer, sourcePrincipal: principal, destinationPrincipal: policy === 'mutual_tls' ? f.local.peer.principal : UNKNOWN, destinationService: service, securityPolicy: policy }
      : { reporter: 'source', source: f.local.peer, destination: peer, sourcePrincipal: localPrincipal, destinationPrincipal: principal, destinationService: service, securityPolicy: policy });
    let grpc: number | undefined;
    if (s.isGrpc) {
      const t = s.responseTrailers;
      const h = s.responseHeaders;
      grpc = (t && grpcStatusOf(t)) ?? (h && grpcStatusOf(h));
    }
    const series = edge.http(s.isGrpc ? 'grpc' : 'http', s.status, grpc, s.flags, policy);
    series.requests.inc();
    series.duration.record(s.elapsedMs());
    series.requestBytes.record(s.bytesReceived);
    series.responseBytes.record(s.bytesSent);
  }
}
