/**
 * The HTTP connection manager's `tracing` block (HttpConnectionManager.Tracing) and its provider
 * (envoy.tracers.opentelemetry: OpenTelemetryConfig over http_service; envoy.tracers.zipkin:
 * ZipkinConfig with HTTP_JSON), compiled once per connection manager. Pure.
 */
import type { HttpConnectionManager_Tracing } from '../../envoy/generated/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { Percent } from '../../envoy/generated/envoy/type/v3/percent_pb.js';
import { ConfigError } from '../../envoy/registry.js';
import type { Fraction } from '../../envoy/percent.js';
import type { SamplingConfig } from './sampling.js';
import { OPENTELEMETRY_CONFIG, ZIPKIN_CONFIG, tracingCode } from './load.js';

export type TracingProvider =
  | {
    readonly kind: 'opentelemetry';
    readonly cluster: string;
    readonly path: string;
    readonly authority: string;
    readonly headers: readonly (readonly [string, string])[];
    readonly timeoutMs: number;
    /** Empty: the node's cluster (Envoy's service cluster), as for Zipkin. */
    readonly serviceName: string;
  }
  | {
    readonly kind: 'zipkin';
    readonly cluster: string;
    readonly path: string;
    readonly authority: string;
    readonly traceId128: boolean;
    readonly sharedSpanContext: boolean;
    readonly timeoutMs: number;
    readonly serviceName: string;
  };

export type CustomTagSpec =
  | { readonly tag: string; readonly kind: 'literal'; readonly value: string }
  | { readonly tag: string; readonly kind: 'header'; readonly name: string; readonly defaultValue: string }
  | { readonly tag: string; readonly kind: 'environment'; readonly value: string };

export interface TracingConfig extends SamplingConfig {
  readonly provider: TracingProvider;
  /** From the listener's traffic_direction: OUTBOUND is egress (client spans), anything else ingress. */
  readonly operation: 'ingress' | 'egress';
  readonly customTags: readonly CustomTagSpec[];
  readonly spawnUpstreamSpan: boolean;
  readonly maxPathTagLength: number;
}

const OTEL = `type.googleapis.com/${OPENTELEMETRY_CONFIG}`;
const ZIPKIN = `type.googleapis.com/${ZIPKIN_CONFIG}`;

/** `env` is read for environment custom tags, once. */
export function compileTracing(t: HttpConnectionManager_Tracing, path: string, operation: 'ingress' | 'egress', env: NodeJS.ProcessEnv = process.env): TracingConfig | undefined {
  if (t.verbose) throw new ConfigError(`${path}.verbose`, 'not supported: spans carry no per-filter annotations');
  if (!t.provider) return undefined; // Envoy: no provider, no tracing (the headers still get a request id).
  const p = `${path}.provider`;
  if (t.provider.configType.case !== 'typedConfig') throw new ConfigError(`${p}.typed_config`, 'required');
  const any = t.provider.configType.value;
  if (any.typeUrl !== OTEL && any.typeUrl !== ZIPKIN) {
    throw new ConfigError(`${p}.typed_config`, `unsupported tracer ${any.typeUrl || '(no @type)'}; supported: ${OTEL}, ${ZIPKIN}`);
  }
  const provider = tracingCode().compileProvider(any, `${p}.typed_config`);
  const customTags = t.customTags.map((ct, i): CustomTagSpec => {
    const cp = `${path}.custom_tags[${i}]`;
    if (!ct.tag) throw new ConfigError(`${cp}.tag`, 'required');
    switch (ct.type.case) {
      case 'literal': return { tag: ct.tag, kind: 'literal', value: ct.type.value.value };
      case 'requestHeader':
        if (!ct.type.value.name) throw new ConfigError(`${cp}.request_header.name`, 'required');
        return { tag: ct.tag, kind: 'header', name: ct.type.value.name.toLowerCase(), defaultValue: ct.type.value.defaultValue };
      case 'environment':
        if (!ct.type.value.name) throw new ConfigError(`${cp}.environment.name`, 'required');
        return { tag: ct.tag, kind: 'environment', value: env[ct.type.value.name] ?? ct.type.value.defaultValue };
      case 'metadata': throw new ConfigError(`${cp}.metadata`, 'metadata custom tags are not supported');
      default: throw new ConfigError(cp, 'one of literal, request_header, environment is required');
    }
  });
  return {
    provider,
    operation,
    clientSampling: percent(t.clientSampling, `${path}.client_sampling`),
    randomSampling: percent(t.randomSampling, `${path}.random_sampling`),
    overallSampling: percent(t.overallSampling, `${path}.overall_sampling`),
    customTags,
    spawnUpstreamSpan: t.spawnUpstreamSpan?.valueOf() ?? false,
    maxPathTagLength: t.maxPathTagLength ?? 256,
  };
}

/** An envoy.type.v3.Percent (0-100, fractions allowed) in millionths; unset is 100%, Envoy's default for all three. */
function percent(p: Percent | undefined, path: string): Fraction {
  if (!p) return { numerator: 1_000_000, denominator: 1_000_000 };
  if (!(p.value >= 0 && p.value <= 100)) throw new ConfigError(`${path}.value`, `expected 0-100, got ${p.value}`);
  return { numerator: Math.round(p.value * 10_000), denominator: 1_000_000 };
}
