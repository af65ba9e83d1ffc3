import net from 'node:net';
import type { ListenerSpec, FilterChainSpec } from './compile.js';
import { selectFilterChain, type ConnectionFacts } from './filter-chain-match.js';
import { parseClientHello } from './client-hello.js';
import { nextConnectionId, type ConnectionInfo } from '../http/conn-manager/connection-info.js';
import { statSet, type StatScope } from '../stats-scope.js';
import { HANDLE_TAKEN, type MaybeTaken, type NetworkFilter } from './network-filters.js';
import { DRAIN_EVENT } from './drain.js';
import { originalDestination, unmapped, type SocketAddress } from './original-dst.js';

export type { NetworkFilter };

const listenerStats = (s: StatScope) =>
  statSet(s, ['downstream_cx_total', 'no_filter_chain_match', 'downstream_listener_filter_error'], ['downstream_cx_active']);

/** A listening socket and its filter chains, in one worker. */
export class ActiveListener {
  readonly server: net.Server;
  readonly #stats: ReturnType<typeof listenerStats>;
  #spec: ListenerSpec;
  #filters: NetworkFilter[];
  #default: NetworkFilter | undefined;
  #matches;
  readonly #sockets = new Set<net.Socket>();
  /** The socket was created for a TLS inspector (an update may since have removed it). */
  readonly #pauseOnConnect: boolean;

  constructor(spec: ListenerSpec, scope: StatScope, filterFor: (chain: FilterChainSpec) => NetworkFilter) {
    this.#stats = listenerStats(scope);
    this.#spec = spec;
    this.#filters = spec.chains.map(filterFor);
    this.#default = spec.defaultChain ? filterFor(spec.defaultChain) : undefined;
    this.#matches = spec.chains.map((c) => c.match);
    this.#pauseOnConnect = spec.tlsInspector;
    this.server = net.createServer({ noDelay: true, pauseOnConnect: spec.tlsInspector }, this.#onConnection);
  }

  /**
   * For a `use_original_dst` listener: the listener that serves a connection sent to `dst`, if
   * any (set by whoever knows all listeners of this worker).
   */
  handoff: ((dst: SocketAddress) => ActiveListener | undefined) | undefined;

  get spec(): ListenerSpec {
    return this.#spec;
  }

  /**
   * A listener update (LDS): new connections get `spec`'s filter chains; connections already
   * open stay on the chains they were given and are asked to drain (Envoy's listener update).
   * The socket stays the same: an update may not change the address.
   */
  update(spec: ListenerSpec, filterFor: (chain: FilterChainSpec) => NetworkFilter): void {
    const open = [...this.#sockets];
    this.#spec = spec;
    this.#filters = spec.chains.map(filterFor);
    this.#default = spec.defaultChain ? filterFor(spec.defaultChain) : undefined;
    this.#matches = spec.chains.map((c) => c.match);
    for (const s of open) s.emit(DRAIN_EVENT);
  }

  /** Listens on an fd of our own (SO_REUSEPORT, many workers) or binds itself (one worker). */
  listen(fd: number | undefined): Promise<number> {
    if (!this.spec.bindToPort) return Promise.resolve(this.spec.port);
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      const done = (): void => {
        this.server.off('error', reject);
        resolve((this.server.address() as net.AddressInfo).port);
      };
      if (fd !== undefined) this.server.listen({ fd }, done);
      else this.server.listen({ host: this.spec.address, port: this.spec.port, backlog: 511 }, done);
    });
  }

