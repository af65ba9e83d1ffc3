import { one, int, UsageError, type ParsedArgs } from './args.js';
import type { MetricsPortsOptions } from '../proxy/admin/metrics-server.js';

/** The `tsmesh proxy` flags of the scrape ports (Istio's 15090 and 15020). */
export const METRICS_VALUE_FLAGS = ['prometheus-port', 'merge-metrics-port', 'app-metrics'] as const;

export const METRICS_USAGE = `      Metrics: --prometheus-port P (sidecars: 15090 by default; 0 = none) serves /stats/prometheus;
      --merge-metrics-port P (15020 with --app-metrics) serves it merged with --app-metrics URL
      (the app's own, e.g. http://127.0.0.1:9102/metrics).`;

/** Istio's ports. */
export const PROMETHEUS_PORT = 15090;
export const MERGE_METRICS_PORT = 15020;

/**
 * Reads the metrics flags. A sidecar (`sidecar` true) gets 15090 unless told otherwise, and
 * starts anyway when that default port is taken; a port given explicitly must bind. Undefined
 * when there is nothing to serve.
 */
export function metricsOptionsFrom(a: ParsedArgs, sidecar: { ip: string } | undefined): MetricsPortsOptions | undefined {
  const explicit = a.flags.has('prometheus-port');
  const prometheusPort = int(a, 'prometheus-port', sidecar ? PROMETHEUS_PORT : 0, 0, 65535);
  const appMetricsUrl = one(a, 'app-metrics');
  if (appMetricsUrl !== undefined) {
    let u: URL | undefined;
    try { u = new URL(appMetricsUrl); } catch { /* below */ }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) throw new UsageError(`--app-metrics: expected an http:// URL, got ${JSON.stringify(appMetricsUrl)}`);
  }
  const mergePort = int(a, 'merge-metrics-port', appMetricsUrl !== undefined ? MERGE_METRICS_PORT : 0, 0, 65535);
  if (prometheusPort !== 0 && prometheusPort === mergePort) throw new UsageError(`--merge-metrics-port ${mergePort}: the same port as --prometheus-port`);
  if (prometheusPort === 0 && mergePort === 0) return undefined;
  return {
    address: sidecar?.ip ?? '127.0.0.1',
    ...(prometheusPort !== 0 ? { prometheusPort } : {}),
    prometheusRequired: explicit,
    ...(mergePort !== 0 ? { mergePort } : {}),
    ...(appMetricsUrl !== undefined ? { appMetricsUrl } : {}),
  };
}
