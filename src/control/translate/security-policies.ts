/*
 * Which security policies apply to a workload, as Istio decides it (pure):
 * https://istio.io/latest/docs/concepts/security/#authentication-policies
 * - PeerAuthentication: a policy selecting the workload (its namespace) wins over the namespace's
 *   policy without selector, which wins over the mesh-wide one (root namespace, no selector); among
 *   equals the oldest. UNSET inherits from the next level; the mesh default is PERMISSIVE.
 *   portLevelMtls counts in a policy with a selector only; an UNSET port inherits the workload's mode.
 * - AuthorizationPolicy / RequestAuthentication: all policies of the root namespace (selector
 *   matching the workload, or none) and of the workload's namespace (same rule) apply together.
 */
import type { AuthorizationPolicy, ConfigSnapshot, MtlsMode, PeerAuthentication, RequestAuthentication } from '../config/kinds.js';
import { TLS_MODE_LABEL, type ProxyIdentity } from '../../envoy/node-metadata.js';
import { byCreation, selects } from '../registry/labels.js';
import { groupOf } from '../registry/workloads.js';
import { DEFAULT_TRUST_DOMAIN } from '../../pki/spiffe.js';

export const DEFAULT_ROOT_NAMESPACE = 'istio-system';

/** What the policy rules read of a workload: where it runs and its labels (WorkloadGroup's merged in). */
export interface WorkloadRef {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** A proxy's labels with its WorkloadGroup's (its own win), as selectors see the workload. */
export function workloadLabels(config: ConfigSnapshot, proxy: ProxyIdentity): Record<string, string> {
  const group = groupOf(proxy, config.workloadGroups);
  return { ...group?.spec.metadata?.labels, ...group?.spec.template.labels, ...proxy.labels };
}

export type EffectiveMtls = Exclude<MtlsMode, 'UNSET'>;

export function trustDomainOf(config: ConfigSnapshot): string {
  return config.mesh.trustDomain || DEFAULT_TRUST_DOMAIN;
}

export function rootNamespaceOf(config: ConfigSnapshot): string {
  return config.mesh.rootNamespace || DEFAULT_ROOT_NAMESPACE;
}

/** Whether a workload (or proxy) with these labels takes part in mesh mTLS. */
export function hasMeshIdentity(labels: Readonly<Record<string, string>>): boolean {
  return labels[TLS_MODE_LABEL] === 'istio';
}

function applies(sel: { matchLabels?: Record<string, string> } | undefined, policyNs: string, w: WorkloadRef, root: string): boolean {
  if (policyNs !== w.namespace && policyNs !== root) return false;
  return !sel?.matchLabels || selects(sel.matchLabels, w.labels);
}

/** The policies of `list` that apply to `w`, root namespace first, then oldest first. */
function applying<T extends AuthorizationPolicy | RequestAuthentication>(list: readonly T[], w: WorkloadRef, root: string): T[] {
  return list.filter((p) => applies(p.spec.selector, p.metadata.namespace, w, root))
    .sort((a, b) => (a.metadata.namespace === root ? 0 : 1) - (b.metadata.namespace === root ? 0 : 1) || byCreation(a, b));
}

export function authorizationPoliciesFor(config: ConfigSnapshot, w: WorkloadRef): AuthorizationPolicy[] {
  return applying(config.authorizationPolicies, w, rootNamespaceOf(config));
}

export function requestAuthenticationsFor(config: ConfigSnapshot, w: WorkloadRef): RequestAuthentication[] {
  return applying(config.requestAuthentications, w, rootNamespaceOf(config));
}

/** The mTLS mode a workload accepts on `port` (its own port, where the application listens). */
export function mtlsModeFor(config: ConfigSnapshot, w: WorkloadRef, port: number | undefined): EffectiveMtls {
  const idx = peerAuthIndex(config);
  const inNs = idx.byNamespace.get(w.namespace) ?? [];
  const workload = inNs.find((p) => hasSelector(p) && selects(p.spec.selector?.matchLabels, w.labels));
  const namespace = inNs.find((p) => !hasSelector(p));
  const mesh = (idx.byNamespace.get(rootNamespaceOf(config)) ?? []).find((p) => !hasSelector(p));
  let mode: EffectiveMtls = 'PERMISSIVE';
  for (const p of [mesh, namespace, workload]) {
    const m = p?.spec.mtls?.mode;
    if (m && m !== 'UNSET') mode = m;
  }
  const portMode = port !== undefined ? workload?.spec.portLevelMtls?.[String(port)]?.mode : undefined;
  return portMode && portMode !== 'UNSET' ? portMode : mode;
}

/** An empty selector (`selector: {}`, `matchLabels: {}`) selects every workload: no selector, as in Kubernetes. */
function hasSelector(p: PeerAuthentication): boolean {
  return Object.keys(p.spec.selector?.matchLabels ?? {}).length > 0;
}

/** PeerAuthentications by namespace, oldest first: built once per config (every endpoint of every push asks). */
function peerAuthIndex(config: ConfigSnapshot): { byNamespace: Map<string, PeerAuthentication[]> } {
  let idx = paCache.get(config);
  if (!idx) {
    const byNamespace = new Map<string, PeerAuthentication[]>();
    for (const p of [...config.peerAuthentications].sort(byCreation)) {
      const l = byNamespace.get(p.metadata.namespace);
      if (l) l.push(p); else byNamespace.set(p.metadata.namespace, [p]);
    }
    idx = { byNamespace };
    paCache.set(config, idx);
  }
  return idx;
}

const paCache = new WeakMap<ConfigSnapshot, { byNamespace: Map<string, PeerAuthentication[]> }>();

/** Every selector label of the security kinds, for the shape key (see shape.ts). */
export function securitySelectors(config: ConfigSnapshot): Readonly<Record<string, string>>[] {
  const out: Readonly<Record<string, string>>[] = [{ [TLS_MODE_LABEL]: 'istio' }];
  for (const p of [...config.peerAuthentications, ...config.authorizationPolicies, ...config.requestAuthentications]) {
    if (p.spec.selector?.matchLabels) out.push(p.spec.selector.matchLabels);
  }
  return out;
}
