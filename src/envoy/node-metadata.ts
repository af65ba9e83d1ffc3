import type { JsonObject, JsonValue } from '@bufbuild/protobuf';

/**
 * Who a proxy (or a proxyless gRPC client) is, as the control plane sees it. Carried in the xDS
 * `Node` the way Istio's pilot-agent does it, so a real Envoy or gRPC client configured like an
 * Istio sidecar is understood too: node id `sidecar~IP~NAME.NAMESPACE~NAMESPACE.svc.cluster.local`
 * and metadata keys NAME, NAMESPACE, LABELS, SERVICE_ACCOUNT, INSTANCE_IPS, GENERATOR.
 * The three TSMESH_* keys are ours: without traffic capture the control plane must know which
 * ports the sidecar listens on, to register the workload's endpoint as its inbound port.
 */
export interface ProxyIdentity {
  /** The node id as sent. */
  readonly id: string;
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccount: string;
  /** First is the address the workload is reached at. */
  readonly ips: readonly string[];
  /** 'grpc' for proxyless gRPC clients (Istio's GENERATOR=grpc); 'sidecar' otherwise. */
  readonly generator: 'sidecar' | 'grpc';
  /** The sidecar's inbound listener port (the workload's mesh endpoint without capture). */
  readonly inboundPort?: number;
  /** The sidecar's outbound listener port (HTTP proxy / capture target). */
  readonly outboundPort?: number;
  /** The application's own port(s) behind the sidecar. */
  readonly appPorts: readonly number[];
  /**
   * Istio's INTERCEPTION_MODE: 'REDIRECT' when iptables sends the workload's traffic through the
   * sidecar (tsmesh run, tsmesh iptables); absent when it does not (HTTP proxy mode).
   */
  readonly interceptionMode?: 'REDIRECT';
  /**
   * The service this workload offers when no ServiceEntry declares it (tsmesh run): the control
   * plane then registers NAME.NAMESPACE.svc.cluster.local with these ports (TSMESH_SERVICE,
   * TSMESH_SERVICE_PORTS "9080/HTTP,5432/TCP").
   */
  readonly service?: { readonly name: string; readonly ports: readonly { readonly number: number; readonly protocol: string }[] };
  /** Where the proxy serves `/stats/prometheus` on its address (the dashboard scrapes it). */
  readonly statsPort?: number;
}

export const META = {
  name: 'NAME',
  namespace: 'NAMESPACE',
  labels: 'LABELS',
  serviceAccount: 'SERVICE_ACCOUNT',
  ips: 'INSTANCE_IPS',
  generator: 'GENERATOR',
  inboundPort: 'TSMESH_INBOUND_PORT',
  outboundPort: 'TSMESH_OUTBOUND_PORT',
  appPorts: 'TSMESH_APP_PORTS',
  interceptionMode: 'INTERCEPTION_MODE',
  service: 'TSMESH_SERVICE',
  servicePorts: 'TSMESH_SERVICE_PORTS',
  statsPort: 'TSMESH_STATS_PORT',
} as const;

/** The node id and metadata a sidecar sends for `identity`. */
export function nodeOf(identity: Omit<ProxyIdentity, 'id'>): { id: string; cluster: string; metadata: JsonObject } {
  const ip = identity.ips[0] ?? '127.0.0.1';
  const metadata: JsonObject = {
    [META.name]: identity.name,
    [META.namespace]: identity.namespace,
    [META.labels]: { ...identity.labels },
    [META.serviceAccount]: identity.serviceAccount,
    [META.ips]: identity.ips.join(','),
    [META.generator]: identity.generator,
    [META.appPorts]: identity.appPorts.join(','),
  };
  if (identity.inboundPort !== undefined) metadata[META.inboundPort] = String(identity.inboundPort);
  if (identity.outboundPort !== undefined) metadata[META.outboundPort] = String(identity.outboundPort);
  if (identity.interceptionMode) metadata[META.interceptionMode] = identity.interceptionMode;
  if (identity.service) {
    metadata[META.service] = identity.service.name;
    metadata[META.servicePorts] = identity.service.ports.map((p) => `${p.number}/${p.protocol}`).join(',');
  }
  if (identity.statsPort !== undefined) metadata[META.statsPort] = String(identity.statsPort);
  return {
    id: `sidecar~${ip}~${identity.name}.${identity.namespace}~${identity.namespace}.svc.cluster.local`,
    cluster: `${identity.labels['app'] ?? identity.name}.${identity.namespace}`,
    metadata,
  };
}