  /** Stops accepting; open connections are left to finish (or be closed by the caller). */
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /**
   * Stops accepting and asks every open connection to finish and close; resolves when the
   * last one has closed (the caller bounds the wait with its drain time).
   */
  async drain(): Promise<void> {
    const closed = this.server.listening ? this.close() : Promise.resolve();
    for (const s of this.#sockets) s.emit(DRAIN_EVENT);
    await closed;
    while (this.#sockets.size > 0) {
      const [first] = this.#sockets;
      await new Promise<void>((r) => first!.once('close', () => r()));
    }
  }

  destroyConnections(): void {
    for (const s of this.#sockets) s.destroy();
  }

  #onConnection = (socket: net.Socket): void => {
    const dst = this.spec.originalDst ? originalDestination(socket) : undefined;
    if (dst && this.spec.useOriginalDst) {
      const target = this.handoff?.(dst);
      if (target && target !== this) {
        // Paused here for a TLS inspector of ours: the target reads on its own terms.
        target.accept(socket, dst);
        if (this.spec.tlsInspector && !target.spec.tlsInspector && !(socket as MaybeTaken)[HANDLE_TAKEN]) socket.resume();
        return;
      }
    }
    this.accept(socket, dst);
  };

  /**
   * Serves a connection on this listener's filter chains; `dst` is its original destination when
   * it differs from the socket's local address (a redirected or handed-off connection).
   */
  accept(socket: net.Socket, dst: SocketAddress | undefined): void {
    const stats = this.#stats;
    stats.downstream_cx_total.inc();
    stats.downstream_cx_active.inc();
    socket.setNoDelay(true);
    this.#sockets.add(socket);
    socket.once('close', () => { stats.downstream_cx_active.dec(); this.#sockets.delete(socket); });
    socket.on('error', () => { /* close follows */ });
    const info: ConnectionInfo = {
      id: nextConnectionId(),
      remoteAddress: unmapped(socket.remoteAddress ?? ''),
      remotePort: socket.remotePort ?? 0,
      localAddress: dst?.address ?? unmapped(socket.localAddress ?? ''),
      localPort: dst?.port ?? socket.localPort ?? 0,
      ...(dst && (dst.address !== unmapped(socket.localAddress ?? '') || dst.port !== socket.localPort) ? { originalDst: dst } : {}),
    };
    const spec = this.#spec;
    if (!spec.tlsInspector) { this.#dispatch(socket, info, 'raw_buffer', '', [], undefined); if (this.#pauseOnConnect && !(socket as MaybeTaken)[HANDLE_TAKEN]) socket.resume(); return; }
    // TLS inspector: read the ClientHello (or enough to know it is not TLS) before choosing.
    let seen: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.off('data', onData);
      if (spec.continueOnListenerFiltersTimeout) this.#dispatch(socket, info, 'raw_buffer', '', [], seen);
      else { stats.downstream_listener_filter_error.inc(); socket.destroy(); }
    }, spec.listenerFiltersTimeoutMs);
    const onData = (d: Buffer): void => {
      seen = seen.length ? Buffer.concat([seen, d]) : d;
      const r = parseClientHello(seen);
      if (r.kind === 'need-more') return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.pause();
      if (r.kind === 'tls') this.#dispatch(socket, { ...info, serverName: r.serverName }, 'tls', r.serverName, r.alpn, seen);
      else this.#dispatch(socket, info, 'raw_buffer', '', [], seen);
      if (!(socket as MaybeTaken)[HANDLE_TAKEN]) socket.resume();
    };
    socket.on('data', onData);
    socket.once('close', () => clearTimeout(timer));
    socket.resume();
  }

  #dispatch(socket: net.Socket, info: ConnectionInfo, transport: string, sni: string, alpn: readonly string[], initial: Buffer | undefined): void {
    const facts: ConnectionFacts = {
      destinationPort: info.localPort,
      destinationIp: info.localAddress,
      sourceIp: info.remoteAddress,
      sourcePort: info.remotePort,
      transportProtocol: transport,
      serverName: sni,
      applicationProtocols: alpn,
    };
    const i = selectFilterChain(this.#matches, facts);
    const filter = i >= 0 ? this.#filters[i] : this.#default;
    if (!filter) {
      this.#stats.no_filter_chain_match.inc();
      socket.destroy();
      return;
    }
    filter.onConnection(socket, info, initial);
  }
}
