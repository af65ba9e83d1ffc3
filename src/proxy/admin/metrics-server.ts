import http from 'node:http';
import type net from 'node:net';
import type { StatsStore } from './stats.js';
import { renderPrometheus } from './render-prometheus.js';

/** The sidecar's scrape ports (Istio's 15090 and 15020), as `tsmesh proxy` flags set them. */
export interface MetricsPortsOptions {
  /** Address both bind to (the workload's IP: a Prometheus elsewhere scrapes it). */
  readonly address: string;
  /** Envoy's `prometheus_stats` listener: /stats/prometheus only. */
  readonly prometheusPort?: number;
  /** When false (the sidecar's default 15090), a port in use is a warning, not a start-up failure. */
  readonly prometheusRequired: boolean;
  /** pilot-agent's merged /stats/prometheus: the proxy's and the app's metrics in one page. */
  readonly mergePort?: number;
  /** The app's own metrics (from prometheus.io/port and /path), e.g. http://127.0.0.1:9090/metrics. */
  readonly appMetricsUrl?: string;
}

const PROM_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
/** How long the merged page waits for the app (Istio's agent uses its scrape timeout the same way). */
const APP_TIMEOUT_MS = 5000;

/**
 * One scrape port: GET /stats/prometheus answers the proxy's stats, merged after the app's
 * own when `appMetricsUrl` is set. An app that does not answer (or answers an error) leaves the
 * proxy's metrics alone on the page, as Istio's merge does: a scrape never fails for it. Other
 * paths are 404; nothing here can change the proxy.
 */
export class MetricsServer {
  readonly #server: http.Server;

  constructor(readonly store: StatsStore, readonly appMetricsUrl?: string) {
    this.#server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/stats/prometheus' || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('only GET /stats/prometheus is served here\n');
        return;
      }
      void this.#page().then((body) => {
        res.writeHead(200, { 'content-type': PROM_TYPE, 'cache-control': 'no-cache, max-age=0' });
        res.end(body);
      }, (e: Error) => { res.writeHead(500); res.end(`${e.message}\n`); });
    });
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo | null)?.port ?? 0;
  }

  listen(address: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, address, () => { this.#server.off('error', reject); resolve(); });
    });
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((r) => this.#server.close(() => r()));
  }

  async #page(): Promise<string> {
    const own = renderPrometheus(this.store);
    if (!this.appMetricsUrl) return own;
    const app = await fetchAppMetrics(this.appMetricsUrl);
    return app === undefined ? own : `${app}${app.endsWith('\n') ? '' : '\n'}${own}`;
  }
}

/** The app's metrics page, or undefined when it cannot be had in time. */
async function fetchAppMetrics(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(APP_TIMEOUT_MS), headers: { accept: 'text/plain;version=0.0.4' } });
    if (!res.ok) return undefined;
    return await res.text();
  } catch {
    return undefined;
  }
}
