/**
 * The telemetry configurations bench/telemetry.ts compares on the sidecar path, each applied to
 * both sidecars' connection managers (client outbound, server inbound). Add an entry to
 * measure another combination (tracing, access logs); "off" is the baseline the others are
 * compared with. YAML snippets are indented as the bench places them: `httpFilters` as entries
 * of http_filters before the router (10 spaces), `hcm` as fields of the HttpConnectionManager
 * (10 spaces).
 */
import type { JsonValue } from '@bufbuild/protobuf';

export interface TelemetryConfig {
  readonly name: string;
  readonly description: string;
  readonly httpFilters: string;
  readonly hcm: string;
}

export const ISTIO_STATS_HTTP_FILTER = `
          - name: istio.stats
            typed_config:
              "@type": type.googleapis.com/xds.type.v3.TypedStruct
              type_url: type.googleapis.com/stats.PluginConfig
              value: {}`;

export const TELEMETRY_CONFIGS: readonly TelemetryConfig[] = [
  { name: 'off', description: 'no telemetry filter', httpFilters: '', hcm: '' },
  { name: 'metrics', description: 'istio.stats (Istio standard metrics, peer metadata exchange) on both sidecars', httpFilters: ISTIO_STATS_HTTP_FILTER, hcm: '' },
];

/** The same filters as http_filters entries in proto3 JSON, by configuration, for the in-process loop. */
export const HTTP_FILTER_JSON: Readonly<Record<string, readonly JsonValue[]>> = {
  off: [],
  metrics: [{ name: 'istio.stats', typedConfig: { '@type': 'type.googleapis.com/xds.type.v3.TypedStruct', typeUrl: 'type.googleapis.com/stats.PluginConfig', value: {} } }],
};
