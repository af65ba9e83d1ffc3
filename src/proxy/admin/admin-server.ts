import http from 'node:http';
import { certsJson } from '../tls/certs-info.js';
import type net from 'node:net';
import type { ProxySpec } from '../config.js';
import type { ProxyInstance } from '../instance.js';
import type { DynamicDumpSource } from '../config-dump.js';
import { LEVELS, level, setLevel } from '../log.js';
import type { StatsStore } from './stats.js';
import { renderText, renderJson, type StatsRenderOptions } from './render.js';
import { renderPrometheus } from './render-prometheus.js';
import { clustersJson, clustersText } from './clusters.js';

/**
 * Envoy's admin endpoint (https://www.envoyproxy.io/docs/envoy/latest/operations/admin): plain
 * node:http is fine here, it is not on the data path. Bind it to loopback.
 */
/** Envoy's default stats_flush_interval: how often histogram interval quantiles roll over. */
const STATS_FLUSH_INTERVAL_MS = 5000;

export class AdminServer {
  readonly #server: http.Server;
  /** Envoy's server state, as /ready and /server_info report it. */
  #state: 'PRE_INITIALIZING' | 'LIVE' | 'DRAINING' = 'PRE_INITIALIZING';
  #flushTimer: NodeJS.Timeout | undefined;
  /** The xDS state, for /config_dump's dynamic sections (set when the bootstrap has dynamic_resources). */
  dynamic: DynamicDumpSource | undefined;

  constructor(
    readonly spec: ProxySpec,
    readonly store: StatsStore,
    readonly instance: ProxyInstance,
    readonly loadedAtMs: number,
    readonly quit: () => void,
    readonly drainListeners: () => void,
  ) {
    this.#server = http.createServer((req, res) => {
      try {
        this.#handle(req, res);
      } catch (e) {
        send(res, 500, `${(e as Error).message}\n`);
      }
    });
  }

  get address(): string {
    const a = this.#server.address() as net.AddressInfo | null;
    return a ? `${a.address}:${a.port}` : '';
  }

  setReady(r: boolean): void {
    if (this.#state !== 'DRAINING') this.#state = r ? 'LIVE' : 'PRE_INITIALIZING';
  }

  setState(s: 'DRAINING'): void {
    this.#state = s;
  }

  listen(address: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, address, () => {
        this.#server.off('error', reject);
        this.#flushTimer ??= setInterval(() => this.store.flushInterval(), STATS_FLUSH_INTERVAL_MS).unref();
        resolve();
      });
    });
  }

  close(): Promise<void> {
    clearInterval(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#server.closeAllConnections();
    return new Promise((r) => this.#server.close(() => r()));
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://admin');
    const q = url.searchParams;
    switch (url.pathname) {
      case '/ready':
        return send(res, this.#state === 'LIVE' ? 200 : 503, `${this.#state}\n`);
      case '/server_info':
        return sendJson(res, { state: this.#state, version: 'tsmesh/0.1.0', node: { id: this.spec.nodeId, cluster: this.spec.nodeCluster }, uptime_current_epoch: `${Math.round((Date.now() - this.loadedAtMs) / 1000)}s` });
      case '/config_dump':
        // Loaded on first use: the admin types' descriptors are not worth keeping in every idle proxy.
        return void import('../config-dump.js').then(
          ({ configDump }) => sendJson(res, configDump(this.spec, this.loadedAtMs, this.dynamic, { store: this.instance.secrets, referenced: this.instance.tlsContexts().flatMap((c) => c.secrets) })),
          (e: Error) => send(res, 500, `${e.message}\n`));
      case '/certs':
        return sendJson(res, certsJson(this.instance.tlsContexts(), this.instance.secrets, Date.now()));
      case '/stats': {
        const opts = statsOptions(q);
        if (!opts) return send(res, 400, 'invalid filter regex\n');
        if (q.get('format') === 'json') return send(res, 200, renderJson(this.store, opts) + '\n', 'application/json');
        if (q.get('format') === 'prometheus') return send(res, 200, renderPrometheus(this.store, opts), 'text/plain; version=0.0.4');
        return send(res, 200, renderText(this.store, opts));
      }
      case '/stats/prometheus': {
        const opts = statsOptions(q);
        if (!opts) return send(res, 400, 'invalid filter regex\n');
        return send(res, 200, renderPrometheus(this.store, opts), 'text/plain; version=0.0.4');
      }
      case '/clusters':
        return q.get('format') === 'json' ? sendJson(res, clustersJson(this.instance.clusters.all())) : send(res, 200, clustersText(this.instance.clusters.all()));
      case '/listeners':
        return send(res, 200, this.instance.listeners.map((l) => `${l.spec.name}::${l.spec.address}:${l.spec.port}\n`).join(''));
      case '/logging': {
        if (req.method === 'POST' && q.has('level')) {
          if (!setLevel(q.get('level')!)) return send(res, 400, `unknown level; one of ${LEVELS.join(', ')}\n`);
        }
        return send(res, 200, `active loggers:\n  tsmesh: ${level()}\n`);
      }
      case '/drain_listeners':
        if (req.method !== 'POST') return send(res, 405, 'use POST\n');
        this.drainListeners();
        return send(res, 200, 'OK\n');
      case '/quitquitquit':
        if (req.method !== 'POST') return send(res, 405, 'use POST\n');
        send(res, 200, 'OK\n');
        setImmediate(this.quit);
        return;
      case '/':
      case '/help':
        return send(res, 200, 'admin commands are:\n  /ready\n  /server_info\n  /config_dump\n  /certs\n  /stats\n  /stats/prometheus\n  /clusters\n  /listeners\n  /logging\n  /drain_listeners\n  /quitquitquit\n');
      default:
        return send(res, 404, 'invalid path. admin commands are listed at /help\n');
    }
  }
}

/** `filter=` and `usedonly` of /stats; undefined when the filter is not a valid regex. */
function statsOptions(q: URLSearchParams): StatsRenderOptions | undefined {
  let filter: RegExp | undefined;
  try { filter = q.has('filter') ? new RegExp(q.get('filter')!) : undefined; } catch { return undefined; }
  return { filter, usedOnly: q.has('usedonly') };
}

function send(res: http.ServerResponse, status: number, body: string, type = 'text/plain; charset=UTF-8'): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-cache, max-age=0' });
  res.end(body);
}

function sendJson(res: http.ServerResponse, v: unknown): void {
  send(res, 200, JSON.stringify(v, null, 2) + '\n', 'application/json');
}
