/*
 * The labels and annotations that steer injection: tsmesh's own names, and Istio's for the same
 * meaning so that manifests written for Istio behave the same (tsmesh's name wins when both are
 * set). See https://istio.io/latest/docs/reference/config/annotations/.
 */
import { isIP } from 'node:net';
import { InjectError, fieldPath, type JsonObject } from './json.js';

/** Namespace label that selects a namespace for the webhook (Istio: `istio-injection=enabled`). */
export const NAMESPACE_LABEL = 'tsmesh-injection';
/** Pod label or annotation, "true" / "false": opt a pod in or out. */
export const INJECT = 'sidecar.tsmesh.io/inject';
export const ISTIO_INJECT = 'sidecar.istio.io/inject';
/** What was injected (JSON); its presence makes injection a no-op. */
export const STATUS = 'sidecar.tsmesh.io/status';

/** Per-pod overrides: [tsmesh name, Istio name]. */
export const OVERRIDES = {
  proxyCPU: ['sidecar.tsmesh.io/proxyCPU', 'sidecar.istio.io/proxyCPU'],
  proxyMemory: ['sidecar.tsmesh.io/proxyMemory', 'sidecar.istio.io/proxyMemory'],
  proxyCPULimit: ['sidecar.tsmesh.io/proxyCPULimit', 'sidecar.istio.io/proxyCPULimit'],
  proxyMemoryLimit: ['sidecar.tsmesh.io/proxyMemoryLimit', 'sidecar.istio.io/proxyMemoryLimit'],
  includeOutboundIPRanges: ['traffic.sidecar.tsmesh.io/includeOutboundIPRanges', 'traffic.sidecar.istio.io/includeOutboundIPRanges'],
  excludeOutboundIPRanges: ['traffic.sidecar.tsmesh.io/excludeOutboundIPRanges', 'traffic.sidecar.istio.io/excludeOutboundIPRanges'],
  includeInboundPorts: ['traffic.sidecar.tsmesh.io/includeInboundPorts', 'traffic.sidecar.istio.io/includeInboundPorts'],
  excludeInboundPorts: ['traffic.sidecar.tsmesh.io/excludeInboundPorts', 'traffic.sidecar.istio.io/excludeInboundPorts'],
  excludeOutboundPorts: ['traffic.sidecar.tsmesh.io/excludeOutboundPorts', 'traffic.sidecar.istio.io/excludeOutboundPorts'],
} as const;

export type OverrideName = keyof typeof OVERRIDES;

/** The per-pod overrides, validated; absent keys keep the defaults. */
export type PodOverrides = Partial<Record<OverrideName, string>>;

/** Namespaces never injected, as in Istio. */
const IGNORED_NAMESPACES = new Set(['kube-system', 'kube-public']);

export type Decision = { readonly inject: true } | { readonly inject: false; readonly reason: string };

/**
 * Whether a pod (template) gets a sidecar, by Istio's rules: never on the host network or in
 * kube-system / kube-public, never twice; else an explicit `inject` label or annotation
 * decides (label before annotation, tsmesh's before Istio's); else yes. Which namespaces are
 * considered at all is the webhook configuration's namespaceSelector (`tsmesh-injection=enabled`).
 * Pure; `warnings` gets values that are neither true nor false.
 */
export function decide(meta: JsonObject, spec: JsonObject, namespace: string | undefined, warnings: string[]): Decision {
  if (spec['hostNetwork'] === true) return { inject: false, reason: 'the pod uses the host network (spec.hostNetwork)' };
  if (namespace !== undefined && IGNORED_NAMESPACES.has(namespace)) return { inject: false, reason: `namespace ${namespace} is never injected` };
  const annotations = stringMap(meta['annotations']);
  const labels = stringMap(meta['labels']);
  if (annotations[STATUS] !== undefined) return { inject: false, reason: `already injected (${STATUS} is set)` };
  for (const [where, map, key] of [['label', labels, INJECT], ['annotation', annotations, INJECT], ['label', labels, ISTIO_INJECT], ['annotation', annotations, ISTIO_INJECT]] as const) {
    const v = map[key];
    if (v === undefined) continue;
    const b = truth(v);
    if (b === undefined) { warnings.push(`${where} ${key}: ${JSON.stringify(v)} is neither "true" nor "false"; ignored`); continue; }
    return b ? { inject: true } : { inject: false, reason: `${where} ${key}="${v}"` };
  }
  return { inject: true };
}

// Istio accepts these spellings (pkg/kube/inject: injectRequired).
function truth(v: string): boolean | undefined {
  const s = v.toLowerCase();
  if (['y', 'yes', 'true', 'on', 'enabled'].includes(s)) return true;
  if (['n', 'no', 'false', 'off', 'disabled'].includes(s)) return false;
  return undefined;
}

/** A labels / annotations value as a string map (non-string values are dropped: the API server refuses them anyway). */
export function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

const QUANTITY = /^[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$/;

/**
 * Reads and validates the override annotations; throws InjectError naming the annotation
 * (under `metadata.annotations`) and what is expected. Pure.
 */
export function readOverrides(meta: JsonObject): PodOverrides {
  const annotations = stringMap(meta['annotations']);
  const out: PodOverrides = {};
  for (const [name, keys] of Object.entries(OVERRIDES) as [OverrideName, readonly [string, string]][]) {
    const key = keys.find((k) => annotations[k] !== undefined);
    if (key === undefined) continue;
    const v = annotations[key]!.trim();
    const why = check(name, v);
    if (why) throw new InjectError(fieldPath(['metadata', 'annotations', key]), `${JSON.stringify(v)}: ${why}`);
    out[name] = v.replace(/\s+/g, '');
  }
  return out;
}

function check(name: OverrideName, v: string): string | undefined {
  switch (name) {
    case 'proxyCPU': case 'proxyMemory': case 'proxyCPULimit': case 'proxyMemoryLimit':
      return QUANTITY.test(v) ? undefined : 'expected a Kubernetes quantity such as 100m, 0.5, 128Mi';
    case 'includeOutboundIPRanges': case 'excludeOutboundIPRanges':
      return v === '*' || v === '' || list(v).every(cidrOk) ? undefined : 'expected "*" or a comma-separated list of CIDRs such as 10.0.0.0/8,fd00::/8';
    case 'includeInboundPorts':
      return v === '*' || v === '' || list(v).every(portOk) ? undefined : 'expected "*" or a comma-separated list of ports 1-65535';
    case 'excludeInboundPorts': case 'excludeOutboundPorts':
      return v === '' || list(v).every(portOk) ? undefined : 'expected a comma-separated list of ports 1-65535';
  }
}

function list(v: string): string[] {
  return v.split(',').map((s) => s.trim());
}

function portOk(s: string): boolean {
  return /^[0-9]{1,5}$/.test(s) && Number(s) >= 1 && Number(s) <= 65535;
}

function cidrOk(s: string): boolean {
  const [ip, bits, ...rest] = s.split('/');
  const family = isIP(ip ?? '');
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^[0-9]{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}
