import type { ConfigSnapshot } from '../config/kinds.js';
import type { ProxyIdentity } from '../../envoy/node-metadata.js';
import { securitySelectors } from './security-policies.js';

/** Per label key, the values that some selector in the config compares it with. */
export type SelectorLabels = ReadonlyMap<string, ReadonlySet<string>>;

/**
 * Every label some selector in `config` reads, with the values it compares: VirtualService
 * sourceLabels (HTTP and TCP matches), DestinationRule workloadSelector, WorkloadGroup labels and
 * ServiceEntry workloadSelector, the selectors of PeerAuthentication, AuthorizationPolicy and
 * RequestAuthentication, Telemetry's selector, and the sidecar's `security.istio.io/tlsMode` label. Translation reads a proxy's labels only through these selectors
 * (registry/labels.ts `selects`: each looks up its own keys and compares for equality).
 */
export function selectorLabels(config: ConfigSnapshot): SelectorLabels {
  let out = cache.get(config);
  if (out) return out;
  const map = new Map<string, Set<string>>();
  const add = (sel: Readonly<Record<string, string>> | undefined): void => {
    for (const [k, v] of Object.entries(sel ?? {})) {
      let values = map.get(k);
      if (!values) map.set(k, (values = new Set()));
      values.add(v);
    }
  };
  for (const vs of config.virtualServices) {
    for (const r of vs.spec.http ?? []) for (const m of r.match ?? []) add(m.sourceLabels);
    for (const r of vs.spec.tcp ?? []) for (const m of r.match ?? []) add(m.sourceLabels);
  }
  for (const dr of config.destinationRules) add(dr.spec.workloadSelector?.matchLabels);
  for (const g of config.workloadGroups) { add(g.spec.metadata?.labels); add(g.spec.template.labels); }
  for (const se of config.serviceEntries) add(se.spec.workloadSelector?.labels);
  for (const sel of securitySelectors(config)) add(sel);
  for (const t of config.telemetries ?? []) add(t.spec.selector?.matchLabels);
  out = map;
  cache.set(config, out);
  return out;
}

const cache = new WeakMap<ConfigSnapshot, SelectorLabels>();
/** Stands for "a value no selector compares with" (not a valid label value, so never equal to one). */
const OTHER = '\u0000';

/**
 * What generate's output depends on in a proxy's identity: generator, namespace, labels and
 * ports; not the id, name, IPs or service account. With `config`, a label counts only as far
 * as a selector of it can tell: a key no selector reads is left out, and a value no selector
 * compares with is one "other" value. Every selector then matches the projected labels exactly
 * when it matches the real ones (also merged with a WorkloadGroup's), so the output is the same,
 * and the sidecars of 500 apps without source-label rules share one shape (one generate per
 * push instead of 500). Without `config`, every label counts.
 */
export function shapeKeyOf(proxy: ProxyIdentity, config?: ConfigSnapshot): string {
  const relevant = config ? selectorLabels(config) : undefined;
  const labels: [string, string][] = [];
  for (const k of Object.keys(proxy.labels).sort()) {
    const v = proxy.labels[k]!;
    if (!relevant) labels.push([k, v]);
    else if (relevant.has(k)) labels.push([k, relevant.get(k)!.has(v) ? v : OTHER]);
  }
  return JSON.stringify([proxy.generator, proxy.namespace, labels, proxy.inboundPort ?? null, proxy.outboundPort ?? null, proxy.appPorts, proxy.interceptionMode ?? null, proxy.service?.ports ?? null]);
}
