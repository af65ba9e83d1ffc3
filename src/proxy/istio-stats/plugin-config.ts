/**
 * The config of Istio's stats filters (`istio.stats`, HTTP and network): an
 * `xds.type.v3.TypedStruct` whose type_url is `type.googleapis.com/stats.PluginConfig` and whose
 * value holds the PluginConfig fields tsmesh implements (istio/proxy,
 * source/extensions/filters/http/istio_stats/config.proto). Any other field is refused with its
 * path, as every config field tsmesh does not implement is. Pure.
 */
import type { JsonValue } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { TypedStructSchema } from '../../envoy/generated/xds/type/v3/typed_struct_pb.js';
import { ConfigError, typeUrlOf, unpackAs } from '../../envoy/registry.js';
import type { Reporter } from './labels.js';

export const TYPED_STRUCT_TYPE_URL = typeUrlOf(TypedStructSchema);
export const PLUGIN_CONFIG_TYPE_URL = 'type.googleapis.com/stats.PluginConfig';

/** PluginConfig.reporter: UNSPECIFIED takes the side from the listener's traffic_direction. */
export type ReporterSetting = 'UNSPECIFIED' | 'SERVER_GATEWAY' | 'CLIENT_GATEWAY';

export interface StatsPluginConfig {
  readonly reporter: ReporterSetting;
  /** Inbound: no destination_service from the Host header (then it is unknown). */
  readonly disableHostHeaderFallback: boolean;
  /** How often open TCP connections report their bytes (Istio's default 15 s); at close always. */
  readonly tcpReportingDurationMs: number;
}

const FIELDS = ['reporter', 'disable_host_header_fallback', 'tcp_reporting_duration'] as const;

/** Parses the filter's typed_config (`path` is its path, for errors). */
export function parseStatsPluginConfig(any: Any | undefined, path: string): StatsPluginConfig {
  const ts = unpackAs(any, TypedStructSchema, path);
  if (ts.typeUrl !== PLUGIN_CONFIG_TYPE_URL) throw new ConfigError(`${path}.type_url`, `expected ${PLUGIN_CONFIG_TYPE_URL}, got ${ts.typeUrl || '(empty)'}`);
  const value: Record<string, JsonValue> = ts.value ?? {};
  for (const k of Object.keys(value)) {
    if (!(FIELDS as readonly string[]).includes(k)) throw new ConfigError(`${path}.value.${k}`, `field is not supported by tsmesh (supported: ${FIELDS.join(', ')})`);
  }
  const reporter = value['reporter'] ?? 'UNSPECIFIED';
  if (reporter !== 'UNSPECIFIED' && reporter !== 'SERVER_GATEWAY' && reporter !== 'CLIENT_GATEWAY') {
    throw new ConfigError(`${path}.value.reporter`, `expected UNSPECIFIED, SERVER_GATEWAY or CLIENT_GATEWAY, got ${JSON.stringify(reporter)}`);
  }
  const fallback = value['disable_host_header_fallback'] ?? false;
  if (typeof fallback !== 'boolean') throw new ConfigError(`${path}.value.disable_host_header_fallback`, `expected a boolean, got ${JSON.stringify(fallback)}`);
  const d = value['tcp_reporting_duration'];
  let tcpReportingDurationMs = 15_000;
  if (d !== undefined) {
    const m = typeof d === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(d) : null;
    if (!m || Number(m[1]) <= 0) throw new ConfigError(`${path}.value.tcp_reporting_duration`, `expected a positive duration such as "5s", got ${JSON.stringify(d)}`);
    tcpReportingDurationMs = Math.max(1, Math.round(Number(m[1]) * 1000));
  }
  return { reporter, disableHostHeaderFallback: fallback, tcpReportingDurationMs };
}

/** The side this filter reports for, given the listener's traffic_direction. */
export function reporterFor(setting: ReporterSetting, direction: 'INBOUND' | 'OUTBOUND' | 'UNSPECIFIED'): Reporter {
  if (setting === 'SERVER_GATEWAY') return 'destination';
  if (setting === 'CLIENT_GATEWAY') return 'source';
  return direction === 'INBOUND' ? 'destination' : 'source';
}
