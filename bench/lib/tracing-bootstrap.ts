/**
 * The proxy bootstrap of bench:tracing (bench/telemetry-tracing.ts), shared with the profile
 * script (bench/telemetry-profile.ts) so that both measure the same configuration.
 */
import { ISTIO_TEXT_FORMAT } from '../../src/control/translate/access-log-formats.js';
import { ISTIO_STATS_HTTP_FILTER } from './telemetry-configs.js';
import { benchHcmYaml, benchStaticClusterYaml } from './configs.js';

/** undefined: all of telemetry on the `on` listener; 'tracing', 'log' or 'metrics' (istio.stats): only that part. */
export type TelemetryPart = 'tracing' | 'log' | 'metrics' | undefined;

/**
 * Two listeners, one route each to the same upstream; `on` is a sidecar's full telemetry: Istio's
 * standard metrics (istio.stats), 1% tracing (or `samplingPercent`) and an access log (--only:
 * just one of the three).
 */
export function tracingBenchBootstrap(p: { off: number; on: number; admin: number; upstream: number; collector: number }, logFile: string, only: TelemetryPart, samplingPercent = 1): string {
  const hcm = (prefix: string, extra: string, stats = false): string =>
    benchHcmYaml({ statPrefix: prefix, hcmExtra: extra, cluster: 'upstream', httpFilters: stats ? ISTIO_STATS_HTTP_FILTER : '' });
  return `node: { id: bench~127.0.0.1~bench.default~default.svc.cluster.local, cluster: bench.default, metadata: { NAMESPACE: default, LABELS: { app: bench } } }
admin: { address: { socket_address: { address: 127.0.0.1, port_value: ${p.admin} } } }
static_resources:
  listeners:
  - name: off
    traffic_direction: INBOUND
    address: { socket_address: { address: 127.0.0.1, port_value: ${p.off} } }
    filter_chains:
    - filters:${hcm('off', '')}
  - name: on
    traffic_direction: INBOUND
    address: { socket_address: { address: 127.0.0.1, port_value: ${p.on} } }
    filter_chains:
    - filters:${hcm('on', `${only === 'log' || only === 'metrics' ? '' : `
          tracing:
            random_sampling: { value: ${samplingPercent} }
            provider:
              name: envoy.tracers.opentelemetry
              typed_config:
                "@type": type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig
                http_service: { http_uri: { uri: "http://collector/v1/traces", cluster: collector, timeout: 2s } }`}${only === 'tracing' || only === 'metrics' ? '' : `
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: ${logFile}
              log_format: { text_format_source: { inline_string: ${JSON.stringify(ISTIO_TEXT_FORMAT)} } }`}`, only === undefined || only === 'metrics')}
  clusters:${benchStaticClusterYaml('upstream', p.upstream)}${benchStaticClusterYaml('collector', p.collector)}
`;
}