/**
 * Reads an identity from a node. Missing pieces fall back the way Istio does: namespace and name
 * from the node id's `NAME.NAMESPACE` part, then "default"; service account "default". Never
 * throws: any client that connects gets a usable identity.
 */
export function identityOf(node: { id: string; metadata?: JsonObject | undefined } | undefined): ProxyIdentity {
  const id = node?.id ?? '';
  const md = node?.metadata ?? {};
  const parts = id.split('~');
  const [podName, podNs] = (parts[2] ?? '').split('.', 2) as [string | undefined, string | undefined];
  const str = (k: string): string | undefined => { const v = md[k]; return typeof v === 'string' && v !== '' ? v : undefined; };
  const port = (k: string): number | undefined => { const n = Number(str(k)); return Number.isInteger(n) && n > 0 && n < 65536 ? n : undefined; };
  const labels: Record<string, string> = {};
  const l = md[META.labels];
  if (l && typeof l === 'object' && !Array.isArray(l)) for (const [k, v] of Object.entries(l as Record<string, JsonValue>)) if (typeof v === 'string') labels[k] = v;
  const ips = (str(META.ips) ?? parts[1] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const inboundPort = port(META.inboundPort);
  const outboundPort = port(META.outboundPort);
  const serviceName = str(META.service);
  const servicePorts = (str(META.servicePorts) ?? '').split(',').map((e) => /^(\d{1,5})\/([A-Za-z0-9-]+)$/.exec(e.trim()))
    .filter((m) => m !== null && Number(m[1]) > 0 && Number(m[1]) < 65536).map((m) => ({ number: Number(m![1]), protocol: m![2]!.toUpperCase() }));
  const statsPort = port(META.statsPort);
  return {
    id,
    name: str(META.name) ?? (podName || id || 'unknown'),
    namespace: str(META.namespace) ?? (podNs || 'default'),
    labels,
    serviceAccount: str(META.serviceAccount) ?? 'default',
    ips,
    generator: str(META.generator) === 'grpc' ? 'grpc' : 'sidecar',
    ...(inboundPort !== undefined ? { inboundPort } : {}),
    ...(outboundPort !== undefined ? { outboundPort } : {}),
    appPorts: (str(META.appPorts) ?? '').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0 && n < 65536),
    ...(str(META.interceptionMode) === 'REDIRECT' ? { interceptionMode: 'REDIRECT' as const } : {}),
    ...(serviceName && /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(serviceName) && servicePorts.length > 0 ? { service: { name: serviceName, ports: servicePorts } } : {}),
    ...(statsPort !== undefined ? { statsPort } : {}),
  };
}

/**
 * The label Istio's injector puts on every pod with a sidecar (`istio`). tsmesh reads it in two
 * places: an endpoint carrying it accepts mTLS (auto mTLS sends it TLS), and a proxy carrying it
 * has a workload certificate (its agent fills the `default` and `ROOTCA` secrets), so it presents
 * one upstream and offers TLS on its PERMISSIVE inbound. A proxy without it gets plaintext-only
 * config, except where a STRICT policy or an explicit ISTIO_MUTUAL asks for TLS (it then waits
 * for its secrets rather than serving plaintext). A sidecar that joins with a token sets it.
 */
export const TLS_MODE_LABEL = 'security.istio.io/tlsMode';
