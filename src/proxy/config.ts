import type { Bootstrap } from '../envoy/generated/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { BootstrapSchema } from '../envoy/generated/envoy/config/bootstrap/v3/bootstrap_pb.js';
import type { Registry } from '@bufbuild/protobuf';
import { ConfigError } from '../envoy/registry.js';
import { findUnsupported } from '../envoy/support.js';
import { compileCluster, type ClusterSpec } from './upstream/cluster.js';
import { compileListener, type ListenerSpec } from './listener/compile.js';
import { duplicateAddresses } from './listener/handoff.js';
import { SUPPORTED } from './supported.js';
import { compileXdsBootstrap, type XdsBootstrap } from './xds/bootstrap-config.js';
import { compileStaticSecrets, type StaticSecretsSpec } from './tls/static-secrets.js';

export interface ProxySpec {
  readonly bootstrap: Bootstrap;
  /** The `Any` types the bootstrap names (src/envoy/type-registry.ts), for /config_dump. */
  readonly registry: Registry;
  readonly listeners: readonly ListenerSpec[];
  readonly clusters: readonly ClusterSpec[];
  readonly admin: { address: string; port: number } | undefined;
  readonly nodeId: string;
  readonly nodeCluster: string;
  /** dynamic_resources (ADS), when the bootstrap has them. */
  readonly xds: XdsBootstrap | undefined;
  /** static_resources.secrets, for the instance's SecretStore. */
  readonly secrets: StaticSecretsSpec;
}

/** Thrown with every problem found, so one start-up shows them all. */
export class BootstrapError extends Error {
  readonly code = 'TSMESH_BAD_BOOTSTRAP';
  constructor(readonly errors: readonly ConfigError[]) {
    super(errors.map((e) => e.message).join('\n'));
  }
}

/**
 * Validates a bootstrap (every set field must be one tsmesh implements) and compiles it into
 * what the workers build from. `registry` holds the types its `Any` fields name. Pure: no
 * sockets, no files.
 */
export function compileBootstrap(b: Bootstrap, registry: Registry): ProxySpec {
  const unsupported = findUnsupported(b, BootstrapSchema, SUPPORTED, registry);
  if (unsupported.length > 0) throw new BootstrapError(unsupported);
  const errors: ConfigError[] = [];
  const attempt = <T>(f: () => T): T | undefined => {
    try { return f(); } catch (e) { if (e instanceof ConfigError) { errors.push(e); return undefined; } throw e; }
  };
  const sr = b.staticResources;
  const clusters = (sr?.clusters ?? []).map((c, i) => attempt(() => compileCluster(c, `static_resources.clusters[${i}]`)));
  const listeners = (sr?.listeners ?? []).map((l, i) => attempt(() => compileListener(l, `static_resources.listeners[${i}]`)));
  dupes(clusters.map((c) => c?.name), 'static_resources.clusters', errors);
  dupes(listeners.map((l) => l?.name), 'static_resources.listeners', errors);
  errors.push(...duplicateAddresses(listeners, 'static_resources.listeners'));
  // Envoy refuses a static route naming a cluster that does not exist (validate_clusters).
  const known = new Set(clusters.map((c) => c?.name));
  for (const l of listeners) {
    for (const chain of [...(l?.chains ?? []), ...(l?.defaultChain ? [l.defaultChain] : [])]) {
      if (chain.filter.kind === 'tcp_proxy') {
        for (const c of chain.filter.config.clusters) if (!known.has(c.name)) errors.push(new ConfigError(`static_resources.listeners[${listeners.indexOf(l)}] tcp_proxy`, `unknown cluster "${c.name}"`));
        continue;
      }
      const routes = chain.filter.config.routes;
      if (routes.validateClusters === false) continue;
      for (const ref of routes.clusterRefs) if (!known.has(ref.cluster)) errors.push(new ConfigError(ref.path, `unknown cluster "${ref.cluster}"`));
    }
  }
  const secrets = attempt(() => compileStaticSecrets(sr?.secrets ?? [], 'static_resources.secrets'));
  const xds = compileXdsBootstrap(b, clusters.filter((c) => c !== undefined), listeners.filter((l) => l !== undefined), errors);
  let admin: ProxySpec['admin'];
  if (b.admin?.address) {
    const a = b.admin.address.address;
    if (a.case !== 'socketAddress' || a.value.portSpecifier.case !== 'portValue') errors.push(new ConfigError('admin.address', 'a socket_address with port_value is required'));
    else admin = { address: a.value.address || '127.0.0.1', port: a.value.portSpecifier.value };
  }
  if (errors.length > 0) throw new BootstrapError(errors);
  return {
    bootstrap: b,
    registry,
    clusters: clusters as ClusterSpec[],
    listeners: listeners as ListenerSpec[],
    admin,
    nodeId: b.node?.id ?? '',
    nodeCluster: b.node?.cluster ?? '',
    xds,
    secrets: secrets ?? { tlsCertificates: [], validationContexts: [] },
  };
}

function dupes(names: (string | undefined)[], path: string, errors: ConfigError[]): void {
  const seen = new Map<string, number>();
  names.forEach((n, i) => {
    if (n === undefined) return;
    const prev = seen.get(n);
    if (prev !== undefined) errors.push(new ConfigError(`${path}[${i}].name`, `duplicate name ${JSON.stringify(n)} (also ${path}[${prev}])`));
    seen.set(n, i);
  });
}
