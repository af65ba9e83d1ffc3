import type { ConfigSnapshot, WorkloadGroup } from '../config/kinds.js';
import type { ProxyIdentity } from '../../envoy/node-metadata.js';
import type { Workload } from './model.js';
import { byCreation, selects, sortedRecord } from './labels.js';

/** Workloads from WorkloadEntries, one per entry. */
export function entryWorkloads(config: ConfigSnapshot): Workload[] {
  return [...config.workloadEntries].sort(byCreation).map((we) => ({
    name: we.metadata.name,
    namespace: we.metadata.namespace,
    address: we.spec.address ?? '',
    labels: sortedRecord(we.spec.labels),
    ports: sortedRecord(we.spec.ports),
    serviceAccount: we.spec.serviceAccount ?? 'default',
    weight: positive(we.spec.weight),
    healthy: true,
    source: `entry:${we.metadata.namespace}/${we.metadata.name}`,
  }));
}

/**
 * The WorkloadGroup a connected proxy belongs to: the oldest group in its namespace whose labels
 * (metadata.labels and template.labels) are all among the proxy's labels. A group without labels
 * claims nobody: it would otherwise take every proxy of its namespace.
 */
export function groupOf(proxy: ProxyIdentity, groups: readonly WorkloadGroup[]): WorkloadGroup | undefined {
  return [...groups].sort(byCreation).find((g) => {
    if (g.metadata.namespace !== proxy.namespace) return false;
    const labels = groupLabels(g);
    return Object.keys(labels).length > 0 && selects(labels, proxy.labels);
  });
}

function groupLabels(g: WorkloadGroup): Record<string, string> {
  return { ...g.spec.metadata?.labels, ...g.spec.template.labels };
}

/**
 * A connected sidecar as a workload (auto-registration, as Istio does for VMs with a
 * WorkloadGroup). Its own labels win over the group's; its service account wins unless it is
 * "default"; the group's template gives named ports and weight. Without traffic capture the
 * sidecar's inbound port is the workload's port for every service port (`defaultPort`), so
 * mesh traffic to it passes its sidecar; a proxyless gRPC workload is reached on its first app
 * port. A proxy without an address is not a workload.
 */
export function proxyWorkload(proxy: ProxyIdentity, groups: readonly WorkloadGroup[]): Workload | undefined {
  const address = proxy.ips[0];
  if (!address) return undefined;
  const group = groupOf(proxy, groups);
  const t = group?.spec.template;
  const labels = sortedRecord({ ...(group ? groupLabels(group) : {}), ...proxy.labels });
  // A proxyless gRPC server has no sidecar: its endpoint is its own (first) port.
  // With traffic capture, callers use the service's own (target) port and iptables takes the
  // connection to the sidecar's inbound port.
  const defaultPort = proxy.interceptionMode === 'REDIRECT' ? undefined : proxy.inboundPort ?? (proxy.generator === 'grpc' ? proxy.appPorts[0] : undefined);
  return {
    name: proxy.name,
    namespace: proxy.namespace,
    address,
    labels,
    ports: sortedRecord(t?.ports),
    ...(defaultPort !== undefined ? { defaultPort } : {}),
    serviceAccount: proxy.serviceAccount !== 'default' || !t?.serviceAccount ? proxy.serviceAccount : t.serviceAccount,
    weight: positive(t?.weight),
    healthy: true,
    source: `proxy:${proxy.id}`,
  };
}

function positive(n: number | undefined): number {
  return n !== undefined && Number.isInteger(n) && n > 0 ? n : 1;
}
