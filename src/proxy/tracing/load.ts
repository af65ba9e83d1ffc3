import { onTypesNamed } from '../../envoy/type-registry.js';

/*
 * Tracing's code (providers, tracer, exporters, OTLP and Zipkin encoders) and descriptors are
 * loaded when a config first names a provider type: a proxy that does not trace carries none
 * of it. Config decoding builds its registry with registryFor, which runs loadTracing first.
 */

export const OPENTELEMETRY_CONFIG = 'envoy.config.trace.v3.OpenTelemetryConfig';
export const ZIPKIN_CONFIG = 'envoy.config.trace.v3.ZipkinConfig';

type TracingCode = typeof import('./providers.js') & typeof import('./runtime.js');
let code: TracingCode | undefined;

/** Loads the tracing code if `typeNames` has a provider type. */
export async function loadTracing(typeNames: Iterable<string>): Promise<void> {
  if (code) return;
  const names = new Set(typeNames);
  if (!names.has(OPENTELEMETRY_CONFIG) && !names.has(ZIPKIN_CONFIG)) return;
  const [providers, runtime] = await Promise.all([import('./providers.js'), import('./runtime.js')]);
  code = { ...providers, ...runtime };
}

onTypesNamed(loadTracing);

/** The tracing code; only for a config whose provider type loadTracing has seen. */
export function tracingCode(): TracingCode {
  if (!code) throw new Error('tracing used before loadTracing loaded it');
  return code;
}
