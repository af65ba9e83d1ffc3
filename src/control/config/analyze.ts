/*
 * Cross-resource analysis (what `tsmesh analyze` reports, like istioctl analyze): references
 * that validation of one resource cannot see. Errors are references that will not work
 * (missing host, subset, port); warnings are configs that are legal but probably wrong. Pure.
 */
import type { DestinationRule, Destination, MeshResource, ServiceEntry, VirtualService } from './kinds.js';
import { resourceLabel, type ConfigIssue, type Severity } from './issues.js';
import { hostMatches, resolveHost } from './hosts.js';
import { analyzeSecurity } from './analyze-security.js';

interface Index {
  /** Concrete or wildcard ServiceEntry host → its ServiceEntries. */
  readonly services: Map<string, ServiceEntry[]>;
  /** Resolved DestinationRule host → its DestinationRules (in input order). */
  readonly rules: Map<string, DestinationRule[]>;
}

export function analyze(resources: readonly MeshResource[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const report = (r: MeshResource, path: string, message: string, severity: Severity): void => {
    issues.push({ resource: resourceLabel(r.kind, r.metadata.namespace, r.metadata.name), path, message, severity });
  };
  const idx: Index = { services: new Map(), rules: new Map() };
  for (const r of resources) {
    if (r.kind === 'ServiceEntry') for (const h of r.spec.hosts) push(idx.services, resolveHost(h, r.metadata.namespace), r);
    if (r.kind === 'DestinationRule' && !r.spec.workloadSelector) push(idx.rules, resolveHost(r.spec.host, r.metadata.namespace), r);
  }
  const vsHosts = new Map<string, VirtualService>();
  const meshConfigs: MeshResource[] = [];
  for (const r of resources) {
    if (r.kind === 'VirtualService') {
      analyzeVirtualService(r, idx, report);
      r.spec.hosts.forEach((h, i) => {
        const fqdn = resolveHost(h, r.metadata.namespace);
        const other = vsHosts.get(fqdn);
        if (other) report(r, `spec.hosts[${i}]`, `host ${JSON.stringify(fqdn)} is also claimed by VirtualService ${other.metadata.namespace}/${other.metadata.name}; only one of them is used`, 'error');
        else vsHosts.set(fqdn, r);
      });
    }
    if (r.kind === 'DestinationRule') {
      const host = resolveHost(r.spec.host, r.metadata.namespace);
      if (!host.startsWith('*') && !findServices(idx, host).length) report(r, 'spec.host', `no ServiceEntry defines host ${JSON.stringify(host)}`, 'warning');
      const same = idx.rules.get(host) ?? [];
      if (same.length > 1 && same[0] !== r && same.includes(r)) report(r, 'spec.host', `DestinationRule ${same[0]!.metadata.namespace}/${same[0]!.metadata.name} also configures host ${JSON.stringify(host)}; only one DestinationRule per host is used`, 'warning');
    }
    if (r.kind === 'MeshConfig') {
      if (meshConfigs.length > 0) report(r, '', `more than one MeshConfig (first: ${meshConfigs[0]!.metadata.namespace}/${meshConfigs[0]!.metadata.name}); only one is allowed`, 'error');
      meshConfigs.push(r);
    }
  }
  issues.push(...analyzeSecurity(resources));
  return issues;
}

function push<T>(m: Map<string, T[]>, k: string, v: T): void {
  const l = m.get(k);
  if (l) l.push(v); else m.set(k, [v]);
}

function findServices(idx: Index, host: string): ServiceEntry[] {
  const exact = idx.services.get(host);
  if (exact) return exact;
  const out: ServiceEntry[] = [];
  for (const [pattern, ses] of idx.services) if (pattern.startsWith('*') && hostMatches(pattern, host)) out.push(...ses);
  return out;
}

type Report = (r: MeshResource, path: string, message: string, severity: Severity) => void;

function analyzeVirtualService(vs: VirtualService, idx: Index, report: Report): void {
  const ns = vs.metadata.namespace;
  const check = (d: Destination, path: string): void => {
    const host = resolveHost(d.host, ns);
    const services = findServices(idx, host);
    if (services.length === 0) {
      report(vs, `${path}.host`, `no ServiceEntry defines host ${JSON.stringify(host)}`, 'error');
    } else {
      const ports = new Set(services.flatMap((s) => (s.spec.ports ?? []).map((p) => p.number)));
      if (d.port && ports.size > 0 && !ports.has(d.port.number)) report(vs, `${path}.port.number`, `host ${JSON.stringify(host)} has no port ${d.port.number} (ports: ${[...ports].sort((a, b) => a - b).join(', ')})`, 'error');
      if (!d.port && ports.size > 1) report(vs, path, `host ${JSON.stringify(host)} has several ports (${[...ports].sort((a, b) => a - b).join(', ')}); without port.number the route applies to all of them`, 'warning');
    }
    if (d.subset !== undefined) {
      const rules = idx.rules.get(host) ?? [];
      if (!rules.some((r) => (r.spec.subsets ?? []).some((s) => s.name === d.subset))) {
        report(vs, `${path}.subset`, rules.length === 0 ? `subset ${JSON.stringify(d.subset)}: no DestinationRule for host ${JSON.stringify(host)}` : `subset ${JSON.stringify(d.subset)} is not defined by DestinationRule ${rules.map((r) => `${r.metadata.namespace}/${r.metadata.name}`).join(', ')} for host ${JSON.stringify(host)}`, 'error');
      }
    }
  };
  (vs.spec.http ?? []).forEach((r, i) => {
    (r.route ?? []).forEach((d, j) => check(d.destination, `spec.http[${i}].route[${j}].destination`));
    if (r.mirror) check(r.mirror, `spec.http[${i}].mirror`);
  });
  (vs.spec.tcp ?? []).forEach((r, i) => r.route.forEach((d, j) => check(d.destination, `spec.tcp[${i}].route[${j}].destination`)));
}
