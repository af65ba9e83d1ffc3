/*
 * Cross-resource analysis of the security kinds (what `tsmesh analyze` adds to analyze.ts):
 * configs that are legal one by one but do not do what they seem to. Warnings only. Pure.
 */
import type { AuthorizationPolicy, MeshResource, PeerAuthentication } from './kinds.js';
import { resourceLabel, type ConfigIssue } from './issues.js';

const DEFAULT_ROOT_NAMESPACE = 'istio-system';

export function analyzeSecurity(resources: readonly MeshResource[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const warn = (r: MeshResource, path: string, message: string): void => {
    issues.push({ resource: resourceLabel(r.kind, r.metadata.namespace, r.metadata.name), path, message, severity: 'warning' });
  };
  const mesh = resources.find((r) => r.kind === 'MeshConfig');
  const root = (mesh?.kind === 'MeshConfig' ? mesh.spec.rootNamespace : undefined) || DEFAULT_ROOT_NAMESPACE;
  const requestAuthNamespaces = new Set(resources.filter((r) => r.kind === 'RequestAuthentication').map((r) => r.metadata.namespace));

  const wide = new Map<string, PeerAuthentication>();
  // Oldest first (then by name), as the translation picks among equals.
  const ordered = [...resources].sort((a, b) => cmp(a.metadata.creationTimestamp ?? '', b.metadata.creationTimestamp ?? '') || cmp(`${a.metadata.namespace}/${a.metadata.name}`, `${b.metadata.namespace}/${b.metadata.name}`));
  for (const r of ordered) {
    if (r.kind === 'PeerAuthentication') {
      const selector = Object.keys(r.spec.selector?.matchLabels ?? {}).length > 0;
      if (!selector) {
        const first = wide.get(r.metadata.namespace);
        if (first) warn(r, '', `PeerAuthentication ${first.metadata.namespace}/${first.metadata.name} also applies to the whole namespace ${r.metadata.namespace}${r.metadata.namespace === root ? ' (mesh-wide)' : ''}; only the oldest is used`);
        else wide.set(r.metadata.namespace, r);
      } else if (r.metadata.namespace === root) {
        warn(r, 'spec.selector', `a PeerAuthentication with a selector in the root namespace ${root} applies to workloads of ${root} only, not mesh-wide`);
      }
    }
    if (r.kind === 'AuthorizationPolicy') analyzeAuthorizationPolicy(r, warn, requestAuthNamespaces.has(r.metadata.namespace) || requestAuthNamespaces.has(root));
  }
  return issues;
}

function analyzeAuthorizationPolicy(r: AuthorizationPolicy, warn: (r: MeshResource, path: string, message: string) => void, hasRequestAuth: boolean): void {
  (r.spec.rules ?? []).forEach((rule, i) => {
    (rule.from ?? []).forEach((f, j) => {
      f.source?.principals?.forEach((p, k) => {
        if (p.startsWith('spiffe://')) warn(r, `spec.rules[${i}].from[${j}].source.principals[${k}]`, `Istio writes principals without "spiffe://" (e.g. "cluster.local/ns/default/sa/curl"); ${JSON.stringify(p)} is read as ${JSON.stringify(p.slice('spiffe://'.length))}`);
      });
      if (!hasRequestAuth && (f.source?.requestPrincipals?.length ?? 0) > 0) warn(r, `spec.rules[${i}].from[${j}].source.requestPrincipals`, `no RequestAuthentication in namespace ${r.metadata.namespace} or the root namespace: no request has a request principal, so this never matches`);
    });
    (rule.when ?? []).forEach((c, j) => {
      if (!hasRequestAuth && c.key.startsWith('request.auth.') && (c.values?.length ?? 0) > 0) warn(r, `spec.rules[${i}].when[${j}].key`, `no RequestAuthentication in namespace ${r.metadata.namespace} or the root namespace: ${c.key} is never set, so this never matches`);
    });
  });
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
