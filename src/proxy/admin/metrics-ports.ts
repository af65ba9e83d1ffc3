import { log } from '../log.js';
import { MetricsServer, type MetricsPortsOptions } from './metrics-server.js';
import type { StatsStore } from './stats.js';

export type { MetricsPortsOptions };

/**
 * Binds the scrape ports. A taken default 15090 (several sidecars on one host without the
 * flag) is logged and skipped: the admin port still serves /stats/prometheus. Any other bind
 * failure throws, and the proxy does not start.
 */
export async function startMetricsPorts(o: MetricsPortsOptions, store: StatsStore): Promise<{ close(): Promise<void> }> {
  const servers: MetricsServer[] = [];
  const close = async (): Promise<void> => { await Promise.all(servers.map((s) => s.close())); };
  try {
    if (o.prometheusPort !== undefined) {
      const s = new MetricsServer(store);
      try {
        await s.listen(o.address, o.prometheusPort);
        servers.push(s);
        log.info(`prometheus stats on ${o.address}:${s.port}/stats/prometheus`);
      } catch (e) {
        if (o.prometheusRequired || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw new Error(`--prometheus-port ${o.prometheusPort}: ${(e as Error).message}`);
        log.warn(`prometheus port ${o.address}:${o.prometheusPort} is in use; /stats/prometheus stays on the admin port (set --prometheus-port)`);
      }
    }
    if (o.mergePort !== undefined) {
      const s = new MetricsServer(store, o.appMetricsUrl);
      try { await s.listen(o.address, o.mergePort); } catch (e) { throw new Error(`--merge-metrics-port ${o.mergePort}: ${(e as Error).message}`); }
      servers.push(s);
      log.info(`merged metrics on ${o.address}:${s.port}/stats/prometheus${o.appMetricsUrl ? ` (app: ${o.appMetricsUrl})` : ''}`);
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { close };
}
