/** Cross-resource checks of telemetry: every provider a Telemetry or defaultProviders names must exist, of the right kind. Pure. */
import type { MeshConfig, MeshResource } from './kinds.js';
import type { Severity } from './issues.js';

type Report = (r: MeshResource, path: string, message: string, severity: Severity) => void;

export function analyzeTelemetry(resources: readonly MeshResource[], report: Report): void {
  const mesh = resources.find((r): r is MeshConfig => r.kind === 'MeshConfig');
  const providers = mesh?.spec.extensionProviders ?? [];
  const tracer = (n: string): boolean => providers.some((p) => p.name === n && (p.opentelemetry !== undefined || p.zipkin !== undefined));
  const logger = (n: string): boolean => n === 'envoy' || providers.some((p) => p.name === n && p.envoyFileAccessLog !== undefined);
  const check = (r: MeshResource, path: string, name: string, ok: (n: string) => boolean, what: string): void => {
    if (!ok(name)) report(r, path, `no ${what} provider ${JSON.stringify(name)} in MeshConfig extensionProviders; it is left out`, 'error');
  };
  if (mesh) {
    mesh.spec.defaultProviders?.tracing?.forEach((n, i) => check(mesh, `spec.defaultProviders.tracing[${i}]`, n, tracer, 'tracing'));
    mesh.spec.defaultProviders?.accessLogging?.forEach((n, i) => check(mesh, `spec.defaultProviders.accessLogging[${i}]`, n, logger, 'access-logging'));
  }
  for (const r of resources) {
    if (r.kind !== 'Telemetry') continue;
    r.spec.tracing?.forEach((t, i) => t.providers?.forEach((p, j) => check(r, `spec.tracing[${i}].providers[${j}].name`, p.name, tracer, 'tracing')));
    r.spec.accessLogging?.forEach((a, i) => a.providers?.forEach((p, j) => check(r, `spec.accessLogging[${i}].providers[${j}].name`, p.name, logger, 'access-logging')));
  }
}
